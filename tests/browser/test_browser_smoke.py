"""The browser chain end to end: Playwright drives Debian's Chromium to a page
served on localhost, clicks, reads what the page's script changed, and saves
a screenshot."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser import shot

pytestmark = pytest.mark.browser

PAGE = """<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>志愿 smoke</title></head>
<body>
  <h1>志愿服务</h1>
  <button id="go" type="button">点击</button>
  <p id="out">尚未点击</p>
  <script>
    document.getElementById("go").addEventListener("click", () => {
      document.getElementById("out").textContent = "已点击 " + navigator.language;
    });
  </script>
</body>
</html>
"""


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    """``PAGE`` served over HTTP on a free loopback port; yields its URL."""
    (tmp_path / "index.html").write_text(PAGE, encoding="utf-8")
    handler = partial(_QuietHandler, directory=str(tmp_path))
    # Port 0: the kernel picks a free port as it binds, so no other process
    # can take it between choosing and binding.
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_click_changes_text_and_screenshot_is_saved(page: Page, site: str) -> None:
    page.goto(site)
    expect(page.locator("#out")).to_have_text("尚未点击")

    page.get_by_role("button", name="点击").click()

    expect(page.locator("#out")).to_have_text("已点击 zh-CN")
    path = shot(page, "browser-smoke")
    assert path.is_file()
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert path.stat().st_size > 1000
