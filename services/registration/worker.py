"""Registration's worker role (nameko): the outbox relay on a timer, the
activity feed built from registration's own events, and each volunteer's
inbox built from the events that concern the volunteer (a sign-up decided,
hours approved or corrected, a certificate issued, stars granted).

Federation of ``registration_rollup`` (issue 15): relayed as a downstream release,
applied as an upstream (services/common/federation_worker.py).

Run with ``zhiyuan run registration worker``; never imported by the api role.
"""

from __future__ import annotations

from typing import Any

from services.common.federation_worker import FederatedWorker
from services.common.worker import (
    OutboxWorker,
    event_handler,
)
from services.registration import feed, inbox
from services.registration.models import PROCESSED


class RegistrationWorker(FederatedWorker, OutboxWorker):
    name = "registration"
    processed = PROCESSED
    federated_rollup = "registration_rollup"

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

    @event_handler("registration", "volunteer.transferred")
    def on_volunteer_transferred(self, body: dict[str, Any]) -> None:
        """A transfer accepted: the new home's feed says who arrived."""
        self._feed("volunteer.transferred", body)

    @event_handler("registration", "organisation.created")
    def on_organisation_created(self, body: dict[str, Any]) -> None:
        self._feed("organisation.created", body)

    # -- a volunteer's inbox: one notification per event (inbox.notify) ------
    @event_handler("activity", "signup.decided")
    def on_signup_decided(self, body: dict[str, Any]) -> None:
        """A place approved, waitlisted, promoted or rejected."""
        inbox.notify(self.db, body)

    @event_handler("hours", "record.approved")
    def on_record_approved(self, body: dict[str, Any]) -> None:
        inbox.notify(self.db, body)

    @event_handler("hours", "record.corrected")
    def on_record_corrected(self, body: dict[str, Any]) -> None:
        inbox.notify(self.db, body)

    @event_handler("hours", "certificate.issued")
    def on_certificate_issued(self, body: dict[str, Any]) -> None:
        inbox.notify(self.db, body)

    @event_handler("commendation", "stars.approved")
    def on_stars_approved(self, body: dict[str, Any]) -> None:
        inbox.notify(self.db, body)


WORKER = RegistrationWorker
