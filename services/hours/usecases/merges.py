"""Duplicate registrations merged (issue 14): hours follows
``registration.volunteer.merged`` and ``.unmerged``.

Merged: the merged volunteer's hour records (every division: a volunteer
serves anywhere) and certificates point at the survivor, in one set-wise
UPDATE each, and their presence rows fold into the survivor's, so the
survivor's platform total, list and certificates show all the hours. Its
objections, complaints and evaluations point at the survivor too, and its
time bank moves: each bank's entries into the survivor's account there,
so the survivor's balance in each bank is both (migration 0011 says why
entries move rather than accounts).
Rollups are not touched: the hours were counted where the service was done.
Certificates keep their numbers (verified by number, still valid) and the
volunteer number printed on them. What moved is kept (``hours_merges``), so
``.unmerged`` points exactly those back. In PostgreSQL the records lie
outside the survivor home's scope: migration 0011's SECURITY DEFINER
functions move them; the embedded SQLite does the same in Python (here and
in :mod:`services.hours.usecases.merge_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from services.common.outbox import Envelope
from services.common.tenancy import Scope
from services.hours.models import Certificate, HourRecord, Presence, VolunteerMerge
from services.hours.usecases.base import Context
from services.hours.usecases.merge_rows import merge_rows, unmerge_rows


@dataclass(frozen=True)
class Merge:
    """What a ``registration.volunteer.merged`` (or ``.unmerged``) says."""

    merge_id: str
    code: str  # the survivor's home
    survivor_id: str
    survivor_number: str
    merged_id: str
    merged_number: str

    @classmethod
    def from_event(cls, env: Envelope) -> Merge:
        d = env.data
        return cls(
            str(d["merge_id"]),
            str(d["survivor_division_code"]),
            str(d["survivor_id"]),
            str(d["survivor_number"]),
            str(d["merged_id"]),
            str(d["merged_number"]),
        )


class MergeCases:
    """Re-point a merged volunteer's hours to the survivor, and back."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def follow(self, consumer: str, event_id: str, m: Merge, undo: bool) -> bool:
        """Apply one merge (``undo``: its revert); False if done before."""
        with self.ctx.uow(Scope(m.code)) as work:
            repo = self.ctx.repo(work)
            if not repo.claim(consumer, event_id):
                return False
            s, now = repo.s, self.ctx.clock()
            pg = s.get_bind().dialect.name == "postgresql"
            if undo:
                (_unmerge_pg if pg else _unmerge)(s, m, now)
            else:
                (_merge_pg if pg else _merge)(s, m, now)
            return True


def _merge_pg(s: Session, m: Merge, now: datetime) -> None:
    s.execute(
        text(
            "SELECT hours_merge_volunteer(:id, :code, :s, :sn, :m, :mn, :at)"
        ),
        {
            "id": m.merge_id, "code": m.code, "s": m.survivor_id,
            "sn": m.survivor_number, "m": m.merged_id, "mn": m.merged_number,
            "at": now,
        },
    )  # fmt: skip


def _unmerge_pg(s: Session, m: Merge, now: datetime) -> None:
    s.execute(
        text("SELECT hours_unmerge_volunteer(:id, :code, :at)"),
        {"id": m.merge_id, "code": m.code, "at": now},
    )


def _merge(s: Session, m: Merge, now: datetime) -> None:
    if s.get(VolunteerMerge, m.merge_id) is not None:
        return
    records = list(
        s.execute(
            select(HourRecord.id).where(HourRecord.volunteer_id == m.merged_id)
        ).scalars()
    )
    s.execute(
        update(HourRecord)
        .where(HourRecord.volunteer_id == m.merged_id)
        .values(volunteer_id=m.survivor_id, volunteer_number=m.survivor_number)
    )
    numbers = list(
        s.execute(
            select(Certificate.number).where(Certificate.volunteer_id == m.merged_id)
        ).scalars()
    )
    s.execute(
        update(Certificate)
        .where(Certificate.volunteer_id == m.merged_id)
        .values(volunteer_id=m.survivor_id)
    )
    rows = list(
        s.execute(
            select(Presence).where(Presence.volunteer_id == m.merged_id)
        ).scalars()
    )
    presence: list[list[str | int]] = [
        [p.division_code, p.month, p.service_field, p.records] for p in rows
    ]
    for row in rows:
        s.delete(row)
    s.flush()
    for code, month, field, n in presence:
        _add_presence(s, m.survivor_id, str(code), str(month), str(field), int(n))
    moved = merge_rows(s, m.survivor_id, m.survivor_number, m.merged_id, now)
    s.add(
        VolunteerMerge(
            merge_id=m.merge_id, division_code=m.code, survivor_id=m.survivor_id,
            survivor_number=m.survivor_number, merged_id=m.merged_id,
            merged_number=m.merged_number, record_ids=records,
            certificate_numbers=numbers, presence=presence, merged_at=now,
            **moved,
        )
    )  # fmt: skip


def _unmerge(s: Session, m: Merge, now: datetime) -> None:
    row = s.get(VolunteerMerge, m.merge_id)
    if row is None or row.reverted_at is not None:
        return
    s.execute(
        update(HourRecord)
        .where(
            HourRecord.id.in_(row.record_ids),
            HourRecord.volunteer_id == row.survivor_id,
        )
        .values(volunteer_id=row.merged_id, volunteer_number=row.merged_number)
    )
    s.execute(
        update(Certificate)
        .where(
            Certificate.number.in_(row.certificate_numbers),
            Certificate.volunteer_id == row.survivor_id,
        )
        .values(volunteer_id=row.merged_id)
    )
    for code, month, field, n in row.presence:
        key = (row.survivor_id, str(code), str(month), str(field))
        mine = s.get(Presence, key)
        if mine is not None:
            mine.records -= int(n)
        _add_presence(s, row.merged_id, str(code), str(month), str(field), int(n))
    s.flush()
    s.execute(
        delete(Presence).where(
            Presence.volunteer_id == row.survivor_id, Presence.records <= 0
        )
    )
    unmerge_rows(s, row, now)
    row.reverted_at = now


def _add_presence(
    s: Session, volunteer: str, code: str, month: str, field: str, n: int
) -> None:
    mine = s.get(Presence, (volunteer, code, month, field))
    if mine is None:
        s.add(
            Presence(
                volunteer_id=volunteer, division_code=code, month=month,
                service_field=field, records=n,
            )
        )  # fmt: skip
        s.flush()
    else:
        mine.records += n
