"""Hours' tables. Tenant tables carry a division code that row-level security
(see the migration) and every repository query filter on. Amounts are
NUMERIC hours with two places; nothing here is ever edited to change an
amount: corrections and ledger entries are rows of their own."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.outbox import outbox_table, processed_table
from services.common.rollup import Rollup

# The service fields that have rollup columns, as of migration 0001. Pinned
# here (not read from the kernel's list) because the columns and the rollup
# function's signature are schema: a new field needs a migration, and a unit
# test says so when the kernel's list grows.
ROLLUP_FIELDS: tuple[str, ...] = (
    "elderly_care",
    "minors",
    "medical",
    "mental_health",
    "emergency",
    "legal_aid",
    "poverty_relief",
    "environment",
    "civilisation",
    "culture_education",
    "large_events",
    "recycling",
)
BASE_METRICS = ("hours", "records", "volunteers")
# Service field as part of the key by metric name: "hours_elderly_care" etc.
# One row per (division, period) keeps the kernel's Rollup as it is.
# Volunteers are distinct counts, kept exactly per month, year and all time
# at write time (services/hours/rollups.py), never summed over months.
ROLLUP = Rollup(
    "hours_rollup",
    [*BASE_METRICS, *(f"{m}_{f}" for f in ROLLUP_FIELDS for m in BASE_METRICS)],
    distinct=("volunteers", *(f"volunteers_{f}" for f in ROLLUP_FIELDS)),
)
# Hours served at service positions (阵地), in their own table (migration
# 0008): the hours rollup's columns and function are schema frozen earlier.
POSITION_ROLLUP = Rollup("hours_position_rollup", ["position_hours"])
HOURS = Numeric(10, 2)


class Base(DeclarativeBase):
    metadata = MetaData()


OUTBOX = outbox_table(Base.metadata)
PROCESSED = processed_table(Base.metadata)
ROLLUP_TABLE = ROLLUP.table(Base.metadata)
POSITION_ROLLUP_TABLE = POSITION_ROLLUP.table(Base.metadata)


class HourRecord(Base):
    __tablename__ = "hour_records"
    __table_args__ = (
        UniqueConstraint("source", "source_id"),
        Index("ix_hour_records_volunteer_start", "volunteer_id", "started_at"),
        # The bulk import's look for pending records in other provinces.
        Index(
            "ix_hour_records_pending_volunteer",
            "volunteer_id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source: Mapped[str] = mapped_column(String(12))  # attendance|visit|honour
    source_id: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str | None] = mapped_column(String(36))
    volunteer_id: Mapped[str] = mapped_column(String(36))
    volunteer_number: Mapped[str] = mapped_column(String(20))
    # The partition key in PostgreSQL (migration 0002): C order, so a
    # subtree is a range that prunes partitions and uses the index.
    division_code: Mapped[str] = mapped_column(String(12, collation="C"), index=True)
    organisation_id: Mapped[str] = mapped_column(String(36))
    organisation_name: Mapped[str] = mapped_column(String(200))
    service_field: Mapped[str] = mapped_column(String(40))
    activity_kind: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    duration_seconds: Mapped[int] = mapped_column(Integer)
    service_day: Mapped[date] = mapped_column(Date)
    month: Mapped[str] = mapped_column(String(7))
    rounding: Mapped[str] = mapped_column(String(12))
    rounded_hours: Mapped[Decimal] = mapped_column(HOURS)
    hours: Mapped[Decimal] = mapped_column(HOURS)
    capped_hours: Mapped[Decimal] = mapped_column(HOURS)
    note: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), index=True)
    status_reason: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[str | None] = mapped_column(String(100))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The service position named by the office (migration 0008), or None.
    position_id: Mapped[str | None] = mapped_column(String(36))


class Correction(Base):
    """An amendment or reversal of an approved record (append-only)."""

    __tablename__ = "hour_corrections"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    record_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("hour_records.id"), index=True
    )
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # amend|reversal
    previous_hours: Mapped[Decimal] = mapped_column(HOURS)
    new_hours: Mapped[Decimal] = mapped_column(HOURS)
    delta_hours: Mapped[Decimal] = mapped_column(HOURS)
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Objection(Base):
    """A volunteer's objection to one of its records (a correction request),
    kept under the record's division: that office's queue. One open at a
    time per record (a partial unique index)."""

    __tablename__ = "hour_objections"
    __table_args__ = (
        Index(
            "ux_hour_objections_open",
            "record_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    record_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("hour_records.id"), index=True
    )
    division_code: Mapped[str] = mapped_column(String(12, collation="C"), index=True)
    volunteer_id: Mapped[str] = mapped_column(String(36), index=True)
    volunteer_number: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))  # open|corrected|dismissed
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution_note: Mapped[str] = mapped_column(Text)
    correction_id: Mapped[str | None] = mapped_column(String(36))


class Evaluation(Base):
    """The organiser's rating of an approved record's service quality (评价),
    kept under the record's division. Replacing one keeps the old row,
    ``superseded_at`` set: at most one current evaluation per record (a
    partial unique index), and the history is the audit."""

    __tablename__ = "hour_evaluations"
    __table_args__ = (
        Index(
            "ux_hour_evaluations_current",
            "record_id",
            unique=True,
            postgresql_where=text("superseded_at IS NULL"),
            sqlite_where=text("superseded_at IS NULL"),
        ),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    record_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("hour_records.id"), index=True
    )
    division_code: Mapped[str] = mapped_column(String(12, collation="C"), index=True)
    volunteer_id: Mapped[str] = mapped_column(String(36), index=True)
    volunteer_number: Mapped[str] = mapped_column(String(20))
    score: Mapped[int] = mapped_column(Integer)  # 1 差 .. 5 优
    # Poor under the tenant policy in force at the record's division when
    # it was made (what hours.record.evaluated published).
    poor: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str] = mapped_column(Text)
    # The scope of the office that evaluated: it (or an office above it)
    # may replace the evaluation, not one below or beside it.
    evaluator_scope: Mapped[str] = mapped_column(String(12))
    evaluated_by: Mapped[str] = mapped_column(String(100))
    evaluated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    replaced: Mapped[int] = mapped_column(Integer)
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Complaint(Base):
    """A complaint about a volunteer (投诉), kept under the division of the
    office that filed it (that office's queue): the text, the volunteer's
    reply, the outcome. status: open → replied → upheld | dismissed (an
    office may decide an open one the volunteer has not answered)."""

    __tablename__ = "hour_complaints"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    division_code: Mapped[str] = mapped_column(String(12, collation="C"), index=True)
    volunteer_id: Mapped[str] = mapped_column(String(36), index=True)
    volunteer_number: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[str] = mapped_column(String(36))  # '' if none
    organisation_id: Mapped[str] = mapped_column(String(36))  # '' the office's
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))
    filed_by: Mapped[str] = mapped_column(String(100))
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reply: Mapped[str] = mapped_column(Text)
    replied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PolicyNode(Base):
    """Replica of one node's complete setting overrides (from registration)."""

    __tablename__ = "policy_overrides"
    division_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    overrides: Mapped[dict[str, str]] = mapped_column(JSON)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Presence(Base):
    """Approved records per (volunteer, the record's own division, month,
    service field): the basis of the distinct-volunteer counters. One narrow
    row per place a volunteer served in a month, not one per ancestor; the
    key leads with the volunteer, whose few rows decide which counters move
    when one appears or disappears. Never leaves the service."""

    __tablename__ = "hours_presence"
    volunteer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    division_code: Mapped[str] = mapped_column(
        String(12, collation="C"), primary_key=True
    )
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    service_field: Mapped[str] = mapped_column(String(40), primary_key=True)
    records: Mapped[int] = mapped_column(Integer)


class Certificate(Base):
    __tablename__ = "certificates"
    number: Mapped[str] = mapped_column(String(40), primary_key=True)
    volunteer_id: Mapped[str] = mapped_column(String(36), index=True)
    volunteer_number: Mapped[str] = mapped_column(String(20))
    name_masked: Mapped[str] = mapped_column(String(50))
    id_type: Mapped[str] = mapped_column(String(20))
    id_number_masked: Mapped[str] = mapped_column(String(18))
    hours: Mapped[Decimal] = mapped_column(HOURS)
    service_content: Mapped[str] = mapped_column(Text)
    issuer_name: Mapped[str] = mapped_column(String(200))
    person_in_charge: Mapped[str] = mapped_column(String(50))
    handler: Mapped[str] = mapped_column(String(50))
    contact: Mapped[str] = mapped_column(String(100))
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    organisation_id: Mapped[str] = mapped_column(String(36))
    period_start: Mapped[str] = mapped_column(String(7))
    period_end: Mapped[str] = mapped_column(String(7))
    issued_on: Mapped[date] = mapped_column(Date)
    issued_by: Mapped[str] = mapped_column(String(100))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(10))  # valid|revoked
    revoked_reason: Mapped[str] = mapped_column(Text)
    revoked_by: Mapped[str | None] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    # The training and awards lines printed on it, drawn from activity's and
    # commendation's records when issued (migration 0012): kept, so the
    # certificate reads the same whatever the records say later.
    training_lines: Mapped[list[str]] = mapped_column(JSON, default=list)
    award_lines: Mapped[list[str]] = mapped_column(JSON, default=list)


