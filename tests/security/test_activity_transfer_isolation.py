"""Isolation of activity's transfer following (issue 14), on the real
PostgreSQL with row security, as the application role.

A volunteer of Yanliang (610114) signed up for a session in Baqiao (610111)
held before the move and one to come; they move to Chang'an (610116):

* before, Yanliang's office sees both sign-ups, Chang'an's and a third
  county's (Lintong 610115) neither; after, Yanliang's keeps the held one
  (and the attendance) and loses the one to come, which Chang'an's now
  sees; the third county never sees either; Baqiao (where they are held)
  sees both throughout; the replica is Chang'an's only;
* the move happens only in the worker's way: migration 0007's function
  refuses a transaction whose scope does not hold the new home, one that
  has not claimed the event for activity's transfer consumer (not at all,
  for another consumer, or in an earlier transaction), and the application
  role can neither write the sign-ups of another county's project nor the
  transfer audit table. Each refusal moves nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from services.activity import models as m
from services.activity import moves
from services.activity.repository import Repository
from services.common import outbox
from services.common.db import Database
from services.common.errors import NotFound
from services.common.tenancy import Scope
from tests.integration.test_activity_transfer import (
    AT,
    Rows,
    private_database,
    transferred,
)

pytestmark = pytest.mark.integration

OLD, OLD_TOWN = "610114", "610114001"
NEW, NEW_TOWN = "610116", "610116002"
HOST, HOST_TOWN = "610111", "610111001"
THIRD = "610115"
DAY = timedelta(days=1)
CALL = "SELECT activity_transfer_volunteer(:e, :t, :v, :f, :to, :at, :now)"


@pytest.fixture(scope="module")
def db(migrated: dict[str, str]) -> Iterator[Database]:
    """A fresh activity database: the rows are written straight into the
    tables, which the session's shared database must not see."""
    with private_database() as database:
        yield database


def seen(db: Database, office: str, volunteer: str) -> set[str]:
    """The volunteer's sign-ups and attendances an office's transaction
    reads: row security alone (no filter of the application's)."""
    with db.session(Scope(office)) as s:
        ids = set(
            s.execute(select(m.SignUp.id).where(m.SignUp.volunteer_id == volunteer))
            .scalars()
            .all()
        )
        ids |= set(
            s.execute(
                select(m.Attendance.id).where(m.Attendance.volunteer_id == volunteer)
            ).scalars()
        )
    return ids


def home_of(db: Database, office: str, volunteer: str) -> str:
    """The replica as the office's repository finds it ('' if NOT_FOUND)."""
    with db.session(Scope(office)) as s:
        try:
            return Repository(s, Scope(office)).volunteer(volunteer).home_division_code
        except NotFound:
            return ""


def test_the_old_office_loses_what_is_to_come_and_a_third_never_sees_it(
    db: Database,
) -> None:
    rows = Rows(db)
    vol = rows.volunteer(OLD_TOWN)
    held = rows.sign_up(rows.session(HOST_TOWN, AT - 2 * DAY), vol, OLD_TOWN)
    attended = rows.attendance(held)
    coming = rows.sign_up(rows.session(HOST_TOWN, AT + 3 * DAY), vol, OLD_TOWN)
    every = {held, attended, coming}
    before = {o: seen(db, o, vol[0]) for o in (OLD, NEW, THIRD, HOST)}
    assert before == {OLD: every, NEW: set(), THIRD: set(), HOST: every}
    assert (home_of(db, OLD, vol[0]), home_of(db, NEW, vol[0])) == (OLD_TOWN, "")

    assert moves.follow_transfer(db, transferred(vol, OLD_TOWN, NEW_TOWN))

    after = {o: seen(db, o, vol[0]) for o in (OLD, NEW, THIRD, HOST)}
    assert after == {
        OLD: {held, attended},
        NEW: {coming},
        THIRD: set(),
        HOST: every,
    }
    assert (home_of(db, OLD, vol[0]), home_of(db, NEW, vol[0])) == ("", NEW_TOWN)
    # The office's own queries agree: the old office is told NOT_FOUND.
    with db.session(Scope(OLD)) as s, pytest.raises(NotFound):
        Repository(s, Scope(OLD)).sign_up(coming)
    with db.session(Scope(NEW)) as s:
        assert Repository(s, Scope(NEW)).sign_up(coming).volunteer_division_code == (
            NEW_TOWN
        )


def refused(
    db: Database, scope: str, sql: str, params: dict[str, Any], claim: str
) -> str:
    """Run ``sql`` in a transaction of ``scope`` that first claims the event
    for ``claim`` (none if ''); the SQLSTATE it failed with, '' if it ran."""
    try:
        with db.session(Scope(scope)) as s:
            if claim:
                assert outbox.claim(s, m.PROCESSED, claim, params["e"])
            s.execute(text(sql), params)
    except DBAPIError as exc:
        return str(getattr(exc.orig, "sqlstate", "?"))
    return ""


def test_only_the_workers_claimed_transaction_moves_rows(db: Database) -> None:
    rows = Rows(db)
    vol = rows.volunteer(OLD_TOWN)
    coming = rows.sign_up(rows.session(HOST_TOWN, AT + 3 * DAY), vol, OLD_TOWN)
    body = transferred(vol, OLD_TOWN, NEW_TOWN)
    params = {
        "e": body["event_id"], "t": body["data"]["transfer_id"], "v": vol[0],
        "f": OLD_TOWN, "to": NEW_TOWN, "at": AT, "now": AT,
    }  # fmt: skip
    consumer = moves.TRANSFER_CONSUMER
    before = rows.state(vol[0])
    # A scope that does not hold the new home (the old home's, a third one).
    assert refused(db, OLD, CALL, params, consumer) == "42501"
    assert refused(db, THIRD, CALL, params, consumer) == "42501"
    # No claim, a claim for another consumer.
    assert refused(db, NEW, CALL, params, "") == "42501"
    assert refused(db, NEW, CALL, params, moves.MERGE_CONSUMER) == "42501"
    # A claim of an earlier transaction (committed) is not this one's.
    old_claim = {**params, "e": str(uuid.uuid4())}
    with db.session(Scope(NEW)) as s:
        assert outbox.claim(s, m.PROCESSED, consumer, old_claim["e"])
    assert refused(db, NEW, CALL, old_claim, "") == "42501"
    # Writing the rows directly: another county's project's sign-up is not
    # there for the new home's office; the audit table is read-only.
    with db.session(Scope(NEW)) as s:
        got = s.execute(
            text(
                "UPDATE sign_ups SET volunteer_division_code = :to WHERE id = :i"
                " RETURNING id"
            ),
            {"to": NEW_TOWN, "i": coming},
        ).all()
        assert got == []
    audit = (
        "INSERT INTO activity_transfers VALUES (:t, :to, :f, :v, :at, '[]', '[]', :now)"
    )
    keys = ("t", "to", "f", "v", "at", "now")
    assert refused(db, NEW, audit, {k: params[k] for k in keys}, "") == "42501"
    assert rows.state(vol[0]) == before
    # The worker's way does move it.
    assert moves.follow_transfer(db, body)
    assert rows.state(vol[0])["sign_ups"][coming][-1] == NEW_TOWN
