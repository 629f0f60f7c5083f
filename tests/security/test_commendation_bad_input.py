"""Bad input to every CommendationService field, on the real api role:
INVALID_ARGUMENT naming the field (``zhiyuan-field``) and the rule
(``zhiyuan-rule``), no stack trace, and nothing written by the rejected
request. Also: a nomination's request_id makes a double submission one
nomination, and forged credentials are UNAUTHENTICATED before anything is
read or written.

The tenant is Huyi district (610118), whose volunteers and nominating office
are in the township 甘亭街道 (610118001); no other test uses it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import grpc
import jwt
import pytest
import sqlalchemy as sa
from zhiyuan.commendation.v1 import commendation_pb2 as pb
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.hours.v1 import hours_pb2 as hpb
from zhiyuan.registration.v1 import registration_pb2 as reg

from services.common.rollup import CST
from services.common.testing import PUBLIC_PEM, wait_for
from tests.helpers import auth
from tests.integration.test_hours_flow import verified_volunteer
from tests.security.test_tokens import OTHER_PRIVATE, claims, hs256_with, issued

pytestmark = pytest.mark.integration
COUNTY, TOWN = "610118", "610118001"
INVALID = grpc.StatusCode.INVALID_ARGUMENT
PAGE = common.PageRequest(page_size=500)
SETTINGS = {
    "stars.thresholds_hours": json.dumps([2, 4, 6, 8, 10]),
    "hours.rounding": json.dumps("exact"),
    "hours.daily_cap": "12",
}
STATEMENT = "坚持社区助老服务三年，事迹突出。"


def rejected(fn: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(grpc.RpcError) as err:
        fn()
    assert err.value.code() == INVALID, err.value.details()
    assert "Traceback" not in err.value.details()
    return dict(err.value.trailing_metadata() or ())


def assert_field(trailers: dict[str, Any], field: str, rule: str | None) -> None:
    assert trailers.get("zhiyuan-field") == field
    if rule is not None:
        assert trailers.get("zhiyuan-rule") == rule
    assert trailers.get("zhiyuan-message-zh-bin", b"").decode().strip()


class World:
    def __init__(
        self, stubs: Callable[[str], Any], token: Callable[..., str], url: str
    ) -> None:
        self.com, self.reg = stubs("commendation"), stubs("registration")
        self.hours = stubs("hours")
        self.engine = sa.create_engine(url)
        self.tok = token(COUNTY)
        # The township office nominates; the county's admin reviews (recusal).
        self.office = token(COUNTY, "tenant_admin", username="huyi-office")
        self.other_office = token(COUNTY, "tenant_admin", username="huyi-office-2")
        self.prov = token("61", "province_admin")
        today = datetime.now(CST).date()
        self.today, self.year = today, today.year
        self.deadline = (today + timedelta(days=30)).isoformat()

    def setup(self) -> None:
        self.reg.UpdateTenantSettings(
            reg.UpdateTenantSettingsRequest(division_code=COUNTY, set_json=SETTINGS),
            metadata=auth(self.prov),
        )
        wait_for(self._replicated, timeout=30, what="commendation's settings replica")
        self.vol = verified_volunteer(self.reg, self.tok, home=TOWN)
        self._honour(self.vol.id, 2.5)
        wait_for(self._requested, timeout=30, what="commendation's star request")
        self.request = self.stars().pending
        self.org = self.reg.CreateOrganisation(
            reg.CreateOrganisationRequest(
                name=f"鄠邑区志愿者协会{uuid.uuid4().hex[:6]}",
                kind=reg.ORGANISATION_KIND_ORGANISATION,
                division_code=COUNTY,  # at the county, not in the township
            ),
            metadata=auth(self.tok),
        ).organisation
        self.round = self.open_round()
        self.in_review = self.nominate()
        returned = self.nominate()
        self.call("ReviewNomination", id=returned.id, decision=pb.DECISION_RETURN,
                  comment="请补充服务证明")  # fmt: skip
        self.returned = returned
        notice_round = self.open_round()
        on_notice = self.nominate(round_id=notice_round.id)
        self.call("ReviewNomination", id=on_notice.id, decision=pb.DECISION_APPROVE)
        self.call("StartNotice", round_id=notice_round.id)
        self.on_notice = on_notice
        self.objection = self.call(
            "FileObjection", nomination_id=on_notice.id, content="时长存疑"
        ).objection

    def _replicated(self) -> bool:
        with self.engine.connect() as c:
            got = c.execute(
                sa.text(
                    "SELECT overrides FROM policy_overrides WHERE division_code=:c"
                ),
                {"c": COUNTY},
            ).scalar()
        return bool(got) and "stars.thresholds_hours" in got

    def _honour(self, vid: str, amount: float) -> None:
        start = (datetime.now(CST) - timedelta(days=3)).replace(
            hour=9, minute=0, second=0, microsecond=0
        )
        rec = self.hours.RecordHonourHours(
            hpb.RecordHonourHoursRequest(
                volunteer_id=vid, division_code=TOWN,
                organisation_name="鄠邑区志愿者协会", service_field="elderly_care",
                content="敬老院陪护", session_start=start.isoformat(),
                session_end=(start + timedelta(hours=amount)).isoformat(),
                hours=amount, reason="纸质签到表补录",
            ),
            metadata=auth(self.tok),
        ).record  # fmt: skip
        self.hours.ApproveRecord(
            hpb.ApproveRecordRequest(id=rec.id), metadata=auth(self.tok)
        )

    def _requested(self) -> bool:
        try:
            return bool(self.stars().pending.id)
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.NOT_FOUND:
                raise
            return False

    def call(self, rpc: str, tok: str = "", **fields: Any) -> Any:
        request = getattr(pb, f"{rpc}Request")(**fields)
        return getattr(self.com, rpc)(request, metadata=auth(tok or self.tok))

    def stars(self) -> pb.VolunteerStars:
        return self.call("GetVolunteerStars", volunteer_id=self.vol.id).stars

    def open_round(self, **over: Any) -> pb.Round:
        return self.call("OpenRound", **open_round(self, **over)).round

    def nominate(self, tok: str = "", **over: Any) -> pb.Nomination:
        fields = nominate(self, request_id=str(uuid.uuid4()), **over)
        return self.call("Nominate", tok or self.office, **fields).nomination

    def count(self, sql: str, **params: Any) -> int:
        """Read commendation's database as its owner: for what no call shows."""
        with self.engine.connect() as c:
            return int(c.execute(sa.text(sql), params).scalar_one())

    def snapshot(self) -> tuple[Any, ...]:
        """Everything a rejected request could have touched."""
        code = {"division_code": COUNTY, "page": PAGE}
        requests = self.call("ListStarRequests", **code).requests
        stars = self.stars()
        bars = self.call("ListBars", **code).bars
        rounds = self.call("ListRounds", **code).rounds
        nominations = self.call("ListNominations", **code).nominations
        objections = self.call("GetNomination", id=self.on_notice.id).objections
        rollup = self.call(
            "Summarize", query=common.RollupQuery(division_code=COUNTY)
        ).rollup.total.metrics
        under = {"c": f"{COUNTY}%"}
        return (
            sorted((r.id, r.status, r.reason) for r in requests),
            (stars.stars, len(stars.history), stars.pending.id),
            sorted(b.id for b in bars),
            sorted((r.id, r.status) for r in rounds),
            sorted(
                (n.id, n.status, n.statement, n.current_stage_code, len(n.steps))
                for n in nominations
            ),
            sorted((o.id, o.status, o.resolution) for o in objections),
            dict(rollup),
            self.count(
                "SELECT count(*) FROM review_steps WHERE division_code LIKE :c", **under
            ),
            self.count(
                "SELECT count(*) FROM outbox WHERE division_code LIKE :c", **under
            ),
        )


