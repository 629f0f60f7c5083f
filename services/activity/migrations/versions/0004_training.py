"""Training (issue 14, part 3): course catalogues, training sessions and
their attendance with training hours, kept apart from service hours; a
project may require a course before sign-up.

- ``courses``: a tenant's catalogue; row security lets a node read its
  ancestors' courses (the county's menu) as well as its subtree's, and
  write only inside its subtree.
- ``training_sessions``: held by a tenant in the course owner's subtree.
- ``training_attendances``: one row per volunteer and session with the
  training hours; readable by the session's tenant and the volunteer's home
  tenant (as sign-ups are).
- ``projects.required_course_id``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.common.db import scope_policy_sql
from services.common.migrations import app_role

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("courses", "training_sessions", "training_attendances")


def _at(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _str(name: str, length: int) -> sa.Column:
    return sa.Column(name, sa.String(length), nullable=False)


def upgrade() -> None:
    op.add_column(
        "projects", sa.Column("required_course_id", sa.String(36), nullable=True)
    )
    op.create_table(
        "courses",
        _str("id", 36),
        _str("division_code", 12),
        _str("title", 100),
        sa.Column("description", sa.Text(), nullable=False),
        _str("created_by", 100),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_courses_division_code", "courses", ["division_code"])
    op.create_table(
        "training_sessions",
        _str("id", 36),
        _str("course_id", 36),
        _str("division_code", 12),
        _str("place", 200),
        _at("starts_at"),
        _at("ends_at"),
        _str("created_by", 100),
        _at("created_at"),
        sa.ForeignKeyConstraint(["course_id"], ["courses.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("course_id", "division_code"):
        op.create_index(f"ix_training_sessions_{column}", "training_sessions", [column])
    op.create_table(
        "training_attendances",
        _str("id", 36),
        _str("training_session_id", 36),
        _str("course_id", 36),
        _str("division_code", 12),
        _str("volunteer_id", 36),
        _str("volunteer_number", 20),
        _str("volunteer_division_code", 12),
        sa.Column("hours", sa.Numeric(5, 2), nullable=False),
        _str("recorded_by", 100),
        _at("recorded_at"),
        sa.ForeignKeyConstraint(["training_session_id"], ["training_sessions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("training_session_id", "volunteer_id"),
    )
    for column in (
        "training_session_id",
        "course_id",
        "division_code",
        "volunteer_id",
        "volunteer_division_code",
    ):
        op.create_index(
            f"ix_training_attendances_{column}", "training_attendances", [column]
        )
    if op.get_bind().dialect.name != "postgresql":
        return
    role = app_role()
    for table in TABLES:
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}")
    for stmt in scope_policy_sql("courses", "division_code", read_ancestors=True):
        op.execute(stmt)
    for stmt in scope_policy_sql("training_sessions", "division_code"):
        op.execute(stmt)
    for stmt in scope_policy_sql("training_attendances", "division_code"):
        op.execute(stmt)
    # The volunteer's home tenant reads the attendance too (as for sign-ups).
    (read,) = [
        s
        for s in scope_policy_sql("training_attendances", "volunteer_division_code")
        if "_read ON" in s
    ]
    op.execute(
        read.replace(
            "POLICY training_attendances_read ",
            "POLICY training_attendances_read_volunteer ",
        )
    )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
    op.drop_column("projects", "required_course_id")
