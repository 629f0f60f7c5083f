"""The console's names of a page's volunteers in one call: ListVolunteers'
``ids`` filter (``GET /api/v1/volunteers?ids=…&ids=…``), scoped exactly as
the list is. The owner's own volunteers are returned; a neighbouring
county's, one of the parent city's elsewhere and an id of no one are simply
not returned; more than 100 ids or a malformed one is refused naming the
field."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.registration.v1 import registration_pb2 as reg

from services.common.config import load
from services.gateway.app import create_app
from tests.helpers import assert_field, auth, ok, rejected
from tests.integration.test_hours_flow import verified_volunteer

pytestmark = pytest.mark.integration

OWNER, TOWN = "610111", "610111001"  # 灞桥区 and a street of it
NEIGHBOUR, N_TOWN = "610112", "610112001"  # 未央区, the next county
PARENT, P_TOWN = "6101", "610104001"  # Xi'an, registering in 莲湖区


@pytest.fixture(scope="module")
def world(stub: Any, token: Any) -> dict[str, Any]:
    owner = token(OWNER)
    mine = [verified_volunteer(stub, owner, home=TOWN).id for _ in range(3)]
    neighbour = verified_volunteer(stub, token(NEIGHBOUR), home=N_TOWN).id
    parent = verified_volunteer(stub, token(PARENT), home=P_TOWN).id
    return dict(owner=owner, mine=mine, neighbour=neighbour, parent=parent)


@pytest.fixture(scope="module")
def client(stub: Any) -> Iterator[TestClient]:
    with TestClient(create_app(load())) as c:
        yield c


def listed(stub: Any, tok: str, ids: list[str]) -> set[str]:
    got = stub.ListVolunteers(
        reg.ListVolunteersRequest(ids=ids, page=common.PageRequest(page_size=100)),
        metadata=auth(tok),
    )
    assert got.page.total_size == len(got.volunteers)
    return {v.id for v in got.volunteers}


def test_the_owners_ids_are_returned_in_one_call(stub: Any, world: dict) -> None:
    a, b, _ = world["mine"]
    assert listed(stub, world["owner"], [a, b]) == {a, b}
    assert listed(stub, world["owner"], [a, a]) == {a}


@pytest.mark.parametrize("other", ["neighbour", "parent", "random"])
def test_an_id_out_of_scope_or_of_no_one_is_not_returned(
    stub: Any, world: dict, other: str
) -> None:
    a = world["mine"][0]
    ident = world[other] if other != "random" else str(uuid.uuid4())
    assert listed(stub, world["owner"], [a, ident]) == {a}
    assert listed(stub, world["owner"], [ident]) == set()


def test_the_parent_city_sees_all_of_them(stub: Any, world: dict, token: Any) -> None:
    """The same filter for a caller whose scope covers every one of them."""
    everyone = [*world["mine"], world["neighbour"], world["parent"]]
    assert listed(stub, token(PARENT), everyone) == set(everyone)


def test_more_than_100_ids_or_a_malformed_one_is_refused(
    stub: Any, world: dict
) -> None:
    many = [str(uuid.uuid4()) for _ in range(101)]
    trailers = rejected(lambda: listed(stub, world["owner"], many))
    assert_field(trailers, "ids", "ids.max_items")
    trailers = rejected(lambda: listed(stub, world["owner"], ["ZY0000", *many[:2]]))
    assert_field(trailers, "ids", "ids.format")
    assert listed(stub, world["owner"], many[:100]) == set()  # 100 is allowed


def test_over_http_the_console_asks_once_per_page(
    client: TestClient, world: dict
) -> None:
    a, b, c = world["mine"]
    query = "&".join(f"ids={i}" for i in (a, b, world["neighbour"], world["parent"]))
    headers = {"Authorization": f"Bearer {world['owner']}"}
    body = ok(client.get(f"/api/v1/volunteers?{query}&page_size=100", headers=headers))
    assert {v["id"] for v in body["volunteers"]} == {a, b}
    assert all("*" in v["name"] for v in body["volunteers"])  # masked, as ever
    assert c not in str(body)
    refused = client.get(
        "/api/v1/volunteers?" + "&".join(f"ids={uuid.uuid4()}" for _ in range(101)),
        headers=headers,
    )
    assert refused.status_code == 400, refused.text
    assert (refused.json()["error"]["field"], refused.json()["error"]["rule"]) == (
        "ids", "ids.max_items",
    )  # fmt: skip
    assert grpc.StatusCode.INVALID_ARGUMENT.name == refused.json()["error"]["code"]
