"""Registration's activity feed, built by its worker from registration's own
events: one item per event, claimed in the transaction that writes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert

from services.common import outbox, volunteer_events
from services.common.db import Database
from services.common.tenancy import Scope
from services.registration.models import PROCESSED, FeedItem

SUMMARIES = {
    "volunteer.registered": "志愿者 {volunteer_number} 完成注册，待审核",
    "volunteer.verified": "志愿者 {volunteer_number} 通过审核",
    "volunteer.rejected": "志愿者 {volunteer_number} 未通过审核",
    "organisation.created": "新增{kind_zh}“{name}”",
    "volunteer.transferred": "志愿者 {volunteer_number} 由 {from_division_code} 转入",
}


def summary(event_type: str, data: dict[str, Any]) -> str:
    kind_zh = "服务队" if data.get("kind") == "team" else "志愿服务组织"
    return SUMMARIES[event_type].format(kind_zh=kind_zh, **data)


def record(db: Database, event_type: str, body: dict[str, Any]) -> bool:
    """The feed item of one event (``event_type`` without the service's
    prefix); False if it was recorded before."""
    env = outbox.Envelope.from_body(body)
    # The event's own division is the scope its effect is written under.
    with db.session(Scope(env.division_code)) as s:
        if not outbox.claim(
            s, PROCESSED, f"registration.feed.{event_type}", env.event_id
        ):
            return False
        s.add(_item(env, event_type))
        return True


def record_imported(db: Database, body: dict[str, Any]) -> bool:
    """``registration.volunteers.imported``: the items of every
    per-volunteer event the part stands for (the same items those events
    would have made), in one transaction under the part's one claim; False
    if the part was recorded before."""
    env = outbox.Envelope.from_body(body)
    each = volunteer_events.expand(env)
    with db.session(Scope(env.division_code)) as s:
        consumer = "registration.feed.volunteers.imported"
        if not outbox.claim(s, PROCESSED, consumer, env.event_id):
            return False
        if each:
            rows = [_item(one, one.event_type.partition(".")[2]) for one in each]
            s.execute(
                insert(FeedItem),
                [{c: getattr(r, c) for c in _COLUMNS} for r in rows],
            )
        return True


_COLUMNS = ("event_id", "event_type", "division_code", "summary", "occurred_at")


def _item(env: outbox.Envelope, event_type: str) -> FeedItem:
    return FeedItem(
        event_id=env.event_id,
        event_type=env.event_type,
        division_code=env.division_code,
        summary=summary(event_type, env.data),
        occurred_at=datetime.fromisoformat(env.occurred_at),
    )
