"""Events: outbox → RabbitMQ (confirms) → nameko worker, on the real broker."""

from __future__ import annotations

import uuid

import pytest
from kombu import Connection, Exchange, Queue
from sqlalchemy import select
from zhiyuan.registration.v1 import registration_pb2 as pb

from services.common.config import load
from services.common.db import Database
from services.common.outbox import OutboxRelay, record
from services.common.testing import (
    create_migrated_database,
    delete_vhost,
    drop_database,
    wait_for,
)
from services.registration.models import OUTBOX
from tests.helpers import auth
from tests.integration.test_registration_flow import register

pytestmark = pytest.mark.integration
QUEUE = "evt-registration-volunteer.registered--registration.on_volunteer_registered"


def feed(stub, tok, code):  # type: ignore[no-untyped-def]
    return stub.ListActivityFeed(
        pb.ListActivityFeedRequest(division_code=code), metadata=auth(tok)
    ).items


def publish(
    amqp_uri: str, body: dict, routing_key: str = "volunteer.registered"
) -> None:
    exchange = Exchange("registration.events", type="topic", durable=True)
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        conn.Producer(serializer="json").publish(
            body, exchange=exchange, routing_key=routing_key, declare=[exchange]
        )


def test_registration_event_reaches_the_worker_feed(stub, token, worker):
    county = token("610113")
    vol = register(stub, county, home_division_code="610113002")
    item = wait_for(
        lambda: [
            i
            for i in feed(stub, county, "610113002")
            if vol.volunteer_number in i.summary
        ],
        what="feed item",
    )
    assert item[0].event_type == "registration.volunteer.registered"
    # The sibling county's feed never shows it.
    assert not [
        i
        for i in feed(stub, token("610103"), "610103")
        if vol.volunteer_number in i.summary
    ]


def dead_letters(amqp_uri: str) -> int:
    with Connection(amqp_uri) as conn:
        q = Queue(f"{QUEUE}.dlq", durable=True)(conn.default_channel)
        return q.queue_declare(passive=True).message_count


def test_redelivered_event_is_applied_once(stub, token, worker, amqp_uri):
    tok = token("610113003")
    dead_before = dead_letters(amqp_uri)
    event_id = str(uuid.uuid4())
    body = {
        "event_id": event_id,
        "event_type": "registration.volunteer.registered",
        "occurred_at": "2026-11-01T08:00:00+00:00",
        "division_code": "610113003",
        "data": {"volunteer_number": "ZY610000099999"},
    }
    publish(amqp_uri, body)
    wait_for(
        lambda: any(i.event_id == event_id for i in feed(stub, tok, "610113003")),
        what="first delivery",
    )
    publish(amqp_uri, body)  # the broker redelivers the same event
    marker = {
        **body,
        "event_id": str(uuid.uuid4()),
        "data": {"volunteer_number": "ZY610000099998"},
    }
    publish(amqp_uri, marker)
    wait_for(
        lambda: any(
            "ZY610000099998" in i.summary for i in feed(stub, tok, "610113003")
        ),
        what="marker event",
    )
    wait_for(lambda: _queue_idle(amqp_uri), what="queue drained")
    copies = [i for i in feed(stub, tok, "610113003") if i.event_id == event_id]
    assert len(copies) == 1
    # Skipped as a duplicate, not failed into the dead-letter queue.
    assert dead_letters(amqp_uri) == dead_before


def _queue_idle(amqp_uri: str) -> bool:
    with Connection(amqp_uri) as conn:
        q = Queue(QUEUE, durable=True)(conn.default_channel)
        return q.queue_declare(passive=True).message_count == 0


def test_claim_is_idempotent_across_transactions(migrated):
    from services.common.outbox import claim
    from services.registration.models import PROCESSED

    db = Database(load().service("registration"))
    event_id = str(uuid.uuid4())
    with db.session(None) as s:
        assert claim(s, PROCESSED, "test.consumer", event_id) is True
    with db.session(None) as s:
        assert claim(s, PROCESSED, "test.consumer", event_id) is False
    with db.session(None) as s:  # another consumer of the same event is separate
        assert claim(s, PROCESSED, "other.consumer", event_id) is True
    db.dispose()


def test_poison_message_goes_to_the_dead_letter_queue(worker, amqp_uri):
    before = dead_letters(amqp_uri)
    publish(amqp_uri, {"not": "an envelope"})
    wait_for(
        lambda: dead_letters(amqp_uri) > before,
        timeout=20,
        what="a dead-lettered message",
    )


def test_broker_outage_delays_events_and_loses_none(migrated, amqp_uri):
    url = create_migrated_database(load().service("registration"), "zy_outage")
    try:
        svc = load().service("registration")
        svc = type(svc)(**{**svc.__dict__, "database_url": url})
        db = Database(svc)
        with db.session(None) as s:
            for i in range(3):
                record(
                    s,
                    OUTBOX,
                    "registration.division.changed",
                    division_code="61",
                    data={"n": i},
                )
        down = OutboxRelay(db, OUTBOX, "amqp://guest:guest@127.0.0.1:1/", batch=10)
        assert down.relay_once() == 0
        assert down.backlog() == 3
        with db.session(None) as s:
            attempts = s.execute(select(OUTBOX.c.attempts)).scalars().all()
        assert attempts == [1, 1, 1]
        up = OutboxRelay(db, OUTBOX, amqp_uri, batch=10)
        assert up.relay_once() == 3
        assert up.backlog() == 0
        up.close()
        db.dispose()
    finally:
        drop_database(url)


