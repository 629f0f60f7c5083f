"""Activity follows a merge of duplicate registrations and its revert
(``registration.volunteer.merged`` / ``.unmerged``, issue 14) through the
worker's handler code, on PostgreSQL (migration 0007's SECURITY DEFINER move
of rows held in other counties and cities) and on the embedded SQLite.

The merged volunteer (Lantian) has rows of every kind in its county and in
Baoji: a sign-up held and attended, a sign-up to come, a training
attendance, pairs with their visits. Two of its rows clash with the
survivor's (an active sign-up of the same session, a pair with the same
recipient): those stay with the merged record, with the clashing pair's
visit. Merged: every other row points at the survivor (id and number) and
the replica is ``merged``; the same event again changes nothing; the revert
restores every row and the replica exactly. A revert that arrives before its
merge leaves everything as it was, even after the merge.

Commitments to come (revision 0008): the merged record's sign-ups and
training attendances of sessions that have not started take the survivor's
home, so the survivor's office sees them; the past keeps its home; the
revert puts the homes back. On PostgreSQL the application role cannot move
a sign-up's home itself (the hosting office could otherwise).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.activity import moves
from services.common.db import Database
from services.common.tenancy import Scope
from tests.integration import test_activity_transfer as transfer_tests
from tests.integration.test_activity_transfer import AT, Rows

# The same module-scoped database per backend (PostgreSQL, SQLite).
db = transfer_tests.db

HOME, TOWN = "610122001", "610122102"  # Lantian: the survivor's, the merged's
AWAY = "610302001"  # Baoji: rows outside the survivor home's scope


def merge_event(
    kind: str, merge: str, survivor: tuple[str, str], merged: tuple[str, str]
) -> dict[str, Any]:
    """A ``registration.volunteer.merged`` (or ``.unmerged``) as registration
    writes it."""
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": f"registration.volunteer.{kind}",
        "occurred_at": AT.isoformat(),
        "division_code": HOME,
        "data": {
            "merge_id": merge, "survivor_id": survivor[0], "merged_id": merged[0],
            "survivor_number": survivor[1], "merged_number": merged[1],
            "survivor_division_code": HOME, "merged_division_code": TOWN,
            "merged_status": "verified", "actor": "lantian-admin",
        },
    }  # fmt: skip


def test_merge_moves_every_kind_of_row_and_revert_restores(db: Database) -> None:
    rows = Rows(db)
    survivor, merged = rows.volunteer(HOME), rows.volunteer(TOWN)
    day = timedelta(days=1)
    shared = rows.session(HOME, AT + 2 * day)
    rows.sign_up(shared, survivor, HOME)
    clash = rows.sign_up(shared, merged, TOWN)  # the same session: stays
    held = rows.sign_up(rows.session(AWAY, AT - 3 * day), merged, TOWN)
    rows.attendance(held)
    rows.sign_up(rows.session(HOME, AT + 4 * day), merged, TOWN, "waitlisted")
    rows.training(AWAY, AT - 9 * day, merged, TOWN)
    recipient, _, _ = rows.pair(AWAY, survivor)
    # The same recipient: the pair and its visit stay.
    _, kept_pair, kept_visit = rows.pair(AWAY, merged, recipient)
    rows.pair(HOME, merged)
    stays = {clash, kept_pair, kept_visit}
    before = rows.state(survivor[0], merged[0])
    assert len(_owners(before)) == 12
    merge = str(uuid.uuid4())
    body = merge_event("merged", merge, survivor, merged)

    assert moves.follow_merge(db, body, undo=False)

    after = rows.state(survivor[0], merged[0])
    owners = _owners(after)
    assert owners == {i: merged if i in stays else survivor for i in _owners(before)}
    # Only the volunteer changes: homes and everything else stay.
    assert _rest(after) == _rest(before)
    assert after["volunteers"][merged[0]] == (TOWN, "merged")
    # The same event again changes nothing.
    assert not moves.follow_merge(db, body, undo=False)
    assert rows.state(survivor[0], merged[0]) == after

    unmerged = merge_event("unmerged", merge, survivor, merged)
    assert moves.follow_merge(db, unmerged, undo=True)

    assert rows.state(survivor[0], merged[0]) == before
    assert not moves.follow_merge(db, unmerged, undo=True)


def test_a_revert_before_its_merge_moves_nothing(db: Database) -> None:
    rows = Rows(db)
    survivor, merged = rows.volunteer(HOME), rows.volunteer(TOWN)
    rows.sign_up(rows.session(AWAY, AT + timedelta(days=2)), merged, TOWN)
    rows.pair(HOME, merged)
    before = rows.state(survivor[0], merged[0])
    assert set(_owners(before).values()) == {merged}
    merge = str(uuid.uuid4())
    unmerged = merge_event("unmerged", merge, survivor, merged)
    assert moves.follow_merge(db, unmerged, undo=True)
    assert moves.follow_merge(db, merge_event("merged", merge, survivor, merged), False)
    assert rows.state(survivor[0], merged[0]) == before


def test_a_merge_moves_homes_of_commitments_to_come_and_revert_puts_them_back(
    db: Database,
) -> None:
    rows = Rows(db)
    survivor, merged = rows.volunteer(HOME), rows.volunteer(TOWN)
    soon = datetime.now(UTC) + timedelta(days=3)
    to_come = rows.sign_up(rows.session(AWAY, soon), merged, TOWN)
    training = rows.training(AWAY, soon, merged, TOWN)
    past = rows.sign_up(rows.session(AWAY, AT - timedelta(days=3)), merged, TOWN)
    before = rows.state(survivor[0], merged[0])
    merge = str(uuid.uuid4())

    assert moves.follow_merge(db, merge_event("merged", merge, survivor, merged), False)

    after = rows.state(survivor[0], merged[0])
    assert after["sign_ups"][to_come] == (*survivor, HOME)
    assert after["training_attendances"][training] == (*survivor, HOME)
    assert after["sign_ups"][past] == (*survivor, TOWN)  # the past stays
    unmerged = merge_event("unmerged", merge, survivor, merged)
    assert moves.follow_merge(db, unmerged, undo=True)
    assert rows.state(survivor[0], merged[0]) == before


def test_only_the_moves_change_a_sign_ups_home(db: Database) -> None:
    """The office hosting a project may update its sign-ups, but not the
    home office that sees them: on PostgreSQL a trigger refuses the
    application role; SQLite has one trusted process and no roles."""
    rows = Rows(db)
    vol = rows.volunteer(TOWN)
    sign_up = rows.sign_up(rows.session(AWAY, AT + timedelta(days=2)), vol, TOWN)
    before = rows.state(vol[0])
    change = text(
        "UPDATE sign_ups SET volunteer_division_code = :c WHERE id = :i"
    ).bindparams(c=AWAY, i=sign_up)
    if db.engine.dialect.name == "postgresql":
        refused = pytest.raises(DBAPIError, match="moved only by a transfer or a merge")
        with refused, db.session(Scope(AWAY[:4])) as s:
            s.execute(change)
        assert rows.state(vol[0]) == before
        # The office may still update the sign-up's other columns.
        with db.session(Scope(AWAY[:4])) as s:
            done = s.execute(
                text("UPDATE sign_ups SET status = 'cancelled' WHERE id = :i"),
                {"i": sign_up},
            )
            assert done.rowcount == 1
    else:
        with db.session(Scope(AWAY[:4])) as s:
            s.execute(change)
        assert rows.state(vol[0])["sign_ups"][sign_up] == (*vol, AWAY)


def _owners(state: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Each row's volunteer (id, number), across the five tables."""
    return {
        ident: (row[0], row[1])
        for table, got in state.items()
        if table != "volunteers"
        for ident, row in got.items()
    }


def _rest(state: dict[str, Any]) -> dict[str, Any]:
    """Each row's columns past the volunteer (its home code, if any)."""
    return {
        ident: row[2:]
        for table, got in state.items()
        if table != "volunteers"
        for ident, row in got.items()
    }
