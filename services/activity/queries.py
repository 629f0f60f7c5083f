"""Activity's read side: projects, paged lists and rollups, each confined to
the caller's scope (plus the open emergency campaigns of its ancestors)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.activity import domain
from services.activity import models as m
from services.activity.repository import ProjectView, Repository
from services.common.auth import Principal
from services.common.db import Database
from services.common.federation_read import Links, summarize_federated
from services.common.paging import Page, next_token, page_bounds
from services.common.rollup_query import (
    RollupResult,
    summarize,
)
from services.common.tenancy import Level

VIEWERS = (*domain.READERS, "volunteer")


class ActivityQueries:
    def __init__(self, db: Database):
        self.db = db

    def _page(
        self,
        p: Principal,
        build: Callable[[Repository], Any],
        order: tuple[Any, ...],
        size: int,
        token: str,
        roles: tuple[str, ...] = domain.READERS,
        views: bool = False,
    ) -> Page:
        p.require_any(*roles)
        size, offset = page_bounds(size, token)
        with self.db.session(p.scope) as s:
            repo = Repository(s, p.scope)
            items, total = repo.list_page(build(repo), order, size, offset)
            if views:
                items = repo.views(items)
            return Page(items, next_token(offset, size, total), total)

    def project(self, p: Principal, ident: str) -> ProjectView:
        p.require_any(*VIEWERS)
        with self.db.session(p.scope) as s:
            repo = Repository(s, p.scope)
            return repo.view(repo.project(ident, reach_up=True))

    def projects(
        self, p: Principal, node: str, status: str | None, size: int, token: str
    ) -> Page:
        def build(r: Repository) -> Any:
            q = r.under(m.Project, node or p.scope.code)
            return q.where(m.Project.status == status) if status else q

        order = (m.Project.created_at.desc(), m.Project.id)
        return self._page(p, build, order, size, token, views=True)

    def open_projects(self, p: Principal, node: str, size: int, token: str) -> Page:
        order = (m.Project.emergency.desc(), m.Project.recruit_ends_at, m.Project.id)
        return self._page(
            p,
            lambda r: r.open_projects(node or p.scope.code),
            order,
            size,
            token,
            VIEWERS,
            True,
        )

    def sign_ups(
        self, p: Principal, session_id: str, status: str | None, size: int, token: str
    ) -> Page:
        def build(r: Repository) -> Any:
            r.session_of(session_id, reach_up=True)
            q = r.sign_ups_of(session_id)
            return q.where(m.SignUp.status == status) if status else q

        return self._page(p, build, (m.SignUp.queue_number, m.SignUp.id), size, token)

    def attendances(self, p: Principal, session_id: str, size: int, token: str) -> Page:
        def build(r: Repository) -> Any:
            r.session_of(session_id, reach_up=True)
            return r.attendances_of(session_id)

        order = (m.Attendance.checked_in_at, m.Attendance.id)
        return self._page(p, build, order, size, token)

    def recipients(self, p: Principal, node: str, size: int, token: str) -> Page:
        order = (m.Recipient.created_at.desc(), m.Recipient.id)
        return self._page(
            p, lambda r: r.under(m.Recipient, node or p.scope.code), order, size, token
        )

    def pairs(
        self, p: Principal, node: str, recipient_id: str, size: int, token: str
    ) -> Page:
        def build(r: Repository) -> Any:
            q = r.under(m.Pair, node or p.scope.code)
            return q.where(m.Pair.recipient_id == recipient_id) if recipient_id else q

        order = (m.Pair.created_at.desc(), m.Pair.id)
        return self._page(p, build, order, size, token)

    def visits(
        self, p: Principal, node: str, pair_id: str, size: int, token: str
    ) -> Page:
        def build(r: Repository) -> Any:
            q = r.under(m.Visit, node or p.scope.code)
            return q.where(m.Visit.pair_id == pair_id) if pair_id else q

        return self._page(
            p, build, (m.Visit.started_at.desc(), m.Visit.id), size, token
        )

    def summarize(
        self,
        p: Principal,
        node: str,
        group_by: Level | None,
        start: str,
        end: str,
        by_month: bool,
    ) -> RollupResult:
        """Rows for the children (or a deeper level) of a node, and its total."""
        query = (node, group_by, start, end, by_month)
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
        """What downstream releases forwarded of ``activity_rollup`` (issue 15),
        beside this release's own :meth:`summarize`."""
        query = (node, group_by, start, end, by_month)
        return summarize_federated(self.db, p, m.ROLLUP, query, domain.READERS)
