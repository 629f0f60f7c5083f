"""A resident's own pickup bookings through real gRPC on PostgreSQL (issue
13): a volunteer's or resident's own account (the token's ``vol``) books at
its home division with the items and an estimated weight, the address
stored encrypted and shown masked; it follows the booking from requested to
assigned to collected with the weight; an office account is refused the
resident's own calls with nothing written. The helpers here are shared by
tests/security/test_recycling_self_isolation.py."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from zhiyuan.recycling.v1 import recycling_pb2 as pb

from services.common.auth import TokenIssuer
from services.common.config import load
from services.common.pii import PiiCipher
from services.common.testing import PRIVATE_PEM
from services.gateway.app import create_app
from tests.helpers import new_phone
from tests.integration.test_recycling_flow import Rec, in_future, raw, refused

pytestmark = pytest.mark.integration

COUNTY, TOWN = "610113", "610113002"
ISSUER = TokenIssuer(PRIVATE_PEM, "zhiyuan", "zhiyuan")
ADDRESS = "陕西省西安市雁塔区小寨路街道长安中路12号院3号楼2单元501室"


def own_token(home: str = TOWN, vol: str = "") -> str:
    """The token of a volunteer's (a resident's) own account, as
    registration issues it: roles ["volunteer"], scope the home division,
    claim ``vol``."""
    vol = vol or str(uuid.uuid4())
    value, _ = ISSUER.issue(
        subject=f"acct-{vol}",
        username=f"V{vol[:8]}",
        scope_code=home,
        roles=["volunteer"],
        ttl=600,
        volunteer_id=vol,
    )
    return value


def my_form(**over: Any) -> dict[str, Any]:
    base = dict(
        request_id=uuid.uuid4().hex,
        contact_name="王秀兰",
        contact_phone=new_phone(),
        address=ADDRESS,
        window_start=in_future(1),
        window_end=in_future(1.2),
        items="旧衣物两袋，旧书一箱",
        estimated_kg=12.5,
    )
    return {**base, **over}


def book_mine(rec: Rec, tok: str, **over: Any) -> pb.CreateMyBookingResponse:
    return rec.call("CreateMyBooking", tok, **my_form(**over))


def mine(rec: Rec, tok: str) -> list[pb.Booking]:
    return list(rec.call("ListMyBookings", tok).bookings)


def bookings_count() -> int:
    return int(raw("SELECT count(*) FROM bookings")[0][0])


@pytest.fixture(scope="module")
def rec(stubs: Any, token: Any) -> Rec:
    return Rec(stubs("recycling"), token)


def test_a_resident_books_for_itself_at_home_masked_and_encrypted(rec):
    vol = str(uuid.uuid4())
    tok, phone = own_token(vol=vol), new_phone()
    first = book_mine(rec, tok, contact_phone=phone, request_id="form-1")
    b = first.booking
    assert first.created and b.status == pb.BOOKING_STATUS_REQUESTED
    assert b.division_code == TOWN
    assert b.note == "旧衣物两袋，旧书一箱" and b.estimated_kg == 12.5
    assert phone not in b.contact_phone and b.contact_phone.startswith(phone[:3])
    assert b.address == "陕西省西安市****" and b.contact_name == "王**"
    # A double submit finds the first booking.
    again = book_mine(rec, tok, contact_phone=phone, request_id="form-1")
    assert not again.created and again.booking == b
    ((booker, address_enc, estimate),) = raw(
        "SELECT booker_volunteer_id, address_enc, estimated_kg FROM bookings"
        " WHERE id = :i",
        i=b.id,
    )
    assert booker == vol and float(estimate) == 12.5
    assert ADDRESS.encode() not in bytes(address_enc)
    cipher = PiiCipher(base64.b64decode(os.environ["PII_KEY"]))
    assert cipher.decrypt(bytes(address_enc), context="booking.address") == ADDRESS
    assert [x.id for x in mine(rec, tok)] == [b.id]
    assert rec.call("GetMyBooking", tok, id=b.id).booking == b


def test_the_resident_follows_it_to_collected_with_the_weight(rec, token):
    tok, county = own_token(), token(COUNTY)
    older = book_mine(rec, tok).booking
    b = book_mine(rec, tok).booking
    assert [x.id for x in mine(rec, tok)] == [b.id, older.id]  # newest first
    # The office sees it in its queue with the resident's estimate.
    queued = rec.call("ListBookings", county, status=pb.BOOKING_STATUS_REQUESTED)
    assert b.id in {x.id for x in queued.bookings}
    rec.call("AssignBooking", county, id=b.id, organisation_name="小寨路回收队")
    got = rec.call("GetMyBooking", tok, id=b.id).booking
    assert got.status == pb.BOOKING_STATUS_ASSIGNED
    assert got.organisation_name == "小寨路回收队"
    rec.call(
        "CollectBooking", county, id=b.id,
        weights=pb.Weights(textiles_kg=9.5, books_kg=4),
    )  # fmt: skip
    got = rec.call("GetMyBooking", tok, id=b.id).booking
    assert got.status == pb.BOOKING_STATUS_COLLECTED
    assert (got.weights.textiles_kg, got.weights.books_kg) == (9.5, 4)
    assert got.collected_on and got.estimated_kg == 12.5
    listed = {x.id: x for x in mine(rec, tok)}
    assert listed[b.id].status == pb.BOOKING_STATUS_COLLECTED
    assert listed[older.id].status == pb.BOOKING_STATUS_REQUESTED


def test_a_volunteer_role_without_its_own_account_is_refused(rec, token):
    """A volunteer-role token without ``vol`` (an old resident login) and an
    office account get PERMISSION_DENIED on the resident's own calls."""
    before = bookings_count()
    for tok in (
        token(TOWN, "volunteer", username="resident-no-vol"),
        token(COUNTY),
        token(COUNTY, "reviewer"),
    ):
        for rpc, fields in (
            ("CreateMyBooking", my_form()),
            ("ListMyBookings", {}),
            ("GetMyBooking", {"id": str(uuid.uuid4())}),
        ):
            trailers = refused(
                lambda r=rpc, f=fields, t=tok: rec.call(r, t, **f),
                grpc.StatusCode.PERMISSION_DENIED,
            )
            assert trailers["zhiyuan-rule"] == "volunteer.own"
    assert bookings_count() == before


