"""Alembic, once for every service: each service keeps its scripts in
``services/<name>/migrations/versions`` and its own version table.

Migrations are an explicit step (``zhiyuan migrate``, the chart's hook Job),
never a side effect of starting a service.

Example (a service's ``migrations/env.py``)::

    from services.common.migrations import run_env
    run_env()
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext

from services.common.config import ServiceConfig
from services.common.db import make_engine

SERVICES = Path(__file__).resolve().parents[1]


def alembic_config(service: ServiceConfig) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(SERVICES / service.name / "migrations"))
    cfg.set_main_option("sqlalchemy.url", service.database_url)
    cfg.attributes["service"] = service
    return cfg


def upgrade(service: ServiceConfig, revision: str = "head") -> None:
    """Bring the service's database to ``revision``."""
    command.upgrade(alembic_config(service), revision)


def current_revision(service: ServiceConfig) -> str | None:
    engine = make_engine(service.database_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn, opts={"version_table": version_table(service.name)}
            )
            return ctx.get_current_revision()
    finally:
        engine.dispose()


def version_table(name: str) -> str:
    return f"alembic_version_{name}"


def run_env() -> None:
    """Body of every service's ``env.py`` (online mode only)."""
    from alembic import context

    service: ServiceConfig = context.config.attributes["service"]
    engine = make_engine(service.database_url)
    with engine.connect() as conn:
        context.configure(
            connection=conn,
            version_table=version_table(service.name),
            render_as_batch=conn.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def app_role() -> str:
    """The application role of the service being migrated (for grants)."""
    from alembic import context

    service: ServiceConfig = context.config.attributes["service"]
    return service.database_app_role


def create_event_tables_v1() -> None:
    """The kernel's outbox and processed-events tables as of their first
    version, for a service's initial revision (inside ``upgrade()``). A later
    change to them gets its own helper, so revisions already applied never
    change.

    Example::

        def upgrade() -> None:
            ...
            create_event_tables_v1()
    """
    import sqlalchemy as sa
    from alembic import op

    def at(name: str, nullable: bool = False) -> sa.Column:
        return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)

    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer, autoincrement=True, primary_key=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("event_type", sa.String(120), nullable=False),
        sa.Column("division_code", sa.String(12), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        at("created_at"),
        at("published_at", nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
    )
    op.create_index("ix_outbox_published_at", "outbox", ["published_at"])
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(120), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        at("processed_at"),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
    )
