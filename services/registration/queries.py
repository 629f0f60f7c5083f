"""Registration's read side: paged lists, rollups and the activity feed,
each confined to the caller's scope."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from services.common import checks
from services.common.auth import Principal
from services.common.db import Database
from services.common.errors import InvalidArgument
from services.common.federation_read import Links, summarize_federated
from services.common.paging import Page, next_token, page_bounds
from services.common.pii import PiiCipher
from services.common.rollup_query import RollupResult, summarize_joined
from services.common.tenancy import Level
from services.registration import domain
from services.registration.models import (
    POSITION_ROLLUP,
    POSITION_ROLLUP_TABLE,
    ROLLUP,
    ROLLUP_TABLE,
    Account,
    FeedItem,
    Organisation,
    Position,
    Transfer,
    Volunteer,
)
from services.registration.repository import Repository

_NUMBER = re.compile(r"^ZY\d{12}$")
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
MAX_IDS = 100  # ListVolunteers' ids: a console page's volunteers


def _ids(ids: Sequence[str]) -> list[str]:
    """The ``ids`` filter: at most MAX_IDS well-formed ids, each once."""
    if len(ids) > MAX_IDS:
        raise InvalidArgument(
            "ids", "ids.max_items",
            f"at most {MAX_IDS} volunteer ids at once, not {len(ids)}",
            f"一次最多查询 {MAX_IDS} 个志愿者编号，当前为 {len(ids)} 个",
        )  # fmt: skip
    return sorted({checks.ident(i, "ids") for i in ids})


class RegistrationQueries:
    def __init__(self, db: Database, cipher: PiiCipher):
        self.db = db
        self.cipher = cipher

    def _search(self, query: str) -> tuple[str, str] | None:
        """A search term as (column, value): a volunteer number, or the
        blind index of an ID number; None for no search."""
        query = query.strip().upper()
        if not query:
            return None
        if _NUMBER.match(query):
            return "volunteer_number", query
        if _ID_NUMBER.match(query):
            return "id_hash", self.cipher.blind_index(
                query, context="volunteer.id_number"
            )
        raise InvalidArgument(
            "query", "query.format",
            "search by a volunteer number (ZY followed by 12 digits) or a whole "
            "18-character ID number",
            "请输入志愿者编号（ZY 加 12 位数字）或完整的 18 位身份证号",
        )  # fmt: skip

    def _run(
        self,
        p: Principal,
        build: Callable[[Repository], Any],
        order: Any,
        page_size: int,
        token: str,
        extra: Callable[[Repository, list[Any]], dict[str, Any]] | None = None,
    ) -> Page:
        p.require_any(*domain.READERS)
        size, offset = page_bounds(page_size, token)
        with self.db.session(p.scope) as s:
            repo = Repository(s, p.scope)
            items, total = repo.list_page(build(repo), order, size, offset)
            more = extra(repo, items) if extra else {}
            return Page(items, next_token(offset, size, total), total, more)

    def volunteers(
        self,
        p: Principal,
        node: str,
        status: str | None,
        size: int,
        token: str,
        query: str = "",
        ids: Sequence[str] = (),
    ) -> Page:
        """Volunteers at ``node`` or below; ``ids``: only these (the
        console's names of a page's volunteers, in one call), and only those
        the list shows anyway: an id out of scope, or of no one, is simply
        not returned."""
        node = node or p.scope.code
        search = self._search(query)
        wanted = _ids(ids)

        def build(r: Repository) -> Any:
            q = r.volunteers_query(node, status or None, search)
            return q.where(Volunteer.id.in_(wanted)) if wanted else q

        return self._run(
            p,
            build,
            Volunteer.registered_at.desc(),
            size,
            token,
            extra=lambda r, items: {"teams": r.team_ids([v.id for v in items])},
        )

    def organisations(
        self, p: Principal, node: str, parent_id: str, size: int, token: str
    ) -> Page:
        node = node or p.scope.code
        return self._run(
            p,
            lambda r: r.organisations_query(node, parent_id or None),
            Organisation.created_at,
            size,
            token,
        )

    def organisation(
        self, p: Principal, ident: str
    ) -> tuple[Organisation, list[Organisation]]:
        p.require_any(*domain.READERS)
        with self.db.session(p.scope) as s:
            repo = Repository(s, p.scope)
            return repo.organisation(ident), repo.org_children(ident)

    def accounts(self, p: Principal, node: str, size: int, token: str) -> Page:
        p.require_any(*domain.ADMINS)
        node = node or p.scope.code
        return self._run(
            p, lambda r: r.accounts_query(node), Account.username, size, token
        )

    def feed(self, p: Principal, node: str, size: int, token: str) -> Page:
        node = node or p.scope.code
        return self._run(
            p, lambda r: r.feed_query(node), FeedItem.id.desc(), size, token
        )

    def transfers(
        self, p: Principal, direction: str, status: str | None, size: int, token: str
    ) -> Page:
        """Transfers leaving or arriving in the caller's subtree (or both),
        newest first, with the names of both homes (``extra["names"]``)."""

        def names(r: Repository, items: list[Any]) -> dict[str, Any]:
            codes = {t.from_division_code for t in items}
            codes |= {t.to_division_code for t in items}
            return {"names": r.division_names(sorted(codes))}

        return self._run(
            p,
            lambda r: r.transfers_query(direction, status),
            Transfer.requested_at.desc(),
            size,
            token,
            extra=names,
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
        """Rows for the children (or a deeper level) of ``node`` and its
        total: people and organisations, and positions by kind (their own
        table), two index ranges joined by division and month, labelled with
        registration's live division names. The nation (``CN``) reads every
        province's rows (see :func:`summarize_joined`)."""
        return summarize_joined(
            self.db,
            p,
            [(ROLLUP, ROLLUP_TABLE), (POSITION_ROLLUP, POSITION_ROLLUP_TABLE)],
            (node, group_by, start, end, by_month),
            domain.READERS,
            names=lambda s, codes: Repository(s, None).division_names(codes),
        )

    def summarize_federated(
        self,
        p: Principal,
        node: str,
        group_by: Level | None,
        start: str,
        end: str,
        by_month: bool,
    ) -> tuple[RollupResult, Links]:
        """What downstream releases forwarded of ``registration_rollup`` (issue 15),
        beside this release's own :meth:`summarize` (positions are not federated)."""
        query = (node, group_by, start, end, by_month)
        return summarize_federated(self.db, p, ROLLUP, query, domain.READERS)

    def positions(
        self, p: Principal, node: str, kind: str | None, size: int, token: str
    ) -> Page:
        """Positions at ``node`` or below (default: the caller's scope), of
        one kind when given, by division then name, with division names
        (``extra["names"]``)."""

        def names(r: Repository, items: list[Any]) -> dict[str, Any]:
            return {"names": r.division_names(sorted({i.division_code for i in items}))}

        node = node or p.scope.code
        return self._run(
            p,
            # By division and name (the query's order), the id breaking ties.
            lambda r: r.positions_query(node, kind).order_by(
                Position.division_code, Position.name
            ),
            Position.id,
            size,
            token,
            extra=names,
        )
