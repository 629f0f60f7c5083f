"""Registration's worker role (nameko): the outbox relay on a timer, and the
activity feed built from registration's own events.

Run with ``zhiyuan run registration worker``; never imported by the api role.
"""

from __future__ import annotations

from typing import Any

from nameko.timer import timer

from services.common.worker import (
    DatabaseDependency,
    Heartbeat,
    RelayDependency,
    Tracing,
    app_config,
    event_handler,
)
from services.registration import feed
from services.registration.models import PROCESSED


class RegistrationWorker:
    name = "registration"

    db = DatabaseDependency("registration")
    relay = RelayDependency("registration")
    heartbeat = Heartbeat("registration")
    tracing = Tracing()

    # <SERVICE>_OUTBOX_INTERVAL_SECONDS (default 0.1 s): the longest an event
    # waits in the outbox after its commit.
    @timer(interval=app_config().service("registration").outbox_interval_seconds)
    def relay_outbox(self) -> None:
        """Publish pending outbox rows (publisher confirms)."""
        while self.relay.relay_once():
            pass

    @timer(interval=3600)
    def purge_outbox(self) -> None:
        """Published events are kept a week for inspection, then deleted."""
        self.relay.purge(processed=PROCESSED)

    def _feed(self, event_type: str, body: dict[str, Any]) -> None:
        feed.record(self.db, event_type, body)

    @event_handler("registration", "volunteer.registered")
    def on_volunteer_registered(self, body: dict[str, Any]) -> None:
        self._feed("volunteer.registered", body)

    @event_handler("registration", "volunteer.verified")
    def on_volunteer_verified(self, body: dict[str, Any]) -> None:
        self._feed("volunteer.verified", body)

    @event_handler("registration", "volunteers.imported")
    def on_volunteers_imported(self, body: dict[str, Any]) -> None:
        """A bulk import's part: the feed items of its per-volunteer events."""
        feed.record_imported(self.db, body)

    @event_handler("registration", "volunteer.rejected")
    def on_volunteer_rejected(self, body: dict[str, Any]) -> None:
        self._feed("volunteer.rejected", body)

    @event_handler("registration", "organisation.created")
    def on_organisation_created(self, body: dict[str, Any]) -> None:
        self._feed("organisation.created", body)


WORKER = RegistrationWorker
