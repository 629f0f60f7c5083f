"""Commendation's volunteer replica is one upsert: a volunteer registered and
verified at once (two queues, two workers) never collides on the primary key,
and an older event never overwrites a newer one, on PostgreSQL and on the
embedded SQLite."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from services.commendation.models import Volunteer
from services.commendation.stars import StarCases
from services.common.config import load
from services.common.db import Database
from services.common.migrations import upgrade
from services.common.tenancy import Scope
from services.common.testing import create_database, drop_database

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def _db(url: str) -> Database:
    svc = dataclasses.replace(
        load().service("commendation"), database_url=url, database_pool_size=4
    )
    upgrade(svc)
    return Database(svc)


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def db(request, tmp_path_factory) -> Iterator[Database]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        path = Path(tmp_path_factory.mktemp("embedded")) / "commendation.db"
        database = _db(f"sqlite:///{path}")
        yield database
        database.dispose()
        return
    url = create_database("zy_replica")
    database = _db(url)
    yield database
    database.dispose()
    drop_database(url)


def volunteer(ident: str, status: str, at: datetime) -> Volunteer:
    return Volunteer(
        id=ident,
        volunteer_number="ZY610000040001",
        division_code="610113003",
        status=status,
        changed_at=at,
    )


def replica(db: Database, ident: str) -> Volunteer:
    with db.session(Scope("610113003")) as s:
        return s.execute(select(Volunteer).where(Volunteer.id == ident)).scalar_one()


def test_registered_and_verified_at_once_both_apply(db):
    cases = StarCases(db)
    failures: list[BaseException] = []
    for _ in range(5):
        ident = str(uuid.uuid4())
        start = threading.Barrier(2)

        def apply(
            status: str,
            at: datetime,
            ident: str = ident,
            start: threading.Barrier = start,
        ) -> None:
            start.wait()
            try:
                cases.replicate_volunteer(
                    "commendation.volunteers",
                    str(uuid.uuid4()),
                    volunteer(ident, status, at),
                )
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

        threads = [
            threading.Thread(target=apply, args=("pending", T0)),
            threading.Thread(target=apply, args=("verified", T0 + timedelta(1))),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not failures, failures
        assert replica(db, ident).status == "verified"


def test_an_older_event_does_not_overwrite_a_newer_one(db):
    cases = StarCases(db)
    ident = str(uuid.uuid4())
    newer = volunteer(ident, "verified", T0 + timedelta(hours=1))
    older = volunteer(ident, "pending", T0)
    assert cases.replicate_volunteer("commendation.volunteers", "e1", newer)
    assert cases.replicate_volunteer("commendation.volunteers", "e2", older)
    assert replica(db, ident).status == "verified"
    later = volunteer(ident, "rejected", T0 + timedelta(hours=2))
    later.division_code = "610113001"
    assert cases.replicate_volunteer("commendation.volunteers", "e3", later)
    with db.session(Scope("610113")) as s:
        row = s.execute(select(Volunteer).where(Volunteer.id == ident)).scalar_one()
    assert (row.status, row.division_code) == ("rejected", "610113001")
    # The same event again changes nothing (claimed).
    assert not cases.replicate_volunteer("commendation.volunteers", "e3", later)
