"""Tenant isolation for every CommendationService RPC, caller by caller, on the
real api role and worker.

The owner is Gaoling district (610117). Its volunteers live in the township
鹿苑街道 (610117001): their star requests, bars and the nominations that
township's office makes belong there; the owner's award rounds are opened at
the county. Callers:

    sibling    610115     tenant_admin    (Lintong, same city: sees nothing of
                                           Gaoling)
    neighbour  6102       tenant_admin    (Tongchuan, the next city)
    child      610117002  tenant_admin    (another township of Gaoling: below
                                           the county's rounds, outside 610117001)
    noscope    ""         tenant_admin    (default deny)
    city       6101       tenant_admin    (Xi'an: reads its subtree, but is not
                                           the county's reviewer or round owner)
    province   61         province_admin
    owner      610117     tenant_admin    (everything works)

A request naming a division outside the caller's subtree is
PERMISSION_DENIED; one addressing another tenant's star request, volunteer,
round, nomination or objection by id is NOT_FOUND, as if it did not exist;
a decision reserved to one division (the level that approves a star tier,
the stage that reviews a nomination, the round's owner) is PERMISSION_DENIED
to the other divisions that can see the object. A refused write leaves
nothing changed, checked with the owner's token or in the database where no
call shows it.

Each write takes its target from a small pool (a pending star request, a
nomination in review, a round ready for its notice, ...): refused callers
leave the target as it was and share it; a caller that succeeds uses it up
and the next one gets a new target. The owner goes last, so most targets are
made once.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from zhiyuan.commendation.v1 import commendation_pb2 as pb
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.hours.v1 import hours_pb2 as hpb
from zhiyuan.registration.v1 import registration_pb2 as reg

from services.common.rollup import CST
from services.common.testing import wait_for
from tests.helpers import auth
from tests.integration.test_hours_flow import verified_volunteer
from tests.security.matrix import (
    NF,
    OK,
    PD,
    Spec,
    caller_token,
    check_indistinguishable,
    check_isolation,
    check_needs_a_token,
    federated_read,
    outcome,
    params,
    row,
    rpc_names,
    with_national,
)

pytestmark = pytest.mark.integration

OWNER, SIBLING, CITY, NEIGHBOUR, PROVINCE = "610117", "610115", "6101", "6102", "61"
CHILD, TOWN, SIB_TOWN = "610117002", "610117001", "610115001"
FAR = "610204"  # 耀州区, a county of the neighbouring city
SCOPES = {
    "sibling": SIBLING,
    "neighbour": NEIGHBOUR,
    "child": CHILD,
    "city": CITY,
    "province": PROVINCE,
    "owner": OWNER,
}
# ``national``: scope CN (the ministry), rollups and the division tree only.
CALLERS = (
    "sibling",
    "neighbour",
    "child",
    "noscope",
    "city",
    "province",
    "owner",
    "national",
)


def expect(**over: Any) -> dict[str, Any]:
    """Expected outcomes, from the rule that the owner, city and province
    succeed and everyone else is refused as NOT_FOUND (the scope-less caller
    as PERMISSION_DENIED)."""
    base = dict(
        sibling=NF, neighbour=NF, child=NF, noscope=PD, city=OK, province=OK, owner=OK
    )
    return row(base, **over)


# A division named in the request: outside the subtree is PERMISSION_DENIED.
SCOPED = expect(sibling=PD, neighbour=PD, child=PD)
# An object addressed by id: another tenant's is NOT_FOUND.
BY_ID = expect()
# Decided only by the division the object is routed to (star tier, stage).
ROUTED = expect(city=PD, province=PD)
# Only the round's owner; the round is visible below it (child) and above.
ROUND_OWNER = expect(city=PD, province=PD, child=PD)

SETTINGS = {
    "stars.thresholds_hours": json.dumps([2, 4, 6, 8, 10]),
    "hours.rounding": json.dumps("exact"),
    "hours.daily_cap": "12",
}
PAGE = common.PageRequest(page_size=500)
# Named, not the tenant's default: no setting elsewhere can change them.
CATEGORIES = ["individual", "collective"]
PENDING = pb.STAR_REQUEST_STATUS_PENDING
_day = iter(range(3, 300))


def trailers(err: grpc.RpcError) -> dict[str, Any]:
    return dict(err.trailing_metadata() or ())


class World:
    """The owner's data, the neighbours' rounds, and pools of write targets."""

    def __init__(
        self, stubs: Callable[[str], Any], token: Callable[..., str], url: str
    ) -> None:
        self.com, self.reg = stubs("commendation"), stubs("registration")
        self.hours, self.token = stubs("hours"), token
        self.engine = sa.create_engine(url)
        self.deadline = (datetime.now(CST).date() + timedelta(days=30)).isoformat()
        self.year = datetime.now(CST).year
        self.own = token(OWNER)
        # The township office's nominations are reviewed by the county's admin,
        # who must not be the nominator (recusal).
        self.office = token(OWNER, "tenant_admin", username="gaoling-office")
        self.prov = token(PROVINCE, "province_admin")
        self.pool: dict[str, Any] = {}

    def caller(self, who: str, roles: tuple[str, ...] = ()) -> str:
        return caller_token(self.token, SCOPES, who, roles)

    def setup(self) -> None:
        self.reg.UpdateTenantSettings(
            reg.UpdateTenantSettingsRequest(division_code=OWNER, set_json=SETTINGS),
            metadata=auth(self.prov),
        )
        wait_for(self._replicated, timeout=30, what="commendation's settings replica")
        self.star_vol = self.volunteer()
        self.honour(self.star_vol.id, 2.5)
        self.request = self.wait_request(self.star_vol.id)
        self.pool["star"] = self.request
        self.bar_vol = self.volunteer()
        self.bar = self.bar_volunteer(self.bar_vol.id, self.own).bar
        sibling = self.token(SIBLING)
        self.sib_vol = verified_volunteer(self.reg, sibling, home=SIB_TOWN)
        self.sib_org = self.reg.CreateOrganisation(
            reg.CreateOrganisationRequest(
                name=f"临潼区志愿服务队{uuid.uuid4().hex[:6]}",
                kind=reg.ORGANISATION_KIND_ORGANISATION,
                division_code=SIBLING,
            ),
            metadata=auth(sibling),
        ).organisation
        self.county_round = self.open_round(self.own, OWNER)
        self.city_round = self.open_round(self.token(CITY), CITY)
        self.sib_round = self.open_round(sibling, SIBLING)
        self.neighbour_round = self.open_round(self.token(NEIGHBOUR), NEIGHBOUR)
        self.nomination = self.nominate(self.county_round.id)
        self.notice_round, self.notice_nomination = self.ready_round()
        self.start_notice(self.notice_round.id, self.own)
        self.city_notice_round, self.city_notice_nomination = (
            self._city_notice_nomination()
        )

    def _replicated(self) -> bool:
        with self.engine.connect() as c:
            got = c.execute(
                sa.text(
                    "SELECT overrides FROM policy_overrides WHERE division_code=:c"
                ),
                {"c": OWNER},
            ).scalar()
        return bool(got) and "stars.thresholds_hours" in got

    def db_count(self, sql: str, **params: Any) -> int:
        """Read commendation's database as its owner (row security does not
        apply): for what no call shows."""
        with self.engine.connect() as c:
            return int(c.execute(sa.text(sql), params).scalar_one())

    # -- volunteers and stars ----------------------------------------------------
    def volunteer(self) -> reg.Volunteer:
        return verified_volunteer(self.reg, self.own, home=TOWN)

    def honour(self, vid: str, amount: float) -> None:
        start = (datetime.now(CST) - timedelta(days=next(_day))).replace(
            hour=9, minute=0, second=0, microsecond=0
        )
        rec = self.hours.RecordHonourHours(
            hpb.RecordHonourHoursRequest(
                volunteer_id=vid, division_code=TOWN,
                organisation_name="高陵区志愿者协会", service_field="elderly_care",
                content="敬老院陪护", session_start=start.isoformat(),
                session_end=(start + timedelta(hours=amount)).isoformat(),
                hours=amount, reason="纸质签到表补录",
            ),
            metadata=auth(self.own),
        ).record  # fmt: skip
        self.hours.ApproveRecord(
            hpb.ApproveRecordRequest(id=rec.id), metadata=auth(self.own)
        )

    def stars(self, vid: str) -> pb.VolunteerStars:
        return self.com.GetVolunteerStars(
            pb.GetVolunteerStarsRequest(volunteer_id=vid), metadata=auth(self.own)
        ).stars

    def wait_request(self, vid: str) -> pb.StarRequest:
        def opened() -> bool:
            try:
                return bool(self.stars(vid).pending.id)
            except grpc.RpcError as err:
                if err.code() != NF:
                    raise
                return False

        wait_for(opened, timeout=30, what="commendation to open a star request")
        return self.stars(vid).pending

    def star_requests(self) -> dict[str, int]:
        got = self.com.ListStarRequests(
            pb.ListStarRequestsRequest(division_code=OWNER, page=PAGE),
            metadata=auth(self.own),
        )
        return {r.id: r.status for r in got.requests}

    def pending_request(self) -> pb.StarRequest:
        """A pending one-star request of a Gaoling volunteer, at the county."""
        if self.star_requests().get(self.pool["star"].id) != PENDING:
            vol = self.volunteer()
            self.honour(vol.id, 2.5)
            self.pool["star"] = self.wait_request(vol.id)
        return self.pool["star"]

    def bar_volunteer(self, vid: str, tok: str) -> pb.BarVolunteerResponse:
        return self.com.BarVolunteer(
            pb.BarVolunteerRequest(
                volunteer_id=vid, years=1, reason="虚报服务时长",
                organisation_name="高陵区某志愿服务队",
            ),
            metadata=auth(tok),
        )  # fmt: skip

    def bars_of(self, vid: str) -> set[str]:
        got = self.com.ListBars(
            pb.ListBarsRequest(division_code=OWNER, page=PAGE), metadata=auth(self.own)
        )
        return {b.id for b in got.bars if b.volunteer_id == vid}

    # -- rounds and nominations --------------------------------------------------
    def open_round(self, tok: str, code: str) -> pb.Round:
        return self.com.OpenRound(
            pb.OpenRoundRequest(
                division_code=code, title=f"{self.year}年度优秀志愿者推选",
                year=self.year, categories=CATEGORIES, quota_per_child=50,
                deadline=self.deadline,
            ),
            metadata=auth(tok),
        ).round  # fmt: skip

    def round(self, ident: str) -> pb.Round:
        got = self.com.GetRound(pb.GetRoundRequest(id=ident), metadata=auth(self.own))
        return got.round

    def rounds_at_owner(self) -> set[str]:
        got = self.com.ListRounds(
            pb.ListRoundsRequest(division_code=OWNER, page=PAGE),
            metadata=auth(self.own),
        )
        return {r.id for r in got.rounds if r.division_code == OWNER}

    def nominate_request(self, round_id: str, **over: Any) -> pb.NominateRequest:
        fields = dict(
            round_id=round_id,
            category="individual",
            unit_division_code=TOWN,
            nominee_volunteer_id=self.star_vol.id,
            statement="长期坚持社区助老服务，事迹突出。",
            request_id=str(uuid.uuid4()),
        )
        return pb.NominateRequest(**{**fields, **over})

    def nominate(self, round_id: str, tok: str = "", **over: Any) -> pb.Nomination:
        return self.com.Nominate(
            self.nominate_request(round_id, **over), metadata=auth(tok or self.office)
        ).nomination

    def get(self, nid: str) -> pb.GetNominationResponse:
        return self.com.GetNomination(
            pb.GetNominationRequest(id=nid), metadata=auth(self.own)
        )

    def nominations(self, round_id: str) -> set[str]:
        got = self.com.ListNominations(
            pb.ListNominationsRequest(
                round_id=round_id, division_code=OWNER, page=PAGE
            ),
            metadata=auth(self.own),
        )
        return {n.id for n in got.nominations}

    def review(
        self, nid: str, decision: int, comment: str = "", tok: str = ""
    ) -> pb.Nomination:
        return self.com.ReviewNomination(
            pb.ReviewNominationRequest(id=nid, decision=decision, comment=comment),
            metadata=auth(tok or self.own),
        ).nomination

    def start_notice(self, round_id: str, tok: str) -> pb.StartNoticeResponse:
        return self.com.StartNotice(
            pb.StartNoticeRequest(round_id=round_id), metadata=auth(tok)
        )

    def _status_is(self, key: str, status: int) -> bool:
        if key not in self.pool:
            return False
        return self.get(self.pool[key].id).nomination.status == status

    def in_review(self) -> pb.Nomination:
        """A nomination of the township office, at the county's stage."""
        if not self._status_is("review", pb.NOMINATION_STATUS_IN_REVIEW):
            self.pool["review"] = self.nominate(self.county_round.id)
        return self.pool["review"]

    def returned(self) -> pb.Nomination:
        """A nomination the county returned to the township office."""
        if not self._status_is("returned", pb.NOMINATION_STATUS_RETURNED):
            n = self.nominate(self.county_round.id)
            self.pool["returned"] = self.review(n.id, pb.DECISION_RETURN, "请补充材料")
        return self.pool["returned"]

    def ready_round(self) -> tuple[pb.Round, pb.Nomination]:
        """An open county round whose one nomination passed every level."""
        ready = self.pool.get("ready")
        if ready is None or self.round(ready[0].id).status != pb.ROUND_STATUS_OPEN:
            r = self.open_round(self.own, OWNER)
            n = self.nominate(r.id)
            self.pool["ready"] = (r, self.review(n.id, pb.DECISION_APPROVE))
        return self.pool["ready"]

    def ended_round(self) -> tuple[pb.Round, pb.Nomination]:
        """A county round whose notice has run out (its dates moved into the
        past in the database, as the calendar would)."""
        ended = self.pool.get("ended")
        if ended is None or self.round(ended[0].id).status != pb.ROUND_STATUS_NOTICE:
            r, n = self.ready_round()
            self.start_notice(r.id, self.own)
            past = datetime.now(CST).date() - timedelta(days=2)
            with self.engine.begin() as c:
                c.execute(
                    sa.text("UPDATE award_rounds SET notice_ends_on=:d WHERE id=:r"),
                    {"d": past, "r": r.id},
                )
            self.pool["ended"] = (r, n)
        return self.pool["ended"]

    def objections(self, nid: str) -> dict[str, int]:
        return {o.id: o.status for o in self.get(nid).objections}

    def file_objection(self, nid: str, tok: str) -> pb.FileObjectionResponse:
        return self.com.FileObjection(
            pb.FileObjectionRequest(nomination_id=nid, content="服务时长与实际不符"),
            metadata=auth(tok),
        )

    def open_objection(self) -> pb.Objection:
        """An open objection to the nomination on the county's notice."""
        nid = self.notice_nomination.id
        held = self.pool.get("objection")
        if held is None or self.objections(nid)[held.id] != pb.OBJECTION_STATUS_OPEN:
            self.pool["objection"] = self.file_objection(nid, self.own).objection
        return self.pool["objection"]

    def _city_notice_nomination(self) -> tuple[pb.Round, pb.Nomination]:
        """A township nomination on notice in a round Xi'an opened."""
        city = self.token(CITY)
        r = self.open_round(city, CITY)
        n = self.nominate(r.id)
        assert list(n.stage_codes) == [OWNER, CITY]
        self.review(n.id, pb.DECISION_APPROVE)
        self.review(n.id, pb.DECISION_APPROVE, tok=city)
        assert self.start_notice(r.id, city).nominations_in_notice == 1
        return r, n

    def notice(self, round_id: str, tok: str) -> pb.ListNoticeResponse:
        return self.com.ListNotice(
            pb.ListNoticeRequest(round_id=round_id, page=PAGE), metadata=auth(tok)
        )


