"""Commendation's rules through its use cases, in memory: the kernel's fake
unit of work (events and rollup bumps kept in lists, dropped when a unit
raises) and an in-memory repository (``commendation_fakes``). The same
rules are proven through gRPC and PostgreSQL in the integration tier; here
each runs in milliseconds."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.commendation.application import CommendationApp
from services.commendation.domain import Progress
from services.commendation.models import (
    ROLLUP,
    AwardRound,
    Nomination,
    StarRequest,
)
from services.commendation.queries import CommendationQueries, MyStars
from services.commendation.usecases.ratings import HoursNews
from services.commendation.validation import NominationInput
from services.common.auth import Principal
from services.common.errors import FailedPrecondition, PermissionDenied
from services.common.rollup import month_of
from services.common.unit_of_work import TransactionalFakeUnitOfWork
from tests.unit.commendation_fakes import (
    FakeRepository,
    FakeStore,
)

NOW = datetime(2026, 5, 6, 2, 0, tzinfo=UTC)
TODAY = date(2026, 5, 6)
MONTH = month_of(NOW)
HOME = "610113001"  # a township of a county (610113) of a city (6101)
VID = "v-1"
HOURS = "commendation.hours"
ROUND = "0b7f3a52-6c1e-4d1a-9a53-6f0f3f1f2a10"


@dataclass
class Kit:
    store: FakeStore
    uow: TransactionalFakeUnitOfWork
    app: CommendationApp

    def types(self) -> list[str]:
        return [t for t, _, _ in self.uow.events]

    def bump(self, code: str, metric: str) -> float:
        return self.uow.bumps.get((ROLLUP.table_name, code, MONTH, metric), 0)


class FakeFacts:
    def projects_in(self, code: str) -> int:
        return 3


@pytest.fixture
def kit() -> Kit:
    store = FakeStore()
    store.homes[VID] = HOME  # the volunteer's registration has arrived
    uow = TransactionalFakeUnitOfWork(store, NOW)
    app = CommendationApp(
        None,  # type: ignore[arg-type]  # no database: the fakes stand in
        FakeFacts(),  # type: ignore[arg-type]
        uow.clock,
        lambda: TODAY,
        uow=uow,
        repository=lambda work: FakeRepository(store, work.scope),  # type: ignore[arg-type,return-value]
    )
    return Kit(store, uow, app)


def who(scope: str, *roles: str, subject: str = "") -> Principal:
    return Principal(subject or f"s-{scope}", f"u-{scope}", scope, frozenset(roles), 0)


def follow(kit: Kit, total: float, delta: float, minutes: int = 0) -> bool:
    news = HoursNews(
        VID, "N-1", HOME, 2026, Decimal(str(delta)), Decimal(str(total)),
        NOW + timedelta(minutes=minutes),
    )  # fmt: skip
    return kit.app.stars.follow_hours(HOURS, f"e-{uuid.uuid4()}", news)


def requests(kit: Kit, status: str = "pending") -> list[StarRequest]:
    return [r for r in kit.store.of(StarRequest) if r.status == status]


# -- star thresholds ---------------------------------------------------------------
def test_reaching_a_tier_opens_one_request_at_the_tiers_level(kit: Kit) -> None:
    assert follow(kit, 99, 99)
    assert requests(kit) == [] and kit.store.ratings[VID].eligible_stars == 0
    follow(kit, 120, 21, minutes=1)
    (one,) = requests(kit)
    assert (one.stars, one.approval_level, one.approving_code) == (
        1,
        "county",
        "610113",
    )
    follow(kit, 650, 530, minutes=2)  # past 2 and 3 stars at once
    (three,) = requests(kit)
    assert (three.stars, three.approval_level, three.approving_code) == (
        3,
        "city",
        "6101",
    )
    assert requests(kit, "superseded") == [one]
    assert kit.types() == ["commendation.star_request.opened"] * 2
    assert kit.store.ratings[VID].stars == 0  # only a reviewer grants stars


def test_the_same_event_twice_changes_nothing(kit: Kit) -> None:
    news = HoursNews(VID, "N-1", HOME, 2026, Decimal(150), Decimal(150), NOW)
    assert kit.app.stars.follow_hours(HOURS, "e-1", news)
    assert not kit.app.stars.follow_hours(HOURS, "e-1", news)
    assert len(requests(kit)) == 1 and len(kit.uow.events) == 1
    assert kit.store.years == {(VID, 2026): Decimal(150)}


def test_an_older_event_does_not_move_the_total_back(kit: Kit) -> None:
    follow(kit, 320, 320, minutes=5)
    follow(kit, 150, 150, minutes=1)  # announced earlier, delivered later
    assert kit.store.ratings[VID].total_hours == Decimal(320)
    assert [r.stars for r in requests(kit)] == [2]


def test_a_tenants_thresholds_and_levels_apply_below_it(kit: Kit) -> None:
    kit.store.overrides["6101"] = {
        "stars.thresholds_hours": "[10, 20, 30, 40, 50]",
        "stars.approval_level": '{"1": "city", "2": "city", "3": "city",'
        ' "4": "province", "5": "province"}',
    }
    follow(kit, 25, 25)
    (req,) = requests(kit)
    assert (req.stars, req.approving_code) == (2, "6101")


def test_a_refused_tier_is_not_asked_again_until_the_next(kit: Kit) -> None:
    follow(kit, 150, 150)
    (req,) = requests(kit)
    kit.app.star_review.reject_star(
        who("610113", "reviewer"), req.id, "hours look padded"
    )
    follow(kit, 250, 100, minutes=1)  # still one star: no new request
    assert requests(kit) == []
    follow(kit, 320, 70, minutes=2)
    assert [r.stars for r in requests(kit)] == [2]


def _approved_two_stars(kit: Kit) -> None:
    follow(kit, 150, 150)
    kit.app.star_review.approve_star(who("610113", "reviewer"), requests(kit)[0].id)
    follow(kit, 320, 170, minutes=1)
    kit.app.star_review.approve_star(who("610113", "reviewer"), requests(kit)[0].id)
    assert kit.store.ratings[VID].stars == 2


def test_approval_grants_the_stars_and_counts_them(kit: Kit) -> None:
    _approved_two_stars(kit)
    assert kit.bump(HOME, "stars_1") == 0  # up to 1, then on to 2
    assert kit.bump(HOME, "stars_2") == 1
    assert kit.bump(HOME, "star_approvals") == 2
    assert kit.types().count("commendation.stars.approved") == 2


def test_only_the_tiers_level_approves(kit: Kit) -> None:
    follow(kit, 650, 650)
    req = requests(kit)[0]  # three stars: the city's
    with pytest.raises(PermissionDenied) as err:
        kit.app.star_review.approve_star(who("610113", "reviewer"), req.id)
    assert err.value.rule == "stars.approval_level"
    assert req.status == "pending" and not kit.uow.committed


def test_approval_rechecks_hours_corrected_since_the_request(kit: Kit) -> None:
    follow(kit, 150, 150)
    req = requests(kit)[0]
    kit.store.ratings[VID].total_hours = Decimal(80)  # as if read before a fix
    events = len(kit.uow.events)
    with pytest.raises(FailedPrecondition) as err:
        kit.app.star_review.approve_star(who("610113", "reviewer"), req.id)
    assert err.value.rule == "stars.hours_reached"
    assert req.status == "pending" and len(kit.uow.events) == events


def test_a_correction_below_approved_stars_lowers_them(kit: Kit) -> None:
    _approved_two_stars(kit)
    follow(kit, 150, -170, minutes=5)
    rating = kit.store.ratings[VID]
    assert (rating.stars, rating.eligible_stars) == (1, 1)
    assert kit.bump(HOME, "stars_2") == 0 and kit.bump(HOME, "stars_1") == 1
    assert kit.types()[-1] == "commendation.stars.lowered_by_correction"
    assert requests(kit) == []


def test_a_correction_withdraws_a_request_it_no_longer_reaches(kit: Kit) -> None:
    follow(kit, 150, 150)
    follow(kit, 90, -60, minutes=1)
    assert requests(kit) == []
    (gone,) = requests(kit, "withdrawn")
    assert gone.reason == "a correction lowered the hours"


# -- nominations: the quota of each child unit ---------------------------------------
def _round(kit: Kit, quota: int = 1) -> AwardRound:
    r = AwardRound(
        id=ROUND, division_code="6101", title="2026 city awards", year=2026,
        categories=["individual", "collective"], quota_per_child=quota,
        deadline=TODAY + timedelta(days=30), notice_working_days=5,
        status="open", notice_starts_on=None, notice_ends_on=None,
        created_by="u", created_at=NOW, finalized_at=None,
    )  # fmt: skip
    kit.store.rows.append(r)
    return r


def _nominate(kit: Kit, unit: str, key: str) -> Nomination:
    req = NominationInput(
        round_id=ROUND, category="collective", unit_division_code=unit,
        unit_organisation_id="", nominee_volunteer_id="", nominee_name="A team",
        nominee_division_code=unit, statement="ten years of river patrols",
        request_id=key,
    )  # fmt: skip
    return kit.app.rounds.nominate(
        who(unit[:6], "tenant_admin", subject=f"n-{key}"), req
    )


def _pass_county(kit: Kit, n: Nomination) -> Nomination:
    return kit.app.review.review(who(n.stage_codes[0], "reviewer"), n.id, "approve", "")


def test_a_nomination_is_reviewed_by_every_level_up_to_the_round(kit: Kit) -> None:
    _round(kit)
    n = _nominate(kit, "610113001", "k1")
    assert (n.stage_codes, n.current_stage, n.child_code) == (
        ["610113", "6101"], "610113", "610113",
    )  # fmt: skip
    assert kit.bump("610113001", "nominations") == 1
    assert _nominate(kit, "610113001", "k1") is n  # the same submission again
    _pass_county(kit, n)
    assert (n.current_stage, n.at_round_level) == ("6101", True)
    kit.app.review.review(who("6101", "reviewer"), n.id, "approve", "")
    assert n.status == "approved"


def test_a_child_unit_passes_at_most_its_quota_up(kit: Kit) -> None:
    _round(kit, quota=1)
    first = _nominate(kit, "610113001", "k1")
    second = _nominate(kit, "610113002", "k2")  # same county: same child unit
    other = _nominate(kit, "610114001", "k3")
    _pass_county(kit, first)
    events = len(kit.uow.events)
    with pytest.raises(FailedPrecondition) as err:
        _pass_county(kit, second)
    assert err.value.rule == "round.quota"
    # Nothing half-written: the step, the stage and the event are gone.
    assert (second.stage_index, second.current_stage) == (0, "610113")
    assert len(kit.uow.events) == events
    _pass_county(kit, other)  # another county has its own place
    assert other.at_round_level


def test_a_rejected_nomination_gives_its_place_back(kit: Kit) -> None:
    _round(kit, quota=1)
    first = _nominate(kit, "610113001", "k1")
    second = _nominate(kit, "610113002", "k2")
    _pass_county(kit, first)
    kit.app.review.review(who("6101", "reviewer"), first.id, "reject", "not enough")
    _pass_county(kit, second)
    assert second.at_round_level and not first.at_round_level


def test_reviewers_step_aside_from_their_own_unit_and_declared_conflicts(
    kit: Kit,
) -> None:
    _round(kit)
    n = _nominate(kit, "610113", "k1")  # the county office's own nomination
    assert n.stage_codes == ["6101"]  # it does not review itself
    reviewer = who("6101", "reviewer", subject="r-1")
    kit.app.review.declare_conflict(reviewer, n.id, "my sister's team")
    kit.app.review.declare_conflict(reviewer, n.id, "said twice, recorded once")
    with pytest.raises(PermissionDenied) as err:
        kit.app.review.review(reviewer, n.id, "approve", "")
    assert err.value.rule == "review.recusal"
    kit.app.review.review(who("6101", "reviewer", subject="r-2"), n.id, "approve", "")
    assert n.status == "approved"


def test_nominations_close_at_the_deadline(kit: Kit) -> None:
    r = _round(kit)
    r.deadline = TODAY - timedelta(days=1)
    with pytest.raises(FailedPrecondition) as err:
        _nominate(kit, "610113001", "k1")
    assert err.value.rule == "round.deadline"
    assert kit.store.of(Nomination) == [] and kit.uow.bumps == {}


def test_the_rounds_own_unit_cannot_nominate_into_it(kit: Kit) -> None:
    _round(kit)
    with pytest.raises(FailedPrecondition) as err:
        kit.app.rounds.nominate(
            who("6101", "tenant_admin"),
            NominationInput(ROUND, "collective", "6101", "", "", "x", "6101", "s", "k"),
        )
    assert err.value.rule == "nomination.own_round"


# -- a volunteer's own stars (GetMyStars) ---------------------------------------------
def mine(kit: Kit, vid: str = VID, roles: tuple[str, ...] = ("volunteer",)) -> MyStars:
    p = Principal("a-1", "V1", HOME, frozenset(roles), 0, volunteer_id=vid)
    return CommendationQueries(kit.app.ctx).my_stars(p)


def test_my_stars_before_any_hours_show_the_first_star_of_my_home(kit: Kit) -> None:
    kit.store.homes[VID] = HOME
    kit.store.overrides["6101"] = {"stars.thresholds_hours": "[10, 20, 30, 40, 50]"}
    got = mine(kit)
    assert (got.stars, got.hours, got.pending, got.awards) == (0, 0, None, [])
    assert got.progress == Progress(1, Decimal(10), Decimal(10), 0.0)


def test_my_stars_follow_the_hours_a_request_and_its_approval(kit: Kit) -> None:
    follow(kit, 50, 50)
    assert mine(kit).progress == Progress(1, Decimal(100), Decimal(50), 0.5)
    follow(kit, 150, 100, minutes=1)  # past one star: a request awaits review
    got = mine(kit)
    assert got.stars == 0 and got.pending is not None and got.pending.stars == 1
    assert got.progress == Progress(1, Decimal(100), Decimal(0), 1.0)
    kit.app.star_review.approve_star(who("610113", "reviewer"), got.pending.id)
    got = mine(kit)
    assert (got.stars, got.hours, got.pending) == (1, Decimal(150), None)
    assert got.progress == Progress(2, Decimal(300), Decimal(150), 0.25)


def test_my_stars_at_five_stars_have_no_next_star(kit: Kit) -> None:
    follow(kit, 1600, 1600)
    kit.store.ratings[VID].stars = 5
    assert mine(kit).progress == Progress(0, Decimal(0), Decimal(0), 1.0)


def test_my_honours_are_my_awards_in_finished_rounds_only(kit: Kit) -> None:
    r = _round(kit)
    later = AwardRound(
        **{**{c: getattr(r, c) for c in ("division_code", "year", "categories",
           "quota_per_child", "deadline", "notice_working_days", "created_by",
           "created_at")}, "id": "r-2", "title": "open round", "status": "notice",
           "notice_starts_on": None, "notice_ends_on": None, "finalized_at": None},
    )  # fmt: skip
    kit.store.rows.append(later)
    r.status, r.finalized_at = "finalized", NOW

    def nominee(ident: str, rnd: AwardRound, vid: str, status: str) -> None:
        kit.store.rows.append(Nomination(
            id=ident, round_id=rnd.id, round_division_code=rnd.division_code,
            category="individual", division_code="610113", unit_name="雁塔区文明办",
            nominee_volunteer_id=vid, status=status,
        ))  # fmt: skip

    nominee("n-mine", r, VID, "awarded")
    nominee("n-withdrawn", r, VID, "withdrawn")
    nominee("n-theirs", r, "v-2", "awarded")
    nominee("n-on-notice", later, VID, "in_notice")
    assert [(n.id, rnd.id) for n, rnd in mine(kit).awards] == [("n-mine", ROUND)]


@pytest.mark.parametrize(
    ("vid", "roles"),
    [(VID, ("tenant_admin",)), ("", ("volunteer",)), (VID, ("reviewer", "org_leader"))],
)
def test_my_stars_are_only_for_a_volunteers_own_account(
    kit: Kit, vid: str, roles: tuple[str, ...]
) -> None:
    follow(kit, 150, 150)
    with pytest.raises(PermissionDenied) as err:
        mine(kit, vid, roles)
    assert err.value.rule == "volunteer.own"
