"""Registration's data access: the statements its use cases make (the
failed-login counter keeps its own in ``login_guard``), and, with the kernel's
``db``, the only place that knows PostgreSQL from SQLite (embedded mode).

A :class:`Repository` is built from the session of a unit of work and its
:class:`Scope` (``None``: the system context, which reads only the public
reference data and the login look-up). Every tenant query it issues filters
by the scope's prefix (and row-level security repeats the filter in
PostgreSQL), so another tenant's row and no row get the same NOT_FOUND."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.common.db import SessionRepository
from services.common.errors import NotFound
from services.common.paging import page_rows
from services.common.refcache import RefCache, clear_after_commit
from services.common.tenancy import Scope, validate_code
from services.registration.models import (
    Account,
    Counter,
    Division,
    DivisionChange,
    FeedItem,
    Notification,
    NotificationDelivery,
    Organisation,
    Position,
    TeamMembership,
    TenantSetting,
    Transfer,
    Volunteer,
)


class Taken(Exception):
    """An insert met a unique key that already holds its value. ``key`` is
    the first of the keys the caller named that the database's message
    mentions, or ``""``."""

    def __init__(self, key: str):
        super().__init__(key or "a unique key")
        self.key = key


class Repository(SessionRepository[Scope | None]):
    @property
    def tenant(self) -> Scope:
        """The scope every tenant query filters by (none: a system unit)."""
        if self.scope is None:
            raise RuntimeError("a tenant query needs a scope")
        return self.scope

    # -- writes ----------------------------------------------------------------
    def insert(self, row: Any, keys: Sequence[str] = ()) -> None:
        """Add ``row`` and write it now; a unique key it breaks raises
        :class:`Taken` naming which of ``keys`` (the transaction is then
        spoilt: let the exception end the unit of work)."""
        self.s.add(row)
        try:
            self.s.flush()
        except IntegrityError as exc:
            said = str(exc.orig)
            raise Taken(next((k for k in keys if k in said), "")) from exc

    def clear_after_commit(self, cache: RefCache) -> None:
        """Clear ``cache`` now and once this unit's transaction commits."""
        clear_after_commit(self.s, cache)

    # -- divisions (public reference data) ---------------------------------
    def division(self, code: str, field: str = "code") -> Division:
        row = self.s.get(Division, validate_code(code, field))
        if row is None:
            raise _missing(field, "division", "行政区划", code)
        return row

    def divisions(self, codes: Sequence[str]) -> list[Division]:
        """The divisions with these codes, province first (one query)."""
        if not codes:
            return []
        q = select(Division).where(Division.code.in_(list(codes)))
        return sorted(self.s.execute(q).scalars(), key=lambda d: len(d.code))

    def division_names(self, codes: Sequence[str]) -> dict[str, str]:
        if not codes:
            return {}
        rows = self.s.execute(
            select(Division.code, Division.name).where(Division.code.in_(list(codes)))
        )
        return dict(rows.tuples().all())

    def children(
        self, parent: str | None, include_retired: bool, size: int, offset: int
    ) -> tuple[Sequence[Division], int]:
        """The children of ``parent`` (``None``: the provinces), a page."""
        q = select(Division).where(
            Division.parent_code.is_(None)
            if parent is None
            else Division.parent_code == parent
        )
        if not include_retired:
            q = q.where(Division.status == "active")
        total = self.s.execute(
            select(func.count()).select_from(q.subquery())
        ).scalar_one()
        rows = self.s.execute(q.order_by(Division.code).limit(size).offset(offset))
        return rows.scalars().all(), total

    def public_children(self, parent: str) -> list[Division]:
        """The active children of ``parent`` ('': the provinces), by code."""
        q = select(Division).where(Division.status == "active")
        if parent:
            q = q.where(Division.parent_code == parent)
        else:
            q = q.where(Division.parent_code.is_(None))
        return list(self.s.execute(q.order_by(Division.code)).scalars())

    def division_exists(self, code: str) -> bool:
        return self.s.get(Division, code) is not None

    def address_code_known(self, code: str) -> bool:
        """:func:`address_code_known` in this unit's transaction."""
        return address_code_known(self.s, code)

    def history(self, code: str) -> list[DivisionChange]:
        q = select(DivisionChange).where(DivisionChange.code == code)
        return list(self.s.execute(q.order_by(DivisionChange.id)).scalars())

    # -- settings ------------------------------------------------------------
    def overrides_for(self, codes: Sequence[str]) -> dict[str, dict[str, str]]:
        rows = self.s.execute(
            select(TenantSetting).where(TenantSetting.division_code.in_(list(codes)))
        ).scalars()
        out: dict[str, dict[str, str]] = {}
        for row in rows:
            out.setdefault(row.division_code, {})[row.key] = row.value_json
        return out

    def put_setting(self, row: TenantSetting) -> None:
        """Set an override (insert, or replace the node's value of the key)."""
        self.s.merge(row)

    def clear_setting(self, code: str, key: str) -> None:
        """Drop the node's override of ``key``, if it has one."""
        row = self.s.get(TenantSetting, (code, key))
        if row is not None:
            self.s.delete(row)

    # -- tenant entities -------------------------------------------------------
    def _scoped(
        self, model: Any, column: Any, ident: str, kind: tuple[str, str], field: str
    ) -> Any:
        row = self.s.execute(
            select(model).where(
                model.id == ident, column.like(self.tenant.like_pattern)
            )
        ).scalar_one_or_none()
        if row is None:
            # Another tenant's row and no row at all get the same answer.
            raise _missing(field, kind[0], kind[1], ident)
        return row

    def organisation(self, ident: str, field: str = "id") -> Organisation:
        kind = ("organisation", "组织")
        return self._scoped(
            Organisation, Organisation.division_code, ident, kind, field
        )

    def volunteer(
        self, ident: str, for_update: bool = False, field: str = "id"
    ) -> Volunteer:
        kind = ("volunteer", "志愿者")
        row = self._scoped(Volunteer, Volunteer.home_division_code, ident, kind, field)
        if for_update:
            self.s.refresh(row, with_for_update=True)
        return row

    def account(self, ident: str, field: str = "id") -> Account:
        kind = ("account", "账号")
        return self._scoped(Account, Account.scope_code, ident, kind, field)

    def account_of_volunteer(self, volunteer_id: str) -> Account | None:
        """The volunteer's own account in scope, if it has one."""
        return self.s.execute(
            select(Account).where(
                Account.volunteer_id == volunteer_id,
                Account.scope_code.like(self.tenant.like_pattern),
            )
        ).scalar_one_or_none()

    def volunteer_by_request(self, request_id: str) -> Volunteer | None:
        return self.s.execute(
            select(Volunteer).where(
                Volunteer.request_id == request_id,
                Volunteer.home_division_code.like(self.tenant.like_pattern),
            )
        ).scalar_one_or_none()

    def list_page(
        self, query: Any, order: Any, size: int, offset: int
    ) -> tuple[list[Any], int]:
        return page_rows(self.s, query, (order,), size, offset)

    def organisations_query(self, node: str, parent_id: str | None) -> Any:
        q = select(Organisation).where(
            Organisation.division_code.like(self.tenant.narrow(node).like_pattern)
        )
        if parent_id:
            q = q.where(Organisation.parent_id == parent_id)
        return q

    def org_children(self, ident: str) -> list[Organisation]:
        q = self.organisations_query(self.tenant.code, ident)
        return list(self.s.execute(q.order_by(Organisation.created_at)).scalars())

    def volunteers_query(
        self, node: str, status: str | None, search: tuple[str, str] | None = None
    ) -> Any:
        q = select(Volunteer).where(
            Volunteer.home_division_code.like(self.tenant.narrow(node).like_pattern)
        )
        if status:
            q = q.where(Volunteer.status == status)
        if search:
            column, value = search
            q = q.where(getattr(Volunteer, column) == value)
        return q

    def team_ids(self, volunteer_ids: Sequence[str]) -> dict[str, list[str]]:
        if not volunteer_ids:
            return {}
        rows = self.s.execute(
            select(TeamMembership.volunteer_id, TeamMembership.organisation_id).where(
                TeamMembership.volunteer_id.in_(list(volunteer_ids)),
                TeamMembership.division_code.like(self.tenant.like_pattern),
            )
        )
        out: dict[str, list[str]] = {}
        for vid, oid in rows:
            out.setdefault(vid, []).append(oid)
        return out

    def accounts_query(self, node: str) -> Any:
        return select(Account).where(
            Account.scope_code.like(self.tenant.narrow(node, "scope_code").like_pattern)
        )

    def feed_query(self, node: str) -> Any:
        return select(FeedItem).where(
            FeedItem.division_code.like(self.tenant.narrow(node).like_pattern)
        )

    def next_serial(self, name: str) -> int:
        return self.s.execute(
            update(Counter)
            .where(Counter.name == name)
            .values(value=Counter.value + 1)
            .returning(Counter.value)
        ).scalar_one()

    # -- transfers between regions ------------------------------------------
    def _either_home(self) -> Any:
        pattern = self.tenant.like_pattern
        return or_(
            Transfer.from_division_code.like(pattern),
            Transfer.to_division_code.like(pattern),
        )

    def transfer(self, ident: str, for_update: bool = False) -> Transfer:
        """A transfer whose old or new home lies in scope (else NOT_FOUND,
        as for no transfer at all)."""
        q = select(Transfer).where(Transfer.id == ident, self._either_home())
        row = self.s.execute(
            q.with_for_update() if for_update else q
        ).scalar_one_or_none()
        if row is None:
            raise _missing("id", "transfer", "转移申请", ident)
        return row

    def has_pending_transfer(self, volunteer_id: str) -> bool:
        q = self.transfers_query("", "pending", volunteer_id)
        return self.s.execute(q.limit(1)).first() is not None

    def transfers_query(
        self, direction: str, status: str | None, volunteer_id: str = ""
    ) -> Any:
        """Transfers leaving (``outgoing``) or arriving in (``incoming``) the
        scope, or both (``""``)."""
        pattern = self.tenant.like_pattern
        where: Any = {
            "outgoing": Transfer.from_division_code.like(pattern),
            "incoming": Transfer.to_division_code.like(pattern),
        }.get(direction, self._either_home())
        q = select(Transfer).where(where)
        if status:
            q = q.where(Transfer.status == status)
        if volunteer_id:
            q = q.where(Transfer.volunteer_id == volunteer_id)
        return q

    def accept_transfer(self, t: Transfer, actor: str, at: Any) -> None:
        """Mark the pending ``t`` accepted and move the volunteer's home, own
        account and inbox to its new home, in this transaction. In
        PostgreSQL the volunteer lies outside the accepting office's scope:
        ``registration_transfer_accept`` (SECURITY DEFINER) does it, checking
        that the new home lies inside the transaction's scope."""
        if self.s.get_bind().dialect.name == "postgresql":
            self.s.execute(
                text("SELECT registration_transfer_accept(:t, :a, :at)"),
                {"t": t.id, "a": actor, "at": at},
            )
            self.s.refresh(t)
            return
        t.status, t.decided_by, t.decided_at = "accepted", actor, at
        to, vid = t.to_division_code, t.volunteer_id
        self.s.execute(
            update(Volunteer).where(Volunteer.id == vid).values(home_division_code=to)
        )
        self.s.execute(
            update(Account).where(Account.volunteer_id == vid).values(scope_code=to)
        )
        mine = select(Notification.id).where(Notification.volunteer_id == vid)
        self.s.execute(
            update(NotificationDelivery)
            .where(NotificationDelivery.notification_id.in_(mine))
            .values(division_code=to)
        )
        self.s.execute(
            update(Notification)
            .where(Notification.volunteer_id == vid)
            .values(division_code=to)
        )
        self.s.flush()

    # -- the system context (login precedes scope) -------------------------
    # -- service positions -------------------------------------------------------
    def position(self, ident: str, for_update: bool = False) -> Position:
        """A position in scope (else NOT_FOUND, as for no position at all)."""
        q = select(Position).where(
            Position.id == ident, Position.division_code.like(self.tenant.like_pattern)
        )
        row = self.s.execute(
            q.with_for_update() if for_update else q
        ).scalar_one_or_none()
        if row is None:
            raise _missing("id", "service position", "服务阵地", ident)
        return row

    def positions_query(self, node: str, kind: str | None) -> Any:
        q = select(Position).where(
            Position.division_code.like(self.tenant.narrow(node).like_pattern)
        )
        if kind:
            q = q.where(Position.kind == kind)
        return q

    def login_lookup(self, username: str) -> dict[str, Any] | None:
        """:func:`login_lookup` in this unit's transaction."""
        return login_lookup(self.s, username)

    def login_lookup_phone(self, phone_hash: str) -> dict[str, Any] | None:
        """:func:`login_lookup_phone` in this unit's transaction."""
        return login_lookup_phone(self.s, phone_hash)


