"""The office console on a phone (headless Chromium, 390x844, touch) and on a
laptop (1366x900): every page the navigation offers a provincial admin, plus
the logged-out login and certificate-verification pages, is opened and
photographed at both widths (``test-artifacts/screenshots/console-<page>-390.png``
and ``-1366.png``). At 390 px no page scrolls sideways, in Chinese or in
English, the title takes one or two lines, and the navigation sits behind a
menu button whose links are whole words at least 40 px tall."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser import shot
from tests.helpers import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

LAPTOP = {"width": 1366, "height": 900}
# What shows that each navigation target has finished drawing. The test
# asserts that these are exactly the navigation's links, so a page added to
# the navigation fails here until it is given a condition (and is checked).
READY = {
    "#/dashboard": "[data-testid=figure-hours_total]",
    "#/volunteers": "[data-testid=volunteers-table][data-loaded]",
    "#/organisations": "[data-testid=org-tree]",
    "#/projects": "[data-testid=projects-table][data-loaded]",
    "#/hours": "[data-testid=hours-queue], [data-testid=hours-empty]",
    "#/records": "[data-testid=records-table]",
    "#/import": "[data-testid=import-help]",
    "#/commendation": "[data-testid=rounds]",
    "#/recycling": "[data-testid=recycling-title]",
    "#/commendation/notice": "[data-testid=notice-rounds]",
    "#/training": "[data-testid=training-catalogue]",
    "#/campaigns": "[data-testid=campaigns-table] tbody tr",
    "#/transfers": "[data-testid=transfer-list] li",
    "#/positions": "[data-testid=position-list] li",
    "#/complaints": "[data-testid=complaints-queue], [data-testid=complaints-empty]",
}
# The pages one level down, reached by following the first link of their
# kind on a page already visited: (name, page it is on, link, ready).
DETAILS = [
    ("campaigns-detail", "#/campaigns",
     "[data-testid=campaigns-table] a",
     "[data-testid=campaign-chart-week]"),
    ("projects-detail", "#/projects",
     "[data-testid=projects-table] a[data-action=open]",
     "[data-testid=project-detail]"),
    ("projects-session", "projects-detail",
     "[data-testid=sessions-table] a[data-action=manage]",
     "[data-testid=attendance-table][data-loaded]"),
    ("records-detail", "#/records",
     "[data-testid=records-table] a[data-action=open]",
     "[data-testid=record-detail]"),
    ("records-volunteer", "#/records",
     "[data-testid=records-table] td[data-col=volunteer] a",
     "[data-testid=volunteer-totals]"),
    ("commendation-round", "#/commendation",
     "[data-testid=open-rounds] a", "[data-testid=round-info]"),
    ("import-hours", "#/import",
     "nav.tools a[data-kind=hours]", "section[data-kind=hours]"),
]  # fmt: skip
# Pages outside the navigation, opened logged out.
PUBLIC = {
    "#/login": "[data-testid=login-form]",
    "#/verify": "[data-testid=verify-page]",
}

# Elements sticking out past the right edge of the window (what scrolls).
OVERFLOW = """width => {
  const out = [];
  for (const node of document.querySelectorAll("body *")) {
    const box = node.getBoundingClientRect();
    if (box.width && box.right > width + 1) {
      const id = node.dataset.testid ? `[data-testid=${node.dataset.testid}]` : "";
      const cls = typeof node.className === "string" && node.className
        ? `.${node.className.trim().split(/\\s+/).join(".")}` : "";
      out.push(`${node.tagName.toLowerCase()}${id}${cls}:${Math.round(box.right)}`);
    }
  }
  return {
    scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
    culprits: out.slice(0, 6),
  };
}"""
# The rendered lines of an element's text (distinct tops of its line boxes).
LINES = """node => {
  const range = document.createRange();
  range.selectNodeContents(node);
  return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
}"""
# Buttons that wrap, and links of one unspaced word (a volunteer number)
# broken across lines.
BROKEN = """() => {
  const lines = (node) => {
    const range = document.createRange();
    range.selectNodeContents(node);
    const boxes = [...range.getClientRects()].filter((r) => r.width);
    return new Set(boxes.map((r) => Math.round(r.top))).size;
  };
  const out = [];
  for (const node of document.querySelectorAll("button, a")) {
    const text = node.textContent.trim();
    if (!node.getClientRects().length || !text || lines(node) < 2) continue;
    const word = !/\\s/.test(text) && !/[\\u3000-\\u9fff\\uff00-\\uffef]/.test(text);
    if (node.tagName === "BUTTON" || word) out.push(`${node.tagName} ${text}`);
  }
  return out.slice(0, 6);
}"""
TITLE = "header.bar [data-i18n=title]"


def name(route: str) -> str:
    """``#/commendation/notice`` -> ``commendation-notice``."""
    return route.removeprefix("#/").replace("/", "-")


def nav_routes(page: Page) -> set[str]:
    """The routes the navigation offers the logged-in user (role-hidden
    links left out; read from the DOM, whether or not the menu is open)."""
    page.wait_for_selector("nav.links:not([hidden])", state="attached")
    return set(
        page.eval_on_selector_all(
            "nav.links a[href]:not([hidden])", "links => links.map(a => a.hash)"
        )
    )


