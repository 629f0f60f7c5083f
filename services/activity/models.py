"""Activity's tables. Tenant tables carry the division code that row-level
security (see the migration) and every repository query filter on.

``organisations`` and ``volunteers`` are local replicas filled from
registration's events: a service never reads another's tables.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

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

ROLLUP = Rollup(
    "activity_rollup",
    [
        "projects_published",
        "sessions",
        "signups",
        "attendances",
        "recipients",
        "pairs",
        "visits",
    ],
)
ACTIVE_SIGNUP = "status IN ('pending', 'confirmed', 'waitlisted')"


class Base(DeclarativeBase):
    metadata = MetaData()


OUTBOX = outbox_table(Base.metadata)
PROCESSED = processed_table(Base.metadata)
ROLLUP_TABLE = ROLLUP.table(Base.metadata)


class OrganisationReplica(Base):
    """Registration's organisations, as its events announced them."""

    __tablename__ = "organisations"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    parent_id: Mapped[str | None] = mapped_column(String(36))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VolunteerReplica(Base):
    """What eligibility needs of registration's volunteers (no personal data
    beyond the birth date)."""

    __tablename__ = "volunteers"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volunteer_number: Mapped[str] = mapped_column(String(20))
    home_division_code: Mapped[str] = mapped_column(String(12), index=True)
    status: Mapped[str] = mapped_column(String(10))
    birth_date: Mapped[date | None] = mapped_column(Date)
    service_fields: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # When the home last moved by a transfer (0007): an older event arriving
    # late never moves it back.
    home_moved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(String(36), index=True)
    organisation_name: Mapped[str] = mapped_column(String(200))
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    place: Mapped[str] = mapped_column(String(200))
    service_field: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(10))
    recruit_starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recruit_ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    min_age: Mapped[int] = mapped_column(Integer)
    required_skills: Mapped[list[str]] = mapped_column(JSON)
    leader_approval: Mapped[bool] = mapped_column(Boolean)
    emergency: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(12), index=True)
    # The token subject: the reviewer must be someone else.
    publisher_subject: Mapped[str] = mapped_column(String(100))
    publisher_name: Mapped[str] = mapped_column(String(100))
    reviewer_name: Mapped[str | None] = mapped_column(String(100))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A course volunteers must have attended before signing up (0004).
    required_course_id: Mapped[str | None] = mapped_column(String(36))
    # The special campaign (专项行动) it serves (None: untagged).
    campaign_id: Mapped[str | None] = mapped_column(String(36), index=True)
    # The service position it serves at (migration 0006), or None.
    position_id: Mapped[str | None] = mapped_column(String(36))


class ProjectSession(Base):
    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    # Copied from the project: row security decides on them.
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    emergency: Mapped[bool] = mapped_column(Boolean)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    capacity: Mapped[int] = mapped_column(Integer)
    # Key of the rotating check-in code.
    secret: Mapped[bytes] = mapped_column(LargeBinary)


class SignUp(Base):
    """A volunteer's place in a session; it belongs to the project's tenant
    (``division_code``) and is readable by the volunteer's (their home)."""

    __tablename__ = "sign_ups"
    __table_args__ = (
        # One active sign-up per volunteer and session; withdrawn or rejected
        # ones stay as history and do not block signing up again.
        Index(
            "uq_sign_ups_active",
            "session_id",
            "volunteer_id",
            unique=True,
            postgresql_where=text(ACTIVE_SIGNUP),
            sqlite_where=text(ACTIVE_SIGNUP),
        ),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("sessions.id"), index=True
    )
    project_id: Mapped[str] = mapped_column(String(36), index=True)
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    volunteer_id: Mapped[str] = mapped_column(String(36), index=True)
    volunteer_number: Mapped[str] = mapped_column(String(20))
    volunteer_division_code: Mapped[str] = mapped_column(String(12), index=True)
    status: Mapped[str] = mapped_column(String(12))
    # First come, first served: numbered when the sign-up enters the queue.
    queue_number: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Attendance(Base):
    __tablename__ = "attendances"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("sessions.id"), index=True
    )
    project_id: Mapped[str] = mapped_column(String(36), index=True)
    sign_up_id: Mapped[str] = mapped_column(String(36), ForeignKey("sign_ups.id"))
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    volunteer_id: Mapped[str] = mapped_column(String(36))
    volunteer_number: Mapped[str] = mapped_column(String(20))
    volunteer_division_code: Mapped[str] = mapped_column(String(12), index=True)
    checked_in_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    checked_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(10))


class Recipient(Base):
    """A household receiving help; personal data encrypted, shown masked."""

    __tablename__ = "recipients"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    name_masked: Mapped[str] = mapped_column(String(50))
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_masked: Mapped[str] = mapped_column(String(11))
    address_enc: Mapped[bytes] = mapped_column(LargeBinary)
    address_masked: Mapped[str] = mapped_column(String(20))
    pairing_mode: Mapped[str] = mapped_column(String(12))
    needs: Mapped[str] = mapped_column(Text)
    consent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    consent_recorded_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Pair(Base):
    __tablename__ = "pairs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    recipient_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("recipients.id"), index=True
    )
    volunteer_id: Mapped[str] = mapped_column(String(36))
    volunteer_number: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[str] = mapped_column(String(36))
    organisation_name: Mapped[str] = mapped_column(String(200))
    # The recipient's division.
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Visit(Base):
    __tablename__ = "visits"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    pair_id: Mapped[str] = mapped_column(String(36), ForeignKey("pairs.id"), index=True)
    recipient_id: Mapped[str] = mapped_column(String(36))
    volunteer_id: Mapped[str] = mapped_column(String(36))
    volunteer_number: Mapped[str] = mapped_column(String(20))
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(Text)
    logged_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    campaign_id: Mapped[str | None] = mapped_column(String(36), index=True)