def _missing(field: str, kind_en: str, kind_zh: str, key: str) -> NotFound:
    err = NotFound.entity(kind_en, kind_zh, key)
    err.field, err.rule = field, f"{field}.exists"
    return err


def login_lookup(session: Session, username: str) -> dict[str, Any] | None:
    """The account for a username, across tenants (login precedes scope)."""
    return _login_row(session, "registration_login_lookup", "username", username)


def login_lookup_phone(session: Session, phone_hash: str) -> dict[str, Any] | None:
    """The account that signs in with the phone of this keyed hash."""
    return _login_row(
        session, "registration_login_lookup_phone", "phone_hash", phone_hash
    )


def _login_row(
    session: Session, function: str, column: str, value: str
) -> dict[str, Any] | None:
    if session.get_bind().dialect.name == "postgresql":
        row = (
            session.execute(text(f"SELECT * FROM {function}(:v)"), {"v": value})
            .mappings()
            .first()
        )
        return dict(row) if row else None
    acc = session.execute(
        select(Account).where(getattr(Account, column) == value)
    ).scalar_one_or_none()
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


def address_code_known(session: Session, code: str) -> bool:
    """Whether an ID number's 6-digit address code names a county of the
    division tree, current or retired (divisions are public reference data).

    The reference data has no list of codes retired before it was taken
    (mid-2023), yet a number keeps its first address code for life: so a
    county code missing from the tree is still accepted when its city (the
    first 4 digits) is in the tree, current or retired.
    """
    q = select(Division.code).where(Division.code.in_([code, code[:4]]))
    return session.execute(q.limit(1)).first() is not None


def address_code_checker(session: Session) -> Callable[[str], bool]:
    """:func:`address_code_known` for many numbers (bulk import): the tree's
    city and county codes read once, then checked in memory."""
    q = select(Division.code).where(func.length(Division.code).in_((4, 6)))
    codes = frozenset(session.execute(q).scalars())
    return lambda code: code in codes or code[:4] in codes
