"""Through the gateway: wrong passwords in a row lock the account, and the
right password then gets 429 with Retry-After and a bilingual message
instead of a token (the issue's "30 wrong, then right → 200")."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import PASSWORD, login

pytestmark = pytest.mark.e2e


def test_the_right_password_after_many_wrong_ones_gets_429(platform) -> None:  # type: ignore[no-untyped-def]
    base, _env, _procs = platform
    province = login(base, "sx-admin")
    username = "lockout-probe"
    created = httpx.post(
        f"{base}/api/v1/accounts",
        headers=province,
        json={
            "username": username,
            "password": PASSWORD,
            "scope_code": "610112",
            "roles": ["tenant_admin"],
        },
        timeout=30,
    )
    assert created.status_code == 201, created.text

    def attempt(password: str) -> httpx.Response:
        return httpx.post(
            f"{base}/api/v1/login",
            json={"username": username, "password": password},
            timeout=30,
        )

    statuses = [attempt("not-the-password").status_code for _ in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429, statuses
    refused = attempt(PASSWORD)
    assert refused.status_code == 429, refused.text
    assert int(refused.headers["retry-after"]) > 0
    error = refused.json()["error"]
    assert error["code"] == "RESOURCE_EXHAUSTED"
    assert error["field"] == "username" and error["rule"] == "login.locked"
    assert "too many failed logins" in error["message_en"]
    assert "登录失败次数过多" in error["message_zh"]
    assert "access_token" not in refused.text
