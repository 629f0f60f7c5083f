"""What every service's Summarize call shares: checking the query, and the
``common.v1`` messages of the answer (rows labelled with division names).

Example::

    node, own, level = check_query(principal.scope, code, group_by)
    start, end = checks.period(start, end, "query.period")
    ...
    return to_rollup(rows, total, node, metric_names)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from zhiyuan.common.v1 import common_pb2 as common

from services.common import checks
from services.common.divisions import name_of, province_codes
from services.common.errors import InvalidArgument, PermissionDenied
from services.common.rollup_national import read_nation
from services.common.tenancy import (
    NATIONAL,
    NATIONAL_NAME,
    Level,
    NationalScope,
    Scope,
    child_level,
    level_of,
    validate_code,
)

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.orm import Session

    from services.common.auth import Principal
    from services.common.db import Database
    from services.common.rollup import Rollup

T = TypeVar("T")
LEVELS = {
    common.DIVISION_LEVEL_PROVINCE: Level.PROVINCE,
    common.DIVISION_LEVEL_CITY: Level.CITY,
    common.DIVISION_LEVEL_COUNTY: Level.COUNTY,
    common.DIVISION_LEVEL_TOWNSHIP: Level.TOWNSHIP,
    common.DIVISION_LEVEL_VILLAGE: Level.VILLAGE,
}
PB_LEVEL = {v: k for k, v in LEVELS.items()}


def enum_value(known: Mapping[int, T], value: int, field: str) -> T | None:
    """The meaning of an enum field; None when unset, an error when unknown."""
    if value == 0:
        return None
    if value not in known:
        raise InvalidArgument(
            field, f"{field}.known", f"unknown value {value}", f"未知的取值 {value}"
        )
    return known[value]


def check_query(
    scope: Scope | NationalScope, code: str, group_by: Level | None
) -> tuple[str, Level | None, Level]:
    """(node, its level, the level rows are grouped at) for a query inside
    ``scope``; the node defaults to the scope itself. For the nation the
    node may be ``CN`` (its level is then ``None``, rows by province unless
    ``group_by`` says deeper) or any division below it.

    Example:
        >>> check_query(NationalScope(), "", None)
        ('CN', None, <Level.PROVINCE: 2>)
    """
    field = "query.division_code"
    if isinstance(scope, NationalScope):
        node = scope.node(code, field)
    elif code == NATIONAL:  # above every tenant
        raise PermissionDenied.outside_scope(field, code, scope.code)
    else:
        node = scope.require(validate_code(code or scope.code, field), field)
    own = None if node == NATIONAL else Level(len(node))
    level = group_by or (Level.PROVINCE if own is None else child_level(own))
    if level is None or (own is not None and level.width <= own.width):
        raise InvalidArgument(
            "query.group_by",
            "group_by.below_node",
            "group_by must be a level below the division's own",
            "分组层级须低于所查询区划的层级",
        )
    return node, own, level


def division_ref(code: str, name: str | None = None) -> common.DivisionRef:
    """A division reference; the name from the shipped tree unless given."""
    if code == NATIONAL:
        # The nation has no level of its own in common.v1 (UNSPECIFIED).
        return common.DivisionRef(code=code, name=name or NATIONAL_NAME)
    return common.DivisionRef(
        code=code,
        name=name_of(code) if name is None else name,
        level=PB_LEVEL[level_of(code)],
    )


@dataclass
class RollupResult:
    """A Summarize answer before it becomes a message."""

    rows: list[tuple[str, str, dict[str, float]]]  # code, month, metrics
    total: dict[str, float]
    node: str
    metric_names: list[str]
    # Live names (registration's own tree); others use the shipped one.
    names: dict[str, str] = field(default_factory=dict)


Rows = list[tuple[str, str, dict[str, float]]]


def join_rows(parts: Sequence[tuple[Rows, Sequence[str]]]) -> Rows:
    """Rows of several rollup tables read over the same query, joined by
    (division, month): each part's metrics (zero where a part has no row).

    Example:
        >>> join_rows([([("61", "", {"a": 1.0})], ["a"]), ([], ["b"])])
        [('61', '', {'a': 1.0, 'b': 0.0})]
    """
    joined: dict[tuple[str, str], dict[str, float]] = {}
    names = [m for _, metrics in parts for m in metrics]
    for rows, _ in parts:
        for code, month, metrics in rows:
            cell = joined.setdefault((code, month), dict.fromkeys(names, 0.0))
            cell.update(metrics)
    return [(code, month, joined[(code, month)]) for code, month in sorted(joined)]


def to_rollup(r: RollupResult) -> common.Rollup:
    """The common.v1 answer of every service's Summarize."""

    def ref(code: str) -> common.DivisionRef:
        return division_ref(code, r.names.get(code))

    return common.Rollup(
        rows=[
            common.RollupRow(division=ref(code), month=month, metrics=metrics)
            for code, month, metrics in r.rows
        ],
        total=common.RollupRow(division=ref(r.node), metrics=r.total),
        metric_names=r.metric_names,
    )


