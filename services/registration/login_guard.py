"""Failed-login counting with growing lockouts, per account and per client.

After ``account_max_failures`` failed logins for one username within
``window_seconds`` (or ``client_max_failures`` from one client address) every
login for it is refused with RESOURCE_EXHAUSTED (HTTP 429 + Retry-After) for
``lockout_seconds``; each further lockout of the same key doubles the wait, up
to ``max_lockout_seconds``. A successful login clears its account's record.
Unknown usernames are counted like known ones, so lockouts do not reveal
which accounts exist either.

The counts live in registration's database (table ``login_attempts``), so
every gateway and registration replica sees the same ones.

Example::

    guard = LoginGuard(db, LoginPolicy.from_config(cfg))
    keys = guard.keys("yanta-admin", "203.0.113.7")
    guard.check(keys)       # raises ResourceExhausted while locked
    guard.failed(keys)      # after a wrong password
    guard.succeeded(keys)   # after a right one
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.common import outbox
from services.common.config import Config
from services.common.db import Database, upsertable_insert
from services.common.errors import ResourceExhausted
from services.common.times import utc
from services.registration.models import LoginAttempt


@dataclass(frozen=True)
class LoginPolicy:
    account_max_failures: int = 5
    client_max_failures: int = 50
    window_seconds: float = 900
    lockout_seconds: float = 60
    max_lockout_seconds: float = 3600

    @classmethod
    def from_config(cls, cfg: Config) -> LoginPolicy:
        """The ``login.*`` entries of the config file (defaults if absent)."""
        d = cls()
        return cls(
            account_max_failures=int(
                cfg.get("login.account_max_failures") or d.account_max_failures
            ),
            client_max_failures=int(
                cfg.get("login.client_max_failures") or d.client_max_failures
            ),
            window_seconds=float(cfg.get("login.window_seconds") or d.window_seconds),
            lockout_seconds=float(
                cfg.get("login.lockout_seconds") or d.lockout_seconds
            ),
            max_lockout_seconds=float(
                cfg.get("login.max_lockout_seconds") or d.max_lockout_seconds
            ),
        )

    def limit(self, key: str) -> int:
        return (
            self.account_max_failures
            if key.startswith("account:")
            else self.client_max_failures
        )

    def lockout(self, lockouts: int) -> float:
        """Length of the ``lockouts``-th lockout (1, 2, 4 … × the base)."""
        return float(
            min(self.max_lockout_seconds, self.lockout_seconds * 2 ** (lockouts - 1))
        )


class LoginGuard:
    def __init__(
        self,
        db: Database,
        policy: LoginPolicy,
        clock: Callable[[], datetime] = outbox.now,
    ):
        self.db, self.policy, self.clock = db, policy, clock

    @staticmethod
    def keys(username: str, client: str) -> list[str]:
        """The records a login attempt counts against (account first)."""
        keys = [f"account:{username.strip().lower()}"[:200]]
        if client:
            keys.append(f"client:{client}"[:200])
        return keys

    def check(self, keys: list[str]) -> set[str]:
        """Raise ResourceExhausted (naming the wait) if any key is locked;
        else the keys that have a record at all."""
        now = self.clock()
        with self.db.session(None) as s:
            rows = s.execute(
                select(LoginAttempt.key, LoginAttempt.locked_until).where(
                    LoginAttempt.key.in_(keys)
                )
            ).all()
        until = max(
            (utc(t) for _, t in rows if t is not None and utc(t) > now),
            default=None,
        )
        if until is not None:
            wait = max(1, math.ceil((until - now).total_seconds()))
            raise ResourceExhausted.locked_out("username", wait)
        return {key for key, _ in rows}

    def failed(self, keys: list[str]) -> None:
        """Count a failed attempt against every key; lock those at the limit."""
        now = self.clock()
        window = timedelta(seconds=self.policy.window_seconds)
        stale = window + timedelta(seconds=self.policy.max_lockout_seconds)
        with self.db.session(None) as s:
            # Forget records nobody has touched for a long while.
            s.execute(delete(LoginAttempt).where(LoginAttempt.updated_at < now - stale))
            for key in sorted(keys):  # one lock order: no deadlock between replicas
                row = _locked_row(s, key, now)
                if now - utc(row.updated_at) > stale:
                    row.lockouts = 0
                if now - utc(row.window_started_at) > window:
                    row.failures, row.window_started_at = 0, now
                row.failures += 1
                row.updated_at = now
                if row.failures >= self.policy.limit(key):
                    row.lockouts += 1
                    wait = self.policy.lockout(row.lockouts)
                    row.locked_until = now + timedelta(seconds=wait)
                    row.failures, row.window_started_at = 0, now

    def succeeded(self, keys: list[str]) -> None:
        """A right password: the account's record starts afresh."""
        with self.db.session(None) as s:
            s.execute(delete(LoginAttempt).where(LoginAttempt.key == keys[0]))


def _locked_row(s: Session, key: str, now: datetime) -> LoginAttempt:
    """The key's record, created if missing, locked for this transaction."""
    values = {
        "key": key,
        "failures": 0,
        "lockouts": 0,
        "window_started_at": now,
        "updated_at": now,
        "locked_until": None,
    }
    s.execute(
        upsertable_insert(s, LoginAttempt).values(values).on_conflict_do_nothing()
    )
    return s.execute(
        select(LoginAttempt).where(LoginAttempt.key == key).with_for_update()
    ).scalar_one()
