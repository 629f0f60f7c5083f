"""Tenant isolation of the service position RPCs (志愿服务阵地, issue 14),
RPC by RPC and caller by caller, on the real api role.

The owner is Yanta district (610113); its position is a station in the
township 大雁塔街道 (610113002) and its county's guidance centre sits at
the county itself, so the child caller (township 610113001) sits below the
county but outside the subtree of the station. Callers as in
``test_isolation_matrix.py``: owner, sibling (Beilin 610103), city (Xi'an),
province, child (610113001) and noscope (no scope claim: default deny).

* a request naming a division outside the caller's subtree is
  PERMISSION_DENIED;
* a request addressing another tenant's position by id is NOT_FOUND, exactly
  as for an id that exists nowhere (the refusal reveals nothing);
* a refused write leaves positions and the positions rollup unchanged.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.registration.v1 import registration_pb2 as pb

from tests.helpers import assert_field, auth, rejected
from tests.security.matrix import (
    NF,
    OK,
    PD,
    Spec,
    caller_token,
    check_indistinguishable,
    check_isolation,
    check_needs_a_token,
    params,
    with_national,
)

pytestmark = pytest.mark.integration

OWNER, SIBLING, CITY, PROVINCE, CHILD = "610113", "610103", "6101", "61", "610113001"
TOWN, SIB_TOWN = "610113002", "610103002"
SCOPES = {
    "owner": OWNER,
    "sibling": SIBLING,
    "city": CITY,
    "province": PROVINCE,
    "child": CHILD,
}
# ``national``: scope CN (the ministry), rollups and the division tree only.
CALLERS = (*SCOPES, "noscope", "national")
SCOPED = dict(owner=OK, sibling=PD, city=OK, province=OK, child=PD, noscope=PD)
BY_ID = dict(owner=OK, sibling=NF, city=OK, province=OK, child=NF, noscope=PD)
RPCS = ("CreatePosition", "UpdatePosition", "GetPosition", "ListPositions")


@dataclass
class World:
    stub: Any
    token: Callable[..., str]
    engine: Any
    station: pb.Position
    centre: pb.Position
    sib_station: pb.Position

    @property
    def own(self) -> str:
        return self.token(OWNER)

    def state(self) -> tuple[Any, ...]:
        """Every position and positions rollup cell, as the database owner."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT id, name, kind, division_code, updated_at FROM positions"
                    " ORDER BY id"
                )
            ).all()
            cells = conn.execute(
                text(
                    "SELECT * FROM registration_position_rollup"
                    " ORDER BY level, division_code, period"
                )
            ).all()
        return tuple(map(tuple, rows)), tuple(map(tuple, cells))

    def get(self, ident: str) -> pb.Position:
        return self.stub.GetPosition(
            pb.GetPositionRequest(id=ident), metadata=auth(self.own)
        ).position


def _create(stub: Any, tok: str, code: str, kind: int, name: str = "") -> Any:
    return stub.CreatePosition(
        pb.CreatePositionRequest(
            name=name or f"隔离测试站-{uuid.uuid4().hex[:8]}", kind=kind,
            division_code=code, address="测试路", opening_hours="9:00-17:00",
        ),
        metadata=auth(tok),
    ).position  # fmt: skip


@pytest.fixture(scope="module")
def w(stub, token, migrated) -> Iterator[World]:  # type: ignore[no-untyped-def]
    engine = create_engine(
        os.environ["REGISTRATION_DATABASE_URL"], pool_size=1, max_overflow=0
    )
    own, sib = token(OWNER), token(SIBLING)
    world = World(
        stub, token, engine,
        station=_create(stub, own, TOWN, pb.POSITION_KIND_STATION),
        centre=_create(stub, own, OWNER, pb.POSITION_KIND_GUIDANCE_CENTRE),
        sib_station=_create(stub, sib, SIB_TOWN, pb.POSITION_KIND_STATION),
    )  # fmt: skip
    yield world
    engine.dispose()


# -- the specs -------------------------------------------------------------------


def _snapshot(w: World) -> Any:
    return w.state()


def _unchanged(w: World, before: Any) -> None:
    assert w.state() == before, "a refused request changed positions"


def _create_act(w: World, before: Any, tok: str) -> Any:
    return _create(w.stub, tok, TOWN, pb.POSITION_KIND_STATION)


def _created(w: World, before: Any, resp: Any) -> None:
    assert w.get(resp.id).division_code == TOWN


def _update_act(w: World, before: Any, tok: str) -> Any:
    return w.stub.UpdatePosition(
        pb.UpdatePositionRequest(
            id=w.station.id, name=f"改名站-{uuid.uuid4().hex[:8]}",
            kind=pb.POSITION_KIND_STATION, division_code=TOWN,
            address="新地址", opening_hours="每日",
        ),
        metadata=auth(tok),
    ).position  # fmt: skip