class Seal(Base):
    """The seal image (公章) certificates issued at a node carry: the
    office's (organisation_id '') or an organisation's. The image is sealed
    with the PII cipher (context ``certificate.seal``) when a key is set,
    as certificates' PDFs are. A node reads its ancestors' seals (row
    security, as settings): a certificate issued below an office carries the
    office's seal."""

    __tablename__ = "certificate_seals"
    division_code: Mapped[str] = mapped_column(
        String(12, collation="C"), primary_key=True
    )
    organisation_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(20))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    image: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CertificateCounter(Base):
    """Serial numbers per province and year (no tenant data)."""

    __tablename__ = "certificate_counters"
    province: Mapped[str] = mapped_column(String(2), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class BankAccount(Base):
    __tablename__ = "timebank_accounts"
    __table_args__ = (UniqueConstraint("division_code", "kind", "volunteer_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # bank|volunteer
    volunteer_id: Mapped[str] = mapped_column(String(36), index=True)  # '' = bank
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BankTransaction(Base):
    __tablename__ = "timebank_transactions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # deposit|adjustment|withdrawal
    volunteer_id: Mapped[str] = mapped_column(String(36), index=True)
    record_id: Mapped[str] = mapped_column(String(36), index=True)  # '' if none
    ratio: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    description: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100))
    # "<subject>/<client key>" for withdrawals, "<event>/<event id>" for the
    # worker's postings: the same request or event posts once.
    request_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BankEntry(Base):
    __tablename__ = "timebank_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transaction_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("timebank_transactions.id"), index=True
    )
    account_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("timebank_accounts.id"), index=True
    )
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))


class VolunteerMerge(Base):
    """What hours moved for a merge of duplicate registrations (migrations
    0009, 0011): the merged volunteer's record ids, certificate numbers,
    presence rows ([division, month, field, records]), conduct rows and
    time-bank entries, re-pointed to the survivor; a revert points exactly
    those back. Under the survivor's home."""

    __tablename__ = "hours_merges"
    merge_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    survivor_id: Mapped[str] = mapped_column(String(36), index=True)
    survivor_number: Mapped[str] = mapped_column(String(20))
    merged_id: Mapped[str] = mapped_column(String(36), index=True)
    merged_number: Mapped[str] = mapped_column(String(20))
    record_ids: Mapped[list[str]] = mapped_column(JSON)
    certificate_numbers: Mapped[list[str]] = mapped_column(JSON)
    presence: Mapped[list[list[str | int]]] = mapped_column(JSON)
    # What else moved (migration 0011): the merged volunteer's objections,
    # complaints and evaluations, its bank transactions and volunteer-leg
    # entries, and the survivor accounts the merge opened for them.
    objection_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    complaint_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    evaluation_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    bank_transaction_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    bank_entry_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    bank_account_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    merged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reverted_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None
    )
