"""Offset paging behind opaque tokens, for every list call of every service.

Example::

    size, offset = page_bounds(req.page.page_size, req.page.page_token)
    ...
    next_token(offset, size, total)   # "" on the last page
    return Page(items, next_token(offset, size, total), total)
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.common.errors import InvalidArgument

MAX_PAGE = 500
MAX_OFFSET = 10_000_000  # paging deeper than this means a filter is missing


@dataclass
class Page:
    """One page of a list call: its rows, the next page's token ('' on the
    last) and how many rows there are in all; ``extra`` carries what a call
    adds beside the rows (e.g. names looked up for them)."""

    items: list[Any]
    next_token: str
    total: int
    extra: dict[str, Any] = field(default_factory=dict)


def page_bounds(page_size: int, token: str) -> tuple[int, int]:
    size = 50 if page_size <= 0 else min(page_size, MAX_PAGE)
    if not token:
        return size, 0
    try:
        offset = int(base64.urlsafe_b64decode(token.encode()).decode())
    except ValueError:
        offset = -1
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidArgument(
            "page.page_token",
            "page.token",
            "the page token is not valid",
            "分页令牌无效",
        )
    return size, offset


def next_token(offset: int, size: int, total: int) -> str:
    nxt = offset + size
    return base64.urlsafe_b64encode(str(nxt).encode()).decode() if nxt < total else ""


def page_rows(
    session: Session, query: Any, order: Sequence[Any], size: int, offset: int
) -> tuple[list[Any], int]:
    """One page of a scoped select, in ``order``, and how many rows it has
    in all (its rows must be entities or single values)."""
    total = session.execute(
        select(func.count()).select_from(query.subquery())
    ).scalar_one()
    rows = session.execute(query.order_by(*order).limit(size).offset(offset))
    return list(rows.scalars()), total
