"""The commendation and recycling console pages in headless Chromium: a fresh
Yanta reviewer sees a nomination of a provincial round with its evidence,
is told which field a return needs, approves it and sees it leave the
queue; a county admin places a recycling bin and finds it in the list."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import httpx
import pytest

from tests.browser import shot
from tests.e2e.conftest import PASSWORD, login

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
C = "/commendation"


def ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def sign_in(page, base: str, username: str, route: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/console/#{route}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[data-testid=login-form] button[type=submit]")


def test_reviewer_works_the_nomination_queue(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    http = httpx.Client(base_url=f"{base}/api/v1", timeout=60)
    province, county = login(base, "sx-admin"), login(base, "yanta-admin")
    tag = uuid.uuid4().hex[:6]  # the platform is shared with other e2e tests
    reviewer = f"yanta-console-reviewer-{tag}"
    ok(http.post("/accounts", headers=county, json={
        "username": reviewer, "password": PASSWORD, "scope_code": "610113",
        "roles": ["reviewer"],
    }), 201)  # fmt: skip
    round_ = ok(http.post(f"{C}/rounds", headers=province, json={
        "division_code": "61", "title": f"控制台评选 {tag}", "year": 2026,
        "quota_per_child": 2,
        "deadline": (date.today() + timedelta(days=30)).isoformat(),
    }), 201)["round"]  # fmt: skip
    where = {"division_code": "610113"}
    org = ok(http.get("/organisations", headers=county, params=where))
    org = org["organisations"][0]
    vol = ok(http.get("/volunteers", headers=county, params=where))["volunteers"][0]
    nomination = ok(http.post(f"{C}/nominations", headers=county, json={
        "round_id": round_["id"], "category": "individual",
        "unit_division_code": org["division_code"], "unit_organisation_id": org["id"],
        "nominee_volunteer_id": vol["id"], "statement": "长期坚持社区助老服务。",
        "request_id": f"console-{tag}",
    }), 201)["nomination"]  # fmt: skip
    assert nomination["stage_codes"] == ["610113", "6101", "61"]
    nid = nomination["id"]

    # Straight to the page: a dashboard still loading would draw over it.
    sign_in(page, base, reviewer, "/commendation")
    page.wait_for_selector("[data-testid=who]:has-text('610113')")
    assert (
        page.get_attribute("[data-testid=nav-commendation]", "href") == "#/commendation"
    )
    page.wait_for_selector("[data-testid=round-select]")
    page.select_option("[data-testid=round-select]", round_["id"])
    row = page.locator(f"[data-testid=nomination-queue] tr[data-id='{nid}']")
    row.wait_for()
    assert nomination["nominee_name"] in row.inner_text()
    assert nomination["nominee_name"].endswith("*")  # masked
    assert (
        nomination["unit_division_code"] in row.locator("[data-col=unit]").inner_text()
    )
    evidence = nomination.get("evidence", {})
    shown = float(
        row.locator("[data-testid=evidence-hours]").get_attribute("data-value")
    )
    assert shown == pytest.approx(evidence.get("approved_hours", 0))
    activities = row.locator("[data-testid=evidence-activity]").all_inner_texts()
    assert activities == evidence.get("activities", [])
    assert row.locator("[data-testid=signal]").count() == len(
        nomination.get("signals", [])
    )

    # Returning needs a comment: the service says so, naming the field.
    row.locator("[data-action=return]").click()
    error = page.locator("[data-testid=nomination-error]")
    page.wait_for_selector("[data-testid=nomination-error][data-field=comment]")
    assert error.inner_text().startswith("审核意见：")  # the label, not the key
    shot(page, "commendation-queue")

    row.locator("[data-action=approve]").click()
    row.wait_for(state="detached")
    after = ok(http.get(f"{C}/nominations/{nid}", headers=province))["nomination"]
    assert after["current_stage_code"] == "6101"
    assert after["steps"][0]["decision"] == "DECISION_APPROVE"

    # The city and the province pass it up; the province, which opened the
    # round, starts the notice, dismisses an objection and cannot award yet.
    ok(http.post("/accounts", headers=province, json={
        "username": f"xian-console-reviewer-{tag}", "password": PASSWORD,
        "scope_code": "6101", "roles": ["reviewer"],
    }), 201)  # fmt: skip
    city = login(base, f"xian-console-reviewer-{tag}")
    for who in (city, province):
        ok(http.post(f"{C}/nominations/{nid}/review", headers=who,
                     json={"decision": "DECISION_APPROVE"}))  # fmt: skip
    page.click("[data-testid=logout]")
    sign_in(page, base, "sx-admin", f"/commendation?round={round_['id']}")
    owner = page.locator("[data-testid=round-owner]")
    owner.wait_for()
    owner.locator("[data-testid=start-notice]").click()
    page.wait_for_selector(
        "[data-testid=round-status][data-status=ROUND_STATUS_NOTICE]"
    )
    changan = login(base, "changan-admin")
    ok(http.post(f"{C}/nominations/{nid}/objections", headers=changan,
                 json={"content": "控制台测试异议"}), 201)  # fmt: skip
    page.reload()
    objection = page.locator(
        "[data-testid=objections] tr[data-status=OBJECTION_STATUS_OPEN]"
    )
    objection.wait_for()
    assert "控制台测试异议" in objection.inner_text()
    objection.locator("input[name=resolution]").fill("经核实，情况属实")
    objection.locator("[data-action=resolve]").click()
    page.wait_for_selector(
        "[data-testid=objections] tr[data-status=OBJECTION_STATUS_DISMISSED]"
    )
    page.click("[data-testid=finalize]")
    page.wait_for_selector("[data-testid=owner-error][data-rule='notice.ended']")


def test_county_admin_places_a_bin(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    code = f"E2E-CON-{uuid.uuid4().hex[:8].upper()}"
    sign_in(page, base, "yanta-admin", "/recycling")
    form = page.locator("[data-testid=bin-form]")
    form.wait_for()
    form.locator("input[name=code]").fill(code)
    form.locator("input[name=division_code]").fill("610113006")
    form.locator("input[name=address]").fill("电子城街道社区服务站旁")
    form.locator("button[type=submit]").click()
    try:
        row = page.locator(f"[data-testid=bins] tr[data-code='{code}']")
        row.wait_for()
        assert row.get_attribute("data-status") == "BIN_STATUS_DEPLOYED"
        assert "610113006" in row.inner_text()
        assert page.locator("[data-testid=bin-error]").inner_text() == ""
        shot(page, "recycling")
    finally:
        retire(base, code)


def retire(base: str, code: str) -> None:
    """Take the test's bin out of service again: the platform is shared, and
    the recycling e2e test checks the seed's 650 bins exactly."""
    county = login(base, "yanta-admin")
    http = httpx.Client(base_url=f"{base}/api/v1/recycling", timeout=30, headers=county)
    bins = http.get("/bins", params={"division_code": "610113006", "page_size": 500})
    assert bins.status_code == 200, bins.text
    for found in bins.json().get("bins", []):
        if found["code"] == code:
            done = http.post(
                f"/bins/{found['id']}/status",
                json={"status": "BIN_STATUS_RETIRED", "reason": "e2e test cleanup"},
            )
            assert done.status_code == 200, done.text
