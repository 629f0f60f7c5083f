"""Recycling through real gRPC on PostgreSQL: bins along their lifecycle,
collections (a linked activity session checked against a real project of
activity), donation drives and distributions, residents' bookings with
masked personal data, the rollup and the events in the outbox. The helpers
here are shared by the recycling security tests."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from sqlalchemy import create_engine, text
from zhiyuan.activity.v1 import activity_pb2 as act
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.recycling.v1 import recycling_pb2 as pb

from services.common.pii import PiiCipher
from services.common.testing import wait_for
from tests.helpers import auth, new_phone
from tests.integration.test_activity_flow import Kit

pytestmark = pytest.mark.integration
COUNTY, TOWN, CITY, PROVINCE = "610113", "610113002", "6101", "61"


def refused(fn: Callable[[], Any], code: grpc.StatusCode) -> dict[str, Any]:
    """The trailers of a call refused with ``code`` (no stack trace)."""
    with pytest.raises(grpc.RpcError) as err:
        fn()
    assert err.value.code() == code, err.value.details()
    assert "Traceback" not in (err.value.details() or "")
    return dict(err.value.trailing_metadata() or ())


def raw(sql: str, **params: Any) -> list[Any]:
    """Rows of recycling's database read as its owner (no row security)."""
    engine = create_engine(os.environ["RECYCLING_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params).all())
    finally:
        engine.dispose()


def new_code(prefix: str = "T") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10].upper()}"