@pytest.fixture(scope="module")
def w(stubs, token, worker, migrated) -> Iterator[World]:  # type: ignore[no-untyped-def]
    world = World(stubs, token, migrated["COMMENDATION_DATABASE_URL"])
    world.setup()
    yield world
    world.engine.dispose()


# -- one specification per RPC ---------------------------------------------------


def _under_owner(codes: Any) -> bool:
    return all(c.startswith(OWNER) for c in codes)


# star requests


def _list_requests(w: World, _: Any, tok: str) -> Any:
    return w.com.ListStarRequests(
        pb.ListStarRequestsRequest(division_code=OWNER, page=PAGE), metadata=auth(tok)
    )


def _requests_listed(w: World, _: Any, resp: Any) -> None:
    assert w.request.id in {r.id for r in resp.requests}
    assert _under_owner(r.division_code for r in resp.requests)


def _approve_star(w: World, req: pb.StarRequest, tok: str) -> Any:
    return w.com.ApproveStarRequest(
        pb.ApproveStarRequestRequest(id=req.id), metadata=auth(tok)
    )


def _star_approved(w: World, req: pb.StarRequest, resp: Any) -> None:
    assert resp.request.status == pb.STAR_REQUEST_STATUS_APPROVED
    assert resp.stars.stars == 1 and w.stars(req.volunteer_id).stars == 1