@pytest.fixture(scope="module")
def w(stubs, token, worker, migrated) -> Iterator[World]:  # type: ignore[no-untyped-def]
    world = World(stubs, token, migrated["COMMENDATION_DATABASE_URL"])
    world.setup()
    yield world
    world.engine.dispose()


def open_round(w: World, **over: Any) -> dict[str, Any]:
    base = dict(
        division_code=COUNTY,
        title=f"{w.year}年度鄠邑区优秀志愿者推选",
        year=w.year,
        categories=["individual", "collective"],
        quota_per_child=5,
        deadline=w.deadline,
    )
    return {**base, **over}


def nominate(w: World, **over: Any) -> dict[str, Any]:
    base = dict(
        round_id=w.round.id,
        category="individual",
        unit_division_code=TOWN,
        nominee_volunteer_id=w.vol.id,
        statement=STATEMENT,
    )
    return {**base, **over}


def collective(w: World, **over: Any) -> dict[str, Any]:
    base = dict(
        category="collective",
        nominee_volunteer_id="",
        nominee_name="甘亭街道志愿服务队",
        nominee_division_code=TOWN,
    )
    return nominate(w, **{**base, **over})


def bar(w: World, **over: Any) -> dict[str, Any]:
    base = dict(
        volunteer_id=w.vol.id,
        years=1,
        reason="虚报服务时长",
        organisation_name="鄠邑区某志愿服务队",
    )
    return {**base, **over}