def in_future(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


class Rec:
    """Recycling calls with sensible defaults, as one caller or another."""

    def __init__(self, stub: Any, token: Callable[..., str]):
        self.stub, self.token = stub, token

    def call(self, rpc: str, tok: str, **fields: Any) -> Any:
        request = getattr(pb, f"{rpc}Request")(**fields)
        return getattr(self.stub, rpc)(request, metadata=auth(tok))

    def bin(self, tok: str, code: str = "", town: str = TOWN, **over: Any) -> pb.Bin:
        fields = dict(
            code=code or new_code(),
            division_code=town,
            place=pb.Place(address="雁塔区小寨路街道社区服务站旁", latitude=34.22,
                           longitude=108.95),
            deployed_on="2026-01-05",
        )  # fmt: skip
        return self.call("CreateBin", tok, **{**fields, **over}).bin

    def status(self, tok: str, bin_id: str, status: int, day: str = "") -> pb.Bin:
        return self.call(
            "ChangeBinStatus", tok, id=bin_id, status=status, changed_on=day,
            reason="巡检",
        ).bin  # fmt: skip

    def collect(self, tok: str, codes: list[str], town: str = TOWN, **over: Any) -> Any:
        fields = dict(
            division_code=town,
            organisation_name="雁塔区爱为宝志愿服务队",
            collected_on="",
            bin_codes=codes,
            weights=pb.Weights(textiles_kg=120.5, books_kg=18, other_kg=3.2),
        )
        return self.call("RecordCollection", tok, **{**fields, **over})

    def drive(self, tok: str, town: str = TOWN, **over: Any) -> pb.Drive:
        fields = dict(
            division_code=town,
            organisation_name="雁塔区慈善协会",
            title="冬衣暖心捐赠活动",
            held_on="2026-10-10",
            items=pb.Items(garments=100, books=20, other=5),
            recipient_households=10,
        )
        return self.call("RecordDrive", tok, **{**fields, **over}).drive

    def book(self, tok: str, town: str = TOWN, **over: Any) -> Any:
        fields = dict(
            request_id=uuid.uuid4().hex,
            division_code=town,
            contact_name="王秀兰",
            contact_phone=new_phone(),
            address="陕西省西安市雁塔区小寨路街道长安中路12号院3号楼2单元501室",
            window_start=in_future(1),
            window_end=in_future(1.2),
            note="旧衣物两袋",
        )
        return self.call("CreateBooking", tok, **{**fields, **over})

    def total(self, tok: str, code: str) -> dict[str, float]:
        q = common.RollupQuery(division_code=code)
        return dict(self.call("Summarize", tok, query=q).rollup.total.metrics)


def resident(token: Callable[..., str], town: str = TOWN, name: str = "") -> str:
    return token(town, "volunteer", username=name or f"resident-{uuid.uuid4().hex[:6]}")


@pytest.fixture(scope="module")
def rec(stubs: Any, token: Any) -> Rec:
    return Rec(stubs("recycling"), token)


# -- bins ------------------------------------------------------------------------------


def test_a_bin_moves_along_its_lifecycle_and_counts_while_in_service(rec, token):
    county, prov = token(COUNTY), token(PROVINCE, "province_admin")
    before = {c: rec.total(prov, c) for c in (TOWN, COUNTY, CITY, PROVINCE)}
    b = rec.bin(county, code=new_code("awb").lower())
    assert b.code == b.code.upper() and b.status == pb.BIN_STATUS_DEPLOYED
    assert (b.place.latitude, b.place.longitude) == (34.22, 108.95)
    assert b.deployed_on == b.status_changed_on == "2026-01-05"
    for c, old in before.items():  # the deployment, counted at every ancestor
        assert rec.total(prov, c)["bins_deployed"] == old["bins_deployed"] + 1
    rec.status(county, b.id, pb.BIN_STATUS_FULL, "2026-02-01")
    rec.status(county, b.id, pb.BIN_STATUS_MAINTENANCE, "2026-02-03")
    rec.status(county, b.id, pb.BIN_STATUS_DEPLOYED, "2026-02-10")
    assert rec.total(prov, TOWN)["bins_deployed"] == before[TOWN]["bins_deployed"] + 1
    gone = rec.status(county, b.id, pb.BIN_STATUS_RETIRED, "2026-03-15")
    assert gone.status == pb.BIN_STATUS_RETIRED
    for c, old in before.items():
        assert rec.total(prov, c)["bins_deployed"] == old["bins_deployed"]
    # +1 in January, -1 in March: the months say when.
    monthly = rec.call(
        "Summarize", prov, query=common.RollupQuery(division_code=COUNTY,
                                                    by_month=True)
    ).rollup  # fmt: skip
    cells = {
        (r.division.code, r.month): r.metrics["bins_deployed"] for r in monthly.rows
    }
    assert cells[(TOWN, "2026-01")] >= 1 and cells[(TOWN, "2026-03")] <= -1

    trailers = refused(
        lambda: rec.status(county, b.id, pb.BIN_STATUS_DEPLOYED),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert trailers["zhiyuan-rule"] == "state.transition"
    history = rec.call("GetBin", county, id=b.id).history
    assert [(h.from_status, h.to_status) for h in history] == [
        (pb.BIN_STATUS_UNSPECIFIED, pb.BIN_STATUS_DEPLOYED),
        (pb.BIN_STATUS_DEPLOYED, pb.BIN_STATUS_FULL),
        (pb.BIN_STATUS_FULL, pb.BIN_STATUS_MAINTENANCE),
        (pb.BIN_STATUS_MAINTENANCE, pb.BIN_STATUS_DEPLOYED),
        (pb.BIN_STATUS_DEPLOYED, pb.BIN_STATUS_RETIRED),
    ]
    assert [h.changed_on for h in history][-1] == "2026-03-15"
    assert all(h.changed_by == f"test-{COUNTY}" and h.recorded_at for h in history)


def test_a_change_dated_before_the_last_one_is_refused(rec, token):
    county = token(COUNTY)
    b = rec.bin(county)
    rec.status(county, b.id, pb.BIN_STATUS_FULL, "2026-04-01")
    trailers = refused(
        lambda: rec.status(county, b.id, pb.BIN_STATUS_MAINTENANCE, "2026-03-31"),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert trailers["zhiyuan-field"] == "changed_on"
    assert trailers["zhiyuan-rule"] == "changed_on.not_before"
    assert rec.call("GetBin", county, id=b.id).bin.status == pb.BIN_STATUS_FULL


def test_listing_bins_by_status_inside_a_subtree(rec, token):
    county = token(COUNTY)
    full = rec.bin(county)
    rec.status(county, full.id, pb.BIN_STATUS_FULL)
    got = rec.call(
        "ListBins", county, division_code=TOWN, status=pb.BIN_STATUS_FULL,
        page=common.PageRequest(page_size=500),
    )  # fmt: skip
    assert full.id in {b.id for b in got.bins}
    assert all(b.status == pb.BIN_STATUS_FULL for b in got.bins)
    assert all(b.division_code.startswith(TOWN) for b in got.bins)
    assert got.page.total_size >= 1


# -- collections -----------------------------------------------------------------------


def test_a_collection_empties_bins_and_rolls_up(rec, token):
    county, prov = token(COUNTY), token(PROVINCE, "province_admin")
    full, other = rec.bin(county), rec.bin(county)
    rec.status(county, full.id, pb.BIN_STATUS_FULL, "2026-06-01")
    before = {c: rec.total(prov, c) for c in (TOWN, COUNTY, PROVINCE)}
    codes = sorted([full.code, other.code])
    got = rec.collect(county, codes[::-1], collected_on="2026-06-02")
    c = got.collection
    assert list(c.bin_codes) == codes  # listed in one order, however sent
    assert c.total_kg == pytest.approx(141.7) and c.weights.other_kg == pytest.approx(
        3.2
    )
    assert {b.code: b.status for b in got.bins} == {
        full.code: pb.BIN_STATUS_DEPLOYED,
        other.code: pb.BIN_STATUS_DEPLOYED,
    }
    assert all(b.last_emptied_on == "2026-06-02" for b in got.bins)
    history = rec.call("GetBin", county, id=full.id).history
    assert history[-1].to_status == pb.BIN_STATUS_DEPLOYED
    assert history[-1].collection_id == c.id and history[-1].changed_on == "2026-06-02"
    for code, old in before.items():
        new = rec.total(prov, code)
        assert new["events"] == old["events"] + 1
        assert new["kg_textiles"] == pytest.approx(old["kg_textiles"] + 120.5)
        assert new["kg_total"] == pytest.approx(old["kg_total"] + 141.7)
        assert new["bins_deployed"] == old["bins_deployed"]
    assert rec.call("GetCollection", county, id=c.id).collection == c
    listed = rec.call(
        "ListCollections", county, page=common.PageRequest(page_size=500)
    ).collections
    assert c.id in {x.id for x in listed}


def test_a_collection_may_name_a_service_session_of_activity(
    rec, stub, stubs, token, worker, migrated
):  # type: ignore[no-untyped-def]  # noqa: E501
    kit = Kit(stub, stubs("activity"), token, migrated)
    org = kit.org(COUNTY)
    county = token(COUNTY)
    service = kit.published(org, service_field="environment")
    session = service.sessions[0].id
    b = rec.bin(county)
    got = rec.collect(
        county, [b.code], activity_project_id=service.id, activity_session_id=session
    ).collection
    assert (got.activity_project_id, got.activity_session_id) == (service.id, session)

    donation = kit.draft(org, kind=act.PROJECT_KIND_DONATION)
    elsewhere = kit.published(kit.org("610116"))
    cases = [
        (donation.id, donation.sessions[0].id, grpc.StatusCode.FAILED_PRECONDITION,
         "activity_project_id", "activity_project.kind_service"),
        (service.id, str(uuid.uuid4()), grpc.StatusCode.NOT_FOUND,
         "activity_session_id", "activity_session_id.exists"),
        (str(uuid.uuid4()), session, grpc.StatusCode.NOT_FOUND,
         "activity_project_id", "activity_project_id.exists"),
        # Another county's project is invisible to Yanta: as if it did not exist.
        (elsewhere.id, elsewhere.sessions[0].id, grpc.StatusCode.NOT_FOUND,
         "activity_project_id", "activity_project_id.exists"),
        (service.id, "", grpc.StatusCode.INVALID_ARGUMENT,
         "activity_session_id", "activity_session_id.required"),
    ]  # fmt: skip
    for project, sess, status, field, rule in cases:
        before = raw("SELECT count(*) FROM collections")[0][0]
        trailers = refused(
            lambda p=project, s=sess: rec.collect(
                county, [b.code], activity_project_id=p, activity_session_id=s
            ),
            status,
        )
        assert (trailers["zhiyuan-field"], trailers["zhiyuan-rule"]) == (field, rule)
        assert raw("SELECT count(*) FROM collections")[0][0] == before


def test_a_retired_bin_cannot_be_emptied(rec, token):
    county = token(COUNTY)
    b = rec.bin(county)
    rec.status(county, b.id, pb.BIN_STATUS_RETIRED)
    trailers = refused(
        lambda: rec.collect(county, [b.code]), grpc.StatusCode.FAILED_PRECONDITION
    )
    assert (trailers["zhiyuan-field"], trailers["zhiyuan-rule"]) == (
        "bin_codes",
        "bin.retired",
    )
    assert raw("SELECT count(*) FROM collection_bins WHERE bin_id = :b", b=b.id) == [
        (0,)
    ]


# -- drives and distributions ----------------------------------------------------------


def test_a_drive_and_its_distributions_never_exceed_what_was_given(rec, token):
    county, prov = token(COUNTY), token(PROVINCE, "province_admin")
    before = rec.total(prov, COUNTY)
    d = rec.drive(county)
    after = rec.total(prov, COUNTY)
    assert after["drives"] == before["drives"] + 1
    assert after["items_garments"] == before["items_garments"] + 100
    assert after["items_books"] == before["items_books"] + 20
    assert after["households"] == before["households"] + 10

    first = rec.call(
        "RecordDistribution", county, drive_id=d.id, distributed_on="2026-10-12",
        households=6, items=pb.Items(garments=60, books=20), note="消毒后发放",
    )  # fmt: skip
    assert first.drive.distributed == pb.Items(garments=60, books=20, other=0)
    assert first.drive.households_reached == 6
    for items, homes, field in [
        (pb.Items(garments=41), 1, "items.garments"),
        (pb.Items(books=1), 1, "items.books"),
        (pb.Items(other=1), 5, "households"),
    ]:
        trailers = refused(
            lambda i=items, h=homes: rec.call(
                "RecordDistribution", county, drive_id=d.id, households=h, items=i
            ),
            grpc.StatusCode.FAILED_PRECONDITION,
        )
        assert trailers["zhiyuan-field"] == field
        assert trailers["zhiyuan-rule"] == "distribution.within_drive"
    trailers = refused(
        lambda: rec.call(
            "RecordDistribution", county, drive_id=d.id, distributed_on="2026-10-09",
            households=1, items=pb.Items(garments=1),
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )  # fmt: skip
    assert trailers["zhiyuan-rule"] == "distributed_on.not_before"
    # Nothing of the refused ones was written; the rest still fits exactly.
    got = rec.call("GetDrive", county, id=d.id)
    assert len(got.distributions) == 1 and got.drive.distributed.garments == 60
    last = rec.call(
        "RecordDistribution", county, drive_id=d.id, households=4,
        items=pb.Items(garments=40, other=5),
    )  # fmt: skip
    assert last.drive.distributed == pb.Items(garments=100, books=20, other=5)
    assert last.drive.households_reached == 10
    # Distributions refine the drive's figures; they are not counted again.
    assert rec.total(prov, COUNTY) == after
    listed = rec.call("ListDrives", county, division_code=TOWN).drives
    assert {x.id: x.households_reached for x in listed}[d.id] == 10


# -- bookings --------------------------------------------------------------------------


def test_a_resident_books_once_however_often_the_form_is_sent(rec, token):
    me, county = resident(token), token(COUNTY)
    phone = new_phone()
    before = rec.total(county, TOWN)["bookings"]
    first = rec.book(me, request_id="form-42", contact_phone=phone)
    again = rec.book(me, request_id="form-42", contact_phone=phone)
    assert first.created and not again.created
    assert again.booking == first.booking
    b = first.booking
    assert b.status == pb.BOOKING_STATUS_REQUESTED
    assert (
        b.contact_name == "王**" and b.contact_phone == phone[:3] + "****" + phone[-4:]
    )
    assert b.address == "陕西省西安市****"
    assert rec.total(county, TOWN)["bookings"] == before + 1
    # Another resident's form with the same key is a booking of its own.
    other = rec.book(resident(token), request_id="form-42")
    assert other.created and other.booking.id != b.id
    # Stored encrypted, bound to its column; never in the clear.
    (row,) = raw(
        "SELECT contact_name_enc, phone_enc, address_enc FROM bookings WHERE id = :i",
        i=b.id,
    )
    assert phone.encode() not in bytes(row[1]) and "王秀兰".encode() not in bytes(
        row[0]
    )
    cipher = PiiCipher(base64.b64decode(os.environ["PII_KEY"]))
    assert cipher.decrypt(bytes(row[1]), context="booking.phone") == phone
    assert cipher.decrypt(bytes(row[0]), context="booking.contact_name") == "王秀兰"


def test_an_office_assigns_and_collects_a_booking(rec, token):
    me, county, prov = resident(token), token(COUNTY), token(PROVINCE, "province_admin")
    phone = new_phone()
    b = rec.book(me, contact_phone=phone).booking
    refused(lambda: rec.call("ListBookings", me), grpc.StatusCode.PERMISSION_DENIED)
    listed = rec.call(
        "ListBookings", county, status=pb.BOOKING_STATUS_REQUESTED,
        page=common.PageRequest(page_size=500),
    ).bookings  # fmt: skip
    assert b.id in {x.id for x in listed}
    assert all(phone not in x.contact_phone for x in listed)
    refused(
        lambda: rec.call("CollectBooking", county, id=b.id,
                         weights=pb.Weights(textiles_kg=5)),
        grpc.StatusCode.FAILED_PRECONDITION,
    )  # fmt: skip
    team = "小寨路街道爱为宝志愿服务队"
    got = rec.call("AssignBooking", county, id=b.id, organisation_name=team).booking
    assert got.status == pb.BOOKING_STATUS_ASSIGNED and got.organisation_name == team
    before = rec.total(prov, PROVINCE)
    done = rec.call(
        "CollectBooking", county, id=b.id,
        weights=pb.Weights(textiles_kg=12.5, books_kg=3),
    ).booking  # fmt: skip
    assert done.status == pb.BOOKING_STATUS_COLLECTED and done.collected_on
    after = rec.total(prov, PROVINCE)
    assert after["bookings_collected"] == before["bookings_collected"] + 1
    assert after["kg_total"] == pytest.approx(before["kg_total"] + 15.5)
    assert after["events"] == before["events"]
    refused(
        lambda: rec.call("CancelBooking", county, id=b.id, reason="重复"),
        grpc.StatusCode.FAILED_PRECONDITION,
    )


def test_the_resident_or_an_office_may_cancel_nobody_else(rec, token):
    me = resident(token, name="resident-canceller")
    mine = rec.book(me).booking
    stranger = resident(token)
    refused(
        lambda: rec.call("CancelBooking", stranger, id=mine.id, reason="x"),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    got = rec.call("CancelBooking", me, id=mine.id, reason="已自行投放").booking
    assert (
        got.status == pb.BOOKING_STATUS_CANCELLED and got.cancel_reason == "已自行投放"
    )
    theirs = rec.book(resident(token)).booking
    rec.call("AssignBooking", token(COUNTY), id=theirs.id, organisation_name="队")
    got = rec.call("CancelBooking", token(COUNTY), id=theirs.id, reason="联系不上")
    assert got.booking.status == pb.BOOKING_STATUS_CANCELLED


# -- events ----------------------------------------------------------------------------


def test_every_fact_announces_itself_through_the_outbox(rec, token, worker):
    county = token(COUNTY)
    b = rec.bin(county)
    full = rec.status(county, b.id, pb.BIN_STATUS_FULL)
    c = rec.collect(county, [full.code]).collection
    d = rec.drive(county)
    phone = new_phone()
    bk = rec.book(resident(token), contact_phone=phone).booking
    rec.call("AssignBooking", county, id=bk.id, organisation_name="队")
    rec.call("CollectBooking", county, id=bk.id, weights=pb.Weights(other_kg=2))

    def event(kind: str, key: str, value: str) -> dict[str, Any]:
        rows = raw(
            "SELECT payload, published_at FROM outbox WHERE event_type = :t"
            " AND payload->'data'->>:k = :v ORDER BY seq",
            t=kind, k=key, v=value,
        )  # fmt: skip
        assert rows, (kind, value)
        return rows[-1][0]

    got = event("recycling.collection.recorded", "collection_id", c.id)
    assert got["division_code"] == TOWN and got["data"]["bin_codes"] == [b.code]
    assert got["data"]["total_kg"] == pytest.approx(141.7)
    changes = raw(
        "SELECT payload->'data'->>'to_status' FROM outbox"
        " WHERE event_type = 'recycling.bin.status_changed'"
        " AND payload->'data'->>'bin_id' = :b"
        " ORDER BY seq",
        b=b.id,
    )
    assert [r[0] for r in changes] == ["deployed", "full", "deployed"]
    assert (
        event("recycling.drive.recorded", "drive_id", d.id)["data"]["garments"] == 100
    )
    collected = event("recycling.booking.collected", "booking_id", bk.id)
    assert collected["data"]["total_kg"] == 2.0
    for secret in (phone, "王秀兰", "长安中路"):
        assert secret not in str(collected)
    # The worker's relay publishes them.
    wait_for(
        lambda: raw(
            "SELECT count(*) FROM outbox WHERE published_at IS NULL"
            " AND payload->'data'->>'booking_id' = :b",
            b=bk.id,
        )[0][0] == 0,
        timeout=30,
        what="the relay to publish the booking's event",
    )  # fmt: skip
