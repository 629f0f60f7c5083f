"""Recycling's read side: bins, collections, drives, bookings and the rollup,
each confined to the caller's scope (an empty division means the scope)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.common.auth import Principal
from services.common.db import Database
from services.common.federation_read import Links, summarize_federated
from services.common.paging import Page, next_token, page_bounds
from services.common.roles import own_volunteer
from services.common.rollup_query import (
    RollupResult,
    summarize,
)
from services.common.tenancy import Level
from services.recycling import domain
from services.recycling import models as m
from services.recycling import validation as v
from services.recycling.repository import Repository
from services.recycling.usecases.drives import DriveView

Build = Callable[[Repository, str], Any]


class RecyclingQueries:
    def __init__(self, db: Database):
        self.db = db

    def _page(
        self,
        p: Principal,
        node: str,
        build: Build,
        order: tuple[Any, ...],
        size: int,
        token: str,
        roles: tuple[str, ...] = domain.READERS,
        extra: Callable[[Repository, list[Any]], list[Any]] | None = None,
    ) -> Page:
        p.require_any(*roles)
        node = v.division(p.scope, node or p.scope.code)
        size, offset = page_bounds(size, token)
        with self.db.session(p.scope) as s:
            repo = Repository(s, p.scope)
            items, total = repo.page(build(repo, node), order, size, offset)
            if extra is not None:
                items = extra(repo, items)
            return Page(items, next_token(offset, size, total), total)

    # -- bins --------------------------------------------------------------------
    def bins(
        self, p: Principal, node: str, status: str | None, size: int, token: str
    ) -> Page:
        def build(r: Repository, code: str) -> Any:
            q = r.under(m.Bin, code)
            return q.where(m.Bin.status == status) if status else q

        return self._page(p, node, build, (m.Bin.code, m.Bin.id), size, token)

    def bin(self, p: Principal, ident: str) -> tuple[m.Bin, list[m.BinStatusChange]]:
        p.require_any(*domain.READERS)
        ident = v.ident(ident, "id")
        with self.db.session(p.scope) as s:
            repo = Repository(s, p.scope)
            row = repo.bin(ident)
            return row, repo.history(row.id)

    # -- collections -------------------------------------------------------------------
    def collections(self, p: Principal, node: str, size: int, token: str) -> Page:
        def with_bins(r: Repository, rows: list[Any]) -> list[Any]:
            codes = r.emptied([c.id for c in rows])
            return [(c, codes[c.id]) for c in rows]

        order = (m.Collection.collected_on.desc(), m.Collection.id)
        return self._page(
            p, node, lambda r, c: r.under(m.Collection, c), order, size, token,
            extra=with_bins,
        )  # fmt: skip

    def collection(self, p: Principal, ident: str) -> tuple[m.Collection, list[str]]:
        p.require_any(*domain.READERS)
        ident = v.ident(ident, "id")
        with self.db.session(p.scope) as s:
            repo = Repository(s, p.scope)
            row = repo.collection(ident)
            return row, repo.emptied([row.id])[row.id]

    # -- drives ------------------------------------------------------------------------
    def drives(self, p: Principal, node: str, size: int, token: str) -> Page:
        def views(r: Repository, rows: list[Any]) -> list[Any]:
            done = r.distributed([d.id for d in rows])
            return [DriveView(d, *done[d.id], []) for d in rows]

        order = (m.Drive.held_on.desc(), m.Drive.id)
        return self._page(
            p, node, lambda r, c: r.under(m.Drive, c), order, size, token, extra=views
        )

    def drive(self, p: Principal, ident: str) -> DriveView:
        p.require_any(*domain.READERS)
        ident = v.ident(ident, "id")
        with self.db.session(p.scope) as s:
            repo = Repository(s, p.scope)
            row = repo.drive(ident)
            given, reached = repo.distributed([row.id])[row.id]
            return DriveView(row, given, reached, repo.distributions(row.id))

    # -- bookings ----------------------------------------------------------------------
    def bookings(
        self, p: Principal, node: str, status: str | None, size: int, token: str
    ) -> Page:
        """Offices only: bookings carry residents' (masked) contact data."""

        def build(r: Repository, code: str) -> Any:
            q = r.under(m.Booking, code)
            return q.where(m.Booking.status == status) if status else q

        order = (m.Booking.window_start, m.Booking.id)
        return self._page(p, node, build, order, size, token, domain.MANAGERS)

    def my_bookings(self, p: Principal, size: int, token: str) -> Page:
        """A volunteer's or resident's own bookings, newest first."""
        vol = own_volunteer(p)
        size, offset = page_bounds(size, token)
        order = (m.Booking.created_at.desc(), m.Booking.id)
        with self.db.session(p.scope) as s:
            repo = Repository(s, p.scope)
            items, total = repo.page(repo.bookings_of(vol), order, size, offset)
            return Page(items, next_token(offset, size, total), total)

    def my_booking(self, p: Principal, ident: str) -> m.Booking:
        vol = own_volunteer(p)
        ident = v.ident(ident, "id")
        with self.db.session(p.scope) as s:
            return Repository(s, p.scope).own_booking(ident, vol)

    # -- statistics --------------------------------------------------------------------
    def summarize(
        self,
        p: Principal,
        code: str,
        group_by: Level | None,
        start: str,
        end: str,
        by_month: bool,
    ) -> RollupResult:
        """Rows for the children (or a deeper level) of a node, and its total."""
        query = (code, group_by, start, end, by_month)
        return summarize(self.db, p, m.ROLLUP, m.ROLLUP_TABLE, query, domain.READERS)

    def summarize_federated(
        self,
        p: Principal,
        node: str,
        group_by: Level | None,
        start: str,
        end: str,
        by_month: bool,
    ) -> tuple[RollupResult, Links]:
        """What downstream releases forwarded of ``recycling_rollup`` (issue 15),
        beside this release's own :meth:`summarize`."""
        query = (node, group_by, start, end, by_month)
        return summarize_federated(self.db, p, m.ROLLUP, query, domain.READERS)