def _updated(w: World, before: Any, resp: Any) -> None:
    assert w.get(w.station.id).name == resp.name and resp.address == "新地址"


def _get_act(w: World, before: Any, tok: str) -> Any:
    return w.stub.GetPosition(
        pb.GetPositionRequest(id=w.station.id), metadata=auth(tok)
    )


def _got(w: World, before: Any, resp: Any) -> None:
    assert resp.position.id == w.station.id


def _list_act(w: World, before: Any, tok: str) -> Any:
    return w.stub.ListPositions(
        pb.ListPositionsRequest(
            division_code=OWNER, page=common.PageRequest(page_size=500)
        ),
        metadata=auth(tok),
    )


def _listed(w: World, before: Any, resp: Any) -> None:
    ids = {p.id for p in resp.positions}
    assert {w.station.id, w.centre.id} <= ids and w.sib_station.id not in ids
    assert all(p.division_code.startswith(OWNER) for p in resp.positions)


SPECS = {
    "CreatePosition": Spec(
        SCOPED, _create_act, _snapshot, _created, unchanged=_unchanged
    ),
    # The request names the station's division, outside a sibling's and the
    # child's subtree: refused for that before the id is looked at (the id
    # alone, with the caller's own division, is NOT_FOUND: see below).
    "UpdatePosition": Spec(SCOPED, _update_act, _snapshot, _updated, _unchanged),
    "GetPosition": Spec(BY_ID, _get_act, _snapshot, _got),
    "ListPositions": Spec(SCOPED, _list_act, _snapshot, _listed),
}
SPECS = with_national(SPECS)
MATRIX = params(SPECS, CALLERS)


def test_the_matrix_covers_every_position_rpc() -> None:
    from tests.security.test_isolation_matrix import POSITIONS

    assert set(SPECS) == set(RPCS) == POSITIONS


@pytest.mark.parametrize(("rpc", "who"), MATRIX)
def test_isolation(w: World, rpc: str, who: str) -> None:
    check_isolation(
        w, SPECS[rpc], rpc, who,
        caller=lambda x: caller_token(w.token, SCOPES, x),
        not_revealed=(OWNER, TOWN),
    )  # fmt: skip


# -- beyond the matrix -------------------------------------------------------------


@pytest.mark.parametrize("rpc", RPCS)
def test_every_position_rpc_needs_a_token(stub, rpc: str) -> None:  # type: ignore[no-untyped-def]
    check_needs_a_token(stub, pb, rpc)


def test_a_foreign_position_is_indistinguishable_from_a_missing_one(w: World) -> None:
    def get(ident: str) -> Any:
        return w.stub.GetPosition(pb.GetPositionRequest(id=ident), metadata=auth(w.own))

    check_indistinguishable(get, w.sib_station.id, str(uuid.uuid4()))
    before = w.state()

    def update(ident: str) -> Any:
        return w.stub.UpdatePosition(
            pb.UpdatePositionRequest(
                id=ident, name="越权修改", kind=pb.POSITION_KIND_STATION,
                division_code=TOWN,
            ),
            metadata=auth(w.own),
        )  # fmt: skip

    check_indistinguishable(update, w.sib_station.id, str(uuid.uuid4()))
    assert w.state() == before


def test_moving_a_position_out_of_the_scope_is_refused(w: World) -> None:
    """The owner cannot move its own station into a neighbour's county."""
    before = w.state()
    trailers = rejected(
        lambda: w.stub.UpdatePosition(
            pb.UpdatePositionRequest(
                id=w.station.id, name=w.station.name, kind=pb.POSITION_KIND_STATION,
                division_code=SIB_TOWN,
            ),
            metadata=auth(w.own),
        ),
        PD,
    )  # fmt: skip
    assert_field(trailers, "division_code", "scope.contains")
    assert w.state() == before


def test_a_township_reads_only_its_own_subtree(w: World) -> None:
    """A township's office lists its own positions: neither its county's
    centre nor another street's station."""
    town = w.token(TOWN)  # the station's street office
    mine = _create(w.stub, town, TOWN, pb.POSITION_KIND_STATION)
    got = w.stub.ListPositions(
        pb.ListPositionsRequest(page=common.PageRequest(page_size=500)),
        metadata=auth(town),
    )
    ids = {p.id for p in got.positions}
    assert mine.id in ids and w.station.id in ids
    assert w.centre.id not in ids and w.sib_station.id not in ids
    assert {p.division_code for p in got.positions} == {TOWN}
