"""Commendation keeps a volunteer's evaluations and complaints (hours'
``hours.record.evaluated`` and ``hours.complaint.*``, issue 14) and applies
what a poor evaluation blocks, through its use cases, on PostgreSQL (row
security: the facts lie under the volunteer's home) and on the embedded
SQLite.

Xincheng's (610102) thresholds are 2/4/6/8/10 h. A poor evaluation whose
policy blocks stars holds the request (the rating says why), on the
one-event path and on the set-wise batch path; the re-evaluation opens it.
One that blocks nominations refuses a nomination and writes nothing, and
refuses resubmitting a returned one when it arrived after the nomination
(under the volunteer's current home, a transfer's too). The evidence carries
the figures; a redelivered event changes nothing; a transfer takes the facts
to the new home.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from services.commendation import conduct
from services.commendation.application import CommendationApp
from services.commendation.clients import HoursFacts, Nominee
from services.commendation.conduct import ComplaintNews, EvaluationNews
from services.commendation.models import (
    OUTBOX,
    ComplaintFact,
    EvaluationFact,
    Nomination,
    ReviewStep,
    StarRating,
    StarRequest,
    Volunteer,
)
from services.commendation.usecases.moves import Move
from services.commendation.usecases.ratings import HoursNews
from services.commendation.validation import NominationInput
from services.common.auth import Principal
from services.common.config import load
from services.common.db import Database
from services.common.errors import FailedPrecondition
from services.common.migrations import upgrade
from services.common.tenancy import Scope
from services.common.testing import create_database, drop_database

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
COUNTY, TOWN, SERVED = "610102", "610102001", "610102003"
OTHER, OTHER_TOWN = "610103", "610103001"


class Facts:
    """The remote facts a nomination fetches (registration, hours)."""

    def nominee(self, volunteer_id: str) -> Nominee:
        return Nominee(volunteer_id, f"ZY{volunteer_id[:12]}", "王*", TOWN)

    def hours_of(self, volunteer_id: str) -> HoursFacts:
        return HoursFacts(approved_hours=3.0, approved_records=1)


def _db(url: str) -> Database:
    svc = dataclasses.replace(
        load().service("commendation"), database_url=url, database_pool_size=2
    )
    upgrade(svc)
    return Database(svc)


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def app(request, tmp_path_factory) -> Iterator[CommendationApp]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        path = Path(tmp_path_factory.mktemp("embedded")) / "commendation.db"
        database = _db(f"sqlite:///{path}")
        url = ""
    else:
        url = create_database("zy_conduct")
        database = _db(url)
    a = CommendationApp(database, Facts(), today=lambda: date(2026, 3, 2))  # type: ignore[arg-type]
    overrides = {"stars.thresholds_hours": json.dumps([2, 4, 6, 8, 10])}
    for code in (COUNTY, OTHER):
        a.rerating.follow_settings("t.settings", _id(), code, overrides, T0)
    yield a
    database.dispose()
    if url:
        drop_database(url)


def _id() -> str:
    return str(uuid.uuid4())


def _volunteer(a: CommendationApp, home: str = TOWN) -> str:
    vid = _id()
    a.stars.replicate_volunteer(
        "t.volunteers", _id(),
        Volunteer(id=vid, volunteer_number=f"ZY{vid[:12]}", division_code=home,
                  status="verified", changed_at=T0),
    )  # fmt: skip
    return vid


def _news(vid: str, total: float, day: int) -> HoursNews:
    return HoursNews(
        volunteer_id=vid, volunteer_number=f"ZY{vid[:12]}", division_code=SERVED,
        year=2026, delta_hours=Decimal(str(total)), total_hours=Decimal(str(total)),
        occurred_at=T0 + timedelta(days=day),
    )  # fmt: skip


def _evaluation(
    vid: str, score: int, replaced: int = 0, blocks: tuple[str, ...] = ("stars",),
    record: str = "",
) -> EvaluationNews:  # fmt: skip
    return EvaluationNews(
        record_id=record or f"rec-{vid[:8]}", volunteer_id=vid,
        volunteer_number=f"ZY{vid[:12]}", division_code=SERVED, score=score,
        poor=score <= 2, poor_blocks=blocks, replaced=replaced,
        occurred_at=T0 + timedelta(days=10 + replaced),
    )  # fmt: skip


def _requests(a: CommendationApp, vid: str, scope: str = COUNTY) -> list[StarRequest]:
    with a.ctx.db.session(Scope(scope)) as s:
        q = select(StarRequest).where(
            StarRequest.volunteer_id == vid,
            # Explicit for the embedded SQLite, which has no row security.
            StarRequest.division_code.startswith(scope),
        )
        return list(s.execute(q.order_by(StarRequest.created_at)).scalars())


def _rating(a: CommendationApp, vid: str, scope: str = COUNTY) -> StarRating:
    with a.ctx.db.session(Scope(scope)) as s:
        got = s.execute(
            select(StarRating).where(
                StarRating.volunteer_id == vid,
                StarRating.division_code.startswith(scope),
            )
        ).scalar_one()
        s.expunge(got)
        return got


def _count(a: CommendationApp, model: Any, vid: str, scope: str = COUNTY) -> int:
    with a.ctx.db.session(Scope(scope)) as s:
        q = select(func.count()).select_from(model)
        q = q.where(model.volunteer_id == vid, model.division_code.startswith(scope))
        return int(s.execute(q).scalar_one())


def test_a_poor_evaluation_holds_the_star_request_until_re_evaluated(
    app: CommendationApp,
) -> None:
    vid = _volunteer(app)
    assert app.conduct.follow_evaluation("t.evaluations", _id(), _evaluation(vid, 1))
    assert app.stars.follow_hours("t.hours", _id(), _news(vid, 3, 1))
    assert _requests(app, vid) == []
    rating = _rating(app, vid)
    assert (rating.eligible_stars, rating.held_reason) == (1, conduct.HELD_STARS)

    lifted = _evaluation(vid, 4, replaced=1)
    assert app.conduct.follow_evaluation("t.evaluations", _id(), lifted)
    (asked,) = _requests(app, vid)
    assert (asked.stars, asked.status, asked.approving_code) == (1, "pending", COUNTY)
    assert _rating(app, vid).held_reason == ""


def test_a_batch_of_hours_events_holds_it_too(app: CommendationApp) -> None:
    held, free = _volunteer(app), _volunteer(app)
    app.conduct.follow_evaluation("t.evaluations", _id(), _evaluation(held, 2))
    done = app.stars.follow_hours_batch(
        "t.hours", [(_id(), _news(held, 5, 2)), (_id(), _news(free, 5, 2))]
    )
    assert done == [True, True]
    assert _requests(app, held) == []
    assert _rating(app, held).held_reason == conduct.HELD_STARS
    assert [r.stars for r in _requests(app, free)] == [2]
    assert _rating(app, free).held_reason == ""


def test_a_blocking_evaluation_withdraws_a_pending_request(
    app: CommendationApp,
) -> None:
    vid = _volunteer(app)
    app.stars.follow_hours("t.hours", _id(), _news(vid, 3, 1))
    (first,) = _requests(app, vid)
    app.conduct.follow_evaluation("t.evaluations", _id(), _evaluation(vid, 1))
    (gone,) = _requests(app, vid)
    assert (gone.id, gone.status, gone.reason) == (
        first.id,
        "withdrawn",
        conduct.HELD_STARS,
    )


def test_a_redelivered_event_changes_nothing(app: CommendationApp) -> None:
    vid = _volunteer(app)
    event = _id()
    assert app.conduct.follow_evaluation("t.evaluations", event, _evaluation(vid, 1))
    # The same event id again, even carrying other figures: claimed already.
    again = _evaluation(vid, 5, replaced=3)
    assert not app.conduct.follow_evaluation("t.evaluations", event, again)
    with app.ctx.db.session(Scope(COUNTY)) as s:
        fact = s.get(EvaluationFact, f"rec-{vid[:8]}")
        assert fact is not None and (fact.score, fact.replaced) == (1, 0)
    complaint = ComplaintNews(_id(), vid, f"ZY{vid[:12]}", COUNTY, "upheld", T0)
    assert app.conduct.follow_complaint("t.complaints", event, complaint)
    assert not app.conduct.follow_complaint("t.complaints", event, complaint)
    assert _count(app, ComplaintFact, vid) == 1
    assert _count(app, EvaluationFact, vid) == 1


def _round(app: CommendationApp) -> str:
    city = Principal("c", "xian-office", "6101", frozenset({"tenant_admin"}), 0)
    r = app.rounds.open_round(
        city, "6101", "西安市优秀志愿者", 2026, ["individual"], 5, "2026-12-31", 5
    )
    return r.id


def _nominate(app: CommendationApp, rid: str, vid: str) -> Nomination:
    county = Principal("n", "xincheng-office", COUNTY, frozenset({"tenant_admin"}), 0)
    req = NominationInput(rid, "individual", COUNTY, "", vid, "", "", "敬老三年", _id())
    return app.rounds.nominate(county, req)


def _written(app: CommendationApp) -> tuple[int, int]:
    """(nominations, outbox rows) under the county."""
    with app.ctx.db.session(Scope("6101")) as s:
        n = s.execute(
            select(func.count()).select_from(Nomination)
            .where(Nomination.division_code.startswith("6101"))
        ).scalar_one()  # fmt: skip
        o = s.execute(select(func.count()).select_from(OUTBOX)).scalar_one()
        return int(n), int(o)


def test_nominations_are_refused_with_nothing_written(app: CommendationApp) -> None:
    rid = _round(app)
    vid = _volunteer(app)
    blocks = ("nominations",)
    app.conduct.follow_evaluation(
        "t.evaluations", _id(), _evaluation(vid, 2, 0, blocks)
    )
    before = _written(app)
    with pytest.raises(FailedPrecondition) as err:
        _nominate(app, rid, vid)
    assert (err.value.field, err.value.rule) == (
        "nominee_volunteer_id",
        "evaluation.poor_blocks",
    )
    assert "poor evaluation" in err.value.message_en
    assert "差" in err.value.message_zh
    assert _written(app) == before
    # Stars are not what this policy blocks.
    app.stars.follow_hours("t.hours", _id(), _news(vid, 3, 1))
    assert [r.stars for r in _requests(app, vid)] == [1]
    lifted = _evaluation(vid, 5, 1, blocks)
    app.conduct.follow_evaluation("t.evaluations", _id(), lifted)
    assert _nominate(app, rid, vid).nominee_volunteer_id == vid


def test_evidence_shows_the_evaluations_and_complaints(app: CommendationApp) -> None:
    rid = _round(app)
    vid = _volunteer(app)
    for record, score in (("a", 1), ("b", 4), ("c", 5)):
        news = _evaluation(vid, score, blocks=(), record=f"{record}-{vid[:8]}")
        app.conduct.follow_evaluation("t.evaluations", _id(), news)
    # A re-evaluation replaces its record's score (1 → 3): no poor one left.
    again = _evaluation(vid, 3, replaced=1, blocks=(), record=f"a-{vid[:8]}")
    app.conduct.follow_evaluation("t.evaluations", _id(), again)
    first, second, third = _id(), _id(), _id()
    steps = [
        (first, "open"), (second, "open"), (third, "open"),
        (first, "replied"), (first, "upheld"), (second, "dismissed"),
    ]  # fmt: skip
    for cid, status in steps:
        complaint = ComplaintNews(cid, vid, f"ZY{vid[:12]}", "610102", status, T0)
        assert app.conduct.follow_complaint("t.complaints", _id(), complaint)
    ev = _nominate(app, rid, vid).evidence
    assert (ev["evaluated_records"], ev["poor_evaluations"]) == (3, 0)
    assert ev["average_score"] == 4.0
    got = (ev["complaints_upheld"], ev["complaints_dismissed"], ev["complaints_open"])
    assert got == (1, 1, 1)
    assert ev["approved_hours"] == 3.0


def test_the_facts_lie_under_the_home_and_follow_a_transfer(
    app: CommendationApp,
) -> None:
    vid = _volunteer(app)
    app.conduct.follow_evaluation("t.evaluations", _id(), _evaluation(vid, 1))
    news = ComplaintNews(_id(), vid, f"ZY{vid[:12]}", "610102", "open", T0)
    app.conduct.follow_complaint("t.complaints", _id(), news)
    if app.ctx.db.engine.dialect.name == "postgresql":
        # Row security: another county's scope sees none of them.
        with app.ctx.db.session(Scope(OTHER)) as s:
            assert (
                s.execute(select(func.count()).select_from(EvaluationFact)).scalar()
                == 0
            )
            assert (
                s.execute(select(func.count()).select_from(ComplaintFact)).scalar() == 0
            )
    move = Move(
        volunteer_id=vid, volunteer_number=f"ZY{vid[:12]}", from_code=TOWN,
        to_code=OTHER_TOWN, status="verified", occurred_at=T0 + timedelta(days=30),
    )  # fmt: skip
    assert app.moves.follow_transfer("t.transfers", _id(), move)
    assert (_count(app, EvaluationFact, vid), _count(app, ComplaintFact, vid)) == (0, 0)
    assert _count(app, EvaluationFact, vid, OTHER) == 1
    assert _count(app, ComplaintFact, vid, OTHER) == 1
    # At the new home it still holds the stars.
    app.stars.follow_hours("t.hours", _id(), _news(vid, 3, 31))
    assert _requests(app, vid, OTHER) == []
    assert _rating(app, vid, OTHER).held_reason == conduct.HELD_STARS


def _returned(app: CommendationApp, vid: str) -> Nomination:
    """A nomination of ``vid`` the city sent back to the county for changes."""
    n = _nominate(app, _round(app), vid)
    city = Principal("r", "xian-reviewer", "6101", frozenset({"reviewer"}), 0)
    back = app.review.review(city, n.id, "return", "请补充服务记录")
    assert back.status == "returned"
    return back


def _resubmit(app: CommendationApp, n: Nomination) -> Nomination:
    county = Principal("n", "xincheng-office", COUNTY, frozenset({"tenant_admin"}), 0)
    return app.review.resubmit(county, n.id, "补充：服务记录齐全。")


def _state(app: CommendationApp, ident: str) -> tuple[str, str, str, int, int]:
    """(status, stage, statement, review steps, outbox rows) of a nomination."""
    with app.ctx.db.session(Scope("6101")) as s:
        n = s.get(Nomination, ident)
        assert n is not None
        steps = s.execute(
            select(func.count()).select_from(ReviewStep)
            .where(ReviewStep.nomination_id == ident)
        ).scalar_one()  # fmt: skip
        o = s.execute(select(func.count()).select_from(OUTBOX)).scalar_one()
        return n.status, n.current_stage, n.statement, int(steps), int(o)


def _refused(app: CommendationApp, n: Nomination) -> None:
    before = _state(app, n.id)
    with pytest.raises(FailedPrecondition) as err:
        _resubmit(app, n)
    assert (err.value.field, err.value.rule) == (
        "nominee_volunteer_id",
        "evaluation.poor_blocks",
    )
    assert (err.value.message_en, err.value.message_zh) == (
        conduct.nomination_refusal()
    )
    assert _state(app, n.id) == before
    assert before[0] == "returned"


def test_resubmitting_is_refused_after_a_blocking_poor_evaluation(
    app: CommendationApp,
) -> None:
    vid = _volunteer(app)
    n = _returned(app, vid)
    blocks = ("nominations",)
    app.conduct.follow_evaluation(
        "t.evaluations", _id(), _evaluation(vid, 1, 0, blocks)
    )
    _refused(app, n)
    # Re-evaluated to a good score: it blocks no more.
    lifted = _evaluation(vid, 5, 1, blocks)
    assert app.conduct.follow_evaluation("t.evaluations", _id(), lifted)
    again = _resubmit(app, n)
    assert (again.status, again.current_stage) == ("in_review", "6101")
    assert _state(app, n.id)[:3] == ("in_review", "6101", "补充：服务记录齐全。")


def test_resubmitting_goes_through_when_the_policy_does_not_block_it(
    app: CommendationApp,
) -> None:
    vid = _volunteer(app)
    n = _returned(app, vid)
    # Poor, but this policy holds only stars.
    app.conduct.follow_evaluation("t.evaluations", _id(), _evaluation(vid, 1))
    again = _resubmit(app, n)
    assert (again.status, again.current_stage) == ("in_review", "6101")


def test_resubmitting_reads_the_evaluations_at_the_volunteer_s_new_home(
    app: CommendationApp,
) -> None:
    vid = _volunteer(app)
    n = _returned(app, vid)
    move = Move(
        volunteer_id=vid, volunteer_number=f"ZY{vid[:12]}", from_code=TOWN,
        to_code=OTHER_TOWN, status="verified", occurred_at=T0 + timedelta(days=5),
    )  # fmt: skip
    assert app.moves.follow_transfer("t.transfers", _id(), move)
    blocks = ("nominations",)
    app.conduct.follow_evaluation(
        "t.evaluations", _id(), _evaluation(vid, 2, 0, blocks)
    )
    assert _count(app, EvaluationFact, vid, OTHER) == 1
    # The nomination still names the old home; the facts lie at the new one.
    assert n.nominee_division_code == TOWN
    _refused(app, n)
