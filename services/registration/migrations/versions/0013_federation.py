"""Federation of releases (issue 15): registration's rollup forwarded upstream.

A downstream release (a county's) copies every changed
``registration_rollup`` cell (people and organisations) of its subtree, with
a version, into ``federation_outbox``; the worker relays them to RabbitMQ,
and a shovel carries them to the upstream release (a province's), whose
worker keeps them in ``federated_registration_rollup``. The same statements
as hours' 0013: see services/common/federation_schema.py for the tables, the
trigger and why versions grow in commit order; services/common/federation.py
for the rest.

Only this rollup: ``registration_position_rollup`` (positions by kind) stays
unfederated.

The trigger is always installed; it copies nothing until the worker of a
release configured as a downstream sets ``federation_capture``.

Embedded SQLite: nothing (an embedded release does not federate).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

from services.common import federation_schema
from services.common.migrations import app_role

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

ROLLUP = "registration_rollup"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for stmt in federation_schema.upgrade_sql(ROLLUP, app_role()):
        op.execute(stmt)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for stmt in federation_schema.downgrade_sql(ROLLUP):
        op.execute(stmt)
