"""The unit of work every service's use cases run in: one scoped transaction
per call, the clock, events recorded in the same transaction (the outbox)
and rollup bumps. It replaces the ``_tx``/``_event`` pair each service's
``UseCases`` base used to copy (and that had drifted: some took a
Principal, some a Scope).

``uow = UnitOfWork(db, OUTBOX, clock)``; ``with uow(p) as work:`` where
``p`` is a :class:`Principal`, a :class:`Scope` or ``None`` (the system
context, which sees no tenant rows under RLS).

:class:`FakeUnitOfWork` is the same interface in memory, for use cases
that only record events, bump rollups, read the clock and talk to a
repository object they are given (no SQLAlchemy session): events go to a
list, bumps to a dict, and ``committed`` says whether the last unit ended
without an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Table
from sqlalchemy.orm import Session

from services.common import outbox
from services.common.auth import Principal
from services.common.db import Database
from services.common.tenancy import Scope

Caller = Principal | Scope | None


def scope_of(caller: Caller) -> Scope | None:
    """The one way to name the caller: a Principal's scope, a Scope as is,
    ``None`` for the system."""
    if isinstance(caller, Principal):
        return caller.scope
    if caller is None or isinstance(caller, Scope):
        return caller
    raise TypeError(
        f"a unit of work needs a Principal, a Scope or None, not {caller!r}"
    )


class Rollup(Protocol):
    def bump(
        self, session: Session, division_code: str, month: str, **deltas: float
    ) -> None: ...


class Work(Protocol):
    """What a use case sees inside a unit of work."""

    @property
    def session(self) -> Session: ...
    @property
    def scope(self) -> Scope | None: ...
    @property
    def clock(self) -> Callable[[], datetime]: ...
    def record(
        self, event_type: str, division_code: str, data: dict[str, Any]
    ) -> str: ...
    def bump(
        self, rollup: Rollup, division_code: str, month: str, **deltas: float
    ) -> None: ...


@dataclass
class _SqlWork:
    session: Session
    scope: Scope | None
    clock: Callable[[], datetime]
    outbox_table: Table

    def record(self, event_type: str, division_code: str, data: dict[str, Any]) -> str:
        """Add an event to the outbox in this transaction; its id."""
        return outbox.record(
            self.session,
            self.outbox_table,
            event_type,
            division_code=division_code,
            data=data,
        )

    def bump(
        self, rollup: Rollup, division_code: str, month: str, **deltas: float
    ) -> None:
        rollup.bump(self.session, division_code, month, **deltas)


class UnitOfWork:
    def __init__(
        self,
        db: Database,
        outbox_table: Table,
        clock: Callable[[], datetime] = outbox.now,
    ):
        self.db, self.outbox_table, self.clock = db, outbox_table, clock

    @contextmanager
    def __call__(self, caller: Caller) -> Iterator[_SqlWork]:
        scope = scope_of(caller)
        with self.db.session(scope) as session:
            yield _SqlWork(session, scope, self.clock, self.outbox_table)

    def record(
        self,
        session: Session,
        event_type: str,
        division_code: str,
        data: dict[str, Any],
    ) -> str:
        """:meth:`Work.record` for a helper that was handed only the session
        of an open unit of work."""
        return outbox.record(
            session,
            self.outbox_table,
            event_type,
            division_code=division_code,
            data=data,
        )


@dataclass
class FakeWork:
    scope: Scope | None
    clock: Callable[[], datetime]
    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    bumps: dict[tuple[str, str, str, str], float] = field(default_factory=dict)

    @property
    def session(self) -> Session:
        raise RuntimeError(
            "this use case reaches the SQLAlchemy session: it cannot run on "
            "the fake unit of work"
        )

    def record(self, event_type: str, division_code: str, data: dict[str, Any]) -> str:
        self.events.append((event_type, division_code, dict(data)))
        return str(len(self.events))

    def bump(
        self, rollup: Rollup, division_code: str, month: str, **deltas: float
    ) -> None:
        name = getattr(rollup, "table_name", type(rollup).__name__)
        for metric, delta in deltas.items():
            key = (str(name), division_code, month, metric)
            self.bumps[key] = self.bumps.get(key, 0) + delta


class FakeUnitOfWork:
    """In memory: what was recorded and bumped by the units that committed
    (a unit that raised leaves nothing, as a rolled-back transaction)."""

    def __init__(self, now: datetime | None = None):
        self.now = now if now is not None else outbox.now()
        self.events: list[tuple[str, str, dict[str, Any]]] = []
        self.bumps: dict[tuple[str, str, str, str], float] = {}
        self.committed = False
        self.scopes: list[Scope | None] = []

    def clock(self) -> datetime:
        return self.now

    def set_clock(self, now: datetime) -> None:
        self.now = now

    @contextmanager
    def __call__(self, caller: Caller) -> Iterator[FakeWork]:
        scope = scope_of(caller)
        self.scopes.append(scope)
        self.committed = False
        work = FakeWork(scope, self.clock)
        yield work  # an exception propagates and nothing is kept
        self.events.extend(work.events)
        for key, delta in work.bumps.items():
            self.bumps[key] = self.bumps.get(key, 0) + delta
        self.committed = True


class Snapshots(Protocol):
    """An in-memory store a fake unit of work can roll back."""

    def snapshot(self) -> Any: ...
    def restore(self, saved: Any) -> None: ...


class TransactionalFakeUnitOfWork(FakeUnitOfWork):
    """:class:`FakeUnitOfWork` over an in-memory store (a test's fake
    repository keeps its rows there): a unit that raises puts the store back
    as it found it, as a rolled-back transaction leaves the tables."""

    def __init__(self, store: Snapshots, now: datetime | None = None):
        super().__init__(now)
        self.store = store

    @contextmanager
    def __call__(self, caller: Caller) -> Iterator[FakeWork]:
        saved = self.store.snapshot()
        try:
            with super().__call__(caller) as work:
                yield work
        except BaseException:
            self.store.restore(saved)
            raise
