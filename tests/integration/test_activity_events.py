"""Activity's events on the real broker: what the outbox relay publishes
matches docs/events.md key for key, and registration's events reach the
replica exactly once however often they are delivered."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
from kombu import Connection, Exchange, Queue
from zhiyuan.activity.v1 import activity_pb2 as pb

from services.common.testing import wait_for
from tests.helpers import auth
from tests.integration.test_activity_flow import Kit, one_session, raw_rows, when
from tests.integration.test_metrics import scrape, value

pytestmark = pytest.mark.integration
ENVELOPE = {"event_id", "event_type", "occurred_at", "division_code", "data"}
# docs/events.md, written out.
CHECKED_OUT = {
    "attendance_id",
    "project_id",
    "project_title",
    "session_id",
    "session_start",
    "session_end",
    "volunteer_id",
    "volunteer_number",
    "organisation_id",
    "organisation_name",
    "division_code",
    "service_field",
    "kind",
    "checked_in_at",
    "checked_out_at",
    "closed_by",
}
PUBLISHED = {
    "project_id",
    "organisation_id",
    "organisation_name",
    "division_code",
    "service_field",
    "title",
    "emergency",
}
VISIT = {
    "visit_id",
    "pair_id",
    "volunteer_id",
    "volunteer_number",
    "organisation_id",
    "organisation_name",
    "division_code",
    "service_field",
    "started_at",
    "ended_at",
    "note",
    "campaign_id",  # "" when the visit is tagged to no campaign
}


@pytest.fixture(scope="module")
def kit(stub, stubs, token, worker, migrated) -> Kit:  # type: ignore[no-untyped-def]
    return Kit(stub, stubs("activity"), token, migrated)


class Tap:
    """A test queue bound to ``activity.events`` for every routing key."""

    def __init__(self, amqp_uri: str):
        self.conn = Connection(amqp_uri)
        exchange = Exchange("activity.events", type="topic", durable=True)
        self.queue = Queue(
            f"test-activity-tap-{uuid.uuid4().hex[:8]}",
            exchange=exchange,
            routing_key="#",
            exclusive=True,
        )(self.conn.default_channel)
        exchange(self.conn.default_channel).declare()
        self.queue.declare()
        self.seen: list[tuple[str, dict[str, Any]]] = []

    def take(self) -> None:
        """Move every message now in the queue to ``seen`` (taken with no_ack:
        none is left unacknowledged)."""
        while (msg := self.queue.get(no_ack=True)) is not None:
            body = (
                msg.payload if isinstance(msg.payload, dict) else json.loads(msg.body)
            )
            self.seen.append((msg.delivery_info["routing_key"], body))

    def drain(self) -> None:
        """Take messages until the broker reports the queue empty."""

        def empty() -> bool:
            self.take()
            return self.queue.queue_declare(passive=True).message_count == 0

        wait_for(empty, timeout=30, what=f"{self.queue.name} drained")

    def find(self, routing_key: str, **match: Any) -> dict[str, Any]:
        def look() -> dict[str, Any] | None:
            self.take()
            for key, body in self.seen:
                data = body.get("data", {})
                if key == routing_key and all(
                    data.get(k) == v for k, v in match.items()
                ):
                    return body
            return None

        return wait_for(look, timeout=30, what=f"{routing_key} {match}")

    def close(self) -> None:
        self.conn.release()


@pytest.fixture
def tap(migrated: dict[str, str]) -> Iterator[Tap]:
    t = Tap(migrated["AMQP_URI"])
    yield t
    t.close()


def test_check_out_publishes_the_documented_event(kit: Kit, tap: Tap) -> None:
    org = kit.org("610113")
    (vol,) = kit.volunteers("610113002")
    leader = auth(kit.publisher("610113"))
    p = kit.started(org, kind=pb.PROJECT_KIND_DONATION, service_field="recycling")
    session = p.sessions[0]
    kit.sign_up(session.id, vol.id, kit.token("610113"))
    ref = {"session_id": session.id, "volunteer_id": vol.id}
    kit.act.CheckIn(pb.CheckInRequest(**ref), metadata=leader)
    att = kit.act.CheckOut(pb.CheckOutRequest(**ref), metadata=leader).attendance
    body = tap.find("attendance.checked_out", attendance_id=att.id)
    assert set(body) == ENVELOPE
    assert body["event_type"] == "activity.attendance.checked_out"
    assert body["division_code"] == "610113"
    uuid.UUID(body["event_id"])
    datetime.fromisoformat(body["occurred_at"])
    data = body["data"]
    assert set(data) == CHECKED_OUT
    assert data == {
        "attendance_id": att.id,
        "project_id": p.id,
        "project_title": p.title,
        "session_id": session.id,
        "session_start": data["session_start"],
        "session_end": data["session_end"],
        "volunteer_id": vol.id,
        "volunteer_number": vol.volunteer_number,
        "organisation_id": org.id,
        "organisation_name": org.name,
        "division_code": "610113",
        "service_field": "recycling",
        "kind": "donation",
        "checked_in_at": data["checked_in_at"],
        "checked_out_at": data["checked_out_at"],
        "closed_by": "leader",
    }
    for key, expected in (
        ("session_start", session.starts_at),
        ("session_end", session.ends_at),
        ("checked_in_at", att.checked_in_at),
        ("checked_out_at", att.checked_out_at),
    ):
        assert datetime.fromisoformat(data[key]) == datetime.fromisoformat(expected)
    # One check-out, one event, whatever the relay's retries. The relay marks
    # a row sent only after the broker confirmed every copy it published (so
    # they are all in the tap's queue by then), under a row lock no other relay
    # passes, and never publishes a sent row again: once it is marked, drain
    # the queue and count.
    wait_for(
        lambda: raw_rows(
            kit.env,
            "SELECT 1 FROM outbox WHERE id = :i AND published_at IS NOT NULL",
            i=body["event_id"],
        ),
        what="the relay marking the check-out event sent",
    )
    tap.drain()
    copies = [b for k, b in tap.seen if b["data"].get("attendance_id") == att.id]
    assert len(copies) == 1


def test_project_published_completed_and_cancelled(kit: Kit, tap: Tap) -> None:
    city = kit.org("6101")
    leader = auth(kit.publisher("6101"))
    p = kit.published(city, emergency=True, service_field="emergency")
    body = tap.find("project.published", project_id=p.id)
    assert set(body) == ENVELOPE and set(body["data"]) == PUBLISHED
    assert body["data"] == {
        "project_id": p.id,
        "organisation_id": city.id,
        "organisation_name": city.name,
        "division_code": "6101",
        "service_field": "emergency",
        "title": p.title,
        "emergency": True,
    }
    kit.act.CancelProject(
        pb.CancelProjectRequest(id=p.id, reason="险情解除"), metadata=leader
    )
    cancelled = tap.find("project.cancelled", project_id=p.id)
    assert cancelled["data"] == {"project_id": p.id, "division_code": "6101"}
    q = kit.started(city, sessions=one_session(3))
    kit.act.CompleteProject(pb.CompleteProjectRequest(id=q.id), metadata=leader)
    done = tap.find("project.completed", project_id=q.id)
    assert done["event_type"] == "activity.project.completed"
    assert done["data"] == {"project_id": q.id, "division_code": "6101"}


def test_visit_logged_event(kit: Kit, tap: Tap) -> None:
    org = kit.org("610116")
    (vol,) = kit.volunteers("610116001")
    md = auth(kit.publisher("610116"))
    rec = kit.act.CreateRecipient(
        pb.CreateRecipientRequest(
            division_code="610116001",
            name="张桂英",
            address="陕西省西安市长安区滦镇街道抱龙峪村",
            pairing_mode=pb.PAIRING_MODE_ONE_TO_ONE,
            consent=True,
        ),
        metadata=md,
    ).recipient
    pair = kit.act.CreatePair(
        pb.CreatePairRequest(
            recipient_id=rec.id, volunteer_id=vol.id, organisation_id=org.id
        ),
        metadata=md,
    ).pair
    visit = kit.act.LogVisit(
        pb.LogVisitRequest(
            pair_id=pair.id, started_at=when(-120), ended_at=when(-60), note="助洁助餐"
        ),
        metadata=md,
    ).visit
    body = tap.find("visit.logged", visit_id=visit.id)
    assert set(body) == ENVELOPE and set(body["data"]) == VISIT
    data = body["data"]
    assert {k: data[k] for k in VISIT - {"started_at", "ended_at"}} == {
        "visit_id": visit.id,
        "pair_id": pair.id,
        "volunteer_id": vol.id,
        "volunteer_number": vol.volunteer_number,
        "organisation_id": org.id,
        "organisation_name": org.name,
        "division_code": "610116001",
        "service_field": "poverty_relief",
        "note": "助洁助餐",
        "campaign_id": "",
    }
    assert datetime.fromisoformat(data["started_at"]) == datetime.fromisoformat(
        visit.started_at
    )
    # Only masked or no personal data: the household's name is not in it.
    assert "张桂英" not in json.dumps(body, ensure_ascii=False)


# -- consuming registration's events -------------------------------------------------


def publish(amqp_uri: str, body: dict[str, Any], routing_key: str) -> None:
    exchange = Exchange("registration.events", type="topic", durable=True)
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        conn.Producer(serializer="json").publish(
            body, exchange=exchange, routing_key=routing_key, declare=[exchange]
        )


def organisation_event(event_id: str, org_id: str, name: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "event_type": "registration.organisation.created",
        "occurred_at": "2026-11-01T08:00:00+00:00",
        "division_code": "610113003",
        "data": {
            "organisation_id": org_id,
            "kind": "team",
            "name": name,
            "parent_id": "",
        },
    }


def test_redelivered_registration_event_is_applied_once(kit, migrated) -> None:  # type: ignore[no-untyped-def]
    uri, org_id = migrated["AMQP_URI"], str(uuid.uuid4())
    wait_for(lambda: _ready(uri) == 0, what="earlier organisation events consumed")
    before = _handled(migrated)
    first = organisation_event(str(uuid.uuid4()), org_id, "小寨街道第一版")
    later = organisation_event(str(uuid.uuid4()), org_id, "小寨街道第二版")

    def name() -> str:
        rows = raw_rows(
            kit.env, "SELECT name FROM organisations WHERE id = :i", i=org_id
        )
        return rows[0][0] if rows else ""

    publish(uri, first, "organisation.created")
    wait_for(lambda: name() == "小寨街道第一版", what="the first delivery")
    publish(uri, later, "organisation.created")
    wait_for(lambda: name() == "小寨街道第二版", what="the later event")
    publish(uri, first, "organisation.created")  # redelivered: must change nothing
    marker = str(uuid.uuid4())
    publish(
        uri,
        organisation_event(str(uuid.uuid4()), marker, "标记"),
        "organisation.created",
    )
    wait_for(
        lambda: raw_rows(
            kit.env, "SELECT 1 FROM organisations WHERE id = :i", i=marker
        ),
        what="a marker event after the redelivery",
    )
    # Handlers run concurrently, so the marker may land before the redelivery
    # is done: wait until all four deliveries are handled and acknowledged
    # (the worker counts a delivery handled after its ack) and none is ready.
    wait_for(
        lambda: _ready(uri) == 0 and _handled(migrated) >= before + 4,
        what="the four deliveries handled and acknowledged",
    )
    assert name() == "小寨街道第二版"
    claims = raw_rows(
        kit.env,
        "SELECT count(*) FROM processed_events WHERE event_id = :e",
        e=first["event_id"],
    )
    assert claims[0][0] == 1


ORG_QUEUE = "evt-registration-organisation.created--activity.on_organisation_created"


def _ready(amqp_uri: str) -> int:
    """Messages waiting in activity's organisation queue (not yet delivered)."""
    with Connection(amqp_uri) as conn:
        q = Queue(ORG_QUEUE, durable=True)(conn.default_channel)
        return int(q.queue_declare(passive=True).message_count)


