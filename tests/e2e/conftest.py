"""The platform as `make run` starts it, shared by the e2e tests: its own
databases and vhost, migrated and seeded, then `zhiyuan up`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from services.common.testing import (
    Processes,
    create_migrated_database,
    create_vhost,
    delete_vhost,
    drop_database,
    platform_env,
    wait_for,
)
from tests.helpers import PASSWORD  # the seed's demo logins


@pytest.fixture(scope="package")
def platform(tmp_path_factory):  # type: ignore[no-untyped-def]
    # Each database a copy of its service's migrated template (the one the
    # integration tests copy too); `zhiyuan migrate` below then finds it at
    # head, as on a platform's second start.
    from services.catalog import SERVICES
    from services.common.config import load

    cfg = load()
    urls = {
        name: create_migrated_database(cfg.service(name), f"zy_e2e_{name[:4]}")
        for name in SERVICES
    }
    vhost = create_vhost()
    tmp = tmp_path_factory.mktemp("e2e")
    env = platform_env(tmp, urls, vhost)
    procs = Processes(env, tmp)
    try:
        for step in (["migrate"], ["seed", "--volunteers", "12"]):
            done = subprocess.run(
                [sys.executable, "-m", "services.cli", *step],
                env=procs.env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, done.stdout + done.stderr
        procs.start("platform", "services.cli", "up")
        base = f"http://{env['GATEWAY_LISTEN']}"
        wait_for(
            lambda: all_serving(httpx.get(f"{base}/readyz", timeout=5)),
            timeout=180,  # eleven processes starting on two busy cores
            what="gateway /readyz with every api SERVING",
        )
        wait_for(
            Path(env["REGISTRATION_HEARTBEAT_FILE"]).exists,
            timeout=60,
            what="worker heartbeat",
        )
        yield base, env, procs
    except BaseException:
        if "platform" in procs.procs:
            print(procs.log("platform")[-5000:])
        raise
    finally:
        procs.stop_all()
        for url in urls.values():
            drop_database(url)
        delete_vhost(vhost)


def all_serving(ready: httpx.Response) -> bool:
    """The gateway is ready and sees every service api SERVING."""
    body = ready.json() if ready.status_code == 200 else {}
    return bool(body.get("backends")) and not body.get("degraded")


def login(base: str, username: str) -> dict:
    return login_with(base, username, PASSWORD)


def login_with(base: str, username: str, password: str) -> dict:
    r = httpx.post(
        f"{base}/api/v1/login", json={"username": username, "password": password}
    )
    assert r.status_code == 200, r.text
    return {"authorization": f"Bearer {r.json()['access_token']}"}
