"""The console in headless Chromium (Debian's package, driven by
Playwright) against the running platform: a provincial admin logs in, the
dashboard's figures equal the services' rollups read over gRPC, a row
drills down to a city and a county and the breadcrumb climbs back; a county
admin who types a URL outside their scope gets the 403 page, never data.
Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import pytest

from tests.browser import shot
from tests.e2e.conftest import PASSWORD, login
from tests.e2e.test_console_api import expected_figures
from tests.helpers import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def figure(page, name: str) -> float:  # type: ignore[no-untyped-def]
    return float(page.get_attribute(f"[data-testid=figure-{name}]", "data-value"))


def test_provincial_dashboard_drill_down_and_back(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, env, _ = platform
    log_in(page, base, "sx-admin")
    page.wait_for_selector("[data-testid=figure-hours_total]")
    want = expected_figures(env, login(base, "sx-admin"), "61")
    for name, value in want.items():
        assert figure(page, name) == pytest.approx(value, abs=0.001), name
    assert page.locator("[data-testid=children] tbody tr").count() >= 10  # Shaanxi
    # A chart with data draws bars whose values are the figures; one without
    # says so instead of an empty frame.
    bars = page.locator("[data-testid=chart-tonnes-by-child] svg rect")
    values = [
        float(bars.nth(i).get_attribute("data-value")) for i in range(bars.count())
    ]
    assert sum(values) == pytest.approx(figure(page, "tonnes"), abs=0.01)
    for chart in ("hours-by-month", "hours-by-field", "stars"):
        box = page.locator(f"[data-testid=chart-{chart}]")
        assert box.locator("svg").count() + box.locator("[data-empty]").count() == 1
    shot(page, "dashboard-province")

    page.click("[data-testid=children] tr[data-code='6101']")
    page.wait_for_selector("[data-testid=breadcrumb] a[data-code='6101']")
    assert figure(page, "tonnes") == pytest.approx(
        expected_figures(env, login(base, "sx-admin"), "6101")["tonnes"], abs=0.001
    )
    page.click("[data-testid=children] tr[data-code='610113']")
    page.wait_for_selector("[data-testid=breadcrumb] a[data-code='610113']")
    assert "雁塔区" in page.inner_text("[data-testid=node-name]")
    shot(page, "dashboard-county")
    page.click("[data-testid=breadcrumb] a[data-code='61']")
    page.wait_for_selector("[data-testid=children] tr[data-code='6101']")
    assert page.locator("[data-testid=breadcrumb] a").count() == 1

    page.click("[data-testid=lang]")  # English, numbers formatted for the locale
    page.wait_for_selector("text=Registered volunteers")
    assert page.get_attribute("html", "lang") == "en-GB"


def test_a_url_outside_the_scope_gets_the_403_page(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    log_in(page, base, "yanta-admin", "/dashboard/6102")
    page.wait_for_selector("[data-testid=denied]")
    assert "403" in page.inner_text("[data-testid=denied]")
    assert page.locator("[data-testid^=figure-]").count() == 0
    shot(page, "dashboard-denied")
    page.click("[data-testid=denied] a")
    page.wait_for_selector("[data-testid=breadcrumb] a[data-code='610113']")


def test_an_expired_session_returns_to_login_and_back(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    log_in(page, base, "sx-admin", "/dashboard/6101")
    page.wait_for_selector("[data-testid=breadcrumb] a[data-code='6101']")
    # The token goes stale (as it would at expiry): the next call is a 401.
    page.evaluate("sessionStorage.setItem('zy.token', 'expired.token.value')")
    page.click("[data-testid=breadcrumb] a[data-code='61']")
    page.wait_for_selector("[data-testid=login-error]:has-text('登录已过期')")
    page.fill("input[name=username]", "sx-admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[data-testid=login-form] button[type=submit]")
    page.wait_for_selector("[data-testid=children] tr[data-code='6101']")
