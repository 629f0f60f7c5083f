"""Service positions (志愿服务阵地, issue 14) without I/O: the rules of
``check_position`` (kinds, base levels, where each kind sits, text), the
use cases over the in-memory fakes (roles, scope, the positions rollup
moved by a change of kind or division, nothing kept when refused), the
kernel's ``join_rows`` that puts two rollup tables into one Summarize
answer, and the hours rollup's ``position_hours`` bookkeeping."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from services.common.auth import Principal
from services.common.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from services.common.rollup import month_of
from services.common.rollup_query import join_rows
from services.registration.application import RegistrationApp
from services.registration.models import POSITION_ROLLUP, Position
from services.registration.usecases.positions import check_position
from tests.unit.registration_fakes import (
    FakeRepository,
    FakeStore,
    TransactionalFakeUoW,
)
from tests.unit.test_registration_usecases import COUNTY, TOWN, division

NOW = datetime(2026, 5, 6, 2, 0, tzinfo=UTC)
MONTH = month_of(NOW)


# -- the pure rules -----------------------------------------------------------------


def rule_of(**over: Any) -> tuple[str, str]:
    fields: dict[str, Any] = dict(
        name="曲江服务站", kind="station", base_level="", code=TOWN, address="",
        opening_hours="",
    )  # fmt: skip
    fields.update(over)
    with pytest.raises(InvalidArgument) as err:
        check_position(**fields)
    assert err.value.message_zh and err.value.message_en
    return str(err.value.field), str(err.value.rule)


@pytest.mark.parametrize(
    ("kind", "level", "code"),
    [
        ("guidance_centre", "", COUNTY),
        ("street_centre", "", TOWN),
        ("station", "", TOWN),
        ("station", "", f"{TOWN}001"),
        ("base", "district", COUNTY),
        ("base", "district", f"{TOWN}001"),
        ("base", "city", "6101"),
        ("base", "province", "61"),
        ("base", "national", "61"),
        ("base", "national", TOWN),
    ],
)
def test_each_kind_sits_where_it_belongs(kind: str, level: str, code: str) -> None:
    got = check_position(" 某阵地 ", kind, level, f" {code} ", " 某路 ", " 9-17 ")
    assert got == ("某阵地", kind, level or None, code, "某路", "9-17")


@pytest.mark.parametrize(
    ("over", "expected"),
    [
        (dict(kind="school"), ("kind", "kind.known")),
        (dict(kind=""), ("kind", "kind.known")),
        (dict(name=""), ("name", "name.required")),
        (dict(name="站\r点"), ("name", "name.characters")),
        (dict(name="站" * 101), ("name", "name.max_length")),
        (dict(base_level="city"), ("base_level", "base_level.only_bases")),
        (dict(kind="base"), ("base_level", "base_level.required")),
        (dict(kind="base", base_level="county"), ("base_level", "base_level.required")),
        (dict(code=COUNTY), ("division_code", "division_code.kind_level")),
        (dict(code="61"), ("division_code", "division_code.kind_level")),
        (
            dict(kind="guidance_centre"),
            ("division_code", "division_code.kind_level"),
        ),
        (
            dict(kind="street_centre", code=COUNTY),
            ("division_code", "division_code.kind_level"),
        ),
        (
            dict(kind="base", base_level="district", code="6101"),
            ("division_code", "division_code.base_level"),
        ),
        (
            dict(kind="base", base_level="city", code="61"),
            ("division_code", "division_code.base_level"),
        ),
        (dict(code="６１０１１３００１"), ("division_code", "division_code.format")),
        (dict(code=""), ("division_code", "division_code.required")),
        (dict(address="路\r1号"), ("address", "address.characters")),
        (
            dict(opening_hours="9:00\u200b"),
            ("opening_hours", "opening_hours.characters"),
        ),
    ],
)
def test_bad_fields_are_named_with_their_rule(
    over: dict[str, Any], expected: tuple[str, str]
) -> None:
    assert rule_of(**over) == expected


# -- the use cases over the fakes ---------------------------------------------------


class PositionRepository(FakeRepository):
    """The fakes plus the position look-up (scoped as the SQL one)."""

    def position(self, ident: str, for_update: bool = False) -> Position:
        for row in self.store.of(Position):
            if row.id == ident and self._inside(row.division_code):
                return row
        err = NotFound.entity("service position", "服务阵地", ident)
        err.field, err.rule = "id", "id.exists"
        raise err

    def division_names(self, codes: list[str]) -> dict[str, str]:
        return {d.code: d.name for d in self.divisions(codes)}


@pytest.fixture
def app() -> Iterator[tuple[RegistrationApp, TransactionalFakeUoW, FakeStore]]:
    store = FakeStore()
    store.put(
        division("61", "陕西省", None),
        division("6101", "西安市", "61"),
        division(COUNTY, "雁塔区", "6101"),
        division(TOWN, "小寨路街道", COUNTY),
        division("610113002", "大雁塔街道", COUNTY, status="retired"),
        division("610113003", "电子城街道", COUNTY),
    )
    uow = TransactionalFakeUoW(store, NOW)
    made = RegistrationApp(
        None,  # type: ignore[arg-type]  # no database: the fakes stand in
        None,  # type: ignore[arg-type]  # no personal data here
        None,
        uow.clock,
        uow=uow,
        repository=lambda work: PositionRepository(store, work.scope),  # type: ignore[arg-type,return-value]
    )
    yield made, uow, store


def office(scope: str = COUNTY, *roles: str) -> Principal:
    return Principal(
        f"s-{scope}", f"u-{scope}", scope, frozenset(roles or ("tenant_admin",)), 0
    )


def counted(uow: TransactionalFakeUoW) -> dict[tuple[str, str], float]:
    """Non-zero positions rollup bumps, by (division, metric)."""
    out: dict[tuple[str, str], float] = {}
    for (table, code, month, metric), delta in uow.bumps.items():
        if table == POSITION_ROLLUP.table_name and delta:
            assert month == MONTH
            out[(code, metric)] = out.get((code, metric), 0) + delta
    return out


def test_create_counts_the_kind_in_its_creation_month(app) -> None:  # type: ignore[no-untyped-def]
    cases, uow, store = app
    row = cases.positions.create(
        office(), "小寨服务站", "station", "", TOWN, "小寨路", "9-17"
    )
    assert (row.kind, row.division_code, row.created_by) == (
        "station",
        TOWN,
        "u-610113",
    )
    assert counted(uow) == {(TOWN, "positions_station"): 1}
    assert store.of(Position) == [row]
    assert cases.positions.get(office(), row.id) is row


def test_a_change_of_kind_or_division_moves_the_count(app) -> None:  # type: ignore[no-untyped-def]
    cases, uow, _ = app
    row = cases.positions.create(office(), "甲站", "station", "", TOWN, "", "")
    cases.positions.update(office(), row.id, "甲站（新）", "station", "", TOWN, "", "")
    assert counted(uow) == {(TOWN, "positions_station"): 1}  # a rename: no move
    cases.positions.update(
        office(), row.id, "甲基地", "base", "district", "610113003", "", ""
    )
    # Out of the street's stations, into the other street's bases.
    assert counted(uow) == {("610113003", "positions_base"): 1}
    assert (row.kind, row.base_level, row.division_code) == (
        "base", "district", "610113003",
    )  # fmt: skip
    assert row.created_at == NOW and row.updated_by == "u-610113"


@pytest.mark.parametrize(
    ("who", "code", "error"),
    [
        (office("610116"), TOWN, PermissionDenied),  # a neighbour county
        (office(TOWN), "610113003", PermissionDenied),  # another street
        (office(COUNTY, "volunteer"), TOWN, PermissionDenied),  # not an office
        (office(), "610113002", FailedPrecondition),  # a retired street
        (office(), "610113999", NotFound),  # in no tree
    ],
)
def test_refused_creates_keep_nothing(app, who, code, error) -> None:  # type: ignore[no-untyped-def]
    cases, uow, store = app
    with pytest.raises(error):
        cases.positions.create(who, "乙站", "station", "", code, "", "")
    assert store.of(Position) == [] and counted(uow) == {}


def test_another_tenants_position_is_not_found_and_unchanged(app) -> None:  # type: ignore[no-untyped-def]
    cases, uow, _ = app
    row = cases.positions.create(office(), "丙站", "station", "", TOWN, "", "")
    before = dict(counted(uow))
    other = office("610113003")
    with pytest.raises(NotFound) as err:
        cases.positions.get(other, row.id)
    assert err.value.field == "id"
    with pytest.raises(NotFound):
        cases.positions.update(
            other, row.id, "改名", "station", "", "610113003", "", ""
        )
    assert row.name == "丙站" and row.division_code == TOWN
    assert counted(uow) == before


# -- joining rollup tables ----------------------------------------------------------


def test_join_rows_fills_missing_metrics_with_zero_and_keeps_order() -> None:
    people = [
        ("610113", "", {"organisations": 2.0}),
        ("610116", "", {"organisations": 1.0}),
    ]
    places = [
        ("610103", "", {"positions_station": 4.0}),
        ("610113", "", {"positions_station": 3.0}),
    ]
    got = join_rows([(people, ["organisations"]), (places, ["positions_station"])])
    assert got == [
        ("610103", "", {"organisations": 0.0, "positions_station": 4.0}),
        ("610113", "", {"organisations": 2.0, "positions_station": 3.0}),
        ("610116", "", {"organisations": 1.0, "positions_station": 0.0}),
    ]
    by_month = join_rows(
        [([("61", "2026-02", {"a": 1.0}), ("61", "2026-01", {"a": 2.0})], ["a"])]
    )
    assert [m for _, m, _ in by_month] == ["2026-01", "2026-02"]


# -- hours served at positions ------------------------------------------------------


class Recorder:
    """Stands in for the rollups' writes: what would be added where."""

    def __init__(self) -> None:
        self.cells: dict[tuple[str, str, str], float] = {}

    def bump(self, _s: Any, code: str, month: str, **deltas: float) -> None:
        for metric, delta in deltas.items():
            key = (code, month, metric)
            self.cells[key] = self.cells.get(key, 0.0) + delta

    def bump_many(self, _s: Any, rows: Any) -> None:
        for code, month, deltas in rows:
            self.bump(_s, code, month, **deltas)


def test_amending_a_record_at_a_position_moves_its_position_hours(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from services.hours import rollups
    from services.hours.models import HourRecord

    positions, hours = Recorder(), Recorder()
    monkeypatch.setattr(rollups, "POSITION_ROLLUP", positions)
    monkeypatch.setattr(rollups, "ROLLUP", hours)
    at = HourRecord(
        division_code=TOWN, month=MONTH, service_field="elderly_care",
        position_id="p-1",
    )  # fmt: skip
    rollups.amend(None, at, Decimal("-0.5"))  # type: ignore[arg-type]
    assert positions.cells == {(TOWN, MONTH, "position_hours"): -0.5}
    nowhere = HourRecord(
        division_code=TOWN, month=MONTH, service_field="elderly_care",
        position_id=None,
    )  # fmt: skip
    rollups.amend(None, nowhere, Decimal("1"))  # type: ignore[arg-type]
    assert positions.cells == {(TOWN, MONTH, "position_hours"): -0.5}
    assert hours.cells[(TOWN, MONTH, "hours")] == 0.5