def _reject_star(w: World, req: pb.StarRequest, tok: str) -> Any:
    return w.com.RejectStarRequest(
        pb.RejectStarRequestRequest(id=req.id, reason="时长存疑"), metadata=auth(tok)
    )


def _star_rejected(w: World, req: pb.StarRequest, resp: Any) -> None:
    assert w.star_requests()[req.id] == pb.STAR_REQUEST_STATUS_REJECTED
    assert w.stars(req.volunteer_id).stars == 0


def _star_pending(w: World, req: pb.StarRequest) -> None:
    assert w.star_requests()[req.id] == PENDING
    got = w.stars(req.volunteer_id)
    assert got.stars == 0 and got.pending.id == req.id and list(got.history) == []


def _volunteer_stars(w: World, _: Any, tok: str) -> Any:
    return w.com.GetVolunteerStars(
        pb.GetVolunteerStarsRequest(volunteer_id=w.star_vol.id), metadata=auth(tok)
    )


def _awards_of(w: World, _: Any, tok: str) -> Any:
    return w.com.ListAwardsOf(
        pb.ListAwardsOfRequest(volunteer_id=w.star_vol.id), metadata=auth(tok)
    )


def _award_target(w: World) -> tuple[str, tuple[int, float]]:
    """A new award title, and the volunteer's stars and hours before."""
    before = w.stars(w.star_vol.id)
    return f"优秀志愿者-{uuid.uuid4().hex[:8]}", (before.stars, before.total_hours)


