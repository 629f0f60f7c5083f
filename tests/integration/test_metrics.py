"""Prometheus metrics from real processes: an api and the gateway count
exactly the calls made; a worker reports its outbox backlog, consumer lag and
DLQ depth read from the database and the broker."""

from __future__ import annotations

import httpx
import pytest
from kombu import Connection, Producer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, insert, select
from sqlalchemy.pool import NullPool

from services.common import metrics
from services.common.config import load
from services.common.migrations import upgrade
from services.common.outbox import now
from services.common.testing import (
    Processes,
    create_database,
    create_vhost,
    delete_vhost,
    drop_database,
    free_port,
    wait_for,
)
from services.registration.models import OUTBOX

REGISTRATION = "zhiyuan.registration.v1.RegistrationService"


def scrape(listen: str) -> dict[tuple[str, frozenset], float]:
    """(sample name, labels) → value of every sample on a /metrics page."""
    text = httpx.get(f"http://{listen}/metrics", timeout=5).text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(page: dict, name: str, **labels: str) -> float:
    return page.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def gateway_and_api(migrated, tmp_path):  # type: ignore[no-untyped-def]
    """registration's api and the gateway as processes, on their own ports."""
    env = dict(migrated)
    port = free_port()
    env.update(
        REGISTRATION_GRPC_LISTEN=f"127.0.0.1:{port}",
        REGISTRATION_GRPC_ADDRESS=f"127.0.0.1:{port}",
        REGISTRATION_API_METRICS_LISTEN=f"127.0.0.1:{free_port()}",
        GATEWAY_LISTEN=f"127.0.0.1:{free_port()}",
        GATEWAY_METRICS_LISTEN=f"127.0.0.1:{free_port()}",
    )
    procs = Processes(env, tmp_path)
    procs.start("api", "services.cli", "run", "registration", "api")
    procs.start("gateway", "services.cli", "run", "gateway")
    base = f"http://{env['GATEWAY_LISTEN']}"

    def registration_serving() -> bool:
        ready = httpx.get(f"{base}/readyz", timeout=5).json()
        return ready["backends"]["registration"] == "SERVING"

    try:
        wait_for(registration_serving, timeout=60, what="gateway and api")
        wait_for(lambda: scrape(env["REGISTRATION_API_METRICS_LISTEN"]), timeout=30)
        yield base, env
    finally:
        procs.stop_all()


def test_api_and_gateway_count_exactly_the_calls_made(gateway_and_api, token):
    base, env = gateway_and_api
    api_at, gateway_at = (
        env["REGISTRATION_API_METRICS_LISTEN"],
        env["GATEWAY_METRICS_LISTEN"],
    )
    api_before, gw_before = scrape(api_at), scrape(gateway_at)
    auth = {"authorization": f"Bearer {token('61', 'province_admin')}"}
    found = [httpx.get(f"{base}/api/v1/divisions/61", headers=auth) for _ in range(3)]
    missing = [httpx.get(f"{base}/api/v1/divisions/99", headers=auth) for _ in range(2)]
    assert [r.status_code for r in found] == [200] * 3
    assert [r.status_code for r in missing] == [404] * 2
    api_after, gw_after = scrape(api_at), scrape(gateway_at)

    def moved(before, after, name, **labels):  # type: ignore[no-untyped-def]
        return value(after, name, **labels) - value(before, name, **labels)

    grpc = {"grpc_service": REGISTRATION, "grpc_method": "GetDivision"}
    handled = "grpc_server_handled_total"
    assert moved(api_before, api_after, handled, **grpc, grpc_code="OK") == 3
    assert moved(api_before, api_after, handled, **grpc, grpc_code="NOT_FOUND") == 2
    assert (
        moved(api_before, api_after, "grpc_server_handling_seconds_count", **grpc) == 5
    )
    assert value(api_after, "grpc_server_in_flight", **grpc) == 0
    route = {"method": "GET", "route": "/api/v1/divisions/{code}"}
    http = "http_server_requests_total"
    assert moved(gw_before, gw_after, http, **route, status="200") == 3
    assert moved(gw_before, gw_after, http, **route, status="404") == 2
    seconds = "http_server_request_duration_seconds_count"
    assert moved(gw_before, gw_after, seconds, **route) == 5
    # The raw path (with the code) never becomes a label.
    assert not [k for k in gw_after if ("route", "/api/v1/divisions/61") in k[1]]


@pytest.fixture
def own_registration(tmp_path):  # type: ignore[no-untyped-def]
    """A private database and vhost: this worker's relay must not take the
    session's outbox rows to another vhost."""
    url, vhost = create_database("zy_metrics"), create_vhost()
    try:
        yield url, vhost
    finally:
        drop_database(url)
        delete_vhost(vhost)


