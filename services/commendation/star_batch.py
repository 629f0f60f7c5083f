"""A batch of hours events applied set-wise (PostgreSQL): what
:meth:`StarCases.follow_hours` does per event, in a fixed number of round
trips per batch whatever its size.

One transaction: the claims (one ``INSERT … ON CONFLICT DO NOTHING
RETURNING``) and the homes (one call of the replica lookup) in one round
trip; then per province (the transaction's scope) one pipelined round trip
inserts and locks the ratings, adds the year hours and reads the years
served, the pending requests (locked), the refusals and the setting
overrides. The per-event rules then run in memory, event after event in the
order given (:meth:`RatingCases.reconcile` with a :class:`Book` instead of a
query per event), so the outcome is the one of applying the events one at a
time. The writes follow in one statement per kind: the ratings, the
requests opened or closed, the outbox events, the rollup bumps.

Lock order is the one of every other path: ratings first, in volunteer id
order (province by province, and a volunteer has one home), then their
pending requests; rows another batch may insert at the same time (claims,
ratings, year hours) are inserted in key order. So two batches, a batch and
a reviewer, or a batch and a re-rating never deadlock.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.exc import NoResultFound

from services.commendation import conduct, domain
from services.commendation.models import OUTBOX, ROLLUP, StarRating, StarRequest
from services.commendation.repository import Repository
from services.commendation.usecases.base import missing_replica
from services.commendation.usecases.ratings import (
    EPOCH,
    HoursNews,
    RatingCases,
    apply_news,
)
from services.common import outbox
from services.common.db import Database
from services.common.settings_replica import EffectiveCache
from services.common.tenancy import Scope, ancestors
from services.common.unit_of_work import Rollup, UnitOfWork

Items = Sequence[tuple[str, HoursNews]]


@dataclass
class Book:
    """What :meth:`RatingCases.reconcile` would query per event, read once
    for a batch and kept up to date as the batch opens and closes requests:
    each volunteer's pending request (locked), the highest tier a
    reviewer refused and what their current poor evaluations block."""

    pending: dict[str, StarRequest] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)
    blocked: dict[str, frozenset[str]] = field(default_factory=dict)

    def rejected_at(self, volunteer_id: str, stars: int) -> bool:
        return self.refused.get(volunteer_id, 0) >= stars


class _KeptEvents(UnitOfWork):
    """A unit of work whose events and rollup bumps are kept for the batch's
    one write of each."""

    def __init__(self, db: Database, events: list[tuple[str, str, dict[str, Any]]]):
        super().__init__(db, OUTBOX)
        self.events = events
        self.bumps: list[tuple[str, str, dict[str, float]]] = []

    def work(self, session: Session, clock: Callable[[], datetime]) -> _BatchWork:
        """What the use cases see inside the batch's transaction."""
        return _BatchWork(self, session, clock)

    def record(
        self,
        session: Session,
        event_type: str,
        division_code: str,
        data: dict[str, Any],
    ) -> str:
        self.events.append((event_type, division_code, data))
        return ""


@dataclass
class _BatchWork:
    """The kernel's :class:`~services.common.unit_of_work.Work` of a batch:
    its session (the system context), with events and bumps kept."""

    kept: _KeptEvents
    session: Session
    clock: Callable[[], datetime]
    scope: Scope | None = None

    def record(self, event_type: str, division_code: str, data: dict[str, Any]) -> str:
        return self.kept.record(self.session, event_type, division_code, data)

    def bump(
        self, rollup: Rollup, division_code: str, month: str, **deltas: float
    ) -> None:
        self.kept.bumps.append((division_code, month, deltas))


def follow_batch(
    cases: RatingCases, s: Session, consumer: str, items: Items
) -> list[bool]:
    """Apply ``(event_id, news)`` pairs in ``s`` (begun in the system
    context) by the star rule of ``cases``; each answer as
    :meth:`StarCases.follow_hours` would give."""
    out = [False] * len(items)
    volunteers = sorted({news.volunteer_id for _, news in items})
    with _pipeline(s) as raw:
        claimed = raw.execute(
            _CLAIM, [consumer, outbox.now(), sorted({e for e, _ in items})]
        )
        homes = raw.execute(_HOMES, [volunteers])
    fresh = {str(e) for (e,) in claimed.fetchall()}
    replica = {str(v): h for v, h in homes.fetchall()}
    todo: dict[str, list[int]] = defaultdict(list)  # volunteer → item indexes
    for i, (event_id, news) in enumerate(items):
        if event_id in fresh:
            fresh.discard(event_id)  # a second copy in the batch: done once
            todo[news.volunteer_id].append(i)
    # Where the stars belong: the replica's home. A volunteer whose replica
    # has not arrived fails the batch, then (run alone) their event waits
    # for it; a malformed replica row fails the batch (then the event).
    for v in sorted(todo):
        if not replica.get(v):
            raise missing_replica(v)
    home = {v: Scope(replica[v]).code for v in todo}
    provinces: dict[str, list[str]] = defaultdict(list)
    for v in sorted(todo):
        provinces[home[v][:2]].append(v)
    events: list[tuple[str, str, dict[str, Any]]] = []
    work = _KeptEvents(cases.ctx.db, events).work(s, cases.ctx.clock)
    for province, group in sorted(provinces.items()):
        _apply(cases, work, province, {v: todo[v] for v in group}, home, items)
        for v in group:
            for i in todo[v]:
                out[i] = True
    outbox.record_many(s, OUTBOX, events)
    return out


