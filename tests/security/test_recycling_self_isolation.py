"""A resident's own bookings reach only that resident (issue 13), with real
booking ids harvested from other residents' own accounts: one of the same
home township (only the booker, not row security, keeps them apart), one
elsewhere in the county, one in another county and one whose home is the
county itself (a parent of the township); and the bookings an office and a
volunteer-role account without its own (no ``vol``) made in the township.
Another's booking is NOT_FOUND exactly like an id that exists nowhere,
lists show only one's own, and a booking made with another's request id is
one's own, with nothing of the other's changed. An office account is
refused the resident's own calls (the per-RPC matrix of office callers is
test_recycling_isolation.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from zhiyuan.recycling.v1 import recycling_pb2 as pb

from tests.integration.test_recycling_flow import Rec, raw, resident
from tests.integration.test_recycling_self_service import (
    book_mine,
    mine,
    own_token,
)
from tests.security.matrix import PD, check_indistinguishable, outcome

pytestmark = pytest.mark.integration

COUNTY, TOWN = "610113", "610113002"
NEAR_TOWN = "610113006"  # the same county, another township
OTHER_COUNTY, OTHER_TOWN = "610103", "610103004"
OTHERS = ("housemate", "neighbour", "elsewhere", "parent")


@dataclass
class Person:
    tok: str
    request_id: str
    booking: pb.Booking


def person(rec: Rec, home: str) -> Person:
    """A resident at ``home`` with one booking made through its own account:
    the id it harvests is what its own call returns."""
    tok, request_id = own_token(home), uuid.uuid4().hex
    return Person(tok, request_id, book_mine(rec, tok, request_id=request_id).booking)


def written() -> list[Any]:
    """Every booking row's state, read as the owner (no row security)."""
    return raw(
        "SELECT id, status, booker_volunteer_id, updated_at FROM bookings ORDER BY id"
    )


@pytest.fixture(scope="module")
def people(stubs: Any, token: Any) -> tuple[Rec, dict[str, Person]]:
    rec = Rec(stubs("recycling"), token)
    return rec, {
        "me": person(rec, TOWN),
        "housemate": person(rec, TOWN),
        "neighbour": person(rec, NEAR_TOWN),
        "elsewhere": person(rec, OTHER_TOWN),
        "parent": person(rec, COUNTY),
    }


@pytest.mark.parametrize("other", OTHERS)
def test_anothers_booking_is_not_found_like_a_random_id(people, other):
    rec, by = people
    me, them = by["me"], by[other]
    before = written()
    check_indistinguishable(
        lambda ident: rec.call("GetMyBooking", me.tok, id=ident),
        them.booking.id,
        str(uuid.uuid4()),
    )
    assert written() == before
    # The other still sees its own, unchanged.
    got = rec.call("GetMyBooking", them.tok, id=them.booking.id).booking
    assert got == them.booking


@pytest.mark.parametrize("account", ["office", "no-vol"])
def test_a_booking_not_made_by_an_own_account_is_not_found(people, token, account):
    """In the caller's own township: an office's booking, and one made by a
    volunteer-role login without ``vol`` (booker ''), are nobody's own."""
    rec, by = people
    me = by["me"]
    tok = token(COUNTY) if account == "office" else resident(token)
    theirs = rec.book(tok).booking
    assert theirs.division_code == TOWN
    before = written()
    check_indistinguishable(
        lambda ident: rec.call("GetMyBooking", me.tok, id=ident),
        theirs.id,
        str(uuid.uuid4()),
    )
    assert written() == before
    assert [b.id for b in mine(rec, me.tok)] == [me.booking.id]


@pytest.mark.parametrize("who", ["me", *OTHERS])
def test_each_lists_only_its_own(people, who):
    rec, by = people
    assert [b.id for b in mine(rec, by[who].tok)] == [by[who].booking.id]


@pytest.mark.parametrize("other", OTHERS)
def test_anothers_request_id_makes_a_booking_of_ones_own(people, other):
    """The idempotency key is the caller's: reusing another's returns no
    booking of theirs and changes nothing of theirs."""
    rec, by = people
    them = by[other]
    tok = own_token(TOWN)
    before = {r[0]: r for r in written()}
    made = book_mine(rec, tok, request_id=them.request_id)
    assert made.created and made.booking.id != them.booking.id
    after = {r[0]: r for r in written()}
    assert set(after) - set(before) == {made.booking.id}
    assert after[them.booking.id] == before[them.booking.id]
    assert [b.id for b in mine(rec, tok)] == [made.booking.id]


def test_an_office_account_is_refused_the_residents_own_calls(people, token):
    """Even the office of the booking's own township and the county above
    it: the resident's own calls are for its own account only."""
    rec, by = people
    me = by["me"]
    before = written()
    nation = token("CN", "province_admin")
    for tok in (token(TOWN), token(COUNTY), token("61", "province_admin"), nation):
        for rpc, fields in (
            ("GetMyBooking", {"id": me.booking.id}),
            ("ListMyBookings", {}),
            ("CreateMyBooking", {"request_id": me.request_id}),
        ):
            status, err = outcome(lambda r=rpc, f=fields, t=tok: rec.call(r, t, **f))
            assert status == PD, (rpc, status)
            assert me.booking.id not in err.details()
    assert written() == before
