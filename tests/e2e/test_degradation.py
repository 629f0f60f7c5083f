"""One service api down, the rest of the platform up: the gateway stays ready
(login included), the dashboard and its export show every other service's
figures and name the missing one, and the console says so in a banner.
An api whose database cannot be reached reports NOT_SERVING for its named
health service while its process stays live.

The platform is the package's `zhiyuan up`; the api stopped here is a second
hours api with its own gateway, so the supervisor (which would restart the
platform's own) is not in the way."""

from __future__ import annotations

import csv
import io
import os
import signal

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from openpyxl import load_workbook

from services.common.testing import Processes, free_port, wait_for
from tests.browser import shot
from tests.e2e.conftest import PASSWORD, all_serving

pytestmark = pytest.mark.e2e
HOURS = "zhiyuan.hours.v1.HoursService"
HOURS_FIGURES = ("hours_total", "hours_year")


@pytest.fixture(scope="module")
def own_hours(platform, tmp_path_factory):  # type: ignore[no-untyped-def]
    """A gateway whose hours api is a process of this test's own."""
    _, env, _ = platform
    port = free_port()
    env = {
        **env,
        "HOURS_GRPC_LISTEN": f"127.0.0.1:{port}",
        "HOURS_GRPC_ADDRESS": f"127.0.0.1:{port}",
        "HOURS_API_METRICS_LISTEN": f"127.0.0.1:{free_port()}",
        "GATEWAY_LISTEN": f"127.0.0.1:{free_port()}",
        "GATEWAY_METRICS_LISTEN": f"127.0.0.1:{free_port()}",
    }
    procs = Processes(env, tmp_path_factory.mktemp("degradation"))
    api = procs.start("hours-api", "services.cli", "run", "hours", "api")
    procs.start("gateway", "services.cli", "run", "gateway")
    base = f"http://{env['GATEWAY_LISTEN']}"
    try:
        wait_for(
            lambda: all_serving(httpx.get(f"{base}/readyz", timeout=5)),
            timeout=180,
            what="the second gateway with every api SERVING",
        )
        yield base, api, procs
    finally:
        procs.stop_all()


# Generous: on two busy cores a province's dashboard can take a while.
SLOW = httpx.Timeout(120.0)


def board(base: str, headers: dict) -> httpx.Response:
    return httpx.get(f"{base}/api/v1/dashboard", headers=headers, timeout=SLOW)


