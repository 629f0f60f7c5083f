"""Activity follows a volunteer's transfer and a merge of duplicate
registrations (``registration.volunteer.transferred``, ``.merged`` and
``.unmerged``, issue 14). Each event is claimed in the transaction that
applies it, so a redelivered event changes nothing.

Transferred: the replica takes the new home, and the volunteer's commitments
to sessions not yet held (sign-ups in any state, waitlist places among them,
and training attendances recorded ahead) move to it
(``volunteer_division_code``), so the new home's office sees them and the
old one no longer does. Past rows (attendance, sessions held, visits,
training attended) stay where they are; no rollup moves (activity counts by
where the service is done). A transfer governs the sessions from its moment
up to the next transfer of the volunteer already followed, and the replica
keeps the newest home, so transfers arriving out of order end as in order.

Merged: the merged record's replica is marked ``merged`` (it takes no new
places) and its sign-ups, attendances, pairs, visits and training
attendances point at the survivor; what moved is kept, so ``.unmerged``
points exactly those back and gives the replica its status back.

In PostgreSQL the rows lie outside the transaction's scope: migration
0007's SECURITY DEFINER functions move them (only for an event this
transaction claimed, inside its scope); the embedded SQLite does the same in
Python (:mod:`services.activity.moves_embedded`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from services.activity import moves_embedded, replica
from services.activity.models import PROCESSED, VolunteerReplica
from services.common import outbox
from services.common.db import Database
from services.common.tenancy import Scope
from services.common.times import parse

TRANSFER_CONSUMER = "activity.replica.transfer"
MERGE_CONSUMER, UNMERGE_CONSUMER = "activity.replica.merge", "activity.replica.unmerge"


@dataclass(frozen=True)
class Transfer:
    """What a ``registration.volunteer.transferred`` event says."""

    event_id: str
    transfer_id: str
    volunteer_id: str
    volunteer_number: str
    from_code: str
    to_code: str
    status: str
    birth_date: date | None
    service_fields: list[str]
    occurred_at: datetime

    @classmethod
    def from_event(cls, env: outbox.Envelope) -> Transfer:
        d = env.data
        birth = str(d.get("birth_date") or "")
        return cls(
            env.event_id,
            str(d["transfer_id"]),
            str(d["volunteer_id"]),
            str(d["volunteer_number"]),
            str(d["from_division_code"]),
            str(d["to_division_code"]),
            str(d.get("status") or "verified"),
            date.fromisoformat(birth) if birth else None,
            list(d.get("service_fields") or []),
            parse(env.occurred_at).astimezone(UTC),
        )


@dataclass(frozen=True)
class Merge:
    """What a ``registration.volunteer.merged`` (or ``.unmerged``) says."""

    event_id: str
    merge_id: str
    merged_code: str  # the merged record's home: the transaction's scope
    survivor_code: str
    survivor_id: str
    survivor_number: str
    merged_id: str
    merged_number: str
    merged_status: str  # before the merge: what a revert gives back

    @classmethod
    def from_event(cls, env: outbox.Envelope) -> Merge:
        d = env.data
        return cls(
            env.event_id,
            str(d["merge_id"]),
            str(d["merged_division_code"]),
            str(d["survivor_division_code"]),
            str(d["survivor_id"]),
            str(d["survivor_number"]),
            str(d["merged_id"]),
            str(d["merged_number"]),
            str(d["merged_status"]),
        )


def follow_transfer(db: Database, body: dict[str, Any]) -> bool:
    """Apply one transfer; False if it was applied before.

    Example (the worker's handler)::

        moves.follow_transfer(self.db, body)
    """
    t = Transfer.from_event(outbox.Envelope.from_body(body))
    with db.session(Scope(t.to_code)) as s:
        if not outbox.claim(s, PROCESSED, TRANSFER_CONSUMER, t.event_id):
            return False
        if _postgres(s):
            s.execute(
                text(
                    "SELECT activity_transfer_volunteer(:e, :t, :v, :f, :to, :at, :now)"
                ),
                {
                    "e": t.event_id, "t": t.transfer_id, "v": t.volunteer_id,
                    "f": t.from_code, "to": t.to_code, "at": t.occurred_at,
                    "now": outbox.now(),
                },
            )  # fmt: skip
        else:
            moves_embedded.transfer(s, t, outbox.now())
        # A replica the events never made is made now; one at the new home
        # takes the event's status if it may move (see replica.newer_status).
        replica.upsert_volunteer(
            s, t.volunteer_id, t.volunteer_number, t.to_code, t.status,
            t.birth_date, t.service_fields, at=t.occurred_at, moved=True,
        )  # fmt: skip
        return True


def follow_merge(db: Database, body: dict[str, Any], undo: bool) -> bool:
    """Apply one merge (``undo``: its revert); False if seen before.

    Example (the worker's handler)::

        moves.follow_merge(self.db, body, undo=False)
    """
    m = Merge.from_event(outbox.Envelope.from_body(body))
    consumer = UNMERGE_CONSUMER if undo else MERGE_CONSUMER
    with db.session(Scope(m.merged_code)) as s:
        if not outbox.claim(s, PROCESSED, consumer, m.event_id):
            return False
        now = outbox.now()
        if _postgres(s):
            fn = "activity_unmerge_volunteer" if undo else "activity_merge_volunteer"
            moved = s.execute(
                text(f"SELECT {fn}(:e, :m, :c, :sc, :s, :sn, :v, :vn, :at)"),
                {
                    "e": m.event_id, "m": m.merge_id, "c": m.merged_code,
                    "sc": m.survivor_code, "s": m.survivor_id,
                    "sn": m.survivor_number, "v": m.merged_id,
                    "vn": m.merged_number, "at": now,
                },
            ).scalar_one()  # fmt: skip
        elif undo:
            moved = moves_embedded.unmerge(s, m, now)
        else:
            moved = moves_embedded.merge(s, m, now)
        if moved >= 0:  # -1: a merge whose revert came first stays reverted
            _mark_merged(s, m, undo)
        return True


def _mark_merged(s: Session, m: Merge, undo: bool) -> None:
    row = s.execute(
        select(VolunteerReplica)
        .where(
            VolunteerReplica.id == m.merged_id,
            VolunteerReplica.home_division_code.like(Scope(m.merged_code).like_pattern),
        )
        .with_for_update()
    ).scalar_one_or_none()
    if row is not None:
        row.status = m.merged_status if undo else "merged"
        row.updated_at = outbox.now()


def _postgres(s: Session) -> bool:
    return s.get_bind().dialect.name == "postgresql"
