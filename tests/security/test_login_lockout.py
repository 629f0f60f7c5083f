"""Login lockout and constant-work failures, on the real PostgreSQL.

Through registration's gRPC api: after 5 wrong passwords even the right one
is refused with RESOURCE_EXHAUSTED and a retry-after, in both languages; an
unknown username runs the password KDF exactly like a known one (counted on
the real hasher, no timed assert; the times are printed). With a short
lockout (use cases on the same database): unlock after the window (polled),
a success resets the account's count, lockouts grow, and one client address
trying many usernames is locked too."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from typing import Any

import grpc
import pytest
from zhiyuan.registration.v1 import registration_pb2 as pb

from services.common import auth, keys
from services.common.config import load
from services.common.db import Database
from services.common.errors import ResourceExhausted, Unauthenticated
from services.common.testing import wait_for
from services.registration.application import RegistrationApp
from services.registration.bootstrap import create_account
from services.registration.login_guard import LoginGuard, LoginPolicy
from services.registration.models import LoginAttempt

pytestmark = pytest.mark.integration
PASSWORD = "correct-horse-battery"  # noqa: S105 - test account


def new_account() -> str:
    username = f"lock-{uuid.uuid4().hex[:10]}"
    create_account(load(), username, PASSWORD, "610113", ["tenant_admin"], username)
    return username


def login(stub: Any, username: str, password: str) -> grpc.RpcError | None:
    try:
        stub.Login(pb.LoginRequest(username=username, password=password))
    except grpc.RpcError as err:
        return err
    return None


class CountingHasher(auth.PasswordHasher):
    """The real Argon2 hasher, counting its verifications."""

    verifications = 0

    def verify(self, hash: Any, password: Any) -> bool:  # noqa: A002
        type(self).verifications += 1
        return super().verify(hash, password)


def test_five_failures_lock_the_account_even_for_the_right_password(stub, migrated):
    username = new_account()
    for _ in range(5):
        err = login(stub, username, "wrong-password")
        assert err is not None and err.code() == grpc.StatusCode.UNAUTHENTICATED
    err = login(stub, username, PASSWORD)
    assert err is not None and err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    trailers = dict(err.trailing_metadata())
    assert int(trailers["zhiyuan-retry-after"]) > 0
    assert trailers["zhiyuan-rule"] == "login.locked"
    assert "too many failed logins" in trailers["zhiyuan-message-en-bin"].decode()
    assert "登录失败次数过多" in trailers["zhiyuan-message-zh-bin"].decode()
    # Another account is not affected.
    assert login(stub, new_account(), PASSWORD) is None


def test_an_unknown_username_costs_one_kdf_verification_like_a_known_one(
    stub, migrated, monkeypatch
):
    known = new_account()
    counting = CountingHasher(time_cost=3, memory_cost=64 * 1024, parallelism=2)
    monkeypatch.setattr(auth, "_hasher", counting)
    timings = {}
    for label, username in (("known", known), ("unknown", f"nobody-{known}")):
        before = CountingHasher.verifications
        started = time.perf_counter()
        err = login(stub, username, "wrong-password")
        timings[label] = time.perf_counter() - started
        assert err is not None and err.code() == grpc.StatusCode.UNAUTHENTICATED
        assert err.details() == "wrong username or password / 用户名或密码错误"
        assert CountingHasher.verifications - before == 1, label
    print(
        f"\nlogin failure time: known {timings['known'] * 1000:.0f} ms, "
        f"unknown {timings['unknown'] * 1000:.0f} ms"
    )


@pytest.fixture
def quick_app(migrated):  # type: ignore[no-untyped-def]
    """Registration's use cases with a half-second base lockout."""
    cfg = load()
    db = Database(cfg.service("registration"))
    app = RegistrationApp(db, keys.pii_cipher(cfg), keys.issuer(cfg))
    app.accounts.login_policy = LoginPolicy(
        account_max_failures=3,
        client_max_failures=6,
        lockout_seconds=0.5,
        max_lockout_seconds=8,
    )
    yield app
    db.dispose()


def fail(app: RegistrationApp, username: str, client: str = "") -> None:
    with pytest.raises(Unauthenticated):
        app.accounts.login(username, "wrong-password", client)


def locked_for(app: RegistrationApp, username: str, client: str = "") -> int:
    with pytest.raises(ResourceExhausted) as err:
        app.accounts.login(username, PASSWORD, client)
    assert err.value.field == "username" and err.value.rule == "login.locked"
    return err.value.retry_after


def lifted(app: RegistrationApp, username: str) -> bool:
    """Whether the lock is gone (asks without counting an attempt)."""
    guard = LoginGuard(app.ctx.db, app.accounts.login_policy, app.ctx.clock)
    try:
        guard.check(guard.keys(username, ""))
    except ResourceExhausted:
        return False
    return True


def lock_length(app: RegistrationApp, username: str) -> float:
    with app.ctx.db.session(None) as s:
        row = s.get(LoginAttempt, f"account:{username}")
        assert row is not None and row.locked_until is not None
        return (row.locked_until - row.window_started_at).total_seconds()


def test_the_lock_lifts_after_its_window_and_a_success_resets_the_count(
    quick_app,
):
    quick_app.accounts.login_policy = replace(
        quick_app.accounts.login_policy, lockout_seconds=2
    )
    username = new_account()
    for _ in range(3):
        fail(quick_app, username)
    assert 1 <= locked_for(quick_app, username) <= 2
    wait_for(lambda: lifted(quick_app, username), timeout=10, what="unlock")
    token, _exp, _acc = quick_app.accounts.login(username, PASSWORD, "")
    assert token
    # The success cleared the count: two more failures do not lock.
    for _ in range(2):
        fail(quick_app, username)
    assert quick_app.accounts.login(username, PASSWORD, "")[0]


def test_repeated_lockouts_double_the_wait(quick_app):
    username = f"ghost-{uuid.uuid4().hex[:8]}"  # unknown names lock too
    lengths = []
    for _ in range(3):
        for _ in range(3):
            fail(quick_app, username)
        lengths.append(lock_length(quick_app, username))
        wait_for(lambda: lifted(quick_app, username), timeout=10, what="unlock")
    assert lengths == [0.5, 1.0, 2.0]


def test_one_client_trying_many_usernames_is_locked(quick_app):
    quick_app.accounts.login_policy = replace(
        quick_app.accounts.login_policy, lockout_seconds=60
    )
    username = new_account()
    client = f"203.0.113.{uuid.uuid4().int % 250 + 1}"
    for n in range(6):
        fail(quick_app, f"spray-{n}-{uuid.uuid4().hex[:6]}", client)
    assert locked_for(quick_app, username, client) >= 1
    # The same account from another address still logs in.
    token, _exp, _acc = quick_app.accounts.login(username, PASSWORD, "192.0.2.77")
    assert token
