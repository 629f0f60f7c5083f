"""Tests in a real headless Chromium: Debian's /usr/bin/chromium (installed by
``make browser``) driven by Playwright. Fixtures are in ``conftest.py``;
``shot`` saves a screenshot under ``test-artifacts/screenshots/``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
# Test ids carry brackets, slashes and spaces from parametrisation.
_UNSAFE = re.compile(r"[^\w.-]+")


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as ``test-artifacts/screenshots/<name>.png``.

    Example: ``path = shot(page, "console-login")``
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / (_UNSAFE.sub("_", name) + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path
