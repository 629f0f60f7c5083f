"""Registration's side of a transfer (issue 14) through its use cases, on
PostgreSQL (the session's migrated database: row security, and the
SECURITY DEFINER move that refuses a caller whose scope does not hold the
new home) and on the embedded SQLite (the same move in Python).

Accepted, the volunteer's home, their own account's scope and their inbox
move to the new home in the acceptance's transaction, with the
``registration.volunteer.transferred`` event; the old office finds no one.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from services.common import keys
from services.common.auth import Principal, TokenIssuer, TokenVerifier
from services.common.config import load
from services.common.db import Database
from services.common.errors import NotFound, PermissionDenied, Unauthenticated
from services.common.migrations import upgrade
from services.common.tenancy import Scope
from services.common.testing import PRIVATE_PEM, PUBLIC_PEM
from services.registration.application import RegistrationApp
from services.registration.bootstrap import load_divisions
from services.registration.models import (
    OUTBOX,
    Account,
    Notification,
    NotificationDelivery,
    Transfer,
)
from tests.helpers import new_id_number, new_phone

pytestmark = pytest.mark.integration
OLD, OLD_TOWN = "610114", "610114002"
NEW, NEW_TOWN = "610116", "610116005"
AT = datetime(2026, 12, 1, 2, tzinfo=UTC)


def office(scope: str, name: str) -> Principal:
    return Principal(name, name, scope, frozenset({"tenant_admin"}), 0)


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def app(request, tmp_path_factory) -> Iterator[RegistrationApp]:  # type: ignore[no-untyped-def]
    # The test environment (keys, the session's databases) before the config.
    request.getfixturevalue("migrated" if request.param == "postgresql" else "env")
    cfg = load()
    if request.param == "sqlite":
        path = Path(tmp_path_factory.mktemp("embedded")) / "registration.db"
        svc = dataclasses.replace(
            cfg.service("registration"), database_url=f"sqlite:///{path}"
        )
        upgrade(svc)
        db = Database(svc)
        load_divisions(db)
    else:
        svc = dataclasses.replace(cfg.service("registration"), database_pool_size=2)
        db = Database(svc)
    yield RegistrationApp(db, keys.pii_cipher(cfg), None)
    db.dispose()


def _with_account_and_inbox(app: RegistrationApp) -> Any:
    """A verified Yanliang volunteer with an own account and a notification
    (delivered nowhere yet), written as registration writes them."""
    old = office(OLD, "yanliang-admin")
    vol = app.people.register_volunteer(
        old, "李志愿", new_id_number(OLD), new_phone(), OLD_TOWN,
        ["elderly_care"], None, "",
    )  # fmt: skip
    app.people.review_volunteer(old, vol.id, True, "")
    note = str(uuid.uuid4())
    with app.ctx.db.session(Scope(OLD_TOWN)) as s:
        s.add(
            Account(
                id=str(uuid.uuid4()), username=f"v-{vol.volunteer_number}",
                password_hash="x", display_name="李**", scope_code=OLD_TOWN,
                roles=["volunteer"], active=True, created_by="test", created_at=AT,
                volunteer_id=vol.id,
            )
        )  # fmt: skip
        s.add(
            Notification(
                id=note, volunteer_id=vol.id, division_code=OLD_TOWN, kind="test",
                event_id=str(uuid.uuid4()), title_zh="通知", title_en="Note",
                body_zh="正文", body_en="Body", created_at=AT, read_at=None,
            )
        )  # fmt: skip
        s.flush()
        s.add(
            NotificationDelivery(
                notification_id=note, channel="sms", division_code=OLD_TOWN,
                status="no_adapter", created_at=AT,
            )
        )  # fmt: skip
    return vol


def _homes(app: RegistrationApp, vid: str, scope: str) -> tuple[Any, ...]:
    """(account scope, notification division, delivery division) in scope:
    filtered by the scope as the repository does (and, in PostgreSQL, by row
    security too)."""
    like = Scope(scope).like_pattern
    with app.ctx.db.session(Scope(scope)) as s:
        acc = s.execute(
            select(Account.scope_code).where(
                Account.volunteer_id == vid, Account.scope_code.like(like)
            )
        ).scalar()
        note = s.execute(
            select(Notification.division_code).where(
                Notification.volunteer_id == vid,
                Notification.division_code.like(like),
            )
        ).scalar()
        sent = s.execute(
            select(NotificationDelivery.division_code)
            .join(Notification, Notification.id == NotificationDelivery.notification_id)
            .where(
                Notification.volunteer_id == vid,
                NotificationDelivery.division_code.like(like),
            )
        ).scalar()
    return acc, note, sent


def test_accepting_moves_the_volunteer_account_and_inbox(app: RegistrationApp) -> None:
    old, new = office(OLD, "yanliang-admin"), office(NEW, "changan-admin")
    vol = _with_account_and_inbox(app)
    t = app.transfers.request(old, vol.id, NEW_TOWN, True, "同意书已存档")
    assert t.status == "pending" and t.consent_channel == "office"
    with pytest.raises(PermissionDenied) as err:
        app.transfers.accept(old, t.id)
    assert err.value.rule == "transfer.new_home_decides"

    done = app.transfers.accept(new, t.id)
    assert (done.status, done.decided_by) == ("accepted", "changan-admin")
    with pytest.raises(NotFound):
        app.people.get_volunteer(old, vol.id)
    moved, _ = app.people.get_volunteer(new, vol.id)
    assert moved.home_division_code == NEW_TOWN
    assert _homes(app, vol.id, NEW) == (NEW_TOWN, NEW_TOWN, NEW_TOWN)
    assert _homes(app, vol.id, OLD) == (None, None, None)
    with app.ctx.db.session(None) as s:
        events = s.execute(
            select(OUTBOX.c.event_type, OUTBOX.c.division_code, OUTBOX.c.payload)
            .where(OUTBOX.c.event_type == "registration.volunteer.transferred")
            .order_by(OUTBOX.c.seq.desc())
        ).all()
    mine = [e for e in events if e.payload["data"]["volunteer_id"] == vol.id]
    assert len(mine) == 1 and mine[0].division_code == NEW_TOWN
    data = mine[0].payload["data"]
    assert (data["from_division_code"], data["to_division_code"]) == (
        OLD_TOWN,
        NEW_TOWN,
    )
    assert data["home_division_code"] == NEW_TOWN and data["status"] == "verified"


# Row security and the SECURITY DEFINER move are PostgreSQL's alone.
@pytest.mark.parametrize("app", ["postgresql"], indirect=True)
def test_the_database_refuses_a_move_outside_the_callers_scope(
    app: RegistrationApp,
) -> None:
    assert app.ctx.db.engine.dialect.name == "postgresql"
    old = office(OLD, "yanliang-admin")
    vol = _with_account_and_inbox(app)
    t = app.transfers.request(old, vol.id, NEW_TOWN, True, "同意书已存档")
    # The old home's own transaction calls the move itself: refused.
    with pytest.raises(DBAPIError), app.ctx.db.session(Scope(OLD)) as s:
        s.execute(
            text("SELECT registration_transfer_accept(:t, 'x', now())"),
            {"t": t.id},
        )
    with app.ctx.db.session(Scope(OLD)) as s:
        row = s.get(Transfer, t.id)
        assert row is not None and row.status == "pending"
    got, _ = app.people.get_volunteer(old, vol.id)
    assert got.home_division_code == OLD_TOWN


def test_the_own_account_refreshes_its_token_to_the_new_home(
    app: RegistrationApp,
) -> None:
    """RefreshMyToken's use case on both stores: before the move the token
    keeps the old home, after it the new one, with the same expiry; an
    account deactivated, a token naming another account or volunteer, and
    an office's principal get none."""
    cfg = load()
    signing = RegistrationApp(
        app.ctx.db, keys.pii_cipher(cfg), TokenIssuer(PRIVATE_PEM, "zhiyuan", "zhiyuan")
    )
    verify = TokenVerifier(PUBLIC_PEM, "zhiyuan", "zhiyuan").verify
    vol = _with_account_and_inbox(app)
    with app.ctx.db.session(Scope(OLD_TOWN)) as s:
        acc = s.execute(
            select(Account).where(Account.volunteer_id == vol.id)
        ).scalar_one()
        acc_id, username = acc.id, acc.username
    expires = int(datetime.now(UTC).timestamp()) + 600

    def own(scope: str, subject: str = acc_id, vid: str = vol.id) -> Principal:
        return Principal(
            subject, username, scope, frozenset({"volunteer"}), expires,
            volunteer_id=vid,
        )  # fmt: skip

    _, _, before = signing.accounts.refresh(own(OLD_TOWN))
    assert before.scope_code == OLD_TOWN
    t = app.transfers.request(
        office(OLD, "yanliang-admin"), vol.id, NEW_TOWN, True, "同意书已存档"
    )
    app.transfers.accept(office(NEW, "changan-admin"), t.id)

    token, exp, after = signing.accounts.refresh(own(OLD_TOWN))

    assert after.scope_code == NEW_TOWN and exp == expires
    claims = verify(token)
    assert (claims.scope_code, claims.volunteer_id, claims.subject) == (
        NEW_TOWN, vol.id, acc_id,
    )  # fmt: skip
    for stray in (own(OLD_TOWN, subject=str(uuid.uuid4())),
                  own(OLD_TOWN, vid=str(uuid.uuid4()))):  # fmt: skip
        with pytest.raises(Unauthenticated):
            signing.accounts.refresh(stray)
    with pytest.raises(PermissionDenied):
        signing.accounts.refresh(office(NEW, "changan-admin"))
    with app.ctx.db.session(Scope(NEW_TOWN)) as s:
        s.execute(update(Account).where(Account.id == acc_id).values(active=False))
    with pytest.raises(Unauthenticated):
        signing.accounts.refresh(own(NEW_TOWN))
