"""The gateway's access log never holds a query value: a console search by
full ID number or phone number is logged with the parameter's name only,
and neither number appears in any process's log output (gateway, apis,
workers), while the request's access line is still there."""

from __future__ import annotations

import uuid
from datetime import date

import httpx
import pytest

from services.common.testing import wait_for
from services.registration.idcard import make_id_number
from tests.e2e.conftest import login
from tests.helpers import new_phone

pytestmark = pytest.mark.e2e


def test_searches_by_id_and_phone_leave_no_number_in_any_log(platform) -> None:  # type: ignore[no-untyped-def]
    base, _env, procs = platform
    headers = login(base, "yanta-admin")
    # Unique numbers, so a hit in the log can only come from this test.
    tail = uuid.uuid4().int % 900 + 50
    id_number = make_id_number("610113", date(1987, 3, 1 + tail % 28), tail)
    phone = new_phone()
    marker = f"probe_{uuid.uuid4().hex[:12]}"
    # The search takes an ID number (200); a phone number is refused (400).
    for value, status in ((id_number, 200), (phone, 400)):
        got = httpx.get(
            f"{base}/api/v1/volunteers",
            params={"q": value, marker: value, "page_size": 5},
            headers=headers,
            timeout=30,
        )
        assert got.status_code == status, got.text
    # A path carrying a number (a mistyped link) is redacted too.
    got = httpx.get(f"{base}/api/v1/volunteers/{id_number}", headers=headers)
    assert got.status_code in (400, 404), got.text

    def access_lines() -> list[str]:
        return [line for line in procs.log("platform").splitlines() if marker in line]

    lines = wait_for(
        lambda: len(access_lines()) == 2 and access_lines(), timeout=60, what="log"
    )
    for line in lines:
        assert "zhiyuan.gateway.access" in line
        assert "GET /api/v1/volunteers?" in line
        assert f"{marker}=[redacted]" in line and "q=[redacted]" in line
    assert [" 200 " in lines[0], " 400 " in lines[1]] == [True, True], lines
    wait_for(
        lambda: "GET /api/v1/volunteers/[redacted]" in procs.log("platform"),
        what="the redacted path's access line",
    )
    text = procs.log("platform")
    assert id_number not in text
    assert id_number[:17] not in text  # nor with a different check character
    assert phone not in text
