"""Recycling's data access: every statement its use cases make. A
:class:`Repository` is built from the session of a unit of work and its
:class:`Scope`; every query it issues filters by that scope's prefix
(row-level security repeats the filter in PostgreSQL). Another tenant's row
and no row at all get the same NOT_FOUND. The use cases reach the database
only through it (and the unit of work's events and rollup bumps), so an
in-memory one stands in for it in the unit tier."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from services.common.db import SessionRepository
from services.common.errors import NotFound
from services.common.paging import page_rows
from services.common.tenancy import Scope
from services.common.unit_of_work import Work
from services.recycling import models as m
from services.recycling.quantities import Items

# What each entity is called in a NOT_FOUND (English, Chinese).
BIN = ("recycling bin", "回收箱")
COLLECTION = ("collection", "回收活动")
DRIVE = ("donation drive", "捐赠活动")
BOOKING = ("pickup booking", "预约")


# Not found, named by the request's field (kept under this name for callers).
missing = NotFound.named_by


class Repository(SessionRepository[Scope]):
    def _inside(self, column: Any) -> Any:
        return column.like(self.scope.like_pattern)

    def _one(
        self, model: Any, ident: str, field: str, kind: tuple[str, str], lock: bool
    ) -> Any:
        q = select(model).where(model.id == ident, self._inside(model.division_code))
        row = self.s.execute(q.with_for_update() if lock else q).scalar_one_or_none()
        if row is None:
            raise missing(field, kind[0], kind[1], ident)
        return row

    def under(self, model: Any, node: str) -> Any:
        """Rows of ``model`` at ``node`` or below (``node`` inside the scope)."""
        return select(model).where(
            model.division_code.like(self.scope.narrow(node).like_pattern)
        )

    def page(
        self, query: Any, order: Sequence[Any], size: int, offset: int
    ) -> tuple[list[Any], int]:
        return page_rows(self.s, query, order, size, offset)

    # -- bins ------------------------------------------------------------------------
    def bin(self, ident: str, field: str = "id", lock: bool = False) -> m.Bin:
        return self._one(m.Bin, ident, field, BIN, lock)

    def bin_code_taken(self, province: str, code: str) -> bool:
        """Whether a bin of the caller's scope has the code (others' bins are
        caught by the unique constraint)."""
        q = select(m.Bin.id).where(
            m.Bin.province == province,
            m.Bin.code == code,
            self._inside(m.Bin.division_code),
        )
        return self.s.execute(q).first() is not None

    def bins_by_code(self, province: str, codes: Sequence[str]) -> dict[str, m.Bin]:
        """The scope's bins of a province with these codes, locked."""
        if not codes:
            return {}
        q = select(m.Bin).where(
            m.Bin.province == province,
            m.Bin.code.in_(list(codes)),
            self._inside(m.Bin.division_code),
        )
        q = q.order_by(m.Bin.code).with_for_update()
        return {b.code: b for b in self.s.execute(q).scalars()}

    def history(self, bin_id: str) -> list[m.BinStatusChange]:
        t = m.BinStatusChange
        q = select(t).where(t.bin_id == bin_id, self._inside(t.division_code))
        return list(self.s.execute(q.order_by(t.recorded_at, t.id)).scalars())

    # -- collections -------------------------------------------------------------------
    def collection(self, ident: str, field: str = "id") -> m.Collection:
        return self._one(m.Collection, ident, field, COLLECTION, False)

    def emptied(self, collection_ids: Sequence[str]) -> dict[str, list[str]]:
        """Bin codes emptied by each collection."""
        out: dict[str, list[str]] = {i: [] for i in collection_ids}
        if not collection_ids:
            return out
        t = m.CollectionBin
        q = select(t.collection_id, t.bin_code).where(
            t.collection_id.in_(list(collection_ids)), self._inside(t.division_code)
        )
        for cid, code in self.s.execute(q.order_by(t.bin_code)).tuples():
            out[cid].append(code)
        return out

    # -- drives ------------------------------------------------------------------------
    def drive(self, ident: str, field: str = "id", lock: bool = False) -> m.Drive:
        return self._one(m.Drive, ident, field, DRIVE, lock)

    def distributions(self, drive_id: str) -> list[m.Distribution]:
        t = m.Distribution
        q = select(t).where(t.drive_id == drive_id, self._inside(t.division_code))
        return list(
            self.s.execute(q.order_by(t.distributed_on, t.recorded_at)).scalars()
        )

    def distributed(self, drive_ids: Sequence[str]) -> dict[str, tuple[Items, int]]:
        """(items handed out, households reached) per drive."""
        out = {i: (Items(), 0) for i in drive_ids}
        if not drive_ids:
            return out
        t = m.Distribution
        q = (
            select(
                t.drive_id,
                func.sum(t.garments),
                func.sum(t.books),
                func.sum(t.other_items),
                func.sum(t.households),
            )
            .where(t.drive_id.in_(list(drive_ids)), self._inside(t.division_code))
            .group_by(t.drive_id)
        )
        for did, g, b, o, h in self.s.execute(q).tuples():
            out[did] = (Items(int(g or 0), int(b or 0), int(o or 0)), int(h or 0))
        return out

    # -- bookings ----------------------------------------------------------------------
    def booking(self, ident: str, field: str = "id", lock: bool = False) -> m.Booking:
        return self._one(m.Booking, ident, field, BOOKING, lock)

    def bookings_of(self, volunteer_id: str) -> Any:
        """The bookings a volunteer's own account made, in the scope."""
        return select(m.Booking).where(
            m.Booking.booker_volunteer_id == volunteer_id,
            self._inside(m.Booking.division_code),
        )

    def own_booking(self, ident: str, volunteer_id: str) -> m.Booking:
        """One of them: another's is NOT_FOUND exactly like no booking."""
        q = self.bookings_of(volunteer_id).where(m.Booking.id == ident)
        row = self.s.execute(q).scalar_one_or_none()
        if row is None:
            raise missing("id", BOOKING[0], BOOKING[1], ident)
        return row

    def booking_by_key(self, request_key: str) -> m.Booking | None:
        t = m.Booking
        q = select(t).where(t.request_key == request_key, self._inside(t.division_code))
        return self.s.execute(q).scalar_one_or_none()


def sql_repository(work: Work) -> Repository:
    """The repository of a unit of work in SQL (the use cases' default)."""
    if work.scope is None:
        raise RuntimeError("recycling's use cases run in a caller's scope")
    return Repository(work.session, work.scope)
