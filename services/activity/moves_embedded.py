"""The moves of :mod:`services.activity.moves` in Python, for the embedded
SQLite (no row security there): what migrations 0007 and 0008's PostgreSQL
functions do, row for row, in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.orm import Session, aliased

from services.activity import models as m
from services.common.times import utc

if TYPE_CHECKING:  # the types only: moves imports this module
    from services.activity.moves import Merge, Transfer

ACTIVE = ("pending", "confirmed", "waitlisted")


def transfer(s: Session, t: Transfer, now: datetime) -> int:
    """Move the volunteer's future commitments and replica to the new home;
    the number of rows moved (0 when followed before)."""
    if s.get(m.VolunteerTransfer, t.transfer_id) is not None:
        return 0
    at = t.occurred_at
    tt = m.VolunteerTransfer
    nxt = s.execute(
        select(func.min(tt.occurred_at)).where(
            tt.volunteer_id == t.volunteer_id, tt.occurred_at > at
        )
    ).scalar()
    su, se = m.SignUp, m.ProjectSession
    held = select(m.Attendance.id).where(m.Attendance.sign_up_id == su.id).exists()
    sign_ups = _ids(
        s,
        select(su.id)
        .join(se, se.id == su.session_id)
        .where(
            su.volunteer_id == t.volunteer_id,
            _window(se.starts_at, at, nxt),
            su.volunteer_division_code != t.to_code,
            ~held,
        ),
    )
    ta, ts = m.TrainingAttendance, m.TrainingSession
    training = _ids(
        s,
        select(ta.id)
        .join(ts, ts.id == ta.training_session_id)
        .where(
            ta.volunteer_id == t.volunteer_id,
            _window(ts.starts_at, at, nxt),
            ta.volunteer_division_code != t.to_code,
        ),
    )
    for model, ids in ((su, sign_ups), (ta, training)):
        if ids:
            s.execute(
                update(model)
                .where(model.id.in_(ids))
                .values(volunteer_division_code=t.to_code)
            )
    row = s.get(m.VolunteerReplica, t.volunteer_id)
    if row is not None and (row.home_moved_at is None or utc(row.home_moved_at) < at):
        row.home_division_code, row.home_moved_at = t.to_code, at
        row.updated_at = now
    s.add(
        m.VolunteerTransfer(
            transfer_id=t.transfer_id, division_code=t.to_code,
            from_division_code=t.from_code, volunteer_id=t.volunteer_id,
            occurred_at=at, sign_up_ids=sign_ups,
            training_attendance_ids=training, applied_at=now,
        )
    )  # fmt: skip
    s.flush()
    return len(sign_ups) + len(training)


def merge(s: Session, mg: Merge, now: datetime) -> int:
    """Re-point the merged volunteer's rows to the survivor and keep their
    ids; the number moved (0 when followed before, -1 when reverted before)."""
    known = s.get(m.VolunteerMerge, mg.merge_id)
    if known is not None:
        return 0 if known.reverted_at is None else -1
    moved: dict[str, list[str]] = {}
    su = m.SignUp
    other = aliased(su)
    clash = and_(
        su.status.in_(ACTIVE),
        exists().where(
            other.session_id == su.session_id,
            other.volunteer_id == mg.survivor_id,
            other.status.in_(ACTIVE),
        ),
    )
    moved["sign_ups"] = _repoint(s, mg, su, ~clash)
    at, a2 = m.Attendance, aliased(m.Attendance)
    moved["attendances"] = _repoint(
        s,
        mg,
        at,
        at.sign_up_id.in_(moved["sign_ups"]),
        ~exists().where(
            a2.session_id == at.session_id, a2.volunteer_id == mg.survivor_id
        ),
    )
    pa, p2 = m.Pair, aliased(m.Pair)
    moved["pairs"] = _repoint(
        s,
        mg,
        pa,
        ~exists().where(
            p2.recipient_id == pa.recipient_id, p2.volunteer_id == mg.survivor_id
        ),
    )
    moved["visits"] = _repoint(s, mg, m.Visit, m.Visit.pair_id.in_(moved["pairs"]))
    ta, t2 = m.TrainingAttendance, aliased(m.TrainingAttendance)
    moved["training_attendances"] = _repoint(
        s,
        mg,
        ta,
        ~exists().where(
            t2.training_session_id == ta.training_session_id,
            t2.volunteer_id == mg.survivor_id,
        ),
    )
    homes = _move_homes(s, mg, moved, now)
    s.add(_record(mg, {**moved, "homes": homes}, now, None))
    s.flush()
    return sum(len(ids) for ids in moved.values())


def _move_homes(
    s: Session, mg: Merge, moved: dict[str, list[str]], now: datetime
) -> dict[str, list[list[str]]]:
    """The moved sign-ups and training attendances of sessions to come take
    the survivor's home; their homes before, by table."""
    homes: dict[str, list[list[str]]] = {}
    for model, sessions, key in (
        (m.SignUp, m.ProjectSession, m.SignUp.session_id),
        (
            m.TrainingAttendance,
            m.TrainingSession,
            m.TrainingAttendance.training_session_id,
        ),
    ):
        rows = s.execute(
            select(model.id, model.volunteer_division_code)
            .join(sessions, sessions.id == key)
            .where(
                model.id.in_(moved[model.__tablename__]),
                sessions.starts_at > now,
                model.volunteer_division_code != mg.survivor_code,
            )
            .order_by(model.id)
        ).tuples()
        homes[model.__tablename__] = [[str(i), str(c)] for i, c in rows]
        ids = [i for i, _ in homes[model.__tablename__]]
        if ids:
            s.execute(
                update(model)
                .where(model.id.in_(ids))
                .values(volunteer_division_code=mg.survivor_code)
            )
    return homes


