"""Hours follows a merge of duplicate registrations (issue 14) through its
use case, on PostgreSQL (the session's migrated database: the SECURITY
DEFINER move of records outside the survivor home's scope) and on the
embedded SQLite.

Merged: the merged volunteer's records (in the survivor's county and in
another city) and certificate point at the survivor, whose platform total
is then both volunteers' hours; presence folds in; rollups are untouched.
The same event again changes nothing; the revert restores every row.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.common.auth import Principal
from services.common.config import load
from services.common.db import Database
from services.common.migrations import upgrade
from services.common.tenancy import Scope
from services.hours import cross_tenant
from services.hours.application import HoursApp
from services.hours.domain import Interval
from services.hours.models import (
    ROLLUP_TABLE,
    Certificate,
    HourRecord,
    Presence,
)
from services.hours.usecases.merges import Merge
from services.hours.usecases.records import Draft

pytestmark = pytest.mark.integration
HOME, AWAY = "610122001", "610302001"  # Lantian (the survivor's home), Baoji
ADMIN = Principal("t", "reviewer-61", "61", frozenset({"province_admin"}), 2**40)


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def app(request, tmp_path_factory) -> Iterator[HoursApp]:  # type: ignore[no-untyped-def]
    request.getfixturevalue("migrated" if request.param == "postgresql" else "env")
    cfg = load()
    svc = dataclasses.replace(cfg.service("hours"), database_pool_size=2)
    if request.param == "sqlite":
        path = Path(tmp_path_factory.mktemp("embedded")) / "hours.db"
        svc = dataclasses.replace(svc, database_url=f"sqlite:///{path}")
        upgrade(svc)
    db = Database(svc)
    yield HoursApp(db)
    db.dispose()


def _approved(app: HoursApp, volunteer: str, number: str, code: str, day: int) -> str:
    start = datetime(2026, 3, day, 1, tzinfo=UTC)
    end = start + timedelta(minutes=120)
    record = app.records.ingest(
        "hours.attendance",
        str(uuid.uuid4()),
        Draft(
            source="attendance", source_id=str(uuid.uuid4()), volunteer_id=volunteer,
            volunteer_number=number, division_code=code, organisation_id="org-1",
            organisation_name="蓝田县志愿者协会", service_field="elderly_care",
            activity_kind="service", content="敬老院陪伴", started_at=start,
            ended_at=end, interval=Interval(start, end), recorded_by="test",
            event_id=None,
        ),
    )  # fmt: skip
    assert record is not None and record.status == "pending"
    app.review.approve(ADMIN, record.id)
    return str(record.id)


def _certificate(app: HoursApp, volunteer: str, number: str) -> str:
    cert = f"ZYC-T-{uuid.uuid4().hex[:12]}"
    with app.ctx.db.session(Scope(HOME)) as s:
        s.add(
            Certificate(
                number=cert, volunteer_id=volunteer, volunteer_number=number,
                name_masked="王**", id_type="resident", id_number_masked="6101**",
                hours=Decimal("2.00"), service_content="敬老院陪伴",
                issuer_name="蓝田县志愿者协会", person_in_charge="王主任",
                handler="李干事", contact="029-1", division_code=HOME,
                organisation_id="org-1", period_start="2026-03",
                period_end="2026-03", issued_on=date(2026, 4, 1), issued_by="t",
                issued_at=datetime(2026, 4, 1, tzinfo=UTC), status="valid",
                revoked_reason="", pdf=b"",
            )
        )  # fmt: skip
    return cert


def _state(app: HoursApp, ids: set[str], vols: tuple[str, str]) -> dict[str, Any]:
    """The volunteers' records, certificates, presence and totals, and every
    rollup row (as a province admin sees them)."""
    with app.ctx.db.session(ADMIN.scope) as s:
        records = {
            r.id: (r.volunteer_id, r.volunteer_number)
            for r in s.execute(
                select(HourRecord).where(HourRecord.id.in_(ids))
            ).scalars()
        }
        certs = dict(
            s.execute(
                select(Certificate.number, Certificate.volunteer_id).where(
                    Certificate.volunteer_id.in_(vols)
                )
            ).all()
        )
        presence = sorted(
            (p.volunteer_id, p.division_code, p.month, p.service_field, p.records)
            for p in s.execute(
                select(Presence).where(Presence.volunteer_id.in_(vols))
            ).scalars()
        )
        rollups = sorted(tuple(r) for r in s.execute(select(ROLLUP_TABLE)).all())
        totals = [cross_tenant.platform_total(s, v) for v in vols]
    return {
        "records": records, "certificates": certs, "presence": presence,
        "rollups": rollups, "totals": totals,
    }  # fmt: skip


def test_merge_repoints_hours_and_certificates_and_revert_restores(
    app: HoursApp,
) -> None:
    survivor, merged = str(uuid.uuid4()), str(uuid.uuid4())
    s_no, m_no = "ZY61000000S", "ZY61000000M"
    ids = {
        _approved(app, survivor, s_no, HOME, 2),
        _approved(app, merged, m_no, HOME, 3),
        _approved(app, merged, m_no, AWAY, 4),
    }
    cert = _certificate(app, merged, m_no)
    vols = (survivor, merged)
    before = _state(app, ids, vols)
    assert before["totals"] == [Decimal("2.00"), Decimal("4.00")]
    m = Merge(str(uuid.uuid4()), HOME, survivor, s_no, merged, m_no)
    merged_event = str(uuid.uuid4())

    assert app.merges.follow("hours.merge", merged_event, m, False)

    after = _state(app, ids, vols)
    assert set(after["records"].values()) == {(survivor, s_no)}
    assert after["certificates"] == {cert: survivor}
    assert after["totals"] == [Decimal("6.00"), Decimal("0")]
    assert after["rollups"] == before["rollups"]  # counted once, where served
    assert {p[0] for p in after["presence"]} == {survivor}
    assert sum(p[4] for p in after["presence"]) == 3
    # The same event again changes nothing.
    assert not app.merges.follow("hours.merge", merged_event, m, False)
    assert _state(app, ids, vols) == after

    assert app.merges.follow("hours.unmerge", str(uuid.uuid4()), m, True)

    assert _state(app, ids, vols) == before