def test_one_api_down_leaves_the_rest_served(own_hours, page) -> None:  # type: ignore[no-untyped-def]
    base, api, procs = own_hours
    token = httpx.post(
        f"{base}/api/v1/login",
        json={"username": "sx-admin", "password": PASSWORD},
        timeout=SLOW,
    ).json()["access_token"]
    auth = {"authorization": f"Bearer {token}"}
    # Every service answering (a busy machine may first miss a deadline).
    full = wait_for(
        lambda: (b := board(base, auth).json())["unavailable"] == [] and b,
        timeout=300,
        interval=1,
        what="a complete dashboard",
    )

    os.kill(api.pid, signal.SIGKILL)  # the hours api dies, by its pid
    api.wait(timeout=10)
    ready = wait_for(
        lambda: (
            (r := httpx.get(f"{base}/readyz", timeout=SLOW)).json()["degraded"] and r
        ),
        timeout=30,
        what="readyz to notice hours is gone",
    )
    assert ready.status_code == 200
    assert ready.json()["degraded"] == ["hours"]
    assert ready.json()["backends"]["hours"] != "SERVING"
    assert ready.json()["backends"]["registration"] == "SERVING"
    assert httpx.post(
        f"{base}/api/v1/login",
        json={"username": "sx-admin", "password": PASSWORD},
        timeout=SLOW,
    ).is_success  # login does not need hours

    def only_hours_missing() -> dict | None:
        got = board(base, auth)
        assert got.status_code == 200, got.text
        return got.json() if got.json()["unavailable"] == ["hours"] else None

    body = wait_for(only_hours_missing, timeout=300, interval=1, what="hours missing")
    assert "时长" in body["notice"]["message_zh"]
    assert "Hours" in body["notice"]["message_en"]
    for name, value in full["headline"].items():
        want = None if name in HOURS_FIGURES else value
        assert body["headline"][name] == want, name
    assert body["charts"]["hours_by_month"] == [] == body["charts"]["hours_by_field"]
    assert body["charts"]["stars"] == full["charts"]["stars"]
    assert [c["code"] for c in body["children"]] == [
        c["code"] for c in full["children"]
    ]
    for row, was in zip(body["children"], full["children"], strict=True):
        assert row["hours_total"] is None and row["hours_year"] is None
        assert row["volunteers_registered"] == was["volunteers_registered"]
        assert row["tonnes"] == was["tonnes"]

    csv_reply = httpx.get(
        f"{base}/api/v1/dashboard/export",
        params={"format": "csv"},
        headers=auth,
        timeout=SLOW,
    )
    assert csv_reply.status_code == 200
    assert csv_reply.headers["zhiyuan-unavailable"] == "hours"
    rows = list(csv.reader(io.StringIO(csv_reply.content.decode("utf-8-sig"))))
    header = rows[0]
    hours_col = header.index("累计服务时长 hours_total")
    tonnes_col = header.index("回收（吨） tonnes")
    assert len(rows) - 1 == len(body["children"])
    assert {r[hours_col] for r in rows[1:]} == {""}
    assert [float(r[tonnes_col]) for r in rows[1:]] == [
        c["tonnes"] for c in body["children"]
    ]
    xlsx = httpx.get(
        f"{base}/api/v1/dashboard/export",
        params={"format": "xlsx"},
        headers=auth,
        timeout=SLOW,
    )
    assert xlsx.status_code == 200 and xlsx.headers["zhiyuan-unavailable"] == "hours"
    book = load_workbook(io.BytesIO(xlsx.content))
    notes = [c.value for c in book["unavailable"]["A"]]
    assert any("时长" in n for n in notes) and any("Hours" in n for n in notes)

    # The console: a banner names the missing service; the rest is drawn.
    page.goto(f"{base}/console/")
    page.fill("input[name=username]", "sx-admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[data-testid=login-form] button[type=submit]")
    banner = "部分数据暂不可用 / Some data is unavailable: 时长 Hours"

    def shows_banner() -> bool:
        shown = page.wait_for_selector("[data-testid=unavailable]", timeout=120_000)
        if shown.inner_text() == banner:
            return True
        page.reload()  # another service missed its deadline on a busy machine
        return False

    wait_for(shows_banner, timeout=300, interval=1, what="the banner")
    assert page.inner_text("[data-testid=figure-hours_total]") == "—"
    registered = page.get_attribute(
        "[data-testid=figure-volunteers_registered]", "data-value"
    )
    assert float(registered) == full["headline"]["volunteers_registered"]
    box = page.locator("[data-testid=chart-hours-by-month] [data-unavailable=hours]")
    assert box.count() == 1
    assert page.locator("[data-testid=children] tbody tr").count() == len(
        full["children"]
    )
    shot(page, "dashboard-hours-unavailable")


def test_an_api_without_its_database_is_live_but_not_ready(platform, tmp_path):  # type: ignore[no-untyped-def]
    _, env, _ = platform
    port = free_port()
    env = {
        **env,
        # Nothing listens there: the database cannot be reached.
        "HOURS_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x",
        "HOURS_GRPC_LISTEN": f"127.0.0.1:{port}",
        "HOURS_GRPC_ADDRESS": f"127.0.0.1:{port}",
        "HOURS_API_METRICS_LISTEN": f"127.0.0.1:{free_port()}",
    }
    procs = Processes(env, tmp_path)
    procs.start("hours-api", "services.cli", "run", "hours", "api")

    def status(service: str) -> str:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=2
            )
        return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)

    try:
        wait_for(lambda: status("") == "SERVING", timeout=60, what="hours api")
        assert wait_for(lambda: status(HOURS) == "NOT_SERVING", timeout=30)
        assert status("") == "SERVING"  # alive: liveness must not restart it
    finally:
        procs.stop_all()
