"""`zhiyuan up` restarts a crashed process and keeps the others running; a
SIGTERM to it stops every child; it says "ready" once every process answers;
it starts nothing when a listen address is taken, and names the variable to
change. Real api processes on the test databases."""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.cli.supervisor import Supervisor
from services.common.testing import Processes, free_port, wait_for

READY = "ready / 已就绪: 2 processes answer"

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
        wait_for(lambda: READY in procs.log("up"), timeout=60, what="the ready line")
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
        assert log.count(READY) == 1  # once, not again after a restart
        assert log.index("started activity-api") < log.index(READY)
        assert "gRPC registration:" in log.split(READY, 1)[1]
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


def test_up_starts_nothing_when_a_listen_address_is_taken(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = f"127.0.0.1:{holder.getsockname()[1]}"
        env = {
            **os.environ,
            "ACTIVITY_GRPC_LISTEN": taken,
            "ACTIVITY_API_METRICS_LISTEN": f"127.0.0.1:{free_port()}",
            "REGISTRATION_GRPC_LISTEN": f"127.0.0.1:{free_port()}",
            "REGISTRATION_API_METRICS_LISTEN": f"127.0.0.1:{free_port()}",
        }
        done = subprocess.run(
            [sys.executable, "-m", "services.cli", "up",
             "--only", "registration-api,activity-api"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 1
    assert f"{taken} (ACTIVITY_GRPC_LISTEN)" in done.stderr
    assert "activity-api cannot start" in done.stderr
    assert "activity-api 无法启动" in done.stderr
    assert "nothing was started" in done.stderr and "Traceback" not in done.stderr
    assert "(REGISTRATION_GRPC_LISTEN)" not in done.stderr  # free: not refused
    assert "started" not in done.stdout


def test_ready_is_said_once_when_every_probe_passes():
    answers = {"a": iter([False, True]), "b": iter([False, False, True])}
    out = io.StringIO()
    sup = Supervisor(
        {},
        out=out,
        ready={name: (lambda it=it: next(it, True)) for name, it in answers.items()},
        on_ready=lambda seconds: "all up\nsecond line",
        remind_every=0,
    )
    assert sup.await_ready(poll=0.001) is True
    log = out.getvalue()
    assert "waiting for a, b" in log and "waiting for b (" in log
    assert log.count("all up") == 1 and log.rstrip().endswith("| second line")


def test_ready_is_not_said_when_stopped_first():
    out = io.StringIO()

    def broken() -> bool:
        raise ConnectionRefusedError  # a probe's failure means "not yet"

    sup = Supervisor({}, out=out, ready={"x": broken}, remind_every=3600)
    sup.stopping.set()
    assert sup.await_ready(poll=0.001) is False
    assert "ready" not in out.getvalue()


def test_an_api_whose_port_was_taken_after_the_check_says_so_in_one_line(
    tmp_path,
):
    env = {**os.environ, "ZHIYUAN_DATA_DIR": str(tmp_path),
           "REGISTRATION_API_METRICS_LISTEN": ""}  # fmt: skip
    env.pop("JWT_PUBLIC_KEY", None)
    keys = [sys.executable, "-m", "services.cli", "keys", "ensure"]
    assert subprocess.run(keys, env=env, capture_output=True).returncode == 0
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        env["REGISTRATION_GRPC_LISTEN"] = f"127.0.0.1:{holder.getsockname()[1]}"
        done = subprocess.run(
            [sys.executable, "-m", "services.cli", "run", "registration", "api"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "registration-api: cannot listen on" in done.stderr
    assert "set REGISTRATION_GRPC_LISTEN" in done.stderr
