"""Registration's tables. Tenant tables carry a division code that row-level
security (see the migration) and every repository query filter on."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.outbox import outbox_table, processed_table
from services.common.rollup import Rollup

ROLLUP = Rollup(
    "registration_rollup",
    [
        "volunteers_registered",
        "volunteers_verified",
        "volunteers_rejected",
        "organisations",
        "teams",
    ],
)


# Service positions (阵地) by kind, in their own rollup table (migration
# 0009): the registration rollup's columns and add function are schema frozen
# by earlier revisions. Counted in the month the position was created, so the
# all-time row is the count of positions there today.
POSITION_KINDS = ("guidance_centre", "street_centre", "station", "base")
POSITION_ROLLUP = Rollup(
    "registration_position_rollup", [f"positions_{k}" for k in POSITION_KINDS]
)


class Base(DeclarativeBase):
    metadata = MetaData()


OUTBOX = outbox_table(Base.metadata)
PROCESSED = processed_table(Base.metadata)
ROLLUP_TABLE = ROLLUP.table(Base.metadata)
POSITION_ROLLUP_TABLE = POSITION_ROLLUP.table(Base.metadata)


class Division(Base):
    """Reference data: the division tree (public names, no RLS)."""

    __tablename__ = "divisions"
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[int] = mapped_column(Integer)
    parent_code: Mapped[str | None] = mapped_column(String(12), index=True)
    status: Mapped[str] = mapped_column(String(10), default="active")
    successor_code: Mapped[str | None] = mapped_column(String(12))


class DivisionChange(Base):
    __tablename__ = "division_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(12), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    old_name: Mapped[str | None] = mapped_column(String(100))
    new_name: Mapped[str | None] = mapped_column(String(100))
    successor_code: Mapped[str | None] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TenantSetting(Base):
    __tablename__ = "tenant_settings"
    division_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value_json: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(100))
    scope_code: Mapped[str] = mapped_column(String(12), index=True)
    roles: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The organisation (or team) an org_leader runs (migration 0003).
    organisation_id: Mapped[str | None] = mapped_column(String(36), index=True)
    # A volunteer's own account (migration 0006): the volunteer it is (the
    # token's ``vol`` claim) and the keyed hash of the phone it signs in with.
    volunteer_id: Mapped[str | None] = mapped_column(String(36), index=True)
    phone_hash: Mapped[str | None] = mapped_column(String(64), unique=True)


class LoginAttempt(Base):
    """Failed logins per account or client address (no tenant data, no RLS):
    see ``login_guard``."""

    __tablename__ = "login_attempts"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    lockouts: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class Organisation(Base):
    __tablename__ = "organisations"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    parent_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("organisations.id"), index=True
    )
    service_fields: Mapped[list[str]] = mapped_column(JSON)
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact_phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    contact_phone_masked: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Volunteer(Base):
    __tablename__ = "volunteers"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volunteer_number: Mapped[str] = mapped_column(String(20), unique=True)
    name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    name_masked: Mapped[str] = mapped_column(String(50))
    id_number_enc: Mapped[bytes] = mapped_column(LargeBinary)
    id_number_masked: Mapped[str] = mapped_column(String(18))
    # Keyed hash: finds duplicates platform-wide without storing the number.
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    phone_enc: Mapped[bytes] = mapped_column(LargeBinary)
    phone_masked: Mapped[str] = mapped_column(String(11))
    sex: Mapped[str] = mapped_column(String(6))
    birth_date: Mapped[date] = mapped_column(Date)
    home_division_code: Mapped[str] = mapped_column(String(12), index=True)
    service_fields: Mapped[list[str]] = mapped_column(JSON)
    # Short free-text skills named at self-registration (migration 0006).
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10), index=True)
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    guardian_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    # "<client subject>/<client key>": idempotency per client.
    request_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    registered_by: Mapped[str] = mapped_column(String(100))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[str | None] = mapped_column(String(100))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A duplicate merged away (status "merged", migration 0010): the survivor.
    merged_into_id: Mapped[str | None] = mapped_column(String(36), default=None)
    # The national unified volunteer number (MZ/T 061, migration 0011): set
    # by a record import when the file carries it and none is stored.
    national_volunteer_number: Mapped[str | None] = mapped_column(
        String(32), default=None, index=True
    )


class TeamMembership(Base):
    __tablename__ = "team_memberships"
    volunteer_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("volunteers.id"), primary_key=True
    )
    organisation_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("organisations.id"), primary_key=True
    )
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    role: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Counter(Base):
    """Platform-wide sequences (volunteer numbers), portable to SQLite."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class FeedItem(Base):
    """Recent events per division, built by the worker from consumed events."""

    __tablename__ = "activity_feed"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    event_type: Mapped[str] = mapped_column(String(120))
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    summary: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PiiAccess(Base):
    """Who revealed which volunteer's personal data, when and why."""

    __tablename__ = "pii_access_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    actor: Mapped[str] = mapped_column(String(100))
    actor_scope: Mapped[str] = mapped_column(String(12))
    volunteer_id: Mapped[str] = mapped_column(String(36), index=True)
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    fields: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(200))
    accessed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Notification(Base):
    """One item of a volunteer's inbox, made by the worker from an event that
    concerns the volunteer (migration 0007); kept under the volunteer's home
    division, read by the volunteer's own account only."""

    __tablename__ = "notifications"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volunteer_id: Mapped[str] = mapped_column(String(36))
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    # The event it came from: one notification per event and volunteer.
    event_id: Mapped[str] = mapped_column(String(36))
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    body_zh: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NotificationDelivery(Base):
    """The outbox of what would be sent on a channel other than the inbox
    (SMS, WeChat): ``no_adapter`` while no adapter exists, never a pretended
    "sent"."""

    __tablename__ = "notification_deliveries"
    notification_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("notifications.id"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Transfer(Base):
    """A volunteer's transfer between regions (记录转移接续, migration 0008):
    the request, the volunteer's consent and the decision, kept as the audit
    record. Visible to the offices of both homes (row security keys on
    either code); ``volunteer_number`` and ``name_masked`` are copied so the
    new home's office can see who asks before the volunteer is theirs."""

    __tablename__ = "transfers"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volunteer_id: Mapped[str] = mapped_column(String(36), index=True)
    volunteer_number: Mapped[str] = mapped_column(String(20))
    name_masked: Mapped[str] = mapped_column(String(50))
    from_division_code: Mapped[str] = mapped_column(String(12), index=True)
    to_division_code: Mapped[str] = mapped_column(String(12), index=True)
    status: Mapped[str] = mapped_column(String(10), index=True)
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    consent_channel: Mapped[str] = mapped_column(String(10))
    consent_text: Mapped[str] = mapped_column(Text)
    consented_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    consent_note: Mapped[str] = mapped_column(String(200), default="")
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text, default="")


