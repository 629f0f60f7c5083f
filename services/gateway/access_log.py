"""The gateway's access log: one line per request that never carries a
request value that could be personal data.

uvicorn's own access log prints the query string as sent, so the console's
exact search (``GET /api/v1/volunteers?q=<ID number>``) wrote full ID and
phone numbers into the log. This middleware replaces it: query parameters
are logged by name only, and any run of 11 or more digits in the path (a
phone number, a 15- or 18-digit ID number) is redacted too.

Example::

    app.add_middleware(AccessLog)
    # {"logger": "zhiyuan.gateway.access",
    #  "msg": "127.0.0.1 GET /api/v1/volunteers?q=[redacted] 200 12.4ms"}
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any
from urllib.parse import parse_qsl

log = logging.getLogger("zhiyuan.gateway.access")

REDACTED = "[redacted]"
# Phone numbers have 11 digits, ID numbers 15 or 18 (the last may be X).
_LONG_DIGITS = re.compile(r"\d{11,}[Xx]?")
# Parameter names are echoed; a "name" that is itself long or odd is not.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\[\]-]{0,40}")


def safe_path(path: str) -> str:
    """The path with long digit runs redacted.

    Example:
        >>> safe_path("/api/v1/volunteers/11010519491231002X")
        '/api/v1/volunteers/[redacted]'
    """
    return _LONG_DIGITS.sub(REDACTED, path)


def safe_query(query: str) -> str:
    """Parameter names of a query string, every value redacted.

    Example:
        >>> safe_query("q=13800138000&page_size=20")
        'q=[redacted]&page_size=[redacted]'
    """
    parts = []
    for name, _ in parse_qsl(query, keep_blank_values=True):
        shown = name if _NAME.fullmatch(name) and not _LONG_DIGITS.search(name) else "?"
        parts.append(f"{shown}={REDACTED}")
    return "&".join(parts)


def request_line(scope: dict[str, Any]) -> str:
    """``METHOD path[?names]`` of an ASGI scope, safe to log."""
    line = f"{scope.get('method', '')} {safe_path(scope.get('path', ''))}"
    raw = scope.get("query_string", b"").decode("latin-1")
    query = safe_query(raw) if raw else ""
    return f"{line}?{query}" if query else line


class AccessLog:
    """ASGI middleware: log each HTTP request once it is answered."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client sees if the app dies before answering

        async def send_and_note(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            client = scope.get("client") or ("-", 0)
            log.info(
                "%s %s %d %.1fms",
                client[0],
                request_line(scope),
                status,
                (time.perf_counter() - started) * 1000,
            )
