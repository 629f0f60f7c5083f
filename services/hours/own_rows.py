"""A volunteer's own rows, wherever they are kept, read by the volunteer's id.

A volunteer serves in many divisions; its token's scope is its home. Its own
pages read its records, their corrections, its objections, its certificates
and its time-bank balance by the volunteer id the token names (the ``vol``
claim, :func:`services.common.roles.own_volunteer`), never by widening the
caller's scope: in PostgreSQL each read is a ``SECURITY DEFINER`` function
of migration 0004 that takes the volunteer id and returns only that
volunteer's rows, as :mod:`.cross_tenant`'s questions do. Filing an
objection is one too: the row lies under the record's division, outside the
volunteer's scope, and the function writes it only for the volunteer's own
record. SQLite (embedded mode, no row security) runs plain queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, defer

from services.hours.cross_tenant import _pg
from services.hours.models import (
    BankAccount,
    BankEntry,
    Certificate,
    Complaint,
    Correction,
    Evaluation,
    HourRecord,
    Objection,
)


def records(
    s: Session, volunteer_id: str, status: str | None, limit: int, offset: int
) -> tuple[list[HourRecord], int]:
    """A page of the volunteer's records (``limit`` 0: all), newest first,
    and how many there are."""
    where = "(CAST(:st AS text) = '' OR status = :st)"
    args = {"v": volunteer_id, "st": status or ""}
    if _pg(s):
        total = s.execute(
            text(f"SELECT count(*) FROM hours_own_records(:v) WHERE {where}"), args
        ).scalar_one()
        sql = (
            f"SELECT * FROM hours_own_records(:v) WHERE {where}"
            " ORDER BY started_at DESC, id" + (" LIMIT :n OFFSET :o" if limit else "")
        )
        q = select(HourRecord).from_statement(text(sql))
        rows = s.execute(q, {**args, "n": limit, "o": offset}).scalars()
        return list(rows), int(total)
    base = select(HourRecord).where(HourRecord.volunteer_id == volunteer_id)
    if status:
        base = base.where(HourRecord.status == status)
    total = s.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    q = base.order_by(HourRecord.started_at.desc(), HourRecord.id)
    if limit:
        q = q.limit(limit).offset(offset)
    return list(s.execute(q).scalars()), int(total)


def record(s: Session, volunteer_id: str, ident: str) -> HourRecord | None:
    """One of the volunteer's records (None: no such record of theirs)."""
    if _pg(s):
        q = select(HourRecord).from_statement(
            text("SELECT * FROM hours_own_records(:v) WHERE id = :i")
        )
        return s.execute(q, {"v": volunteer_id, "i": ident}).scalar_one_or_none()
    return s.execute(
        select(HourRecord).where(
            HourRecord.volunteer_id == volunteer_id, HourRecord.id == ident
        )
    ).scalar_one_or_none()


def corrections(
    s: Session, volunteer_id: str, record_ids: Sequence[str]
) -> dict[str, list[Correction]]:
    """The corrections of the volunteer's records ``record_ids``, oldest first."""
    out: dict[str, list[Correction]] = {i: [] for i in record_ids}
    if not record_ids:
        return out
    if _pg(s):
        q = select(Correction).from_statement(
            text(
                "SELECT * FROM hours_own_corrections(:v, CAST(:ids AS text[]))"
                " ORDER BY created_at, id"
            )
        )
        rows = s.execute(q, {"v": volunteer_id, "ids": list(record_ids)}).scalars()
    else:
        rows = s.execute(
            select(Correction)
            .join(HourRecord, HourRecord.id == Correction.record_id)
            .where(
                HourRecord.volunteer_id == volunteer_id,
                Correction.record_id.in_(list(record_ids)),
            )
            .order_by(Correction.created_at, Correction.id)
        ).scalars()
    for c in rows:
        out[c.record_id].append(c)
    return out


def objections(s: Session, volunteer_id: str) -> list[Objection]:
    """The volunteer's objections, oldest first."""
    if _pg(s):
        q = select(Objection).from_statement(
            text("SELECT * FROM hours_own_objections(:v) ORDER BY filed_at, id")
        )
        return list(s.execute(q, {"v": volunteer_id}).scalars())
    return list(
        s.execute(
            select(Objection)
            .where(Objection.volunteer_id == volunteer_id)
            .order_by(Objection.filed_at, Objection.id)
        ).scalars()
    )


