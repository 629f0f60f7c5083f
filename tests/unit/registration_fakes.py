"""Registration's repository in memory, for the fast use-case tier.

:class:`FakeStore` holds the rows; :class:`FakeRepository` is the view of it
one unit of work gets (tenant reads filtered by that unit's scope, as the SQL
one is); :class:`TransactionalFakeUoW` is the kernel's
:class:`FakeUnitOfWork` that also puts the rows back as they were when a
unit raises, as a rolled-back transaction would, and runs after-commit hooks
only when it commits. :class:`FakeLoginGuard` counts failed logins in a
list. Only what the use cases call is here: a method a use case starts
calling fails with AttributeError, not silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import inspect

from services.common.errors import NotFound
from services.common.refcache import RefCache
from services.common.tenancy import Scope, validate_code
from services.common.unit_of_work import (
    Caller,
    FakeWork,
    TransactionalFakeUnitOfWork,
)
from services.registration.login_guard import LoginGuard
from services.registration.models import (
    Account,
    Division,
    DivisionChange,
    Organisation,
    TeamMembership,
    TenantSetting,
    Volunteer,
)
from services.registration.repository import Taken


class FakeStore:
    def __init__(self) -> None:
        self.rows: list[Any] = []  # every table's rows, in insertion order
        self.serials: dict[str, int] = {}
        self.after_commit: list[Callable[[], None]] = []

    def of(self, kind: type) -> list[Any]:
        return [r for r in self.rows if isinstance(r, kind)]

    def put(self, *rows: Any) -> None:
        """Rows a test starts from (as if another transaction wrote them)."""
        self.rows.extend(rows)

    # -- what a rolled-back transaction restores --
    def snapshot(self) -> Any:
        values = [
            (o, {a.key: getattr(o, a.key) for a in inspect(o).mapper.column_attrs})
            for o in self.rows
        ]
        return values, list(self.rows), dict(self.serials)

    def restore(self, saved: Any) -> None:
        values, self.rows, self.serials = saved
        for o, columns in values:
            for key, value in columns.items():
                setattr(o, key, value)


class TransactionalFakeUoW(TransactionalFakeUnitOfWork):
    """The kernel's rollback fake, plus the after-commit hooks (the
    division cache is cleared only when a unit commits)."""

    store: FakeStore

    @contextmanager
    def __call__(self, caller: Caller) -> Iterator[FakeWork]:
        self.store.after_commit = []
        with super().__call__(caller) as work:
            yield work
        hooks, self.store.after_commit = self.store.after_commit, []
        for hook in hooks:
            hook()


def _unique_keys(row: Any) -> list[tuple[str, ...]]:
    """The row's table's primary key and single-column unique keys."""
    table = row.__table__
    keys = [tuple(c.key for c in table.primary_key.columns)]
    keys += [(c.key,) for c in table.columns if c.unique]
    return keys


def _missing(field: str, kind_en: str, kind_zh: str, key: str) -> NotFound:
    err = NotFound.entity(kind_en, kind_zh, key)
    err.field, err.rule = field, f"{field}.exists"
    return err


class FakeRepository:
    def __init__(self, store: FakeStore, scope: Scope | None):
        self.store, self.scope = store, scope

    def _inside(self, code: str) -> bool:
        assert self.scope is not None, "a tenant read needs a scope"
        return self.scope.contains(code)

    # -- writes ------------------------------------------------------------
    def add(self, row: Any) -> None:
        self.store.rows.append(row)

    def flush(self) -> None:
        pass

    def insert(self, row: Any, keys: Sequence[str] = ()) -> None:
        for columns in _unique_keys(row):
            value = [getattr(row, c) for c in columns]
            if None in value:
                continue  # NULLs never collide
            for other in self.store.of(type(row)):
                if [getattr(other, c) for c in columns] == value:
                    raise Taken(next((k for k in keys if k in columns), ""))
        self.store.rows.append(row)

    def clear_after_commit(self, cache: RefCache) -> None:
        cache.clear()
        self.store.after_commit.append(cache.clear)

    # -- divisions -----------------------------------------------------------
    def _division(self, code: str) -> Division | None:
        return next((d for d in self.store.of(Division) if d.code == code), None)

    def division(self, code: str, field: str = "code") -> Division:
        row = self._division(validate_code(code, field))
        if row is None:
            raise _missing(field, "division", "行政区划", code)
        return row

    def division_exists(self, code: str) -> bool:
        return self._division(code) is not None

    def divisions(self, codes: Sequence[str]) -> list[Division]:
        found = [d for d in self.store.of(Division) if d.code in codes]
        return sorted(found, key=lambda d: len(d.code))

    def children(
        self, parent: str, include_retired: bool, size: int, offset: int
    ) -> tuple[list[Division], int]:
        rows = sorted(
            (
                d
                for d in self.store.of(Division)
                if d.parent_code == parent and (include_retired or d.status == "active")
            ),
            key=lambda d: d.code,
        )
        return rows[offset : offset + size], len(rows)

    def history(self, code: str) -> list[DivisionChange]:
        return [c for c in self.store.of(DivisionChange) if c.code == code]

    def address_code_known(self, code: str) -> bool:
        return any(d.code in (code, code[:4]) for d in self.store.of(Division))

    # -- settings --------------------------------------------------------------
    def overrides_for(self, codes: Sequence[str]) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for row in self.store.of(TenantSetting):
            if row.division_code in codes:
                out.setdefault(row.division_code, {})[row.key] = row.value_json
        return out

    def put_setting(self, row: TenantSetting) -> None:
        self.clear_setting(row.division_code, row.key)
        self.store.rows.append(row)

    def clear_setting(self, code: str, key: str) -> None:
        self.store.rows = [
            r
            for r in self.store.rows
            if not (
                isinstance(r, TenantSetting) and (r.division_code, r.key) == (code, key)
            )
        ]

    # -- tenant entities -------------------------------------------------------
    def organisation(self, ident: str, field: str = "id") -> Organisation:
        for o in self.store.of(Organisation):
            if o.id == ident and self._inside(o.division_code):
                return o  # type: ignore[no-any-return]
        raise _missing(field, "organisation", "组织", ident)

    def volunteer(
        self, ident: str, for_update: bool = False, field: str = "id"
    ) -> Volunteer:
        for v in self.store.of(Volunteer):
            if v.id == ident and self._inside(v.home_division_code):
                return v  # type: ignore[no-any-return]
        raise _missing(field, "volunteer", "志愿者", ident)

    def volunteer_by_request(self, request_id: str) -> Volunteer | None:
        return next(
            (
                v
                for v in self.store.of(Volunteer)
                if v.request_id == request_id and self._inside(v.home_division_code)
            ),
            None,
        )

    def team_ids(self, volunteer_ids: Sequence[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for m in self.store.of(TeamMembership):
            if m.volunteer_id in volunteer_ids and self._inside(m.division_code):
                out.setdefault(m.volunteer_id, []).append(m.organisation_id)
        return out

    def next_serial(self, name: str) -> int:
        self.store.serials[name] = self.store.serials.get(name, 0) + 1
        return self.store.serials[name]

    # -- accounts ------------------------------------------------------------
    def account(self, ident: str, field: str = "id") -> Account:
        for a in self.store.of(Account):
            if a.id == ident and self._inside(a.scope_code):
                return a  # type: ignore[no-any-return]
        raise _missing(field, "account", "账号", ident)

    def account_of_volunteer(self, volunteer_id: str) -> Account | None:
        return next(
            (
                a
                for a in self.store.of(Account)
                if a.volunteer_id == volunteer_id and self._inside(a.scope_code)
            ),
            None,
        )

    def public_children(self, parent: str) -> list[Division]:
        return sorted(
            (
                d
                for d in self.store.of(Division)
                if (d.parent_code or "") == parent and d.status == "active"
            ),
            key=lambda d: d.code,
        )

    # -- the system context ----------------------------------------------------
    def login_lookup(self, username: str) -> dict[str, Any] | None:
        acc = next((a for a in self.store.of(Account) if a.username == username), None)
        return _login_row(acc)

    def login_lookup_phone(self, phone_hash: str) -> dict[str, Any] | None:
        acc = next(
            (a for a in self.store.of(Account) if a.phone_hash == phone_hash), None
        )
        return _login_row(acc)


def _login_row(acc: Account | None) -> dict[str, Any] | None:
    if acc is None:
        return None
    return {
        "id": acc.id,
        "password_hash": acc.password_hash,
        "display_name": acc.display_name,
        "scope_code": acc.scope_code,
        "roles": acc.roles,
        "active": acc.active,
        "organisation_id": acc.organisation_id,
        "username": acc.username,
        "volunteer_id": acc.volunteer_id,
    }


class FakeLoginGuard:
    """The failed-login counter's calls, kept (its lockout rules are proven
    on PostgreSQL in tests/security/test_login_lockout.py)."""

    def __init__(self) -> None:
        self.failures: list[list[str]] = []
        self.cleared: list[list[str]] = []
        self.recorded: set[str] = set()

    keys = staticmethod(LoginGuard.keys)

    def check(self, keys: list[str]) -> set[str]:
        return {k for k in keys if k in self.recorded}

    def failed(self, keys: list[str]) -> None:
        self.failures.append(keys)
        self.recorded.update(keys)

    def succeeded(self, keys: list[str]) -> None:
        self.cleared.append(keys)
        self.recorded.discard(keys[0])
