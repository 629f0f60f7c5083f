"""Isolation of activity's merge following (issue 14), on the real
PostgreSQL with row security, as the application role.

The merged volunteer (Lantian's township 610122102) has a sign-up in Baoji
and a pair in Lantian. Migration 0007's functions move them only in the
worker's way: a transaction whose scope does not hold the merged record's
home (a neighbour county, the survivor's own township), or that has not
claimed the event for activity's merge (or unmerge) consumer, is refused
and moves nothing; the application role cannot write the merge audit
table. After the worker's merge the audit row is read by the survivor's
county, not by a neighbour's; the revert is refused in the same ways.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.activity import models as m
from services.activity import moves
from services.common.db import Database
from services.common.tenancy import Scope
from tests.integration.test_activity_merge import AWAY, HOME, TOWN, merge_event
from tests.integration.test_activity_transfer import AT, Rows, private_database
from tests.security.test_activity_transfer_isolation import refused

pytestmark = pytest.mark.integration

COUNTY, NEIGHBOUR = "610122", "610116"
ARGS = "(:e, :m, :c, :sc, :s, :sn, :v, :vn, :at)"


@pytest.fixture(scope="module")
def db(migrated: dict[str, str]) -> Iterator[Database]:
    """A fresh activity database: the rows are written straight into the
    tables, which the session's shared database must not see."""
    with private_database() as database:
        yield database


def audit_seen(db: Database, office: str, merge: str) -> bool:
    with db.session(Scope(office)) as s:
        t = m.VolunteerMerge
        return (
            s.execute(select(t.merge_id).where(t.merge_id == merge)).first() is not None
        )


def test_only_the_workers_claimed_transaction_moves_a_merge(db: Database) -> None:
    rows = Rows(db)
    survivor, merged = rows.volunteer(HOME), rows.volunteer(TOWN)
    rows.sign_up(rows.session(AWAY, AT + timedelta(days=2)), merged, TOWN)
    rows.pair(HOME, merged)
    merge = str(uuid.uuid4())
    body = merge_event("merged", merge, survivor, merged)
    params = {
        "e": body["event_id"], "m": merge, "c": TOWN, "sc": HOME,
        "s": survivor[0], "sn": survivor[1], "v": merged[0], "vn": merged[1],
        "at": AT,
    }  # fmt: skip
    call = f"SELECT activity_merge_volunteer{ARGS}"
    before = rows.state(survivor[0], merged[0])
    for scope in (NEIGHBOUR, HOME):  # neither holds the merged record's home
        assert refused(db, scope, call, params, moves.MERGE_CONSUMER) == "42501"
    assert refused(db, TOWN, call, params, "") == "42501"
    assert refused(db, TOWN, call, params, moves.UNMERGE_CONSUMER) == "42501"
    audit = (
        "INSERT INTO activity_merges VALUES (:m, :sc, :c, :s, :sn, :v, :vn, '{}',"
        " :at, NULL)"
    )
    keys = ("m", "sc", "c", "s", "sn", "v", "vn", "at")
    assert refused(db, COUNTY, audit, {k: params[k] for k in keys}, "") == "42501"
    assert rows.state(survivor[0], merged[0]) == before

    assert moves.follow_merge(db, body, undo=False)

    after = rows.state(survivor[0], merged[0])
    assert after != before
    assert (audit_seen(db, COUNTY, merge), audit_seen(db, NEIGHBOUR, merge)) == (
        True,
        False,
    )
    undo = {**params, "e": str(uuid.uuid4())}
    call = f"SELECT activity_unmerge_volunteer{ARGS}"
    assert refused(db, NEIGHBOUR, call, undo, moves.UNMERGE_CONSUMER) == "42501"
    assert refused(db, TOWN, call, undo, "") == "42501"
    assert refused(db, TOWN, call, undo, moves.MERGE_CONSUMER) == "42501"
    assert rows.state(survivor[0], merged[0]) == after
