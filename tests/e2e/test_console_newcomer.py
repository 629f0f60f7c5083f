"""What a newcomer met in the console (issue 12), in headless Chromium: the
login page carries no navigation and the console has a favicon; a division
is picked from the tree (on a phone's width) instead of typed as a code; a
township's dashboard says it has no units below; a completed project says
its check-in is over; the recycling page's lists scroll inside their cards.
Screenshots ``division-picker-phone`` and ``recycling-sections`` are kept."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.common.divisions import name_of
from tests.browser import shot
from tests.e2e.conftest import login
from tests.helpers import log_in, ok

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
COUNTY, TOWN, OTHER_TOWN = "610113", "610113006", "610113002"
PHONE = {"width": 390, "height": 844}


def api(base: str, user: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{base}/api/v1", timeout=30, headers=login(base, user)
    )


def shown_links(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The navigation links a user can see (laid out, not hidden)."""
    return page.locator("nav.links a").evaluate_all(
        "links => links.filter((a) => a.getClientRects().length)"
        ".map((a) => a.getAttribute('href'))"
    )


def test_login_page_has_no_navigation_and_the_console_a_favicon(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    page.goto(f"{base}/console/")
    page.wait_for_selector("[data-testid=login-form]")
    assert shown_links(page) == []

    icon = page.get_attribute("link[rel=icon]", "href")
    got = httpx.get(f"{base}/console/{icon}", timeout=30)
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("image/svg+xml")
    assert got.text.lstrip().startswith("<svg")

    log_in(page, base, "yanta-admin")
    page.wait_for_selector("[data-testid=nav-volunteers]", state="visible")
    assert "#/volunteers" in shown_links(page)
    page.click("[data-testid=logout]")
    page.wait_for_selector("[data-testid=login-form]")
    assert shown_links(page) == []


def test_division_picker_picks_a_township_on_a_phone(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    county = api(base, "yanta-admin")
    page.set_viewport_size(PHONE)
    log_in(page, base, "yanta-admin", "/organisations")
    picker = "[data-testid=org-division-picker]"
    code = f"{picker} input[name=division_code]"
    township = f"{picker} select[data-level=township]"
    page.wait_for_selector(f"{township} option[value='{TOWN}']", state="attached")
    # The county's townships by name, under the county admin's scope.
    assert page.locator(f"{township} option[value='{TOWN}']").inner_text() == (
        name_of(TOWN)
    )
    assert page.input_value(code) == COUNTY

    page.select_option(township, TOWN)
    assert page.input_value(code) == TOWN
    # Within a phone's width: nothing to scroll sideways to reach it.
    box = page.locator(township).bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    shot(page, "division-picker-phone")

    # A code typed (or pasted) moves the picker to it.
    page.fill(code, OTHER_TOWN)
    page.locator(code).dispatch_event("change")
    page.wait_for_function(
        "([s, v]) => document.querySelector(s)?.value === v",
        arg=[township, OTHER_TOWN],
    )
    page.select_option(township, TOWN)

    name = f"新人测试队-{uuid.uuid4().hex[:8]}"
    page.fill("[data-testid=org-name]", name)
    page.click("[data-testid=org-submit]")
    page.wait_for_selector("[data-testid=org-notice][data-id]", state="attached")
    made = page.get_attribute("[data-testid=org-notice]", "data-id")
    got = ok(county.get(f"/organisations/{made}"))["organisation"]
    assert (got["name"], got["division_code"]) == (name, TOWN)


def test_a_township_dashboard_says_it_has_no_units_below(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    log_in(page, base, "yanta-admin", f"/dashboard/{TOWN}")
    empty = page.locator("[data-testid=children-empty]")
    empty.wait_for()
    assert empty.inner_text() == "该区划下暂无下级单位"
    assert page.locator("[data-testid=children]").count() == 0


def test_a_completed_project_says_check_in_is_over(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    county, province = api(base, "yanta-admin"), api(base, "sx-admin")
    orgs = ok(county.get("/organisations", params={"division_code": COUNTY}))
    org = next(
        o
        for o in orgs["organisations"]
        if o["division_code"] == COUNTY and not o["parent_id"]
    )
    now = datetime.now(UTC).replace(microsecond=0)
    project = ok(
        county.post(
            "/projects",
            json={
                "organisation_id": org["id"],
                "title": f"结项签到提示-{uuid.uuid4().hex[:8]}",
                "place": "雁塔区电视塔社区",
                "description": "",
                "service_field": "elderly_care",
                "kind": "PROJECT_KIND_SERVICE",
                "sessions": [
                    {
                        "starts_at": (now - timedelta(minutes=30)).isoformat(),
                        "ends_at": (now + timedelta(hours=1)).isoformat(),
                        "capacity": 3,
                    }
                ],
                "recruit_starts_at": (now - timedelta(hours=1)).isoformat(),
                "recruit_ends_at": (now + timedelta(minutes=30)).isoformat(),
            },
        ),
        201,
    )["project"]
    pid, sid = project["id"], project["sessions"][0]["id"]
    for step, http in (
        ("submit", county), ("approve", province), ("publish", county),
        ("start", county), ("complete", county),
    ):  # fmt: skip
        ok(http.post(f"/projects/{pid}/{step}"))

    log_in(page, base, "yanta-admin", f"/projects/{pid}?session={sid}")
    hidden = page.locator(
        f"[data-testid=session-panel][data-id='{sid}'] [data-testid=checkin-hidden]"
    )
    hidden.wait_for()
    assert hidden.get_attribute("data-why") == "codeEnded"
    assert hidden.inner_text() == "项目已结项，签到已结束"


def test_recycling_lists_scroll_inside_their_cards(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    log_in(page, base, "yanta-admin", f"/recycling?division={OTHER_TOWN}")
    page.wait_for_selector("[data-testid=bins] tbody tr", state="attached")
    sizes = page.evaluate(
        """() => {
          const box = document.querySelector('[data-testid=bins-box]');
          const last = box.querySelector('thead th:last-child');
          box.scrollLeft = box.scrollWidth;
          const cell = last.getBoundingClientRect();
          const frame = box.getBoundingClientRect();
          return {
            page: document.scrollingElement.scrollHeight, box: box.clientHeight,
            rows: box.querySelectorAll('tbody tr').length, listed: box.scrollHeight,
            inside: cell.right <= frame.right + 1 && cell.left >= frame.left - 1,
            viewport: window.innerWidth, frameRight: frame.right,
          };
        }"""
    )
    # The bins list is taller than its box: it scrolls inside its card, and
    # its last (actions) column is reachable by scrolling the box sideways.
    assert sizes["rows"] > 0
    assert sizes["box"] <= 0.65 * 900 + 1
    assert sizes["inside"], sizes
    assert sizes["frameRight"] <= sizes["viewport"]
    # Every part is one tap away: the nav names all four.
    parts = page.locator("[data-testid=recycling-parts] button")
    assert parts.count() == 4
    parts.nth(3).click()
    page.wait_for_function(
        "() => { const top = document.querySelector('[data-testid=bookings-section]')"
        ".getBoundingClientRect().top; return top >= 0 && top < window.innerHeight; }"
    )
    shot(page, "recycling-sections")
