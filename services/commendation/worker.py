"""Commendation's worker role (nameko): star ratings that follow the hours
events, the replicas of registration's volunteers and setting overrides,
and the outbox relay.

Every handler claims its event in the transaction of its effect, so a
redelivered event changes nothing. A change of the star rules re-rates the
subtree it applies to through the worker's own ``stars.rerate_requested``
events (bounded parts, each ordering the next through the outbox).

Federation of ``commendation_rollup`` (issue 15): relayed as a downstream release,
applied as an upstream (services/common/federation_worker.py).

Run with ``zhiyuan run commendation worker``; never imported by the api
role.
"""

from __future__ import annotations

import logging
from typing import Any

from nameko.extensions import DependencyProvider

from services.commendation import events, replica
from services.commendation.application import CommendationApp
from services.commendation.models import PROCESSED
from services.commendation.usecases.merges import Merge
from services.common import settings_replica
from services.common.federation_worker import FederatedWorker
from services.common.outbox import Envelope
from services.common.worker import (
    OutboxWorker,
    batch_event_handler,
    event_handler,
)

log = logging.getLogger(__name__)


class SettingsCache(DependencyProvider):
    """One :class:`~services.common.settings_replica.EffectiveCache` per
    worker process, handed to the star use cases of every handler (they are
    made per event; the effective settings they compute are worth keeping:
    most events of a batch, and of the next, share one chain of overrides)."""

    def setup(self) -> None:
        self.cache = settings_replica.EffectiveCache()

    def get_dependency(self, worker_ctx: Any) -> settings_replica.EffectiveCache:
        return self.cache


class CommendationWorker(FederatedWorker, OutboxWorker):
    name = "commendation"
    processed = PROCESSED
    federated_rollup = "commendation_rollup"
    settings_cache = SettingsCache()

    def _app(self) -> CommendationApp:
        return CommendationApp(self.db, settings_cache=self.settings_cache)

    @batch_event_handler("hours", "record.approved")
    def on_record_approved(self, bodies: list[dict[str, Any]]) -> None:
        """Approved hours: the volunteers' totals and tiers move up (a batch
        of events in one transaction)."""
        self._follow(bodies, "hours")

    @batch_event_handler("hours", "record.corrected")
    def on_record_corrected(self, bodies: list[dict[str, Any]]) -> None:
        """Corrections: a tier may fall below a request or the stars."""
        self._follow(bodies, "delta_hours")

    def _follow(self, bodies: list[dict[str, Any]], delta_key: str) -> None:
        items = []
        for body in bodies:
            env = Envelope.from_body(body)
            items.append((env.event_id, events.hours(env, delta_key)))
        self._app().stars.follow_hours_batch("commendation.hours", items)

    @event_handler("hours", "records.imported")
    def on_records_imported(self, body: dict[str, Any]) -> None:
        """A bulk import's chunk: per volunteer and service year, the hours
        added and the total after; each applied once (its own claim)."""
        env = Envelope.from_body(body)
        self._app().stars.follow_imported("commendation.hours", events.imported(env))

    @event_handler("hours", "record.evaluated")
    def on_record_evaluated(self, body: dict[str, Any]) -> None:
        """A record's (re-)evaluation: the volunteer's current evaluations,
        and the stars held or released by what a poor one blocks."""
        env = Envelope.from_body(body)
        self._app().conduct.follow_evaluation(
            "commendation.evaluations", env.event_id, events.evaluation(env)
        )

    @event_handler("hours", "complaint.filed")
    def on_complaint_filed(self, body: dict[str, Any]) -> None:
        self._complaint(body)

    @event_handler("hours", "complaint.replied")
    def on_complaint_replied(self, body: dict[str, Any]) -> None:
        self._complaint(body)

    @event_handler("hours", "complaint.decided")
    def on_complaint_decided(self, body: dict[str, Any]) -> None:
        self._complaint(body)

    def _complaint(self, body: dict[str, Any]) -> None:
        """A complaint's status (counted by outcome in nomination evidence)."""
        env = Envelope.from_body(body)
        self._app().conduct.follow_complaint(
            "commendation.complaints", env.event_id, events.complaint(env)
        )

    @event_handler("registration", "volunteer.registered")
    def on_volunteer_registered(self, body: dict[str, Any]) -> None:
        self._volunteer(body)

    @event_handler("registration", "volunteer.verified")
    def on_volunteer_verified(self, body: dict[str, Any]) -> None:
        self._volunteer(body)

    @event_handler("registration", "volunteers.imported")
    def on_volunteers_imported(self, body: dict[str, Any]) -> None:
        """A bulk import's part: every volunteer's home division, set-wise."""
        replica.replicate_imported(self.db, "commendation.volunteers", body)

    def _volunteer(self, body: dict[str, Any]) -> None:
        """The volunteer's home division, where their stars belong."""
        env = Envelope.from_body(body)
        self._app().stars.replicate_volunteer(
            "commendation.volunteers", env.event_id, events.volunteer(env)
        )

    @event_handler("registration", "volunteer.transferred")
    def on_volunteer_transferred(self, body: dict[str, Any]) -> None:
        """The volunteer's home moved: the replica, the rating and the years
        served move with it, re-rated by the new home's rules."""
        env = Envelope.from_body(body)
        self._app().moves.follow_transfer(
            "commendation.transfers", env.event_id, events.transfer(env)
        )

    @event_handler("registration", "volunteer.merged")
    def on_volunteer_merged(self, body: dict[str, Any]) -> None:
        """A duplicate registration was merged: the survivor's rating takes
        over its hours and is re-rated."""
        env = Envelope.from_body(body)
        merge = Merge.from_event(env)
        self._app().merges.follow("commendation.merge", env.event_id, merge, False)

    @event_handler("registration", "volunteer.unmerged")
    def on_volunteer_unmerged(self, body: dict[str, Any]) -> None:
        """A merge was reverted: the survivor's rating gives the hours back."""
        env = Envelope.from_body(body)
        merge = Merge.from_event(env)
        self._app().merges.follow("commendation.unmerge", env.event_id, merge, True)

    @event_handler("registration", "settings.changed")
    def on_settings_changed(self, body: dict[str, Any]) -> None:
        """A node's overrides changed (star thresholds and levels among them):
        the replica follows, and a change of the star rules in effect there
        orders a re-rating of the subtree (``stars.rerate_requested``)."""
        env = Envelope.from_body(body)
        code, overrides, when = settings_replica.from_event(env)
        self._app().rerating.follow_settings(
            "commendation.settings", env.event_id, code, overrides, when
        )

    @event_handler("commendation", "stars.rerate_requested")
    def on_rerate_requested(self, body: dict[str, Any]) -> None:
        """Re-rate a subtree after a rule change, a bounded part per event
        (the last transaction orders the next part)."""
        env = Envelope.from_body(body)
        order = events.rerate(env)
        done = self._app().rerating.follow_rerate(
            "commendation.rerate", env.event_id, order
        )
        if done is not None:
            log.info(
                "re-rated %d ratings under %s: %d opened, %d superseded, "
                "%d withdrawn (skipped %s)", done.done, order.division_code,
                done.opened, done.superseded, done.withdrawn,
                ",".join(done.skipped) or "none",
            )  # fmt: skip


WORKER = CommendationWorker
