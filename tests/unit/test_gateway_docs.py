"""/docs (Swagger UI) and /redoc name only assets this gateway serves itself,
and those assets answer 200 with the right content type: the pages work on
a machine without the internet (no CDN, no web fonts)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from services.common.config import load
from services.gateway.app import create_app


class Links(HTMLParser):
    """Every src/href in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [v for k, v in attrs if k in ("src", "href") and v]


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(load()))  # no lifespan: nothing connects


CONTENT_TYPES = {
    ".js": "javascript",
    ".css": "text/css",
    ".png": "image/png",
}


@pytest.mark.parametrize(
    ("page", "wanted"),
    [
        ("/docs", {"swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"}),
        ("/redoc", {"redoc.standalone.js", "favicon.png"}),
    ],
)
def test_docs_pages_use_only_local_assets_and_they_are_served(
    client: TestClient, page: str, wanted: set[str]
) -> None:
    got = client.get(page)
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/html")
    html = got.text
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", html), html
    parser = Links()
    parser.feed(html)
    assert {link.rsplit("/", 1)[-1] for link in parser.found} == wanted
    assert re.search(r"""(url: |spec-url=)['"]/openapi.json['"]""", html), html
    for link in parser.found:
        assert link.startswith("/docs-assets/"), link
        asset = client.get(link)
        assert asset.status_code == 200, link
        kind = CONTENT_TYPES[link[link.rindex(".") :]]
        assert kind in asset.headers["content-type"], (link, asset.headers)
        assert len(asset.content) > 1000, link


def test_swagger_ui_does_not_ask_the_online_validator(client: TestClient) -> None:
    html = client.get("/docs").text
    assert '"validatorUrl": null' in html
    assert client.get("/docs/oauth2-redirect").status_code == 200


def test_docs_pages_are_not_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not {"/docs", "/redoc", "/docs/oauth2-redirect"} & set(paths)