def test_bad_input_names_the_field_by_its_label_and_writes_nothing(rec):
    tok = own_token()
    before = bookings_count()
    for over, field, rule in (
        ({"contact_name": ""}, "contact_name", "contact_name.required"),
        ({"contact_phone": "123"}, "contact_phone", "phone.format"),
        ({"address": ""}, "address", "address.required"),
        ({"window_start": in_future(-1)}, "window_start", "window_start.future"),
        ({"items": " "}, "items", "items.required"),
        ({"estimated_kg": 0}, "estimated_kg", "estimated_kg.positive"),
        ({"estimated_kg": -3}, "estimated_kg", "estimated_kg.range"),
        ({"estimated_kg": float("nan")}, "estimated_kg", "estimated_kg.number"),
    ):
        trailers = refused(
            lambda o=over: book_mine(rec, tok, **o), grpc.StatusCode.INVALID_ARGUMENT
        )
        assert (trailers["zhiyuan-field"], trailers["zhiyuan-rule"]) == (field, rule)
        assert trailers["zhiyuan-message-zh-bin"].decode().strip()
    assert bookings_count() == before
    assert mine(rec, tok) == []


@pytest.fixture(scope="module")
def client(apis: Any) -> Iterator[TestClient]:
    with TestClient(create_app(load())) as c:
        yield c


def bearer(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


def test_the_gateway_serves_the_residents_own_routes(client, token):
    """POST, GET list and GET one under /api/v1/me/bookings; an office token
    is refused there with the platform's error body."""
    tok = own_token()
    made = client.post(
        "/api/v1/me/bookings", json={**my_form(), "estimated_kg": 3},
        headers=bearer(tok),
    )  # fmt: skip
    assert made.status_code == 201, made.text
    ident = made.json()["booking"]["id"]
    assert made.json()["booking"]["estimated_kg"] == 3
    listed = client.get("/api/v1/me/bookings", headers=bearer(tok)).json()
    assert [b["id"] for b in listed["bookings"]] == [ident]
    one = client.get(f"/api/v1/me/bookings/{ident}", headers=bearer(tok)).json()
    assert one["booking"]["status"] == "BOOKING_STATUS_REQUESTED"
    before = bookings_count()
    office = bearer(token(COUNTY))
    for refused_call in (
        client.get("/api/v1/me/bookings", headers=office),
        client.get(f"/api/v1/me/bookings/{ident}", headers=office),
        client.post("/api/v1/me/bookings", json=my_form(), headers=office),
    ):
        assert refused_call.status_code == 403
        error = refused_call.json()["error"]
        assert error["rule"] == "volunteer.own" and error["message_zh"]
    assert bookings_count() == before
    other = client.get(f"/api/v1/me/bookings/{ident}", headers=bearer(own_token()))
    assert other.status_code == 404 and other.json()["error"]["field"] == "id"
