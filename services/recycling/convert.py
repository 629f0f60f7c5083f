"""Rows → protobuf messages, and the request's enums and numbers → the use
cases' values. A booking's contact data leaves only masked."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.recycling.v1 import recycling_pb2 as pb

from services.common.paging import Page
from services.common.rollup_query import LEVELS as LEVELS
from services.common.rollup_query import RollupResult, to_rollup
from services.common.rollup_query import enum_value as enum_value
from services.common.times import iso
from services.recycling import models as m
from services.recycling.quantities import Items
from services.recycling.usecases.drives import DriveView

BIN_STATUS = {
    pb.BIN_STATUS_DEPLOYED: "deployed",
    pb.BIN_STATUS_FULL: "full",
    pb.BIN_STATUS_MAINTENANCE: "maintenance",
    pb.BIN_STATUS_RETIRED: "retired",
}
PB_BIN_STATUS = {v: k for k, v in BIN_STATUS.items()}
BOOKING_STATUS = {
    pb.BOOKING_STATUS_REQUESTED: "requested",
    pb.BOOKING_STATUS_ASSIGNED: "assigned",
    pb.BOOKING_STATUS_COLLECTED: "collected",
    pb.BOOKING_STATUS_CANCELLED: "cancelled",
}
PB_BOOKING_STATUS = {v: k for k, v in BOOKING_STATUS.items()}


def at(value: datetime | None) -> str:
    """RFC 3339 in UTC, whatever time zone the database session hands back."""
    return iso(value.astimezone(UTC) if value and value.tzinfo else value)


def day(value: date | None) -> str:
    return value.isoformat() if value else ""


def kg(value: Decimal) -> float:
    return float(value)


# -- requests ------------------------------------------------------------------------


def place(req_place: pb.Place) -> tuple[str, float | None, float | None]:
    lat = req_place.latitude if req_place.HasField("latitude") else None
    lng = req_place.longitude if req_place.HasField("longitude") else None
    return req_place.address, lat, lng


def weights(w: pb.Weights) -> tuple[float, float, float]:
    return w.textiles_kg, w.books_kg, w.other_kg


def items(i: pb.Items) -> tuple[int, int, int]:
    return i.garments, i.books, i.other


# -- replies ---------------------------------------------------------------------------


def bin_(b: m.Bin) -> pb.Bin:
    spot = pb.Place(address=b.address)
    if b.latitude is not None and b.longitude is not None:
        spot.latitude, spot.longitude = b.latitude, b.longitude
    return pb.Bin(
        id=b.id, code=b.code, division_code=b.division_code, place=spot,
        status=PB_BIN_STATUS[b.status], deployed_on=day(b.deployed_on),
        status_changed_on=day(b.status_changed_on),
        last_emptied_on=day(b.last_emptied_on), created_by=b.created_by,
        created_at=at(b.created_at),
    )  # fmt: skip


def change(c: m.BinStatusChange) -> pb.BinStatusChange:
    return pb.BinStatusChange(
        from_status=PB_BIN_STATUS.get(c.from_status, pb.BIN_STATUS_UNSPECIFIED),
        to_status=PB_BIN_STATUS[c.to_status], changed_on=day(c.changed_on),
        changed_by=c.changed_by, recorded_at=at(c.recorded_at), reason=c.reason,
        collection_id=c.collection_id or "",
    )  # fmt: skip


def _weights(textiles: Decimal, books: Decimal, other: Decimal) -> pb.Weights:
    return pb.Weights(textiles_kg=kg(textiles), books_kg=kg(books), other_kg=kg(other))


def collection(c: m.Collection, codes: Sequence[str]) -> pb.Collection:
    return pb.Collection(
        id=c.id, division_code=c.division_code, organisation_id=c.organisation_id,
        organisation_name=c.organisation_name, collected_on=day(c.collected_on),
        bin_codes=list(codes), weights=_weights(c.textiles_kg, c.books_kg, c.other_kg),
        total_kg=kg(c.textiles_kg + c.books_kg + c.other_kg),
        activity_project_id=c.activity_project_id,
        activity_session_id=c.activity_session_id, note=c.note,
        recorded_by=c.recorded_by, recorded_at=at(c.recorded_at),
    )  # fmt: skip


def _items(i: Items) -> pb.Items:
    return pb.Items(garments=i.garments, books=i.books, other=i.other)


def drive(view: DriveView) -> pb.Drive:
    d = view.drive
    return pb.Drive(
        id=d.id, division_code=d.division_code, organisation_id=d.organisation_id,
        organisation_name=d.organisation_name, title=d.title, held_on=day(d.held_on),
        items=_items(Items(d.garments, d.books, d.other_items)),
        recipient_households=d.recipient_households,
        distributed=_items(view.distributed),
        households_reached=view.households_reached, recorded_by=d.recorded_by,
        recorded_at=at(d.recorded_at), campaign_id=d.campaign_id or "",
    )  # fmt: skip


def distribution(x: m.Distribution) -> pb.Distribution:
    return pb.Distribution(
        id=x.id, drive_id=x.drive_id, distributed_on=day(x.distributed_on),
        households=x.households,
        items=_items(Items(x.garments, x.books, x.other_items)), note=x.note,
        recorded_by=x.recorded_by, recorded_at=at(x.recorded_at),
    )  # fmt: skip


def booking(b: m.Booking) -> pb.Booking:
    return pb.Booking(
        id=b.id, division_code=b.division_code, contact_name=b.contact_name_masked,
        contact_phone=b.phone_masked, address=b.address_masked,
        window_start=at(b.window_start), window_end=at(b.window_end), note=b.note,
        status=PB_BOOKING_STATUS[b.status], organisation_id=b.organisation_id,
        organisation_name=b.organisation_name,
        weights=_weights(b.textiles_kg, b.books_kg, b.other_kg),
        collected_on=day(b.collected_on), cancel_reason=b.cancel_reason,
        created_at=at(b.created_at), estimated_kg=float(b.estimated_kg),
        campaign_id=b.campaign_id or "",
    )  # fmt: skip


def page(p: Page) -> common.PageInfo:
    return common.PageInfo(next_page_token=p.next_token, total_size=p.total)


def rollup(r: RollupResult) -> common.Rollup:
    return to_rollup(r)
