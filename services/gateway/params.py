"""Query parameters shared by the list routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

PageSize = Annotated[
    int,
    Query(ge=0, le=500, description="At most this many items (0: 50) / 每页条数"),
]
PageToken = Annotated[
    str, Query(description="Token from the previous page / 上一页返回的令牌")
]
Division = Annotated[
    str, Query(description="At this node or below (default: your scope) / 区划代码")
]
