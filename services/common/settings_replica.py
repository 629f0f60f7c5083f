"""A service's replica of registration's setting overrides: one row per
node holding that node's complete overrides, replaced by each
``registration.settings.changed`` event, and the effective values computed
from it exactly as registration computes them.

The model is the service's own table with ``division_code``, ``overrides``
(JSON) and ``changed_at`` columns; its row security lets a node read its
ancestors' rows (their overrides are its inherited settings).

Example::

    code, overrides, when = from_event(env)
    with db.session(Scope(code)) as s:
        if outbox.claim(s, PROCESSED, "commendation.settings", env.event_id):
            replace(s, PolicyNode, code, overrides, when)
    ...
    thresholds = effective(s, PolicyNode, "610113")["stars.thresholds_hours"]

A hot path (a worker applying one event after another) can skip the parsing:
read :func:`chain` in a statement it makes anyway and look the effective
values up in an :class:`EffectiveCache` keyed by what it read::

    rating, rows = s.execute(select(Rating, chain(s, PolicyNode, code))...).one()
    thresholds = CACHE.get(rows, code)["stars.thresholds_hours"]
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import ScalarSelect

from services.common import times
from services.common.outbox import Envelope
from services.common.settings import effective_settings, parse_setting
from services.common.tenancy import ancestors, validate_code


def from_event(env: Envelope) -> tuple[str, dict[str, str], datetime]:
    """registration.settings.changed → (node, its complete overrides, when)."""
    d = env.data
    code = validate_code(str(d.get("division_code") or ""))
    raw = d.get("overrides")
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        raise ValueError("event field 'overrides' must map keys to JSON text")
    return code, dict(raw), times.parse(env.occurred_at)


def replace(
    s: Session, model: Any, code: str, overrides: dict[str, str], when: datetime
) -> bool:
    """Replace the node's overrides; False when the replica holds a newer
    change (two changes can be handled out of order)."""
    row = s.get(model, code)
    if row is None:
        s.add(model(division_code=code, overrides=overrides, changed_at=when))
        return True
    if times.utc(row.changed_at) > when:
        return False
    row.overrides, row.changed_at = overrides, when
    return True


def usable(overrides: dict[str, str]) -> dict[str, str]:
    """The overrides this version understands and that pass their rule; a
    key from a newer registration, or a bad value, must not stop a service."""
    out = {}
    for key, value_json in (overrides or {}).items():
        try:
            parse_setting(key, value_json)
        except Exception:  # noqa: BLE001,S112 - skipped on purpose, see above
            continue
        out[key] = value_json
    return out


def effective(s: Session, model: Any, code: str) -> dict[str, Any]:
    """Every setting's effective (parsed) value at ``code``."""
    rows = s.execute(
        select(model).where(model.division_code.in_(ancestors(code)))
    ).scalars()
    overrides = {r.division_code: usable(r.overrides) for r in rows}
    # Overrides passed their rule on the way in; defaults are good.
    return {k: json.loads(v) for k, v, _ in effective_settings(code, overrides)}


def chain(s: Session, model: Any, code: str) -> ScalarSelect[Any]:
    """A scalar subquery: the override rows :func:`effective` reads for
    ``code`` (its ancestors' and its own), as JSON text ``[[code, overrides],
    ...]`` ordered by code, or NULL when there are none.

    Put it in a statement the transaction makes anyway; the text is the
    complete input of the effective values, so :class:`EffectiveCache` can
    key on it and a change of the replica (by any process) changes the key.
    """
    pair = func.json_array(model.division_code, func.json(model.overrides))
    agg: Any = func.json_group_array(pair)  # SQLite (embedded mode)
    if s.get_bind().dialect.name == "postgresql":
        pair = func.json_build_array(model.division_code, model.overrides)
        agg = func.json_agg(aggregate_order_by(pair, model.division_code))
    return (
        select(cast(agg, Text))
        .where(model.division_code.in_(ancestors(code)))
        .scalar_subquery()
    )


class EffectiveCache:
    """Effective settings keyed by the override rows they are computed from
    (the text :func:`chain` reads in the caller's transaction).

    No invalidation is needed, or possible to get wrong: the key *is* the
    replica's content as the caller's own statement saw it, so a change made
    by this process or by any other replica of the worker takes effect at
    the next read, exactly as with :func:`effective`. Nodes without
    overrides of their own share the key of the rows above them (usually
    one: none at all). The values are shared: read them, never change them.
    """

    def __init__(self, max_entries: int = 512) -> None:
        self.max_entries = max_entries
        self._values: dict[str | None, dict[str, Any]] = {}

    def get(self, rows: str | None, code: str) -> dict[str, Any]:
        """Every setting's effective value at ``code``; ``rows`` is what
        :func:`chain` read for ``code`` (None: no overrides at all)."""
        found = self._values.get(rows)
        if found is None:
            overrides = {c: usable(o) for c, o in json.loads(rows or "[]")}
            # Only ancestors of ``code`` are in ``rows`` and their order by
            # depth is the same for every node below them: the values depend
            # on the rows alone, so the rows are the whole key.
            found = {
                k: json.loads(v) for k, v, _ in effective_settings(code, overrides)
            }
            if len(self._values) >= self.max_entries:
                self._values.clear()  # rare (a new chain of overrides): start over
            self._values[rows] = found
        return found

    def clear(self) -> None:
        self._values.clear()
