"""Commendation follows a merge of duplicate registrations (issue 14)
through its use case, on PostgreSQL (row security) and the embedded SQLite.

Lantian's thresholds are 2/4/6/8/10 h. The survivor has 3 h (1 star
eligible), the merged record 5 h over two years. Merged: the survivor's
rating holds 8 h, 4 stars eligible with a request for them open, and its
years served hold the merged record's hours; the same event again changes
nothing. Reverted: 3 h and 1 star eligible again, the request for 4
withdrawn, the years as before.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.commendation.application import CommendationApp
from services.commendation.models import (
    ServiceYear,
    StarRating,
    StarRequest,
    Volunteer,
)
from services.commendation.usecases.merges import Merge, common_scope
from services.commendation.usecases.ratings import HoursNews
from services.common.config import load
from services.common.db import Database
from services.common.migrations import upgrade
from services.common.tenancy import Scope
from services.common.testing import create_database, drop_database

pytestmark = pytest.mark.integration
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
T1 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
COUNTY, HOME, OTHER = "610122", "610122001", "610122101"


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def app(request, tmp_path_factory) -> Iterator[CommendationApp]:  # type: ignore[no-untyped-def]
    url = ""
    if request.param == "sqlite":
        path = Path(tmp_path_factory.mktemp("embedded")) / "commendation.db"
        db_url = f"sqlite:///{path}"
    else:
        db_url = url = create_database("zy_merge")
    svc = dataclasses.replace(
        load().service("commendation"), database_url=db_url, database_pool_size=2
    )
    upgrade(svc)
    database = Database(svc)
    a = CommendationApp(database)
    overrides = {"stars.thresholds_hours": json.dumps([2, 4, 6, 8, 10])}
    a.rerating.follow_settings("t.settings", str(uuid.uuid4()), COUNTY, overrides, T0)
    yield a
    database.dispose()
    if url:
        drop_database(url)


def _registered(a: CommendationApp, vid: str, home: str) -> None:
    v = Volunteer(
        id=vid, volunteer_number=f"ZY{vid[:12]}", division_code=home,
        status="verified", changed_at=T0,
    )  # fmt: skip
    assert a.stars.replicate_volunteer("t.volunteers", str(uuid.uuid4()), v)


def _hours(a: CommendationApp, vid: str, code: str, delta: float, total: float,
           at: datetime) -> None:  # fmt: skip
    news = HoursNews(
        volunteer_id=vid, volunteer_number=f"ZY{vid[:12]}", division_code=code,
        year=at.year, delta_hours=Decimal(str(delta)),
        total_hours=Decimal(str(total)), occurred_at=at,
    )  # fmt: skip
    assert a.stars.follow_hours("t.hours", str(uuid.uuid4()), news)


def _state(a: CommendationApp, vid: str) -> dict[str, Any]:
    like = Scope(COUNTY).like_pattern
    with a.ctx.db.session(Scope(COUNTY)) as s:
        r = s.get(StarRating, vid)
        years = {
            y.year: y.hours
            for y in s.execute(
                select(ServiceYear).where(
                    ServiceYear.volunteer_id == vid,
                    ServiceYear.division_code.like(like),
                )
            ).scalars()
        }
        pending = [
            q.stars
            for q in s.execute(
                select(StarRequest).where(
                    StarRequest.volunteer_id == vid,
                    StarRequest.status == "pending",
                    StarRequest.division_code.like(like),
                )
            ).scalars()
        ]
    assert r is not None
    return {
        "total": r.total_hours, "eligible": r.eligible_stars, "stars": r.stars,
        "years": years, "pending": pending,
    }  # fmt: skip


def test_common_scope_is_the_deepest_division_holding_both() -> None:
    assert common_scope(HOME, OTHER) == COUNTY
    assert common_scope(HOME, HOME) == HOME
    assert common_scope("610122001", "610302001") == "61"


def test_survivor_takes_over_the_hours_and_gives_them_back(
    app: CommendationApp,
) -> None:
    survivor, merged = str(uuid.uuid4()), str(uuid.uuid4())
    _registered(app, survivor, HOME)
    _registered(app, merged, OTHER)
    _hours(app, survivor, HOME, 3, 3, T1)
    _hours(app, merged, OTHER, 2, 2, T0)
    _hours(app, merged, OTHER, 3, 5, T1)
    before = _state(app, survivor)
    assert (before["total"], before["eligible"]) == (Decimal("3"), 1)
    m = Merge(str(uuid.uuid4()), survivor, f"ZY{survivor[:12]}", HOME, merged,
              OTHER, T1)  # fmt: skip
    event = str(uuid.uuid4())

    assert app.merges.follow("commendation.merge", event, m, False)

    after = _state(app, survivor)
    assert (after["total"], after["eligible"]) == (Decimal("8"), 4)
    assert after["years"] == {2025: Decimal("2"), 2026: Decimal("6")}
    assert after["pending"] == [4]
    assert not app.merges.follow("commendation.merge", event, m, False)
    assert _state(app, survivor) == after

    assert app.merges.follow("commendation.unmerge", str(uuid.uuid4()), m, True)

    back = _state(app, survivor)
    assert (back["total"], back["eligible"]) == (Decimal("3"), 1)
    assert back["years"] == {2025: Decimal("0"), 2026: Decimal("3")}
    assert 4 not in back["pending"]
