"""A county admin approves an hour record in the console (headless
Chromium) and the dashboard's service hours move by exactly that record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.common.divisions import name_of
from tests.browser import shot
from tests.e2e.conftest import PASSWORD, login
from tests.helpers import new_id_number, new_phone, ok

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
TOWN = "610113006"


def pending_record(base: str, county: dict) -> dict:
    http = httpx.Client(base_url=f"{base}/api/v1", timeout=30, headers=county)
    vol = ok(http.post("/volunteers", json={
        "name": "赵时长", "id_number": new_id_number("610113"), "phone": new_phone(),
        "home_division_code": TOWN, "service_fields": ["elderly_care"],
    }), 201)["volunteer"]  # fmt: skip
    ok(http.post(f"/volunteers/{vol['id']}/verify"))
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    return ok(http.post("/hours/honour", json={
        "volunteer_id": vol["id"], "division_code": TOWN,
        "organisation_name": "雁塔区志愿者协会", "service_field": "elderly_care",
        "content": "社区助老（控制台审核）", "session_start": start.isoformat(),
        "session_end": (start + timedelta(hours=2)).isoformat(), "hours": 1.75,
        "reason": "纸质签到表补录",
    }), 201)["record"]  # fmt: skip


def hours_total(page) -> float:  # type: ignore[no-untyped-def]
    page.wait_for_selector("[data-testid=figure-hours_total]")
    return float(page.get_attribute("[data-testid=figure-hours_total]", "data-value"))


def test_approving_a_record_moves_the_dashboard(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    record = pending_record(base, login(base, "yanta-admin"))
    page.goto(f"{base}/console/#/dashboard")
    page.fill("input[name=username]", "yanta-admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[data-testid=login-form] button[type=submit]")
    before = hours_total(page)
    asked: list[str] = []  # registration's volunteer reads from here on
    page.on(
        "request",
        lambda r: asked.append(r.url) if "/api/v1/volunteers" in r.url else None,
    )

    page.click("[data-testid=nav-hours]")
    row = page.locator(f"[data-testid=hours-queue] tr[data-id='{record['id']}']")
    row.wait_for()
    assert "社区助老（控制台审核）" in row.inner_text()
    # The volunteer and the division by name, not only by number and code.
    volunteer = row.locator("[data-col=volunteer]").inner_text()
    assert record["volunteer_number"] in volunteer and "赵*" in volunteer
    # The page's names came in one call, not one per volunteer.
    assert [u for u in asked if "/api/v1/volunteers?" in u] == asked
    assert len(asked) == 1 and f"ids={record['volunteer_id']}" in asked[0]
    assert row.locator("[data-col=division]").inner_text() == f"{TOWN} {name_of(TOWN)}"
    shot(page, "hours-queue")
    row.locator("[data-action=approve]").click()
    row.wait_for(state="detached")

    page.goto(f"{base}/console/#/dashboard")
    page.wait_for_function(
        "want => Math.abs(Number(document.querySelector("
        "'[data-testid=figure-hours_total]')?.dataset.value) - want) < 0.005",
        arg=before + 1.75,
    )
    assert hours_total(page) == pytest.approx(before + 1.75)
    shot(page, "dashboard-after-approval")
