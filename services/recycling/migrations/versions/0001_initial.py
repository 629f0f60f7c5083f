"""Initial schema: bins and their status history, collections and the bins
they emptied, donation drives and distributions, pickup bookings, the
rollup, outbox; row-level security, the application role and the rollup
function in PostgreSQL.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from services.common.db import app_role_sql, scope_policy_sql
from services.common.migrations import app_role, create_event_tables_v1
from services.common.rollup_schema import initial_function_sql
from services.recycling.models import ROLLUP  # its function SQL only

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Written out: the columns of this revision, not the models' moving list.
METRICS = [
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
]
TENANT_TABLES = {
    "bins": "division_code",
    "bin_status_changes": "division_code",
    "collections": "division_code",
    "collection_bins": "division_code",
    "drives": "division_code",
    "distributions": "division_code",
    "bookings": "division_code",
    "recycling_rollup": "division_code",
}
TABLES = [
    "bins",
    "bin_status_changes",
    "collections",
    "collection_bins",
    "drives",
    "distributions",
    "bookings",
    "recycling_rollup",
    "outbox",
    "processed_events",
]


def upgrade() -> None:
    _create_tables()
    if op.get_bind().dialect.name != "postgresql":
        return
    role = app_role()
    for stmt in app_role_sql(role):
        op.execute(stmt)
    for table, column in TENANT_TABLES.items():
        for stmt in scope_policy_sql(table, column):
            op.execute(stmt)
    for stmt in initial_function_sql(ROLLUP, role):
        op.execute(stmt)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        signature = ", ".join(["text[]", "text", *["double precision"] * len(METRICS)])
        op.execute(f"DROP FUNCTION IF EXISTS recycling_rollup_add({signature})")
    for table in reversed(TABLES):
        op.drop_table(table)


def _id() -> sa.Column:
    return sa.Column("id", sa.String(36), primary_key=True)


def _code() -> sa.Column:
    return sa.Column("division_code", sa.String(12), nullable=False, index=True)


def _text(name: str, length: int | None = None) -> sa.Column:
    kind = sa.String(length) if length else sa.Text
    return sa.Column(name, kind, nullable=False)


def _kg(name: str) -> sa.Column:
    return sa.Column(name, sa.Numeric(10, 1), nullable=False)


def _int(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer, nullable=False)


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _day(name: str, nullable: bool = False, index: bool = False) -> sa.Column:
    return sa.Column(name, sa.Date, nullable=nullable, index=index)


def _create_tables() -> None:
    op.create_table(
        "bins",
        _id(),
        _text("code", 32),
        _text("province", 2),
        _code(),
        _text("address", 200),
        sa.Column("latitude", sa.Float, nullable=True),
        sa.Column("longitude", sa.Float, nullable=True),
        sa.Column("status", sa.String(12), nullable=False, index=True),
        _day("deployed_on"),
        _day("status_changed_on"),
        _day("last_emptied_on", nullable=True),
        _text("created_by", 100),
        _at("created_at"),
        sa.UniqueConstraint("province", "code"),
    )
    op.create_table(
        "bin_status_changes",
        _id(),
        sa.Column(
            "bin_id",
            sa.String(36),
            sa.ForeignKey("bins.id"),
            nullable=False,
            index=True,
        ),
        _code(),
        _text("from_status", 12),
        _text("to_status", 12),
        _day("changed_on"),
        _text("changed_by", 100),
        _at("recorded_at"),
        _text("reason"),
        sa.Column("collection_id", sa.String(36), nullable=True),
    )
    op.create_table(
        "collections",
        _id(),
        _code(),
        _text("organisation_id", 36),
        _text("organisation_name", 200),
        _day("collected_on", index=True),
        _kg("textiles_kg"),
        _kg("books_kg"),
        _kg("other_kg"),
        _text("activity_project_id", 36),
        _text("activity_session_id", 36),
        _text("note"),
        _text("recorded_by", 100),
        _at("recorded_at"),
    )
    op.create_table(
        "collection_bins",
        sa.Column(
            "collection_id",
            sa.String(36),
            sa.ForeignKey("collections.id"),
            primary_key=True,
        ),
        sa.Column(
            "bin_id",
            sa.String(36),
            sa.ForeignKey("bins.id"),
            primary_key=True,
            index=True,
        ),
        _text("bin_code", 32),
        _code(),
    )
    op.create_table(
        "drives",
        _id(),
        _code(),
        _text("organisation_id", 36),
        _text("organisation_name", 200),
        _text("title", 100),
        _day("held_on", index=True),
        _int("garments"),
        _int("books"),
        _int("other_items"),
        _int("recipient_households"),
        _text("recorded_by", 100),
        _at("recorded_at"),
    )
    op.create_table(
        "distributions",
        _id(),
        sa.Column(
            "drive_id",
            sa.String(36),
            sa.ForeignKey("drives.id"),
            nullable=False,
            index=True,
        ),
        _code(),
        _day("distributed_on"),
        _int("households"),
        _int("garments"),
        _int("books"),
        _int("other_items"),
        _text("note"),
        _text("recorded_by", 100),
        _at("recorded_at"),
    )
    op.create_table(
        "bookings",
        _id(),
        _code(),
        sa.Column("request_key", sa.String(200), nullable=False, unique=True),
        _text("created_by", 100),
        sa.Column("contact_name_enc", sa.LargeBinary, nullable=False),
        _text("contact_name_masked", 50),
        sa.Column("phone_enc", sa.LargeBinary, nullable=False),
        _text("phone_masked", 11),
        sa.Column("address_enc", sa.LargeBinary, nullable=False),
        _text("address_masked", 20),
        _at("window_start"),
        _at("window_end"),
        _text("note"),
        sa.Column("status", sa.String(10), nullable=False, index=True),
        _text("organisation_id", 36),
        _text("organisation_name", 200),
        _kg("textiles_kg"),
        _kg("books_kg"),
        _kg("other_kg"),
        _day("collected_on", nullable=True),
        _text("cancel_reason"),
        _text("changed_by", 100),
        _at("created_at"),
        _at("updated_at"),
    )
    op.create_table(
        "recycling_rollup",
        sa.Column("division_code", sa.String(12), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        *[sa.Column(m, sa.Float, nullable=False) for m in METRICS],
        sa.PrimaryKeyConstraint("division_code", "month"),
    )
    create_event_tables_v1()
