"""A resident's phone pages at ``/m/`` in headless Chromium on a phone
(390x844, touch), against the platform as `make run` starts it (issue 13).

A pickup: the resident books one on the form (an error first, under the
field's label) → the office assigns and collects it through the API → the
phone shows it collected with the weight. The award notice: a county round
goes on public notice → the resident in a township of the county finds it
among the rounds of its area, reads the notice and files an objection (an
empty one refused by its label), which the office then sees on the
nomination.

Every page is photographed at 390 and 1366 px
(``test-artifacts/screenshots/mobile-<page>-390.png`` and ``-1366.png``);
at 390 px none scrolls sideways and every control is at least 40 px tall."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Page

from services.common.rollup import CST
from tests.e2e.conftest import login
from tests.e2e.test_commendation_flow import account
from tests.e2e.test_mobile_pages import COUNTY, photograph, registered, sign_in
from tests.helpers import new_phone, ok

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ADDRESS = "陕西省西安市雁塔区电视塔街道雁翔路88号2号楼1单元302室"


def tomorrow_at(hour: int) -> str:
    """A datetime-local value: tomorrow at ``hour`` o'clock, China time."""
    day = (datetime.now(CST) + timedelta(days=1)).date()
    return f"{day.isoformat()}T{hour:02d}:00"


def error_under(page: Page, field: str) -> str:
    node = page.locator(f"[data-testid=error-{field}]")
    node.wait_for(state="visible")
    return node.inner_text()