def _import_awards(w: World, target: tuple[str, Any], tok: str) -> Any:
    title, _ = target
    return w.com.ImportAwards(
        pb.ImportAwardsRequest(entries=[pb.ImportedAwardEntry(
            volunteer_id=w.star_vol.id, kind="honour", title=title,
            awarded_on="2025-05-04", issuer_platform="matrix-platform",
        )]),
        metadata=auth(tok),
    )  # fmt: skip


def _imported_titles(w: World) -> list[str]:
    got = w.com.ListAwardsOf(
        pb.ListAwardsOfRequest(volunteer_id=w.star_vol.id, include_undated=True),
        metadata=auth(w.own),
    ).awards
    return [a.title for a in got if a.kind == pb.AWARD_KIND_IMPORTED]


def _awards_imported(w: World, target: tuple[str, Any], resp: Any) -> None:
    title, before = target
    assert resp.imported == 1 and title in _imported_titles(w)
    now = w.stars(w.star_vol.id)
    assert (now.stars, now.total_hours) == before  # imported awards change no star


def _awards_not_imported(w: World, target: tuple[str, Any]) -> None:
    assert target[0] not in _imported_titles(w)


def _awards_got(w: World, _: Any, resp: Any) -> None:
    assert resp.volunteer_id == w.star_vol.id


def _stars_got(w: World, _: Any, resp: Any) -> None:
    assert resp.stars.volunteer_id == w.star_vol.id
    assert resp.stars.division_code == TOWN and resp.stars.total_hours == 2.5


def _honours(w: World, _: Any, tok: str) -> Any:
    return w.com.ListHonours(
        pb.ListHonoursRequest(
            division_code=OWNER, kind=pb.HONOUR_KIND_LONG_SERVICE, min_years=1,
            page=PAGE,
        ),
        metadata=auth(tok),
    )  # fmt: skip


def _honours_listed(w: World, _: Any, resp: Any) -> None:
    assert w.star_vol.id in {h.volunteer_id for h in resp.honours}
    assert _under_owner(h.division_code for h in resp.honours)


# bars


def _bar(w: World, before: set[str], tok: str) -> Any:
    return w.bar_volunteer(w.bar_vol.id, tok)


def _barred(w: World, before: set[str], resp: Any) -> None:
    assert resp.bar.division_code == TOWN and resp.bar.years == 1
    assert w.bars_of(w.bar_vol.id) == before | {resp.bar.id}


def _not_barred(w: World, before: set[str]) -> None:
    assert w.bars_of(w.bar_vol.id) == before


def _list_bars(w: World, _: Any, tok: str) -> Any:
    return w.com.ListBars(
        pb.ListBarsRequest(division_code=OWNER, page=PAGE), metadata=auth(tok)
    )


def _bars_listed(w: World, _: Any, resp: Any) -> None:
    assert w.bar.id in {b.id for b in resp.bars}
    assert _under_owner(b.division_code for b in resp.bars)


# rounds


def _open(w: World, _: Any, tok: str) -> Any:
    return w.com.OpenRound(
        pb.OpenRoundRequest(
            division_code=OWNER, title="高陵区优秀志愿者推选", year=w.year,
            categories=CATEGORIES, quota_per_child=3, deadline=w.deadline,
        ),
        metadata=auth(tok),
    )  # fmt: skip


def _opened(w: World, before: set[str], resp: Any) -> None:
    assert resp.round.division_code == OWNER
    assert resp.round.status == pb.ROUND_STATUS_OPEN
    assert w.rounds_at_owner() == before | {resp.round.id}


def _not_opened(w: World, before: set[str]) -> None:
    assert w.rounds_at_owner() == before


def _get_round(w: World, _: Any, tok: str) -> Any:
    return w.com.GetRound(pb.GetRoundRequest(id=w.county_round.id), metadata=auth(tok))


def _round_got(w: World, _: Any, resp: Any) -> None:
    assert resp.round.id == w.county_round.id and resp.round.division_code == OWNER


def _list_rounds(w: World, _: Any, tok: str) -> Any:
    return w.com.ListRounds(
        pb.ListRoundsRequest(division_code=OWNER, page=PAGE), metadata=auth(tok)
    )


def _rounds_listed(w: World, _: Any, resp: Any) -> None:
    ids = {r.id for r in resp.rounds}
    assert {w.county_round.id, w.city_round.id} <= ids
    assert not ids & {w.sib_round.id, w.neighbour_round.id}
    assert all(
        r.division_code.startswith(OWNER) or r.division_code in (CITY, PROVINCE)
        for r in resp.rounds
    )


# nominations


def _nominate(w: World, _: Any, tok: str) -> Any:
    return w.com.Nominate(w.nominate_request(w.county_round.id), metadata=auth(tok))


def _nominated(w: World, before: set[str], resp: Any) -> None:
    n = resp.nomination
    assert n.unit_division_code == TOWN and list(n.stage_codes) == [OWNER]
    assert w.nominations(w.county_round.id) == before | {n.id}


def _not_nominated(w: World, before: set[str]) -> None:
    assert w.nominations(w.county_round.id) == before


def _get_nomination(w: World, _: Any, tok: str) -> Any:
    return w.com.GetNomination(
        pb.GetNominationRequest(id=w.nomination.id), metadata=auth(tok)
    )


def _nomination_got(w: World, _: Any, resp: Any) -> None:
    n = resp.nomination
    assert n.id == w.nomination.id and n.nominee_volunteer_id == w.star_vol.id


def _list_nominations(w: World, _: Any, tok: str) -> Any:
    return w.com.ListNominations(
        pb.ListNominationsRequest(
            round_id=w.county_round.id, division_code=OWNER, page=PAGE
        ),
        metadata=auth(tok),
    )


def _nominations_listed(w: World, _: Any, resp: Any) -> None:
    assert w.nomination.id in {n.id for n in resp.nominations}
    assert _under_owner(n.unit_division_code for n in resp.nominations)


def _review(w: World, n: pb.Nomination, tok: str) -> Any:
    return w.com.ReviewNomination(
        pb.ReviewNominationRequest(id=n.id, decision=pb.DECISION_APPROVE),
        metadata=auth(tok),
    )


