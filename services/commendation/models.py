"""Commendation's tables. Tenant tables carry a division code that row-level
security (see the migration) and every repository query filter on: a
volunteer's home division for star ratings and bars, the nominating unit's
division for nominations, the opening unit's for rounds. Review steps,
star changes and objections are appended, never edited."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.outbox import outbox_table, processed_table
from services.common.rollup import Rollup

# The award categories with rollup columns, as of migration 0001 (a tenant
# may name others: they count in "awards" only).
ROLLUP_CATEGORIES = ("individual", "collective", "project", "station")
ROLLUP = Rollup(
    "commendation_rollup",
    [
        *(f"stars_{n}" for n in range(1, 6)),
        "star_approvals",
        "nominations",
        "awards",
        *(f"awards_{c}" for c in ROLLUP_CATEGORIES),
    ],
)
HOURS = Numeric(12, 2)


class Base(DeclarativeBase):
    metadata = MetaData()


OUTBOX = outbox_table(Base.metadata)
PROCESSED = processed_table(Base.metadata)
ROLLUP_TABLE = ROLLUP.table(Base.metadata)


class PolicyNode(Base):
    """Replica of one node's setting overrides (from registration)."""

    __tablename__ = "policy_overrides"
    division_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    overrides: Mapped[dict[str, str]] = mapped_column(JSON)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Volunteer(Base):
    """Replica of registration's volunteer events: no personal data, only
    the public number, the home division and the status."""

    __tablename__ = "volunteers"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volunteer_number: Mapped[str] = mapped_column(String(20))
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    status: Mapped[str] = mapped_column(String(12))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StarRating(Base):
    """A volunteer's approved hours (as hours last announced them) and stars."""

    __tablename__ = "star_ratings"
    volunteer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volunteer_number: Mapped[str] = mapped_column(String(20))
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    total_hours: Mapped[Decimal] = mapped_column(HOURS)
    # occurred_at of the hours event the total came from: older ones are late.
    total_as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    stars: Mapped[int] = mapped_column(Integer)
    eligible_stars: Mapped[int] = mapped_column(Integer)
    continuous_years: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Why no request opens for the tier the hours reach ('' when none is
    # held): a poor evaluation under a policy that blocks stars (0003).
    held_reason: Mapped[str] = mapped_column(Text, default="", server_default="")


class ServiceYear(Base):
    """Approved hours per volunteer and calendar year (for long service)."""

    __tablename__ = "service_years"
    volunteer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    hours: Mapped[Decimal] = mapped_column(HOURS)


class StarRequest(Base):
    __tablename__ = "star_requests"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volunteer_id: Mapped[str] = mapped_column(String(36), index=True)
    volunteer_number: Mapped[str] = mapped_column(String(20))
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    stars: Mapped[int] = mapped_column(Integer)
    approval_level: Mapped[str] = mapped_column(String(10))
    approving_code: Mapped[str] = mapped_column(String(12), index=True)
    hours_at_request: Mapped[Decimal] = mapped_column(HOURS)
    status: Mapped[str] = mapped_column(String(12), index=True)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StarChange(Base):
    __tablename__ = "star_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    volunteer_id: Mapped[str] = mapped_column(String(36), index=True)
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    from_stars: Mapped[int] = mapped_column(Integer)
    to_stars: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BarEntry(Base):
    __tablename__ = "bars"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volunteer_id: Mapped[str] = mapped_column(String(36), index=True)
    volunteer_number: Mapped[str] = mapped_column(String(20))
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    years: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    organisation_id: Mapped[str] = mapped_column(String(36))
    organisation_name: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AwardRound(Base):
    __tablename__ = "award_rounds"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    title: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    categories: Mapped[list[str]] = mapped_column(JSON)
    quota_per_child: Mapped[int] = mapped_column(Integer)
    deadline: Mapped[date] = mapped_column(Date)
    notice_working_days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    notice_starts_on: Mapped[date | None] = mapped_column(Date)
    notice_ends_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finalized_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Nomination(Base):
    __tablename__ = "nominations"
    __table_args__ = (UniqueConstraint("nominated_by", "request_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    round_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("award_rounds.id"), index=True
    )
    # The round's division: its owner reads every nomination of the round.
    round_division_code: Mapped[str] = mapped_column(String(12))
    category: Mapped[str] = mapped_column(String(40))
    division_code: Mapped[str] = mapped_column(String(12), index=True)  # the unit's
    unit_organisation_id: Mapped[str] = mapped_column(String(36))
    unit_name: Mapped[str] = mapped_column(String(200))
    # The child unit of the round it counts against (for the quota).
    child_code: Mapped[str] = mapped_column(String(12), index=True)
    nominee_volunteer_id: Mapped[str] = mapped_column(String(36), index=True)
    nominee_name: Mapped[str] = mapped_column(String(200))
    nominee_division_code: Mapped[str] = mapped_column(String(12))
    statement: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), index=True)
    status_reason: Mapped[str] = mapped_column(Text)
    stage_codes: Mapped[list[str]] = mapped_column(JSON)
    stage_index: Mapped[int] = mapped_column(Integer)
    # The division whose reviewers act next; '' when no review is due.
    current_stage: Mapped[str] = mapped_column(String(12), index=True)
    # True once it entered the round's own level: it holds a quota place.
    at_round_level: Mapped[bool] = mapped_column(Boolean)
    evidence: Mapped[dict[str, object]] = mapped_column(JSON)
    signals: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    nominated_by: Mapped[str] = mapped_column(String(100))
    nominated_by_subject: Mapped[str] = mapped_column(String(100))
    # The nominator's office: its colleagues may amend a returned nomination.
    nominated_by_scope: Mapped[str] = mapped_column(String(12))
    request_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReviewStep(Base):
    __tablename__ = "review_steps"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    nomination_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("nominations.id"), index=True
    )
    division_code: Mapped[str] = mapped_column(String(12), index=True)  # the unit's
    stage_code: Mapped[str] = mapped_column(String(12))
    decision: Mapped[str] = mapped_column(String(10))  # approve|reject|return|...
    comment: Mapped[str] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(100))
    reviewer_subject: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Objection(Base):
    __tablename__ = "objections"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nomination_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("nominations.id"), index=True
    )
    round_id: Mapped[str] = mapped_column(String(36), index=True)
    division_code: Mapped[str] = mapped_column(String(12), index=True)  # the unit's
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))
    resolution: Mapped[str] = mapped_column(Text)
    filed_by: Mapped[str] = mapped_column(String(100))
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str] = mapped_column(String(100))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EvaluationFact(Base):
    """The current evaluation of one hour record (hours.record.evaluated),
    under the volunteer's home, with what its policy blocks when poor."""

    __tablename__ = "evaluation_facts"
    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volunteer_id: Mapped[str] = mapped_column(String(36), index=True)
    division_code: Mapped[str] = mapped_column(String(12), index=True)  # home
    record_division_code: Mapped[str] = mapped_column(String(12))
    score: Mapped[int] = mapped_column(Integer)
    poor: Mapped[bool] = mapped_column(Boolean)
    poor_blocks: Mapped[list[str]] = mapped_column(JSON)
    replaced: Mapped[int] = mapped_column(Integer)
    evaluated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ComplaintFact(Base):
    """A complaint's latest status (hours.complaint.*), under the
    volunteer's home; the texts stay in hours."""

    __tablename__ = "complaint_facts"
    complaint_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volunteer_id: Mapped[str] = mapped_column(String(36), index=True)
    division_code: Mapped[str] = mapped_column(String(12), index=True)  # home
    filed_at_code: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ImportedAward(Base):
    """An award transferred in from another platform (migration 0005), under
    the volunteer's home at the import. Never read by a star path: imported
    awards change no star rating."""

    __tablename__ = "imported_awards"
    __table_args__ = (UniqueConstraint("volunteer_id", "source_key"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volunteer_id: Mapped[str] = mapped_column(String(36), index=True)
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(100))
    awarded_on: Mapped[date | None] = mapped_column(Date)
    awarding_division_code: Mapped[str] = mapped_column(String(12))
    issuer_platform: Mapped[str] = mapped_column(String(50))
    source_key: Mapped[str] = mapped_column(String(64))
    imported_by: Mapped[str] = mapped_column(String(100))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VolunteerMerge(Base):
    """What the survivor's rating took over from a merged duplicate
    registration (migration 0004): its approved hours and hours per year
    ([[year, hours], ...]); a revert takes exactly that back."""

    __tablename__ = "commendation_merges"
    merge_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    survivor_id: Mapped[str] = mapped_column(String(36), index=True)
    merged_id: Mapped[str] = mapped_column(String(36), index=True)
    hours_added: Mapped[Decimal] = mapped_column(HOURS)
    years: Mapped[list[list[str]]] = mapped_column(JSON)
    merged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reverted_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None
    )
