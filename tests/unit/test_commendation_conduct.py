"""A volunteer's conduct record in commendation (issue 14, part 2): the pure
rules of :mod:`services.commendation.conduct` and, in memory, what a poor
evaluation blocks through the use cases (the kernel's fake unit of work and
``commendation_fakes``). PostgreSQL and the embedded SQLite are the
integration tier's (``test_commendation_conduct``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.commendation import conduct, events
from services.commendation.application import CommendationApp
from services.commendation.clients import HoursFacts, Nominee
from services.commendation.conduct import ComplaintNews, EvaluationNews
from services.commendation.models import AwardRound, Nomination, StarRequest
from services.commendation.usecases.ratings import HoursNews
from services.commendation.validation import NominationInput
from services.common.auth import Principal
from services.common.errors import (
    TRANSIENT,
    FailedPrecondition,
    InvalidArgument,
    Unavailable,
    failure_kind,
)
from services.common.outbox import Envelope
from services.common.unit_of_work import TransactionalFakeUnitOfWork
from tests.unit.commendation_fakes import FakeRepository, FakeStore

NOW = datetime(2026, 5, 6, 2, 0, tzinfo=UTC)
TODAY = date(2026, 5, 6)
HOME = "610113001"
VID = "v-1"
ROUND = "0b7f3a52-6c1e-4d1a-9a53-6f0f3f1f2a10"


# -- the pure rules ----------------------------------------------------------------
def test_the_later_evaluation_of_a_record_replaces_whatever_order_they_come() -> None:
    assert conduct.replaces(0, NOW, 1, NOW - timedelta(hours=1))
    assert not conduct.replaces(1, NOW, 0, NOW + timedelta(hours=1))
    assert conduct.replaces(1, NOW, 1, NOW + timedelta(seconds=1))  # time: a tie
    assert not conduct.replaces(1, NOW, 1, NOW)  # the same one again


def test_a_complaint_only_moves_forward() -> None:
    assert conduct.complaint_moves("open", "replied")
    assert conduct.complaint_moves("replied", "upheld")
    assert conduct.complaint_moves("open", "dismissed")
    assert not conduct.complaint_moves("upheld", "open")
    assert not conduct.complaint_moves("dismissed", "replied")
    assert not conduct.complaint_moves("upheld", "dismissed")


def test_only_poor_evaluations_block_and_only_what_can_be_blocked() -> None:
    assert conduct.blocks([]) == frozenset()
    assert conduct.blocks([(False, ["stars"])]) == frozenset()
    got = conduct.blocks([(True, ["stars"]), (True, ["nominations", "bonus"])])
    assert got == frozenset({"stars", "nominations"})


def test_standing_counts_poor_records_averages_and_complaints_by_outcome() -> None:
    s = conduct.standing(
        [(5, False), (1, True), (4, False)],
        ["open", "replied", "upheld", "dismissed", "dismissed"],
    )
    assert (s.evaluated_records, s.poor_records, s.average_score) == (3, 1, 3.33)
    assert (s.complaints_upheld, s.complaints_dismissed, s.complaints_open) == (
        1,
        2,
        2,
    )
    assert conduct.standing([], []).as_evidence() == {
        "evaluated_records": 0, "poor_evaluations": 0, "average_score": 0.0,
        "complaints_upheld": 0, "complaints_dismissed": 0, "complaints_open": 0,
    }  # fmt: skip


# -- through the use cases, in memory ----------------------------------------------
class FakeFacts:
    def nominee(self, volunteer_id: str) -> Nominee:
        return Nominee(volunteer_id, "N-1", "李*", HOME)

    def hours_of(self, volunteer_id: str) -> HoursFacts:
        return HoursFacts(approved_hours=120.0, approved_records=3)


@dataclass
class Kit:
    store: FakeStore
    uow: TransactionalFakeUnitOfWork
    app: CommendationApp

    def requests(self, status: str = "pending") -> list[StarRequest]:
        return [r for r in self.store.of(StarRequest) if r.status == status]


@pytest.fixture
def kit() -> Kit:
    store = FakeStore()
    uow = TransactionalFakeUnitOfWork(store, NOW)
    app = CommendationApp(
        None,  # type: ignore[arg-type]  # no database: the fakes stand in
        FakeFacts(),  # type: ignore[arg-type]
        uow.clock,
        lambda: TODAY,
        uow=uow,
        repository=lambda work: FakeRepository(store, work.scope),  # type: ignore[arg-type,return-value]
    )
    store.homes[VID] = HOME
    return Kit(store, uow, app)


def hours(kit: Kit, total: float, minutes: int = 0) -> None:
    news = HoursNews(
        VID, "N-1", HOME, 2026, Decimal(str(total)), Decimal(str(total)),
        NOW + timedelta(minutes=minutes),
    )  # fmt: skip
    assert kit.app.stars.follow_hours("c.hours", f"h-{total}-{minutes}", news)


def evaluate(
    kit: Kit, score: int, replaced: int = 0, blocks: tuple[str, ...] = ("stars",),
    record: str = "r-1", event: str = "",
) -> bool:  # fmt: skip
    news = EvaluationNews(
        record_id=record, volunteer_id=VID, volunteer_number="N-1",
        division_code="610113002", score=score, poor=score <= 2,
        poor_blocks=blocks, replaced=replaced,
        occurred_at=NOW + timedelta(minutes=10 + replaced),
    )  # fmt: skip
    event = event or f"e-{record}-{replaced}"
    return kit.app.conduct.follow_evaluation("c.evaluations", event, news)


def test_a_poor_evaluation_that_blocks_stars_holds_the_request(kit: Kit) -> None:
    assert evaluate(kit, 1)
    hours(kit, 150)
    assert kit.requests() == []
    rating = kit.store.ratings[VID]
    assert rating.eligible_stars == 1 and rating.held_reason == conduct.HELD_STARS
    # Re-evaluated to a good score: the evaluation's own reconcile asks.
    assert evaluate(kit, 4, replaced=1)
    (asked,) = kit.requests()
    assert asked.stars == 1 and rating.held_reason == ""


def test_an_evaluation_before_the_volunteers_replica_waits_for_it(kit: Kit) -> None:
    """Filed under the record's division it would be invisible to the home's
    reads (a nomination's check): the event is retried (a transient failure)
    with nothing written, and kept under the home once the replica is there."""
    del kit.store.homes[VID]
    before = list(kit.store.rows)
    with pytest.raises(Unavailable) as err:
        evaluate(kit, 1, blocks=("nominations",), event="early")
    assert (
        failure_kind(err.value) == TRANSIENT and err.value.rule == "volunteer.replica"
    )
    assert kit.store.rows == before
    kit.store.homes[VID] = HOME  # the registration event arrives
    assert evaluate(kit, 1, blocks=("nominations",), event="early")
    (fact,) = [r for r in kit.store.rows if getattr(r, "record_id", None) == "r-1"]
    assert fact.division_code == HOME and fact.record_division_code == "610113002"


def test_a_blocking_evaluation_withdraws_the_pending_request(kit: Kit) -> None:
    hours(kit, 150)
    (first,) = kit.requests()
    evaluate(kit, 2)
    assert kit.requests() == [] and first.status == "withdrawn"
    assert first.reason == conduct.HELD_STARS
    # Another good record does not lift it: the poor one still stands.
    evaluate(kit, 5, record="r-2")
    assert kit.requests() == []
    evaluate(kit, 3, replaced=1)
    assert [r.stars for r in kit.requests()] == [1]


def test_a_policy_that_blocks_only_nominations_leaves_the_stars(kit: Kit) -> None:
    evaluate(kit, 1, blocks=("nominations",))
    hours(kit, 150)
    assert [r.stars for r in kit.requests()] == [1]
    assert kit.store.ratings[VID].held_reason == ""


def test_the_same_evaluation_event_twice_changes_nothing(kit: Kit) -> None:
    assert evaluate(kit, 1, event="once")
    assert not evaluate(kit, 5, replaced=1, event="once")
    (fact,) = [r for r in kit.store.rows if getattr(r, "record_id", None) == "r-1"]
    assert (fact.score, fact.poor) == (1, True)


def test_an_earlier_evaluation_delivered_late_does_not_win(kit: Kit) -> None:
    evaluate(kit, 4, replaced=1)
    evaluate(kit, 1, replaced=0)  # the first evaluation, delivered after
    hours(kit, 150)
    assert [r.stars for r in kit.requests()] == [1]


def _complaint(kit: Kit, cid: str, status: str, event: str) -> bool:
    news = ComplaintNews(cid, VID, "N-1", "610113", status, NOW)
    return kit.app.conduct.follow_complaint("c.complaints", event, news)


def _round(kit: Kit) -> None:
    kit.store.rows.append(AwardRound(
        id=ROUND, division_code="6101", title="2026", year=2026,
        categories=["individual"], quota_per_child=5,
        deadline=TODAY + timedelta(days=30), notice_working_days=5, status="open",
        notice_starts_on=None, notice_ends_on=None, created_by="u",
        created_at=NOW, finalized_at=None,
    ))  # fmt: skip


def _nominate(kit: Kit) -> Nomination:
    req = NominationInput(ROUND, "individual", "610113", "", VID, "", "", "s", "k1")
    p = Principal("s", "u-county", "610113", frozenset({"tenant_admin"}), 0)
    return kit.app.rounds.nominate(p, req)


def test_evidence_carries_the_evaluations_and_complaints(kit: Kit) -> None:
    _round(kit)
    evaluate(kit, 1, blocks=())  # poor, blocking nothing here
    evaluate(kit, 5, record="r-2")
    for i, (cid, status) in enumerate(
        [("c1", "open"), ("c1", "upheld"), ("c2", "open"), ("c3", "dismissed"),
         ("c2", "replied"), ("c3", "open")]  # a late 'open' moves nothing back
    ):  # fmt: skip
        assert _complaint(kit, cid, status, f"ce-{i}")
    assert not _complaint(kit, "c1", "open", "ce-0")  # redelivered
    ev: dict[str, Any] = _nominate(kit).evidence
    assert ev["approved_hours"] == 120.0
    assert (ev["evaluated_records"], ev["poor_evaluations"]) == (2, 1)
    assert ev["average_score"] == 3.0
    assert (ev["complaints_upheld"], ev["complaints_dismissed"]) == (1, 1)
    assert ev["complaints_open"] == 1


def test_a_poor_evaluation_that_blocks_nominations_refuses_them(kit: Kit) -> None:
    _round(kit)
    evaluate(kit, 2, blocks=("nominations",))
    before = (list(kit.store.rows), list(kit.uow.events))
    with pytest.raises(FailedPrecondition) as err:
        _nominate(kit)
    assert err.value.field == "nominee_volunteer_id"
    assert err.value.rule == "evaluation.poor_blocks"
    assert "evaluation.poor_blocks" in err.value.message_zh
    assert (list(kit.store.rows), list(kit.uow.events)) == before
    evaluate(kit, 4, replaced=1, blocks=("nominations",))
    assert _nominate(kit).nominee_volunteer_id == VID


# -- the events as the worker reads them --------------------------------------------
def _body(**data: Any) -> dict[str, Any]:
    base = {
        "record_id": "r-1", "volunteer_id": VID, "volunteer_number": "N-1",
        "division_code": "610113002", "score": 2, "poor": True,
        "poor_blocks": ["stars", "bonus"], "replaced": 1,
    }  # fmt: skip
    return {
        "event_id": "e-1", "event_type": "hours.record.evaluated",
        "occurred_at": NOW.isoformat(), "division_code": "610113002",
        "data": {**base, **data},
    }  # fmt: skip


def test_an_evaluation_event_keeps_only_what_can_be_blocked() -> None:
    got = events.evaluation(Envelope.from_body(_body()))
    assert (got.score, got.poor, got.replaced) == (2, True, 1)
    assert got.poor_blocks == ("stars",) and got.occurred_at == NOW


@pytest.mark.parametrize(
    "bad",
    [{"score": 6}, {"score": "2"}, {"poor": "yes"}, {"replaced": -1},
     {"poor_blocks": "stars"}, {"division_code": "61x"}, {"record_id": ""}],
)  # fmt: skip
def test_a_malformed_evaluation_event_is_refused(bad: dict[str, Any]) -> None:
    # A malformed code is the kernel's InvalidArgument, as in every event.
    with pytest.raises((ValueError, InvalidArgument)):
        events.evaluation(Envelope.from_body(_body(**bad)))


def test_a_complaint_event_needs_a_known_status() -> None:
    body = _body(complaint_id="c-1", status="upheld", division_code="610113")
    assert events.complaint(Envelope.from_body(body)).status == "upheld"
    with pytest.raises(ValueError):
        events.complaint(Envelope.from_body({**body, "data": {
            **body["data"], "status": "lost"}}))  # fmt: skip