def unmerge(s: Session, mg: Merge, now: datetime) -> int:
    """Point exactly what the merge moved back; the number of rows."""
    row = s.get(m.VolunteerMerge, mg.merge_id)
    if row is None:  # the revert came first: the late merge moves nothing
        s.add(_record(mg, {}, now, now))
        s.flush()
        return 0
    if row.reverted_at is not None:
        return 0
    total = 0
    for model in (m.SignUp, m.Attendance, m.Pair, m.Visit, m.TrainingAttendance):
        ids = list(row.moved.get(model.__tablename__, []))
        if not ids:
            continue
        back = _ids(
            s,
            select(model.id).where(
                model.id.in_(ids), model.volunteer_id == row.survivor_id
            ),
        )
        total += _set(s, model, back, row.merged_id, row.merged_number)
    for model in (m.SignUp, m.TrainingAttendance):
        for ident, code in row.moved.get("homes", {}).get(model.__tablename__, []):
            s.execute(
                update(model)
                .where(model.id == ident, model.volunteer_id == row.merged_id)
                .values(volunteer_division_code=code)
            )
    row.reverted_at = now
    s.flush()
    return total


def _repoint(s: Session, mg: Merge, model: Any, *where: Any) -> list[str]:
    ids = _ids(s, select(model.id).where(model.volunteer_id == mg.merged_id, *where))
    _set(s, model, ids, mg.survivor_id, mg.survivor_number)
    return ids


def _set(s: Session, model: Any, ids: list[str], volunteer: str, number: str) -> int:
    if ids:
        s.execute(
            update(model)
            .where(model.id.in_(ids))
            .values(volunteer_id=volunteer, volunteer_number=number)
        )
    return len(ids)


def _record(
    mg: Merge, moved: dict[str, Any], now: datetime, reverted: datetime | None
) -> m.VolunteerMerge:
    return m.VolunteerMerge(
        merge_id=mg.merge_id, division_code=mg.survivor_code,
        merged_division_code=mg.merged_code, survivor_id=mg.survivor_id,
        survivor_number=mg.survivor_number, merged_id=mg.merged_id,
        merged_number=mg.merged_number, moved=moved, merged_at=now,
        reverted_at=reverted,
    )  # fmt: skip


def _window(starts_at: Any, at: datetime, nxt: datetime | None) -> Any:
    """Sessions starting after the transfer and, when a later transfer was
    already followed, no later than it (those are the later one's)."""
    after = starts_at > at
    return after if nxt is None else and_(after, starts_at <= nxt)


def _ids(s: Session, query: Any) -> list[str]:
    return sorted(str(i) for i in s.execute(query).scalars())