def test_a_residents_pickup_on_the_phone(platform, phone_page: Page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    page = phone_page
    http = httpx.Client(base_url=f"{base}/api/v1", timeout=30)
    county = login(base, "yanta-admin")
    number, _own = registered(base, http, county, "周居民")

    sign_in(page, base, number, "/bookings")
    page.wait_for_selector("[data-testid=no-bookings]")
    assert page.get_attribute("[data-testid=tab-resident]", "aria-current") == "page"
    photograph(page, "bookings-empty")

    # The form: an estimate of 0 is refused under its label, nothing booked.
    page.click("[data-testid=to-book]")
    page.wait_for_selector("[data-testid=book-form]")
    photograph(page, "book")
    page.click("[data-testid=book-submit]")
    assert error_under(page, "contact_name").startswith("联系人：")
    phone = new_phone()
    for name, value in (
        ("contact_name", "周秀英"),
        ("contact_phone", phone),
        ("address", ADDRESS),
        ("window_start", tomorrow_at(9)),
        ("window_end", tomorrow_at(11)),
        ("items", "旧衣物两袋，旧书一箱"),
        ("estimated_kg", "0"),
    ):
        page.fill(f"[data-testid=book-{name}]", value)
    page.click("[data-testid=book-submit]")
    assert error_under(page, "estimated_kg") == "预估重量（千克）：须大于 0 千克"
    assert page.locator("[data-testid=error-contact_name]").is_hidden()
    page.fill("[data-testid=book-estimated_kg]", "12.5")
    page.click("[data-testid=book-submit]")
    page.wait_for_selector("[data-testid=booked]")
    item = page.locator("[data-testid=booking]")
    assert item.count() == 1
    booking_id = item.get_attribute("data-id")
    status = item.locator("[data-testid=booking-status]")
    assert status.get_attribute("data-status") == "BOOKING_STATUS_REQUESTED"
    shown = item.inner_text()
    assert "预估：12.5 千克" in shown and "旧衣物两袋" in shown
    assert ADDRESS not in shown and phone not in shown  # masked

    # The office takes it and collects it, through the API.
    queued = ok(
        http.get(
            "/recycling/bookings",
            headers=county,
            params={"status": "BOOKING_STATUS_REQUESTED", "page_size": 500},
        )
    )["bookings"]
    assert booking_id in {b["id"] for b in queued}
    ok(
        http.post(
            f"/recycling/bookings/{booking_id}/assign",
            headers=county,
            json={"organisation_name": "电视塔街道爱为宝回收队"},
        )
    )
    page.goto(f"{base}/m/#/bookings")
    page.wait_for_selector(
        "[data-testid=booking-status][data-status=BOOKING_STATUS_ASSIGNED]"
    )
    assert "电视塔街道爱为宝回收队" in page.inner_text("[data-testid=booking]")
    ok(
        http.post(
            f"/recycling/bookings/{booking_id}/collect",
            headers=county,
            json={"weights": {"textiles_kg": 9.5, "books_kg": 3}},
        )
    )

    # The phone shows it collected, with the weight.
    page.reload()
    page.wait_for_selector(
        "[data-testid=booking-status][data-status=BOOKING_STATUS_COLLECTED]"
    )
    assert page.inner_text("[data-testid=booking-weight]") == "回收重量：12.5 千克"
    done = page.locator("[data-testid=booking-status] li.done")
    assert done.count() == 3
    photograph(page, "bookings")

    # In English too.
    page.click("#lang")
    page.wait_for_selector("[data-testid=booking-weight]:text('Collected: 12.5 kg')")
    photograph(page, "bookings-en")


def county_round_on_notice(base: str, http: httpx.Client, county: dict) -> tuple:
    """A county round with one nomination on public notice: (round, nomination)."""
    tag = uuid.uuid4().hex[:6]  # the platform is shared with other e2e tests
    reviewer = account(http, county, f"yanta-rev-m-{tag}", COUNTY, "reviewer")
    c = "/commendation"
    rid = ok(
        http.post(
            f"{c}/rounds",
            headers=county,
            json={
                "division_code": COUNTY,
                "title": f"雁塔区优秀志愿者推选（{tag}）",
                "year": date.today().year,
                "quota_per_child": 1,
                "deadline": (date.today() + timedelta(days=30)).isoformat(),
            },
        ),
        201,
    )["round"]["id"]
    where = {"division_code": COUNTY}
    org = ok(http.get("/organisations", headers=county, params=where))
    org = next(o for o in org["organisations"] if o["division_code"] == COUNTY)
    vols = ok(http.get("/volunteers", headers=county, params=where))["volunteers"]
    nid = ok(
        http.post(
            f"{c}/nominations",
            headers=county,
            json={
                "round_id": rid,
                "category": "individual",
                "unit_division_code": org["division_code"],
                "unit_organisation_id": org["id"],
                "nominee_volunteer_id": vols[0]["id"],
                "statement": "常年坚持社区助老服务，带动邻里参与志愿服务。",
                "request_id": f"m-{tag}",
            },
        ),
        201,
    )["nomination"]["id"]
    ok(
        http.post(
            f"{c}/nominations/{nid}/review",
            headers=reviewer,
            json={"decision": "DECISION_APPROVE", "comment": "同意"},
        )
    )
    ok(http.post(f"{c}/rounds/{rid}/notice", headers=county))
    return rid, nid


def test_the_award_notice_and_an_objection_on_the_phone(
    platform, phone_page: Page
) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    page = phone_page
    http = httpx.Client(base_url=f"{base}/api/v1", timeout=30)
    county = login(base, "yanta-admin")
    rid, nid = county_round_on_notice(base, http, county)
    number, _own = registered(base, http, county, "吴居民")

    # The rounds of the resident's area: the county's, on notice.
    sign_in(page, base, number, "/bookings")
    page.click("[data-testid=to-notices]")
    row = page.locator(f"[data-testid=round][data-id='{rid}']")
    row.wait_for()
    assert row.get_attribute("data-status") == "ROUND_STATUS_NOTICE"
    photograph(page, "notices")

    row.locator("[data-testid=open-notice]").click()
    entry = page.locator(f"[data-testid=notice-entry][data-id='{nid}']")
    entry.wait_for()
    assert "常年坚持社区助老服务" in entry.inner_text()
    assert entry.locator("[data-testid=nominee]").inner_text().endswith("*")
    photograph(page, "notice")

    # An empty objection is refused by its label; a real one is filed.
    entry.locator("[data-testid=objection-open]").click()
    entry.locator("[data-testid=objection-submit]").click()
    assert error_under(page, "content").startswith("异议内容：")
    entry.locator("[data-testid=objection-content]").fill(
        "据我所知其服务时长与公示不符，请核实。"
    )
    photograph(page, "objection")
    entry.locator("[data-testid=objection-submit]").click()
    entry.locator("[data-testid=objection-sent]").wait_for()

    # The office sees it on the nomination.
    got = ok(http.get(f"/commendation/nominations/{nid}", headers=county))
    (objection,) = got["objections"]
    assert objection["content"] == "据我所知其服务时长与公示不符，请核实。"
    assert objection["status"] == "OBJECTION_STATUS_OPEN"
