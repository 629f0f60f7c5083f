"""A volunteer's inbox on the real servers and broker (issue 13): every event
that concerns a volunteer (a sign-up decided, hours approved or corrected, a
certificate issued, stars granted) makes exactly one notification in the
volunteer's inbox through registration's worker, the same event delivered
again makes none; read and unread, read-all, paging; and the SMS and WeChat
channels a tenant enables recorded as ``no_adapter`` deliveries, never
"sent". The isolation of one volunteer's inbox from another's is in
tests/security/test_notifications_isolation.py."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from kombu import Connection, Exchange, Queue
from sqlalchemy import create_engine, text
from zhiyuan.activity.v1 import activity_pb2 as apb
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.hours.v1 import hours_pb2 as hpb
from zhiyuan.registration.v1 import registration_pb2 as pb

from services.common.config import load
from services.common.db import Database
from services.common.testing import wait_for
from services.common.worker import handler_queue
from services.registration import inbox
from tests.helpers import auth
from tests.integration.test_activity_flow import Kit, one_session
from tests.integration.test_activity_flow import kit as kit  # noqa: F401
from tests.integration.test_activity_self_service import my_sign_ups, org, sign_up
from tests.integration.test_hours_flow import (
    approve,
    arrived,
    attendance,
    pin_policy,
    publish,
    slot,
    verified_volunteer,
)
from tests.integration.test_hours_self_service import volunteer_token

pytestmark = pytest.mark.integration

COUNTY = "610113"
TOWN = "610113004"  # no channel beyond the inbox
SMS_TOWN = "610113007"  # SMS and WeChat enabled
SIGNUP_TOWN = "610113002"
COMMENDATION = Exchange("commendation.events", type="topic", durable=True)
STARS_QUEUE = handler_queue(
    "commendation", "stars.approved", "registration", "on_stars_approved"
).name


def rows(service: str, sql: str, **params: Any) -> list[Any]:
    """A service's own database read as its owner (no row security)."""
    engine = create_engine(os.environ[f"{service.upper()}_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params).all())
    finally:
        engine.dispose()


def notes(vol_id: str) -> list[Any]:
    return rows(
        "registration",
        "SELECT id, kind, event_id FROM notifications WHERE volunteer_id = :v",
        v=vol_id,
    )


def my_inbox(stub: Any, tok: str, **req: Any) -> pb.ListMyNotificationsResponse:
    return stub.ListMyNotifications(
        pb.ListMyNotificationsRequest(**req), metadata=auth(tok)
    )


def kinds(stub: Any, tok: str) -> list[str]:
    return sorted(n.kind for n in my_inbox(stub, tok).notifications)


def produced(service: str, event_type: str, volunteer_id: str) -> list[dict]:
    """The events a service recorded for a volunteer, as it published them."""
    got = rows(
        service,
        "SELECT payload FROM outbox WHERE event_type = :t "
        "AND payload->'data'->>'volunteer_id' = :v ORDER BY seq",
        t=event_type,
        v=volunteer_id,
    )
    return [p if isinstance(p, dict) else json.loads(p) for (p,) in got]


def stars_event(vol: Any, to_stars: int = 1) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": "commendation.stars.approved",
        "occurred_at": datetime.now(UTC).isoformat(),
        "division_code": vol.home_division_code[:6],
        "data": {
            "volunteer_id": vol.id,
            "volunteer_number": vol.volunteer_number,
            "from_stars": to_stars - 1,
            "to_stars": to_stars,
        },
    }


def deliver_again(bodies: list[dict]) -> list[bool]:
    """Each event handed to the inbox once more, as a redelivery would."""
    db = Database(load().service("registration"))
    try:
        return [inbox.notify(db, body) for body in bodies]
    finally:
        db.dispose()


def test_each_decided_sign_up_reaches_its_volunteers_inbox(kit: Kit, stub) -> None:
    a, b = kit.volunteers(SIGNUP_TOWN, 2)
    p = kit.published(org(kit, COUNTY), sessions=one_session(1))
    sign_up(kit, a, p.sessions[0].id)
    sign_up(kit, b, p.sessions[0].id)
    ta, tb = (volunteer_token(v, SIGNUP_TOWN) for v in (a, b))
    wait_for(lambda: kinds(stub, ta) == ["signup.approved"], what="a's place")
    wait_for(lambda: kinds(stub, tb) == ["signup.waitlisted"], what="b waitlisted")
    (first,) = my_sign_ups(kit, a)
    kit.act.WithdrawMe(apb.WithdrawMeRequest(id=first.id), metadata=auth(ta))
    wait_for(
        lambda: kinds(stub, tb) == ["signup.promoted", "signup.waitlisted"],
        what="b promoted",
    )
    newest = my_inbox(stub, tb).notifications[0]
    assert newest.kind == "signup.promoted" and p.title in newest.body_zh
    assert (newest.title_zh, newest.title_en) == (
        "候补已转正",
        "Promoted from the waitlist",
    )
    assert kinds(stub, ta) == ["signup.approved"]  # a's withdrawal tells a nothing
    bodies = produced("activity", "activity.signup.decided", b.id)
    assert [x["data"]["status"] for x in bodies] == ["waitlisted", "promoted"]
    assert deliver_again(bodies) == [False, False]
    assert len(notes(b.id)) == 2


@pytest.fixture(scope="module")
def office(stub, stubs, token, worker) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    hours = stubs("hours")
    for town in (TOWN, SMS_TOWN):
        pin_policy(stub, hours, token(COUNTY), town)
    stub.UpdateTenantSettings(
        pb.UpdateTenantSettingsRequest(
            division_code=SMS_TOWN,
            set_json={"notifications.channels": '["in_app", "sms", "wechat"]'},
        ),
        metadata=auth(token(COUNTY)),
    )
    return {"hours": hours, "tok": token(COUNTY)}


def test_hours_approved_corrected_and_a_certificate_notify_once_each(
    office, stub, amqp_uri
) -> None:
    hours, tok = office["hours"], office["tok"]
    vol = verified_volunteer(stub, tok, home=TOWN)
    mine = volunteer_token(vol, TOWN)
    body = attendance(vol.id, slot(), 120, code=TOWN)
    publish(amqp_uri, "attendance.checked_out", body)
    record = approve(hours, tok, arrived(hours, tok, body).id)
    hours.CorrectRecord(
        hpb.CorrectRecordRequest(record_id=record.id, new_hours=1.5, reason="签退有误"),
        metadata=auth(tok),
    )
    cert = hours.RequestMyCertificate(
        hpb.RequestMyCertificateRequest(), metadata=auth(mine)
    ).certificate
    want = ["certificate.issued", "hours.approved", "hours.corrected"]
    wait_for(lambda: kinds(stub, mine) == want, timeout=30, what="three notices")
    by_kind = {n.kind: n for n in my_inbox(stub, mine).notifications}
    assert "2 小时服务时长已审核通过" in by_kind["hours.approved"].body_zh
    assert "-0.5 小时，原因：签退有误" in by_kind["hours.corrected"].body_zh
    assert cert.number in by_kind["certificate.issued"].body_zh
    assert all(n.read_at == "" for n in by_kind.values())
    events = [
        *produced("hours", "hours.record.approved", vol.id),
        *produced("hours", "hours.record.corrected", vol.id),
        *produced("hours", "hours.certificate.issued", vol.id),
    ]
    assert len(events) == 3
    assert sorted(e for _, _, e in notes(vol.id)) == sorted(
        e["event_id"] for e in events
    )
    assert deliver_again(events) == [False, False, False]
    assert len(notes(vol.id)) == 3
    # No channel beyond the inbox here: nothing in the deliveries' outbox.
    assert deliveries(vol.id) == []


def deliveries(vol_id: str) -> list[tuple[str, str]]:
    return sorted(
        (channel, status)
        for channel, status in rows(
            "registration",
            "SELECT d.channel, d.status FROM notification_deliveries d "
            "JOIN notifications n ON n.id = d.notification_id "
            "WHERE n.volunteer_id = :v",
            v=vol_id,
        )
    )


def queue_idle(amqp_uri: str) -> bool:
    with Connection(amqp_uri) as conn:
        q = Queue(STARS_QUEUE, durable=True)(conn.default_channel)
        return q.queue_declare(passive=True).message_count == 0


def test_stars_notify_once_though_the_broker_delivers_twice(
    office, stub, amqp_uri
) -> None:
    vol = verified_volunteer(stub, office["tok"], home=TOWN)
    mine = volunteer_token(vol, TOWN)
    body = stars_event(vol, 2)
    publish(amqp_uri, "stars.approved", body, COMMENDATION)
    wait_for(lambda: kinds(stub, mine) == ["stars.approved"], what="the stars")
    publish(amqp_uri, "stars.approved", body, COMMENDATION)  # redelivered
    marker = stars_event(vol, 3)
    publish(amqp_uri, "stars.approved", marker, COMMENDATION)
    wait_for(lambda: len(notes(vol.id)) >= 2, what="the marker event")
    wait_for(lambda: queue_idle(amqp_uri), what="the queue drained")
    got = sorted(e for _, _, e in notes(vol.id))
    assert got == sorted([body["event_id"], marker["event_id"]])
    (note,) = [n for n in my_inbox(stub, mine).notifications if "3" in n.body_en]
    assert (note.title_zh, note.body_zh) == (
        "星级已评定",
        "恭喜！您已被评为3星级志愿者。",
    )


def test_read_unread_paging_and_read_all(office, stub, amqp_uri) -> None:
    vol = verified_volunteer(stub, office["tok"], home=TOWN)
    mine = volunteer_token(vol, TOWN)
    for n in (1, 2, 3):
        publish(amqp_uri, "stars.approved", stars_event(vol, n), COMMENDATION)
    wait_for(lambda: my_inbox(stub, mine).unread_count == 3, what="three unread")
    page = my_inbox(stub, mine, page=common.PageRequest(page_size=2))
    assert len(page.notifications) == 2 and page.page.total_size == 3
    rest = my_inbox(
        stub,
        mine,
        page=common.PageRequest(page_size=2, page_token=page.page.next_page_token),
    )
    assert len(rest.notifications) == 1 and rest.page.next_page_token == ""
    every = [n.id for n in page.notifications] + [n.id for n in rest.notifications]
    assert len(set(every)) == 3

    one = stub.MarkNotificationRead(
        pb.MarkNotificationReadRequest(notification_id=every[1]), metadata=auth(mine)
    ).notification
    assert one.id == every[1] and one.read_at != ""
    again = stub.MarkNotificationRead(
        pb.MarkNotificationReadRequest(notification_id=every[1]), metadata=auth(mine)
    ).notification
    assert again.read_at == one.read_at  # read once, not re-stamped
    unread = my_inbox(stub, mine, unread=True)
    assert unread.unread_count == 2
    assert sorted(n.id for n in unread.notifications) == sorted([every[0], every[2]])
    assert my_inbox(stub, mine).page.total_size == 3  # read ones stay listed

    marked = stub.MarkAllNotificationsRead(
        pb.MarkAllNotificationsReadRequest(), metadata=auth(mine)
    ).marked
    assert marked == 2
    after = my_inbox(stub, mine, unread=True)
    assert (after.unread_count, list(after.notifications)) == (0, [])
    assert (
        stub.MarkAllNotificationsRead(
            pb.MarkAllNotificationsReadRequest(), metadata=auth(mine)
        ).marked
        == 0
    )


def test_enabled_channels_are_recorded_without_an_adapter(
    office, stub, amqp_uri
) -> None:
    there = verified_volunteer(stub, office["tok"], home=SMS_TOWN)
    here = verified_volunteer(stub, office["tok"], home=TOWN)
    for vol in (there, here):
        publish(amqp_uri, "stars.approved", stars_event(vol), COMMENDATION)
    for vol in (there, here):
        wait_for(lambda v=vol: len(notes(v.id)) == 1, what="the notification")
    assert deliveries(there.id) == [("sms", "no_adapter"), ("wechat", "no_adapter")]
    assert deliveries(here.id) == []
    # Never a "sent" without an adapter that sent it.
    assert rows(
        "registration",
        "SELECT count(*) FROM notification_deliveries WHERE status <> 'no_adapter'",
    ) == [(0,)]
