"""The `zhiyuan` command and the preflight check, as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from services.common.auth import TokenVerifier
from services.common.testing import PUBLIC_PEM

pytestmark = pytest.mark.integration


def zhiyuan(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        env={**os.environ, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_token_is_signed_with_the_configured_key(migrated):
    done = zhiyuan(
        migrated,
        "token",
        "--username",
        "ops",
        "--scope",
        "61",
        "--roles",
        "province_admin",
    )
    assert done.returncode == 0, done.stderr
    principal = TokenVerifier(PUBLIC_PEM, "zhiyuan", "zhiyuan").verify(
        done.stdout.strip()
    )
    assert (principal.scope_code, principal.roles) == (
        "61",
        frozenset({"province_admin"}),
    )


def test_admin_create_then_duplicate_is_a_clear_error(migrated):
    args = (
        "admin",
        "create",
        "--username",
        "cli-admin",
        "--password-stdin",
        "--scope",
        "610113",
        "--roles",
        "tenant_admin",
    )
    first = zhiyuan(migrated, *args, stdin="long-enough-pw\n")
    assert first.returncode == 0, first.stderr
    again = zhiyuan(migrated, *args, stdin="long-enough-pw\n")
    assert again.returncode == 2
    assert "already exists" in again.stderr and "Traceback" not in again.stderr


def test_admin_create_outside_the_tree_is_refused(migrated):
    done = zhiyuan(
        migrated,
        "admin",
        "create",
        "--username",
        "ghost",
        "--password-stdin",
        "--scope",
        "999999",
        "--roles",
        "tenant_admin",
        stdin="long-enough-pw\n",
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_token_carries_the_org_claim_when_given(migrated):
    done = zhiyuan(
        migrated, "token", "--username", "lead", "--scope", "610113",
        "--roles", "org_leader", "--org", "org-1",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    principal = TokenVerifier(PUBLIC_PEM, "zhiyuan", "zhiyuan").verify(
        done.stdout.strip()
    )
    assert principal.organisation_id == "org-1"


@pytest.mark.parametrize("org", ["", "no-such-organisation"])
def test_admin_create_org_leader_needs_its_organisation(migrated, org):
    done = zhiyuan(
        migrated, "admin", "create", "--username", f"cli-leader{len(org)}",
        "--password-stdin", "--scope", "610113",
        "--roles", "org_leader", "--organisation-id", org,
        stdin="long-enough-pw\n",
    )  # fmt: skip
    assert done.returncode == 2
    assert "organisation_id" in done.stderr and "Traceback" not in done.stderr


def test_worker_probe_follows_the_heartbeat(migrated, tmp_path):
    beat = tmp_path / "beat"
    env = {**migrated, "REGISTRATION_HEARTBEAT_FILE": str(beat)}
    assert zhiyuan(env, "probe", "worker", "registration").returncode == 1
    beat.touch()
    assert zhiyuan(env, "probe", "worker", "registration").returncode == 0
    old = time.time() - 600
    os.utime(beat, (old, old))
    stale = zhiyuan(env, "probe", "worker", "registration", "--max-age", "60")
    assert stale.returncode == 1 and "old" in stale.stderr


def test_preflight_names_the_missing_server_and_how_to_start_it():
    env = {
        **os.environ,
        "AMQP_URI": "amqp://guest:guest@127.0.0.1:1/",
        "ZHIYUAN_TEST_PG_URL": "postgresql+psycopg://postgres@127.0.0.1:1/postgres",
    }
    done = subprocess.run(
        [sys.executable, "-m", "services.common.preflight"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "rabbitmq-server -detached" in done.stderr
    assert "pg_ctlcluster" in done.stderr


def test_rollup_export_and_certificate_check_against_the_running_apis(
    migrated, apis, stub, token
):
    from tests.integration.test_registration_flow import register

    register(stub, token("610113"))  # so Xi'an has a row
    done = zhiyuan(migrated, "rollup", "registration", "--division", "61")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith(
        "division_code,division_name,month,volunteers_registered"
    )
    assert any(line.startswith("6101,西安市,") for line in lines[1:])
    assert lines[-1].startswith("61,")  # the total row
    hours = zhiyuan(migrated, "rollup", "hours", "--division", "6101")
    assert hours.returncode == 0, hours.stderr
    missing = zhiyuan(migrated, "certificate", "verify", "ZYC-61-2026-000000-XXXX")
    assert missing.returncode == 3 and "Traceback" not in missing.stderr
    pending = zhiyuan(
        migrated, "hours", "pending", "--scope", "610113", "--role", "tenant_admin"
    )
    assert pending.returncode == 0, pending.stderr
    assert pending.stdout.startswith("id,volunteer_number")


def test_the_nations_rollup_export_is_by_province(migrated, apis, stub, token):
    from tests.integration.test_registration_flow import register

    register(stub, token("610113"))  # so Shaanxi has a row
    args = ("rollup", "registration", "--scope", "CN", "--role", "province_admin")
    done = zhiyuan(migrated, *args, "--division", "CN")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert any(line.startswith("61,陕西省,") for line in lines[1:-1])
    assert all(len(line.split(",")[0]) == 2 for line in lines[1:-1])
    assert lines[-1].startswith("CN,全国,")  # the nation's total row
    # A province's own export reads the same Shaanxi row as the nation's.
    own = zhiyuan(migrated, "rollup", "registration", "--scope", "61",
                  "--role", "province_admin", "--division", "61")  # fmt: skip
    shaanxi = next(x for x in lines if x.startswith("61,"))
    assert own.stdout.strip().splitlines()[-1] == shaanxi
    # The nation may not list anything personal through the CLI either.
    refused = zhiyuan(
        migrated, "hours", "pending", "--scope", "CN", "--role", "province_admin"
    )
    assert refused.returncode != 0 and "Traceback" not in refused.stderr


def test_settings_announce_rebuilds_a_lost_hours_replica(
    migrated, stub, token, worker, stubs
):
    from sqlalchemy import create_engine, text
    from zhiyuan.hours.v1 import hours_pb2
    from zhiyuan.registration.v1 import registration_pb2 as pb

    from services.common.testing import wait_for
    from tests.helpers import auth

    county = token("610124")

    def has_cap(value: str) -> bool:
        reply = stubs("hours").GetHourPolicy(
            hours_pb2.GetHourPolicyRequest(division_code="610124001"),
            metadata=auth(county),
        )
        return reply.daily_cap_hours == float(value)

    stub.UpdateTenantSettings(
        pb.UpdateTenantSettingsRequest(
            division_code="610124", set_json={"hours.daily_cap": "7"}
        ),
        metadata=auth(county),
    )
    wait_for(lambda: has_cap("7"), timeout=20, what="the replica to learn the cap")
    engine = create_engine(migrated["HOURS_DATABASE_URL"])
    with engine.begin() as conn:  # the replica is lost (a new deployment, say)
        conn.execute(
            text("DELETE FROM policy_overrides WHERE division_code = '610124'")
        )
    engine.dispose()
    assert not has_cap("7")
    done = zhiyuan(migrated, "settings", "announce", "--scope", "610124")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("1 nodes")
    wait_for(lambda: has_cap("7"), timeout=20, what="the replica rebuilt by announce")


def test_admin_create_reads_the_password_from_stdin(migrated, apis, stub):
    from zhiyuan.registration.v1 import registration_pb2 as pb

    argv = [sys.executable, "-m", "services.cli", "admin", "create",
            "--username", "cli-stdin", "--scope", "610113",
            "--roles", "tenant_admin"]  # fmt: skip
    env = {**os.environ, **migrated}
    no_terminal = subprocess.run(
        argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert no_terminal.returncode != 0
    assert "--password-stdin" in no_terminal.stderr
    assert "Traceback" not in no_terminal.stderr

    done = subprocess.run(
        [*argv, "--password-stdin"], env=env, input="stdin-password-1\n",
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "stdin-password-1" not in done.stdout + done.stderr
    reply = stub.Login(
        pb.LoginRequest(username="cli-stdin", password="stdin-password-1")
    )
    assert reply.access_token and reply.account.username == "cli-stdin"
