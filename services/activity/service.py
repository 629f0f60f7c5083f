"""Activity's api role: the gRPC servicer (entrypoints only: parse, call the
application, serialise) and the process entry ``serve()``."""

from __future__ import annotations

import logging
import threading

import grpc
from zhiyuan.activity.v1 import activity_pb2 as pb
from zhiyuan.activity.v1 import activity_pb2_grpc as pb_grpc

from services.activity import campaign_convert as ccv
from services.activity import convert as cv
from services.activity import qr
from services.activity.application import ActivityApp
from services.activity.own_queries import OwnQueries, OwnSignUp, ProjectFilter
from services.activity.queries import ActivityQueries
from services.activity.registration_client import Registration
from services.activity.usecases.imported_training import TrainingEntry
from services.common import keys, rpc
from services.common.auth import current_principal as me
from services.common.config import Config
from services.common.db import Database
from services.common.federation_read import federated_response

log = logging.getLogger(__name__)
SERVICE_NAME = "zhiyuan.activity.v1.ActivityService"


class ActivityServicer(pb_grpc.ActivityServiceServicer):
    def __init__(
        self,
        app: ActivityApp,
        queries: ActivityQueries,
        own: OwnQueries,
        public_url: str,
    ):
        self.app, self.q, self.own, self.public_url = app, queries, own, public_url

    # -- projects ------------------------------------------------------------
    def CreateProject(  # noqa: N802
        self, req: pb.CreateProjectRequest, ctx: grpc.ServicerContext
    ) -> pb.CreateProjectResponse:
        view = self.app.projects.create_project(
            me(), req.organisation_id, cv.project_fields(req)
        )
        return pb.CreateProjectResponse(project=cv.project(view))

    def UpdateProject(  # noqa: N802
        self, req: pb.UpdateProjectRequest, ctx: grpc.ServicerContext
    ) -> pb.UpdateProjectResponse:
        view = self.app.projects.update_project(me(), req.id, cv.project_fields(req))
        return pb.UpdateProjectResponse(project=cv.project(view))

    def GetProject(  # noqa: N802
        self, req: pb.GetProjectRequest, ctx: grpc.ServicerContext
    ) -> pb.GetProjectResponse:
        return pb.GetProjectResponse(project=cv.project(self.q.project(me(), req.id)))

    def ListProjects(  # noqa: N802
        self, req: pb.ListProjectsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListProjectsResponse:
        status = cv.enum_value(cv.PROJECT_STATUS, req.status, "status")
        page = self.q.projects(
            me(), req.division_code, status, req.page.page_size, req.page.page_token
        )
        return pb.ListProjectsResponse(
            projects=[cv.project(v) for v in page.items], page=cv.page(page)
        )

    def ListOpenProjects(  # noqa: N802
        self, req: pb.ListOpenProjectsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListOpenProjectsResponse:
        page = self.q.open_projects(
            me(), req.division_code, req.page.page_size, req.page.page_token
        )
        return pb.ListOpenProjectsResponse(
            projects=[cv.project(v) for v in page.items], page=cv.page(page)
        )

    def SubmitProject(  # noqa: N802
        self, req: pb.SubmitProjectRequest, ctx: grpc.ServicerContext
    ) -> pb.SubmitProjectResponse:
        view = self.app.projects.submit_project(me(), req.id)
        return pb.SubmitProjectResponse(project=cv.project(view))

    def ApproveProject(  # noqa: N802
        self, req: pb.ApproveProjectRequest, ctx: grpc.ServicerContext
    ) -> pb.ApproveProjectResponse:
        view = self.app.projects.approve_project(me(), req.id)
        return pb.ApproveProjectResponse(project=cv.project(view))

    def ReturnProject(  # noqa: N802
        self, req: pb.ReturnProjectRequest, ctx: grpc.ServicerContext
    ) -> pb.ReturnProjectResponse:
        view = self.app.projects.return_project(me(), req.id, req.reason)
        return pb.ReturnProjectResponse(project=cv.project(view))

    def PublishProject(  # noqa: N802
        self, req: pb.PublishProjectRequest, ctx: grpc.ServicerContext
    ) -> pb.PublishProjectResponse:
        view = self.app.projects.publish_project(me(), req.id)
        return pb.PublishProjectResponse(project=cv.project(view))

    def StartProject(  # noqa: N802
        self, req: pb.StartProjectRequest, ctx: grpc.ServicerContext
    ) -> pb.StartProjectResponse:
        view = self.app.projects.start_project(me(), req.id)
        return pb.StartProjectResponse(project=cv.project(view))

    def CompleteProject(  # noqa: N802
        self, req: pb.CompleteProjectRequest, ctx: grpc.ServicerContext
    ) -> pb.CompleteProjectResponse:
        view = self.app.projects.complete_project(me(), req.id)
        return pb.CompleteProjectResponse(project=cv.project(view))

    def CancelProject(  # noqa: N802
        self, req: pb.CancelProjectRequest, ctx: grpc.ServicerContext
    ) -> pb.CancelProjectResponse:
        view = self.app.projects.cancel_project(me(), req.id, req.reason)
        return pb.CancelProjectResponse(project=cv.project(view))

    # -- sign-ups ---------------------------------------------------------------
    def SignUp(  # noqa: N802
        self, req: pb.SignUpRequest, ctx: grpc.ServicerContext
    ) -> pb.SignUpResponse:
        row = self.app.signups.sign_up(me(), req.session_id, req.volunteer_id)
        return pb.SignUpResponse(sign_up=cv.sign_up(row))

    def WithdrawSignUp(  # noqa: N802
        self, req: pb.WithdrawSignUpRequest, ctx: grpc.ServicerContext
    ) -> pb.WithdrawSignUpResponse:
        row, promoted = self.app.signups.withdraw(me(), req.sign_up_id)
        return pb.WithdrawSignUpResponse(
            sign_up=cv.sign_up(row), promoted=[cv.sign_up(x) for x in promoted]
        )

    def ApproveSignUp(  # noqa: N802
        self, req: pb.ApproveSignUpRequest, ctx: grpc.ServicerContext
    ) -> pb.ApproveSignUpResponse:
        row = self.app.signups.decide(me(), req.sign_up_id, True, "")
        return pb.ApproveSignUpResponse(sign_up=cv.sign_up(row))

    def RejectSignUp(  # noqa: N802
        self, req: pb.RejectSignUpRequest, ctx: grpc.ServicerContext
    ) -> pb.RejectSignUpResponse:
        row = self.app.signups.decide(me(), req.sign_up_id, False, req.reason)
        return pb.RejectSignUpResponse(sign_up=cv.sign_up(row))

    def ListSignUps(  # noqa: N802
        self, req: pb.ListSignUpsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListSignUpsResponse:
        status = cv.enum_value(cv.SIGN_UP_STATUS, req.status, "status")
        page = self.q.sign_ups(
            me(), req.session_id, status, req.page.page_size, req.page.page_token
        )
        return pb.ListSignUpsResponse(
            sign_ups=[cv.sign_up(x) for x in page.items], page=cv.page(page)
        )

    # -- attendance ----------------------------------------------------------------
    def GetCheckInCode(  # noqa: N802
        self, req: pb.GetCheckInCodeRequest, ctx: grpc.ServicerContext
    ) -> pb.GetCheckInCodeResponse:
        code, start, end = self.app.attendance.checkin_code(me(), req.session_id)
        return pb.GetCheckInCodeResponse(
            code=code,
            valid_from=start.isoformat(),
            valid_until=end.isoformat(),
            window_seconds=60,
        )

    def GetCheckInQrCode(  # noqa: N802
        self, req: pb.GetCheckInQrCodeRequest, ctx: grpc.ServicerContext
    ) -> pb.GetCheckInQrCodeResponse:
        code, _, end = self.app.attendance.checkin_code(me(), req.session_id)
        url = qr.checkin_url(self.public_url, req.session_id.strip(), code)
        return pb.GetCheckInQrCodeResponse(
            svg=qr.svg(url), code=code, valid_until=end.isoformat(), url=url
        )

    def CheckIn(  # noqa: N802
        self, req: pb.CheckInRequest, ctx: grpc.ServicerContext
    ) -> pb.CheckInResponse:
        row = self.app.attendance.check_in(
            me(), req.session_id, req.volunteer_id, req.code
        )
        return pb.CheckInResponse(attendance=cv.attendance(row))

    def CheckOut(  # noqa: N802
        self, req: pb.CheckOutRequest, ctx: grpc.ServicerContext
    ) -> pb.CheckOutResponse:
        row = self.app.attendance.check_out(
            me(), req.session_id, req.volunteer_id, req.code
        )
        return pb.CheckOutResponse(attendance=cv.attendance(row))

    def CloseAttendance(  # noqa: N802
        self, req: pb.CloseAttendanceRequest, ctx: grpc.ServicerContext
    ) -> pb.CloseAttendanceResponse:
        row = self.app.attendance.close_attendance(
            me(), req.session_id, req.volunteer_id, req.ended_at
        )
        return pb.CloseAttendanceResponse(attendance=cv.attendance(row))

    def ListAttendances(  # noqa: N802
        self, req: pb.ListAttendancesRequest, ctx: grpc.ServicerContext
    ) -> pb.ListAttendancesResponse:
        page = self.q.attendances(
            me(), req.session_id, req.page.page_size, req.page.page_token
        )
        return pb.ListAttendancesResponse(
            attendances=[cv.attendance(x) for x in page.items], page=cv.page(page)
        )

    # -- pairing ----------------------------------------------------------------------
    def CreateRecipient(  # noqa: N802
        self, req: pb.CreateRecipientRequest, ctx: grpc.ServicerContext
    ) -> pb.CreateRecipientResponse:
        row = self.app.pairing.create_recipient(
            me(),
            req.division_code,
            req.name,
            req.phone,
            req.address,
            cv.enum_value(cv.MODES, req.pairing_mode, "pairing_mode") or "",
            req.needs,
            req.consent,
        )
        return pb.CreateRecipientResponse(recipient=cv.recipient(row))

    def ListRecipients(  # noqa: N802
        self, req: pb.ListRecipientsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListRecipientsResponse:
        page = self.q.recipients(
            me(), req.division_code, req.page.page_size, req.page.page_token
        )
        return pb.ListRecipientsResponse(
            recipients=[cv.recipient(x) for x in page.items], page=cv.page(page)
        )

    def CreatePair(  # noqa: N802
        self, req: pb.CreatePairRequest, ctx: grpc.ServicerContext
    ) -> pb.CreatePairResponse:
        row = self.app.pairing.create_pair(
            me(), req.recipient_id, req.volunteer_id, req.organisation_id
        )
        return pb.CreatePairResponse(pair=cv.pair(row))

    def ListPairs(  # noqa: N802
        self, req: pb.ListPairsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListPairsResponse:
        page = self.q.pairs(
            me(),
            req.division_code,
            req.recipient_id,
            req.page.page_size,
            req.page.page_token,
        )
        return pb.ListPairsResponse(
            pairs=[cv.pair(x) for x in page.items], page=cv.page(page)
        )

    def LogVisit(  # noqa: N802
        self, req: pb.LogVisitRequest, ctx: grpc.ServicerContext
    ) -> pb.LogVisitResponse:
        row = self.app.pairing.log_visit(
            me(), req.pair_id, req.started_at, req.ended_at, req.note,
            req.campaign_id,
        )  # fmt: skip
        return pb.LogVisitResponse(visit=cv.visit(row))

    def ListVisits(  # noqa: N802
        self, req: pb.ListVisitsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListVisitsResponse:
        page = self.q.visits(
            me(),
            req.division_code,
            req.pair_id,
            req.page.page_size,
            req.page.page_token,
        )
        return pb.ListVisitsResponse(
            visits=[cv.visit(x) for x in page.items], page=cv.page(page)
        )

    # -- statistics ------------------------------------------------------------
    def Summarize(  # noqa: N802
        self, req: pb.SummarizeRequest, ctx: grpc.ServicerContext
    ) -> pb.SummarizeResponse:
        q = req.query
        result = self.q.summarize(
            me(),
            q.division_code,
            cv.enum_value(cv.LEVELS, q.group_by, "query.group_by"),
            q.period.start_month,
            q.period.end_month,
            q.by_month,
        )
        return pb.SummarizeResponse(rollup=cv.rollup(result))

    def SummarizeFederated(  # noqa: N802
        self, req: pb.SummarizeFederatedRequest, ctx: grpc.ServicerContext
    ) -> pb.SummarizeFederatedResponse:
        """What downstream releases forwarded (services/common/federation.py)."""
        return federated_response(pb, me(), req.query, self.q.summarize_federated)

    # -- a volunteer's own pages (the token's volunteer, never the request's) --------
    def ListMyProjects(  # noqa: N802
        self, req: pb.ListMyProjectsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListMyProjectsResponse:
        f = ProjectFilter.of(req.service_field, req.date, req.near)
        page = self.own.projects(me(), f, req.page.page_size, req.page.page_token)
        return pb.ListMyProjectsResponse(
            projects=[cv.own_project(v) for v in page.items], page=cv.page(page)
        )

    def GetMyProject(  # noqa: N802
        self, req: pb.GetMyProjectRequest, ctx: grpc.ServicerContext
    ) -> pb.GetMyProjectResponse:
        view, mine = self.own.project(me(), req.id)
        project = cv.own_project(view)
        return pb.GetMyProjectResponse(
            project=project,
            sessions=project.sessions,
            my_sign_ups=[cv.own_sign_up(x) for x in mine],
        )

    def SignUpMe(  # noqa: N802
        self, req: pb.SignUpMeRequest, ctx: grpc.ServicerContext
    ) -> pb.SignUpMeResponse:
        row, place = self.app.own.sign_up(me(), req.session_id)
        return pb.SignUpMeResponse(
            sign_up=cv.own_sign_up(OwnSignUp(row, waitlist_position=place))
        )

    def WithdrawMe(  # noqa: N802
        self, req: pb.WithdrawMeRequest, ctx: grpc.ServicerContext
    ) -> pb.WithdrawMeResponse:
        row = self.app.own.withdraw(me(), req.id)
        return pb.WithdrawMeResponse(sign_up=cv.sign_up(row))

    def ListMySignUps(  # noqa: N802
        self, req: pb.ListMySignUpsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListMySignUpsResponse:
        page = self.own.sign_ups(me(), req.page.page_size, req.page.page_token)
        return pb.ListMySignUpsResponse(
            sign_ups=[cv.own_sign_up(x) for x in page.items], page=cv.page(page)
        )

    def CheckInMe(  # noqa: N802
        self, req: pb.CheckInMeRequest, ctx: grpc.ServicerContext
    ) -> pb.CheckInMeResponse:
        row = self.app.own.check_in(me(), req.code, req.session_id)
        return pb.CheckInMeResponse(attendance=cv.attendance(row))

    def CheckOutMe(  # noqa: N802
        self, req: pb.CheckOutMeRequest, ctx: grpc.ServicerContext
    ) -> pb.CheckOutMeResponse:
        row = self.app.own.check_out(me(), req.code, req.session_id)
        return pb.CheckOutMeResponse(attendance=cv.attendance(row))

    # -- insurance cover ---------------------------------------------------------------
    def SetInsuranceCover(  # noqa: N802
        self, req: pb.SetInsuranceCoverRequest, ctx: grpc.ServicerContext
    ) -> pb.SetInsuranceCoverResponse:
        view = self.app.insurance.set_cover(
            me(),
            req.project_id,
            req.insurer,
            req.policy_number,
            req.starts_on,
            req.ends_on,
        )
        cover, status = cv.cover(view)
        return pb.SetInsuranceCoverResponse(cover=cover, status=status)

    def GetInsuranceCover(  # noqa: N802
        self, req: pb.GetInsuranceCoverRequest, ctx: grpc.ServicerContext
    ) -> pb.GetInsuranceCoverResponse:
        cover, status = cv.cover(self.app.insurance.get_cover(me(), req.project_id))
        return pb.GetInsuranceCoverResponse(cover=cover, status=status)

    def ListInsuredVolunteers(  # noqa: N802
        self, req: pb.ListInsuredVolunteersRequest, ctx: grpc.ServicerContext
    ) -> pb.ListInsuredVolunteersResponse:
        page = self.app.insurance.covered(
            me(), req.project_id, req.page.page_size, req.page.page_token
        )
        return pb.ListInsuredVolunteersResponse(
            volunteers=[cv.insured(x) for x in page.items], page=cv.page(page)
        )

    def ExportInsuredVolunteers(  # noqa: N802
        self, req: pb.ExportInsuredVolunteersRequest, ctx: grpc.ServicerContext
    ) -> pb.ExportInsuredVolunteersResponse:
        csv = self.app.insurance.roster(me(), req.project_id)
        return pb.ExportInsuredVolunteersResponse(csv=csv)

    # -- training --------------------------------------------------------------
    def CreateCourse(  # noqa: N802
        self, req: pb.CreateCourseRequest, ctx: grpc.ServicerContext
    ) -> pb.CreateCourseResponse:
        row = self.app.training.create_course(
            me(), req.division_code, req.title, req.description
        )
        return pb.CreateCourseResponse(course=cv.course(row))

    def ListCourses(  # noqa: N802
        self, req: pb.ListCoursesRequest, ctx: grpc.ServicerContext
    ) -> pb.ListCoursesResponse:
        page = self.app.training.courses(
            me(), req.division_code, req.page.page_size, req.page.page_token
        )
        return pb.ListCoursesResponse(
            courses=[cv.course(x) for x in page.items], page=cv.page(page)
        )

    def CreateTrainingSession(  # noqa: N802
        self, req: pb.CreateTrainingSessionRequest, ctx: grpc.ServicerContext
    ) -> pb.CreateTrainingSessionResponse:
        view = self.app.training.create_session(
            me(),
            req.course_id,
            req.division_code,
            req.place,
            req.starts_at,
            req.ends_at,
        )
        return pb.CreateTrainingSessionResponse(session=cv.training_session(view))

    def ListTrainingSessions(  # noqa: N802
        self, req: pb.ListTrainingSessionsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListTrainingSessionsResponse:
        page = self.app.training.sessions(
            me(),
            req.division_code,
            req.course_id,
            req.page.page_size,
            req.page.page_token,
        )
        return pb.ListTrainingSessionsResponse(
            sessions=[cv.training_session(x) for x in page.items], page=cv.page(page)
        )

    def RecordTrainingAttendance(  # noqa: N802
        self, req: pb.RecordTrainingAttendanceRequest, ctx: grpc.ServicerContext
    ) -> pb.RecordTrainingAttendanceResponse:
        row = self.app.training.record(
            me(), req.training_session_id, req.volunteer_id, req.hours
        )
        return pb.RecordTrainingAttendanceResponse(
            attendance=cv.training_attendance(row)
        )

    def ListTrainingAttendances(  # noqa: N802
        self, req: pb.ListTrainingAttendancesRequest, ctx: grpc.ServicerContext
    ) -> pb.ListTrainingAttendancesResponse:
        page = self.app.training.attendances(
            me(), req.training_session_id, req.page.page_size, req.page.page_token
        )
        return pb.ListTrainingAttendancesResponse(
            attendances=[cv.training_attendance(x) for x in page.items],
            page=cv.page(page),
        )

    def ListMyTraining(  # noqa: N802
        self, req: pb.ListMyTrainingRequest, ctx: grpc.ServicerContext
    ) -> pb.ListMyTrainingResponse:
        page, hours = self.app.training.mine(
            me(), req.page.page_size, req.page.page_token
        )
        return pb.ListMyTrainingResponse(
            attendances=[cv.own_training(x) for x in page.items],
            page=cv.page(page),
            total_hours=float(hours),
        )

    def ListTrainingOf(  # noqa: N802
        self, req: pb.ListTrainingOfRequest, ctx: grpc.ServicerContext
    ) -> pb.ListTrainingOfResponse:
        got = self.app.training_of.training_of(
            me(), req.volunteer_id, (req.period.start_month, req.period.end_month),
            req.include_undated,
        )  # fmt: skip
        return pb.ListTrainingOfResponse(
            volunteer_id=got.volunteer_id,
            attendances=[cv.training_line(x) for x in got.lines]
            + [cv.imported_training(x) for x in got.imported],
            total_hours=float(got.hours),
        )

    def ImportTraining(  # noqa: N802
        self, req: pb.ImportTrainingRequest, ctx: grpc.ServicerContext
    ) -> pb.ImportTrainingResponse:
        got = self.app.imported_training.import_training(
            me(),
            [
                TrainingEntry(
                    e.volunteer_id,
                    e.course_title,
                    e.started_at,
                    e.ended_at,
                    e.hours,
                    e.issuer_platform,
                    e.source_session_id,
                )  # fmt: skip
                for e in req.entries
            ],
        )
        return pb.ImportTrainingResponse(
            imported=got.imported, duplicates=got.duplicates, outcomes=got.outcomes
        )

    # -- special campaigns ---------------------------------------------------------
    def CreateCampaign(  # noqa: N802
        self, req: pb.CreateCampaignRequest, ctx: grpc.ServicerContext
    ) -> pb.CreateCampaignResponse:
        p = me()
        row = self.app.campaigns.create(
            p, req.title, req.description, req.starts_on, req.ends_on,
            req.target_groups,
        )  # fmt: skip
        return pb.CreateCampaignResponse(campaign=ccv.campaign(row, p.scope))

    def UpdateCampaign(  # noqa: N802
        self, req: pb.UpdateCampaignRequest, ctx: grpc.ServicerContext
    ) -> pb.UpdateCampaignResponse:
        p = me()
        row = self.app.campaigns.update(
            p, req.id, req.title, req.description, req.starts_on, req.ends_on,
            req.target_groups,
        )  # fmt: skip
        return pb.UpdateCampaignResponse(campaign=ccv.campaign(row, p.scope))

    def GetCampaign(  # noqa: N802
        self, req: pb.GetCampaignRequest, ctx: grpc.ServicerContext
    ) -> pb.GetCampaignResponse:
        p = me()
        row = self.app.campaigns.get(p, req.id)
        return pb.GetCampaignResponse(campaign=ccv.campaign(row, p.scope))

    def ListCampaigns(  # noqa: N802
        self, req: pb.ListCampaignsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListCampaignsResponse:
        p = me()
        page = self.app.campaigns.list(p, req.page.page_size, req.page.page_token)
        return pb.ListCampaignsResponse(
            campaigns=[ccv.campaign(x, p.scope) for x in page.items],
            page=cv.page(page),
        )

    def TagProject(  # noqa: N802
        self, req: pb.TagProjectRequest, ctx: grpc.ServicerContext
    ) -> pb.TagProjectResponse:
        view = self.app.campaigns.tag_project(me(), req.project_id, req.campaign_id)
        return pb.TagProjectResponse(project=cv.project(view))

    def GetCampaignSummary(  # noqa: N802
        self, req: pb.GetCampaignSummaryRequest, ctx: grpc.ServicerContext
    ) -> pb.GetCampaignSummaryResponse:
        p = me()
        # Unspecified means by child unit; an unknown value is refused.
        by = ccv.BY.get(req.by, "?" if req.by else "child")
        got = self.app.campaigns.summary(p, req.campaign_id, req.division_code, by)
        return ccv.summary(got, p.scope)


def build(cfg: Config) -> tuple[ActivityServicer, Database, Registration]:
    db = Database(cfg.service("activity"))
    registration = Registration(
        cfg.service("registration").grpc_address, float(cfg["grpc.deadline_seconds"])
    )
    app = ActivityApp(
        db, keys.pii_cipher(cfg), registration=registration, positions=registration
    )
    # The QR code on the leader's screen points at the gateway's public address.
    public_url = str(cfg.get("gateway.public_url", ""))
    servicer = ActivityServicer(app, ActivityQueries(db), OwnQueries(db), public_url)
    return servicer, db, registration


def serve(cfg: Config, stop: threading.Event | None = None) -> None:
    """Run the api role until SIGTERM/SIGINT (or ``stop`` is set).

    Example::

        serve(load())  # zhiyuan run activity api
    """
    servicer, db, registration = build(cfg)
    rpc.serve_api(
        cfg,
        "activity",
        servicer,
        pb_grpc.add_ActivityServiceServicer_to_server,
        on_stop=[db.dispose, registration.close],
        stop=stop,
    )
