"""Tenant isolation for every RecyclingService RPC, caller by caller, on the
real api role.

The owner is Yanta district (610113); its bins, collections, drives and
bookings live in the township 小寨路街道 (610113002). Callers:

    owner      610113     tenant_admin    (everything works)
    sibling    610112     tenant_admin    (Weiyang, the neighbouring county)
    city       6101       tenant_admin    (Xi'an: its whole subtree)
    othercity  6102       tenant_admin    (Tongchuan: sees nothing of Xi'an)
    province   61         province_admin
    child      610113001  tenant_admin    (another township of Yanta)
    noscope    ""         tenant_admin    (default deny)

A request naming a division outside the caller's subtree is
PERMISSION_DENIED; one addressing another tenant's bin, collection, drive
or booking by id (or a bin by code) is NOT_FOUND, as if it did not exist; a
refused write leaves nothing changed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.recycling.v1 import recycling_pb2 as pb

from tests.helpers import auth
from tests.integration.test_recycling_flow import Rec, raw, resident
from tests.integration.test_recycling_self_service import my_form
from tests.security.matrix import (
    NF,
    OK,
    PD,
    Spec,
    caller_token,
    check_indistinguishable,
    check_isolation,
    check_needs_a_token,
    federated_read,
    outcome,
    params,
    rpc_names,
    with_national,
)

pytestmark = pytest.mark.integration

OWNER, TOWN = "610113", "610113002"
SCOPES = {
    "owner": OWNER,
    "sibling": "610112",
    "city": "6101",
    "othercity": "6102",
    "province": "61",
    "child": "610113001",
}
# ``national``: scope CN (the ministry), rollups and the division tree only.
CALLERS = (*SCOPES, "noscope", "national")
SCOPED = dict(
    owner=OK, sibling=PD, city=OK, othercity=PD, province=OK, child=PD, noscope=PD
)
BY_ID = dict(
    owner=OK, sibling=NF, city=OK, othercity=NF, province=OK, child=NF, noscope=PD
)
# A resident's own calls (issue 13): no office account may use them; their
# isolation between residents is test_recycling_self_isolation.py.
OWN_ONLY = dict(
    owner=PD, sibling=PD, city=PD, othercity=PD, province=PD, child=PD, noscope=PD
)


@dataclass
class World:
    rec: Rec
    token: Callable[..., str]
    bin: pb.Bin = None  # type: ignore[assignment]
    collection: pb.Collection = None  # type: ignore[assignment]
    drive: pb.Drive = None  # type: ignore[assignment]

    @property
    def own(self) -> str:
        return self.token(OWNER)

    def caller(self, who: str, roles: tuple[str, ...] = ()) -> str:
        return caller_token(self.token, SCOPES, who, roles)

    def fresh_bin(self) -> pb.Bin:
        return self.rec.bin(self.own)

    def booking(self, status: str = "requested") -> pb.Booking:
        b = self.rec.book(resident(self.token)).booking
        if status == "assigned":
            self.rec.call("AssignBooking", self.own, id=b.id, organisation_name="队")
        return b

    def get_booking(self, ident: str) -> pb.Booking:
        listed = self.rec.call(
            "ListBookings", self.own, division_code=TOWN,
            page=common.PageRequest(page_size=500),
        ).bookings  # fmt: skip
        return {b.id: b for b in listed}[ident]


@pytest.fixture(scope="module")
def w(stubs, token) -> World:  # type: ignore[no-untyped-def]
    world = World(Rec(stubs("recycling"), token), token)
    world.bin = world.fresh_bin()
    world.collection = world.rec.collect(world.own, [world.bin.code]).collection
    world.drive = world.rec.drive(world.own)
    return world


# -- one specification per RPC ---------------------------------------------------------


def _count(sql: str, **params: Any) -> int:
    return int(raw(sql, **params)[0][0])


def _unused_code(w: World) -> str:
    return f"ISO-{uuid.uuid4().hex[:8].upper()}"


def _create_bin(w: World, code: str, tok: str) -> Any:
    return w.rec.bin(tok, code=code)


def _bin_made(w: World, code: str, resp: Any) -> None:
    assert resp.code == code and resp.division_code == TOWN
    assert w.rec.call("GetBin", w.own, id=resp.id).bin.code == code


def _no_bin(w: World, code: str) -> None:
    assert _count("SELECT count(*) FROM bins WHERE code = :c", c=code) == 0


def _listed(field: str, ident: Callable[[World], str]) -> Callable[..., None]:
    def check(w: World, _: Any, resp: Any) -> None:
        rows = getattr(resp, field)
        assert ident(w) in {r.id for r in rows}
        assert all(r.division_code.startswith(TOWN) for r in rows)

    return check


def _change(w: World, b: pb.Bin, tok: str) -> Any:
    return w.rec.status(tok, b.id, pb.BIN_STATUS_FULL)


def _bin_is(status: int) -> Callable[..., None]:
    def check(w: World, b: pb.Bin, *_: Any) -> None:
        assert w.rec.call("GetBin", w.own, id=b.id).bin.status == status

    return check


def _collect(w: World, b: pb.Bin, tok: str) -> Any:
    return w.rec.collect(tok, [b.code])


def _collected(w: World, b: pb.Bin, resp: Any) -> None:
    assert list(resp.collection.bin_codes) == [b.code]
    assert resp.collection.division_code == TOWN


def _not_collected(w: World, b: pb.Bin) -> None:
    assert _count("SELECT count(*) FROM collection_bins WHERE bin_id = :b", b=b.id) == 0


def _drives_before(w: World) -> int:
    return _count("SELECT count(*) FROM drives")


def _record_drive(w: World, _: int, tok: str) -> Any:
    return w.rec.drive(tok)


def _drive_made(w: World, before: int, resp: Any) -> None:
    assert resp.division_code == TOWN and _drives_before(w) == before + 1


def _no_drive(w: World, before: int) -> None:
    assert _drives_before(w) == before


def _handout(w: World, _: Any, tok: str) -> Any:
    return w.rec.call(
        "RecordDistribution", tok, drive_id=w.drive.id, households=1,
        items=pb.Items(garments=1),
    )  # fmt: skip


def _handouts(w: World) -> int:
    return len(w.rec.call("GetDrive", w.own, id=w.drive.id).distributions)


def _handed_out(w: World, before: int, resp: Any) -> None:
    assert resp.distribution.drive_id == w.drive.id and _handouts(w) == before + 1


def _not_handed_out(w: World, before: int) -> None:
    assert _handouts(w) == before


def _bookings(w: World) -> int:
    return _count("SELECT count(*) FROM bookings")


def _book(w: World, _: int, tok: str) -> Any:
    return w.rec.book(tok)


def _booked(w: World, before: int, resp: Any) -> None:
    assert resp.created and resp.booking.division_code == TOWN
    assert _bookings(w) == before + 1


def _not_booked(w: World, before: int) -> None:
    assert _bookings(w) == before


def _book_mine(w: World, _: Any, tok: str) -> Any:
    return w.rec.call("CreateMyBooking", tok, **my_form())


def _booking_is(status: int) -> Callable[..., None]:
    def check(w: World, b: pb.Booking, *_: Any) -> None:
        assert w.get_booking(b.id).status == status

    return check


def _summarize(w: World, _: Any, tok: str) -> Any:
    q = common.RollupQuery(division_code=OWNER)
    return w.rec.call("Summarize", tok, query=q)


def _summarized(w: World, _: Any, resp: Any) -> None:
    assert resp.rollup.total.division.code == OWNER
    assert resp.rollup.total.metrics["events"] >= 1
    assert all(r.division.code.startswith(OWNER) for r in resp.rollup.rows)


def _list(rpc: str) -> Callable[[World, Any, str], Any]:
    def act(w: World, _: Any, tok: str) -> Any:
        page = common.PageRequest(page_size=500)
        return w.rec.call(rpc, tok, division_code=TOWN, page=page)

    return act


def _get(rpc: str, ident: Callable[[World], str]) -> Callable[[World, Any, str], Any]:
    return lambda w, _, tok: w.rec.call(rpc, tok, id=ident(w))


SPECS: dict[str, Spec] = {
    "CreateBin": Spec(SCOPED, _create_bin, _unused_code, _bin_made, _no_bin),
    "ListBins": Spec(SCOPED, _list("ListBins"),
                     succeeded=_listed("bins", lambda w: w.bin.id)),
    "GetBin": Spec(BY_ID, _get("GetBin", lambda w: w.bin.id),
                   succeeded=lambda w, _, r: _bin_made(w, w.bin.code, r.bin)),
    "ChangeBinStatus": Spec(BY_ID, _change, World.fresh_bin,
                            _bin_is(pb.BIN_STATUS_FULL),
                            _bin_is(pb.BIN_STATUS_DEPLOYED)),
    "RecordCollection": Spec(SCOPED, _collect, World.fresh_bin, _collected,
                             _not_collected),
    "ListCollections": Spec(SCOPED, _list("ListCollections"),
                            succeeded=_listed("collections",
                                              lambda w: w.collection.id)),
    "GetCollection": Spec(BY_ID, _get("GetCollection", lambda w: w.collection.id),
                          succeeded=lambda w, _, r: r.collection == w.collection
                          or pytest.fail("collection")),
    "RecordDrive": Spec(SCOPED, _record_drive, _drives_before, _drive_made,
                        _no_drive),
    "RecordDistribution": Spec(BY_ID, _handout, _handouts, _handed_out,
                               _not_handed_out),
    "ListDrives": Spec(SCOPED, _list("ListDrives"),
                       succeeded=_listed("drives", lambda w: w.drive.id)),
    "GetDrive": Spec(BY_ID, _get("GetDrive", lambda w: w.drive.id),
                     succeeded=lambda w, _, r: r.drive.id == w.drive.id
                     or pytest.fail("drive")),
    "CreateBooking": Spec(SCOPED, _book, _bookings, _booked, _not_booked),
    "ListBookings": Spec(SCOPED, _list("ListBookings"),
                         succeeded=lambda w, _, r: r.page.total_size >= 1
                         or pytest.fail("bookings")),
    "AssignBooking": Spec(BY_ID,
                          lambda w, b, tok: w.rec.call(
                              "AssignBooking", tok, id=b.id, organisation_name="队"),
                          World.booking, _booking_is(pb.BOOKING_STATUS_ASSIGNED),
                          _booking_is(pb.BOOKING_STATUS_REQUESTED)),
    "CollectBooking": Spec(BY_ID,
                           lambda w, b, tok: w.rec.call(
                               "CollectBooking", tok, id=b.id,
                               weights=pb.Weights(textiles_kg=4)),
                           lambda w: w.booking("assigned"),
                           _booking_is(pb.BOOKING_STATUS_COLLECTED),
                           _booking_is(pb.BOOKING_STATUS_ASSIGNED)),
    "CancelBooking": Spec(BY_ID,
                          lambda w, b, tok: w.rec.call(
                              "CancelBooking", tok, id=b.id, reason="测试"),
                          World.booking, _booking_is(pb.BOOKING_STATUS_CANCELLED),
                          _booking_is(pb.BOOKING_STATUS_REQUESTED)),
    "Summarize": Spec(SCOPED, _summarize, succeeded=_summarized),
    "SummarizeFederated": Spec(
        SCOPED,
        lambda w, _, tok: w.rec.call(
            "SummarizeFederated", tok, query=common.RollupQuery(division_code=OWNER)
        ),
        succeeded=federated_read(OWNER, "events"),
    ),
    "CreateMyBooking": Spec(OWN_ONLY, _book_mine, _bookings, unchanged=_not_booked),
    "ListMyBookings": Spec(OWN_ONLY, lambda w, _, tok: w.rec.call(
                               "ListMyBookings", tok)),
    "GetMyBooking": Spec(OWN_ONLY, lambda w, b, tok: w.rec.call(
                             "GetMyBooking", tok, id=b.id), World.booking),
}  # fmt: skip

SPECS = with_national(SPECS)
MATRIX = params(SPECS, CALLERS)


def test_every_rpc_is_in_the_matrix() -> None:
    assert rpc_names(pb, "RecyclingService") == set(SPECS)


@pytest.mark.parametrize(("rpc", "who"), MATRIX)
def test_isolation(w: World, rpc: str, who: str) -> None:
    # A NOT_FOUND refusal does not say where the entity lives.
    check_isolation(
        w, SPECS[rpc], rpc, who, caller=w.caller, not_revealed=(OWNER, TOWN)
    )


# -- beyond the matrix -----------------------------------------------------------------


def test_a_neighbour_cannot_record_against_a_foreign_bin(w: World) -> None:
    """Weiyang records at its own township, naming Yanta's bin: NOT_FOUND, as
    for a code that does not exist, and the bin is untouched."""
    b = w.fresh_bin()
    for who, town in (("sibling", "610112001"), ("child", "610113001")):
        status, err = outcome(lambda t=town, x=who: w.rec.collect(w.caller(x), [b.code],
                                                                  town=t))  # fmt: skip
        assert status == NF, who
        trailers = dict(err.trailing_metadata())
        assert trailers["zhiyuan-field"] == "bin_codes"
        assert TOWN not in err.details()
    # The city may record at Yanta's township, but not at another county
    # while naming Yanta's bin: it is not in that event's division.
    status, err = outcome(lambda: w.rec.collect(w.caller("city"), [b.code],
                                                town="610112001"))  # fmt: skip
    assert status == grpc.StatusCode.INVALID_ARGUMENT
    assert dict(err.trailing_metadata())["zhiyuan-rule"] == "bin_codes.within_division"
    _not_collected(w, b)
    assert w.rec.call("GetBin", w.own, id=b.id).bin.last_emptied_on == ""


def test_a_bin_code_of_another_tenant_is_taken_but_not_revealed(w: World) -> None:
    """Codes are unique in the province: Weiyang cannot reuse Yanta's code,
    and the refusal says only that the code is taken, not where."""
    status, err = outcome(lambda: w.rec.bin(w.caller("sibling"), code=w.bin.code,
                                            town="610112001"))  # fmt: skip
    assert status == grpc.StatusCode.ALREADY_EXISTS
    assert dict(err.trailing_metadata())["zhiyuan-field"] == "code"
    assert TOWN not in err.details() and OWNER not in err.details()
    # Another province may use the same code.
    other = w.rec.bin(
        w.token("4401", "tenant_admin"), code=w.bin.code, town="440103001"
    )
    assert other.code == w.bin.code and other.id != w.bin.id


@pytest.mark.parametrize("rpc", sorted(SPECS))
def test_every_call_needs_a_token(w: World, rpc: str) -> None:
    check_needs_a_token(w.rec.stub, pb, rpc)


@pytest.mark.parametrize(
    ("rpc", "ident"),
    [
        ("GetBin", lambda w: w.bin.id),
        ("GetCollection", lambda w: w.collection.id),
        ("GetDrive", lambda w: w.drive.id),
    ],
)
def test_another_tenants_entity_is_indistinguishable_from_a_missing_one(
    w: World, rpc: str, ident: Callable[[World], str]
) -> None:
    real, missing = ident(w), str(uuid.uuid4())
    md = auth(w.caller("sibling"))

    def call(key: str) -> Any:
        return getattr(w.rec.stub, rpc)(
            getattr(pb, f"{rpc}Request")(id=key), metadata=md
        )

    check_indistinguishable(call, real, missing)


# -- roles -----------------------------------------------------------------------------

WRITES = {
    "CreateBin": lambda w, tok: w.rec.bin(tok),
    "ChangeBinStatus": lambda w, tok: w.rec.status(tok, w.bin.id, pb.BIN_STATUS_FULL),
    "RecordCollection": lambda w, tok: w.rec.collect(tok, []),
    "RecordDrive": lambda w, tok: w.rec.drive(tok),
    "RecordDistribution": lambda w, tok: _handout(w, None, tok),
    "ListBookings": lambda w, tok: w.rec.call("ListBookings", tok),
    "AssignBooking": lambda w, tok: w.rec.call(
        "AssignBooking", tok, id=w.booking().id, organisation_name="队"
    ),
    "CollectBooking": lambda w, tok: w.rec.call(
        "CollectBooking",
        tok,
        id=w.booking("assigned").id,
        weights=pb.Weights(textiles_kg=1),
    ),  # fmt: skip
}


@pytest.mark.parametrize("rpc", sorted(WRITES))
@pytest.mark.parametrize("role", ["volunteer", "reviewer"])
def test_volunteers_and_reviewers_do_not_run_the_programme(
    w: World, rpc: str, role: str
) -> None:
    before = (_bookings(w), _drives_before(w), _count("SELECT count(*) FROM bins"),
              _count("SELECT count(*) FROM collections"), _handouts(w))  # fmt: skip
    status, _ = outcome(lambda: WRITES[rpc](w, w.caller("owner", (role,))))
    assert status == PD
    after = (_bookings(w), _drives_before(w), _count("SELECT count(*) FROM bins"),
             _count("SELECT count(*) FROM collections"), _handouts(w))  # fmt: skip
    # A booking prepared for the call is the only row that may be new.
    assert after[1:] == before[1:]
    assert w.rec.call("GetBin", w.own, id=w.bin.id).bin.status != pb.BIN_STATUS_FULL


def test_a_reviewer_reads_but_a_volunteer_only_books(w: World) -> None:
    reviewer = w.caller("owner", ("reviewer",))
    assert w.rec.call("GetBin", reviewer, id=w.bin.id).bin.id == w.bin.id
    assert w.rec.call("Summarize", reviewer, query=common.RollupQuery()).rollup
    volunteer = w.caller("owner", ("volunteer",))
    for rpc, fields in [
        ("ListBins", {}),
        ("GetBin", {"id": w.bin.id}),
        ("ListCollections", {}),
        ("Summarize", {}),
    ]:
        status, _ = outcome(lambda r=rpc, f=fields: w.rec.call(r, volunteer, **f))
        assert status == PD, rpc
    assert w.rec.book(volunteer).created


# -- an org_leader acts for its own organisation only -------------------------------

# Two registered organisations of Yanta: a named organisation must be one
# the caller may see (registration answers), so these are real.
ORG_A, ORG_B = "", ""


@pytest.fixture(scope="module", autouse=True)
def _registered_organisations(stubs, token) -> None:  # type: ignore[no-untyped-def]
    global ORG_A, ORG_B  # noqa: PLW0603
    from zhiyuan.registration.v1 import registration_pb2 as rpb

    ORG_A, ORG_B = (
        stubs("registration")
        .CreateOrganisation(
            rpb.CreateOrganisationRequest(
                name=f"雁塔区回收服务队-{uuid.uuid4().hex[:6]}",
                kind=rpb.ORGANISATION_KIND_TEAM,
                division_code=TOWN,
            ),
            metadata=auth(token(OWNER)),
        )
        .organisation.id
        for _ in range(2)
    )


def _leader(w: World, org: str = "") -> str:
    return w.token(OWNER, "org_leader", username="yanta-team-leader", org=org or ORG_A)


def _denied(call: Callable[[], Any], rule: str = "organisation.own") -> None:
    status, err = outcome(call)
    assert status == PD, status
    md = dict(err.trailing_metadata() or ())
    assert (md.get("zhiyuan-field"), md.get("zhiyuan-rule")) == (
        "organisation_id",
        rule,
    )
    assert md.get("zhiyuan-message-zh-bin", b"").decode().strip()
    assert "Traceback" not in err.details()


def test_org_leader_records_collections_and_drives_for_its_own_organisation_only(
    w: World,
) -> None:
    tok, b = _leader(w), w.fresh_bin()
    drives = _drives_before(w)
    for org in (ORG_B, ""):
        _denied(lambda o=org: w.rec.collect(tok, [b.code], organisation_id=o))
        _denied(lambda o=org: w.rec.drive(tok, organisation_id=o))
    _not_collected(w, b)
    assert _drives_before(w) == drives
    got = w.rec.collect(tok, [b.code], organisation_id=ORG_A).collection
    assert got.organisation_id == ORG_A
    drive = w.rec.drive(tok, organisation_id=ORG_A)
    assert drive.organisation_id == ORG_A
    # Handing out another organisation's drive is not its business either.
    before = _handouts(w)
    _denied(lambda: _handout(w, None, tok))
    assert _handouts(w) == before
    w.rec.call(
        "RecordDistribution", tok, drive_id=drive.id, households=1,
        items=pb.Items(garments=1),
    )  # fmt: skip


def test_org_leader_takes_and_collects_bookings_for_its_own_organisation_only(
    w: World,
) -> None:
    tok = _leader(w)
    b = w.booking()
    _denied(
        lambda: w.rec.call(
            "AssignBooking", tok, id=b.id, organisation_id=ORG_B, organisation_name="队"
        )
    )
    assert w.get_booking(b.id).status == pb.BOOKING_STATUS_REQUESTED
    w.rec.call(
        "AssignBooking", w.own, id=b.id, organisation_id=ORG_B, organisation_name="乙队"
    )

    def collect(booking: pb.Booking) -> Any:
        return w.rec.call(
            "CollectBooking", tok, id=booking.id, collected_on="",
            weights=pb.Weights(textiles_kg=5),
        )  # fmt: skip

    _denied(lambda: collect(b))
    assert w.get_booking(b.id).status == pb.BOOKING_STATUS_ASSIGNED
    mine = w.booking()
    w.rec.call(
        "AssignBooking",
        tok,
        id=mine.id,
        organisation_id=ORG_A,
        organisation_name="甲队",
    )
    assert collect(mine).booking.status == pb.BOOKING_STATUS_COLLECTED


def test_org_leader_token_without_organisation_is_refused(w: World) -> None:
    tok = w.token(OWNER, "org_leader", username="yanta-unbound-leader")
    b = w.fresh_bin()
    _denied(
        lambda: w.rec.collect(tok, [b.code], organisation_id=ORG_A),
        "organisation.bound",
    )
    _not_collected(w, b)
