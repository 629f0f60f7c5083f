"""The nation (scope ``CN``) reads every service's rollups, and its figures
are the provinces' own: in a private database per service, facts written in
two provinces (each under its own scope), then Summarize as the nation, as
each province's admin and as the nation drilling down, compared.

Row security is what is tested underneath: the national read visits each
province under that province's scope, so a province's rows are what its own
admin would see, never more (no empty or national ``zhiyuan.scope``).
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import text

from services.common.auth import Principal
from services.common.config import load
from services.common.db import Database
from services.common.errors import InvalidArgument, PermissionDenied
from services.common.rollup_query import RollupResult
from services.common.tenancy import Level, NationalScope, Scope
from services.common.testing import create_migrated_database, drop_database

pytestmark = pytest.mark.integration

SHAANXI, GANSU, BEIJING = "61", "62", "11"
# Facts at townships of two provinces (two in Shaanxi, in two cities).
FACTS = [
    ("610113001", "2026-03", 1.0),
    ("610202001", "2026-04", 2.0),
    ("620102001", "2026-03", 5.0),
]


def _queries(service: str, db: Database) -> Any:
    """The service's own read side, whose ``summarize`` the api serves."""
    if service == "registration":
        from services.registration.queries import RegistrationQueries

        return RegistrationQueries(db, None)  # type: ignore[arg-type]
    if service == "activity":
        from services.activity.queries import ActivityQueries

        return ActivityQueries(db)
    if service == "hours":
        from services.hours.queries import HoursQueries

        return HoursQueries(db)
    if service == "recycling":
        from services.recycling.queries import RecyclingQueries

        return RecyclingQueries(db)
    from services.commendation.queries import CommendationQueries

    # Summarize reads only the context's database.
    return CommendationQueries(SimpleNamespace(db=db))  # type: ignore[arg-type]


def _rollup(service: str) -> Any:
    module = __import__(f"services.{service}.models", fromlist=["ROLLUP"])
    return module.ROLLUP


SERVICES = ("registration", "activity", "hours", "recycling", "commendation")


@pytest.fixture(scope="module", params=SERVICES)
def world(request: Any, env: dict[str, str]) -> Iterator[SimpleNamespace]:
    """A private database of one service with the facts written under each
    province's own scope (as the service's writes do), metrics numbered so
    that every metric differs."""
    service = request.param
    svc = load().service(service)
    url = create_migrated_database(svc, f"zy_cn_{service[:4]}")
    db = Database(type(svc)(**{**svc.__dict__, "database_url": url}))
    rollup = _rollup(service)
    try:
        for code, month, base in FACTS:
            deltas = {m: base * (i + 1) for i, m in enumerate(rollup.metrics)}
            with db.session(Scope(code[:2])) as s:
                rollup.bump_many(s, [(code, month, deltas)])
        yield SimpleNamespace(
            service=service, db=db, q=_queries(service, db), rollup=rollup
        )
    finally:
        db.dispose()
        drop_database(url)


def caller(scope: str, *roles: str) -> Principal:
    return Principal(
        "t", f"t-{scope}", scope, frozenset(roles or ("province_admin",)), 2**40
    )


NATION = caller("CN")


def summarize(w: SimpleNamespace, p: Principal, node: str = "", **kw: Any) -> Any:
    args: dict[str, Any] = dict(group_by=None, start="", end="", by_month=False)
    args.update(kw)
    return w.q.summarize(
        p, node, args["group_by"], args["start"], args["end"], args["by_month"]
    )


def rows(result: RollupResult) -> dict[tuple[str, str], dict[str, float]]:
    return {(code, month): metrics for code, month, metrics in result.rows}


