"""Hours' worker role (nameko): hour records from activity's check-outs and
pairing visits, the replica of registration's setting overrides, time-bank
deposits after hours' own approvals and corrections, the outbox relay, and
federation of ``hours_rollup`` (relay as a downstream release, apply as an
upstream; services/common/federation.py).

Every handler claims its event in the transaction of its effect, so a
redelivered event changes nothing. Run with ``zhiyuan run hours worker``;
never imported by the api role.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from services.common import settings_replica
from services.common.federation_worker import FederatedWorker
from services.common.outbox import Envelope
from services.common.worker import (
    OutboxWorker,
    batch_event_handler,
    event_handler,
)
from services.hours import bulk, events
from services.hours.application import HoursApp
from services.hours.models import PROCESSED
from services.hours.usecases import merges
from services.hours.usecases.records import BATCH_MAX

log = logging.getLogger(__name__)


class HoursWorker(FederatedWorker, OutboxWorker):
    name = "hours"
    processed = PROCESSED
    federated_rollup = "hours_rollup"

    @batch_event_handler("activity", "attendance.checked_out")
    def on_attendance_checked_out(self, bodies: list[dict[str, Any]]) -> None:
        """Volunteers checked out: pending records (or visible refusals), a
        batch of check-outs in one transaction."""
        self._ingest("hours.attendance", bodies, events.attendance)

    @batch_event_handler("activity", "visit.logged")
    def on_visit_logged(self, bodies: list[dict[str, Any]]) -> None:
        """Pairing visits were logged: pending records, a batch at a time."""
        self._ingest("hours.visit", bodies, events.visit)

    def _ingest(
        self,
        consumer: str,
        bodies: list[dict[str, Any]],
        draft_of: Callable[[Envelope], events.Draft],
    ) -> None:
        """Claims and records of a batch in one transaction per province
        (``ingest_batch``'s scope) and per ``BATCH_MAX`` drafts."""
        groups: dict[str, list[tuple[str, events.Draft]]] = defaultdict(list)
        for body in bodies:
            env = Envelope.from_body(body)
            draft = draft_of(env)
            groups[draft.division_code[:2]].append((env.event_id, draft))
        app = HoursApp(self.db)
        for items in groups.values():
            for start in range(0, len(items), BATCH_MAX):
                chunk = items[start : start + BATCH_MAX]
                for record in app.records.ingest_batch(consumer, chunk):
                    if record is not None and record.status == "rejected":
                        # Nobody can be answered from here: the record says
                        # why, and ListRecords(status=REJECTED) shows it.
                        log.info(
                            "record %s stored as rejected: %s",
                            record.id,
                            record.status_reason,
                        )

    @event_handler("registration", "settings.changed")
    def on_settings_changed(self, body: dict[str, Any]) -> None:
        """A node's overrides changed: replace that node's replica."""
        env = Envelope.from_body(body)
        code, overrides, when = settings_replica.from_event(env)
        HoursApp(self.db).policy.replicate(
            "hours.settings", env.event_id, code, overrides, when
        )

    @event_handler("registration", "volunteer.merged")
    def on_volunteer_merged(self, body: dict[str, Any]) -> None:
        """A duplicate registration was merged: its hours and certificates
        now belong to the survivor."""
        env = Envelope.from_body(body)
        merge = merges.Merge.from_event(env)
        HoursApp(self.db).merges.follow("hours.merge", env.event_id, merge, False)

    @event_handler("registration", "volunteer.unmerged")
    def on_volunteer_unmerged(self, body: dict[str, Any]) -> None:
        """A merge was reverted: exactly what moved goes back."""
        env = Envelope.from_body(body)
        merge = merges.Merge.from_event(env)
        HoursApp(self.db).merges.follow("hours.unmerge", env.event_id, merge, True)

    @event_handler("hours", "record.approved")
    def on_record_approved(self, body: dict[str, Any]) -> None:
        """Deposit the approved hours × the deposit ratio in the time bank."""
        self._bank("hours.timebank.approved", Envelope.from_body(body))

    @event_handler("hours", "record.corrected")
    def on_record_corrected(self, body: dict[str, Any]) -> None:
        """Follow a correction in the time bank (more, or take back)."""
        self._bank("hours.timebank.corrected", Envelope.from_body(body))

    @event_handler("hours", "records.imported")
    def on_records_imported(self, body: dict[str, Any]) -> None:
        """A bulk import's chunk (or part of it): deposit each approved
        record in the time bank, once (see services/hours/bulk.py)."""
        env = Envelope.from_body(body)
        bulk.deposit_imported(self.db, "hours.timebank.imported", env.event_id,
                              env.data)  # fmt: skip

    def _bank(self, consumer: str, env: Envelope) -> None:
        record_id = str(env.data["record_id"])
        code = str(env.data["division_code"])
        HoursApp(self.db).bank.reconcile(consumer, env.event_id, record_id, code)


WORKER = HoursWorker