def test_worker_reports_outbox_backlog_and_dlq_depth(
    migrated, own_registration, tmp_path
):
    url, vhost = own_registration
    env = dict(migrated)
    env.update(
        REGISTRATION_DATABASE_URL=url,
        AMQP_URI=vhost,
        REGISTRATION_HEARTBEAT_FILE=str(tmp_path / "registration.alive"),
        REGISTRATION_WORKER_METRICS_LISTEN=f"127.0.0.1:{free_port()}",
        METRICS_POLL_SECONDS="0.3",
    )
    upgrade(load(env=env).service("registration"))
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:  # three events waiting before the relay runs
        for n in range(3):
            conn.execute(
                insert(OUTBOX).values(
                    id=f"00000000-0000-4000-8000-00000000000{n}",
                    event_type="registration.volunteer.registered",
                    division_code="610113",
                    payload={"event_id": f"test-{n}", "data": {}},
                    headers={},
                    created_at=now(),
                    attempts=0,
                )
            )
    assert metrics.outbox_backlog(engine) == 3

    procs = Processes(env, tmp_path)
    procs.start("worker", "services.cli.worker", "registration")
    at = env["REGISTRATION_WORKER_METRICS_LISTEN"]
    try:
        dlq = "zhiyuan_dlq_messages"
        queues = wait_for(
            lambda: sorted(dict(k[1])["queue"] for k in scrape(at) if k[0] == dlq),
            timeout=60,
            what="the worker's queue gauges",
        )
        # Relayed: the backlog gauge falls to what the table says, nothing.
        wait_for(
            lambda: (
                value(scrape(at), "zhiyuan_outbox_backlog", service="registration")
                == metrics.outbox_backlog(engine)
                == 0
            ),
            timeout=30,
            what="the outbox backlog gauge at 0",
        )
        with engine.connect() as conn:
            published = conn.execute(select(OUTBOX.c.published_at)).scalars().all()
        assert len(published) == 3 and None not in published

        queue = queues[0]
        with Connection(vhost) as conn:
            producer = Producer(conn.default_channel)
            # A body that is not JSON: failed, then dead-lettered at once.
            producer.publish(
                b"{not json", routing_key=queue, content_type="application/json"
            )
            events = "zhiyuan_events_total"
            wait_for(
                lambda: (
                    value(scrape(at), events, queue=queue, outcome="dead_lettered")
                    == value(scrape(at), events, queue=queue, outcome="failed")
                    == value(scrape(at), dlq, queue=queue)
                    == 1
                ),
                timeout=30,
                what="one failed, dead-lettered event in the DLQ",
            )
            for n in range(4):
                producer.publish(
                    {"poison": n}, routing_key=f"{queue}.dlq", serializer="json"
                )
        wait_for(
            lambda: value(scrape(at), dlq, queue=queue) == 5,
            timeout=30,
            what="the DLQ depth gauge at 5",
        )
        lag = value(scrape(at), "zhiyuan_queue_ready_messages", queue=queue)
        assert lag == 0  # the worker consumes its queue
    finally:
        procs.stop_all()
        engine.dispose()


def test_worker_gauges_report_the_federation_backlog_and_each_links_last_delta(
    migrated, own_registration, tmp_path
):
    """A downstream's cells waiting in federation_outbox, and the age of each
    registered downstream's last delta, as the worker's gauges publish them
    (read straight from the registry after one poll)."""
    from prometheus_client import REGISTRY
    from sqlalchemy import text

    url, vhost = own_registration
    env = dict(migrated)
    env.update(REGISTRATION_DATABASE_URL=url, AMQP_URI=vhost)
    upgrade(load(env=env).service("registration"))
    engine = create_engine(url, poolclass=NullPool)
    assert metrics.federation_state(engine) == (0, {})
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO federation_outbox"
                " (source, division_code, period, vals, version)"
                " SELECT 'registration_rollup', '610122', '2026-1' || n::text,"
                " '{\"volunteers\": 1}', n FROM generate_series(0, 2) AS n"
            )
        )
        conn.execute(
            text(
                "INSERT INTO federation_links (downstream, source, last_delta_at)"
                " VALUES ('lantian', 'registration_rollup',"
                "         now() - interval '120 seconds'),"
                "        ('lantian', 'registration_position_rollup',"
                "         now() - interval '900 seconds'),"
                "        ('zhouzhi', 'registration_rollup', NULL)"
            )
        )
    gauges = metrics.WorkerGauges("registration-fedtest", url, vhost, lambda: [])
    gauges.update()

    def sample(name: str, **labels: str) -> float | None:
        return REGISTRY.get_sample_value(name, labels)

    backlog = "zhiyuan_federation_outbox_backlog"
    age = sample(
        "zhiyuan_federation_last_delta_age_seconds",
        service="registration-fedtest", downstream="lantian",
    )  # fmt: skip
    assert sample(backlog, service="registration-fedtest") == 3
    # The newest of the downstream's links counts: 120 s, not 900 s.
    assert age is not None and 120 <= age < 600
    # A downstream that never sent anything has no age (nothing to alert on
    # until it has once sent; its registration is in the links' status).
    assert (
        sample(
            "zhiyuan_federation_last_delta_age_seconds",
            service="registration-fedtest",
            downstream="zhouzhi",
        )  # fmt: skip
        is None
    )
    with engine.begin() as conn:  # relayed: the gauge follows the table
        conn.execute(text("DELETE FROM federation_outbox"))
    gauges.update()
    assert sample(backlog, service="registration-fedtest") == 0
    gauges.engine.dispose()


def test_federation_state_is_none_without_federation_tables(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'embedded.db'}")
    assert metrics.federation_state(engine) is None
