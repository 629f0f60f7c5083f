"""make run's choice of databases (scripts/local_databases.py): the local
PostgreSQL when it answers, embedded SQLite otherwise, the operator's own
URLs always first."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from services.catalog import SERVICES
from services.common.testing import free_port, pg_admin_url

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "local_databases.py"
spec = importlib.util.spec_from_file_location("local_databases", SCRIPT)
assert spec and spec.loader
local = importlib.util.module_from_spec(spec)
spec.loader.exec_module(local)


def test_own_urls_win_and_nothing_is_written():
    values, said = local.choose(
        {"HOURS_DATABASE_URL": "postgresql+psycopg://x@db/hours"}, pg_admin_url()
    )
    assert values == {}
    assert "DATABASE_URL" in said


def test_embedded_on_request():
    values, said = local.choose({"ZHIYUAN_EMBEDDED": "1"}, pg_admin_url())
    assert values == {}
    assert "SQLite" in said


def test_a_silent_server_means_sqlite_and_says_why():
    closed = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/postgres"
    values, said = local.choose({}, closed)
    assert values == {}
    assert "does not answer" in said and "SQLite" in said


def test_a_database_per_service_created_once():
    prefix = f"zy_test_local_{uuid.uuid4().hex[:8]}"
    admin = pg_admin_url()
    try:
        first = local.database_urls(admin, prefix)
        again = local.database_urls(admin, prefix)  # present: not created twice
        assert first == again
        assert sorted(first) == sorted(SERVICES)
        for name, url in first.items():
            assert url.endswith(f"/{prefix}_{name}")
            engine = create_engine(url)
            with engine.connect() as conn:
                assert conn.execute(text("SELECT current_database()")).scalar() == (
                    f"{prefix}_{name}"
                )
            engine.dispose()
    finally:
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for name in SERVICES:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{prefix}_{name}"'))
        engine.dispose()


def test_main_writes_the_env_file(tmp_path, monkeypatch):
    for name in SERVICES:
        monkeypatch.delenv(f"{name.upper()}_DATABASE_URL", raising=False)
    monkeypatch.setenv("ZHIYUAN_EMBEDDED", "1")
    out = tmp_path / "local.env"
    assert local.main(["--write", str(out)]) == 0
    assert out.read_text() == ""


def test_help_says_what_it_does(capsys):
    with pytest.raises(SystemExit):
        local.main(["--help"])
    assert "make run" in capsys.readouterr().out