class PolicyNode(Base):
    """Replica of one node's setting overrides (from registration's
    ``registration.settings.changed``); a node reads its ancestors' rows."""

    __tablename__ = "policy_overrides"
    division_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    overrides: Mapped[dict[str, str]] = mapped_column(JSON)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InsuranceCover(Base):
    """A project's insurance cover: insurer, policy number and period. A
    replaced cover stays as history (``replaced_at`` set); the current one
    has none. It covers the project's accepted (confirmed) sign-ups."""

    __tablename__ = "insurance_covers"
    __table_args__ = (
        Index(
            "uq_insurance_covers_current",
            "project_id",
            unique=True,
            postgresql_where=text("replaced_at IS NULL"),
            sqlite_where=text("replaced_at IS NULL"),
        ),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("projects.id"), index=True
    )
    # The project's: row security decides on it.
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    insurer: Mapped[str] = mapped_column(String(100))
    policy_number: Mapped[str] = mapped_column(String(50))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    replaced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Course(Base):
    """A training course of a tenant's catalogue: offered to the tenant's
    whole subtree (a county's menu for its organisations), edited by the
    owner tenant only."""

    __tablename__ = "courses"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # The owner tenant: its subtree sees the course (row security reads
    # ancestors' rows too).
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TrainingSession(Base):
    """A session of a course, held by a tenant in the course owner's subtree."""

    __tablename__ = "training_sessions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    course_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("courses.id"), index=True
    )
    # Where it is held (the organising tenant).
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    place: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TrainingAttendance(Base):
    """Who attended a training session and for how many training hours.
    Training hours are kept apart from service hours: nothing here is ever
    announced to the hours service."""

    __tablename__ = "training_attendances"
    __table_args__ = (UniqueConstraint("training_session_id", "volunteer_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    training_session_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("training_sessions.id"), index=True
    )
    course_id: Mapped[str] = mapped_column(String(36), index=True)
    # The session's; readable by the volunteer's home tenant too.
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    volunteer_id: Mapped[str] = mapped_column(String(36), index=True)
    volunteer_number: Mapped[str] = mapped_column(String(20))
    volunteer_division_code: Mapped[str] = mapped_column(String(12), index=True)
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ImportedTraining(Base):
    """A training record transferred in from another platform (migration
    0009): under the volunteer's home at the import; training hours, never
    service hours."""

    __tablename__ = "imported_training"
    __table_args__ = (UniqueConstraint("volunteer_id", "source_key"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volunteer_id: Mapped[str] = mapped_column(String(36), index=True)
    volunteer_number: Mapped[str] = mapped_column(String(20))
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    course_title: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    issuer_platform: Mapped[str] = mapped_column(String(50))
    source_session_id: Mapped[str] = mapped_column(String(100))
    source_key: Mapped[str] = mapped_column(String(64))
    imported_by: Mapped[str] = mapped_column(String(100))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Campaign(Base):
    """A special campaign (专项行动) published by a province or city for a
    window, shared down its subtree (row security lets a node read its
    ancestors' campaigns); only the publisher edits it."""

    __tablename__ = "campaigns"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # The publisher's node: the campaign covers its subtree.
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    target_groups: Mapped[list[str]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CampaignDelivery(Base):
    """A recycling fact tagged to a campaign, from recycling's events: a
    drive's items delivered or a collected pickup's kg (the fact's division)."""

    __tablename__ = "campaign_deliveries"
    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(36), index=True)
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    source: Mapped[str] = mapped_column(String(10))  # drive | booking
    occurred_on: Mapped[date] = mapped_column(Date)
    items: Mapped[int] = mapped_column(Integer)
    kg: Mapped[Decimal] = mapped_column(Numeric(10, 1))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VolunteerTransfer(Base):
    """A ``registration.volunteer.transferred`` followed (0007): which rows
    of the volunteer's future commitments moved to the new home. Keyed for
    row security by the new home; written by the transfer only."""

    __tablename__ = "activity_transfers"
    transfer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    division_code: Mapped[str] = mapped_column(String(12), index=True)  # new home
    from_division_code: Mapped[str] = mapped_column(String(12))
    volunteer_id: Mapped[str] = mapped_column(String(36), index=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sign_up_ids: Mapped[list[str]] = mapped_column(JSON)
    training_attendance_ids: Mapped[list[str]] = mapped_column(JSON)
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VolunteerMerge(Base):
    """A ``registration.volunteer.merged`` followed (0007): the ids of every
    row re-pointed from the merged volunteer to the survivor, by table
    (``moved``), so ``.unmerged`` points exactly those back. Keyed for row
    security by the survivor's home. A revert seen before its merge leaves
    a reverted row with nothing moved, so the late merge moves nothing."""

    __tablename__ = "activity_merges"
    merge_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    merged_division_code: Mapped[str] = mapped_column(String(12))
    survivor_id: Mapped[str] = mapped_column(String(36), index=True)
    survivor_number: Mapped[str] = mapped_column(String(20))
    merged_id: Mapped[str] = mapped_column(String(36), index=True)
    merged_number: Mapped[str] = mapped_column(String(20))
    # Ids moved by table; "homes": by table, [id, home before] (0008).
    moved: Mapped[dict[str, Any]] = mapped_column(JSON)
    merged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reverted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
