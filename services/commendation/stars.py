"""Star ratings (星级评定) from the hours events.

The worker follows each volunteer's approved hours (hours announces the
platform total after every approval and correction) and keeps the tier they
reach. A tier above the approved stars opens one approval request at the
tier's level (default: 1-2 stars the county, 3-4 the city, 5 the province,
each tenant may change both thresholds and levels); a higher tier
supersedes it, a correction below it withdraws it, and a correction below
approved stars lowers them, on the record.

A change of the star rules at a node (``stars.thresholds_hours`` or
``stars.approval_level`` in ``registration.settings.changed``) re-rates the
ratings below it that inherit the change, in bounded batches, through the
same :meth:`StarCases.reconcile`: requests open for those who now qualify,
pending ones that no longer qualify are withdrawn. Approved stars are never
lowered by a rule change: they were granted by a reviewer on hours that are
still true; only a correction of the hours lowers them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.orm import Session

from services.commendation import domain
from services.commendation.base import UseCases
from services.commendation.models import (
    PROCESSED,
    PolicyNode,
    ServiceYear,
    StarChange,
    StarRating,
    StarRequest,
    Volunteer,
)
from services.common import outbox, settings_replica
from services.common.db import is_postgres
from services.common.tenancy import Scope, ancestors, validate_code
from services.common.times import utc

if TYPE_CHECKING:
    from services.commendation.star_batch import Book

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class HoursNews:
    """What an hours event says about a volunteer."""

    volunteer_id: str
    volunteer_number: str
    division_code: str  # where the service was
    year: int
    delta_hours: Decimal
    total_hours: Decimal
    occurred_at: datetime


# The settings reconcile() reads: a change of either re-rates the subtree.
TIER_KEYS = ("stars.thresholds_hours", "stars.approval_level")
RERATE_EVENT = "commendation.stars.rerate_requested"
RERATE_BATCH = 500  # ratings per transaction
RERATE_BATCHES = 20  # transactions per rerate event, then a continuation
CORRECTED = "a correction lowered the hours"
RULES_CHANGED = "the star thresholds or levels changed"


@dataclass(frozen=True)
class Reconciled:
    """What :meth:`StarCases.reconcile` did to one rating."""

    closed: str = ""  # "superseded" or "withdrawn" (the pending request)
    opened: int = 0  # the stars of a request it opened
    lowered: bool = False


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


class StarCases(UseCases):
    # -- replicas ------------------------------------------------------------
    def replicate_volunteer(self, consumer: str, event_id: str, v: Volunteer) -> bool:
        """Keep the volunteer's number, home division and status."""
        with self.db.session(Scope(v.division_code)) as s:
            if not outbox.claim(s, PROCESSED, consumer, event_id):
                return False
            if is_postgres(self.db.engine):
                # A home moved to another subtree: the row is updated where it
                # was, so the scope must cover both homes.
                old = s.execute(_HOME_OF, {"v": v.id}).scalar()
                if old and not old.startswith(v.division_code):
                    common = os.path.commonprefix([old, v.division_code])
                    s.execute(_SET_SCOPE, {"scope": common or v.division_code})
            # `registered` and `verified` arrive on separate queues and may be
            # handled at once: one upsert, never read-then-insert (which
            # raced into UniqueViolation on volunteers_pkey).
            s.execute(_UPSERT_VOLUNTEER, {
                "id": v.id, "volunteer_number": v.volunteer_number,
                "division_code": v.division_code, "status": v.status,
                "changed_at": v.changed_at,
            })  # fmt: skip
            return True

    # -- hours ---------------------------------------------------------------
    def follow_hours(self, consumer: str, event_id: str, news: HoursNews) -> bool:
        """Apply one hours event: totals, the year's hours, then the tier.

        One transaction: it starts in the system context, finds the
        volunteer's home and narrows to it, then claims the event. Row locks
        are taken rating first, then the pending request (as the reviewers'
        approvals do), so two events or an event and an approval never
        deadlock.
        """
        with self.db.session(None) as s:
            return self._follow(s, consumer, event_id, news)

    def follow_hours_batch(
        self, consumer: str, items: Sequence[tuple[str, HoursNews]]
    ) -> list[bool]:
        """:meth:`follow_hours` for ``(event_id, news)`` pairs in one
        transaction: all applied or none; each answer as one at a time.
        Volunteers are taken in id order (each one's events in the order
        given), so two batches lock ratings in one order and never deadlock.
        On PostgreSQL the batch is applied set-wise (:mod:`.star_batch`): a
        fixed number of statements per batch, the same outcome.
        """
        if is_postgres(self.db.engine):
            from services.commendation.star_batch import follow_batch

            with self.db.session(None) as s:
                return follow_batch(self, s, consumer, items)
        order = sorted(range(len(items)), key=lambda i: items[i][1].volunteer_id)
        out = [False] * len(items)
        with self.db.session(None) as s:
            for i in order:
                event_id, news = items[i]
                out[i] = self._follow(s, consumer, event_id, news)
        return out

    def _follow(
        self, s: Session, consumer: str, event_id: str, news: HoursNews
    ) -> bool:
        home = self._enter_home(s, news)
        if not outbox.claim(s, PROCESSED, consumer, event_id):
            return False
        rating, rows = self._rating(s, news, home)
        # Insert-or-add in one statement; the rating's lock already
        # serialises the events of one volunteer. round(): SQLite adds
        # floats, and the stored value was always rounded to cents.
        s.execute(_ADD_YEAR_HOURS, {
            "volunteer_id": news.volunteer_id, "year": news.year,
            "division_code": home, "hours": news.delta_hours,
        })  # fmt: skip
        rating.continuous_years = domain.continuous_years(
            s.execute(
                select(ServiceYear.year).where(
                    ServiceYear.volunteer_id == news.volunteer_id,
                    ServiceYear.hours > 0,
                )
            ).scalars()
        )
        # Approved stars fall only when the hours do (a correction), not
        # because the thresholds were raised since they were approved.
        lower = apply_news(rating, news)
        settings = None
        if rating.division_code == home:  # always, unless the home moved
            settings = SETTINGS_CACHE.get(rows, home)
        self.reconcile(s, rating, actor="system", settings=settings, lower=lower)
        # Written while the scope is this volunteer's home: a batch moves
        # on to another home next.
        s.flush()
        return True

    def _enter_home(self, s: Session, news: HoursNews) -> str:
        """The volunteer's home division from the replica (a cross-tenant
        lookup: the event says where the service was, not where they live),
        else where the service was; the transaction's scope becomes it."""
        if is_postgres(self.db.engine):
            home = str(
                s.execute(_SCOPE_TO_HOME, {
                    "v": news.volunteer_id, "fallback": news.division_code,
                }).scalar_one()
            )  # fmt: skip
        else:
            got = s.execute(
                select(Volunteer.division_code).where(Volunteer.id == news.volunteer_id)
            ).scalar()
            home = str(got) if got else news.division_code
        return Scope(home).code  # a malformed replica row fails the event

    def _rating(
        self, s: Session, news: HoursNews, home: str
    ) -> tuple[StarRating, str | None]:
        """The locked rating, and the override rows of its settings (read in
        the same statement, for the settings cache)."""
        # Insert-if-absent, then lock: two workers handling two events of
        # the same volunteer serialise here instead of colliding.
        s.execute(_INSERT_RATING, {
            "volunteer_id": news.volunteer_id,
            "volunteer_number": news.volunteer_number, "division_code": home,
            "total_hours": Decimal(0), "total_as_of": EPOCH, "stars": 0,
            "eligible_stars": 0, "continuous_years": 0, "updated_at": self.clock(),
        })  # fmt: skip
        rating, rows = s.execute(
            select(StarRating, settings_replica.chain(s, PolicyNode, home))
            .where(StarRating.volunteer_id == news.volunteer_id)
            .with_for_update(of=StarRating)
        ).one()
        return rating, rows

    def reconcile(
        self,
        s: Session,
        rating: StarRating,
        actor: str,
        settings: dict[str, Any] | None = None,
        *,
        lower: bool = True,
        why: str = CORRECTED,
        book: Book | None = None,
    ) -> Reconciled:
        """Bring the pending request and the stars in line with the hours
        (``settings``: the effective settings at the rating's division, when
        the caller has them). The caller holds the rating's row lock; the
        pending request is locked here, after it. ``lower``: approved stars
        above the tier fall to it (a correction); ``why``: the reason a
        withdrawn request records; ``book``: the pending requests and
        refusals read for a whole batch, instead of a query each)."""
        if settings is None:
            settings = self._settings(s, rating.division_code)
        eligible = domain.tier(rating.total_hours, settings["stars.thresholds_hours"])
        rating.eligible_stars, rating.updated_at = eligible, self.clock()
        closed, opened, lowered = "", 0, False
        vid = rating.volunteer_id
        pending = self.pending(s, vid) if book is None else book.pending.get(vid)
        if pending is not None and pending.stars != eligible:
            if eligible > rating.stars:
                closed = "superseded"
                self._close(pending, closed, f"the hours now reach {eligible}")
            else:
                closed = "withdrawn"
                self._close(pending, closed, why)
            pending = None
            if book is not None:
                del book.pending[vid]
        if eligible < rating.stars and lower:
            lowered = True
            self._change(s, rating, eligible, "lowered_by_correction", actor,
                         "hours corrected below the threshold")  # fmt: skip
        if (
            eligible > rating.stars
            and pending is None
            and not (
                self._rejected_at(s, vid, eligible)
                if book is None
                else book.rejected_at(vid, eligible)
            )
        ):
            opened = eligible
            request = self._open(s, rating, eligible, settings["stars.approval_level"])
            if book is not None:
                book.pending[vid] = request
        return Reconciled(closed, opened, lowered)

    # -- rule changes --------------------------------------------------------
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
        with self.db.session(Scope(code)) as s:
            if not outbox.claim(s, PROCESSED, consumer, event_id):
                return False
            before = self._settings(s, code)
            if settings_replica.replace(s, PolicyNode, code, overrides, when):
                s.flush()
                after = self._settings(s, code)
                keys = [k for k in TIER_KEYS if before[k] != after[k]]
                if keys:
                    self.uow.record(s, RERATE_EVENT, code, {
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
        if self._handled(consumer, event_id):
            return None
        scope = Scope(order.division_code)
        with self.db.session(scope) as s:
            summary = RerateSummary(order.division_code, last=order.after)
            where = self._rerate_where(s, order.division_code, order.keys, summary)
        for i in range(batches):
            with self.db.session(scope) as s:
                count = self._rerate_batch(s, where, batch, summary)
                more = count == batch
                if more and i < batches - 1:
                    continue
                if outbox.claim(s, PROCESSED, consumer, event_id) and more:
                    self.uow.record(s, RERATE_EVENT, order.division_code, {
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
        with self.db.session(scope) as s:
            order = tuple(keys) if keys is not None else None
            where = self._rerate_where(s, code, order, summary)
            summary.total = s.execute(
                select(func.count()).select_from(StarRating).where(*where)
            ).scalar_one()
        while True:
            with self.db.session(scope) as s:
                count = self._rerate_batch(s, where, batch, summary)
            if count and progress is not None:
                progress(summary)
            if count < batch:
                return summary

    def _rerate_where(
        self,
        s: Session,
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
            rows = s.execute(
                select(PolicyNode.division_code, PolicyNode.overrides).where(
                    PolicyNode.division_code.like(Scope(code).like_pattern),
                    PolicyNode.division_code != code,
                )
            ).all()
            own = {c: settings_replica.usable(o) for c, o in rows}
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
        s: Session,
        where: list[ColumnElement[bool]],
        batch: int,
        summary: RerateSummary,
    ) -> int:
        """Re-rate the next ``batch`` ratings after ``summary.last``; the
        number re-rated. The ratings are locked first, in key order, then
        each pending request (rating then request, as everywhere), so this
        never deadlocks with an hours event, an approval or another part."""
        ratings = list(
            s.execute(
                select(StarRating)
                .where(*where, StarRating.volunteer_id > summary.last)
                .order_by(StarRating.volunteer_id)
                .limit(batch)
                .with_for_update()
            ).scalars()
        )
        settings: dict[str, dict[str, Any]] = {}
        for rating in ratings:
            code = rating.division_code
            if code not in settings:
                rows = s.execute(select(settings_replica.chain(s, PolicyNode, code)))
                settings[code] = SETTINGS_CACHE.get(rows.scalar(), code)
            outcome = self.reconcile(
                s, rating, actor="system", settings=settings[code], lower=False,
                why=RULES_CHANGED,
            )  # fmt: skip
            summary.add(outcome)
            summary.last = rating.volunteer_id
        return len(ratings)

    def _handled(self, consumer: str, event_id: str) -> bool:
        with self.db.session(None) as s:
            got = s.execute(
                select(PROCESSED.c.event_id).where(
                    PROCESSED.c.consumer == consumer, PROCESSED.c.event_id == event_id
                )
            ).first()
            return got is not None

    @staticmethod
    def _rejected_at(s: Session, volunteer_id: str, stars: int) -> bool:
        """A reviewer refused this tier (or a higher one): more hours within
        the same tier do not ask again; reaching the next tier does."""
        return bool(
            s.execute(
                select(StarRequest.id).where(
                    StarRequest.volunteer_id == volunteer_id,
                    StarRequest.status == "rejected",
                    StarRequest.stars >= stars,
                )
            ).first()
        )

    def pending(self, s: Session, volunteer_id: str) -> StarRequest | None:
        return s.execute(
            select(StarRequest)
            .where(
                StarRequest.volunteer_id == volunteer_id,
                StarRequest.status == "pending",
            )
            .with_for_update()
        ).scalar_one_or_none()

    def _close(self, request: StarRequest, status: str, reason: str) -> None:
        request.status, request.reason = status, reason
        request.decided_by, request.decided_at = "system", self.clock()

    def _open(
        self, s: Session, rating: StarRating, stars: int, levels: dict[str, str]
    ) -> StarRequest:
        level = levels[str(stars)]
        request = StarRequest(
            id=str(uuid.uuid4()), volunteer_id=rating.volunteer_id,
            volunteer_number=rating.volunteer_number,
            division_code=rating.division_code, stars=stars,
            approval_level=level,
            approving_code=domain.approving_code(rating.division_code, level),
            hours_at_request=rating.total_hours, status="pending", reason="",
            created_at=self.clock(), decided_by="", decided_at=None,
        )  # fmt: skip
        s.add(request)
        self.uow.record(s, "commendation.star_request.opened", rating.division_code, {
            "request_id": request.id, "volunteer_id": rating.volunteer_id,
            "volunteer_number": rating.volunteer_number, "stars": stars,
            "approval_level": level, "approving_division_code": request.approving_code,
        })  # fmt: skip
        return request

    def _change(
        self, s: Session, rating: StarRating, to: int, kind: str, actor: str,
        reason: str,
    ) -> None:  # fmt: skip
        old = rating.stars
        s.add(StarChange(
            volunteer_id=rating.volunteer_id, division_code=rating.division_code,
            from_stars=old, to_stars=to, kind=kind, reason=reason, actor=actor,
            changed_at=self.clock(),
        ))  # fmt: skip
        deltas: dict[str, float] = {}
        if old:
            deltas[f"stars_{old}"] = -1.0
        if to:
            deltas[f"stars_{to}"] = 1.0
        if kind == "approved":
            deltas["star_approvals"] = 1.0
        self._bump(s, rating.division_code, **deltas)
        rating.stars = to
        self.uow.record(s, f"commendation.stars.{kind}", rating.division_code, {
            "volunteer_id": rating.volunteer_id,
            "volunteer_number": rating.volunteer_number,
            "from_stars": old, "to_stars": to,
        })  # fmt: skip


_INSERT_RATING = outbox.cached_insert(
    StarRating.__table__, "volunteer_id", "volunteer_number", "division_code",
    "total_hours", "total_as_of", "stars", "eligible_stars", "continuous_years",
    "updated_at", tail="ON CONFLICT DO NOTHING",
)  # fmt: skip
_UPSERT_VOLUNTEER = outbox.cached_insert(
    Volunteer.__table__,
    "id", "volunteer_number", "division_code", "status", "changed_at",
    tail="ON CONFLICT (id) DO UPDATE SET"
    " volunteer_number = excluded.volunteer_number, status = excluded.status,"
    " division_code = excluded.division_code, changed_at = excluded.changed_at"
    " WHERE volunteers.changed_at <= excluded.changed_at",
)  # fmt: skip
_HOME_OF = text("SELECT commendation_home_of(:v)")
_SET_SCOPE = text("SELECT set_config('zhiyuan.scope', :scope, true)")
_ADD_YEAR_HOURS = outbox.cached_insert(
    ServiceYear.__table__, "volunteer_id", "year", "division_code", "hours",
    tail="ON CONFLICT (volunteer_id, year) DO UPDATE"
    " SET hours = round(service_years.hours + excluded.hours, 2)",
)  # fmt: skip
# The home (an empty or missing replica row: where the service was) becomes
# the transaction's scope; commendation_home_of is SECURITY DEFINER.
_SCOPE_TO_HOME = text(
    "SELECT set_config('zhiyuan.scope',"
    " coalesce(nullif(commendation_home_of(:v), ''), :fallback), true)"
)
# Effective settings per chain of overrides, for this process's events.
SETTINGS_CACHE = settings_replica.EffectiveCache()


def apply_news(rating: StarRating, news: HoursNews) -> bool:
    """The rating's total follows the event unless a later one was applied
    first; True when the total fell (a correction may lower stars)."""
    lower = False
    if utc(rating.total_as_of) <= news.occurred_at:
        lower = news.total_hours < rating.total_hours
        rating.total_hours = news.total_hours
        rating.total_as_of = news.occurred_at
    return lower