def _reviewed(w: World, n: pb.Nomination, resp: Any) -> None:
    got = w.get(n.id).nomination
    assert got.status == pb.NOMINATION_STATUS_APPROVED
    assert [s.division_code for s in got.steps] == [OWNER]


def _still_in_review(w: World, n: pb.Nomination) -> None:
    got = w.get(n.id).nomination
    assert got.status == pb.NOMINATION_STATUS_IN_REVIEW
    assert got.current_stage_code == OWNER and list(got.steps) == []


def _resubmit(w: World, n: pb.Nomination, tok: str) -> Any:
    return w.com.ResubmitNomination(
        pb.ResubmitNominationRequest(id=n.id, statement="已补充服务证明材料。"),
        metadata=auth(tok),
    )


def _resubmitted(w: World, n: pb.Nomination, resp: Any) -> None:
    got = w.get(n.id).nomination
    assert got.status == pb.NOMINATION_STATUS_IN_REVIEW
    assert got.statement == "已补充服务证明材料。"


def _still_returned(w: World, n: pb.Nomination) -> None:
    got = w.get(n.id).nomination
    assert got.status == pb.NOMINATION_STATUS_RETURNED
    assert got.statement == n.statement and got.current_stage_code == ""


def _conflicts(w: World) -> int:
    return w.db_count(
        "SELECT count(*) FROM review_steps WHERE nomination_id=:n "
        "AND decision='conflict'",
        n=w.nomination.id,
    )


def _declare(w: World, _: Any, tok: str) -> Any:
    return w.com.DeclareConflict(
        pb.DeclareConflictRequest(nomination_id=w.nomination.id, reason="系本人亲属"),
        metadata=auth(tok),
    )


def _declared(w: World, before: int, resp: Any) -> None:
    assert resp.nomination.id == w.nomination.id and _conflicts(w) == before + 1


def _not_declared(w: World, before: int) -> None:
    assert _conflicts(w) == before


# notice, objections, award


def _start(w: World, t: tuple[pb.Round, pb.Nomination], tok: str) -> Any:
    return w.start_notice(t[0].id, tok)


def _started(w: World, t: tuple[pb.Round, pb.Nomination], resp: Any) -> None:
    assert resp.round.status == pb.ROUND_STATUS_NOTICE
    assert resp.nominations_in_notice == 1
    assert w.get(t[1].id).nomination.status == pb.NOMINATION_STATUS_IN_NOTICE


def _not_started(w: World, t: tuple[pb.Round, pb.Nomination]) -> None:
    got = w.round(t[0].id)
    assert got.status == pb.ROUND_STATUS_OPEN and got.notice_starts_on == ""
    assert w.get(t[1].id).nomination.status == pb.NOMINATION_STATUS_APPROVED


def _object(w: World, _: Any, tok: str) -> Any:
    return w.file_objection(w.notice_nomination.id, tok)


def _objected(w: World, before: dict[str, int], resp: Any) -> None:
    got = w.objections(w.notice_nomination.id)
    assert set(got) == set(before) | {resp.objection.id}
    assert got[resp.objection.id] == pb.OBJECTION_STATUS_OPEN


def _not_objected(w: World, before: dict[str, int]) -> None:
    assert w.objections(w.notice_nomination.id) == before


def _resolve(w: World, o: pb.Objection, tok: str) -> Any:
    return w.com.ResolveObjection(
        pb.ResolveObjectionRequest(id=o.id, upheld=False, resolution="经核实无误"),
        metadata=auth(tok),
    )


def _resolved(w: World, o: pb.Objection, resp: Any) -> None:
    got = w.objections(w.notice_nomination.id)
    assert got[o.id] == pb.OBJECTION_STATUS_DISMISSED
    nomination = w.get(w.notice_nomination.id).nomination
    assert nomination.status == pb.NOMINATION_STATUS_IN_NOTICE


def _still_open(w: World, o: pb.Objection) -> None:
    assert w.objections(w.notice_nomination.id)[o.id] == pb.OBJECTION_STATUS_OPEN


def _finalize(w: World, t: tuple[pb.Round, pb.Nomination], tok: str) -> Any:
    return w.com.FinalizeRound(
        pb.FinalizeRoundRequest(round_id=t[0].id), metadata=auth(tok)
    )


def _finalized(w: World, t: tuple[pb.Round, pb.Nomination], resp: Any) -> None:
    assert resp.round.status == pb.ROUND_STATUS_FINALIZED and resp.awarded == 1
    assert w.get(t[1].id).nomination.status == pb.NOMINATION_STATUS_AWARDED


def _not_finalized(w: World, t: tuple[pb.Round, pb.Nomination]) -> None:
    got = w.round(t[0].id)
    assert got.status == pb.ROUND_STATUS_NOTICE and got.finalized_at == ""
    assert w.get(t[1].id).nomination.status == pb.NOMINATION_STATUS_IN_NOTICE


def _list_notice(w: World, _: Any, tok: str) -> Any:
    return w.notice(w.notice_round.id, tok)


# What a public notice may show, and nothing else: no ID number, phone,
# evidence, fraud signal, review step or reviewer's comment.
NOTICE_FIELDS = {
    "nomination_id", "category", "nominee_name", "nominee_division_code",
    "unit_name", "unit_division_code", "summary", "notice_ends_on",
}  # fmt: skip


def _notice_listed(w: World, _: Any, resp: Any) -> None:
    assert resp.round.id == w.notice_round.id
    assert resp.round.status == pb.ROUND_STATUS_NOTICE
    entries = {e.nomination_id: e for e in resp.entries}
    assert w.notice_nomination.id in entries
    e = entries[w.notice_nomination.id]
    assert e.nominee_name == w.notice_nomination.nominee_name
    assert e.nominee_name.endswith("*")  # masked
    assert e.nominee_division_code == TOWN and e.unit_division_code == TOWN
    assert e.summary == w.notice_nomination.statement
    assert e.notice_ends_on == resp.round.notice_ends_on != ""
    assert {f.name for f in pb.NoticeEntry.DESCRIPTOR.fields} == NOTICE_FIELDS
    assert w.star_vol.volunteer_number not in str(resp)