def file_objection(
    s: Session, ident: str, volunteer_id: str, record_id: str, reason: str, at: datetime
) -> Objection | None:
    """Write an open objection to the volunteer's own record ``record_id``
    under the record's division; None when it is no record of theirs."""
    if _pg(s):
        q = select(Objection).from_statement(
            text("SELECT * FROM hours_own_objection_file(:i, :v, :r, :why, :at)")
        )
        args = {"i": ident, "v": volunteer_id, "r": record_id, "why": reason, "at": at}
        return s.execute(q, args).scalar_one_or_none()
    rec = record(s, volunteer_id, record_id)
    if rec is None:
        return None
    row = Objection(
        id=ident, record_id=rec.id, division_code=rec.division_code,
        volunteer_id=volunteer_id, volunteer_number=rec.volunteer_number,
        reason=reason, status="open", filed_at=at, resolution_note="",
    )  # fmt: skip
    s.add(row)
    s.flush()
    return row


def evaluations(
    s: Session, volunteer_id: str, record_ids: Sequence[str]
) -> list[Evaluation]:
    """The current evaluations of the volunteer's records ``record_ids``
    (migration 0006's function in PostgreSQL)."""
    if not record_ids:
        return []
    if _pg(s):
        q = select(Evaluation).from_statement(
            text(
                "SELECT * FROM hours_own_evaluations(:v, CAST(:ids AS text[]))"
                " ORDER BY evaluated_at, id"
            )
        )
        return list(
            s.execute(q, {"v": volunteer_id, "ids": list(record_ids)}).scalars()
        )
    return list(
        s.execute(
            select(Evaluation)
            .where(
                Evaluation.volunteer_id == volunteer_id,
                Evaluation.record_id.in_(list(record_ids)),
                Evaluation.superseded_at.is_(None),
            )
            .order_by(Evaluation.evaluated_at, Evaluation.id)
        ).scalars()
    )


def complaints(s: Session, volunteer_id: str) -> list[Complaint]:
    """The complaints about the volunteer, oldest first."""
    if _pg(s):
        q = select(Complaint).from_statement(
            text("SELECT * FROM hours_own_complaints(:v) ORDER BY filed_at, id")
        )
        return list(s.execute(q, {"v": volunteer_id}).scalars())
    return list(
        s.execute(
            select(Complaint)
            .where(Complaint.volunteer_id == volunteer_id)
            .order_by(Complaint.filed_at, Complaint.id)
        ).scalars()
    )


def reply_to_complaint(
    s: Session, ident: str, volunteer_id: str, reply: str, at: datetime
) -> Complaint | None:
    """Write the volunteer's reply to its own open complaint ``ident``
    (status replied); None when it is no open complaint about them."""
    if _pg(s):
        # The session may hold the row as read before the update: the
        # function's answer replaces it (a refresh would read the table,
        # which row security hides from the volunteer's scope).
        q = (
            select(Complaint)
            .from_statement(
                text("SELECT * FROM hours_own_complaint_reply(:i, :v, :r, :at)")
            )
            .execution_options(populate_existing=True)
        )
        args = {"i": ident, "v": volunteer_id, "r": reply, "at": at}
        return s.execute(q, args).scalar_one_or_none()
    found = s.execute(
        select(Complaint).where(
            Complaint.id == ident,
            Complaint.volunteer_id == volunteer_id,
            Complaint.status == "open",
        )
    ).scalar_one_or_none()
    if found is None:
        return None
    found.reply, found.replied_at, found.status = reply, at, "replied"
    s.flush()
    return found


def certificates(s: Session, volunteer_id: str, number: str = "") -> list[Certificate]:
    """The volunteer's certificates, newest first; with ``number``, that one
    with its PDF (a list leaves the PDF out)."""
    if _pg(s):
        q = select(Certificate).from_statement(
            text(
                "SELECT * FROM hours_own_certificates(:v, :n)"
                " ORDER BY issued_at DESC, number DESC"
            )
        )
        return list(s.execute(q, {"v": volunteer_id, "n": number}).scalars())
    q = select(Certificate).where(Certificate.volunteer_id == volunteer_id)
    q = (
        q.where(Certificate.number == number)
        if number
        else q.options(defer(Certificate.pdf))
    )
    q = q.order_by(Certificate.issued_at.desc(), Certificate.number.desc())
    return list(s.execute(q).scalars())


def bank_balance(s: Session, volunteer_id: str) -> Decimal:
    """The balance of the volunteer's accounts in every time bank."""
    if _pg(s):
        got = s.execute(
            text("SELECT hours_own_bank_balance(:v)"), {"v": volunteer_id}
        ).scalar_one()
        return Decimal(got)
    q = (
        select(func.coalesce(func.sum(BankEntry.amount), 0))
        .join(BankAccount, BankAccount.id == BankEntry.account_id)
        .where(
            BankAccount.kind == "volunteer", BankAccount.volunteer_id == volunteer_id
        )
    )
    return Decimal(str(s.execute(q).scalar_one()))
