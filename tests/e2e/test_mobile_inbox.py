"""A volunteer's inbox on the phone (``/m/#/inbox``), in headless Chromium at
390x844 against the platform as `make run` starts it: a full session puts
the volunteer on the waitlist and a withdrawal promotes it, each decision a
notification (activity → registration's worker); the header's badge counts
the unread ones; one is marked read on the page, then all; the unread filter
is empty after; the page reads in English too. Photographed at 390 and 1366
px (``mobile-inbox-*.png``); at 390 px nothing scrolls sideways."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page

from services.common.testing import wait_for
from tests.e2e.conftest import login
from tests.e2e.test_mobile_pages import (
    county_project,
    fits_the_phone,
    photograph,
    registered,
    sign_in,
)
from tests.helpers import ok

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_the_inbox_on_the_phone(platform, phone_page: Page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    page = phone_page
    http = httpx.Client(base_url=f"{base}/api/v1", timeout=30)
    county, province = login(base, "yanta-admin"), login(base, "sx-admin")
    _, first = registered(base, http, county, "周先来")
    number, own = registered(base, http, county, "吴候补")
    pid, sid = county_project(http, county, province, "手机消息测试", capacity=1)
    for token in (first, own):
        wait_for(
            lambda token=token: (
                pid in str(http.get("/me/projects", headers=token).json())
            ),
            timeout=30,
            what="the project among each volunteer's open projects",
        )
    taken = ok(http.post(f"/me/sessions/{sid}/sign-up", headers=first), 201)
    ok(http.post(f"/me/sessions/{sid}/sign-up", headers=own), 201)
    ok(http.post(f"/me/sign-ups/{taken['sign_up']['id']}/withdraw", headers=first))

    def inbox() -> dict:
        return ok(http.get("/me/notifications", headers=own))

    wait_for(lambda: inbox()["unread_count"] == 2, timeout=30, what="two notifications")
    kinds = [n["kind"] for n in inbox()["notifications"]]
    assert sorted(kinds) == ["signup.promoted", "signup.waitlisted"]

    sign_in(page, base, number)
    badge = page.locator("[data-testid=inbox-link] [data-testid=inbox-badge]")
    badge.wait_for()
    assert badge.inner_text() == "2"
    page.click("[data-testid=inbox-link]")
    items = page.locator("[data-testid=notification]")
    items.first.wait_for()
    assert items.count() == 2
    assert page.inner_text("[data-testid=unread-count]") == "2 条未读"
    promoted = page.locator("[data-testid=notification][data-kind='signup.promoted']")
    assert "候补已转正" in promoted.inner_text()
    assert "手机消息测试" in promoted.inner_text()
    photograph(page, "inbox")

    # One read on the page: the count and the badge follow.
    promoted.locator("[data-testid=notification-read]").click()
    page.wait_for_selector("[data-testid=unread-count]:text('1 条未读')")
    page.wait_for_selector("[data-testid=inbox-badge]:text('1')")
    read = page.locator("[data-testid=notification][data-kind='signup.promoted']")
    assert read.get_attribute("data-read") == "yes"

    # All read: no badge, and the unread filter shows none.
    page.click("[data-testid=notifications-read-all]")
    page.wait_for_selector("[data-testid=unread-count]:text('0 条未读')")
    page.wait_for_selector("[data-testid=inbox-badge]", state="detached")
    assert inbox()["unread_count"] == 0
    page.click("[data-testid=notifications-filter]")
    page.wait_for_selector("[data-testid=no-notifications]:text('没有未读消息')")
    fits_the_phone(page)

    # In English: the titles and bodies the worker wrote in English.
    page.goto(f"{base}/m/#/inbox")
    page.wait_for_selector("[data-testid=notification]")
    page.click("[data-testid=lang]")
    page.wait_for_selector(
        "[data-testid=notification] strong:text('Promoted from the waitlist')"
    )
    assert page.inner_text("[data-testid=inbox-link]").strip() == "Inbox"
    fits_the_phone(page)
