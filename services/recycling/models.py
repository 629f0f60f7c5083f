"""Recycling's tables. Tenant tables carry the division code that row-level
security (see the migration) and every repository query filter on. Weights
are NUMERIC kg with one decimal; a booking's contact data is stored only
encrypted (and masked for display)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.outbox import outbox_table, processed_table
from services.common.rollup import Rollup

ROLLUP = Rollup(
    "recycling_rollup",
    [
        "events",
        "kg_textiles",
        "kg_books",
        "kg_other",
        "kg_total",
        "bins_deployed",
        "drives",
        "items_garments",
        "items_books",
        "items_other",
        "households",
        "bookings",
        "bookings_collected",
    ],
)
KG = Numeric(10, 1)


class Base(DeclarativeBase):
    metadata = MetaData()


OUTBOX = outbox_table(Base.metadata)
PROCESSED = processed_table(Base.metadata)
ROLLUP_TABLE = ROLLUP.table(Base.metadata)


class Bin(Base):
    __tablename__ = "bins"
    # Codes are unique in a province: offices of one province share a series.
    __table_args__ = (UniqueConstraint("province", "code"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    province: Mapped[str] = mapped_column(String(2))
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    address: Mapped[str] = mapped_column(String(200))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(12), index=True)
    deployed_on: Mapped[date] = mapped_column(Date)
    status_changed_on: Mapped[date] = mapped_column(Date)
    last_emptied_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BinStatusChange(Base):
    """One entry of a bin's history (append-only); the deployment first."""

    __tablename__ = "bin_status_changes"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    bin_id: Mapped[str] = mapped_column(String(36), ForeignKey("bins.id"), index=True)
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    from_status: Mapped[str] = mapped_column(String(12))  # '' for the deployment
    to_status: Mapped[str] = mapped_column(String(12))
    changed_on: Mapped[date] = mapped_column(Date)
    changed_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text)
    collection_id: Mapped[str | None] = mapped_column(String(36))


class Collection(Base):
    __tablename__ = "collections"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    organisation_id: Mapped[str] = mapped_column(String(36))  # '' if not given
    organisation_name: Mapped[str] = mapped_column(String(200))
    collected_on: Mapped[date] = mapped_column(Date, index=True)
    textiles_kg: Mapped[Decimal] = mapped_column(KG)
    books_kg: Mapped[Decimal] = mapped_column(KG)
    other_kg: Mapped[Decimal] = mapped_column(KG)
    activity_project_id: Mapped[str] = mapped_column(String(36))
    activity_session_id: Mapped[str] = mapped_column(String(36))
    note: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CollectionBin(Base):
    """A bin emptied by a collection (the collection's division)."""

    __tablename__ = "collection_bins"
    collection_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("collections.id"), primary_key=True
    )
    bin_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("bins.id"), primary_key=True, index=True
    )
    bin_code: Mapped[str] = mapped_column(String(32))
    division_code: Mapped[str] = mapped_column(String(12), index=True)


class Drive(Base):
    __tablename__ = "drives"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    organisation_id: Mapped[str] = mapped_column(String(36))
    organisation_name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(100))
    held_on: Mapped[date] = mapped_column(Date, index=True)
    garments: Mapped[int] = mapped_column(Integer)
    books: Mapped[int] = mapped_column(Integer)
    other_items: Mapped[int] = mapped_column(Integer)
    recipient_households: Mapped[int] = mapped_column(Integer)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The special campaign it serves ("" none; activity checked it).
    campaign_id: Mapped[str] = mapped_column(String(36), default="")


class Distribution(Base):
    """Items of a drive handed to households (within the drive's totals)."""

    __tablename__ = "distributions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    drive_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("drives.id"), index=True
    )
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    distributed_on: Mapped[date] = mapped_column(Date)
    households: Mapped[int] = mapped_column(Integer)
    garments: Mapped[int] = mapped_column(Integer)
    books: Mapped[int] = mapped_column(Integer)
    other_items: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Booking(Base):
    """A resident's pickup request; contact data encrypted, shown masked."""

    __tablename__ = "bookings"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    # "<token subject>/<request_id>": a double submit finds the first booking.
    request_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_by: Mapped[str] = mapped_column(String(100))
    contact_name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    contact_name_masked: Mapped[str] = mapped_column(String(50))
    phone_enc: Mapped[bytes] = mapped_column(LargeBinary)
    phone_masked: Mapped[str] = mapped_column(String(11))
    address_enc: Mapped[bytes] = mapped_column(LargeBinary)
    address_masked: Mapped[str] = mapped_column(String(20))
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    window_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), index=True)
    organisation_id: Mapped[str] = mapped_column(String(36))
    organisation_name: Mapped[str] = mapped_column(String(200))
    textiles_kg: Mapped[Decimal] = mapped_column(KG)
    books_kg: Mapped[Decimal] = mapped_column(KG)
    other_kg: Mapped[Decimal] = mapped_column(KG)
    collected_on: Mapped[date | None] = mapped_column(Date)
    cancel_reason: Mapped[str] = mapped_column(Text)
    # The volunteer's own account that booked (its token's `vol`), else "":
    # what the resident's own pages list (migration 0003).
    booker_volunteer_id: Mapped[str] = mapped_column(String(36), index=True)
    estimated_kg: Mapped[Decimal] = mapped_column(KG)  # the resident's estimate
    # The special campaign the pickup served, set when collected ("" none).
    campaign_id: Mapped[str] = mapped_column(String(36), default="")
    changed_by: Mapped[str] = mapped_column(String(100))  # the latest change
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
