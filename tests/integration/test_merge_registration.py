"""Registration's side of merging duplicate registrations (issue 14)
through its use cases, on PostgreSQL (the session's migrated database, row
security) and on the embedded SQLite.

Merged: the duplicate is marked ``merged`` pointing at the survivor, its
memberships the survivor lacks and its own account move to the survivor
(an account of its own when the survivor has one is deactivated instead),
the merge row audits it and ``registration.volunteer.merged`` is recorded.
Reverted: every one of those is undone, with ``.unmerged``.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.common import keys
from services.common.auth import Principal
from services.common.config import load
from services.common.db import Database
from services.common.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from services.common.migrations import upgrade
from services.common.tenancy import Level, Scope
from services.registration.application import RegistrationApp
from services.registration.bootstrap import load_divisions
from services.registration.models import (
    OUTBOX,
    ROLLUP,
    ROLLUP_TABLE,
    Account,
    VolunteerMerge,
)
from tests.helpers import new_id_number, new_phone

pytestmark = pytest.mark.integration
COUNTY, TOWN_A, TOWN_B = "610122", "610122001", "610122101"
NEIGHBOUR = "610116"
AT = datetime(2026, 12, 1, 2, tzinfo=UTC)


def office(scope: str, name: str, role: str = "tenant_admin") -> Principal:
    return Principal(name, name, scope, frozenset({role}), 0)


ADMIN = office(COUNTY, "lantian-admin")


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def app(request, tmp_path_factory) -> Iterator[RegistrationApp]:  # type: ignore[no-untyped-def]
    request.getfixturevalue("migrated" if request.param == "postgresql" else "env")
    cfg = load()
    if request.param == "sqlite":
        path = Path(tmp_path_factory.mktemp("embedded")) / "registration.db"
        svc = dataclasses.replace(
            cfg.service("registration"), database_url=f"sqlite:///{path}"
        )
        upgrade(svc)
        db = Database(svc)
        load_divisions(db)
    else:
        svc = dataclasses.replace(cfg.service("registration"), database_pool_size=2)
        db = Database(svc)
    yield RegistrationApp(db, keys.pii_cipher(cfg), None)
    db.dispose()


def _volunteer(app: RegistrationApp, home: str, account: bool = False) -> Any:
    vol = app.people.register_volunteer(
        ADMIN, "王重复", new_id_number(COUNTY), new_phone(), home,
        ["elderly_care"], None, "",
    )  # fmt: skip
    app.people.review_volunteer(ADMIN, vol.id, True, "")
    if account:
        with app.ctx.db.session(Scope(home)) as s:
            s.add(
                Account(
                    id=str(uuid.uuid4()), username=f"m-{vol.volunteer_number}",
                    password_hash="x", display_name="王**", scope_code=home,
                    roles=["volunteer"], active=True, created_by="test",
                    created_at=AT, volunteer_id=vol.id,
                )
            )  # fmt: skip
    return vol


def _team(app: RegistrationApp, code: str) -> str:
    org = app.people.create_organisation(
        ADMIN, f"合并测试队-{uuid.uuid4().hex[:6]}", "team", code, "",
        ["elderly_care"], "", "",
    )  # fmt: skip
    return str(org.id)


def _accounts(app: RegistrationApp, ids: set[str]) -> dict[str, tuple[Any, ...]]:
    """account id -> (volunteer id, scope, active), filtered by the county."""
    with app.ctx.db.session(Scope(COUNTY)) as s:
        rows = s.execute(
            select(
                Account.id, Account.volunteer_id, Account.scope_code, Account.active
            ).where(Account.scope_code.like(Scope(COUNTY).like_pattern))
        ).all()
    return {r.id: (r.volunteer_id, r.scope_code, r.active) for r in rows if r.id in ids}


def _account_ids(app: RegistrationApp, *vids: str) -> set[str]:
    with app.ctx.db.session(Scope(COUNTY)) as s:
        return set(
            s.execute(
                select(Account.id).where(
                    Account.volunteer_id.in_(vids),
                    Account.scope_code.like(Scope(COUNTY).like_pattern),
                )
            ).scalars()
        )


def _events(app: RegistrationApp, kind: str, merge_id: str) -> list[Any]:
    with app.ctx.db.session(None) as s:
        rows = s.execute(
            select(OUTBOX.c.division_code, OUTBOX.c.payload).where(
                OUTBOX.c.event_type == kind
            )
        ).all()
    return [r for r in rows if r.payload["data"]["merge_id"] == merge_id]


def test_merge_moves_memberships_and_account_and_revert_restores(
    app: RegistrationApp,
) -> None:
    survivor = _volunteer(app, TOWN_A)
    merged = _volunteer(app, TOWN_B, account=True)
    shared, only_merged = _team(app, TOWN_A), _team(app, TOWN_B)
    app.people.add_membership(ADMIN, survivor.id, shared, "member")
    app.people.add_membership(ADMIN, merged.id, shared, "member")
    app.people.add_membership(ADMIN, merged.id, only_merged, "leader")
    (acc,) = _account_ids(app, merged.id)

    row = app.merges.merge(
        ADMIN, survivor.id, merged.id, "同一人两次登记，身份证号录错"
    )

    assert (row.survivor_id, row.merged_id, row.actor) == (
        survivor.id, merged.id, "lantian-admin",
    )  # fmt: skip
    assert (row.survivor_division_code, row.merged_division_code) == (TOWN_A, TOWN_B)
    assert row.moved_memberships == [only_merged] and row.reverted_at is None
    gone, _ = app.people.get_volunteer(ADMIN, merged.id)
    assert (gone.status, gone.merged_into_id) == ("merged", survivor.id)
    kept, teams = app.people.get_volunteer(ADMIN, survivor.id)
    assert kept.status == "verified" and sorted(teams) == sorted([shared, only_merged])
    _, left = app.people.get_volunteer(ADMIN, merged.id)
    assert left == [shared]  # the survivor had it already: it stays behind
    assert _accounts(app, {acc}) == {acc: (survivor.id, TOWN_A, True)}
    (event,) = _events(app, "registration.volunteer.merged", row.id)
    assert event.division_code == TOWN_A
    data = event.payload["data"]
    assert (data["survivor_id"], data["merged_id"]) == (survivor.id, merged.id)
    assert data["merged_number"] == merged.volunteer_number
    listed = app.merges.history(ADMIN, merged.id, 10, "")
    assert [m.id for m in listed.items] == [row.id]

    back = app.merges.revert(ADMIN, row.id, "核实为两人")

    assert back.reverted_by == "lantian-admin" and back.reverted_at is not None
    # The reason is kept with the merge (the audit row), read back afresh.
    (kept_row,) = app.merges.history(ADMIN, merged.id, 10, "").items
    assert kept_row.revert_reason == "核实为两人"
    assert kept_row.moved_accounts == {acc: TOWN_B}
    again, teams = app.people.get_volunteer(ADMIN, merged.id)
    assert (again.status, again.merged_into_id) == ("verified", None)
    assert sorted(teams) == sorted([shared, only_merged])
    _, teams = app.people.get_volunteer(ADMIN, survivor.id)
    assert teams == [shared]
    assert _accounts(app, {acc}) == {acc: (merged.id, TOWN_B, True)}
    (event,) = _events(app, "registration.volunteer.unmerged", row.id)
    assert event.payload["data"]["actor"] == "lantian-admin"
    assert event.payload["data"]["revert_reason"] == "核实为两人"
    with pytest.raises(FailedPrecondition) as err:
        app.merges.revert(ADMIN, row.id, "核实为两人")
    assert (err.value.field, err.value.rule) == ("id", "merge.not_reverted")
    # Reverted, the pair can be merged again (one live merge per record).
    assert app.merges.merge(ADMIN, survivor.id, merged.id, "再次核实").id != row.id


def _verified(app: RegistrationApp, town: str) -> float:
    """The township's all-time verified count in registration's rollup."""
    with app.ctx.db.session(Scope(COUNTY)) as s:
        rows = ROLLUP.read(
            s, ROLLUP_TABLE, Scope(COUNTY), Level.TOWNSHIP, "", "", False
        )
    return sum(m["volunteers_verified"] for code, _, m in rows if code == town)


def test_a_merged_record_leaves_the_verified_count_and_a_revert_restores_it(
    app: RegistrationApp,
) -> None:
    survivor, merged = _volunteer(app, TOWN_A), _volunteer(app, TOWN_B)
    a, b = _verified(app, TOWN_A), _verified(app, TOWN_B)
    row = app.merges.merge(ADMIN, survivor.id, merged.id, "同一人两次登记")
    assert (_verified(app, TOWN_A), _verified(app, TOWN_B)) == (a, b - 1)
    app.merges.revert(ADMIN, row.id, "核实为两人")
    assert (_verified(app, TOWN_A), _verified(app, TOWN_B)) == (a, b)


def test_a_second_account_is_deactivated_and_revert_reactivates_it(
    app: RegistrationApp,
) -> None:
    survivor = _volunteer(app, TOWN_A, account=True)
    merged = _volunteer(app, TOWN_A, account=True)
    (own,) = _account_ids(app, survivor.id)
    (dup,) = _account_ids(app, merged.id)
    row = app.merges.merge(ADMIN, survivor.id, merged.id, "重复注册")
    assert row.deactivated_accounts == [dup] and row.moved_accounts == {}
    assert _accounts(app, {own, dup}) == {
        own: (survivor.id, TOWN_A, True),
        dup: (merged.id, TOWN_A, False),
    }
    app.merges.revert(ADMIN, row.id, "核实为两人")
    assert _accounts(app, {dup}) == {dup: (merged.id, TOWN_A, True)}


def test_bad_merges_are_refused_naming_the_field(app: RegistrationApp) -> None:
    a, b, c = (_volunteer(app, TOWN_A) for _ in range(3))
    with pytest.raises(InvalidArgument) as bad:
        app.merges.merge(ADMIN, a.id, a.id, "同一人")
    assert (bad.value.field, bad.value.rule) == ("merged_id", "merged_id.distinct")
    with pytest.raises(InvalidArgument) as bad:
        app.merges.merge(ADMIN, a.id, b.id, "  ")
    assert bad.value.field == "reason"
    row = app.merges.merge(ADMIN, a.id, b.id, "重复注册")
    with pytest.raises(FailedPrecondition) as failed:
        app.merges.merge(ADMIN, c.id, b.id, "重复注册")
    assert (failed.value.field, failed.value.rule) == (
        "merged_id", "merged_id.not_merged",
    )  # fmt: skip
    with pytest.raises(FailedPrecondition) as failed:
        app.merges.merge(ADMIN, b.id, c.id, "重复注册")
    assert failed.value.field == "survivor_id"
    with pytest.raises(FailedPrecondition) as failed:  # merged: not transferred
        app.transfers.request(ADMIN, b.id, "610116003", True, "同意书已存档")
    assert (failed.value.field, failed.value.rule) == (
        "volunteer_id", "volunteer.status",
    )  # fmt: skip
    moving = _volunteer(app, TOWN_A)
    app.transfers.request(ADMIN, moving.id, "610116003", True, "同意书已存档")
    with pytest.raises(FailedPrecondition) as failed:
        app.merges.merge(ADMIN, c.id, moving.id, "重复注册")
    assert (failed.value.field, failed.value.rule) == (
        "merged_id", "merged_id.no_pending_transfer",
    )  # fmt: skip
    with pytest.raises(PermissionDenied):
        app.merges.merge(office(COUNTY, "reader", "reviewer"), a.id, c.id, "x")
    neighbour = office(NEIGHBOUR, "changan-admin")
    with pytest.raises(NotFound):
        app.merges.revert(neighbour, row.id, "核实为两人")
    assert app.merges.history(neighbour, "", 50, "").items == []
    with app.ctx.db.session(Scope(COUNTY)) as s:
        mine = s.execute(
            select(VolunteerMerge.id).where(VolunteerMerge.merged_id.in_([c.id, a.id]))
        ).all()
    assert mine == []


@pytest.mark.parametrize(
    ("reason", "rule"),
    [
        ("", "reason.required"),
        ("   \t ", "reason.required"),
        ("\r", "reason.required"),  # a bare CR is blank
        ("理" * 501, "reason.max_length"),
    ],
    ids=["blank", "whitespace", "bare-cr", "too-long"],
)
def test_a_revert_needs_a_reason(app: RegistrationApp, reason: str, rule: str) -> None:
    survivor, merged = _volunteer(app, TOWN_A), _volunteer(app, TOWN_B)
    row = app.merges.merge(ADMIN, survivor.id, merged.id, "重复注册")

    with pytest.raises(InvalidArgument) as err:
        app.merges.revert(ADMIN, row.id, reason)

    assert (err.value.field, err.value.rule) == ("reason", rule)
    # Nothing written: still merged, the merge live, no unmerged event.
    gone, _ = app.people.get_volunteer(ADMIN, merged.id)
    assert (gone.status, gone.merged_into_id) == ("merged", survivor.id)
    (live,) = app.merges.history(ADMIN, merged.id, 10, "").items
    assert live.reverted_at is None and live.revert_reason == ""
    assert _events(app, "registration.volunteer.unmerged", row.id) == []
    # 500 characters, the limit, are taken.
    back = app.merges.revert(ADMIN, row.id, "理" * 500)
    assert back.revert_reason == "理" * 500
