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
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

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
    when = datetime.fromisoformat(env.occurred_at.replace("Z", "+00:00"))
    return code, dict(raw), when if when.tzinfo else when.replace(tzinfo=UTC)


def replace(
    s: Session, model: Any, code: str, overrides: dict[str, str], when: datetime
) -> bool:
    """Replace the node's overrides; False when the replica holds a newer
    change (two changes can be handled out of order)."""
    row = s.get(model, code)
    if row is None:
        s.add(model(division_code=code, overrides=overrides, changed_at=when))
        return True
    held = row.changed_at
    # SQLite (embedded mode) hands back naive datetimes, stored as UTC.
    if (held if held.tzinfo else held.replace(tzinfo=UTC)) > when:
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
