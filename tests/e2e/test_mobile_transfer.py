"""Moving home (记录转移接续, issue 14) on the phone (``/m/#/transfer``), in
headless Chromium at 390x844 with touch, against the platform as `make run`
starts it.

A verified volunteer of Yanta opens the page from "me": an empty form is
refused under the new home's label, a missing consent under the consent's;
with consent the request to a township of Chang'an (another county) is
pending and the form gives way to a note; withdrawn after confirming (a
first "keep it" changes nothing); asked again, the new home's office
refuses it with a reason, then accepts a third request, both through the
API; the phone shows each status, both homes by name and the dates, in
Chinese and in English. Its token, issued before the move, still carries
the old home (GET /me: 404): the page exchanges it (POST /me/refresh) for
one of the new home without signing in again, and "me" shows the new home.
An office's token and a forged one get no refresh. Photographed at 390 and
1366 px (``test-artifacts/screenshots/mobile-transfer*-390.png`` and
``-1366.png``);
at 390 px nothing scrolls sideways and every control is at least 40 px
tall."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page

from services.common.auth import TokenIssuer, generate_keypair
from services.common.divisions import name_of
from tests.e2e.conftest import login, login_with
from tests.e2e.test_mobile_pages import (
    PASSWORD,
    TOWN,
    fits_the_phone,
    photograph,
    registered,
    sign_in,
)
from tests.helpers import ok

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

NEW_COUNTY, NEW_TOWN = "610116", "610116002"  # 长安区, 郭杜街道
NEW_PATH = ["61", "6101", NEW_COUNTY, NEW_TOWN]


def pick(page: Page, path: list[str]) -> None:
    """Chooses each level of the transfer form's division picker."""
    for code in path:
        select = f"[data-testid=transfer-division] select:has(option[value='{code}'])"
        page.wait_for_selector(select, state="attached")
        page.select_option(select, code)


def error_under(page: Page, field: str) -> str:
    node = page.locator(f"[data-testid=error-{field}]")
    node.wait_for(state="visible")
    return node.inner_text()


def ask(page: Page) -> None:
    """Asks for the transfer to NEW_TOWN with consent; waits for the answer."""
    page.wait_for_selector("[data-testid=transfer-form]")
    pick(page, NEW_PATH)
    page.check("[data-testid=transfer-consent]")
    page.click("[data-testid=transfer-submit]")
    page.wait_for_selector("[data-testid=transfer-requested]")


def newest(page: Page, status: str):  # type: ignore[no-untyped-def]
    """The newest transfer on the list, once it shows ``status``."""
    item = page.locator("[data-testid=transfer]").first
    page.wait_for_selector(f"[data-testid=transfer][data-status={status}]")
    assert item.get_attribute("data-status") == status
    return item


