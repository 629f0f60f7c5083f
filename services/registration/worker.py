"""Registration's worker role (nameko): the outbox relay on a timer, and the
activity feed built from registration's own events.

Run with ``zhiyuan run registration worker``; never imported by the api role.
"""

from __future__ import annotations

from typing import Any

from services.common.worker import (
    OutboxWorker,
    event_handler,
)
from services.registration import feed
from services.registration.models import PROCESSED


class RegistrationWorker(OutboxWorker):
    name = "registration"
    processed = PROCESSED

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