def _my_stars(w: World, _: Any, tok: str) -> Any:
    return w.com.GetMyStars(pb.GetMyStarsRequest(), metadata=auth(tok))


def _summarize(w: World, _: Any, tok: str) -> Any:
    return w.com.Summarize(
        pb.SummarizeRequest(query=common.RollupQuery(division_code=OWNER)),
        metadata=auth(tok),
    )


def _summarized(w: World, _: Any, resp: Any) -> None:
    assert resp.rollup.total.division.code == OWNER
    assert resp.rollup.total.metrics["nominations"] >= 1
    assert _under_owner(r.division.code for r in resp.rollup.rows)


SPECS: dict[str, Spec] = {
    "ListStarRequests": Spec(SCOPED, _list_requests, succeeded=_requests_listed),
    "ApproveStarRequest": Spec(
        ROUTED, _approve_star, World.pending_request, _star_approved, _star_pending
    ),
    "RejectStarRequest": Spec(
        ROUTED, _reject_star, World.pending_request, _star_rejected, _star_pending
    ),
    "GetVolunteerStars": Spec(BY_ID, _volunteer_stars, succeeded=_stars_got),
    # A certificate's awards lines (hours asks as the caller).
    "ListAwardsOf": Spec(BY_ID, _awards_of, succeeded=_awards_got),
    # Awards transferred in from another platform (the record import): only
    # for a volunteer at home in the caller's subtree, the batch refused
    # otherwise; never a star.
    "ImportAwards": Spec(
        BY_ID,
        _import_awards,
        _award_target,
        _awards_imported,
        _awards_not_imported,
    ),
    # A volunteer's own account only: no office account, however high
    # (tests/security/test_commendation_self_service.py has the volunteers').
    "GetMyStars": Spec(
        expect(city=PD, province=PD, owner=PD, sibling=PD, neighbour=PD, child=PD),
        _my_stars,
    ),
    "ListHonours": Spec(SCOPED, _honours, succeeded=_honours_listed),
    "BarVolunteer": Spec(
        BY_ID, _bar, lambda w: w.bars_of(w.bar_vol.id), _barred, _not_barred
    ),
    "ListBars": Spec(SCOPED, _list_bars, succeeded=_bars_listed),
    "OpenRound": Spec(SCOPED, _open, World.rounds_at_owner, _opened, _not_opened),
    "GetRound": Spec(expect(child=OK), _get_round, succeeded=_round_got),
    "ListRounds": Spec(SCOPED, _list_rounds, succeeded=_rounds_listed),
    "Nominate": Spec(
        expect(child=PD),  # the round is above the child; the unit is not in it
        _nominate,
        lambda w: w.nominations(w.county_round.id),
        _nominated,
        _not_nominated,
    ),
    "GetNomination": Spec(BY_ID, _get_nomination, succeeded=_nomination_got),
    "ListNominations": Spec(SCOPED, _list_nominations, succeeded=_nominations_listed),
    "ReviewNomination": Spec(
        ROUTED, _review, World.in_review, _reviewed, _still_in_review
    ),
    "ResubmitNomination": Spec(  # the nominating unit only
        ROUTED, _resubmit, World.returned, _resubmitted, _still_returned
    ),
    "DeclareConflict": Spec(BY_ID, _declare, _conflicts, _declared, _not_declared),
    "StartNotice": Spec(ROUND_OWNER, _start, World.ready_round, _started, _not_started),
    "FileObjection": Spec(
        expect(child=OK),  # the notice is public to the round's whole subtree
        _object,
        lambda w: w.objections(w.notice_nomination.id),
        _objected,
        _not_objected,
    ),
    "ResolveObjection": Spec(
        ROUTED, _resolve, World.open_objection, _resolved, _still_open
    ),
    "FinalizeRound": Spec(
        ROUND_OWNER, _finalize, World.ended_round, _finalized, _not_finalized
    ),
    "ListNotice": Spec(
        expect(child=OK),  # the notice is public to the round's whole subtree
        _list_notice,
        succeeded=_notice_listed,
    ),
    "Summarize": Spec(SCOPED, _summarize, succeeded=_summarized),
    "SummarizeFederated": Spec(
        SCOPED,
        lambda w, _, tok: w.com.SummarizeFederated(
            pb.SummarizeFederatedRequest(query=common.RollupQuery(division_code=OWNER)),
            metadata=auth(tok),
        ),
        succeeded=federated_read(OWNER, "nominations"),
    ),
}

SPECS = with_national(SPECS)
MATRIX = params(SPECS, CALLERS)


def test_every_rpc_is_in_the_matrix() -> None:
    assert rpc_names(pb, "CommendationService") == set(SPECS)


@pytest.mark.parametrize(("rpc", "who"), MATRIX)
def test_isolation(w: World, rpc: str, who: str) -> None:
    # A NOT_FOUND refusal does not say where the entity lives.
    check_isolation(
        w, SPECS[rpc], rpc, who, caller=w.caller, not_revealed=(OWNER, TOWN)
    )


# -- beyond the matrix -------------------------------------------------------------


@pytest.mark.parametrize("rpc", sorted(SPECS))
def test_every_call_needs_a_token(w: World, rpc: str) -> None:
    check_needs_a_token(w.com, pb, rpc)


@pytest.mark.parametrize(
    ("rpc", "field"),
    [
        ("GetNomination", "id"),
        ("GetRound", "id"),
        ("GetVolunteerStars", "volunteer_id"),
    ],
)
def test_another_tenants_entity_is_indistinguishable_from_a_missing_one(
    w: World, rpc: str, field: str
) -> None:
    real = {
        "GetNomination": w.nomination.id,
        "GetRound": w.county_round.id,
        "GetVolunteerStars": w.star_vol.id,
    }[rpc]
    missing = str(uuid.uuid4())
    md = auth(w.caller("sibling"))

    def call(ident: str) -> Any:
        request = getattr(pb, f"{rpc}Request")(**{field: ident})
        return getattr(w.com, rpc)(request, metadata=md)

    # Commendation reads trailers leniently (none at all reads as empty).
    check_indistinguishable(call, real, missing, trailers=trailers)