def test_moving_home_on_the_phone(platform, phone_page: Page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    page = phone_page
    http = httpx.Client(base_url=f"{base}/api/v1", timeout=30)
    county, province = login(base, "yanta-admin"), login(base, "sx-admin")
    number, own = registered(base, http, county, "孙搬家")

    # From "me" to the page: nothing asked yet; the current home by name.
    sign_in(page, base, number, "/me")
    page.click("[data-testid=to-transfer]")
    page.wait_for_selector("[data-testid=transfer-form]")
    assert page.get_attribute("[data-testid=tab-me]", "aria-current") == "page"
    page.wait_for_selector("[data-testid=no-transfers]")
    page.wait_for_function(
        "([s, n]) => document.querySelector(s).textContent.endsWith(' ' + n)",
        arg=["[data-testid=transfer-current]", name_of(TOWN)],
    )
    # The consent is the service's text, the one the request records.
    consent_text = ok(http.get("/me/transfers", headers=own))["consent_text"]
    assert "服务时长" in consent_text
    shown = page.inner_text("[data-testid=transfer-consent-text]")
    assert shown.split("\n") == consent_text.split(" / ")  # zh, then en
    what = page.inner_text("[data-testid=transfer-what]")
    assert "原服务地" in what and "服务证明继续有效" in what

    # Errors by the field's label: no new home, then no consent.
    page.click("[data-testid=transfer-submit]")
    assert error_under(page, "to_division_code").startswith("新居住地：")
    pick(page, NEW_PATH)
    page.click("[data-testid=transfer-submit]")
    assert error_under(page, "consent") == "本人同意：转移须取得志愿者本人同意"
    assert page.locator("[data-testid=error-to_division_code]").is_hidden()
    photograph(page, "transfer")
    assert ok(http.get("/me/transfers", headers=own))["transfers"] == []

    # With consent: pending, both homes by name; no second form meanwhile.
    page.check("[data-testid=transfer-consent]")
    page.click("[data-testid=transfer-submit]")
    page.wait_for_selector("[data-testid=transfer-requested]")
    first = newest(page, "TRANSFER_STATUS_PENDING")
    assert first.locator("[data-testid=transfer-status]").inner_text() == "待审核"
    assert name_of(TOWN) in first.locator("[data-testid=transfer-from]").inner_text()
    assert name_of(NEW_TOWN) in first.locator("[data-testid=transfer-to]").inner_text()
    assert "申请时间：" in first.inner_text()
    assert page.locator("[data-testid=transfer-form]").count() == 0
    assert page.locator("[data-testid=transfer-pending-one]").is_visible()
    photograph(page, "transfer-pending")

    # Withdrawn only after confirming.
    first.locator("[data-testid=transfer-cancel]").click()
    first.locator("[data-testid=transfer-confirm]").wait_for()
    first.locator("[data-testid=transfer-cancel-keep]").click()
    assert first.locator("[data-testid=transfer-confirm]").is_hidden()
    assert first.get_attribute("data-status") == "TRANSFER_STATUS_PENDING"
    first.locator("[data-testid=transfer-cancel]").click()
    first.locator("[data-testid=transfer-cancel-confirm]").click()
    page.wait_for_selector("[data-testid=transfer-cancelled]")
    gone = newest(page, "TRANSFER_STATUS_CANCELLED")
    assert (
        gone.locator("[data-testid=transfer-decided]")
        .inner_text()
        .startswith("撤回时间：")
    )
    assert gone.locator("[data-testid=transfer-cancel]").count() == 0

    # Asked again: the new home's office refuses it, saying why.
    ask(page)
    (pending,) = [
        t
        for t in ok(http.get("/me/transfers", headers=own))["transfers"]
        if t["status"] == "TRANSFER_STATUS_PENDING"
    ]
    assert pending["consent_text"] == consent_text
    ok(
        http.post(
            f"/transfers/{pending['id']}/refuse",
            headers=province,
            json={"reason": "请补充新居住地的居住证明"},
        )
    )
    page.reload()
    refused = newest(page, "TRANSFER_STATUS_REFUSED")
    assert refused.get_attribute("data-id") == pending["id"]
    assert refused.locator("[data-testid=transfer-reason]").inner_text() == (
        "拒绝原因：请补充新居住地的居住证明"
    )

    # A third request, accepted: the phone shows it accepted.
    old_token = page.evaluate("() => sessionStorage.getItem('zy.m.token')")
    ask(page)
    third = newest(page, "TRANSFER_STATUS_PENDING").get_attribute("data-id")
    ok(http.post(f"/transfers/{third}/accept", headers=province))
    page.reload()
    accepted = newest(page, "TRANSFER_STATUS_ACCEPTED")
    assert accepted.get_attribute("data-id") == third
    assert accepted.locator("[data-testid=transfer-status]").inner_text() == "已接收"
    assert (
        accepted.locator("[data-testid=transfer-decided]")
        .inner_text()
        .startswith("接收时间：")
    )
    statuses = [
        n.get_attribute("data-status")
        for n in page.locator("[data-testid=transfer]").all()
    ]
    assert statuses == [
        "TRANSFER_STATUS_ACCEPTED",
        "TRANSFER_STATUS_REFUSED",
        "TRANSFER_STATUS_CANCELLED",
    ]
    assert page.locator("[data-testid=transfer-requested]").count() == 0
    # The token from before the move carried the old home (GET /me: 404): the
    # page exchanged it for one of the new home without asking to sign in.
    assert page.evaluate("() => sessionStorage.getItem('zy.m.token')") != old_token
    assert page.locator("[data-testid=transfer-moved]").count() == 0
    page.wait_for_selector("[data-testid=transfer-current][data-code]")
    assert page.get_attribute("[data-testid=transfer-current]", "data-code") == (
        NEW_TOWN
    )
    # Both homes from the province down.
    page.wait_for_function(
        "([s, n]) => document.querySelector(s)?.textContent === n",
        arg=[
            "[data-testid=transfer] [data-testid=transfer-to]",
            " ".join(map(name_of, NEW_PATH)),  # 陕西省 西安市 长安区 郭杜街道
        ],
    )
    photograph(page, "transfers")

    # In English.
    page.click("[data-testid=lang]")
    page.wait_for_selector("[data-testid=transfer-status]:text('Accepted')")
    assert "Reason: " in page.inner_text("[data-testid=transfer-reason]")
    fits_the_phone(page)
    assert page.inner_text("[data-testid=transfers] h2") == "My transfer requests"

    # "me" at the new home, still signed in.
    page.click("[data-testid=lang]")
    page.click("[data-testid=tab-me]")
    page.wait_for_function(
        "([s, n]) => document.querySelector(s)?.textContent.endsWith(' ' + n)",
        arg=["[data-testid=me-home]", name_of(NEW_TOWN)],
    )
    assert page.locator("[data-testid=signin-form]").count() == 0

    # The API behind it: the old token finds no one, its refresh is the new
    # home's; an office's token and a forged one are refused.
    assert http.get("/me", headers=own).status_code == 404
    fresh = ok(http.post("/me/refresh", headers=own))
    mine = {"authorization": f"Bearer {fresh['access_token']}"}
    assert fresh["account"]["scope_code"] == NEW_TOWN
    me = ok(http.get("/me", headers=mine))
    assert me["scope_code"] == NEW_TOWN
    assert me["volunteer"]["home_division_code"] == NEW_TOWN
    again = ok(http.get("/me", headers=login_with(base, number, PASSWORD)))
    assert me["volunteer"]["id"] == again["volunteer"]["id"]
    assert http.post("/me/refresh", headers=county).status_code == 403
    # The same claims signed with another key: refused at the door.
    forger = TokenIssuer(generate_keypair()[0], "zhiyuan", "zhiyuan")
    forged, _ = forger.issue(
        subject=me["subject"], username=number, scope_code=NEW_TOWN,
        roles=["volunteer"], volunteer_id=me["volunteer"]["id"],
    )  # fmt: skip
    got = http.post("/me/refresh", headers={"authorization": f"Bearer {forged}"})
    assert got.status_code == 401, got.text