def _apply(
    cases: RatingCases,
    work: _BatchWork,
    province: str,
    todo: dict[str, list[int]],  # volunteer → item indexes, in id order
    home: dict[str, str],
    items: Items,
) -> None:
    """One province's volunteers: read and lock in one round trip, apply the
    events in memory, write the ratings back in one statement."""
    s, repo = work.session, Repository(work.session, None)
    volunteers = list(todo)
    added: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    for v, indexes in todo.items():
        for i in indexes:
            added[(v, items[i][1].year)] += items[i][1].delta_hours
    keys = sorted(added)  # cents add up exactly: one sum per year is enough
    codes = sorted({a for v in volunteers for a in ancestors(home[v])})
    with _pipeline(s) as raw:
        raw.execute(_SET_SCOPE, [province])
        raw.execute(_INSERT_RATINGS, [
            EPOCH, cases.ctx.clock(), volunteers,
            [items[todo[v][0]][1].volunteer_number for v in volunteers],
            [home[v] for v in volunteers],
        ])  # fmt: skip
        got_ratings = raw.execute(_LOCK_RATINGS, [volunteers])
        raw.execute(_ADD_YEARS, [
            [k[0] for k in keys], [k[1] for k in keys],
            [home[k[0]] for k in keys], [added[k] for k in keys],
        ])  # fmt: skip
        got_years = raw.execute(_YEARS_SERVED, [volunteers])
        got_pending = raw.execute(_LOCK_PENDING, [volunteers])
        got_refused = raw.execute(_REFUSED, [volunteers])
        got_poor = raw.execute(_POOR, [volunteers])
        got_policy = raw.execute(_POLICY, [codes])
    ratings = {r["volunteer_id"]: StarRating(**r) for r in _dicts(got_ratings)}
    missing = [v for v in volunteers if v not in ratings]
    if missing:  # outside this scope: the home moved to another province
        raise NoResultFound(f"no star rating in scope for volunteer {missing[0]}")
    years: dict[str, list[int]] = defaultdict(list)
    for v, year in got_years.fetchall():
        years[v].append(int(year))
    poor: dict[str, list[tuple[bool, list[str]]]] = defaultdict(list)
    for v, blocked in got_poor.fetchall():
        poor[v].append((True, blocked))
    book = Book(
        refused={v: int(m) for v, m in got_refused.fetchall()},
        blocked={v: conduct.blocks(rows) for v, rows in poor.items()},
    )
    for row in _dicts(got_pending):
        request = StarRequest(**row)
        make_transient_to_detached(request)  # as if loaded: changes are tracked
        s.add(request)
        if book.pending.setdefault(request.volunteer_id, request) is not request:
            raise RuntimeError(f"two pending requests for {request.volunteer_id}")
    settings = _Settings(dict(got_policy.fetchall()), cases.ctx.settings_cache)
    for v in volunteers:
        rating = ratings[v]
        rating.continuous_years = domain.continuous_years(years[v])
        for i in todo[v]:
            lower = apply_news(rating, items[i][1])
            cases.reconcile(
                work, repo, rating, actor="system",
                settings=settings.at(rating.division_code), lower=lower, book=book,
            )  # fmt: skip
    # The requests, star changes and rollups, while the scope is this
    # province's.
    s.flush()
    if work.kept.bumps:
        ROLLUP.bump_many(s, work.kept.bumps)
        work.kept.bumps.clear()
    rows = list(ratings.values())
    s.execute(_UPDATE_RATINGS, {
        "v": [r.volunteer_id for r in rows], "total": [r.total_hours for r in rows],
        "as_of": [r.total_as_of for r in rows], "stars": [r.stars for r in rows],
        "eligible": [r.eligible_stars for r in rows],
        "years": [r.continuous_years for r in rows],
        "at": [r.updated_at for r in rows],
        "held": [r.held_reason for r in rows],
    })  # fmt: skip