def _handled(env: dict[str, str]) -> float:
    """Deliveries of that queue the activity worker has handled and acked."""
    page = scrape(env["ACTIVITY_WORKER_METRICS_LISTEN"])
    return value(page, "zhiyuan_events_total", queue=ORG_QUEUE, outcome="handled")


def volunteer_event(kind: str, vid: str, status: str) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": f"registration.volunteer.{kind}",
        "occurred_at": "2026-11-01T08:00:00+00:00",
        "division_code": "610113003",
        "data": {
            "volunteer_id": vid,
            "volunteer_number": "ZY610099999999",
            "home_division_code": "610113003",
            "status": status,
            "birth_date": "1988-06-01",
            "service_fields": ["medical"],
        },
    }


def test_a_late_registered_event_never_undoes_verified(kit, migrated) -> None:  # type: ignore[no-untyped-def]
    uri, vid = migrated["AMQP_URI"], str(uuid.uuid4())

    def status() -> str:
        rows = raw_rows(kit.env, "SELECT status FROM volunteers WHERE id = :i", i=vid)
        return rows[0][0] if rows else ""

    publish(uri, volunteer_event("verified", vid, "verified"), "volunteer.verified")
    wait_for(lambda: status() == "verified", what="the verified event")
    publish(uri, volunteer_event("registered", vid, "pending"), "volunteer.registered")
    marker = str(uuid.uuid4())
    publish(
        uri, volunteer_event("registered", marker, "pending"), "volunteer.registered"
    )
    wait_for(
        lambda: raw_rows(kit.env, "SELECT 1 FROM volunteers WHERE id = :i", i=marker),
        what="a marker after the late event",
    )
    assert status() == "verified"