def test_the_nation_sees_each_province_as_its_admin_does(world) -> None:  # type: ignore[no-untyped-def]
    national = summarize(world, NATION)
    shaanxi = summarize(world, caller(SHAANXI), SHAANXI)
    gansu = summarize(world, caller(GANSU), GANSU)
    assert national.node == "CN"
    # By province: the two with facts, each exactly its admin's total.
    got = rows(national)
    assert set(got) == {(SHAANXI, ""), (GANSU, "")}
    assert got[(SHAANXI, "")] == shaanxi.total
    assert got[(GANSU, "")] == gansu.total
    # The nation's total is the provinces' sum, every metric of it.
    for metric in world.rollup.metrics:
        want = shaanxi.total[metric] + gansu.total[metric]
        assert national.total[metric] == pytest.approx(want), metric
        assert want > 0, metric  # the facts did reach every metric
    # And the facts themselves: 1 + 2 in Shaanxi, 5 in Gansu, for metric 1.
    first = world.rollup.metrics[0]
    assert national.total[first] == pytest.approx(8.0)


def test_the_nation_drills_down_to_any_node(world) -> None:  # type: ignore[no-untyped-def]
    for node in (SHAANXI, "6101", "610113", "610113001"):
        own = summarize(world, caller(node, "tenant_admin"), node)
        national = summarize(world, NATION, node)
        assert (national.node, national.total, national.rows) == (
            own.node,
            own.total,
            own.rows,
        ), node
    # A province with no facts: zeros, not an error.
    empty = summarize(world, NATION, BEIJING)
    assert not empty.rows and not any(empty.total.values())


def test_the_nation_by_month_and_by_city(world) -> None:  # type: ignore[no-untyped-def]
    monthly = rows(summarize(world, NATION, by_month=True))
    assert set(monthly) == {(SHAANXI, "2026-03"), (SHAANXI, "2026-04"),
                            (GANSU, "2026-03")}  # fmt: skip
    cities = summarize(world, NATION, group_by=Level.CITY)
    assert {c for c, _, _ in cities.rows} == {"6101", "6102", "6201"}
    first = world.rollup.metrics[0]
    assert cities.total[first] == pytest.approx(8.0)
    year = summarize(world, NATION, start="2026-01", end="2026-12")
    assert year.total[first] == pytest.approx(8.0)


def test_a_province_cannot_read_the_nation(world) -> None:  # type: ignore[no-untyped-def]
    for node in ("CN", GANSU):
        with pytest.raises(PermissionDenied) as err:
            summarize(world, caller(SHAANXI), node)
        assert err.value.rule == "scope.contains"


@pytest.mark.parametrize("claim", ["cn", "CN ", " CN", "ＣＮ", "CN61"])
def test_other_spellings_of_the_nation_are_malformed(world, claim: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied) as err:
        summarize(world, caller(claim))
    assert err.value.rule == "scope.malformed"


def test_the_nation_names_no_level_above_a_node(world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidArgument) as err:
        summarize(world, NATION, "6101", group_by=Level.PROVINCE)
    assert err.value.field == "query.group_by"


def test_the_nation_has_no_tenant_session(world) -> None:  # type: ignore[no-untyped-def]
    # Whatever asks for a tenant scope refuses the nation by its rule...
    with pytest.raises(PermissionDenied) as err:
        NATION.scope  # noqa: B018
    assert err.value.rule == "scope.national"
    assert "全国" in err.value.message_zh and "national" in err.value.message_en
    # ...and no database session opens under the national scope.
    with pytest.raises(TypeError), world.db.session(NationalScope()):  # type: ignore[arg-type]
        pytest.fail("a session opened under the national scope")


def test_rollup_rows_are_kept_under_row_security(world) -> None:  # type: ignore[no-untyped-def]
    # The control for the national read: under Shaanxi's scope the
    # application role sees no Gansu row, so the nation's Gansu figures come
    # from a read under Gansu's own scope.
    table = world.rollup.table_name
    with world.db.session(Scope(SHAANXI)) as s:
        codes = set(s.execute(text(f"SELECT division_code FROM {table}")).scalars())
    assert codes and all(c.startswith(SHAANXI) for c in codes)
