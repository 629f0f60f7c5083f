"""Recycling's worker role (nameko): the outbox relay on a timer and the
hourly purge. Recycling consumes no other service's events: what it needs
from activity it asks over gRPC when a collection names a session.

Federation of ``recycling_rollup`` (issue 15): relayed as a downstream release,
applied as an upstream (services/common/federation_worker.py).

Run with ``zhiyuan run recycling worker``; never imported by the api role.
"""

from __future__ import annotations

from services.common.federation_worker import FederatedWorker
from services.common.worker import (
    OutboxWorker,
)
from services.recycling.models import PROCESSED


class RecyclingWorker(FederatedWorker, OutboxWorker):
    name = "recycling"
    processed = PROCESSED
    federated_rollup = "recycling_rollup"


WORKER = RecyclingWorker