def lock_waiters(env: dict[str, str]) -> int:
    """Sessions of activity's database waiting for a lock."""
    rows = raw_rows(
        env,
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE NOT l.granted AND a.datname = current_database()",
    )
    return int(rows[0][0])


def test_concurrent_replica_writes_of_one_volunteer_do_not_collide(migrated) -> None:  # type: ignore[no-untyped-def]
    """`registered` and `verified` are consumed from separate queues, so two
    transactions may create the same replica row at once: the second must
    wait for the first and then apply, not fail on the unique key."""
    from services.activity import replica
    from services.common.config import load
    from services.common.db import Database
    from services.common.tenancy import Scope

    db = Database(load().service("activity"))
    vid, home = str(uuid.uuid4()), "610113003"
    inserted, errors = threading.Event(), []

    def write(status: str, hold: bool) -> None:
        try:
            with db.session(Scope(home)) as s:
                replica.upsert_volunteer(
                    s, vid, "ZY610099999998", home, status, date(1988, 6, 1), []
                )
                if hold:  # keep the first insert uncommitted until the
                    inserted.set()  # second write waits on it
                    wait_for(
                        lambda: lock_waiters(migrated),
                        timeout=30,
                        what="the second write waiting on the uncommitted row",
                    )
        # A timed-out wait too: pytest's Failed is not an Exception.
        except BaseException as exc:  # noqa: BLE001 - the assertion reports it
            errors.append(exc)

    first = threading.Thread(target=write, args=("pending", True))
    first.start()
    assert inserted.wait(5)
    write("verified", False)  # blocks on the uncommitted row, then applies
    first.join()
    try:
        assert errors == []
        rows = raw_rows(
            migrated, "SELECT status, birth_date FROM volunteers WHERE id = :i", i=vid
        )
        assert rows == [("verified", date(1988, 6, 1))]
    finally:
        db.dispose()
