"""Browser fixtures, loaded for the whole suite by ``tests/conftest.py`` (one
definition, so every tier shares the one browser): one headless Debian
Chromium per session and a fresh
context per test: ``page`` (zh-CN, 1400x900) or ``phone_page`` (zh-CN,
390x844, mobile, touch). A failing test leaves a screenshot at
``test-artifacts/screenshots/<test name>-failure.png``.

Chromium missing fails the test with the command that installs it; it never
skips, so the suite cannot pass without having driven a browser.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from tests.browser import shot

CHROMIUM = "/usr/bin/chromium"
# As root Chromium needs --no-sandbox; the rest keep it off the network (only
# the package registries are reachable here) and quiet at start-up.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, for the whole session."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is needed by the browser tests and is missing: "
            "run `make browser` (installs Debian's chromium)\n"
            f"浏览器测试需要 {CHROMIUM}，请先运行 `make browser`",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


# A phone's screen, as the issue-13 pages are tested on.
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
}


@pytest.fixture
def page(chromium: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a new browser context (no cookies or storage from other tests);
    if the test fails, its last state is saved as
    ``test-artifacts/screenshots/<test name>-failure.png``."""
    yield from _page(chromium, request, viewport={"width": 1400, "height": 900})


@pytest.fixture
def phone_page(chromium: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """Like ``page``, on a phone: 390x844, mobile (the page's meta viewport
    applies), touch."""
    yield from _page(chromium, request, **PHONE)


def _page(
    chromium: Browser, request: pytest.FixtureRequest, **options: Any
) -> Iterator[Page]:
    # The session counts failed reports as they are logged: a rise between this
    # fixture's setup and its teardown is this test's failure. Unlike a
    # makereport hook, which pytest calls only for tests under this folder,
    # this works wherever the fixture is used (tests/e2e imports it).
    failed_before = request.session.testsfailed
    context = chromium.new_context(locale="zh-CN", **options)
    try:
        page = context.new_page()
        yield page
        if request.session.testsfailed > failed_before and not page.is_closed():
            # A page that died with the test has no picture; the failure says why.
            with contextlib.suppress(PlaywrightError):
                shot(page, f"{request.node.name}-failure")
    finally:
        context.close()
