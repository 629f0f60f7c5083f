"""The console follows the user's roles (headless Chromium): a resident (the
volunteer role) lands on the public notices, sees only that link, and can
list the rounds of their area but no office data; a reviewer sees the
office pages but not the ones that need a manager (hours queue, import)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.e2e.conftest import login, login_with
from tests.helpers import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
SECRET = "Resident-2026-pass"
LINKS = ("dashboard", "volunteers", "organisations", "projects", "hours",
         "records", "import", "commendation", "recycling", "notice")  # fmt: skip


def account(base: str, admin: dict, scope: str, role: str) -> str:
    name = f"{role}-{uuid.uuid4().hex[:8]}"
    made = httpx.post(
        f"{base}/api/v1/accounts", headers=admin, timeout=30,
        json={"username": name, "password": SECRET, "scope_code": scope,
              "display_name": name, "roles": [role]},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    return name


def visible_links(page) -> set[str]:  # type: ignore[no-untyped-def]
    """The navigation links shown (call once the role filter has run)."""
    out = set()
    for name in LINKS:
        sel = (
            "nav.links a[href='#/dashboard']"
            if name == "dashboard"
            else (f"[data-testid=nav-{name}]")
        )
        if page.locator(sel).is_visible():
            out.add(name)
    return out


def test_a_resident_lands_on_the_public_notices_and_sees_no_office_page(
    platform, page
) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    county = login(base, "yanta-admin")
    resident = account(base, county, "610113002", "volunteer")
    headers = login_with(base, resident, SECRET)

    # The rounds of the area are public announcements; office data is not.
    rounds = httpx.get(
        f"{base}/api/v1/commendation/rounds", headers=headers, timeout=30
    )
    assert rounds.status_code == 200, rounds.text
    seeded = httpx.get(
        f"{base}/api/v1/commendation/rounds", headers=county, timeout=30
    ).json()["rounds"]
    provincial = {r["id"] for r in seeded if r["division_code"] == "61"}
    assert provincial and provincial <= {r["id"] for r in rounds.json()["rounds"]}
    # ... of their own area only: a neighbouring county's rounds are refused.
    neighbour = httpx.get(
        f"{base}/api/v1/commendation/rounds", headers=headers, timeout=30,
        params={"division_code": "610116"},
    )  # fmt: skip
    assert neighbour.status_code == 403, neighbour.text
    assert neighbour.json()["error"]["field"] == "division_code"
    for path in ("/volunteers", "/hours/records", "/dashboard"):
        got = httpx.get(f"{base}/api/v1{path}", headers=headers, timeout=30)
        assert got.status_code == 403, (path, got.text)

    log_in(page, base, resident, password=SECRET)
    page.wait_for_function("() => location.hash === '#/commendation/notice'")
    page.wait_for_selector("[data-testid=notice-rounds]")
    assert page.locator("[data-testid=denied]").count() == 0
    page.wait_for_function(
        "() => document.querySelector('[data-testid=nav-volunteers]').hidden"
    )
    assert visible_links(page) == {"notice"}


def test_a_reviewer_sees_the_office_pages_but_not_the_managers_ones(
    platform, page
) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    county = login(base, "yanta-admin")
    reviewer = account(base, county, "610113", "reviewer")
    log_in(page, base, reviewer, password=SECRET)
    page.wait_for_selector("[data-testid=figure-volunteers_registered]")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=nav-import]').hidden"
    )
    assert visible_links(page) == set(LINKS) - {"hours", "import"}
