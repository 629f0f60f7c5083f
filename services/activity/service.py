"""Activity's api role: the gRPC servicer (entrypoints only: parse, call the
application, serialise) and the process entry ``serve()``."""

from __future__ import annotations

import logging
import threading

from zhiyuan.activity.v1 import activity_pb2 as pb
from zhiyuan.activity.v1 import activity_pb2_grpc as pb_grpc

from services.activity import convert as cv
from services.activity.application import ActivityApp
from services.activity.queries import ActivityQueries
from services.common import keys, rpc
from services.common.auth import current_principal as me
from services.common.config import Config
from services.common.db import Database

log = logging.getLogger(__name__)
SERVICE_NAME = "zhiyuan.activity.v1.ActivityService"


class ActivityServicer(pb_grpc.ActivityServiceServicer):
    def __init__(self, app: ActivityApp, queries: ActivityQueries):
        self.app, self.q = app, queries

    # -- projects ------------------------------------------------------------
    def CreateProject(self, req, ctx):  # noqa: N802
        view = self.app.create_project(
            me(), req.organisation_id, cv.project_fields(req)
        )
        return pb.CreateProjectResponse(project=cv.project(view))

    def UpdateProject(self, req, ctx):  # noqa: N802
        view = self.app.update_project(me(), req.id, cv.project_fields(req))
        return pb.UpdateProjectResponse(project=cv.project(view))

    def GetProject(self, req, ctx):  # noqa: N802
        return pb.GetProjectResponse(project=cv.project(self.q.project(me(), req.id)))

    def ListProjects(self, req, ctx):  # noqa: N802
        status = cv.enum_value(cv.PROJECT_STATUS, req.status, "status")
        page = self.q.projects(
            me(), req.division_code, status, req.page.page_size, req.page.page_token
        )
        return pb.ListProjectsResponse(
            projects=[cv.project(v) for v in page.items], page=cv.page(page)
        )

    def ListOpenProjects(self, req, ctx):  # noqa: N802
        page = self.q.open_projects(
            me(), req.division_code, req.page.page_size, req.page.page_token
        )
        return pb.ListOpenProjectsResponse(
            projects=[cv.project(v) for v in page.items], page=cv.page(page)
        )

    def SubmitProject(self, req, ctx):  # noqa: N802
        view = self.app.submit_project(me(), req.id)
        return pb.SubmitProjectResponse(project=cv.project(view))

    def ApproveProject(self, req, ctx):  # noqa: N802
        view = self.app.approve_project(me(), req.id)
        return pb.ApproveProjectResponse(project=cv.project(view))

    def ReturnProject(self, req, ctx):  # noqa: N802
        view = self.app.return_project(me(), req.id, req.reason)
        return pb.ReturnProjectResponse(project=cv.project(view))

    def PublishProject(self, req, ctx):  # noqa: N802
        view = self.app.publish_project(me(), req.id)
        return pb.PublishProjectResponse(project=cv.project(view))

    def StartProject(self, req, ctx):  # noqa: N802
        view = self.app.start_project(me(), req.id)
        return pb.StartProjectResponse(project=cv.project(view))

    def CompleteProject(self, req, ctx):  # noqa: N802
        view = self.app.complete_project(me(), req.id)
        return pb.CompleteProjectResponse(project=cv.project(view))

    def CancelProject(self, req, ctx):  # noqa: N802
        view = self.app.cancel_project(me(), req.id, req.reason)
        return pb.CancelProjectResponse(project=cv.project(view))

    # -- sign-ups ---------------------------------------------------------------
    def SignUp(self, req, ctx):  # noqa: N802
        row = self.app.sign_up(me(), req.session_id, req.volunteer_id)
        return pb.SignUpResponse(sign_up=cv.sign_up(row))

    def WithdrawSignUp(self, req, ctx):  # noqa: N802
        row, promoted = self.app.withdraw(me(), req.sign_up_id)
        return pb.WithdrawSignUpResponse(
            sign_up=cv.sign_up(row), promoted=[cv.sign_up(x) for x in promoted]
        )

    def ApproveSignUp(self, req, ctx):  # noqa: N802
        row = self.app.decide(me(), req.sign_up_id, True, "")
        return pb.ApproveSignUpResponse(sign_up=cv.sign_up(row))

    def RejectSignUp(self, req, ctx):  # noqa: N802
        row = self.app.decide(me(), req.sign_up_id, False, req.reason)
        return pb.RejectSignUpResponse(sign_up=cv.sign_up(row))

    def ListSignUps(self, req, ctx):  # noqa: N802
        status = cv.enum_value(cv.SIGN_UP_STATUS, req.status, "status")
        page = self.q.sign_ups(
            me(), req.session_id, status, req.page.page_size, req.page.page_token
        )
        return pb.ListSignUpsResponse(
            sign_ups=[cv.sign_up(x) for x in page.items], page=cv.page(page)
        )

    # -- attendance ----------------------------------------------------------------
    def GetCheckInCode(self, req, ctx):  # noqa: N802
        code, start, end = self.app.checkin_code(me(), req.session_id)
        return pb.GetCheckInCodeResponse(
            code=code,
            valid_from=start.isoformat(),
            valid_until=end.isoformat(),
            window_seconds=60,
        )

    def CheckIn(self, req, ctx):  # noqa: N802
        row = self.app.check_in(me(), req.session_id, req.volunteer_id, req.code)
        return pb.CheckInResponse(attendance=cv.attendance(row))

    def CheckOut(self, req, ctx):  # noqa: N802
        row = self.app.check_out(me(), req.session_id, req.volunteer_id, req.code)
        return pb.CheckOutResponse(attendance=cv.attendance(row))

    def CloseAttendance(self, req, ctx):  # noqa: N802
        row = self.app.close_attendance(
            me(), req.session_id, req.volunteer_id, req.ended_at
        )
        return pb.CloseAttendanceResponse(attendance=cv.attendance(row))

    def ListAttendances(self, req, ctx):  # noqa: N802
        page = self.q.attendances(
            me(), req.session_id, req.page.page_size, req.page.page_token
        )
        return pb.ListAttendancesResponse(
            attendances=[cv.attendance(x) for x in page.items], page=cv.page(page)
        )

    # -- pairing ----------------------------------------------------------------------
    def CreateRecipient(self, req, ctx):  # noqa: N802
        row = self.app.create_recipient(
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

    def ListRecipients(self, req, ctx):  # noqa: N802
        page = self.q.recipients(
            me(), req.division_code, req.page.page_size, req.page.page_token
        )
        return pb.ListRecipientsResponse(
            recipients=[cv.recipient(x) for x in page.items], page=cv.page(page)
        )

    def CreatePair(self, req, ctx):  # noqa: N802
        row = self.app.create_pair(
            me(), req.recipient_id, req.volunteer_id, req.organisation_id
        )
        return pb.CreatePairResponse(pair=cv.pair(row))

    def ListPairs(self, req, ctx):  # noqa: N802
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

    def LogVisit(self, req, ctx):  # noqa: N802
        row = self.app.log_visit(
            me(), req.pair_id, req.started_at, req.ended_at, req.note
        )
        return pb.LogVisitResponse(visit=cv.visit(row))

    def ListVisits(self, req, ctx):  # noqa: N802
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
    def Summarize(self, req, ctx):  # noqa: N802
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


def build(cfg: Config) -> tuple[ActivityServicer, Database]:
    db = Database(cfg.service("activity"))
    app = ActivityApp(db, keys.pii_cipher(cfg))
    return ActivityServicer(app, ActivityQueries(db)), db


def serve(cfg: Config, stop: threading.Event | None = None) -> None:
    """Run the api role until SIGTERM/SIGINT (or ``stop`` is set).

    Example::

        serve(load())  # zhiyuan run activity api
    """
    servicer, db = build(cfg)
    rpc.serve_api(
        cfg,
        "activity",
        servicer,
        pb_grpc.add_ActivityServiceServicer_to_server,
        on_stop=[db.dispose],
        stop=stop,
    )
