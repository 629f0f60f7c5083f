"""Commendation's repository in memory, for the fast use-case tier.

:class:`FakeStore` holds the rows; :class:`FakeRepository` is the view of it
one unit of work gets (filtered by that unit's scope, as the SQL one is);
:class:`TransactionalFakeUoW` is the kernel's :class:`FakeUnitOfWork` that
also puts the rows back as they were when a unit raises, as a rolled-back
transaction would. Only what the use cases under test call is here: a
method a use case starts calling fails with AttributeError, not silently.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect

from services.commendation import conduct
from services.commendation.models import (
    AwardRound,
    BarEntry,
    ComplaintFact,
    EvaluationFact,
    Nomination,
    Objection,
    ReviewStep,
    StarChange,
    StarRating,
    StarRequest,
    Volunteer,
)
from services.common.errors import NotFound
from services.common.paging import Page
from services.common.settings_replica import EffectiveCache
from services.common.tenancy import Scope, ancestors


class FakeStore:
    def __init__(self) -> None:
        self.overrides: dict[str, dict[str, str]] = {}  # code → key → JSON
        self.homes: dict[str, str] = {}  # volunteer id → home division
        self.claimed: set[tuple[str, str]] = set()
        self.ratings: dict[str, StarRating] = {}
        self.years: dict[tuple[str, int], Decimal] = {}
        self.rows: list[Any] = []  # requests, changes, bars, rounds, ...

    def of(self, kind: type) -> list[Any]:
        return [r for r in self.rows if isinstance(r, kind)]

    # -- what a rolled-back transaction restores --
    def snapshot(self) -> Any:
        objects = [*self.rows, *self.ratings.values()]
        values = [
            (o, {a.key: getattr(o, a.key) for a in inspect(o).mapper.column_attrs})
            for o in objects
        ]
        return (
            values, list(self.rows), dict(self.ratings), dict(self.years),
            set(self.claimed), json.dumps(self.overrides), dict(self.homes),
        )  # fmt: skip

    def restore(self, saved: Any) -> None:
        values, rows, ratings, years, claimed, overrides, homes = saved
        for o, columns in values:
            for key, value in columns.items():
                setattr(o, key, value)
        self.rows, self.ratings, self.years = rows, ratings, years
        self.claimed, self.homes = claimed, homes
        self.overrides = json.loads(overrides)


class FakeRepository:
    def __init__(self, store: FakeStore, scope: Scope | None):
        self.store, self.scope = store, scope
        self.cache = EffectiveCache()

    def _inside(self, code: str) -> bool:
        assert self.scope is not None, "a scoped read needs a scope"
        return self.scope.contains(code)

    def add(self, row: Any) -> None:
        self.store.rows.append(row)

    def flush(self) -> None:
        pass

    # -- events and settings --
    def claim(self, consumer: str, event_id: str) -> bool:
        if (consumer, event_id) in self.store.claimed:
            return False
        self.store.claimed.add((consumer, event_id))
        return True

    def settings_rows(self, code: str) -> str | None:
        chain = [
            [a, self.store.overrides[a]]
            for a in sorted(ancestors(code))
            if a in self.store.overrides
        ]
        return json.dumps(chain) if chain else None

    def settings(self, code: str) -> dict[str, Any]:
        return self.cache.get(self.settings_rows(code), code)

    # -- homes and ratings --
    def upsert_volunteers(self, volunteers: Sequence[Volunteer]) -> None:
        for v in volunteers:
            self.store.homes[v.id] = v.division_code

    def home_of(self, volunteer_id: str) -> str | None:
        home = self.store.homes.get(volunteer_id)
        return home if home is not None and self._inside(home) else None

    def enter_home(self, volunteer_id: str, fallback: str) -> str:
        return self.store.homes.get(volunteer_id) or fallback

    def replica_row(self, volunteer_id: str) -> str | None:
        """The replica stands for its home here (no Volunteer rows kept)."""
        return self.store.homes.get(volunteer_id)

    def rating_locked_with_settings(
        self, values: dict[str, Any]
    ) -> tuple[StarRating, str | None]:
        vid = values["volunteer_id"]
        if vid not in self.store.ratings:
            self.store.ratings[vid] = StarRating(**values)
        rating = self.store.ratings[vid]
        return rating, self.settings_rows(values["division_code"])

    def rating(self, volunteer_id: str, lock: bool = False) -> StarRating | None:
        return self.store.ratings.get(volunteer_id)

    def add_year_hours(
        self, volunteer_id: str, year: int, home: str, hours: Decimal
    ) -> None:
        key = (volunteer_id, year)
        self.store.years[key] = self.store.years.get(key, Decimal(0)) + hours

    def years_served(self, volunteer_id: str) -> list[int]:
        return [y for (v, y), h in self.store.years.items() if v == volunteer_id and h]

    # -- star requests --
    def pending(self, volunteer_id: str, lock: bool = True) -> StarRequest | None:
        found = [
            r
            for r in self.store.of(StarRequest)
            if r.volunteer_id == volunteer_id and r.status == "pending"
        ]
        assert len(found) <= 1, "two pending requests"
        return found[0] if found else None

    def rejected_at(self, volunteer_id: str, stars: int) -> bool:
        return any(
            r.volunteer_id == volunteer_id
            and r.status == "rejected"
            and r.stars >= stars
            for r in self.store.of(StarRequest)
        )

    def star_request(self, ident: str, lock: bool) -> StarRequest | None:
        for r in self.store.of(StarRequest):
            if r.id == ident and self._inside(r.division_code):
                return r  # type: ignore[no-any-return]
        return None

    def barred_until(self, volunteer_id: str, today: date) -> date | None:
        ends = [
            b.ends_on
            for b in self.store.of(BarEntry)
            if b.volunteer_id == volunteer_id and b.ends_on >= today
        ]
        return max(ends) if ends else None

    # -- conduct --
    def conduct_blocks(self, volunteer_id: str) -> frozenset[str]:
        return conduct.blocks(
            (e.poor, e.poor_blocks)
            for e in self.store.of(EvaluationFact)
            if e.volunteer_id == volunteer_id
        )

    def fact_locked(self, model: type, values: dict[str, Any]) -> tuple[Any, bool]:
        key = "record_id" if model is EvaluationFact else "complaint_id"
        for row in self.store.of(model):
            if getattr(row, key) == values[key]:
                return row, False
        row = model(**values)
        self.store.rows.append(row)
        return row, True

    def standing_of(self, volunteer_id: str) -> conduct.Standing:
        return conduct.standing(
            [
                (e.score, e.poor)
                for e in self.store.of(EvaluationFact)
                if e.volunteer_id == volunteer_id
            ],
            [
                c.status
                for c in self.store.of(ComplaintFact)
                if c.volunteer_id == volunteer_id
            ],
        )

    # -- rounds and nominations --
    def round(self, ident: str) -> AwardRound | None:
        return next((r for r in self.store.of(AwardRound) if r.id == ident), None)

    def nomination_by_id(self, ident: str, lock: bool = False) -> Nomination | None:
        return next((n for n in self.store.of(Nomination) if n.id == ident), None)

    def nomination(self, ident: str, lock: bool = False) -> Nomination:
        n = self.nomination_by_id(ident)
        if n is None or not self._inside(n.division_code):
            raise NotFound.entity("nomination", "推荐", ident)
        return n

    def submitted(self, username: str, request_id: str) -> Nomination | None:
        return next(
            (
                n
                for n in self.store.of(Nomination)
                if n.nominated_by == username and n.request_id == request_id
            ),
            None,
        )

    def of_round(self, round_id: str, status: str) -> list[Nomination]:
        found = [
            n
            for n in self.store.of(Nomination)
            if n.round_id == round_id and n.status == status
        ]
        return sorted(found, key=lambda n: n.created_at)

    def awards_of(self, volunteer_id: str) -> list[tuple[Nomination, AwardRound]]:
        rounds = {r.id: r for r in self.store.of(AwardRound)}
        found = [
            (n, rounds[n.round_id])
            for n in self.store.of(Nomination)
            if n.nominee_volunteer_id == volunteer_id
            and n.status == "awarded"
            and rounds[n.round_id].status == "finalized"
            and self._inside(n.division_code)
        ]
        return sorted(found, key=lambda a: (-a[1].finalized_at.timestamp(), a[0].id))

    def lock_quota(self, round_id: str, child_code: str) -> None:
        pass  # one thread: nothing to serialise

    def places_held(
        self, round_id: str, child_code: str, statuses: Sequence[str], but: str
    ) -> int:
        return sum(
            1
            for n in self.store.of(Nomination)
            if n.round_id == round_id
            and n.child_code == child_code
            and n.at_round_level
            and n.status in statuses
            and n.id != but
        )

    def conflict_declared(self, nomination_id: str, subject: str) -> bool:
        return any(
            s.nomination_id == nomination_id
            and s.decision == "conflict"
            and s.reviewer_subject == subject
            for s in self.store.of(ReviewStep)
        )

    def objection(self, ident: str) -> Objection:
        for o in self.store.of(Objection):
            if o.id == ident and self._inside(o.division_code):
                return o  # type: ignore[no-any-return]
        raise NotFound.entity("objection", "异议", ident)

    def open_objections(self, round_id: str) -> int:
        return sum(
            1
            for o in self.store.of(Objection)
            if o.round_id == round_id and o.status == "open"
        )

    def page(self, query: Any, order: Any, paging: Any) -> Page:
        raise NotImplementedError("lists are read in SQL only")

    def changes(self) -> list[StarChange]:
        return self.store.of(StarChange)