def test_a_round_of_one_city_is_invisible_in_the_next(w: World) -> None:
    far = w.token(FAR)  # a county of Tongchuan
    for tok, hidden in ((far, w.city_round.id), (w.own, w.neighbour_round.id)):
        status, _ = outcome(
            lambda t=tok, r=hidden: w.com.GetRound(
                pb.GetRoundRequest(id=r), metadata=auth(t)
            )
        )
        assert status == NF
        listed = w.com.ListRounds(pb.ListRoundsRequest(page=PAGE), metadata=auth(tok))
        assert hidden not in {r.id for r in listed.rounds}
    # Within Xi'an, another county sees the city's round: it may nominate into it.
    sibling = auth(w.token(SIBLING))
    got = w.com.GetRound(pb.GetRoundRequest(id=w.city_round.id), metadata=sibling)
    assert got.round.division_code == CITY
    listed = w.com.ListRounds(pb.ListRoundsRequest(page=PAGE), metadata=sibling)
    assert w.city_round.id in {r.id for r in listed.rounds}
    assert w.county_round.id not in {r.id for r in listed.rounds}


def _refused_nomination(
    w: World, round_id: str, tok: str, code: Any, field: str, **over: Any
) -> None:
    before = w.db_count(
        "SELECT count(*) FROM nominations WHERE round_id=:r", r=round_id
    )
    with pytest.raises(grpc.RpcError) as err:
        w.com.Nominate(w.nominate_request(round_id, **over), metadata=auth(tok))
    assert err.value.code() == code, err.value.details()
    assert "Traceback" not in err.value.details()
    assert trailers(err.value).get("zhiyuan-field", "") == field
    after = w.db_count("SELECT count(*) FROM nominations WHERE round_id=:r", r=round_id)
    assert after == before


def test_nothing_is_nominated_into_a_neighbours_round(w: World) -> None:
    _refused_nomination(w, w.sib_round.id, w.own, NF, "", unit_division_code=OWNER)
    _refused_nomination(
        w, w.neighbour_round.id, w.token(CITY), NF, "", unit_division_code=TOWN
    )


def test_nothing_is_nominated_for_a_unit_outside_scope(w: World) -> None:
    rid = w.city_round.id
    _refused_nomination(
        w, rid, w.own, PD, "unit_division_code", unit_division_code=SIB_TOWN
    )
    _refused_nomination(
        w, rid, w.own, NF, "unit_organisation_id", unit_organisation_id=w.sib_org.id
    )
    # An organisation the city can see, but not of the nominating township.
    _refused_nomination(
        w, rid, w.token(CITY), grpc.StatusCode.INVALID_ARGUMENT,
        "unit_organisation_id", unit_organisation_id=w.sib_org.id,
    )  # fmt: skip


def test_nothing_is_nominated_for_a_nominee_outside_scope(w: World) -> None:
    rid = w.city_round.id
    _refused_nomination(
        w, rid, w.own, NF, "nominee_volunteer_id", nominee_volunteer_id=w.sib_vol.id
    )
    collective = dict(
        category="collective", nominee_volunteer_id="", nominee_name="临潼区志愿服务站"
    )
    _refused_nomination(
        w, rid, w.own, PD, "nominee_division_code",
        nominee_division_code=SIBLING, **collective,
    )  # fmt: skip
    # The city sees both counties, but a county's round is for its own subtree.
    _refused_nomination(
        w, w.county_round.id, w.token(CITY), PD, "nominee_division_code",
        nominee_division_code=SIBLING, **collective,
    )  # fmt: skip
    _refused_nomination(
        w, w.county_round.id, w.token(CITY), PD, "nominee_volunteer_id",
        nominee_volunteer_id=w.sib_vol.id,
    )  # fmt: skip


def test_a_volunteer_outside_scope_cannot_be_barred(w: World) -> None:
    def bars() -> int:
        return w.db_count(
            "SELECT count(*) FROM bars WHERE volunteer_id=:v", v=w.sib_vol.id
        )

    before = bars()
    for tok in (w.own, w.token(NEIGHBOUR)):
        status, err = outcome(lambda t=tok: w.bar_volunteer(w.sib_vol.id, t))
        assert status == NF, err
        assert trailers(err).get("zhiyuan-field") == "volunteer_id"
        assert SIBLING not in err.details()
    assert bars() == before


def test_objections_are_open_to_the_rounds_subtree_only(w: World) -> None:
    nid = w.city_notice_nomination.id
    before = w.objections(nid)
    for who in (w.token(FAR), w.token(NEIGHBOUR), w.token("62")):
        status, err = outcome(lambda t=who: w.file_objection(nid, t))
        assert status == NF, err
        assert OWNER not in err.details() and TOWN not in err.details()
    assert w.objections(nid) == before
    # Lintong lies in Xi'an's round: the notice is public to it.
    got = w.file_objection(nid, w.token(SIBLING)).objection
    assert w.objections(nid) == {**before, got.id: pb.OBJECTION_STATUS_OPEN}


def test_the_notice_is_public_to_the_rounds_area_only(w: World) -> None:
    rid, nid = w.city_notice_round.id, w.city_notice_nomination.id
    # Outside Xi'an: as if the round did not exist.
    for who in (w.token(FAR), w.token(NEIGHBOUR), w.token("62")):
        status, err = outcome(lambda t=who: w.notice(rid, t))
        assert status == NF, err
        assert CITY not in err.details() and OWNER not in err.details()
    # Lintong lies in Xi'an's round: it sees Gaoling's nomination on notice,
    # although Gaoling's nominations are outside its own scope.
    got = w.notice(rid, w.token(SIBLING))
    assert [e.nomination_id for e in got.entries] == [nid]
    assert got.entries[0].unit_division_code == TOWN
    status, _ = outcome(
        lambda: w.com.GetNomination(
            pb.GetNominationRequest(id=nid), metadata=auth(w.token(SIBLING))
        )
    )
    assert status == NF  # the notice shows no more than the notice
    # Any role reads it, a volunteer of a village deep below too.
    village = w.token(f"{TOWN}001", "volunteer", username="gaoling-resident")
    assert [e.nomination_id for e in w.notice(rid, village).entries] == [nid]


