"""Registration's worker role (nameko): the outbox relay on a timer, and the
activity feed built from registration's own events.

Run with ``zhiyuan run registration worker``; never imported by the api role.
"""

from __future__ import annotations

from typing import Any

from nameko.timer import timer

from services.common import outbox
from services.common.tenancy import Scope
from services.common.worker import (
    DatabaseDependency,
    Heartbeat,
    RelayDependency,
    Tracing,
    app_config,
    event_handler,
)
from services.registration.models import PROCESSED, FeedItem

SUMMARIES = {
    "volunteer.registered": "志愿者 {volunteer_number} 完成注册，待审核",
    "volunteer.verified": "志愿者 {volunteer_number} 通过审核",
    "volunteer.rejected": "志愿者 {volunteer_number} 未通过审核",
    "organisation.created": "新增{kind_zh}“{name}”",
}


def summary(event_type: str, data: dict[str, Any]) -> str:
    kind_zh = "服务队" if data.get("kind") == "team" else "志愿服务组织"
    return SUMMARIES[event_type].format(kind_zh=kind_zh, **data)


class RegistrationWorker:
    name = "registration"

    db = DatabaseDependency("registration")
    relay = RelayDependency("registration")
    heartbeat = Heartbeat("registration")
    tracing = Tracing()

    # <SERVICE>_OUTBOX_INTERVAL_SECONDS (default 0.1 s): the longest an event
    # waits in the outbox after its commit.
    @timer(interval=app_config().service("registration").outbox_interval_seconds)
    def relay_outbox(self) -> None:
        """Publish pending outbox rows (publisher confirms)."""
        while self.relay.relay_once():
            pass

    @timer(interval=3600)
    def purge_outbox(self) -> None:
        """Published events are kept a week for inspection, then deleted."""
        self.relay.purge(processed=PROCESSED)

    def _feed(self, event_type: str, body: dict[str, Any]) -> None:
        env = outbox.Envelope.from_body(body)
        # The event's own division is the scope its effect is written under.
        with self.db.session(Scope(env.division_code)) as s:
            if not outbox.claim(
                s, PROCESSED, f"registration.feed.{event_type}", env.event_id
            ):
                return
            s.add(
                FeedItem(
                    event_id=env.event_id,
                    event_type=env.event_type,
                    division_code=env.division_code,
                    summary=summary(event_type, env.data),
                    occurred_at=_parse(env.occurred_at),
                )
            )

    @event_handler("registration", "volunteer.registered")
    def on_volunteer_registered(self, body: dict[str, Any]) -> None:
        self._feed("volunteer.registered", body)

    @event_handler("registration", "volunteer.verified")
    def on_volunteer_verified(self, body: dict[str, Any]) -> None:
        self._feed("volunteer.verified", body)

    @event_handler("registration", "volunteer.rejected")
    def on_volunteer_rejected(self, body: dict[str, Any]) -> None:
        self._feed("volunteer.rejected", body)

    @event_handler("registration", "organisation.created")
    def on_organisation_created(self, body: dict[str, Any]) -> None:
        self._feed("organisation.created", body)


WORKER = RegistrationWorker


def _parse(text: str):  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime.fromisoformat(text)
