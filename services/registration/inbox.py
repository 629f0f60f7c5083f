"""A volunteer's inbox (issue 13): the worker writes one notification per
event that concerns a volunteer, under the volunteer's home division and
claimed in the same transaction (exactly once); the volunteer's own account
lists its notifications and marks them read.

Delivery goes through adapters behind one :class:`Delivery` interface. The
inbox row is the in-app delivery. SMS and WeChat have no adapter yet: when
the tenant setting ``notifications.channels`` enables one, a
``notification_deliveries`` row records what would be sent, with status
``no_adapter``, never a pretended "sent" (an adapter, once written, takes
its channel's rows from ``pending`` on).

Example::

    notify(db, body)                         # the worker, for one event
    list_own(db, principal, True, 20, "")    # unread first page
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from services.common import checks, outbox
from services.common.auth import Principal
from services.common.db import Database, is_postgres
from services.common.errors import NotFound
from services.common.paging import Page, next_token, page_bounds, page_rows
from services.common.roles import own_volunteer
from services.common.settings import SETTINGS, effective_settings, value
from services.common.tenancy import Scope, ancestors
from services.registration import notices
from services.registration.models import (
    PROCESSED,
    Notification,
    NotificationDelivery,
    Volunteer,
)
from services.registration.repository import Repository

log = logging.getLogger(__name__)
CONSUMER = "registration.notifications"
CHANNEL_KEY = "notifications.channels"


class Delivery(Protocol):
    """A way a notification reaches its volunteer, run in the transaction
    that writes the notification."""

    channel: str

    def deliver(self, session: Session, note: Notification) -> None: ...


class InApp:
    """The inbox itself: the notification row is the delivery."""

    channel = "in_app"

    def deliver(self, session: Session, note: Notification) -> None:
        return None


class NoAdapter:
    """A channel the tenant enabled that has no adapter yet: the outbox row
    of what would be sent, marked ``no_adapter``."""

    def __init__(self, channel: str):
        self.channel = channel

    def deliver(self, session: Session, note: Notification) -> None:
        session.add(
            NotificationDelivery(
                notification_id=note.id,
                channel=self.channel,
                division_code=note.division_code,
                status="no_adapter",
                created_at=note.created_at,
            )
        )


def adapters(channels: list[str]) -> list[Delivery]:
    """The deliveries of the enabled ``channels``: the inbox always, every
    other channel through its adapter (none is written yet)."""
    out: list[Delivery] = [InApp()]
    out += [NoAdapter(c) for c in channels if c != InApp.channel]
    return out


def notify(db: Database, body: dict[str, Any]) -> bool:
    """The notification of one event (one of :data:`notices.EVENTS`) in
    its volunteer's inbox, and its deliveries; False if it was written
    before or the volunteer is unknown here."""
    env = outbox.Envelope.from_body(body)
    note = notices.notice(env.event_type, env.data)
    volunteer_id = str(env.data["volunteer_id"])
    home = volunteer_home(db, volunteer_id)
    if home is None:
        log.warning("%s %s: no volunteer %s", env.event_type, env.event_id,
                    volunteer_id)  # fmt: skip
        return False
    with db.session(Scope(home)) as s:
        if not outbox.claim(s, PROCESSED, CONSUMER, env.event_id):
            return False
        row = Notification(
            id=str(uuid.uuid4()),
            volunteer_id=volunteer_id,
            division_code=home,
            kind=note.kind,
            event_id=env.event_id,
            title_zh=note.title_zh,
            title_en=note.title_en,
            body_zh=note.body_zh,
            body_en=note.body_en,
            created_at=outbox.now(),
            read_at=None,
        )
        s.add(row)
        s.flush()
        for delivery in adapters(channels(s, home)):
            delivery.deliver(s, row)
        return True


def volunteer_home(db: Database, volunteer_id: str) -> str | None:
    """The volunteer's home division, before any scope is known (in
    PostgreSQL through ``registration_volunteer_home``: the code alone)."""
    with db.session(None) as s:
        if is_postgres(db.engine):
            got = s.execute(
                text("SELECT registration_volunteer_home(:v)"), {"v": volunteer_id}
            ).scalar_one_or_none()
        else:  # embedded SQLite: no row security
            got = s.execute(
                select(Volunteer.home_division_code).where(Volunteer.id == volunteer_id)
            ).scalar_one_or_none()
    return str(got) if got else None


def channels(s: Session, home: str) -> list[str]:
    """The channels the home division's settings enable (inherited)."""
    overrides = Repository(s, Scope(home)).overrides_for(ancestors(home))
    rows = effective_settings(home, overrides)
    got = value(rows, CHANNEL_KEY)
    return list(got) if SETTINGS[CHANNEL_KEY].check(got) else ["in_app"]


# -- the volunteer's own inbox ---------------------------------------------------
def _own(p: Principal) -> tuple[str, Scope]:
    return own_volunteer(p), p.scope


def list_own(
    db: Database, p: Principal, unread: bool, page_size: int, token: str
) -> Page:
    """The caller's notifications, newest first (only unread ones if
    ``unread``); ``extra["unread_count"]``: how many are unread in all."""
    vid, scope = _own(p)
    size, offset = page_bounds(page_size, token)
    mine = Notification.volunteer_id == vid
    inside = Notification.division_code.like(scope.like_pattern)
    with db.session(scope) as s:
        q = select(Notification).where(mine, inside)
        if unread:
            q = q.where(Notification.read_at.is_(None))
        order = (Notification.created_at.desc(), Notification.id.desc())
        items, total = page_rows(s, q, order, size, offset)
        count = select(func.count()).where(mine, inside, Notification.read_at.is_(None))
        unread_count = s.execute(count).scalar_one()
    page = Page(items, next_token(offset, size, total), total)
    page.extra["unread_count"] = int(unread_count)
    return page


def mark_read(db: Database, p: Principal, notification_id: str) -> Notification:
    """Mark one of the caller's notifications read (again: unchanged).
    Another volunteer's is NOT_FOUND exactly as an unknown id."""
    vid, scope = _own(p)
    ident = checks.ident(notification_id, "notification_id")
    with db.session(scope) as s:
        row = s.execute(
            select(Notification).where(
                Notification.id == ident,
                Notification.volunteer_id == vid,
                Notification.division_code.like(scope.like_pattern),
            )
        ).scalar_one_or_none()
        if row is None:
            raise NotFound.named_by("notification_id", "notification", "通知", ident)
        if row.read_at is None:
            row.read_at = outbox.now()
        return row


def mark_all_read(db: Database, p: Principal) -> int:
    """Mark every unread notification of the caller read; how many."""
    vid, scope = _own(p)
    at: datetime = outbox.now()
    with db.session(scope) as s:
        done = s.execute(
            update(Notification)
            .where(
                Notification.volunteer_id == vid,
                Notification.division_code.like(scope.like_pattern),
                Notification.read_at.is_(None),
            )
            .values(read_at=at)
            .returning(Notification.id)
        )
        return len(done.all())
