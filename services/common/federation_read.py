"""The upstream's reading of federated figures (issue 15): what its
downstream releases reported, in the shape of Summarize, beside its own.

Rows come from ``federated_<rollup>`` only, never mixed into the release's
own rollup, so its own figures (and its downstreams' users) see no change.
A downstream's cells start at its registered subtree: a row at a level above
that (the province's cities, when a county reported) is the sum of the
reporting subtrees' own cells under it. Distinct volunteers are summed
across downstreams there (a volunteer serving in two federated counties
counts twice above them); within one downstream they are exact.

The nation (a ``CN`` caller) reads every downstream's cells: at node ``CN``
rows by province (or the ``group_by`` level), the total the sum of every
reporting subtree; below ``CN`` as that node's own admin would. Federated
cells carry no row security (they are counts and sums a downstream chose to
send up), so no per-province session is needed, unlike the nation's own
Summarize (:mod:`services.common.rollup_national`).

Every service serves it the same way (:func:`federated_response`): its
``SummarizeFederated`` RPC with its own copies of the request and response
messages, its rollup and the roles its Summarize requires.

Example::

    result, links = summarize_federated(db, principal, ROLLUP, query, READERS)
    return federated_response(pb, me(), req.query, self.q.summarize_federated)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from types import ModuleType
from typing import Any

from services.common import checks
from services.common.auth import Principal
from services.common.db import Database
from services.common.errors import InvalidArgument
from services.common.federation_apply import FederatedCell, read_federated
from services.common.rollup import Rollup, stored_period
from services.common.rollup_query import (
    LEVELS,
    RollupResult,
    check_query,
    enum_value,
    to_rollup,
)
from services.common.tenancy import Level

Links = list[tuple[str, str, datetime | None]]  # downstream, subtree, last delta


def summarize_federated(
    db: Database,
    principal: Principal,
    rollup: Rollup,
    query: tuple[str, Level | None, str, str, bool],
    roles: Sequence[str],
) -> tuple[RollupResult, Links]:
    """The federated figures under the query's node (inside the caller's
    scope; the nation may name ``CN``) for one stored period, rows at the
    query's level, and each reporting downstream's subtree and time of its
    last delta."""
    code, group_by, start, end, by_month = query
    principal.require_any(*roles)
    node, own, level = check_query(principal.rollup_scope, code, group_by)
    start, end = checks.period(start, end, "query.period")
    period = stored_period(start, end)
    if by_month or period is None:
        raise InvalidArgument(
            "query.period", "period.stored",
            "federated figures are kept for one month, one calendar year or "
            "all time: ask for one of these, not by month",
            "联邦汇总数据只按单月、自然年或全部时间保存：请查询其中之一（不支持按月）",
        )  # fmt: skip
    # The nation at CN reads every downstream's cells; any other node its own
    # subtree's (check_query kept it inside the caller's scope).
    subtree = "" if own is None else node
    cells, last = read_federated(db, rollup.table_name, subtree, [period])
    roots: dict[str, str] = {}
    for c in cells:
        root = roots.get(c.downstream)
        if root is None or len(c.division_code) < len(root):
            roots[c.downstream] = c.division_code
    rows: dict[str, dict[str, float]] = {}
    total = dict.fromkeys(rollup.metrics, 0.0)
    for c in cells:
        root = roots[c.downstream]
        at = _row_code(c, root, level)
        if at is not None:
            _add(rows.setdefault(at, dict.fromkeys(rollup.metrics, 0.0)), c)
        if c.division_code == root:
            _add(total, c)
    result = RollupResult(
        [(k, "", v) for k, v in sorted(rows.items())],
        total,
        node,
        list(rollup.metrics),
    )
    links = [(d, roots[d], last.get(d)) for d in sorted(roots)]
    return result, links


def _row_code(c: FederatedCell, root: str, level: Level) -> str | None:
    """The row a cell counts in at ``level``: its own at that level inside
    the subtree; above the subtree, the subtree's own cell counts in its
    ancestor's row."""
    if level.width >= len(root):
        return c.division_code if len(c.division_code) == level.width else None
    return root[: level.width] if c.division_code == root else None


def _add(into: dict[str, float], c: FederatedCell) -> None:
    for name, value in c.metrics.items():
        if name in into:
            into[name] += value


Summarizer = Callable[
    [Principal, str, Level | None, str, str, bool], tuple[RollupResult, Links]
]


def federated_response(
    pb: ModuleType, principal: Principal, query: Any, summarize: Summarizer
) -> Any:
    """A service's whole ``SummarizeFederated``: the ``common.v1``
    RollupQuery parsed, ``summarize`` (the service's queries method over
    :func:`summarize_federated`) called, and the answer as the service's own
    ``SummarizeFederatedResponse`` of module ``pb`` (each service's package
    has its own copy of the messages, like Summarize's)."""
    level = enum_value(LEVELS, query.group_by, "query.group_by")
    result, links = summarize(
        principal, query.division_code, level, query.period.start_month,
        query.period.end_month, query.by_month,
    )  # fmt: skip
    return pb.SummarizeFederatedResponse(
        rollup=to_rollup(result),
        links=[
            pb.FederatedLink(
                downstream=d, subtree=root, last_delta_at=at.isoformat() if at else ""
            )
            for d, root, at in links
        ],
    )
