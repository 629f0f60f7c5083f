"""The local replica of registration's volunteers and organisations, kept by
the worker from registration's events (a service never reads another's
tables). Each event is claimed in the transaction that applies it, so a
redelivered event changes nothing.

Events may arrive out of order (a `registered` after its `verified`): a
volunteer's status only ever moves forward, pending → verified | rejected.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from services.activity.models import (
    PROCESSED,
    OrganisationReplica,
    PolicyNode,
    VolunteerReplica,
)
from services.common import outbox, settings_replica, volunteer_events
from services.common.db import Database, upsertable_insert
from services.common.tenancy import Scope
from services.common.times import parse, utc

# "merged" (a duplicate registration merged into another, issue 14) outranks
# a late review event; only the merge's revert (moves.follow_merge) lifts it.
RANK = {"pending": 0, "verified": 1, "rejected": 1, "merged": 2}


def newer_status(current: str | None, incoming: str) -> bool:
    """Whether ``incoming`` may replace ``current`` (never back to pending).

    Example:
        >>> newer_status("verified", "pending"), newer_status("pending", "verified")
        (False, True)
    """
    return current is None or RANK.get(incoming, 0) >= RANK.get(current, 0)


def upsert_volunteer(
    s: Session,
    ident: str,
    number: str,
    home: str,
    status: str,
    birth: date | None,
    fields: list[str],
    at: datetime | None = None,
    moved: bool = False,
) -> None:
    """Insert or update the replica of one volunteer from an event of the
    moment ``at`` (``moved``: a transfer, which sets the home's move time).
    An event older than the home's last move leaves the home as it is."""
    values: dict[str, Any] = {
        "volunteer_number": number,
        "home_division_code": home,
        "status": status,
        "birth_date": birth,
        "service_fields": list(fields),
        "updated_at": outbox.now(),
    }
    if moved:
        values["home_moved_at"] = at
    # `registered` and `verified` arrive on separate queues and may be handled
    # at once: insert-or-nothing, then lock the row, never read-then-insert.
    if _insert_new(s, VolunteerReplica, ident, values):
        return
    row = s.execute(
        select(VolunteerReplica).where(VolunteerReplica.id == ident).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        # Out of this scope (row security): a transfer moved the home after
        # this event; the volunteer's later events come under the new home.
        return
    if not newer_status(row.status, status):
        return
    # A birth date from an event is exact; never replace it with nothing.
    values["birth_date"] = birth or row.birth_date
    last_move = row.home_moved_at
    if last_move is not None and (at is None or at < utc(last_move)):
        values.pop("home_division_code")
        values.pop("home_moved_at", None)
    for key, value in values.items():
        setattr(row, key, value)


def upsert_organisation(
    s: Session, ident: str, name: str, kind: str, code: str, parent: str | None
) -> None:
    values = {
        "name": name,
        "kind": kind,
        "division_code": code,
        "parent_id": parent or None,
        "updated_at": outbox.now(),
    }
    if not _insert_new(s, OrganisationReplica, ident, values):
        s.execute(
            update(OrganisationReplica)
            .where(OrganisationReplica.id == ident)
            .values(**values)
        )


def _insert_new(s: Session, model: Any, ident: str, values: dict[str, Any]) -> bool:
    """Insert the row unless its id exists (waiting for a concurrent insert
    to commit); True if this call inserted it."""
    stmt = (
        upsertable_insert(s, model).values(id=ident, **values).on_conflict_do_nothing()
    )
    return s.execute(stmt.returning(model.id)).scalar_one_or_none() is not None


def apply(db: Database, consumer: str, body: dict[str, Any]) -> bool:
    """Apply one registration event to the replica; False if seen before."""
    env = outbox.Envelope.from_body(body)
    data = env.data
    # The event's own division is the scope its effect is written under.
    with db.session(Scope(env.division_code)) as s:
        if not outbox.claim(s, PROCESSED, consumer, env.event_id):
            return False
        if env.event_type.startswith("registration.volunteer."):
            birth = data.get("birth_date") or ""
            upsert_volunteer(
                s,
                str(data["volunteer_id"]),
                str(data["volunteer_number"]),
                str(data.get("home_division_code") or env.division_code),
                str(data["status"]),
                date.fromisoformat(birth) if birth else None,
                list(data.get("service_fields") or []),
                at=_moment(env.occurred_at),
            )
        elif env.event_type == "registration.organisation.created":
            upsert_organisation(
                s,
                str(data["organisation_id"]),
                str(data["name"]),
                str(data["kind"]),
                env.division_code,
                data.get("parent_id") or None,
            )
        return True


def _moment(raw: str) -> datetime | None:
    """An event's ``occurred_at``; None when it is not a time."""
    try:
        return parse(raw)
    except ValueError:
        return None


def apply_settings(db: Database, consumer: str, body: dict[str, Any]) -> bool:
    """``registration.settings.changed``: the node's complete overrides
    replace its replica row (an older change arriving late changes nothing);
    False if seen before or older."""
    env = outbox.Envelope.from_body(body)
    code, overrides, when = settings_replica.from_event(env)
    with db.session(Scope(code)) as s:
        if not outbox.claim(s, PROCESSED, consumer, env.event_id):
            return False
        return settings_replica.replace(s, PolicyNode, code, overrides, when)


def apply_imported(db: Database, consumer: str, body: dict[str, Any]) -> bool:
    """``registration.volunteers.imported``: each volunteer of the part as
    :func:`apply` would leave them after the per-volunteer events the part
    stands for (set-wise: one upsert for the part), under the part's one
    claim; False if seen before."""
    env = outbox.Envelope.from_body(body)
    latest: dict[str, dict[str, Any]] = {}
    for one in volunteer_events.expand(env):
        d = one.data
        latest[d["volunteer_id"]] = {  # the events agree; the last one counts
            "id": d["volunteer_id"],
            "volunteer_number": d["volunteer_number"],
            "home_division_code": d["home_division_code"],
            "status": d["status"],
            "birth_date": date.fromisoformat(d["birth_date"]),
            "service_fields": list(d["service_fields"]),
        }
    with db.session(Scope(env.division_code)) as s:
        if not outbox.claim(s, PROCESSED, consumer, env.event_id):
            return False
        if latest:
            upsert_volunteers(s, list(latest.values()))
        return True


def upsert_volunteers(s: Session, rows: list[dict[str, Any]]) -> None:
    """:func:`upsert_volunteer` for many volunteers (distinct ids) in one
    statement: a new one is inserted; a known one takes the values only when
    its status may move (:func:`newer_status`), keeping its birth date when
    the row gives none."""
    when = outbox.now()
    t = VolunteerReplica.__table__
    stmt = upsertable_insert(s, t)
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.c.id],
        set_={
            "volunteer_number": stmt.excluded.volunteer_number,
            # A home a transfer moved is the transfer's (imports come first).
            "home_division_code": case(
                (t.c.home_moved_at.is_(None), stmt.excluded.home_division_code),
                else_=t.c.home_division_code,
            ),
            "status": stmt.excluded.status,
            "birth_date": case(
                (stmt.excluded.birth_date.is_(None), t.c.birth_date),
                else_=stmt.excluded.birth_date,
            ),
            "service_fields": stmt.excluded.service_fields,
            "updated_at": stmt.excluded.updated_at,
        },
        where=_rank(stmt.excluded.status) >= _rank(t.c.status),
    )
    s.execute(stmt, [{**r, "updated_at": when} for r in rows])


def _rank(status: Any) -> Any:
    """:data:`RANK` in SQL."""
    ranked = [(status == k, v) for k, v in RANK.items() if v]
    return case(*ranked, else_=0)