def honours(**over: Any) -> dict[str, Any]:
    base = dict(division_code=COUNTY, kind=pb.HONOUR_KIND_LONG_SERVICE)
    return {**base, **over}


def review(w: World, **over: Any) -> dict[str, Any]:
    return {**dict(id=w.in_review.id, decision=pb.DECISION_APPROVE), **over}


def summary(**over: Any) -> dict[str, Any]:
    return dict(query=common.RollupQuery(**{"division_code": COUNTY, **over}))


BAD_TOKEN = "!!"  # not base64
LONG = "长" * 501


def award(w: Any, **over: str) -> pb.ImportedAwardEntry:
    """An imported award of the world's volunteer, one field spoilt."""
    fields = dict(volunteer_id=w.vol.id, kind="honour", title="优秀志愿者",
                  awarded_on="2025-05-04", issuer_platform="other")  # fmt: skip
    return pb.ImportedAwardEntry(**{**fields, **over})


P = pytest.param
# (rpc, fields(w) -> request fields, field, rule)
CASES = [
    # -- star requests ------------------------------------------------------------
    P("ListStarRequests", lambda w: dict(division_code="61011"), "division_code",
      "division_code.width", id="requests-division-width"),
    P("ListStarRequests", lambda w: dict(division_code="六一"), "division_code",
      "division_code.format", id="requests-division-letters"),
    P("ListStarRequests", lambda w: dict(status=99), "status", "status.known",
      id="requests-status-unknown"),
    P("ListStarRequests", lambda w: dict(page=common.PageRequest(page_token="!!")),
      "page.page_token", "page.token", id="requests-page-token"),
    P("ApproveStarRequest", lambda w: dict(id=""), "id", "id.required",
      id="approve-id-empty"),
    P("ApproveStarRequest", lambda w: dict(id="R1"), "id", "id.format",
      id="approve-id-not-uuid"),
    P("ApproveStarRequest", lambda w: dict(id="1 OR 1=1"), "id", "id.format",
      id="approve-id-injection"),
    P("RejectStarRequest", lambda w: dict(id="R1", reason="不实"), "id", "id.format",
      id="reject-id"),
    P("RejectStarRequest", lambda w: dict(id=w.request.id, reason=" "), "reason",
      "reason.required", id="reject-reason-blank"),
    P("RejectStarRequest", lambda w: dict(id=w.request.id, reason=LONG), "reason",
      "reason.max_length", id="reject-reason-long"),
    P("GetVolunteerStars", lambda w: dict(volunteer_id=""), "volunteer_id",
      "volunteer_id.required", id="stars-volunteer-empty"),
    P("GetVolunteerStars", lambda w: dict(volunteer_id="V1"), "volunteer_id",
      "volunteer_id.format", id="stars-volunteer-not-uuid"),
    P("ListAwardsOf", lambda w: dict(volunteer_id="V1"), "volunteer_id",
      "volunteer_id.format", id="awards-of-volunteer-not-uuid"),
    P("ListAwardsOf", lambda w: dict(volunteer_id=w.vol.id, period=common.Period(
      start_month="2026-13")), "period.start_month", "period.month_format",
      id="awards-of-period-month"),
    P("ImportAwards", lambda w: dict(entries=[]), "entries", "entries.required",
      id="import-awards-none"),
    P("ImportAwards", lambda w: dict(entries=[award(w, volunteer_id="V1")]),
      "entries[0].volunteer_id", "volunteer_id.format", id="import-awards-volunteer"),
    P("ImportAwards", lambda w: dict(entries=[award(w, kind="Honour!")]),
      "entries[0].kind", "kind.format", id="import-awards-kind"),
    P("ImportAwards", lambda w: dict(entries=[award(w, title="优秀\r志愿者")]),
      "entries[0].title", "title.plain", id="import-awards-title-cr"),
    P("ImportAwards", lambda w: dict(entries=[award(w, awarded_on="2025-02-30")]),
      "entries[0].awarded_on", "awarded_on.format", id="import-awards-date"),
    P("ImportAwards", lambda w: dict(entries=[award(w, division_code="６１０１")]),
      "entries[0].division_code", "division_code.code", id="import-awards-code"),
    P("ImportAwards", lambda w: dict(entries=[award(w, issuer_platform="有 空格")]),
      "entries[0].issuer_platform", "issuer_platform.format",
      id="import-awards-issuer"),
    P("ListHonours", lambda w: honours(kind=pb.HONOUR_KIND_UNSPECIFIED), "kind",
      "kind.required", id="honours-kind-missing"),
    P("ListHonours", lambda w: honours(kind=9), "kind", "kind.known",
      id="honours-kind-unknown"),
    P("ListHonours", lambda w: honours(division_code="6101180"), "division_code",
      "division_code.width", id="honours-division"),
    P("ListHonours", lambda w: honours(min_years=61), "min_years", "min_years.range",
      id="honours-years-61"),
    P("ListHonours", lambda w: honours(min_years=-1), "min_years", "min_years.range",
      id="honours-years-negative"),
    P("ListHonours", lambda w: honours(page=common.PageRequest(page_token="LTE=")),
      "page.page_token", "page.token", id="honours-page-negative"),
    # -- bars -----------------------------------------------------------------------
    P("BarVolunteer", lambda w: bar(w, volunteer_id=""), "volunteer_id",
      "volunteer_id.required", id="bar-volunteer-empty"),
    P("BarVolunteer", lambda w: bar(w, volunteer_id="V1"), "volunteer_id",
      "volunteer_id.format", id="bar-volunteer-not-uuid"),
    P("BarVolunteer", lambda w: bar(w, years=0), "years", "years.range",
      id="bar-years-0"),
    P("BarVolunteer", lambda w: bar(w, years=4), "years", "years.range",
      id="bar-years-4"),
    P("BarVolunteer", lambda w: bar(w, years=-1), "years", "years.range",
      id="bar-years-negative"),
    P("BarVolunteer", lambda w: bar(w, reason=""), "reason", "reason.required",
      id="bar-reason-empty"),
    P("BarVolunteer", lambda w: bar(w, reason=LONG), "reason", "reason.max_length",
      id="bar-reason-long"),
    P("BarVolunteer", lambda w: bar(w, organisation_id="org-1"), "organisation_id",
      "organisation_id.format", id="bar-organisation-id"),
    P("BarVolunteer", lambda w: bar(w, organisation_name=" "), "organisation_name",
      "organisation_name.required", id="bar-organisation-name-blank"),
    P("BarVolunteer", lambda w: bar(w, organisation_name="组" * 201),
      "organisation_name", "organisation_name.max_length",
      id="bar-organisation-name-long"),
    P("ListBars", lambda w: dict(division_code="6"), "division_code",
      "division_code.width", id="bars-division"),
    P("ListBars", lambda w: dict(page=common.PageRequest(page_token=BAD_TOKEN)),
      "page.page_token", "page.token", id="bars-page-token"),
    # -- rounds ---------------------------------------------------------------------
    P("OpenRound", lambda w: open_round(w, division_code="61011"), "division_code",
      "division_code.width", id="open-division-width"),
    P("OpenRound", lambda w: open_round(w, division_code="6101a8"), "division_code",
      "division_code.format", id="open-division-letters"),
    P("OpenRound", lambda w: open_round(w, title=""), "title", "title.required",
      id="open-title-empty"),
    P("OpenRound", lambda w: open_round(w, title="题" * 201), "title",
      "title.max_length", id="open-title-long"),
    P("OpenRound", lambda w: open_round(w, year=0), "year", "year.range",
      id="open-year-missing"),
    P("OpenRound", lambda w: open_round(w, year=1999), "year", "year.range",
      id="open-year-1999"),
    P("OpenRound", lambda w: open_round(w, quota_per_child=0), "quota_per_child",
      "quota_per_child.range", id="open-quota-0"),
    P("OpenRound", lambda w: open_round(w, quota_per_child=-3), "quota_per_child",
      "quota_per_child.range", id="open-quota-negative"),
    P("OpenRound", lambda w: open_round(w, deadline=""), "deadline",
      "deadline.required", id="open-deadline-empty"),
    P("OpenRound", lambda w: open_round(w, deadline=f"{w.year}-13-01"), "deadline",
      "deadline.format", id="open-deadline-month-13"),
    P("OpenRound", lambda w: open_round(w, deadline="31/12/2099"), "deadline",
      "deadline.format", id="open-deadline-day-first"),
    P("OpenRound", lambda w: open_round(w, deadline=f"{w.year + 1}-1-1"), "deadline",
      "deadline.format", id="open-deadline-short"),
    P("OpenRound",
      lambda w: open_round(w, deadline=(w.today - timedelta(days=1)).isoformat()),
      "deadline", "deadline.future", id="open-deadline-past"),
    P("OpenRound", lambda w: open_round(w, notice_working_days=4),
      "notice_working_days", "notice_working_days.range", id="open-notice-4-days"),
    P("OpenRound", lambda w: open_round(w, notice_working_days=-5),
      "notice_working_days", "notice_working_days.range",
      id="open-notice-negative"),
    P("OpenRound", lambda w: open_round(w, notice_working_days=61),
      "notice_working_days", "notice_working_days.range", id="open-notice-61-days"),
    P("OpenRound", lambda w: open_round(w, categories=["Individual"]), "categories",
      "categories.format", id="open-category-upper-case"),
    P("OpenRound", lambda w: open_round(w, categories=["individual", "先进集体"]),
      "categories", "categories.format", id="open-category-chinese"),
    P("OpenRound", lambda w: open_round(w, categories=["x"]), "categories",
      "categories.format", id="open-category-short"),
    P("OpenRound", lambda w: open_round(w, categories=[" "]), "categories",
      "categories.format", id="open-category-blank"),
    P("GetRound", lambda w: dict(id=""), "id", "id.required", id="round-id-empty"),
    P("GetRound", lambda w: dict(id="r1"), "id", "id.format", id="round-id-format"),
    P("ListRounds", lambda w: dict(division_code="6101181"), "division_code",
      "division_code.width", id="rounds-division"),
    P("ListRounds", lambda w: dict(page=common.PageRequest(page_token=BAD_TOKEN)),
      "page.page_token", "page.token", id="rounds-page-token"),
    # -- nominations ----------------------------------------------------------------
    P("Nominate", lambda w: nominate(w, round_id=""), "round_id", "round_id.required",
      id="nominate-round-empty"),
    P("Nominate", lambda w: nominate(w, round_id="r1"), "round_id",
      "round_id.format", id="nominate-round-format"),
    P("Nominate", lambda w: nominate(w, category=""), "category",
      "category.required", id="nominate-category-empty"),
    P("Nominate", lambda w: nominate(w, category="c" * 41), "category",
      "category.max_length", id="nominate-category-long"),
    P("Nominate", lambda w: collective(w, category="station"), "category",
      "category.in_round", id="nominate-category-not-in-round"),
    P("Nominate", lambda w: collective(w, category="先进个人"), "category",
      "category.in_round", id="nominate-category-chinese"),
    P("Nominate", lambda w: nominate(w, unit_division_code=""), "unit_division_code",
      "division_code.format", id="nominate-unit-empty"),
    P("Nominate", lambda w: nominate(w, unit_division_code="61011800"),
      "unit_division_code", "division_code.width", id="nominate-unit-width"),
    P("Nominate", lambda w: nominate(w, unit_organisation_id="org-1"),
      "unit_organisation_id", "unit_organisation_id.format",
      id="nominate-organisation-format"),
    P("Nominate", lambda w: nominate(w, unit_organisation_id=w.org.id),
      "unit_organisation_id", "unit_organisation_id.in_division",
      id="nominate-organisation-elsewhere"),
    P("Nominate", lambda w: nominate(w, nominee_volunteer_id=""),
      "nominee_volunteer_id", "nominee_volunteer_id.required",
      id="nominate-individual-without-volunteer"),
    P("Nominate", lambda w: nominate(w, nominee_volunteer_id="V1"),
      "nominee_volunteer_id", "nominee_volunteer_id.format",
      id="nominate-volunteer-format"),
    P("Nominate", lambda w: collective(w, nominee_volunteer_id=w.vol.id),
      "nominee_volunteer_id", "nominee_volunteer_id.individual_only",
      id="nominate-collective-names-volunteer"),
    P("Nominate", lambda w: collective(w, nominee_name=""), "nominee_name",
      "nominee_name.required", id="nominate-collective-without-name"),
    P("Nominate", lambda w: collective(w, nominee_name="队" * 201), "nominee_name",
      "nominee_name.max_length", id="nominate-collective-name-long"),
    P("Nominate", lambda w: collective(w, nominee_division_code=""),
      "nominee_division_code", "division_code.format",
      id="nominate-collective-without-division"),
    P("Nominate", lambda w: collective(w, nominee_division_code="6101189"),
      "nominee_division_code", "division_code.width",
      id="nominate-collective-division-width"),
    P("Nominate", lambda w: nominate(w, statement=""), "statement",
      "statement.required", id="nominate-statement-empty"),
    P("Nominate", lambda w: nominate(w, statement="事" * 4001), "statement",
      "statement.max_length", id="nominate-statement-long"),
    P("Nominate", lambda w: nominate(w, request_id="r" * 101), "request_id",
      "request_id.max_length", id="nominate-request-id-long"),
    P("GetNomination", lambda w: dict(id=""), "id", "id.required",
      id="nomination-id-empty"),
    P("GetNomination", lambda w: dict(id="N1"), "id", "id.format",
      id="nomination-id-format"),
    P("ListNominations", lambda w: dict(round_id="r1"), "round_id",
      "round_id.format", id="nominations-round"),
    P("ListNominations", lambda w: dict(division_code="61x"), "division_code",
      "division_code.format", id="nominations-division"),
    P("ListNominations", lambda w: dict(status=42), "status", "status.known",
      id="nominations-status"),
    P("ListNominations", lambda w: dict(page=common.PageRequest(page_token="abc")),
      "page.page_token", "page.token", id="nominations-page-token"),
    P("ReviewNomination", lambda w: review(w, id="N1"), "id", "id.format",
      id="review-id"),
    P("ReviewNomination", lambda w: review(w, decision=pb.DECISION_UNSPECIFIED),
      "decision", "decision.required", id="review-without-decision"),
    P("ReviewNomination", lambda w: review(w, decision=9), "decision",
      "decision.known", id="review-decision-unknown"),
    P("ReviewNomination", lambda w: review(w, decision=pb.DECISION_REJECT),
      "comment", "comment.required", id="review-reject-without-comment"),
    P("ReviewNomination",
      lambda w: review(w, decision=pb.DECISION_RETURN, comment="  "),
      "comment", "comment.required", id="review-return-without-comment"),
    P("ReviewNomination",
      lambda w: review(w, decision=pb.DECISION_REJECT, comment="评" * 1001),
      "comment", "comment.max_length", id="review-comment-long"),
    P("ResubmitNomination", lambda w: dict(id="", statement=STATEMENT), "id",
      "id.required", id="resubmit-id"),
    P("ResubmitNomination", lambda w: dict(id=w.returned.id, statement=""),
      "statement", "statement.required", id="resubmit-statement-empty"),
    P("ResubmitNomination", lambda w: dict(id=w.returned.id, statement="事" * 4001),
      "statement", "statement.max_length", id="resubmit-statement-long"),
    P("DeclareConflict", lambda w: dict(nomination_id="N1", reason="亲属"),
      "nomination_id", "nomination_id.format", id="conflict-nomination"),
    P("DeclareConflict", lambda w: dict(nomination_id=w.in_review.id, reason=""),
      "reason", "reason.required", id="conflict-reason-empty"),
    P("DeclareConflict", lambda w: dict(nomination_id=w.in_review.id, reason=LONG),
      "reason", "reason.max_length", id="conflict-reason-long"),
    # -- notice, objections, award -------------------------------------------------
    P("StartNotice", lambda w: dict(round_id=""), "round_id", "round_id.required",
      id="notice-round-empty"),
    P("StartNotice", lambda w: dict(round_id="r1"), "round_id", "round_id.format",
      id="notice-round-format"),
    P("FileObjection", lambda w: dict(nomination_id="", content="不实"),
      "nomination_id", "nomination_id.required", id="objection-nomination-empty"),
    P("FileObjection", lambda w: dict(nomination_id="N1", content="不实"),
      "nomination_id", "nomination_id.format", id="objection-nomination-format"),
    P("FileObjection", lambda w: dict(nomination_id=w.on_notice.id, content=""),
      "content", "content.required", id="objection-content-empty"),
    P("FileObjection",
      lambda w: dict(nomination_id=w.on_notice.id, content="异" * 2001),
      "content", "content.max_length", id="objection-content-long"),
    P("ResolveObjection", lambda w: dict(id="O1", resolution="核实无误"), "id",
      "id.format", id="resolve-id"),
    P("ResolveObjection", lambda w: dict(id=w.objection.id, resolution=""),
      "resolution", "resolution.required", id="resolve-resolution-empty"),
    P("ResolveObjection",
      lambda w: dict(id=w.objection.id, upheld=True, resolution="核" * 2001),
      "resolution", "resolution.max_length", id="resolve-resolution-long"),
    P("FinalizeRound", lambda w: dict(round_id=""), "round_id", "round_id.required",
      id="finalize-round-empty"),
    P("FinalizeRound", lambda w: dict(round_id="r1"), "round_id", "round_id.format",
      id="finalize-round-format"),
    P("ListNotice", lambda w: dict(round_id=""), "round_id", "round_id.required",
      id="list-notice-round-empty"),
    P("ListNotice", lambda w: dict(round_id="r1"), "round_id", "round_id.format",
      id="list-notice-round-format"),
    P("ListNotice",
      lambda w: dict(round_id=w.round.id, page=common.PageRequest(page_token="!!")),
      "page.page_token", "page.token", id="list-notice-page-token"),
    P("Summarize", lambda w: summary(division_code="6101181"), "query.division_code",
      "division_code.width", id="summarize-division"),
    P("Summarize", lambda w: summary(group_by=42), "query.group_by",
      "query.group_by.known", id="summarize-group-unknown"),
    P("Summarize", lambda w: summary(group_by=common.DIVISION_LEVEL_CITY),
      "query.group_by", "group_by.below_node", id="summarize-group-above"),
    P("Summarize", lambda w: summary(period=common.Period(start_month="2026-13")),
      "query.period.start_month", "period.month_format", id="summarize-month"),
    P("Summarize",
      lambda w: summary(
          period=common.Period(start_month="2026-05", end_month="2026-04")
      ),
      "query.period.end_month", "period.order", id="summarize-period-order"),
    P("SummarizeFederated", lambda w: summary(division_code="6101181"),
      "query.division_code", "division_code.width", id="federated-division"),
    P("SummarizeFederated", lambda w: summary(group_by=42), "query.group_by",
      "query.group_by.known", id="federated-group-unknown"),
    P("SummarizeFederated", lambda w: summary(group_by=common.DIVISION_LEVEL_CITY),
      "query.group_by", "group_by.below_node", id="federated-group-above"),
    P("SummarizeFederated",
      lambda w: summary(period=common.Period(start_month="2026-13")),
      "query.period.start_month", "period.month_format", id="federated-month"),
    P("SummarizeFederated",
      lambda w: summary(
          period=common.Period(start_month="2026-03", end_month="2026-05")
      ),
      "query.period", "period.stored", id="federated-period-not-stored"),
    P("SummarizeFederated", lambda w: summary(by_month=True), "query.period",
      "period.stored", id="federated-by-month"),
]  # fmt: skip


