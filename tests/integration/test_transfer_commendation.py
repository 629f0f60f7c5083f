"""Commendation follows a volunteer's transfer (``registration.volunteer.
transferred``, issue 14) through its use cases, on PostgreSQL (row security:
the rows leave the old home's subtree and enter the new one's in one
transaction) and on the embedded SQLite.

A volunteer of Yanliang holds 1 approved star and a pending request for 2
(Yanliang's thresholds 2/4/6/8/10 h, 5 h served). Moved:

* to Chang'an (3/6/9/12/15 h): still 1 star, no request (5 h is 1 star
  there); the old request is withdrawn, never decided by Yanliang;
* to Xigu, Gansu (1/2/3/4/5 h): a request for 5 stars opens at Gansu's
  level (5 stars: the province, ``62``).

The stars held leave the old county's rollup and enter the new one's; the
replica, the rating and the years served lie under the new home only; the
same event again changes nothing.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from services.commendation.application import CommendationApp
from services.commendation.models import (
    ROLLUP,
    ROLLUP_TABLE,
    ServiceYear,
    StarRating,
    StarRequest,
    Volunteer,
)
from services.commendation.usecases.moves import MOVED, Move
from services.commendation.usecases.ratings import HoursNews
from services.common.auth import Principal
from services.common.config import load
from services.common.db import Database
from services.common.migrations import upgrade
from services.common.tenancy import Level, Scope
from services.common.testing import create_database, drop_database

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
OLD, OLD_TOWN = "610114", "610114001"
NEW, NEW_TOWN = "610116", "610116002"
FAR, FAR_TOWN = "620104", "620104001"
RULES = {
    OLD_TOWN: [2, 4, 6, 8, 10],
    NEW_TOWN: [3, 6, 9, 12, 15],
    FAR_TOWN: [1, 2, 3, 4, 5],
}


def _db(url: str) -> Database:
    svc = dataclasses.replace(
        load().service("commendation"), database_url=url, database_pool_size=4
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
        url = create_database("zy_transfer")
        database = _db(url)
    a = CommendationApp(database)
    for code, hours in RULES.items():
        overrides = {"stars.thresholds_hours": json.dumps(hours)}
        a.rerating.follow_settings("t.settings", _id(), code, overrides, T0)
    yield a
    database.dispose()
    if url:
        drop_database(url)


def _id() -> str:
    return str(uuid.uuid4())


def _hours(a: CommendationApp, vid: str, delta: float, total: float, at: datetime):  # type: ignore[no-untyped-def]
    news = HoursNews(
        volunteer_id=vid, volunteer_number=f"ZY{vid[:12]}", division_code=OLD_TOWN,
        year=at.year, delta_hours=Decimal(str(delta)),
        total_hours=Decimal(str(total)), occurred_at=at,
    )  # fmt: skip
    assert a.stars.follow_hours("t.hours", _id(), news)


def _pending(a: CommendationApp, vid: str, scope: str) -> list[StarRequest]:
    with a.ctx.db.session(Scope(scope)) as s:
        q = select(StarRequest).where(
            StarRequest.volunteer_id == vid,
            # Explicit for the embedded SQLite, which has no row security.
            StarRequest.division_code.startswith(scope),
        )
        return list(s.execute(q.order_by(StarRequest.created_at)).scalars())


def _stars_held(a: CommendationApp, county: str) -> float:
    """The stars_1 count of a county in the all-time rollup."""
    with a.ctx.db.session(Scope(county[:2])) as s:
        rows = ROLLUP.read(s, ROLLUP_TABLE, Scope(county), Level.COUNTY, "", "", False)
    return sum(m["stars_1"] for code, _, m in rows if code == county)


def _one_star_and_a_request(a: CommendationApp) -> str:
    """A Yanliang volunteer: 1 star approved, a request for 2 pending."""
    vid = _id()
    a.stars.replicate_volunteer(
        "t.volunteers", _id(),
        Volunteer(id=vid, volunteer_number=f"ZY{vid[:12]}", division_code=OLD_TOWN,
                  status="verified", changed_at=T0),
    )  # fmt: skip
    _hours(a, vid, 3, 3, T0 + timedelta(days=1))
    (first,) = _pending(a, vid, OLD)
    assert (first.stars, first.approving_code) == (1, OLD)
    reviewer = Principal("r", "yanliang-reviewer", OLD, frozenset({"reviewer"}), 0)
    a.star_review.approve_star(reviewer, first.id)
    _hours(a, vid, 2, 5, T0 + timedelta(days=2))
    asked = [r for r in _pending(a, vid, OLD) if r.status == "pending"]
    assert [(r.stars, r.approving_code) for r in asked] == [(2, OLD)]
    return vid


def _move(vid: str, to: str) -> Move:
    return Move(
        volunteer_id=vid, volunteer_number=f"ZY{vid[:12]}", from_code=OLD_TOWN,
        to_code=to, status="verified", occurred_at=T0 + timedelta(days=30),
    )  # fmt: skip


def _rows_under(a: CommendationApp, vid: str, scope: str) -> tuple[int, int, int]:
    """(replica rows, ratings, years served) of the volunteer in ``scope``."""
    with a.ctx.db.session(Scope(scope)) as s:

        def count(model: type) -> int:
            key = model.volunteer_id if model is not Volunteer else model.id  # type: ignore[attr-defined]
            # The prefix is explicit for the embedded SQLite (no row security).
            under = model.division_code.startswith(scope)  # type: ignore[attr-defined]
            return len(s.execute(select(model).where(key == vid, under)).all())

        return count(Volunteer), count(StarRating), count(ServiceYear)


def test_moved_to_another_county_keeps_its_stars_and_withdraws_the_request(
    app: CommendationApp,
) -> None:
    vid = _one_star_and_a_request(app)
    old_held, new_held = _stars_held(app, OLD), _stars_held(app, NEW)

    event = _id()
    assert app.moves.follow_transfer("t.transfers", event, _move(vid, NEW_TOWN))

    with app.ctx.db.session(Scope(NEW)) as s:
        rating = s.get(StarRating, vid)
        assert rating is not None and rating.division_code == NEW_TOWN
        assert (rating.stars, rating.eligible_stars) == (1, 1)
        assert rating.total_hours == Decimal("5.00")
    old = _pending(app, vid, OLD)
    assert [r.status for r in old] == ["approved", "withdrawn"]
    assert old[-1].reason == MOVED and old[-1].decided_by == "system"
    assert _pending(app, vid, NEW) == []  # 5 h is 1 star in Chang'an: held
    assert _rows_under(app, vid, OLD) == (0, 0, 0)
    assert _rows_under(app, vid, NEW) == (1, 1, 1)
    assert _stars_held(app, OLD) == old_held - 1
    assert _stars_held(app, NEW) == new_held + 1

    # The same event again changes nothing.
    assert not app.moves.follow_transfer("t.transfers", event, _move(vid, NEW_TOWN))
    assert _rows_under(app, vid, NEW) == (1, 1, 1)
    assert _stars_held(app, NEW) == new_held + 1


def test_moved_to_another_province_is_asked_at_its_level(
    app: CommendationApp,
) -> None:
    vid = _one_star_and_a_request(app)
    assert app.moves.follow_transfer("t.transfers", _id(), _move(vid, FAR_TOWN))
    (asked,) = _pending(app, vid, FAR)
    assert (asked.stars, asked.status) == (5, "pending")
    assert (asked.approval_level, asked.approving_code) == ("province", "62")
    assert asked.division_code == FAR_TOWN
    assert _rows_under(app, vid, "61") == (0, 0, 0)
    assert _rows_under(app, vid, FAR) == (1, 1, 1)
    # Later hours (served anywhere) rate the volunteer where they live now.
    _hours(app, vid, 1, 6, T0 + timedelta(days=40))
    with app.ctx.db.session(Scope(FAR)) as s:
        rating = s.get(StarRating, vid)
        assert rating is not None and rating.total_hours == Decimal("6.00")
    assert _rows_under(app, vid, "61") == (0, 0, 0)


def test_a_volunteer_without_hours_moves_with_the_replica(
    app: CommendationApp,
) -> None:
    vid = _id()
    app.stars.replicate_volunteer(
        "t.volunteers", _id(),
        Volunteer(id=vid, volunteer_number=f"ZY{vid[:12]}", division_code=OLD_TOWN,
                  status="pending", changed_at=T0),
    )  # fmt: skip
    assert app.moves.follow_transfer("t.transfers", _id(), _move(vid, NEW_TOWN))
    assert _rows_under(app, vid, OLD) == (0, 0, 0)
    assert _rows_under(app, vid, NEW) == (1, 0, 0)
