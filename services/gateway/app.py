"""The gateway process: HTTP/JSON (OpenAPI) over the services' gRPC APIs.

It holds no domain data. Each request's bearer token is verified here (401
before any gRPC call) and then forwarded unchanged, so every service applies
the caller's own scope; every call has the configured deadline.

Example::

    from services.common import config
    from services.gateway.app import serve
    serve(config.load())          # listens on gateway.listen

or ``python -m services.gateway``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.telemetry import TelemetryConfig

from services.common import keys, metrics, telemetry
from services.common.auth import TokenVerifier
from services.common.config import Config
from services.gateway import (
    api_commendation,
    api_dashboard,
    api_imports,
    api_records,
    api_recycling,
    api_registry,
    api_roles,
    api_services,
    api_statistics,
    dashboard_federated,
    docs,
    errors,
    me,
)
from services.gateway.access_log import AccessLog
from services.gateway.backend import Backend, connect
from services.gateway.errors import ErrorBody

DESCRIPTION = """\
Zhiyuan (志愿) volunteer-service administration: divisions, organisations and
teams, real-name volunteers, statistics.

志愿服务管理平台：行政区划、组织与队伍、实名注册志愿者、统计汇总。

Authenticate with `POST /api/v1/login`, then send
`Authorization: Bearer <access_token>`; you see only your jurisdiction.
登录后在请求头携带令牌，只能访问本辖区数据。

Every error is `{"error": {code, message_en, message_zh, field?, rule?}}`.
错误均以中英文返回，并指明出错字段与规则。
"""
TAGS = [
    {"name": "identity", "description": "Login, accounts / 登录与账号"},
    {"name": "divisions", "description": "The division tree / 行政区划"},
    {"name": "organisations", "description": "Organisations, teams / 组织与队伍"},
    {"name": "volunteers", "description": "Registration, review / 志愿者注册审核"},
    {"name": "transfers", "description": "Transfers between regions / 转移接续"},
    {"name": "statistics", "description": "Rollups, activity feed / 统计与动态"},
    {"name": "projects", "description": "Projects and their review / 项目与审核"},
    {"name": "sign-ups", "description": "Recruiting / 报名"},
    {"name": "attendance", "description": "Check-in and check-out / 签到签退"},
    {"name": "pairing", "description": "Pairing for help / 结对帮扶"},
    {"name": "campaigns", "description": "Special campaigns / 专项行动"},
    {"name": "hours", "description": "Service hours / 服务时长"},
    {"name": "certificates", "description": "Certificates / 志愿服务证明"},
    {"name": "time bank", "description": "Time bank / 时间银行"},
    {"name": "records", "description": "National record format / 全国志愿服务记录交换"},
    {"name": "recycling", "description": "Bins, collections, drives / 爱为宝回收"},
    {"name": "health", "description": "Liveness and readiness / 健康检查"},
]
UNTRACED = frozenset({"/healthz", "/readyz"})
# FastAPI's native OpenTelemetry: a SERVER span per request, child of the
# caller's traceparent, parent of the aio interceptor's gRPC client spans
# (no operation spans in between), plus http.server.* metrics. Its log
# records are off: they would carry validation inputs (personal data).
TELEMETRY: TelemetryConfig = {
    "exclude": lambda scope: scope.get("path") in UNTRACED,
    "operation_spans": False,
    "logs": False,
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in [
        (400, "Invalid argument / 参数错误"),
        (401, "Not authenticated / 未登录"),
        (403, "Outside your scope or role / 无权限"),
        (404, "Not found / 不存在"),
        (409, "Conflict or illegal state / 冲突或状态不允许"),
        (503, "Service unavailable / 服务不可用"),
        (504, "Service timed out / 服务超时"),
    ]
}


def create_app(
    cfg: Config,
    *,
    backend: Backend | None = None,
    verifier: TokenVerifier | None = None,
) -> FastAPI:
    """The FastAPI app. Nothing connects until the lifespan starts; tests may
    pass a ``backend`` of fake stubs and a ``verifier``."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.verifier = verifier or keys.verifier(cfg)
        app.state.backend = backend or connect(cfg)
        try:
            yield
        finally:
            close = app.state.backend.close
            if close is not None:
                await close()

    app = FastAPI(
        title="Zhiyuan API / 志愿服务管理平台接口",
        version="1.0.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        telemetry=TELEMETRY,
        docs_url=None,  # docs.install serves them from local assets, no CDN
        redoc_url=None,
    )
    # The dashboard's federated section (read once: a bad value stops here).
    app.state.federation = dashboard_federated.settings(cfg)
    errors.install(app)
    # Requests by route template and status (/metrics on its own port).
    app.add_middleware(metrics.HttpMetrics)
    # Our access log, not uvicorn's: it never writes a query value.
    app.add_middleware(AccessLog)
    for module in (
        api_registry,
        api_roles,
        api_statistics,
        api_services,
        api_recycling,
        api_commendation,
        api_dashboard,
        api_imports,
        api_records,
        me,
    ):
        app.include_router(module.router, responses=ERROR_RESPONSES)
    # The web console: static files that talk only to this API.
    app.mount(
        "/console",
        StaticFiles(directory=Path(__file__).parent / "console", html=True),
        name="console",
    )
    # The volunteers' and residents' own pages, for a phone first.
    app.mount(
        "/m",
        StaticFiles(directory=Path(__file__).parent / "mobile", html=True),
        name="mobile",
    )
    docs.install(app)
    app.add_api_route("/healthz", healthz, tags=["health"], summary="Liveness")
    app.add_api_route("/readyz", readyz, tags=["health"], summary="Readiness")
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document without its 422 answers: bad input is a 400 here."""
    if app.openapi_schema is None:
        doc = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        for path in doc.get("paths", {}).values():
            for operation in path.values():
                operation.get("responses", {}).pop("422", None)
        schemas = doc.get("components", {}).get("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        app.openapi_schema = doc
    return app.openapi_schema


async def healthz() -> dict[str, str]:
    """The process is alive (always 200)."""
    return {"status": "ok"}


async def readyz(request: Request) -> JSONResponse:
    """Whether this gateway can serve: 200 once its configuration is read,
    its keys are loaded and its channels are open; 503 before. The service
    apis' states are listed for people (``backends``, ``degraded``) but never
    fail it: one api down must not take every gateway (and login) out of
    the Service; the routes that need that api answer 503 themselves."""
    state = request.app.state
    if None in (getattr(state, "verifier", None), getattr(state, "backend", None)):
        return JSONResponse({"status": "not_ready"}, status_code=503)
    backends = await state.backend.states()
    degraded = sorted(n for n, status in backends.items() if status != "SERVING")
    body = {"status": "ready", "backends": backends, "degraded": degraded}
    return JSONResponse(body)


def split_listen(listen: str) -> tuple[str, int]:
    """``"127.0.0.1:8080"`` or ``"[::]:8080"`` → host and port."""
    host, _, port = str(listen).rpartition(":")
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104


def serve(cfg: Config) -> None:
    """Run the gateway with uvicorn on ``gateway.listen`` until stopped."""
    telemetry.init("gateway")
    metrics.serve(metrics.listen_of(cfg, "gateway"))
    host, port = split_listen(cfg["gateway.listen"])
    uvicorn.run(
        create_app(cfg),
        host=host,
        port=port,
        log_config=None,  # keep telemetry's JSON logs
        access_log=False,  # it prints query strings: AccessLog replaces it
        proxy_headers=True,
        lifespan="on",
    )
