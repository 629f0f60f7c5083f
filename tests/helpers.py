"""Small helpers for tests (not fixtures)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import grpc
import httpx
import pytest

from services.registration.idcard import make_id_number

if TYPE_CHECKING:
    from playwright.sync_api import Page

# The seed's demo logins (`zhiyuan seed`) all share this password.
PASSWORD = "zhiyuan-demo-2026"  # noqa: S105 - the documented demo password

_serial = itertools.count(1)


def auth(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


def rejected(
    fn: Callable[[], Any], code: grpc.StatusCode = grpc.StatusCode.INVALID_ARGUMENT
) -> dict[str, Any]:
    """Call ``fn``, expect a refusal with ``code`` and no stack trace; return
    the trailing metadata (see :func:`assert_field`)."""
    with pytest.raises(grpc.RpcError) as err:
        fn()
    assert err.value.code() == code, err.value.details()
    assert "Traceback" not in err.value.details()
    return dict(err.value.trailing_metadata() or ())


def assert_field(trailers: dict[str, Any], field: str, rule: str | None) -> None:
    """A refusal names ``field`` and ``rule`` (None: any rule) and says why
    in Chinese."""
    assert trailers.get("zhiyuan-field") == field
    if rule is not None:
        assert trailers.get("zhiyuan-rule") == rule
    assert trailers.get("zhiyuan-message-zh-bin", b"").decode().strip()


def ok(response: httpx.Response, status: int = 200) -> dict:
    """The JSON body of ``response``, asserting its status (the body on failure)."""
    assert response.status_code == status, response.text
    return response.json()


def log_in(
    page: Page, base: str, user: str, route: str = "", password: str = PASSWORD
) -> None:
    """Log in to the console as ``user`` (replacing whoever was logged in) and
    open ``route``, a hash route such as ``/projects`` (empty: the user's start
    page); returns once the header shows ``user``."""
    target = f"?next={quote('#' + route, safe='')}" if route else ""
    page.goto(f"{base}/console/#/login{target}")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("form[data-testid=login-form] button[type=submit]")
    page.wait_for_function(
        "user => document.querySelector('[data-testid=who]').textContent"
        ".startsWith(user + ' ')",
        arg=user,
    )


def new_id_number(county: str = "610113", born: date = date(1990, 5, 17)) -> str:
    """A valid, never-before-used resident ID number for ``county``."""
    n = next(_serial)
    return make_id_number(county, born.replace(day=1 + n % 28), 1 + (n * 7) % 998)


def new_phone() -> str:
    return f"139{next(_serial):08d}"
