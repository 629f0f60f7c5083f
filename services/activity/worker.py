"""Activity's worker role (nameko): the outbox relay on a timer, and the
replica of registration's volunteers, organisations and tenant settings
that eligibility and publishing check against.

Federation of ``activity_rollup`` (issue 15): relayed as a downstream release,
applied as an upstream (services/common/federation_worker.py).

Run with ``zhiyuan run activity worker``; never imported by the api role.
"""

from __future__ import annotations

from typing import Any

from services.activity import campaign_feed, moves, replica
from services.activity.models import PROCESSED
from services.common.federation_worker import FederatedWorker
from services.common.worker import (
    OutboxWorker,
    event_handler,
)


class ActivityWorker(FederatedWorker, OutboxWorker):
    name = "activity"
    processed = PROCESSED
    federated_rollup = "activity_rollup"

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

    @event_handler("registration", "volunteer.transferred")
    def on_volunteer_transferred(self, body: dict[str, Any]) -> None:
        """The volunteer's home moved: the replica and their commitments to
        sessions not yet held follow; the past stays where it was done."""
        moves.follow_transfer(self.db, body)

    @event_handler("registration", "volunteer.merged")
    def on_volunteer_merged(self, body: dict[str, Any]) -> None:
        """A duplicate registration was merged: it takes no new places, and
        its sign-ups, attendance, pairs, visits and training go to the
        survivor."""
        moves.follow_merge(self.db, body, undo=False)

    @event_handler("registration", "volunteer.unmerged")
    def on_volunteer_unmerged(self, body: dict[str, Any]) -> None:
        """A merge was reverted: exactly what moved goes back, and the
        record's status comes back."""
        moves.follow_merge(self.db, body, undo=True)

    @event_handler("registration", "settings.changed")
    def on_settings_changed(self, body: dict[str, Any]) -> None:
        """A node's overrides (the fields that need insurance among them)."""
        replica.apply_settings(self.db, "activity.replica.settings", body)

    @event_handler("registration", "organisation.created")
    def on_organisation_created(self, body: dict[str, Any]) -> None:
        replica.apply(self.db, "activity.replica.organisation", body)

    @event_handler("recycling", "drive.recorded")
    def on_drive_recorded(self, body: dict[str, Any]) -> None:
        """A drive tagged to a campaign: its items delivered."""
        campaign_feed.apply(self.db, body)

    @event_handler("recycling", "booking.collected")
    def on_booking_collected(self, body: dict[str, Any]) -> None:
        """A pickup tagged to a campaign: its kg collected."""
        campaign_feed.apply(self.db, body)


WORKER = ActivityWorker
