"""`zhiyuan up` restarts a crashed process and keeps the others running; a
SIGTERM to it stops every child. Real api processes on the test databases."""

from __future__ import annotations

import io
import os
import re
import signal
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common.testing import Processes, free_port, wait_for
from services.supervisor import Supervisor

WATCHED = ("registration", "activity")


def started(log: str) -> dict[str, list[int]]:
    """process name → the pids it was started with, in order."""
    pids: dict[str, list[int]] = {}
    for name, pid in re.findall(r"started (\S+) \(pid (\d+)\)", log):
        pids.setdefault(name, []).append(int(pid))
    return pids


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def serving(address: str) -> bool:
    with grpc.insecure_channel(address) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=2
        )
    return reply.status == health_pb2.HealthCheckResponse.SERVING


def test_up_restarts_a_killed_process_and_stops_all(migrated, tmp_path):
    env = dict(migrated)
    for name in WATCHED:  # own ports: the session's in-process apis hold theirs
        port = free_port()
        env[f"{name.upper()}_GRPC_LISTEN"] = f"127.0.0.1:{port}"
        env[f"{name.upper()}_GRPC_ADDRESS"] = f"127.0.0.1:{port}"
        env[f"{name.upper()}_API_METRICS_LISTEN"] = f"127.0.0.1:{free_port()}"
    procs = Processes(env, tmp_path)
    only = ",".join(f"{name}-api" for name in WATCHED)
    up = procs.start("up", "services.cli", "up", "--only", only)
    try:
        address = env["REGISTRATION_GRPC_ADDRESS"]
        wait_for(lambda: serving(address), timeout=60, what="registration api")
        wait_for(
            lambda: serving(env["ACTIVITY_GRPC_ADDRESS"]),
            timeout=60,
            what="activity api",
        )
        first = started(procs.log("up"))
        victim, bystander = first["registration-api"][0], first["activity-api"][0]

        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: not alive(victim), timeout=10, what="the killed api to go")
        wait_for(
            lambda: len(started(procs.log("up"))["registration-api"]) == 2,
            timeout=30,
            what="the restart",
        )
        wait_for(lambda: serving(address), timeout=60, what="registration api back")

        log = procs.log("up")
        again = started(log)
        assert again["registration-api"][1] != victim
        assert again["activity-api"] == [bystander] and alive(bystander)
        assert re.search(
            rf"registration-api \(pid {victim}\) exited \(killed by signal 9\).*"
            r"restart #1 in 1s",
            log,
        ), log[-3000:]

        up.send_signal(signal.SIGTERM)
        assert up.wait(timeout=30) == 0
        children = [again["registration-api"][1], bystander]
        assert not [pid for pid in children if alive(pid)]
        assert "all processes stopped" in procs.log("up")
    finally:
        procs.stop_all()


def crashing(stable_after: float) -> tuple[Supervisor, io.StringIO]:
    out = io.StringIO()
    sup = Supervisor(
        {"crasher": [sys.executable, "-c", "raise SystemExit(3)"]},
        first_delay=0.01,
        max_delay=0.04,
        stable_after=stable_after,
        out=out,
    )
    sup.start(sup.children["crasher"])
    return sup, out


def restarts(sup: Supervisor, out: io.StringIO, count: int) -> list[tuple[str, str]]:
    """Supervise until ``count`` restarts were announced; their (#, delay)."""

    def announced() -> list[tuple[str, str]]:
        sup.tick()
        found = re.findall(
            r"exit code 3\) after \S+; restart #(\d+) in (\S+)s", out.getvalue()
        )
        return found if len(found) >= count else []

    try:
        return wait_for(announced, timeout=30, interval=0.005, what="restarts")[:count]  # type: ignore[no-any-return]
    finally:
        sup.stopping.set()
        sup.stop_all()


def test_backoff_doubles_up_to_the_cap():
    sup, out = crashing(stable_after=3600)
    assert restarts(sup, out, 4) == [
        ("1", "0.01"),
        ("2", "0.02"),
        ("3", "0.04"),
        ("4", "0.04"),
    ]


def test_backoff_starts_again_after_a_stable_run():
    sup, out = crashing(stable_after=0)  # every run counts as having recovered
    assert restarts(sup, out, 3) == [("1", "0.01")] * 3