@pytest.mark.parametrize(("rpc", "fields", "field", "rule"), CASES)
def test_bad_input_names_the_field_and_writes_nothing(
    w: World, rpc: str, fields: Callable[[World], dict[str, Any]], field: str, rule: str
) -> None:
    before = w.snapshot()
    trailers = rejected(lambda: w.call(rpc, **fields(w)))
    assert_field(trailers, field, rule)
    assert w.snapshot() == before


def test_every_rpc_with_input_has_a_bad_input_case() -> None:
    service = pb.DESCRIPTOR.services_by_name["CommendationService"]
    with_input = {m.name for m in service.methods if m.input_type.fields}
    assert with_input == {case.values[0] for case in CASES}
    assert with_input < set(service.methods_by_name)  # GetMyStars takes nothing


def test_every_request_field_has_a_bad_input_case() -> None:
    named = {(case.values[0], case.values[2].split(".")[0]) for case in CASES}
    # Flags that accept either value.
    aside = {
        ("ListStarRequests", "awaiting_me"),
        ("ListNominations", "awaiting_me"),
        ("ListBars", "active_only"),
        ("ResolveObjection", "upheld"),
        ("ListAwardsOf", "include_undated"),
    }
    for method in pb.DESCRIPTOR.services_by_name["CommendationService"].methods:
        for f in method.input_type.fields:
            key = (method.name, f.name)
            if key not in aside:
                assert key in named, f"no bad-input case for {key}"


