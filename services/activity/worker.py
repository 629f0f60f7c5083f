"""Activity's worker role (nameko): the outbox relay on a timer, and the
replica of registration's volunteers and organisations that eligibility and
publishing check against.

Run with ``zhiyuan run activity worker``; never imported by the api role.
"""

from __future__ import annotations

from typing import Any

from nameko.timer import timer

from services.activity import replica
from services.activity.models import PROCESSED
from services.common.worker import (
    DatabaseDependency,
    Heartbeat,
    RelayDependency,
    Tracing,
    app_config,
    event_handler,
)


class ActivityWorker:
    name = "activity"

    db = DatabaseDependency("activity")
    relay = RelayDependency("activity")
    heartbeat = Heartbeat("activity")
    tracing = Tracing()

    # <SERVICE>_OUTBOX_INTERVAL_SECONDS (default 0.1 s): the longest an event
    # waits in the outbox after its commit.
    @timer(interval=app_config().service("activity").outbox_interval_seconds)
    def relay_outbox(self) -> None:
        """Publish pending outbox rows (publisher confirms)."""
        while self.relay.relay_once():
            pass

    @timer(interval=3600)
    def purge_outbox(self) -> None:
        """Published events are kept a week for inspection, then deleted."""
        self.relay.purge(processed=PROCESSED)

    @event_handler("registration", "volunteer.registered")
    def on_volunteer_registered(self, body: dict[str, Any]) -> None:
        replica.apply(self.db, "activity.replica.volunteer", body)

    @event_handler("registration", "volunteer.verified")
    def on_volunteer_verified(self, body: dict[str, Any]) -> None:
        replica.apply(self.db, "activity.replica.volunteer", body)

    @event_handler("registration", "volunteers.imported")
    def on_volunteers_imported(self, body: dict[str, Any]) -> None:
        """A bulk import's part: every volunteer of it, set-wise."""
        replica.apply_imported(self.db, "activity.replica.volunteer", body)

    @event_handler("registration", "volunteer.rejected")
    def on_volunteer_rejected(self, body: dict[str, Any]) -> None:
        replica.apply(self.db, "activity.replica.volunteer", body)

    @event_handler("registration", "organisation.created")
    def on_organisation_created(self, body: dict[str, Any]) -> None:
        replica.apply(self.db, "activity.replica.organisation", body)


WORKER = ActivityWorker