def test_a_round_not_on_notice_lists_nothing(w: World) -> None:
    got = w.notice(w.county_round.id, w.own)
    assert got.round.status == pb.ROUND_STATUS_OPEN
    assert list(got.entries) == [] and got.page.total_size == 0
    # Once the notice has ended, the board is taken down.
    r, n = w.ended_round()
    assert w.get(n.id).nomination.status == pb.NOMINATION_STATUS_IN_NOTICE
    assert list(w.notice(r.id, w.own).entries) == []


# -- roles ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "refused"),
    [
        pytest.param(
            "volunteer",
            ["OpenRound", "Nominate", "ReviewNomination", "ApproveStarRequest",
             "RejectStarRequest", "DeclareConflict", "StartNotice"],
            id="volunteer",
        ),
        pytest.param(
            "org_leader",  # a manager: nominates, but does not review
            ["OpenRound", "ReviewNomination", "ApproveStarRequest",
             "RejectStarRequest", "DeclareConflict", "StartNotice"],
            id="org_leader",
        ),
    ],
)  # fmt: skip
def test_roles_without_the_right_are_refused(
    w: World, role: str, refused: list[str]
) -> None:
    n, req, ready = w.in_review(), w.pending_request(), w.ready_round()
    attempts: dict[str, Callable[[str], Any]] = {
        "OpenRound": lambda tok: _open(w, None, tok),
        "Nominate": lambda tok: _nominate(w, None, tok),
        "ReviewNomination": lambda tok: _review(w, n, tok),
        "ApproveStarRequest": lambda tok: _approve_star(w, req, tok),
        "RejectStarRequest": lambda tok: _reject_star(w, req, tok),
        "DeclareConflict": lambda tok: _declare(w, None, tok),
        "StartNotice": lambda tok: _start(w, ready, tok),
    }
    before = (w.rounds_at_owner(), w.nominations(w.county_round.id), _conflicts(w))
    tok = w.token(OWNER, role, username=f"gaoling-{role}")
    for rpc in refused:
        status, err = outcome(lambda r=rpc: attempts[r](tok))
        assert status == PD, f"{rpc} by {role}: {status}"
        assert "Traceback" not in err.details()
    after = (w.rounds_at_owner(), w.nominations(w.county_round.id), _conflicts(w))
    assert after == before
    _still_in_review(w, n)
    _star_pending(w, req)
    _not_started(w, ready)


def test_a_reviewer_decides_but_neither_opens_nor_nominates(w: World) -> None:
    """reviewer is not a manager: it reviews the county's stage, nothing more."""
    tok = w.token(OWNER, "reviewer", username="gaoling-reviewer")
    before = (w.rounds_at_owner(), w.nominations(w.county_round.id))
    for act in (_open, _nominate):
        status, _ = outcome(lambda a=act: a(w, None, tok))
        assert status == PD
    assert (w.rounds_at_owner(), w.nominations(w.county_round.id)) == before
    n = w.in_review()
    got = _review(w, n, tok).nomination
    assert got.status == pb.NOMINATION_STATUS_APPROVED
    assert got.steps[-1].reviewer == "gaoling-reviewer"


def test_an_objection_to_a_nomination_not_on_notice_reveals_nothing(
    w: World,
) -> None:
    """Before its notice a nomination is not public: Lintong, which would see
    it on Xi'an's notice, is told it does not exist; Gaoling, whose own it
    is, is told why it cannot be objected to yet."""
    n = w.nominate(w.city_round.id)
    status, err = outcome(lambda: w.file_objection(n.id, w.token(SIBLING)))
    assert status == NF, err
    assert OWNER not in err.details() and TOWN not in err.details()
    status, err = outcome(lambda: w.file_objection(n.id, w.own))
    assert status == grpc.StatusCode.FAILED_PRECONDITION, err
    assert trailers(err).get("zhiyuan-rule") == "objection.notice"
    assert w.objections(n.id) == {}


def test_a_conflict_is_declared_once_and_only_while_under_review(w: World) -> None:
    n = w.nominate(w.county_round.id)
    tok = w.token(OWNER, "reviewer", username="yanta-reviewer-kin")

    def conflicts() -> int:
        return w.db_count(
            "SELECT count(*) FROM review_steps WHERE nomination_id=:n "
            "AND decision='conflict'",
            n=n.id,
        )

    for _ in range(2):  # a double click records one declaration
        w.com.DeclareConflict(
            pb.DeclareConflictRequest(nomination_id=n.id, reason="系本人亲属"),
            metadata=auth(tok),
        )
    assert conflicts() == 1
    # Once decided there is nothing left to recuse from.
    decided = w.nominate(w.county_round.id)
    w.com.ReviewNomination(
        pb.ReviewNominationRequest(
            id=decided.id, decision=pb.DECISION_REJECT, comment="事迹不实"
        ),
        metadata=auth(w.token(OWNER, "reviewer", username="yanta-reviewer-other")),
    )
    status, err = outcome(
        lambda: w.com.DeclareConflict(
            pb.DeclareConflictRequest(nomination_id=decided.id, reason="亲属"),
            metadata=auth(tok),
        )
    )
    assert status == grpc.StatusCode.FAILED_PRECONDITION, err
    assert trailers(err).get("zhiyuan-rule") == "state.transition"


# -- an org_leader nominates for its own organisation only ---------------------------


def test_org_leader_nominates_only_for_its_own_organisation(w: World) -> None:
    a, b = (
        w.reg.CreateOrganisation(
            reg.CreateOrganisationRequest(
                name=f"高陵区志愿服务队{uuid.uuid4().hex[:6]}",
                kind=reg.ORGANISATION_KIND_ORGANISATION,
                division_code=TOWN,
            ),
            metadata=auth(w.own),
        ).organisation
        for _ in range(2)
    )
    leader = w.token(OWNER, "org_leader", username="gaoling-leader-a", org=a.id)
    rid = w.county_round.id
    for other in (b.id, ""):  # another unit, or the division office itself
        _refused_nomination(
            w, rid, leader, PD, "unit_organisation_id", unit_organisation_id=other
        )
    unbound = w.token(OWNER, "org_leader", username="gaoling-leader-unbound")
    _refused_nomination(
        w, rid, unbound, PD, "unit_organisation_id", unit_organisation_id=a.id
    )
    n = w.nominate(rid, leader, unit_organisation_id=a.id)
    assert n.unit_organisation_id == a.id