def summarize(
    db: Database,
    principal: Principal,
    rollup: Rollup,
    table: Table,
    query: tuple[str, Level | None, str, str, bool],
    roles: Sequence[str],
) -> RollupResult:
    """A service's whole Summarize: roles and query checked, the node's
    children (or a deeper level) and its total read from the rollup table in
    the caller's scope.

    Every answer is an index range of the rollup table (O(children ×
    periods)); metrics that do not add up over months (distinct volunteers)
    are kept per month, calendar year and all time, and another range is
    refused for them (see :meth:`Rollup.read`).

    Example::

        summarize(db, me(), ROLLUP, ROLLUP_TABLE,
                  ("6101", None, "2026-01", "2026-12", False), READERS)
    """
    return summarize_joined(db, principal, [(rollup, table)], query, roles)


def summarize_joined(
    db: Database,
    principal: Principal,
    parts: Sequence[tuple[Rollup, Table]],
    query: tuple[str, Level | None, str, str, bool],
    roles: Sequence[str],
    names: Callable[[Session, list[str]], dict[str, str]] | None = None,
) -> RollupResult:
    """:func:`summarize` over several rollup tables of one service (e.g.
    hours and the hours served at positions), read in one transaction and
    joined by division and month: still an index range of each table.
    ``names`` reads live division names in the same transaction (the shipped
    tree's otherwise).

    The nation (a ``CN`` caller, the only one that may name node ``CN``)
    reads province by province in that one transaction, each under the
    province's own scope (:func:`read_nation`), so row security filters as
    for a province's admin; its total is the sum of the provinces' totals."""
    code, group_by, start, end, by_month = query
    principal.require_any(*roles)
    caller = principal.rollup_scope
    node, own, level = check_query(caller, code, group_by)
    start, end = checks.period(start, end, "query.period")
    for rollup, _ in parts:
        rollup.check_range(start, end)
    rows_parts: list[tuple[Rows, Sequence[str]]] = []
    total_parts: list[tuple[Rows, Sequence[str]]] = []
    found: dict[str, str] = {}
    # The nation reads a node under the node's own scope, and itself from
    # the first province's on, each province under its own (read_nation).
    if isinstance(caller, Scope):
        session_scope = caller
    else:
        session_scope = Scope(node if own is not None else province_codes()[0])
    with db.session(session_scope) as s:
        if own is None:
            rows_parts, total_parts = read_nation(s, parts, level, start, end, by_month)
        else:
            scope = Scope(node)
            for rollup, table in parts:
                rows = rollup.read(s, table, scope, level, start, end, by_month)
                totals = rollup.read(s, table, scope, own, start, end, False)
                rows_parts.append((rows, rollup.metrics))
                total_parts.append((totals, rollup.metrics))
        if names is not None:
            codes = sorted({c for rows, _ in rows_parts for c, _, _ in rows})
            found = names(s, codes + ([node] if own is not None else []))
    metric_names = [m for rollup, _ in parts for m in rollup.metrics]
    total = dict.fromkeys(metric_names, 0.0)
    for _, _, metrics in join_rows(total_parts):
        # One row for a node; one per province for the nation, summed.
        for name, value in metrics.items():
            total[name] += value
    return RollupResult(join_rows(rows_parts), total, node, metric_names, found)
