"""A county admin works with volunteers and organisations in the console
(headless Chromium): registers a volunteer in the form and sees it pending
with its ID number masked (the full number is nowhere in the page), verifies
it, sees a malformed ID number refused naming id_number without a row added,
creates a team nested under its parent organisation, and has the volunteer
join it. Screenshots ``volunteers`` and ``organisations`` are kept."""

from __future__ import annotations

import httpx
import pytest

from tests.browser import shot
from tests.e2e.conftest import login
from tests.helpers import log_in, new_id_number, new_phone

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
COUNTY, TOWN = "610113", "610113006"
TABLE = "[data-testid=volunteers-table]"


def county_organisation(base: str, headers: dict) -> dict:
    """The county's top-level organisation (seeded: 雁塔区志愿者协会)."""
    got = httpx.get(
        f"{base}/api/v1/organisations",
        headers=headers,
        params={"division_code": COUNTY, "page_size": 500},
        timeout=30,
    )
    assert got.status_code == 200, got.text
    tops = [
        o
        for o in got.json()["organisations"]
        if o["kind"] == "ORGANISATION_KIND_ORGANISATION" and not o["parent_id"]
    ]
    assert tops, got.text
    return tops[0]


def county_total(base: str, headers: dict) -> int:
    got = httpx.get(
        f"{base}/api/v1/volunteers",
        headers=headers,
        params={"division_code": COUNTY, "page_size": 1},
        timeout=30,
    )
    assert got.status_code == 200, got.text
    return int(got.json()["page"].get("total_size", 0))


def table_loaded(page) -> str:  # type: ignore[no-untyped-def]
    """Wait for the volunteers table to have loaded; its load stamp."""
    page.wait_for_selector(f"{TABLE}[data-loaded]", state="attached")
    return page.get_attribute(TABLE, "data-loaded") or ""


def register(page, name: str, id_number: str, phone: str) -> None:  # type: ignore[no-untyped-def]
    form = "[data-testid=volunteer-form]"
    page.fill(f"{form} input[name=name]", name)
    page.fill(f"{form} input[name=id_number]", id_number)
    page.fill(f"{form} input[name=phone]", phone)
    page.fill(f"{form} input[name=home_division_code]", TOWN)
    page.check(f"{form} input[name=service_fields][value=elderly_care]")
    page.click("[data-testid=vol-submit]")


def test_register_verify_and_organise_in_the_console(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    county = login(base, "yanta-admin")
    parent = county_organisation(base, county)
    log_in(page, base, "yanta-admin", "/volunteers")
    page.wait_for_selector("[data-testid=volunteer-form]")
    table_loaded(page)

    # Register: the new volunteer is listed pending, personal data masked.
    id_number, phone = new_id_number(COUNTY), new_phone()
    register(page, "钱控制", id_number, phone)
    page.wait_for_selector("[data-testid=volunteers-notice][data-id]")
    vol_id = page.get_attribute("[data-testid=volunteers-notice]", "data-id")
    row = page.locator(f"{TABLE} tr[data-id='{vol_id}']")
    row.wait_for()
    assert row.get_attribute("data-status") == "pending"
    shown_id = row.locator("td[data-col=id_number]").inner_text()
    assert "*" in shown_id and shown_id != id_number
    assert shown_id[:4] == id_number[:4] and shown_id[-4:] == id_number[-4:]
    assert "*" in row.locator("td[data-col=phone]").inner_text()
    html = page.content()
    assert id_number not in html and phone not in html

    # Verify: the table refreshes and shows the volunteer verified.
    row.locator("[data-action=verify]").click()
    page.wait_for_selector(f"{TABLE} tr[data-id='{vol_id}'][data-status=verified]")
    assert row.locator("[data-action=verify]").count() == 0
    shot(page, "volunteers")

    # Reject (the reason asked in a prompt): the row shows rejected.
    page.once("dialog", lambda dialog: dialog.accept("材料不全"))
    register(page, "周驳回", new_id_number(COUNTY), new_phone())
    page.wait_for_selector(f"[data-testid=volunteers-notice]:not([data-id='{vol_id}'])")
    other = page.get_attribute("[data-testid=volunteers-notice]", "data-id")
    page.locator(f"{TABLE} tr[data-id='{other}'] [data-action=reject]").click()
    page.wait_for_selector(f"{TABLE} tr[data-id='{other}'][data-status=rejected]")

    # A malformed ID number: the error names id_number and no row is added.
    api_before = county_total(base, county)
    rows_before = page.locator(f"{TABLE} tbody tr").count()
    total_before = page.get_attribute("[data-testid=volunteers-total]", "data-total")
    register(page, "孙有误", id_number[:-3] + "ABC", new_phone())
    error = page.locator("[data-testid=volunteer-form-error][data-field=id_number]")
    error.wait_for()
    # The field's label, not its key (data-field keeps the key).
    assert error.inner_text().startswith("身份证号：")
    assert len(error.inner_text()) > len("身份证号：")
    assert page.locator(f"{TABLE} tbody tr").count() == rows_before
    after = page.get_attribute("[data-testid=volunteers-total]", "data-total")
    assert after == total_before
    assert county_total(base, county) == api_before

    # Organisations: create a team under the county's organisation.
    page.click("[data-testid=nav-organisations]")
    page.wait_for_selector("[data-testid=org-tree]", state="attached")
    page.wait_for_selector(f"[data-testid=org-tree] li[data-id='{parent['id']}']")
    page.fill("[data-testid=org-name]", "控制台测试志愿服务队")
    page.select_option("[data-testid=org-kind]", "team")
    page.fill("[data-testid=org-division]", TOWN)
    page.select_option("[data-testid=org-parent]", parent["id"])
    page.click("[data-testid=org-submit]")
    page.wait_for_selector("[data-testid=org-notice][data-id]")
    team_id = page.get_attribute("[data-testid=org-notice]", "data-id")
    nested = page.locator(
        f"[data-testid=org-tree] li[data-id='{parent['id']}'] li[data-id='{team_id}']"
    )
    nested.wait_for()
    assert nested.get_attribute("data-kind") == "team"
    assert "控制台测试志愿服务队" in nested.inner_text()
    shot(page, "organisations")

    # Join: the verified volunteer joins the new team from the volunteers page.
    page.click("[data-testid=nav-volunteers]")
    page.wait_for_selector(
        f"[data-testid=team-select] option[value='{team_id}']", state="attached"
    )
    table_loaded(page)
    page.select_option("[data-testid=team-select]", team_id)
    page.locator(f"{TABLE} tr[data-id='{vol_id}'] [data-action=join]").click()
    page.wait_for_selector(f"{TABLE} tr[data-id='{vol_id}'][data-teams~='{team_id}']")

    # The page follows the language switch.
    page.click("[data-testid=lang]")
    page.wait_for_selector(f"{TABLE} tr[data-id='{vol_id}']")
    assert page.inner_text("[data-testid=nav-volunteers]") == "Volunteers"
    status = page.locator(f"{TABLE} tr[data-id='{vol_id}'] td[data-col=status]")
    assert status.inner_text() == "Verified"
