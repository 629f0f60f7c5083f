"""Recycling's repository in memory, for the fast use-case tier.

:class:`FakeStore` holds the rows of every tenant; :class:`FakeRepository`
is the view of it one unit of work gets (filtered by that unit's scope, as
the SQL one is, while the unique keys are checked across every tenant, as
PostgreSQL's constraints are); the unit of work is the kernel's
:class:`TransactionalFakeUnitOfWork`, which puts the rows back as they were when a
unit raises, as a rolled-back transaction would. Only what the use cases
call is here: a method a use case starts calling fails with AttributeError,
not silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import inspect

from services.common.db import KeyTaken
from services.common.tenancy import Scope
from services.recycling import models as m
from services.recycling.quantities import Items
from services.recycling.repository import BIN, BOOKING, DRIVE, missing


class FakeStore:
    def __init__(self) -> None:
        self.rows: list[Any] = []  # bins, their history, collections, ...

    def of(self, kind: type) -> list[Any]:
        return [r for r in self.rows if isinstance(r, kind)]

    # -- what a rolled-back transaction restores --
    def snapshot(self) -> Any:
        columns = [
            (o, {a.key: getattr(o, a.key) for a in inspect(o).mapper.column_attrs})
            for o in self.rows
        ]
        return columns, list(self.rows)

    def restore(self, saved: Any) -> None:
        columns, rows = saved
        for o, values in columns:
            for key, value in values.items():
                setattr(o, key, value)
        self.rows = rows


def _unique_key(row: Any) -> tuple[Any, ...] | None:
    """The row's key under a unique constraint of models.py, if it has one."""
    if isinstance(row, m.Bin):
        return (m.Bin, row.province, row.code)
    if isinstance(row, m.Booking):
        return (m.Booking, row.request_key)
    return None


class FakeRepository:
    def __init__(self, store: FakeStore, scope: Scope | None):
        assert scope is not None, "recycling's use cases run in a caller's scope"
        self.store, self.scope = store, scope

    def _inside(self, code: str) -> bool:
        return self.scope.contains(code)

    def _one(self, kind: type, ident: str, field: str, name: tuple[str, str]) -> Any:
        for row in self.store.of(kind):
            if row.id == ident and self._inside(row.division_code):
                return row
        raise missing(field, *name, ident)

    # -- writes --
    def add(self, row: Any) -> None:
        self.store.rows.append(row)

    def flush(self) -> None:
        pass

    def add_unique(self, row: Any) -> None:
        key = _unique_key(row)
        if key is not None and any(_unique_key(r) == key for r in self.store.rows):
            raise KeyTaken(type(row).__name__)
        self.add(row)

    # -- bins --
    def bin(self, ident: str, field: str = "id", lock: bool = False) -> m.Bin:
        return self._one(m.Bin, ident, field, BIN)  # type: ignore[no-any-return]

    def bin_code_taken(self, province: str, code: str) -> bool:
        return any(
            b.province == province and b.code == code and self._inside(b.division_code)
            for b in self.store.of(m.Bin)
        )

    def bins_by_code(self, province: str, codes: Sequence[str]) -> dict[str, m.Bin]:
        return {
            b.code: b
            for b in self.store.of(m.Bin)
            if b.province == province
            and b.code in codes
            and self._inside(b.division_code)
        }

    # -- drives --
    def drive(self, ident: str, field: str = "id", lock: bool = False) -> m.Drive:
        return self._one(m.Drive, ident, field, DRIVE)  # type: ignore[no-any-return]

    def distributions(self, drive_id: str) -> list[m.Distribution]:
        found = [
            d
            for d in self.store.of(m.Distribution)
            if d.drive_id == drive_id and self._inside(d.division_code)
        ]
        return sorted(found, key=lambda d: (d.distributed_on, d.recorded_at))

    def distributed(self, drive_ids: Sequence[str]) -> dict[str, tuple[Items, int]]:
        out = {i: (Items(), 0) for i in drive_ids}
        for d in self.store.of(m.Distribution):
            if d.drive_id in out and self._inside(d.division_code):
                items, households = out[d.drive_id]
                given = Items(d.garments, d.books, d.other_items)
                out[d.drive_id] = (items.plus(given), households + d.households)
        return out

    # -- bookings --
    def booking(self, ident: str, field: str = "id", lock: bool = False) -> m.Booking:
        return self._one(m.Booking, ident, field, BOOKING)  # type: ignore[no-any-return]

    def booking_by_key(self, request_key: str) -> m.Booking | None:
        found = [
            b
            for b in self.store.of(m.Booking)
            if b.request_key == request_key and self._inside(b.division_code)
        ]
        assert len(found) <= 1, "two bookings with one request key"
        return found[0] if found else None