class _Settings:
    """The effective settings at a division from the override rows read for
    the batch (the use cases' cache, keyed by the rows of its ancestors)."""

    def __init__(self, rows: dict[str, Any], cache: EffectiveCache):
        self.rows, self.cache = rows, cache
        self.found: dict[str, dict[str, Any]] = {}

    def at(self, code: str) -> dict[str, Any]:
        if code not in self.found:
            chain = [[a, self.rows[a]] for a in ancestors(code) if a in self.rows]
            key = json.dumps(chain, sort_keys=True) if chain else None
            self.found[code] = self.cache.get(key, code)
        return self.found[code]


@contextmanager
def _pipeline(s: Session) -> Iterator[Any]:
    """The psycopg connection under the session (in its transaction), in
    pipeline mode. A failure inside (the server gone mid-pipeline, a statement
    refused) invalidates the connection: a connection whose pipeline did not
    end cleanly must never go back to the pool."""
    conn = s.connection()
    raw = conn.connection.driver_connection
    if raw is None:  # only after the pool invalidated it
        raise RuntimeError("the session's connection is closed")
    try:
        with raw.pipeline():
            yield raw
    except BaseException:
        conn.invalidate()
        raise


def _dicts(cursor: Any) -> list[dict[str, Any]]:
    names = [c.name for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


_CLAIM = (
    "INSERT INTO processed_events (consumer, event_id, processed_at)"
    " SELECT %s::text, e, %s::timestamptz FROM unnest(%s::text[]) AS e ORDER BY e"
    " ON CONFLICT DO NOTHING RETURNING event_id"
)
_HOMES = "SELECT v, commendation_home_of(v) FROM unnest(%s::text[]) AS v"
_SET_SCOPE = "SELECT set_config('zhiyuan.scope', %s, true)"
_RATING_COLUMNS = (
    "volunteer_id, volunteer_number, division_code, total_hours, total_as_of,"
    " stars, eligible_stars, continuous_years, updated_at, held_reason"
)
_INSERT_RATINGS = (
    f"INSERT INTO star_ratings ({_RATING_COLUMNS})"
    " SELECT v, n, d, 0, %s::timestamptz, 0, 0, 0, %s::timestamptz, ''"
    " FROM unnest(%s::text[], %s::text[], %s::text[]) AS t(v, n, d) ORDER BY v"
    " ON CONFLICT DO NOTHING"
)
_LOCK_RATINGS = (
    f"SELECT {_RATING_COLUMNS} FROM star_ratings"
    " WHERE volunteer_id = ANY(%s::text[]) ORDER BY volunteer_id FOR UPDATE"
)
_ADD_YEARS = (
    "INSERT INTO service_years (volunteer_id, year, division_code, hours)"
    " SELECT v, y, d, h FROM unnest(%s::text[], %s::int[], %s::text[],"
    " %s::numeric[]) AS t(v, y, d, h) ORDER BY v, y"
    " ON CONFLICT (volunteer_id, year) DO UPDATE"
    " SET hours = round(service_years.hours + excluded.hours, 2)"
)
_YEARS_SERVED = (
    "SELECT volunteer_id, year FROM service_years"
    " WHERE volunteer_id = ANY(%s::text[]) AND hours > 0"
)
_LOCK_PENDING = (
    "SELECT " + ", ".join(c.name for c in StarRequest.__table__.columns)
    + " FROM star_requests WHERE volunteer_id = ANY(%s::text[])"
    " AND status = 'pending' ORDER BY volunteer_id FOR UPDATE"
)  # fmt: skip
_REFUSED = (
    "SELECT volunteer_id, max(stars) FROM star_requests"
    " WHERE volunteer_id = ANY(%s::text[]) AND status = 'rejected'"
    " GROUP BY volunteer_id"
)
_POOR = (
    "SELECT volunteer_id, poor_blocks FROM evaluation_facts"
    " WHERE volunteer_id = ANY(%s::text[]) AND poor"
)
_POLICY = (
    "SELECT division_code, overrides FROM policy_overrides"
    " WHERE division_code = ANY(%s::text[])"
)
_UPDATE_RATINGS = text(
    "UPDATE star_ratings AS r SET total_hours = t.total, total_as_of = t.as_of,"
    " stars = t.stars, eligible_stars = t.eligible, continuous_years = t.years,"
    " updated_at = t.at, held_reason = t.held"
    " FROM unnest(CAST(:v AS text[]), CAST(:total AS numeric[]),"
    " CAST(:as_of AS timestamptz[]), CAST(:stars AS int[]),"
    " CAST(:eligible AS int[]), CAST(:years AS int[]), CAST(:at AS timestamptz[]),"
    " CAST(:held AS text[]))"
    " AS t(v, total, as_of, stars, eligible, years, at, held)"
    " WHERE r.volunteer_id = t.v"
)
