"""hours_presence_of (hours revision 0005): a chunk's presence read joins
the distinct ids it is given, so it answers every presence row of those
volunteers in every tenant, once each, whatever the array repeats, and
nothing of anyone else; and its body no longer filters by ``= ANY``, the
form that became a row-by-id scan at national size (docs/open-work.md)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from services.common.config import load
from services.common.db import Database
from services.common.tenancy import Scope
from services.common.testing import create_migrated_database, drop_database
from services.hours.rollups import _present

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def presence(env: dict[str, str]) -> Iterator[tuple[Database, Any]]:
    svc = load().service("hours")
    url = create_migrated_database(svc, "zy_presence")
    owner = create_engine(url)
    db = Database(type(svc)(**{**svc.__dict__, "database_url": url}))
    try:
        yield db, owner
    finally:
        db.dispose()
        owner.dispose()
        drop_database(url)


def test_every_row_of_the_named_volunteers_once_and_no_one_else(presence) -> None:  # type: ignore[no-untyped-def]
    db, owner = presence
    a, b, other = (str(uuid.uuid4()) for _ in range(3))
    rows = [
        (a, "610113001", "2026-01", "elderly_care", 2),
        (a, "110101001", "2026-02", "medical", 1),  # another province
        (b, "610116001", "2026-01", "elderly_care", 3),
        (other, "610113001", "2026-01", "elderly_care", 5),
    ]
    with owner.begin() as conn:
        for v, code, month, field, n in rows:
            conn.execute(
                text(
                    "INSERT INTO hours_presence (volunteer_id, division_code, month,"
                    " service_field, records) VALUES (:v, :c, :m, :f, :n)"
                ),
                {"v": v, "c": code, "m": month, "f": field, "n": n},
            )
    with db.session(Scope("610113")) as s:
        found = _present(s, [a, b, a, str(uuid.uuid4()), b])
    assert found == {(v, c, m, f): n for v, c, m, f, n in rows if v != other}


def test_the_function_joins_the_ids_instead_of_filtering_by_any(presence) -> None:  # type: ignore[no-untyped-def]
    _, owner = presence
    with owner.connect() as conn:
        body = conn.execute(
            text("SELECT prosrc FROM pg_proc WHERE proname = 'hours_presence_of'")
        ).scalar_one()
    assert "unnest(p_volunteers)" in body and "ANY(" not in body.upper(), body
