"""Bad input to every RecyclingService field, on the real api role:
INVALID_ARGUMENT naming the field (``zhiyuan-field``) and the rule
(``zhiyuan-rule``), no stack trace, and nothing written by the rejected
request; then the refusals that are not about the form (outside the scope,
unknown bins and drives, a code taken) with their own status codes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import grpc
import pytest
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.recycling.v1 import recycling_pb2 as pb

from tests.integration.test_recycling_flow import Rec, raw, resident
from tests.integration.test_recycling_self_service import my_form, own_token

pytestmark = pytest.mark.integration
COUNTY, TOWN, OTHER_TOWN = "610113", "610113002", "610113001"
INVALID = grpc.StatusCode.INVALID_ARGUMENT
LONG = "长" * 501
TOMORROW = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
YESTERDAY = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
MY_RPCS = ("CreateMyBooking", "ListMyBookings", "GetMyBooking")
TABLES = (
    "bins", "bin_status_changes", "collections", "collection_bins", "drives",
    "distributions", "bookings", "outbox",
)  # fmt: skip


def at(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


class World:
    def __init__(self, rec: Rec, token: Any):
        self.rec, self.tok = rec, token(COUNTY)
        self.resident = resident(token)
        self.mine = own_token(TOWN)
        self.bin = rec.bin(self.tok, deployed_on="2026-01-05")
        self.drive = rec.drive(self.tok)
        self.booking = rec.book(self.resident).booking
        self.assigned = rec.book(self.resident).booking
        rec.call("AssignBooking", self.tok, id=self.assigned.id, organisation_name="队")

    def call(self, rpc: str, **fields: Any) -> Any:
        # A resident's own calls with its own account's token (issue 13).
        tok = self.mine if rpc in MY_RPCS else self.tok
        return self.rec.call(rpc, tok, **fields)

    def snapshot(self) -> tuple[Any, ...]:
        """Everything a rejected request could have touched."""
        counts = tuple(raw(f"SELECT count(*) FROM {t}")[0][0] for t in TABLES)  # noqa: S608
        rollup = raw(
            "SELECT * FROM recycling_rollup WHERE division_code IN (:a, :b, :c)"
            " ORDER BY level, division_code, period",
            a=TOWN, b=COUNTY, c=OTHER_TOWN,
        )  # fmt: skip
        states = raw(
            "SELECT status, organisation_name FROM bookings WHERE id IN (:a, :b)"
            " ORDER BY id",
            a=self.booking.id, b=self.assigned.id,
        )  # fmt: skip
        b = self.call("GetBin", id=self.bin.id).bin
        return counts, tuple(rollup), tuple(states), b.status, b.status_changed_on


@pytest.fixture(scope="module")
def w(stubs, token) -> World:  # type: ignore[no-untyped-def]
    return World(Rec(stubs("recycling"), token), token)


def new_bin(w: World, **over: Any) -> dict[str, Any]:
    base = dict(
        code=f"BAD-{uuid.uuid4().hex[:8].upper()}",
        division_code=TOWN,
        place=pb.Place(
            address="小寨路街道社区服务站旁", latitude=34.2, longitude=108.9
        ),
        deployed_on="2026-02-01",
    )
    return {**base, **over}


def collection(w: World, **over: Any) -> dict[str, Any]:
    base = dict(
        division_code=TOWN,
        organisation_name="雁塔区爱为宝志愿服务队",
        collected_on="2026-03-01",
        bin_codes=[w.bin.code],
        weights=pb.Weights(textiles_kg=50, books_kg=5),
    )
    return {**base, **over}


def drive(w: World, **over: Any) -> dict[str, Any]:
    base = dict(
        division_code=TOWN,
        organisation_name="雁塔区慈善协会",
        title="冬衣暖心捐赠活动",
        held_on="2026-10-01",
        items=pb.Items(garments=10),
        recipient_households=2,
    )
    return {**base, **over}


def handout(w: World, **over: Any) -> dict[str, Any]:
    base = dict(drive_id=w.drive.id, households=1, items=pb.Items(garments=1))
    return {**base, **over}


def booking(w: World, **over: Any) -> dict[str, Any]:
    base = dict(
        request_id=uuid.uuid4().hex,
        division_code=TOWN,
        contact_name="李桂英",
        contact_phone="13912345678",
        address="西安市雁塔区小寨路街道长安中路12号院",
        window_start=at(1),
        window_end=at(1.1),
    )
    return {**base, **over}


def my_booking(w: World, **over: Any) -> dict[str, Any]:
    return my_form(**over)


def kg(**over: float) -> pb.Weights:
    return pb.Weights(**{"textiles_kg": 5.0, **over})


def page(token: str) -> common.PageRequest:
    return common.PageRequest(page_token=token)


def query(**over: Any) -> common.RollupQuery:
    return common.RollupQuery(**{"division_code": COUNTY, **over})


P = pytest.param
Fields = Callable[[World], dict[str, Any]]
# (rpc, fields(w) -> request fields, field, rule)
CASES = [
    P("CreateBin", lambda w: new_bin(w, code=""), "code", "code.required", id="bin-code-empty"),  # noqa: E501
    P("CreateBin", lambda w: new_bin(w, code="A B"), "code", "code.format", id="bin-code-blank-inside"),  # noqa: E501
    P("CreateBin", lambda w: new_bin(w, code="箱-1"), "code", "code.format", id="bin-code-chinese"),  # noqa: E501
    P("CreateBin", lambda w: new_bin(w, code="A" * 33), "code", "code.max_length", id="bin-code-long"),  # noqa: E501
    P("CreateBin", lambda w: new_bin(w, division_code=""), "division_code", "division_code.required", id="bin-division-empty"),  # noqa: E501
    P("CreateBin", lambda w: new_bin(w, division_code="6101130"), "division_code", "division_code.width", id="bin-division-width"),  # noqa: E501
    P("CreateBin", lambda w: new_bin(w, division_code="61O113"), "division_code", "division_code.format", id="bin-division-letter"),  # noqa: E501
    P("CreateBin", lambda w: new_bin(w, division_code="６１０１１３"), "division_code", "division_code.format", id="bin-division-fullwidth"),  # noqa: E501
    P("CreateBin", lambda w: new_bin(w, place=pb.Place(address=" ")), "place.address", "place.address.required", id="bin-address-blank"),  # noqa: E501
    P("CreateBin", lambda w: new_bin(w, place=pb.Place(address="址" * 201)), "place.address", "place.address.max_length", id="bin-address-long"),  # noqa: E501
    P("CreateBin", lambda w: new_bin(w, place=pb.Place(address="a", latitude=91, longitude=108)), "place.latitude", "place.latitude.range", id="bin-latitude-91"),  # noqa: E501
    P("CreateBin", lambda w: new_bin(w, place=pb.Place(address="a", latitude=34, longitude=-181)), "place.longitude", "place.longitude.range", id="bin-longitude-181"),  # noqa: E501
    P("CreateBin", lambda w: new_bin(w, place=pb.Place(address="a", latitude=float("nan"), longitude=1)), "place.latitude", "place.latitude.range", id="bin-latitude-nan"),  # noqa: E501
    P("CreateBin", lambda w: new_bin(w, place=pb.Place(address="a", latitude=34)), "place.longitude", "place.longitude.required", id="bin-longitude-missing"),  # noqa: E501
    P("CreateBin", lambda w: new_bin(w, deployed_on=TOMORROW), "deployed_on", "deployed_on.past", id="bin-deployed-future"),  # noqa: E501
    P("CreateBin", lambda w: new_bin(w, deployed_on="2026/01/05"), "deployed_on", "deployed_on.format", id="bin-deployed-format"),  # noqa: E501
    P("CreateBin", lambda w: new_bin(w, deployed_on="1999-12-31"), "deployed_on", "deployed_on.min", id="bin-deployed-ancient"),  # noqa: E501
    P("ListBins", lambda w: dict(division_code="61011"), "division_code", "division_code.width", id="bins-division"),  # noqa: E501
    P("ListBins", lambda w: dict(status=99), "status", "status.known", id="bins-status"),  # noqa: E501
    P("ListBins", lambda w: dict(page=page("!!")), "page.page_token", "page.token", id="bins-page"),  # noqa: E501
    P("GetBin", lambda w: dict(id=""), "id", "id.required", id="bin-get-empty"),
    P("GetBin", lambda w: dict(id="1 OR 1=1"), "id", "id.format", id="bin-get-injection"),  # noqa: E501
    P("ChangeBinStatus", lambda w: dict(id="B1", status=2), "id", "id.format", id="status-id"),  # noqa: E501
    P("ChangeBinStatus", lambda w: dict(id=w.bin.id), "status", "status.required", id="status-missing"),  # noqa: E501
    P("ChangeBinStatus", lambda w: dict(id=w.bin.id, status=9), "status", "status.known", id="status-unknown"),  # noqa: E501
    P("ChangeBinStatus", lambda w: dict(id=w.bin.id, status=2, changed_on=TOMORROW), "changed_on", "changed_on.past", id="status-future"),  # noqa: E501
    P("ChangeBinStatus", lambda w: dict(id=w.bin.id, status=2, changed_on="2026-01-04"), "changed_on", "changed_on.not_before", id="status-before-last-change"),  # noqa: E501
    P("ChangeBinStatus", lambda w: dict(id=w.bin.id, status=2, reason=LONG), "reason", "reason.max_length", id="status-reason-long"),  # noqa: E501
    P("RecordCollection", lambda w: collection(w, division_code="610"), "division_code", "division_code.width", id="collect-division"),  # noqa: E501
    P("RecordCollection", lambda w: collection(w, organisation_id="team-1"), "organisation_id", "organisation_id.format", id="collect-org-id"),  # noqa: E501
    P("RecordCollection", lambda w: collection(w, organisation_name=""), "organisation_name", "organisation_name.required", id="collect-org-name"),  # noqa: E501
    P("RecordCollection", lambda w: collection(w, collected_on=TOMORROW), "collected_on", "collected_on.past", id="collect-future"),  # noqa: E501
    P("RecordCollection", lambda w: collection(w, collected_on="2026-1-5"), "collected_on", "collected_on.format", id="collect-date-format"),  # noqa: E501
    P("RecordCollection", lambda w: collection(w, collected_on="2026-01-04"), "collected_on", "collected_on.not_before", id="collect-before-deployment"),  # noqa: E501
    P("RecordCollection", lambda w: collection(w, bin_codes=["x y"]), "bin_codes", "bin_codes.format", id="collect-bin-format"),  # noqa: E501
    P("RecordCollection", lambda w: collection(w, bin_codes=[w.bin.code, w.bin.code.lower()]), "bin_codes", "bin_codes.unique", id="collect-bin-twice"),  # noqa: E501
    P("RecordCollection", lambda w: collection(w, bin_codes=[f"B-{i}" for i in range(201)]), "bin_codes", "bin_codes.max_items", id="collect-bins-too-many"),  # noqa: E501
    P("RecordCollection", lambda w: collection(w, division_code=OTHER_TOWN), "bin_codes", "bin_codes.within_division", id="collect-bin-elsewhere"),  # noqa: E501
    P("RecordCollection", lambda w: collection(w, weights=kg(textiles_kg=-1)), "weights.textiles_kg", "weights.textiles_kg.non_negative", id="collect-kg-negative"),  # noqa: E501
    P("RecordCollection", lambda w: collection(w, weights=kg(books_kg=1e9)), "weights.books_kg", "weights.books_kg.max", id="collect-kg-huge"),  # noqa: E501
    P("RecordCollection", lambda w: collection(w, weights=kg(other_kg=float("inf"))), "weights.other_kg", "weights.other_kg.number", id="collect-kg-inf"),  # noqa: E501
    P("RecordCollection", lambda w: collection(w, weights=pb.Weights()), "weights", "weights.positive", id="collect-kg-none"),  # noqa: E501
    P("RecordCollection", lambda w: collection(w, activity_project_id="p1", activity_session_id=str(uuid.uuid4())), "activity_project_id", "activity_project_id.format", id="collect-project-format"),  # noqa: E501
    P("RecordCollection", lambda w: collection(w, activity_project_id=str(uuid.uuid4()), activity_session_id="s"), "activity_session_id", "activity_session_id.format", id="collect-session-format"),  # noqa: E501
    P("RecordCollection", lambda w: collection(w, activity_session_id=str(uuid.uuid4())), "activity_project_id", "activity_project_id.required", id="collect-session-alone"),  # noqa: E501
    P("RecordCollection", lambda w: collection(w, note=LONG), "note", "note.max_length", id="collect-note-long"),  # noqa: E501
    P("ListCollections", lambda w: dict(division_code="x"), "division_code", "division_code.format", id="collections-division"),  # noqa: E501
    P("ListCollections", lambda w: dict(page=page("LTE=")), "page.page_token", "page.token", id="collections-page-negative"),  # noqa: E501
    P("GetCollection", lambda w: dict(id="c"), "id", "id.format", id="collection-get"),
    P("RecordDrive", lambda w: drive(w, division_code="6101131"), "division_code", "division_code.width", id="drive-division"),  # noqa: E501
    P("RecordDrive", lambda w: drive(w, organisation_id="o"), "organisation_id", "organisation_id.format", id="drive-org-id"),  # noqa: E501
    P("RecordDrive", lambda w: drive(w, organisation_name="组" * 201), "organisation_name", "organisation_name.max_length", id="drive-org-name"),  # noqa: E501
    P("RecordDrive", lambda w: drive(w, title=""), "title", "title.required", id="drive-title-empty"),  # noqa: E501
    P("RecordDrive", lambda w: drive(w, title="题" * 101), "title", "title.max_length", id="drive-title-long"),  # noqa: E501
    P("RecordDrive", lambda w: drive(w, held_on=TOMORROW), "held_on", "held_on.past", id="drive-future"),  # noqa: E501
    P("RecordDrive", lambda w: drive(w, items=pb.Items()), "items", "items.positive", id="drive-no-items"),  # noqa: E501
    P("RecordDrive", lambda w: drive(w, items=pb.Items(garments=-3)), "items.garments", "items.garments.non_negative", id="drive-garments-negative"),  # noqa: E501
    P("RecordDrive", lambda w: drive(w, items=pb.Items(books=2_000_000)), "items.books", "items.books.max", id="drive-books-huge"),  # noqa: E501
    P("RecordDrive", lambda w: drive(w, recipient_households=0), "recipient_households", "recipient_households.positive", id="drive-households-zero"),  # noqa: E501
    P("RecordDrive", lambda w: drive(w, recipient_households=-1), "recipient_households", "recipient_households.range", id="drive-households-negative"),  # noqa: E501
    P("RecordDrive", lambda w: drive(w, campaign_id="１２３"), "campaign_id", "campaign_id.format", id="drive-campaign-full-width"),  # noqa: E501
    P("RecordDistribution", lambda w: handout(w, drive_id=""), "drive_id", "drive_id.required", id="handout-drive-empty"),  # noqa: E501
    P("RecordDistribution", lambda w: handout(w, drive_id="d"), "drive_id", "drive_id.format", id="handout-drive-format"),  # noqa: E501
    P("RecordDistribution", lambda w: handout(w, distributed_on=TOMORROW), "distributed_on", "distributed_on.past", id="handout-future"),  # noqa: E501
    P("RecordDistribution", lambda w: handout(w, distributed_on="2026-09-30"), "distributed_on", "distributed_on.not_before", id="handout-before-drive"),  # noqa: E501
    P("RecordDistribution", lambda w: handout(w, households=0), "households", "households.positive", id="handout-households-zero"),  # noqa: E501
    P("RecordDistribution", lambda w: handout(w, items=pb.Items()), "items", "items.positive", id="handout-no-items"),  # noqa: E501
    P("RecordDistribution", lambda w: handout(w, note=LONG), "note", "note.max_length", id="handout-note-long"),  # noqa: E501
    P("ListDrives", lambda w: dict(division_code="6101 13"), "division_code", "division_code.format", id="drives-division"),  # noqa: E501
    P("ListDrives", lambda w: dict(page=page("abc")), "page.page_token", "page.token", id="drives-page"),  # noqa: E501
    P("GetDrive", lambda w: dict(id=""), "id", "id.required", id="drive-get"),
    P("CreateBooking", lambda w: booking(w, request_id=""), "request_id", "request_id.required", id="book-request-empty"),  # noqa: E501
    P("CreateBooking", lambda w: booking(w, request_id="r" * 65), "request_id", "request_id.max_length", id="book-request-long"),  # noqa: E501
    P("CreateBooking", lambda w: booking(w, division_code="61011300"), "division_code", "division_code.width", id="book-division"),  # noqa: E501
    P("CreateBooking", lambda w: booking(w, contact_name=""), "contact_name", "contact_name.required", id="book-name-empty"),  # noqa: E501
    P("CreateBooking", lambda w: booking(w, contact_name="名" * 51), "contact_name", "contact_name.max_length", id="book-name-long"),  # noqa: E501
    P("CreateBooking", lambda w: booking(w, contact_phone=""), "contact_phone", "contact_phone.required", id="book-phone-empty"),  # noqa: E501
    P("CreateBooking", lambda w: booking(w, contact_phone="12345678901"), "contact_phone", "phone.format", id="book-phone-format"),  # noqa: E501
    P("CreateBooking", lambda w: booking(w, address=""), "address", "address.required", id="book-address-empty"),  # noqa: E501
    P("CreateBooking", lambda w: booking(w, address="址" * 201), "address", "address.max_length", id="book-address-long"),  # noqa: E501
    P("CreateBooking", lambda w: booking(w, window_start="2026-12-01 09:00"), "window_start", "window_start.format", id="book-start-no-offset"),  # noqa: E501
    P("CreateBooking", lambda w: booking(w, window_start=""), "window_start", "window_start.required", id="book-start-empty"),  # noqa: E501
    P("CreateBooking", lambda w: booking(w, window_start=at(-1), window_end=at(1)), "window_start", "window_start.future", id="book-start-past"),  # noqa: E501
    P("CreateBooking", lambda w: booking(w, window_start=at(100), window_end=at(100.1)), "window_start", "window_start.max_ahead", id="book-start-far"),  # noqa: E501
    P("CreateBooking", lambda w: booking(w, window_end="tomorrow"), "window_end", "window_end.format", id="book-end-garbage"),  # noqa: E501
    P("CreateBooking", lambda w: booking(w, window_start=at(2), window_end=at(1)), "window_end", "window_end.after_start", id="book-end-before-start"),  # noqa: E501
    P("CreateBooking", lambda w: booking(w, window_start=at(1), window_end=at(9)), "window_end", "window_end.max_duration", id="book-window-long"),  # noqa: E501
    P("CreateBooking", lambda w: booking(w, note=LONG), "note", "note.max_length", id="book-note-long"),  # noqa: E501
    P("ListBookings", lambda w: dict(division_code="0"), "division_code", "division_code.width", id="bookings-division"),  # noqa: E501
    P("ListBookings", lambda w: dict(status=7), "status", "status.known", id="bookings-status"),  # noqa: E501
    P("ListBookings", lambda w: dict(page=page("#")), "page.page_token", "page.token", id="bookings-page"),  # noqa: E501
    P("AssignBooking", lambda w: dict(id="b", organisation_name="队"), "id", "id.format", id="assign-id"),  # noqa: E501
    P("AssignBooking", lambda w: dict(id=w.booking.id, organisation_id="o", organisation_name="队"), "organisation_id", "organisation_id.format", id="assign-org-id"),  # noqa: E501
    P("AssignBooking", lambda w: dict(id=w.booking.id, organisation_name=""), "organisation_name", "organisation_name.required", id="assign-org-name"),  # noqa: E501
    P("CollectBooking", lambda w: dict(id="", weights=kg()), "id", "id.required", id="collect-booking-id"),  # noqa: E501
    P("CollectBooking", lambda w: dict(id=w.assigned.id, weights=pb.Weights()), "weights", "weights.positive", id="collect-booking-no-kg"),  # noqa: E501
    P("CollectBooking", lambda w: dict(id=w.assigned.id, weights=kg(textiles_kg=-0.5)), "weights.textiles_kg", "weights.textiles_kg.non_negative", id="collect-booking-negative"),  # noqa: E501
    P("CollectBooking", lambda w: dict(id=w.assigned.id, weights=kg(other_kg=60_000)), "weights.other_kg", "weights.other_kg.max", id="collect-booking-huge"),  # noqa: E501
    P("CollectBooking", lambda w: dict(id=w.assigned.id, weights=kg(), collected_on=TOMORROW), "collected_on", "collected_on.past", id="collect-booking-future"),  # noqa: E501
    P("CollectBooking", lambda w: dict(id=w.assigned.id, weights=kg(), collected_on=YESTERDAY), "collected_on", "collected_on.not_before", id="collect-booking-before-made"),  # noqa: E501
    P("CollectBooking", lambda w: dict(id=w.assigned.id, weights=kg(), campaign_id="c\r"), "campaign_id", "campaign_id.format", id="collect-booking-campaign-cr"),  # noqa: E501
    P("CancelBooking", lambda w: dict(id="x", reason="r"), "id", "id.format", id="cancel-id"),  # noqa: E501
    P("CancelBooking", lambda w: dict(id=w.booking.id, reason=""), "reason", "reason.required", id="cancel-reason-empty"),  # noqa: E501
    P("CancelBooking", lambda w: dict(id=w.booking.id, reason=LONG), "reason", "reason.max_length", id="cancel-reason-long"),  # noqa: E501
    P("CreateMyBooking", lambda w: my_booking(w, request_id=""), "request_id", "request_id.required", id="my-request-empty"),  # noqa: E501
    P("CreateMyBooking", lambda w: my_booking(w, contact_name=""), "contact_name", "contact_name.required", id="my-name-empty"),  # noqa: E501
    P("CreateMyBooking", lambda w: my_booking(w, contact_phone="12345678901"), "contact_phone", "phone.format", id="my-phone-format"),  # noqa: E501
    P("CreateMyBooking", lambda w: my_booking(w, address="址" * 201), "address", "address.max_length", id="my-address-long"),  # noqa: E501
    P("CreateMyBooking", lambda w: my_booking(w, window_start=""), "window_start", "window_start.required", id="my-start-empty"),  # noqa: E501
    P("CreateMyBooking", lambda w: my_booking(w, window_start=at(2), window_end=at(1)), "window_end", "window_end.after_start", id="my-end-before-start"),  # noqa: E501
    P("CreateMyBooking", lambda w: my_booking(w, items=""), "items", "items.required", id="my-items-empty"),  # noqa: E501
    P("CreateMyBooking", lambda w: my_booking(w, items=LONG), "items", "items.max_length", id="my-items-long"),  # noqa: E501
    P("CreateMyBooking", lambda w: my_booking(w, estimated_kg=0), "estimated_kg", "estimated_kg.positive", id="my-estimate-none"),  # noqa: E501
    P("CreateMyBooking", lambda w: my_booking(w, estimated_kg=60_000), "estimated_kg", "estimated_kg.range", id="my-estimate-huge"),  # noqa: E501
    P("CreateMyBooking", lambda w: my_booking(w, estimated_kg=float("inf")), "estimated_kg", "estimated_kg.number", id="my-estimate-infinite"),  # noqa: E501
    P("ListMyBookings", lambda w: dict(page=page("#")), "page.page_token", "page.token", id="my-bookings-page"),  # noqa: E501
    P("GetMyBooking", lambda w: dict(id="b"), "id", "id.format", id="my-booking-id"),  # noqa: E501
    P("GetMyBooking", lambda w: dict(id=""), "id", "id.required", id="my-booking-id-empty"),  # noqa: E501
    P("Summarize", lambda w: dict(query=query(division_code="6101131")), "query.division_code", "division_code.width", id="summarize-division"),  # noqa: E501
    P("Summarize", lambda w: dict(query=query(group_by=common.DIVISION_LEVEL_CITY)), "query.group_by", "group_by.below_node", id="summarize-group-above"),  # noqa: E501
    P("Summarize", lambda w: dict(query=query(group_by=42)), "query.group_by", "query.group_by.known", id="summarize-group-unknown"),  # noqa: E501
    P("Summarize", lambda w: dict(query=query(period=common.Period(start_month="2026-13"))), "query.period.start_month", "period.month_format", id="summarize-month"),  # noqa: E501
    P("Summarize", lambda w: dict(query=query(period=common.Period(start_month="2026-05", end_month="2026-04"))), "query.period.end_month", "period.order", id="summarize-order"),  # noqa: E501
    P("SummarizeFederated", lambda w: dict(query=query(division_code="6101131")), "query.division_code", "division_code.width", id="federated-division"),  # noqa: E501
    P("SummarizeFederated", lambda w: dict(query=query(group_by=common.DIVISION_LEVEL_CITY)), "query.group_by", "group_by.below_node", id="federated-group-above"),  # noqa: E501
    P("SummarizeFederated", lambda w: dict(query=query(group_by=42)), "query.group_by", "query.group_by.known", id="federated-group-unknown"),  # noqa: E501
    P("SummarizeFederated", lambda w: dict(query=query(period=common.Period(start_month="2026-13"))), "query.period.start_month", "period.month_format", id="federated-month"),  # noqa: E501
    P("SummarizeFederated", lambda w: dict(query=query(period=common.Period(start_month="2026-03", end_month="2026-05"))), "query.period", "period.stored", id="federated-period-not-stored"),  # noqa: E501
    P("SummarizeFederated", lambda w: dict(query=query(by_month=True)), "query.period", "period.stored", id="federated-by-month"),  # noqa: E501
]  # fmt: skip


@pytest.mark.parametrize(("rpc", "fields", "field", "rule"), CASES)
def test_bad_input_names_the_field_and_writes_nothing(
    w: World, rpc: str, fields: Fields, field: str, rule: str
) -> None:
    before = w.snapshot()
    with pytest.raises(grpc.RpcError) as err:
        w.call(rpc, **fields(w))
    assert err.value.code() == INVALID, err.value.details()
    assert "Traceback" not in err.value.details()
    trailers = dict(err.value.trailing_metadata() or ())
    assert trailers.get("zhiyuan-field") == field
    assert trailers.get("zhiyuan-rule") == rule
    assert trailers.get("zhiyuan-message-zh-bin", b"").decode().strip()
    assert w.snapshot() == before


# Refusals that are not about the form: their own status, the field named.
OTHERS = [
    P("CreateBin", lambda w: new_bin(w, code=w.bin.code), grpc.StatusCode.ALREADY_EXISTS, "code", "code.unique", id="bin-code-taken"),  # noqa: E501
    P("CreateBin", lambda w: new_bin(w, code=w.bin.code.lower(), division_code=OTHER_TOWN), grpc.StatusCode.ALREADY_EXISTS, "code", "code.unique", id="bin-code-taken-any-case"),  # noqa: E501
    P("CreateBin", lambda w: new_bin(w, division_code="610112001"), grpc.StatusCode.PERMISSION_DENIED, "division_code", "scope.contains", id="bin-outside-scope"),  # noqa: E501
    P("GetBin", lambda w: dict(id=str(uuid.uuid4())), grpc.StatusCode.NOT_FOUND, "id", "id.exists", id="bin-unknown"),  # noqa: E501
    P("RecordCollection", lambda w: collection(w, bin_codes=["AWB-NOPE-0001"]), grpc.StatusCode.NOT_FOUND, "bin_codes", "bin_codes.exists", id="collect-unknown-bin"),  # noqa: E501
    P("RecordCollection", lambda w: collection(w, division_code="6102"), grpc.StatusCode.PERMISSION_DENIED, "division_code", "scope.contains", id="collect-outside-scope"),  # noqa: E501
    P("RecordDistribution", lambda w: handout(w, drive_id=str(uuid.uuid4())), grpc.StatusCode.NOT_FOUND, "drive_id", "drive_id.exists", id="handout-unknown-drive"),  # noqa: E501
    P("RecordDistribution", lambda w: handout(w, items=pb.Items(garments=101)), grpc.StatusCode.FAILED_PRECONDITION, "items.garments", "distribution.within_drive", id="handout-more-than-given"),  # noqa: E501
    P("ListBins", lambda w: dict(division_code="610112"), grpc.StatusCode.PERMISSION_DENIED, "division_code", "scope.contains", id="bins-outside-scope"),  # noqa: E501
    P("CreateBooking", lambda w: booking(w, division_code="6103"), grpc.StatusCode.PERMISSION_DENIED, "division_code", "scope.contains", id="book-outside-scope"),  # noqa: E501
    P("AssignBooking", lambda w: dict(id=w.assigned.id, organisation_name="队"), grpc.StatusCode.FAILED_PRECONDITION, None, "state.transition", id="assign-twice"),  # noqa: E501
    P("GetMyBooking", lambda w: dict(id=w.booking.id), grpc.StatusCode.NOT_FOUND, "id", "id.exists", id="my-booking-not-mine"),  # noqa: E501
]  # fmt: skip


@pytest.mark.parametrize(("rpc", "fields", "code", "field", "rule"), OTHERS)
def test_other_refusals_name_the_field_and_write_nothing(
    w: World, rpc: str, fields: Fields, code: Any, field: str | None, rule: str
) -> None:
    before = w.snapshot()
    with pytest.raises(grpc.RpcError) as err:
        w.call(rpc, **fields(w))
    assert err.value.code() == code, err.value.details()
    trailers = dict(err.value.trailing_metadata() or ())
    assert trailers.get("zhiyuan-field") == field
    assert trailers.get("zhiyuan-rule") == rule
    assert w.snapshot() == before


def test_the_days_used_here_are_what_they_say() -> None:
    today = datetime.now(UTC).date()
    assert date.fromisoformat(TOMORROW) > today > date.fromisoformat(YESTERDAY)


def test_every_rpc_has_a_bad_input_case() -> None:
    methods = set(pb.DESCRIPTOR.services_by_name["RecyclingService"].methods_by_name)
    assert methods == {case.values[0] for case in CASES}


def test_every_request_field_has_a_bad_input_case() -> None:
    named = {(case.values[0], case.values[2].split(".")[0]) for case in CASES}
    for method in pb.DESCRIPTOR.services_by_name["RecyclingService"].methods:
        for f in method.input_type.fields:
            assert (method.name, f.name) in named, f"no bad-input case for {f.name}"
