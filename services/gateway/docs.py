"""The API's documentation pages, ``/docs`` (Swagger UI) and ``/redoc``,
served with their scripts and styles from this gateway, never from a CDN.

FastAPI's own pages load Swagger UI and ReDoc from cdn.jsdelivr.net (and
ReDoc's fonts from Google): behind a firewall, or on a machine without the
internet, they stay blank. The assets come from the ``fastapi-offline``
package (pinned in pyproject.toml), which ships ``swagger-ui-bundle.js``,
``swagger-ui.css``, ``redoc.standalone.js`` and a favicon; they are mounted
under ``/docs-assets`` and the pages name only those paths.

Example::

    app = FastAPI(docs_url=None, redoc_url=None)
    docs.install(app)   # GET /docs, /docs/oauth2-redirect, /redoc, /docs-assets/…
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"
DOCS, REDOC, OAUTH2_REDIRECT = "/docs", "/redoc", "/docs/oauth2-redirect"
# Swagger UI would otherwise ask validator.swagger.io about the document.
SWAGGER_PARAMETERS = {"validatorUrl": None}


def assets_dir() -> Path:
    """The folder of the installed package's Swagger UI and ReDoc files."""
    return Path(str(files("fastapi_offline") / "static"))


def install(app: FastAPI) -> None:
    """Mount the assets and add the two pages (not in the OpenAPI document)."""
    app.mount(ASSETS, StaticFiles(directory=assets_dir()), name="docs-assets")

    def base(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    async def swagger_ui(request: Request) -> HTMLResponse:
        root = base(request)
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} · Swagger UI",
            oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT}",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
            swagger_ui_parameters=SWAGGER_PARAMETERS,
        )

    async def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(request: Request) -> HTMLResponse:
        root = base(request)
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} · ReDoc",
            redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS}/favicon.png",
            with_google_fonts=False,
        )

    for path, endpoint in (
        (DOCS, swagger_ui),
        (OAUTH2_REDIRECT, oauth2_redirect),
        (REDOC, redoc),
    ):
        app.add_api_route(path, endpoint, include_in_schema=False)
