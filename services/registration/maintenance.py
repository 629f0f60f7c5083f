"""Operator tasks on registration's own data that the API does not offer."""

from __future__ import annotations

from sqlalchemy import select

from services.common import outbox
from services.common.config import Config
from services.common.db import Database
from services.common.tenancy import Scope
from services.registration.models import OUTBOX, TenantSetting


def announce_settings(cfg: Config, scope: str = "61") -> int:
    """Re-announce every node's settings overrides inside ``scope`` as
    ``registration.settings.changed`` events, so a service deployed after the
    settings were made (or one whose replica was lost) catches up. Returns
    the number of nodes announced; consumers apply repeats harmlessly."""
    db = Database(cfg.service("registration"))
    scoped = Scope(scope)
    with db.session(scoped) as s:
        rows = s.execute(
            select(TenantSetting).where(
                TenantSetting.division_code.like(scoped.like_pattern)
            )
        ).scalars()
        overrides: dict[str, dict[str, str]] = {}
        for row in rows:
            overrides.setdefault(row.division_code, {})[row.key] = row.value_json
        for code, values in sorted(overrides.items()):
            outbox.record(
                s,
                OUTBOX,
                "registration.settings.changed",
                division_code=code,
                data={"division_code": code, "overrides": values},
            )
    db.dispose()
    return len(overrides)