def open_route(page: Page, base: str, route: str, ready: str) -> None:
    """Open ``route`` and wait for ``ready``, never found on the page before
    (pages share parts: the notices card is on two of them)."""
    url = f"{base}/console/{route}"
    page.evaluate("document.getElementById('view')?.replaceChildren()")
    if page.url == url:  # the same hash again changes nothing: load it anew
        page.reload()
    else:
        page.goto(url)
    page.wait_for_selector(ready, state="attached")


def problems(page: Page, route: str, width: int) -> list[str]:
    """What is wrong with the page on show at ``width``: a sideways scroll, a
    button or a one-word link on two lines, a title taller than two lines."""
    found = []
    seen = page.evaluate(OVERFLOW, width)
    # A phone zooms a page wider than itself out to fit, and innerWidth
    # grows with it: the window must still be the device's width.
    if max(seen["scroll"], seen["inner"]) > width + 1:
        found.append(
            f"{route} at {width}px scrolls sideways: {seen['scroll']} wide, "
            f"window {seen['inner']} ({', '.join(seen['culprits'])})"
        )
    broken = page.evaluate(BROKEN)
    if broken:
        found.append(f"{route} at {width}px breaks {', '.join(broken)}")
    title = page.locator(TITLE)
    lines = title.evaluate(LINES)
    if not 1 <= lines <= 2:
        found.append(f"{route} at {width}px: the title takes {lines} lines")
    return found


def visit_all(page: Page, base: str, width: int, suffix: str = "") -> list[str]:
    """Open every page (navigation's and public), photograph each and return
    what is wrong with any of them."""
    found: list[str] = []
    log_in(page, base, "sx-admin")
    routes = nav_routes(page)
    assert routes == set(READY), "the navigation's pages are the ones visited"
    for route, ready in READY.items():
        open_route(page, base, route, ready)
        shot(page, f"console-{name(route)}-{width}{suffix}")
        found += problems(page, route, width)
    opened = {route: (route, ready) for route, ready in READY.items()}
    for detail, parent, link, ready in DETAILS:
        open_route(page, base, *opened[parent])
        route = page.locator(link).first.get_attribute("href")
        assert route, f"{parent} has no link {link}"
        opened[detail] = (route, ready)
        open_route(page, base, route, ready)
        shot(page, f"console-{detail}-{width}{suffix}")
        found += problems(page, route, width)
    if width <= 640:  # log out is in the phone's menu
        page.click("[data-testid=menu]")
    page.click("[data-testid=logout]")
    page.wait_for_selector("[data-testid=login-form]")
    for route, ready in PUBLIC.items():
        open_route(page, base, route, ready)
        shot(page, f"console-{name(route)}-{width}{suffix}")
        found += problems(page, route, width)
    return found


def test_every_page_fits_a_phone_in_both_languages(platform, phone_page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    phone = phone_page
    found = visit_all(phone, base, 390)
    phone.click("[data-testid=lang]")
    phone.wait_for_function("document.documentElement.lang === 'en-GB'")
    found += visit_all(phone, base, 390, "-en")
    assert not found, "\n".join(found)


def test_every_page_at_laptop_width(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    laptop = page
    laptop.set_viewport_size(LAPTOP)
    found = visit_all(laptop, base, 1366)
    assert not found, "\n".join(found)
    # The whole navigation is in the bar; no menu button.
    log_in(laptop, base, "sx-admin")
    assert laptop.locator("nav.links a:not([hidden])").count() == len(READY)
    for link in laptop.locator("nav.links a:not([hidden])").all():
        assert link.is_visible()
    assert not laptop.locator("[data-testid=menu]").is_visible()


def test_the_phone_navigation_is_a_menu_of_whole_words(platform, phone_page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    phone = phone_page
    log_in(phone, base, "sx-admin")
    menu = phone.locator("[data-testid=menu]")
    links = phone.locator("nav.links a:not([hidden])")
    folded = [links.first, phone.locator("[data-testid=who]"), phone.locator("#logout")]
    for language in ("zh-CN", "en-GB"):
        if phone.evaluate("document.documentElement.lang") != language:
            phone.tap("[data-testid=lang]")
            phone.wait_for_function(
                "lang => document.documentElement.lang === lang", arg=language
            )
        assert menu.get_attribute("aria-expanded") == "false"
        assert not any(part.is_visible() for part in folded), language
        menu.tap()
        assert menu.get_attribute("aria-expanded") == "true"
        assert all(part.is_visible() for part in folded), language
        assert links.count() == len(READY)
        shot(phone, f"console-menu-390{'' if language == 'zh-CN' else '-en'}")
        for control in [*links.all(), *phone.locator("header.bar button").all()]:
            label = control.inner_text()
            box = control.bounding_box()
            assert box is not None and box["height"] >= 40, (language, label, box)
            assert box["x"] >= 0 and box["x"] + box["width"] <= 391, (label, box)
            assert control.evaluate(LINES) == 1, f"{label!r} breaks across lines"
        menu.tap()  # the button folds what it opened
        assert menu.get_attribute("aria-expanded") == "false"
        assert not links.first.is_visible()
        # A link taken folds the menu on the page it opened.
        menu.tap()
        phone.tap("[data-testid=nav-projects]")
        phone.wait_for_selector(READY["#/projects"], state="attached")
        assert menu.get_attribute("aria-expanded") == "false"
        assert not any(part.is_visible() for part in folded), language