# -- duplicate submissions -----------------------------------------------------------


def _rows(w: World, key: str) -> int:
    return w.count("SELECT count(*) FROM nominations WHERE request_id=:k", k=key)


def test_the_same_request_id_is_one_nomination(w: World) -> None:
    key = str(uuid.uuid4())
    before = w.call("ListNominations", round_id=w.round.id, page=PAGE).page.total_size
    first = w.call("Nominate", w.office, **nominate(w, request_id=key)).nomination
    again = w.call(
        "Nominate", w.office, **nominate(w, request_id=key, statement="改过的事迹")
    ).nomination
    assert again.id == first.id and again.statement == STATEMENT
    assert _rows(w, key) == 1
    after = w.call("ListNominations", round_id=w.round.id, page=PAGE).page.total_size
    assert after == before + 1


def test_a_request_id_does_not_reach_another_nominators_nomination(w: World) -> None:
    """Keys belong to their nominator: another office reusing one gets its own
    nomination, never the first office's back."""
    key = str(uuid.uuid4())
    first = w.call("Nominate", w.office, **nominate(w, request_id=key)).nomination
    other = w.call("Nominate", w.other_office, **nominate(w, request_id=key))
    assert other.nomination.id != first.id
    assert other.nomination.nominated_by == "huyi-office-2"
    assert _rows(w, key) == 2


