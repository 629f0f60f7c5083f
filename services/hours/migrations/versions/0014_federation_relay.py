"""Federation through a relay (issue 15): a release both upstream for its
registered downstreams and downstream to its own upstream (a province's,
between its counties and the nation) forwards the cells its downstreams
sent, each with its origin.

Adds to a database federated by 0013 as first written: the outbox's
``origin`` column, ``federated_hours_rollup.downstream`` wide enough for a
path (``shaanxi/yanta``), the triggers that copy applied and removed
federated cells into the outbox (only while this release captures) and the
snapshot of own and federated cells a re-sync reads. See
services/common/federation_schema.py (``upgrade_relay_sql``). 0013 now runs
the same statements itself, so on a new database this one changes nothing.

Embedded SQLite: nothing (an embedded release does not federate).

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from alembic import op

from services.common import federation_schema
from services.common.migrations import app_role

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

ROLLUP = "hours_rollup"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for stmt in federation_schema.upgrade_relay_sql(ROLLUP, app_role()):
        op.execute(stmt)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for stmt in federation_schema.downgrade_relay_sql(ROLLUP):
        op.execute(stmt)
