"""Recycling's worker role (nameko): the outbox relay on a timer and the
hourly purge. Recycling consumes no other service's events: what it needs
from activity it asks over gRPC when a collection names a session.

Run with ``zhiyuan run recycling worker``; never imported by the api role.
"""

from __future__ import annotations

from services.common.worker import (
    OutboxWorker,
)
from services.recycling.models import PROCESSED


class RecyclingWorker(OutboxWorker):
    name = "recycling"
    processed = PROCESSED


WORKER = RecyclingWorker
