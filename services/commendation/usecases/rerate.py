"""Re-rating after a change of the star rules.

A change of ``stars.thresholds_hours`` or ``stars.approval_level`` at a
node (in ``registration.settings.changed``) re-rates the ratings below it
that inherit the change, in bounded batches, through the same
:meth:`RatingCases.reconcile`: requests open for those who now qualify,
pending ones that no longer qualify are withdrawn. Approved stars are never
lowered by a rule change: they were granted by a reviewer on hours that are
still true; only a correction of the hours lowers them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement

from services.commendation.models import StarRating
from services.commendation.repository import Repository
from services.commendation.usecases.base import Context
from services.commendation.usecases.ratings import (
    RULES_CHANGED,
    RatingCases,
    Reconciled,
)
from services.common.tenancy import Scope, ancestors, validate_code
from services.common.unit_of_work import Work

# The settings reconcile() reads: a change of either re-rates the subtree.
TIER_KEYS = ("stars.thresholds_hours", "stars.approval_level")
RERATE_EVENT = "commendation.stars.rerate_requested"
RERATE_BATCH = 500  # ratings per transaction
RERATE_BATCHES = 20  # transactions per rerate event, then a continuation


@dataclass(frozen=True)
class RerateOrder:
    """Re-rate the ratings in ``division_code``'s subtree (``keys``: the
    tier settings that changed there, None: re-rate all of them) after
    ``after`` (a volunteer id: where an earlier part stopped)."""

    division_code: str
    keys: tuple[str, ...] | None = None
    after: str = ""


@dataclass
class RerateSummary:
    division_code: str
    total: int = 0  # ratings in scope when it started (the CLI counts them)
    done: int = 0
    opened: int = 0
    superseded: int = 0
    withdrawn: int = 0
    skipped: list[str] = field(default_factory=list)  # subtrees with own rules
    last: str = ""  # the last volunteer id re-rated

    def add(self, outcome: Reconciled) -> None:
        self.done += 1
        self.opened += bool(outcome.opened)
        self.superseded += outcome.closed == "superseded"
        self.withdrawn += outcome.closed == "withdrawn"


class RerateCases:
    """Re-rating a subtree after a rule change, through ``ratings``."""

    def __init__(self, ctx: Context, ratings: RatingCases):
        self.ctx, self.ratings = ctx, ratings

    def follow_settings(
        self,
        consumer: str,
        event_id: str,
        code: str,
        overrides: dict[str, str],
        when: datetime,
    ) -> bool:
        """Apply a ``registration.settings.changed`` event to the replica;
        when the star rules in effect at ``code`` changed, order a re-rating
        of its subtree (an outbox event, in the same transaction as the
        claim: a redelivered settings event orders nothing, a crash after
        the commit loses nothing)."""
        with self.ctx.uow(Scope(code)) as work:
            repo = self.ctx.repo(work)
            if not repo.claim(consumer, event_id):
                return False
            before = repo.settings(code)
            if repo.replace_settings(code, overrides, when):
                repo.flush()
                after = repo.settings(code)
                keys = [k for k in TIER_KEYS if before[k] != after[k]]
                if keys:
                    work.record(RERATE_EVENT, code, {
                        "division_code": code, "keys": keys, "after": "",
                        "settings_event_id": event_id,
                    })  # fmt: skip
            return True

    def follow_rerate(
        self,
        consumer: str,
        event_id: str,
        order: RerateOrder,
        batch: int = RERATE_BATCH,
        batches: int = RERATE_BATCHES,
    ) -> RerateSummary | None:
        """Handle one ``commendation.stars.rerate_requested`` event: up to
        ``batches`` transactions of ``batch`` ratings. The last one claims
        the event and, when ratings remain, records the next part (from
        where it stopped) in the outbox, so no handler runs unbounded and a
        crash resumes at the last committed part. None: already handled."""
        with self.ctx.uow(None) as work:
            if self.ctx.repo(work).handled(consumer, event_id):
                return None
        scope = Scope(order.division_code)
        with self.ctx.uow(scope) as work:
            summary = RerateSummary(order.division_code, last=order.after)
            where = self._rerate_where(
                self.ctx.repo(work), order.division_code, order.keys, summary
            )
        for i in range(batches):
            with self.ctx.uow(scope) as work:
                repo = self.ctx.repo(work)
                count = self._rerate_batch(work, repo, where, batch, summary)
                more = count == batch
                if more and i < batches - 1:
                    continue
                if repo.claim(consumer, event_id) and more:
                    work.record(RERATE_EVENT, order.division_code, {
                        "division_code": order.division_code,
                        "keys": list(order.keys) if order.keys is not None else None,
                        "after": summary.last, "part_of": event_id,
                    })  # fmt: skip
                return summary
        return summary  # batches < 1

    def rerate(
        self,
        code: str,
        keys: Sequence[str] | None = None,
        batch: int = RERATE_BATCH,
        progress: Callable[[RerateSummary], None] | None = None,
    ) -> RerateSummary:
        """Re-rate every rating in ``code``'s subtree (``keys``: only where
        those settings are inherited from ``code``), ``batch`` per
        transaction, in volunteer-id order; the operator's command. Safe to
        repeat and to run beside the worker."""
        code = validate_code(code)
        scope = Scope(code)
        summary = RerateSummary(code)
        with self.ctx.uow(scope) as work:
            repo = self.ctx.repo(work)
            order = tuple(keys) if keys is not None else None
            where = self._rerate_where(repo, code, order, summary)
            summary.total = repo.count_ratings(where)
        while True:
            with self.ctx.uow(scope) as work:
                count = self._rerate_batch(
                    work, self.ctx.repo(work), where, batch, summary
                )
            if count and progress is not None:
                progress(summary)
            if count < batch:
                return summary

    @staticmethod
    def _rerate_where(
        repo: Repository,
        code: str,
        keys: tuple[str, ...] | None,
        summary: RerateSummary,
    ) -> list[ColumnElement[bool]]:
        """The ratings a change of ``keys`` at ``code`` affects: its subtree
        less the subtrees whose own overrides (at or above them, below
        ``code``) set every one of ``keys``."""
        where: list[ColumnElement[bool]] = [
            StarRating.division_code.like(Scope(code).like_pattern)
        ]
        if keys:
            own = repo.overrides_below(code)
            setters = {k: {c for c, o in own.items() if k in o} for k in keys}

            def shielded(node: str) -> bool:
                below = [a for a in ancestors(node) if len(a) > len(code)]
                return all(any(a in setters[k] for a in below) for k in keys)

            full = sorted(c for c in own if shielded(c))
            summary.skipped = [
                c for c in full if not any(c != o and c.startswith(o) for o in full)
            ]
            where += [~StarRating.division_code.like(f"{c}%") for c in summary.skipped]
        return where

    def _rerate_batch(
        self,
        work: Work,
        repo: Repository,
        where: list[ColumnElement[bool]],
        batch: int,
        summary: RerateSummary,
    ) -> int:
        """Re-rate the next ``batch`` ratings after ``summary.last``; the
        number re-rated. The ratings are locked first, in key order, then
        each pending request (rating then request, as everywhere), so this
        never deadlocks with an hours event, an approval or another part."""
        ratings = repo.ratings_after(where, summary.last, batch)
        settings: dict[str, dict[str, Any]] = {}
        for rating in ratings:
            code = rating.division_code
            if code not in settings:
                rows = repo.settings_rows(code)
                settings[code] = self.ctx.settings_cache.get(rows, code)
            outcome = self.ratings.reconcile(
                work, repo, rating, actor="system", settings=settings[code],
                lower=False, why=RULES_CHANGED,
            )  # fmt: skip
            summary.add(outcome)
            summary.last = rating.volunteer_id
        return len(ratings)
