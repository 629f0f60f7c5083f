"""The insurance card of a project's detail page (headless Chromium, 390 px
wide like a phone): publishing an emergency project without cover shows the
refusal naming insurance and points at the card; the cover recorded in the
card's form (a full-width policy number comes back as ASCII) lets the
project recruit; the insurer's CSV is offered. Screenshot ``insurance``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.browser import shot
from tests.e2e.test_console_projects import api, draft
from tests.helpers import log_in, ok

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
CARD = "[data-testid=insurance-card]"


def test_publishing_without_cover_is_refused_then_allowed(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    county, province = api(base, "yanta-admin"), api(base, "sx-admin")
    project = draft(
        county, f"防汛值守-{uuid.uuid4().hex[:8]}", service_field="emergency"
    )
    pid = project["id"]
    ok(county.post(f"/projects/{pid}/submit"))
    ok(province.post(f"/projects/{pid}/approve"))

    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, base, "yanta-admin", f"/projects/{pid}")
    page.wait_for_selector(f"{CARD} [data-testid=insurance-policy][data-required=true]")
    page.click("[data-testid=project-actions] [data-action=publish]")
    message = page.locator(
        "[data-testid=project-message][data-rule='insurance.required']"
    )
    message.wait_for()
    assert message.get_attribute("data-field") == "insurance"
    assert "保险" in message.inner_text()
    page.wait_for_selector(f"{CARD}.attention")
    assert ok(county.get(f"/projects/{pid}"))["project"]["status"] == (
        "PROJECT_STATUS_APPROVED"
    )

    today = datetime.now(UTC).date()
    page.fill(f"{CARD} input[name=insurer]", "中国人民财产保险股份有限公司")
    page.fill(f"{CARD} input[name=policy_number]", "ｐｅａｃ２０２６００１")
    page.fill(f"{CARD} input[name=starts_on]", today.isoformat())
    page.fill(f"{CARD} input[name=ends_on]", (today + timedelta(days=30)).isoformat())
    page.click(f"{CARD} [data-action=save-insurance]")
    page.wait_for_selector(
        f"{CARD} [data-testid=insurance-cover] [data-col=policy_number]"
    )
    number = page.inner_text(f"{CARD} [data-col=policy_number]")
    assert number == "PEAC2026001"
    assert page.is_visible(f"{CARD} [data-testid=insurance-csv]")
    shot(page, "insurance")

    page.click("[data-testid=project-actions] [data-action=publish]")
    page.wait_for_selector(
        "[data-testid=project-status][data-status=PROJECT_STATUS_RECRUITING]"
    )
    # The card fits the phone's width: nothing wider than the viewport.
    width = page.evaluate(
        "document.querySelector('[data-testid=insurance-card]').scrollWidth"
    )
    assert width <= 390
