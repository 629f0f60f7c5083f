"""A volunteer's own hours in embedded mode (SQLite, no row security): the
same migrations and use cases read the volunteer's rows by its id with plain
queries (services/hours/own_rows.py) and keep other volunteers' out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.common.auth import Principal
from services.common.config import ServiceConfig
from services.common.db import Database
from services.common.errors import NotFound
from services.common.migrations import upgrade
from services.hours.application import Draft, HoursApp
from services.hours.domain import Interval
from services.hours.own_queries import OwnQueries
from services.hours.registration_client import Identity

pytestmark = pytest.mark.integration
HOME, AWAY = "610113003", "610103002"
MINE, THEIRS = str(uuid.uuid4()), str(uuid.uuid4())
NOW = datetime(2026, 5, 6, 2, 0, tzinfo=UTC)


class Names:
    """Registration's identity answer (the certificate's name)."""

    def identity(self, volunteer_id: str, purpose: str) -> Identity:
        return Identity(f"N-{volunteer_id[:8]}", "张三丰", "resident_id", "1101**2X")


def office(scope: str) -> Principal:
    return Principal("s", f"u-{scope}", scope, frozenset({"tenant_admin"}), 0)


def volunteer(vid: str) -> Principal:
    return Principal("a", "N-1", HOME, frozenset({"volunteer"}), 0, volunteer_id=vid)


def draft(vid: str, code: str, start: datetime, minutes: int) -> Draft:
    end = start + timedelta(minutes=minutes)
    return Draft(
        "attendance", str(uuid.uuid4()), vid, f"N-{vid[:8]}", code,
        str(uuid.uuid4()), "志愿者协会", "elderly_care", "service", "敬老",
        start, end, Interval(start, end), "system",
    )  # fmt: skip


@pytest.fixture
def embedded(tmp_path):  # type: ignore[no-untyped-def]
    service = ServiceConfig(
        "hours", f"sqlite:///{tmp_path}/hours.db", "zhiyuan_hours_app", "", "", "", 1
    )
    upgrade(service)
    db = Database(service)
    app = HoursApp(db, Names(), lambda: NOW)  # type: ignore[arg-type]
    yield db, app
    db.dispose()


def test_own_rows_on_sqlite(embedded) -> None:  # type: ignore[no-untyped-def]
    db, app = embedded
    start = datetime(2026, 5, 5, 1, 0, tzinfo=UTC)
    made = {}
    for name, vid, code, offset, minutes in (
        ("home", MINE, HOME, 0, 120),
        ("away", MINE, AWAY, 3, 90),
        ("theirs", THEIRS, HOME, 6, 60),
    ):
        rec = app.records.ingest(
            "t",
            str(uuid.uuid4()),
            draft(vid, code, start + timedelta(hours=offset), minutes),
        )
        assert rec is not None
        app.review.approve(office(code[:6]), rec.id)
        made[name] = rec

    own = OwnQueries(db, lambda: NOW)
    page = own.records(volunteer(MINE), None, 50, "")
    assert {r.id for r, _ in page.items} == {made["home"].id, made["away"].id}
    totals = own.totals(volunteer(MINE))
    assert (totals.hours_total, totals.records_total) == (Decimal("3.50"), 2)
    assert totals.hours_this_year == Decimal("3.50") and totals.year == 2026

    with pytest.raises(NotFound):
        app.objections.file(volunteer(MINE), made["theirs"].id, "不是我的")
    filed = app.objections.file(volunteer(MINE), made["away"].id, "少计")
    assert filed.division_code == AWAY
    done, fix = app.objections.resolve(
        office("610103"), filed.id, "corrected", "核实", new_hours=1.0
    )
    assert done.status == "corrected" and fix is not None
    assert own.totals(volunteer(MINE)).hours_total == Decimal("3.00")

    cert = app.certificates.request_own(volunteer(MINE), "", "")
    assert cert.hours == Decimal("3.00") and cert.division_code == HOME
    assert [c.number for c in own.certificates(volunteer(MINE))] == [cert.number]
    assert own.certificates(volunteer(THEIRS)) == []
    _, document = app.certificates.own_pdf(volunteer(MINE), cert.number)
    assert document.startswith(b"%PDF")
    with pytest.raises(NotFound):
        app.certificates.own_pdf(volunteer(THEIRS), cert.number)
