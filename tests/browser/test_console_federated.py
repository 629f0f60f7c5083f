"""The console's card 联邦下级平台 / Federated releases (issue 15) in headless
Chromium, on a laptop (1400x900: the card beside the headline figures) and
on a phone (390x844: below them, nothing scrolling sideways): each link with
its subtree, its last delta (relative, and the moment in China time) and a
stale badge; the federated figure under the own one; the federated rows of
the child table marked.

The release is the light upstream of :mod:`tests.integration.upstream_release`
(hours' real api over a database the upstream's applier wrote, the real
gateway app served by uvicorn), not a whole platform: the other services
are not started, so their figures show as unavailable. One link is made
quiet for an hour by moving its ``federation_links.last_delta_at`` back, the
only row written by hand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from services.common.auth import TokenIssuer
from services.common.rollup import CST
from services.common.testing import PRIVATE_PEM, free_port
from tests.browser import shot
from tests.integration.test_dashboard_federated import YEAR, county_cells
from tests.integration.upstream_release import UpstreamRelease, serve_gateway

pytestmark = [pytest.mark.integration, pytest.mark.browser]

TOKEN, _ = TokenIssuer(PRIVATE_PEM, "zhiyuan", "zhiyuan").issue(
    subject="sx-admin", username="sx-admin", scope_code="61", roles=["province_admin"]
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with UpstreamRelease.start(tmp_path_factory.mktemp("fcon")) as up:
        up.apply(
            "yanta", county_cells("610113", {"610113001": 6.5, "610113002": 3.5}, 4, 1)
        )
        up.apply("yuyang", county_cells("610802", {"610802001": 3.0}, 1.25, 1))
        with up.db.session(None) as s:
            s.execute(
                text(
                    "UPDATE federation_links SET last_delta_at ="
                    " now() - interval '1 hour' WHERE downstream = 'yuyang'"
                )
            )
        with serve_gateway(up.cfg, free_port()) as base:
            board = httpx.get(
                f"{base}/api/v1/dashboard?division_code=61&year={YEAR}",
                headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=30,
            ).json()
            yield {"base": base, "board": board}


def open_dashboard(page: Page, base: str) -> None:
    page.add_init_script(f"sessionStorage.setItem('zy.token', '{TOKEN}')")
    page.goto(f"{base}/console/#/dashboard/61")
    expect(page.get_by_test_id("federated-link").first).to_be_visible(timeout=20_000)


def check_card(page: Page, board: dict[str, Any]) -> None:
    card = page.get_by_test_id("federated")
    expect(card.locator("h3")).to_have_text("联邦下级平台")
    links = {link["downstream"]: link for link in board["federated"]["links"]}
    yanta = card.locator("[data-testid=federated-link][data-downstream=yanta]")
    expect(yanta.get_by_test_id("federated-subtree")).to_have_text("雁塔区")
    expect(yanta).to_contain_text("610113")
    last = yanta.get_by_test_id("federated-last")
    expect(last).to_have_attribute("datetime", links["yanta"]["last_delta_at"])
    # Relative ("… 秒前" / "… 分钟前" / "现在") and the moment in China time.
    expect(last).to_contain_text(str(YEAR))
    china = datetime.fromisoformat(links["yanta"]["last_delta_at"]).astimezone(CST)
    expect(last).to_contain_text(china.strftime("%H:%M"))
    assert any(w in last.inner_text() for w in ("秒", "分钟", "现在")), (
        last.inner_text()
    )
    expect(yanta.get_by_test_id("federated-fresh")).to_be_visible()
    yuyang = card.locator("[data-testid=federated-link][data-downstream=yuyang]")
    expect(yuyang).to_have_attribute("data-stale", "true")
    expect(yuyang.get_by_test_id("federated-stale")).to_have_text("同步滞后")
    expect(yuyang.get_by_test_id("federated-last")).to_contain_text("小时前")
    # The federated figures under the own ones, and the marked rows.
    expect(page.get_by_test_id("figure-hours_total")).to_have_attribute(
        "data-value", "0"
    )
    expect(page.get_by_test_id("federated-hours_total")).to_contain_text("13")
    expect(page.get_by_test_id("federated-hours_year")).to_have_attribute(
        "data-value", "5.25"
    )
    fed_rows = page.locator("[data-testid=children] tr.federated")
    expect(fed_rows).to_have_count(2)
    expect(page.locator("tr.federated[data-code='6101']")).to_have_attribute(
        "data-federated", "yanta"
    )
    expect(
        page.locator("tr.federated[data-code='6101'] [data-testid=federated-row-badge]")
    ).to_contain_text("联邦")


def test_the_card_stands_beside_the_headline_on_a_laptop(page: Page, site) -> None:  # type: ignore[no-untyped-def]
    open_dashboard(page, site["base"])
    check_card(page, site["board"])
    card = page.get_by_test_id("federated").bounding_box()
    figures = page.locator(".headline-row .figures").bounding_box()
    assert card and figures
    assert card["x"] >= figures["x"] + figures["width"] - 1  # to its right
    assert abs(card["y"] - figures["y"]) < 2
    shot(page, "console-dashboard-federated-1400")
    page.get_by_test_id("lang").click()
    expect(page.get_by_test_id("federated").locator("h3")).to_have_text(
        "Federated releases"
    )
    expect(
        page.locator("[data-downstream=yuyang] [data-testid=federated-stale]")
    ).to_have_text("Stale")
    expect(page.locator("[data-downstream=yuyang]")).to_contain_text("hour")


def test_the_card_fits_a_phone(phone_page: Page, site) -> None:  # type: ignore[no-untyped-def]
    page = phone_page
    open_dashboard(page, site["base"])
    check_card(page, site["board"])
    card = page.get_by_test_id("federated").bounding_box()
    figures = page.locator(".headline-row .figures").bounding_box()
    assert card and figures
    assert card["y"] >= figures["y"] + figures["height"] - 1  # below them
    assert card["x"] >= 0 and card["x"] + card["width"] <= 390
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    shot(page, "console-dashboard-federated-390")
    page.get_by_test_id("lang").click()
    expect(page.get_by_test_id("federated").locator("h3")).to_have_text(
        "Federated releases"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
