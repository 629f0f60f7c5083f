"""Commendation's api role: the gRPC servicer (entrypoints only: parse, call
the application, serialise) and the process entry ``serve()``."""

from __future__ import annotations

import threading

import grpc
from zhiyuan.commendation.v1 import commendation_pb2 as pb
from zhiyuan.commendation.v1 import commendation_pb2_grpc as pb_grpc

from services.commendation import convert as cv
from services.commendation.application import CommendationApp
from services.commendation.awards_of import AwardsOfQueries
from services.commendation.clients import Facts
from services.commendation.queries import CommendationQueries
from services.commendation.usecases.imported_awards import (
    AwardEntry,
    ImportedAwardCases,
)
from services.commendation.validation import NominationInput
from services.common import rpc
from services.common.auth import current_principal as me
from services.common.config import Config
from services.common.db import Database
from services.common.errors import InvalidArgument
from services.common.federation_read import federated_response


def _paging(req) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    return req.page.page_size, req.page.page_token


class CommendationServicer(pb_grpc.CommendationServiceServicer):
    def __init__(self, app: CommendationApp, queries: CommendationQueries):
        self.app, self.q = app, queries
        self.awards = AwardsOfQueries(app.ctx)
        self.imported_awards = ImportedAwardCases(app.ctx)

    def ListStarRequests(  # noqa: N802
        self, req: pb.ListStarRequestsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListStarRequestsResponse:
        status = cv.enum_value(cv.REQUEST_STATUS, req.status, "status")
        got = self.q.star_requests(
            me(), req.division_code, status, req.awaiting_me, _paging(req)
        )
        return pb.ListStarRequestsResponse(
            requests=[cv.star_request(r) for r in got.items], page=cv.page(got)
        )

    def ApproveStarRequest(  # noqa: N802
        self, req: pb.ApproveStarRequestRequest, ctx: grpc.ServicerContext
    ) -> pb.ApproveStarRequestResponse:
        request, _ = self.app.star_review.approve_star(me(), req.id)
        got = self.q.volunteer_stars(me(), request.volunteer_id)
        return pb.ApproveStarRequestResponse(
            request=cv.star_request(request),
            stars=cv.stars(got["rating"], got["history"], got["pending"], got["medal"]),
        )

    def RejectStarRequest(  # noqa: N802
        self, req: pb.RejectStarRequestRequest, ctx: grpc.ServicerContext
    ) -> pb.RejectStarRequestResponse:
        request = self.app.star_review.reject_star(me(), req.id, req.reason)
        return pb.RejectStarRequestResponse(request=cv.star_request(request))

    def GetVolunteerStars(  # noqa: N802
        self, req: pb.GetVolunteerStarsRequest, ctx: grpc.ServicerContext
    ) -> pb.GetVolunteerStarsResponse:
        got = self.q.volunteer_stars(me(), req.volunteer_id)
        return pb.GetVolunteerStarsResponse(
            stars=cv.stars(got["rating"], got["history"], got["pending"], got["medal"])
        )

    def GetMyStars(  # noqa: N802
        self, req: pb.GetMyStarsRequest, ctx: grpc.ServicerContext
    ) -> pb.GetMyStarsResponse:
        return cv.my_stars(self.q.my_stars(me()))

    def ListAwardsOf(  # noqa: N802
        self, req: pb.ListAwardsOfRequest, ctx: grpc.ServicerContext
    ) -> pb.ListAwardsOfResponse:
        got = self.awards.awards_of(
            me(), req.volunteer_id, (req.period.start_month, req.period.end_month),
            req.include_undated,
        )  # fmt: skip
        return pb.ListAwardsOfResponse(
            volunteer_id=got.volunteer_id,
            awards=[cv.award_line(a) for a in got.awards]
            + [cv.imported_award_line(x) for x in got.imported],
        )

    def ImportAwards(  # noqa: N802
        self, req: pb.ImportAwardsRequest, ctx: grpc.ServicerContext
    ) -> pb.ImportAwardsResponse:
        got = self.imported_awards.import_awards(
            me(),
            [
                AwardEntry(
                    e.volunteer_id,
                    e.kind,
                    e.title,
                    e.awarded_on,
                    e.division_code,
                    e.issuer_platform,
                )  # fmt: skip
                for e in req.entries
            ],
        )
        return pb.ImportAwardsResponse(
            imported=got.imported, duplicates=got.duplicates, outcomes=got.outcomes
        )

    def ListHonours(  # noqa: N802
        self, req: pb.ListHonoursRequest, ctx: grpc.ServicerContext
    ) -> pb.ListHonoursResponse:
        kind = cv.enum_value(cv.HONOURS, req.kind, "kind")
        if kind is None:
            raise InvalidArgument.required("kind")
        got, medals = self.q.honours(
            me(), req.division_code, kind, req.min_years, _paging(req)
        )
        return pb.ListHonoursResponse(
            honours=[cv.honour(r, medals[r.volunteer_id]) for r in got.items],
            page=cv.page(got),
        )

    def BarVolunteer(  # noqa: N802
        self, req: pb.BarVolunteerRequest, ctx: grpc.ServicerContext
    ) -> pb.BarVolunteerResponse:
        entry = self.app.star_review.bar(
            me(), req.volunteer_id, req.years, req.reason, req.organisation_id,
            req.organisation_name,
        )  # fmt: skip
        return pb.BarVolunteerResponse(bar=cv.bar(entry))

    def ListBars(  # noqa: N802
        self, req: pb.ListBarsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListBarsResponse:
        got = self.q.bars(me(), req.division_code, req.active_only, _paging(req))
        return pb.ListBarsResponse(
            bars=[cv.bar(b) for b in got.items], page=cv.page(got)
        )

    def OpenRound(  # noqa: N802
        self, req: pb.OpenRoundRequest, ctx: grpc.ServicerContext
    ) -> pb.OpenRoundResponse:
        r = self.app.rounds.open_round(
            me(), req.division_code, req.title, req.year, list(req.categories),
            req.quota_per_child, req.deadline, req.notice_working_days,
        )  # fmt: skip
        return pb.OpenRoundResponse(round=cv.round_(r))

    def GetRound(  # noqa: N802
        self, req: pb.GetRoundRequest, ctx: grpc.ServicerContext
    ) -> pb.GetRoundResponse:
        r, counts = self.q.round(me(), req.id)
        return pb.GetRoundResponse(round=cv.round_(r), nominations_by_status=counts)

    def ListRounds(  # noqa: N802
        self, req: pb.ListRoundsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListRoundsResponse:
        got = self.q.rounds(me(), req.division_code, _paging(req))
        return pb.ListRoundsResponse(
            rounds=[cv.round_(r) for r in got.items], page=cv.page(got)
        )

    def Nominate(  # noqa: N802
        self, req: pb.NominateRequest, ctx: grpc.ServicerContext
    ) -> pb.NominateResponse:
        parsed = NominationInput.parse(
            req.round_id, req.category, req.unit_division_code,
            req.unit_organisation_id, req.nominee_volunteer_id, req.nominee_name,
            req.nominee_division_code, req.statement, req.request_id,
        )  # fmt: skip
        n = self.app.rounds.nominate(me(), parsed)
        return pb.NominateResponse(nomination=cv.nomination(n, []))

    def GetNomination(  # noqa: N802
        self, req: pb.GetNominationRequest, ctx: grpc.ServicerContext
    ) -> pb.GetNominationResponse:
        n, steps, objections = self.q.nomination(me(), req.id)
        return pb.GetNominationResponse(
            nomination=cv.nomination(n, steps),
            objections=[cv.objection(o) for o in objections],
        )

    def ListNominations(  # noqa: N802
        self, req: pb.ListNominationsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListNominationsResponse:
        status = cv.enum_value(cv.NOMINATION_STATUS, req.status, "status")
        got = self.q.nominations(
            me(), req.round_id, req.division_code, status, req.awaiting_me,
            _paging(req),
        )  # fmt: skip
        steps = got.extra["steps"]
        return pb.ListNominationsResponse(
            nominations=[cv.nomination(n, steps[n.id]) for n in got.items],
            page=cv.page(got),
        )

    def ReviewNomination(  # noqa: N802
        self, req: pb.ReviewNominationRequest, ctx: grpc.ServicerContext
    ) -> pb.ReviewNominationResponse:
        decision = cv.enum_value(cv.DECISIONS, req.decision, "decision")
        if decision is None:
            raise InvalidArgument.required("decision")
        self.app.review.review(me(), req.id, decision, req.comment)
        n, steps, _ = self.q.nomination(me(), req.id)
        return pb.ReviewNominationResponse(nomination=cv.nomination(n, steps))

    def ResubmitNomination(  # noqa: N802
        self, req: pb.ResubmitNominationRequest, ctx: grpc.ServicerContext
    ) -> pb.ResubmitNominationResponse:
        self.app.review.resubmit(me(), req.id, req.statement)
        n, steps, _ = self.q.nomination(me(), req.id)
        return pb.ResubmitNominationResponse(nomination=cv.nomination(n, steps))

    def DeclareConflict(  # noqa: N802
        self, req: pb.DeclareConflictRequest, ctx: grpc.ServicerContext
    ) -> pb.DeclareConflictResponse:
        self.app.review.declare_conflict(me(), req.nomination_id, req.reason)
        n, steps, _ = self.q.nomination(me(), req.nomination_id)
        return pb.DeclareConflictResponse(nomination=cv.nomination(n, steps))

    def StartNotice(  # noqa: N802
        self, req: pb.StartNoticeRequest, ctx: grpc.ServicerContext
    ) -> pb.StartNoticeResponse:
        r, count = self.app.notice.start_notice(me(), req.round_id)
        return pb.StartNoticeResponse(round=cv.round_(r), nominations_in_notice=count)

    def FileObjection(  # noqa: N802
        self, req: pb.FileObjectionRequest, ctx: grpc.ServicerContext
    ) -> pb.FileObjectionResponse:
        o = self.app.notice.file_objection(me(), req.nomination_id, req.content)
        return pb.FileObjectionResponse(objection=cv.objection(o))

    def ResolveObjection(  # noqa: N802
        self, req: pb.ResolveObjectionRequest, ctx: grpc.ServicerContext
    ) -> pb.ResolveObjectionResponse:
        o, n = self.app.notice.resolve_objection(
            me(), req.id, req.upheld, req.resolution
        )
        return pb.ResolveObjectionResponse(
            objection=cv.objection(o), nomination=cv.nomination(n, [])
        )

    def FinalizeRound(  # noqa: N802
        self, req: pb.FinalizeRoundRequest, ctx: grpc.ServicerContext
    ) -> pb.FinalizeRoundResponse:
        r, awarded, withdrawn = self.app.notice.finalize(me(), req.round_id)
        return pb.FinalizeRoundResponse(
            round=cv.round_(r), awarded=awarded, withdrawn=withdrawn
        )

    def ListNotice(  # noqa: N802
        self, req: pb.ListNoticeRequest, ctx: grpc.ServicerContext
    ) -> pb.ListNoticeResponse:
        r, got = self.q.notice(me(), req.round_id, _paging(req))
        return pb.ListNoticeResponse(
            round=cv.round_(r),
            entries=[cv.notice_entry(n, r) for n in got.items],
            page=cv.page(got),
        )

    def Summarize(  # noqa: N802
        self, req: pb.SummarizeRequest, ctx: grpc.ServicerContext
    ) -> pb.SummarizeResponse:
        q = req.query
        level = cv.enum_value(cv.LEVELS, q.group_by, "query.group_by")
        result = self.q.summarize(
            me(), q.division_code, level, q.period.start_month,
            q.period.end_month, q.by_month,
        )  # fmt: skip
        return pb.SummarizeResponse(rollup=cv.rollup(result))

    def SummarizeFederated(  # noqa: N802
        self, req: pb.SummarizeFederatedRequest, ctx: grpc.ServicerContext
    ) -> pb.SummarizeFederatedResponse:
        """What downstream releases forwarded (services/common/federation.py)."""
        return federated_response(pb, me(), req.query, self.q.summarize_federated)


def build(cfg: Config) -> tuple[CommendationServicer, Database, Facts]:
    db = Database(cfg.service("commendation"))
    facts = Facts.from_config(cfg)
    app = CommendationApp(db, facts)
    servicer = CommendationServicer(app, CommendationQueries(app.ctx))
    return servicer, db, facts


def serve(cfg: Config, stop: threading.Event | None = None) -> None:
    """Run the api role until SIGTERM/SIGINT (or ``stop`` is set).

    Example::

        serve(load())  # zhiyuan run commendation api
    """
    servicer, db, facts = build(cfg)
    rpc.serve_api(
        cfg,
        "commendation",
        servicer,
        pb_grpc.add_CommendationServiceServicer_to_server,
        on_stop=[facts.close, db.dispose],
        stop=stop,
    )
