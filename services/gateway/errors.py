"""The gateway's one error table: gRPC status → HTTP status, and every error
the gateway answers with (gRPC failures, bad input, missing credentials,
unknown routes, its own bugs) as ``{"error": {code, message_en, message_zh,
field?, rule?}}``. Never a stack trace.

Example::

    errors.install(app)
    errors.http_status(grpc.StatusCode.NOT_FOUND)  # 404
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from services.common.errors import ZhiyuanError
from services.common.rpc import error_details
from services.gateway.access_log import safe_path

log = logging.getLogger(__name__)
S = grpc.StatusCode

HTTP_STATUS: dict[grpc.StatusCode, int] = {
    S.INVALID_ARGUMENT: 400,
    S.NOT_FOUND: 404,
    S.ALREADY_EXISTS: 409,
    S.FAILED_PRECONDITION: 409,
    S.PERMISSION_DENIED: 403,
    S.UNAUTHENTICATED: 401,
    S.RESOURCE_EXHAUSTED: 429,
    S.DEADLINE_EXCEEDED: 504,
    S.UNAVAILABLE: 503,
}
"""gRPC status → HTTP status; any status not listed is a 502."""
FALLBACK_STATUS = 502

# Said when the server sent no structured error (transport failures, statuses
# the services never raise on purpose): its own text may hold internals.
GENERIC: dict[grpc.StatusCode, tuple[str, str]] = {
    S.DEADLINE_EXCEEDED: (
        "the service did not answer in time",
        "服务响应超时，请稍后重试",
    ),
    S.UNAVAILABLE: ("the service is unavailable", "服务暂不可用，请稍后重试"),
    S.UNAUTHENTICATED: ("authentication is required", "请先登录"),
    S.PERMISSION_DENIED: ("permission denied", "无权执行此操作"),
    S.NOT_FOUND: ("not found", "未找到"),
}
GENERIC_DEFAULT = ("the service failed to answer", "服务处理失败，请稍后重试")

# pydantic error type → rule suffix and Chinese message.
RULES: dict[str, tuple[str, str]] = {
    "missing": ("required", "此项为必填项"),
    "literal_error": ("known", "取值不在允许范围内"),
    "enum": ("known", "取值不在允许范围内"),
    "extra_forbidden": ("unknown", "不支持此字段"),
    "string_too_long": ("max_length", "长度超出限制"),
    "string_pattern_mismatch": ("format", "格式不正确"),
    "greater_than_equal": ("range", "数值超出允许范围"),
    "less_than_equal": ("range", "数值超出允许范围"),
    "json_invalid": ("json", "请求体不是有效的 JSON"),
}
TYPE_RULE = ("type", "类型不正确")


class ErrorDetail(BaseModel):
    """One platform error, in English and Chinese."""

    code: str = Field(description="gRPC-style status name, e.g. INVALID_ARGUMENT")
    message_en: str
    message_zh: str
    field: str | None = Field(default=None, description="The field at fault")
    rule: str | None = Field(default=None, description="The rule it broke")


class ErrorBody(BaseModel):
    """Every non-2xx answer of the API (documented in the OpenAPI document)."""

    error: ErrorDetail


def http_status(code: grpc.StatusCode) -> int:
    """The HTTP status for a gRPC status (502 for any unlisted one)."""
    return HTTP_STATUS.get(code, FALLBACK_STATUS)


def envelope(body: dict[str, Any]) -> dict[str, Any]:
    return {"error": body}


def rpc_error_body(err: grpc.RpcError) -> tuple[int, dict[str, str]]:
    """HTTP status and error body for a failed gRPC call (sync or aio)."""
    body = error_details(err)
    code = err.code()
    if not body.get("message_zh"):
        en, zh = GENERIC.get(code, GENERIC_DEFAULT)
        body = {"code": code.name, "message_en": en, "message_zh": zh}
    return http_status(code), body


def validation_body(exc: RequestValidationError) -> dict[str, str]:
    """The first validation failure as a platform error naming field and rule."""
    errors = list(exc.errors()) or [{"loc": ("body",), "type": "", "msg": ""}]
    first = errors[0]
    loc = [str(part) for part in first.get("loc", ())]
    if loc and loc[0] in {"body", "query", "path", "header", "cookie"}:
        loc = loc[1:] if len(loc) > 1 else loc
    kind = str(first.get("type", ""))
    if kind == "json_invalid":
        loc = ["body"]
    field = ".".join(loc) or "body"
    suffix, zh = RULES.get(kind, TYPE_RULE)
    return {
        "code": "INVALID_ARGUMENT",
        "message_en": str(first.get("msg") or "invalid value"),
        "message_zh": zh,
        "field": field,
        "rule": f"{field}.{suffix}",
    }


def _json(
    status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(envelope(body), status_code=status, headers=headers)


async def _on_rpc_error(request: Request, exc: Exception) -> JSONResponse:
    status, body = rpc_error_body(exc)
    if status >= 500:
        log.warning(
            "%s %s: gRPC %s", request.method, safe_path(request.url.path), body["code"]
        )
    retry_after = body.pop("retry_after", None)
    if retry_after:
        return _json(status, body, {"Retry-After": retry_after})
    return _json(status, body, _challenge(status))


async def _on_platform_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ZhiyuanError)
    code = S.__members__.get(exc.code)
    status = HTTP_STATUS.get(code, 500) if code else 500
    return _json(status, exc.to_dict(), _challenge(status))


RETRY_AFTER_SECONDS = 5
"""Said with every 503: a database restart or failover, an api restarting."""


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return _json(400, validation_body(exc))


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    name = HTTPStatus(exc.status_code).name
    phrase = HTTPStatus(exc.status_code).phrase.lower()
    body = {"code": name, "message_en": phrase, "message_zh": "请求无法处理"}
    if exc.status_code == 404:
        body["message_zh"] = "请求的资源不存在"
    return _json(exc.status_code, body, exc.headers)


async def _on_crash(request: Request, exc: Exception) -> JSONResponse:
    log.exception(
        "unhandled error in %s %s", request.method, safe_path(request.url.path)
    )
    body = {
        "code": "INTERNAL",
        "message_en": "internal error, see the gateway log",
        "message_zh": "网关内部错误，请查看网关日志",
    }
    return _json(500, body)


def _challenge(status: int) -> dict[str, str] | None:
    """Headers an error status calls for: the auth scheme with a 401, when
    to try again with a 503."""
    if status == 401:
        return {"WWW-Authenticate": "Bearer"}
    if status == 503:
        return {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return None


def install(app: FastAPI) -> None:
    """Register the handlers that give every error the one JSON shape."""
    app.add_exception_handler(grpc.RpcError, _on_rpc_error)
    app.add_exception_handler(ZhiyuanError, _on_platform_error)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(HTTPException, _on_http)
    app.add_exception_handler(Exception, _on_crash)
