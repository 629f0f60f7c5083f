"""Embedded mode (`make run` without a database URL): SQLite files under the
data directory, same migrations, seed and use cases."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import select

pytestmark = pytest.mark.integration


@pytest.fixture
def own_vhost():
    """A vhost of this test's own: the seed's workers must not share queues
    with the session's workers (on PostgreSQL), which would take the
    embedded platform's events and leave its seed waiting."""
    from services.common.testing import create_vhost, delete_vhost

    uri = create_vhost()
    yield uri
    delete_vhost(uri)


def test_migrate_seed_and_register_on_sqlite(tmp_path, monkeypatch, own_vhost):
    from services.catalog import SERVICES
    from services.common.testing import free_port

    # None of the session platform's per-service settings: its heartbeat
    # files would tell the seed that workers are alive (they are, but on
    # PostgreSQL), its addresses would reach its api roles.
    prefixes = tuple(f"{name.upper()}_" for name in SERVICES)
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(ZHIYUAN_DATA_DIR=str(tmp_path), AMQP_URI=own_vhost)
    # Every service embedded, none pointing at the session's PostgreSQL.
    env.update({f"{name.upper()}_DATABASE_URL": "" for name in SERVICES})
    port = free_port()  # the seed may serve registration's api itself
    env["REGISTRATION_GRPC_ADDRESS"] = env["REGISTRATION_GRPC_LISTEN"] = (
        f"127.0.0.1:{port}"
    )
    for key in ("JWT_PRIVATE_KEY", "JWT_PUBLIC_KEY", "PII_KEY"):
        env.pop(key, None)
    for step in (
        ["keys", "ensure"],
        ["migrate"],
        ["seed", "--volunteers", "8"],
        ["seed", "--volunteers", "8"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "services.cli", *step],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "skipped" not in done.stdout, done.stdout
    assert "already present" in done.stdout  # the second seed changed nothing
    for name in SERVICES:  # each service has its own embedded database
        assert (tmp_path / "data" / f"{name}.db").exists()

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for name in SERVICES:
        monkeypatch.delenv(f"{name.upper()}_DATABASE_URL")
    for key in ("JWT_PRIVATE_KEY", "JWT_PUBLIC_KEY", "PII_KEY"):  # the dev key files
        monkeypatch.delenv(key, raising=False)
    from services.common import keys
    from services.common.auth import Principal
    from services.common.config import load
    from services.common.db import Database
    from services.common.tenancy import Scope
    from services.registration.application import RegistrationApp
    from services.registration.models import Volunteer
    from services.registration.queries import RegistrationQueries
    from tests.helpers import new_id_number, new_phone

    cfg = load()
    db = Database(cfg.service("registration"))
    assert db.engine.dialect.name == "sqlite"
    cipher = keys.pii_cipher(cfg)
    app = RegistrationApp(db, cipher, keys.issuer(cfg))
    province = Principal("t", "t", "61", frozenset({"province_admin"}), 0)
    before = RegistrationQueries(db, cipher).summarize(
        province, "61", None, "", "", False
    )
    vol = app.people.register_volunteer(
        province,
        "周八",
        new_id_number("610113"),
        new_phone(),
        "610113001",
        [],
        None,
        "",
    )
    app.people.review_volunteer(province, vol.id, True, "")
    after = RegistrationQueries(db, cipher).summarize(
        province, "61", None, "", "", False
    )
    assert before.total["volunteers_registered"] == 8
    assert after.total["volunteers_registered"] == 9
    assert after.total["volunteers_verified"] == before.total["volunteers_verified"] + 1
    # Each city row equals the sum of the raw volunteers in its subtree.
    with db.session(Scope("61")) as s:
        homes = s.execute(select(Volunteer.home_division_code)).scalars().all()
    for code, _, metrics in after.rows:
        assert metrics["volunteers_registered"] == sum(
            h.startswith(code) for h in homes
        )
    token, _, _ = app.accounts.login("yanta-admin", "zhiyuan-demo-2026")
    assert keys.verifier(cfg).verify(token).scope_code == "610113"
    db.dispose()