class Position(Base):
    """A service position (志愿服务阵地, migration 0009): a guidance centre,
    street or town centre, village or community station, or a base (with the
    level it was recognised at), at a division of the tree."""

    __tablename__ = "positions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), index=True)
    base_level: Mapped[str | None] = mapped_column(String(10))
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    opening_hours: Mapped[str] = mapped_column(String(100), default="")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VolunteerMerge(Base):
    """A duplicate registration merged into its survivor (issue 14,
    migration 0010), kept as the audit record with what the merge moved, so
    that a revert undoes exactly that. Row security: read by an office
    holding either home, written only by one holding both."""

    __tablename__ = "volunteer_merges"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    survivor_id: Mapped[str] = mapped_column(String(36), index=True)
    merged_id: Mapped[str] = mapped_column(String(36), index=True)
    survivor_number: Mapped[str] = mapped_column(String(20))
    merged_number: Mapped[str] = mapped_column(String(20))
    survivor_division_code: Mapped[str] = mapped_column(String(12), index=True)
    merged_division_code: Mapped[str] = mapped_column(String(12), index=True)
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reverted_by: Mapped[str | None] = mapped_column(String(100), default=None)
    reverted_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None
    )
    merged_status: Mapped[str] = mapped_column(String(10))
    moved_memberships: Mapped[list[str]] = mapped_column(JSON)
    # Account id -> scope before the merge.
    moved_accounts: Mapped[dict[str, str]] = mapped_column(JSON)
    deactivated_accounts: Mapped[list[str]] = mapped_column(JSON)
    # Why the merge was reverted ('' while it is live; migration 0012).
    revert_reason: Mapped[str] = mapped_column(Text, default="")