# -- forged credentials --------------------------------------------------------------

FORGED: dict[str, Callable[[], list[tuple[str, str]]]] = {
    "no-token": lambda: [],
    "garbage": lambda: auth("not.a.jwt"),
    "signed-by-another-key": lambda: auth(
        issued(private=OTHER_PRIVATE, scope_code=COUNTY)
    ),
    "expired": lambda: auth(issued(ttl=-10, scope_code=COUNTY)),
    "wrong-audience": lambda: auth(issued(aud="other", scope_code=COUNTY)),
    "wrong-issuer": lambda: auth(issued(iss="other", scope_code=COUNTY)),
    "alg-none": lambda: auth(
        jwt.encode(claims(scope=COUNTY, roles=["tenant_admin"]), None, algorithm="none")
    ),
    "hs256-keyed-with-the-public-key": lambda: auth(hs256_with(PUBLIC_PEM)),
}


@pytest.mark.parametrize("case", list(FORGED))
def test_forged_credentials_are_unauthenticated_and_write_nothing(
    w: World, case: str
) -> None:
    key = str(uuid.uuid4())
    request = pb.NominateRequest(**nominate(w, request_id=key))
    before = w.snapshot()
    for call in (
        lambda md: w.com.Nominate(request, metadata=md),
        lambda md: w.com.ListNominations(
            pb.ListNominationsRequest(round_id=w.round.id), metadata=md
        ),
    ):
        with pytest.raises(grpc.RpcError) as err:
            call(FORGED[case]())
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "Traceback" not in err.value.details()
    assert w.snapshot() == before and _rows(w, key) == 0