def test_published_events_are_purged_after_a_week(migrated):
    from datetime import timedelta

    from sqlalchemy import update

    from services.common.outbox import now

    db = Database(load().service("registration"))
    with db.session(None) as s:
        old = record(
            s, OUTBOX, "registration.division.changed", division_code="61", data={}
        )
        fresh = record(
            s, OUTBOX, "registration.division.changed", division_code="61", data={}
        )
        pending = record(
            s, OUTBOX, "registration.division.changed", division_code="61", data={}
        )
        s.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == old)
            .values(published_at=now() - timedelta(days=8))
        )
        s.execute(update(OUTBOX).where(OUTBOX.c.id == fresh).values(published_at=now()))
    from services.common.outbox import claim
    from services.registration.models import PROCESSED

    with db.session(None) as s:
        assert claim(s, PROCESSED, "purge.test", "long-ago")
        assert claim(s, PROCESSED, "purge.test", "just-now")
        s.execute(
            update(PROCESSED)
            .where(PROCESSED.c.event_id == "long-ago")
            .values(processed_at=now() - timedelta(days=100))
        )
    relay = OutboxRelay(db, OUTBOX, "amqp://unused/")
    assert relay.purge(processed=PROCESSED) >= 1
    with db.session(None) as s:
        left = set(s.execute(select(OUTBOX.c.id)).scalars())
        remembered = set(
            s.execute(
                select(PROCESSED.c.event_id).where(PROCESSED.c.consumer == "purge.test")
            ).scalars()
        )
    assert old not in left and fresh in left and pending in left
    assert remembered == {"just-now"}
    db.dispose()


def test_topology_has_a_queue_for_every_handler_before_any_consumer_runs(migrated):
    from services.catalog import worker_classes
    from services.common.testing import create_vhost
    from services.common.worker import declare_topology

    vhost = create_vhost()
    try:
        count = declare_topology(vhost, worker_classes())
        assert count >= 10  # registration, activity and hours handlers
        publish(
            vhost,
            {
                "event_id": str(uuid.uuid4()),
                "event_type": "x",
                "occurred_at": "2026-11-01T00:00:00+00:00",
                "division_code": "61",
                "data": {},
            },
        )
        with Connection(vhost) as conn:  # kept, though no worker ever ran here
            q = Queue(QUEUE, durable=True)(conn.default_channel)
            assert q.queue_declare(passive=True).message_count == 1
    finally:
        delete_vhost(vhost)


def test_a_bulk_import_reaches_every_consumer_through_the_broker(worker):
    """A checked roll imported in bulk: its ``registration.volunteers.imported``
    part goes through the outbox relay and RabbitMQ to registration's feed
    (a registered and a verified item per volunteer) and to activity's and
    commendation's replicas (each volunteer verified), as registering and
    verifying one at a time would."""
    from services.activity.models import VolunteerReplica
    from services.commendation.models import Volunteer as Rated
    from services.common.keys import pii_cipher
    from services.common.tenancy import Scope
    from services.registration import bulk
    from services.registration.models import FeedItem, Volunteer
    from tests.integration.test_bulk_import_volunteers import ids

    cfg = load()
    rows = [
        {"name": f"批量{i}", "id_number": n, "phone": f"1370000{i:04d}",
         "home_division_code": "610113004", "service_fields": "养老助老"}
        for i, n in enumerate(ids(3))
    ]  # fmt: skip
    names = ("registration", "activity", "commendation")
    dbs = {n: Database(cfg.service(n)) for n in names}
    source = str(uuid.uuid4())
    try:
        report = bulk.import_rows(
            dbs["registration"], Scope("610113"), rows, source=source,
            cipher=pii_cipher(cfg), verified=True,
        )  # fmt: skip
        assert report.imported == 3, report.errors
        with dbs["registration"].session(Scope("610113")) as s:
            numbers = set(
                s.execute(
                    select(Volunteer.volunteer_number).where(
                        Volunteer.request_id.like(f"import/610113/{source}/%")
                    )
                ).scalars()
            )
        assert len(numbers) == 3

        def feed_items() -> list[str]:
            with dbs["registration"].session(Scope("61")) as s:
                got = s.execute(select(FeedItem.event_type, FeedItem.summary))
                return [t for t, text in got if any(n in text for n in numbers)]

        def replica(name: str) -> list[tuple[str, str]]:
            model = VolunteerReplica if name == "activity" else Rated
            with dbs[name].session(Scope("61")) as s:
                got = s.execute(select(model.volunteer_number, model.status))
                return [(n, st) for n, st in got if n in numbers]

        kinds = wait_for(
            lambda: len(got := feed_items()) >= 6 and got,
            what="a registered and a verified feed item per volunteer",
        )
        assert sorted(kinds) == sorted(
            ["registration.volunteer.registered", "registration.volunteer.verified"] * 3
        )
        for name in ("activity", "commendation"):
            wait_for(
                lambda name=name: (
                    sorted(replica(name)) == sorted((n, "verified") for n in numbers)
                ),
                what=f"{name}'s replica of the imported volunteers, verified",
            )
    finally:
        for db in dbs.values():
            db.dispose()
