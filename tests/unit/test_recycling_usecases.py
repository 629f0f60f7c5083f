"""Recycling's rules through its use cases, in memory: the kernel's fake unit
of work (events and rollup bumps kept in lists, dropped when a unit raises,
rows put back) and an in-memory repository (``recycling_fakes``). The same
rules are proven through gRPC and PostgreSQL in the integration and security
tiers; here each runs in milliseconds."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from services.common.auth import Principal
from services.common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from services.common.pii import PiiCipher
from services.common.unit_of_work import TransactionalFakeUnitOfWork
from services.recycling import models as m
from services.recycling.application import RecyclingApp
from tests.unit.recycling_fakes import FakeRepository, FakeStore

NOW = datetime(2026, 5, 6, 2, 0, tzinfo=UTC)  # 10:00 on 6 May in China
COUNTY = "610113"  # Yanta district of Xi'an
TOWN = "610113001"  # one of its streets
OTHER_TOWN = "610113002"
NEIGHBOUR = "610114"  # another district of the same province
ORG = str(uuid.uuid4())
BIN_CHANGED = "recycling.bin.status_changed"
CIPHER = PiiCipher(bytes(range(32)))


@dataclass
class FakeActivity:
    """Activity's answer about a linked session: a service project's session,
    or a refusal for a donation project."""

    donation_projects: set[str] = field(default_factory=set)
    asked: list[tuple[str, str]] = field(default_factory=list)

    def check_service_session(self, project_id: str, session_id: str) -> None:
        self.asked.append((project_id, session_id))
        if project_id in self.donation_projects:
            raise FailedPrecondition(
                "a donation", "捐赠", rule="activity_project.kind_service"
            )


@dataclass
class Kit:
    store: FakeStore
    uow: TransactionalFakeUnitOfWork
    app: RecyclingApp
    activity: FakeActivity

    def events(self, kind: str = "") -> list[dict[str, Any]]:
        return [data for t, _, data in self.uow.events if not kind or t == kind]

    def bump(self, code: str, month: str, metric: str) -> float:
        return self.uow.bumps.get((m.ROLLUP.table_name, code, month, metric), 0)


@pytest.fixture
def kit() -> Kit:
    store = FakeStore()
    uow = TransactionalFakeUnitOfWork(store, NOW)
    activity = FakeActivity()
    app = RecyclingApp(
        None,  # type: ignore[arg-type]  # no database: the fakes stand in
        CIPHER,
        activity,  # type: ignore[arg-type]
        uow.clock,
        uow=uow,
        repository=lambda work: FakeRepository(store, work.scope),  # type: ignore[arg-type,return-value]
    )
    return Kit(store, uow, app, activity)


def who(scope: str, *roles: str, subject: str = "", org: str = "") -> Principal:
    return Principal(
        subject or f"s-{scope}", f"u-{scope}", scope, frozenset(roles), 0,
        organisation_id=org,
    )  # fmt: skip


ADMIN = who(COUNTY, "tenant_admin")


def place(
    kit: Kit, code: str, division: str = TOWN, day: str = "2026-04-20",
    p: Principal = ADMIN,
) -> m.Bin:  # fmt: skip
    draft = kit.app.bins.check_bin(p, code, division, "雁塔路 1 号", 34.2, 108.9, day)
    return kit.app.bins.create_bin(p, draft)


def collect(
    kit: Kit, codes: Sequence[str], day: str, division: str = TOWN,
    weights: tuple[float, float, float] = (120.5, 30, 0), p: Principal = ADMIN,
) -> tuple[m.Collection, list[m.Bin]]:  # fmt: skip
    draft = kit.app.collections.check_collection(
        p, division, "", "雁塔志愿者协会", day, codes, weights
    )
    return kit.app.collections.record_collection(p, draft)


# -- bins ------------------------------------------------------------------------------
def test_a_placed_bin_counts_as_deployed_in_the_month_it_was_placed(kit: Kit) -> None:
    b = place(kit, " awb-6101-0001 ")
    assert (b.code, b.province, b.status) == ("AWB-6101-0001", "61", "deployed")
    (entry,) = kit.store.of(m.BinStatusChange)
    assert (entry.from_status, entry.to_status, entry.bin_id) == ("", "deployed", b.id)
    assert kit.bump(TOWN, "2026-04", "bins_deployed") == 1
    (event,) = kit.events(BIN_CHANGED)
    assert (event["bin_code"], event["from_status"], event["to_status"]) == (
        "AWB-6101-0001", "", "deployed",
    )  # fmt: skip


def test_a_bin_code_is_unique_in_its_province_whoever_holds_it(kit: Kit) -> None:
    place(kit, "AWB-0001")
    with pytest.raises(AlreadyExists) as own:
        place(kit, "AWB-0001", OTHER_TOWN)  # seen by the caller's own query
    # A neighbour cannot see the county's bin, but the constraint can: the
    # same answer, and nothing of the refused bin is kept.
    neighbour = who(NEIGHBOUR, "tenant_admin")
    with pytest.raises(AlreadyExists) as hidden:
        place(kit, "AWB-0001", NEIGHBOUR + "001", p=neighbour)
    for err in (own.value, hidden.value):
        assert (err.field, err.rule) == ("code", "code.unique")
    assert len(kit.store.of(m.Bin)) == 1 and len(kit.events()) == 1
    assert kit.bump(NEIGHBOUR + "001", "2026-04", "bins_deployed") == 0
    # Another province numbers its own bins.
    place(kit, "AWB-0001", "620102001", p=who("62", "province_admin"))
    assert len(kit.store.of(m.Bin)) == 2


def test_bins_placed_together_are_placed_all_or_none(kit: Kit) -> None:
    place(kit, "AWB-0002")
    drafts = [
        kit.app.bins.check_bin(ADMIN, code, TOWN, "x", None, None, "2026-05-01")
        for code in ("AWB-0003", "AWB-0002")
    ]
    with pytest.raises(AlreadyExists):
        kit.app.bins.create_bins(ADMIN, drafts)
    assert [b.code for b in kit.store.of(m.Bin)] == ["AWB-0002"]
    assert kit.bump(TOWN, "2026-05", "bins_deployed") == 0
    assert not kit.uow.committed


def test_a_bin_leaves_the_deployed_count_only_when_it_retires(kit: Kit) -> None:
    b = place(kit, "AWB-0004")
    kit.app.bins.change_bin_status(ADMIN, b.id, "full", "2026-04-25", "")
    kit.app.bins.change_bin_status(
        ADMIN, b.id, "maintenance", "2026-04-28", "lid broken"
    )
    assert kit.bump(TOWN, "2026-04", "bins_deployed") == 1  # still in service
    kit.app.bins.change_bin_status(ADMIN, b.id, "retired", "2026-05-02", "site closed")
    assert kit.bump(TOWN, "2026-05", "bins_deployed") == -1
    with pytest.raises(FailedPrecondition) as err:  # retired is final
        kit.app.bins.change_bin_status(ADMIN, b.id, "deployed", "2026-05-03", "")
    assert err.value.rule == "state.transition"
    assert [(c.from_status, c.to_status) for c in kit.store.of(m.BinStatusChange)] == [
        ("", "deployed"), ("deployed", "full"), ("full", "maintenance"),
        ("maintenance", "retired"),
    ]  # fmt: skip
    assert (b.status, b.status_changed_on.isoformat()) == ("retired", "2026-05-02")


def test_a_status_change_is_dated_between_the_last_change_and_today(kit: Kit) -> None:
    b = place(kit, "AWB-0005", day="2026-04-20")
    for day, rule in (
        ("2026-04-19", "changed_on.not_before"),
        ("2026-05-07", "changed_on.past"),  # tomorrow in China
    ):
        with pytest.raises(InvalidArgument) as err:
            kit.app.bins.change_bin_status(ADMIN, b.id, "full", day, "")
        assert err.value.rule == rule
    with pytest.raises(InvalidArgument) as err:
        kit.app.bins.change_bin_status(ADMIN, b.id, "", "2026-05-01", "")
    assert (err.value.field, err.value.rule) == ("status", "status.required")
    assert b.status == "deployed" and len(kit.events()) == 1


def test_another_tenants_bin_is_answered_as_no_bin_at_all(kit: Kit) -> None:
    b = place(kit, "AWB-0006")
    neighbour = who(NEIGHBOUR, "tenant_admin")
    with pytest.raises(NotFound) as foreign:
        kit.app.bins.change_bin_status(neighbour, b.id, "full", "2026-05-01", "")
    with pytest.raises(NotFound) as unknown:
        kit.app.bins.change_bin_status(neighbour, str(uuid.uuid4()), "full", "", "")
    for err in (foreign.value, unknown.value):
        assert (err.field, err.rule) == ("id", "id.exists")
    assert b.status == "deployed"


def test_only_managers_place_bins_and_only_inside_their_scope(kit: Kit) -> None:
    for p in (who(COUNTY, "reviewer"), who(COUNTY, "volunteer")):
        with pytest.raises(PermissionDenied):
            place(kit, "AWB-0007", p=p)
    with pytest.raises(PermissionDenied) as err:
        place(kit, "AWB-0007", NEIGHBOUR + "001")
    assert (err.value.field, err.value.rule) == ("division_code", "scope.contains")
    assert kit.store.rows == [] and kit.uow.scopes == []  # nothing opened


# -- collections -----------------------------------------------------------------------
def test_a_collection_counts_its_weight_and_puts_full_bins_back(kit: Kit) -> None:
    full = place(kit, "AWB-0010")
    kit.app.bins.change_bin_status(ADMIN, full.id, "full", "2026-05-01", "")
    other = place(kit, "AWB-0011")
    row, bins = collect(kit, ["AWB-0011", "AWB-0010"], "2026-05-03")
    assert [b.code for b in bins] == ["AWB-0010", "AWB-0011"]
    assert (full.status, full.last_emptied_on, other.status) == (
        "deployed", row.collected_on, "deployed",
    )  # fmt: skip
    back = kit.store.of(m.BinStatusChange)[-1]
    assert (back.from_status, back.to_status, back.collection_id) == (
        "full", "deployed", row.id,
    )  # fmt: skip
    assert kit.bump(TOWN, "2026-05", "events") == 1
    assert kit.bump(TOWN, "2026-05", "kg_total") == pytest.approx(150.5)
    assert kit.bump(TOWN, "2026-05", "bins_deployed") == 0  # full is in service
    (event,) = kit.events("recycling.collection.recorded")
    assert event["bin_codes"] == ["AWB-0010", "AWB-0011"]
    assert event["total_kg"] == pytest.approx(150.5)
    assert len(kit.store.of(m.CollectionBin)) == 2


def test_a_collection_dated_before_the_bin_filled_leaves_it_full(kit: Kit) -> None:
    b = place(kit, "AWB-0012")
    kit.app.bins.change_bin_status(ADMIN, b.id, "full", "2026-05-04", "")
    collect(kit, ["AWB-0012"], "2026-05-02")
    assert (b.status, b.last_emptied_on.isoformat()) == ("full", "2026-05-02")


@pytest.mark.parametrize(
    ("setup", "error", "rule"),
    [
        ("retired", FailedPrecondition, "bin.retired"),
        ("other_town", InvalidArgument, "bin_codes.within_division"),
        ("neighbour", NotFound, "bin_codes.exists"),
        ("too_early", InvalidArgument, "collected_on.not_before"),
    ],
)
def test_a_collection_refuses_a_bin_it_cannot_have_emptied(
    kit: Kit, setup: str, error: type[Exception], rule: str
) -> None:
    good = place(kit, "AWB-0020")
    if setup == "retired":
        bad = place(kit, "AWB-0021")
        kit.app.bins.change_bin_status(ADMIN, bad.id, "retired", "2026-05-01", "")
    elif setup == "other_town":
        place(kit, "AWB-0021", OTHER_TOWN)
    elif setup == "neighbour":
        neighbour = who(NEIGHBOUR, "tenant_admin")
        place(kit, "AWB-0021", NEIGHBOUR + "001", p=neighbour)
    else:
        place(kit, "AWB-0021", day="2026-05-04")
    before = (len(kit.store.rows), len(kit.events()), dict(kit.uow.bumps))
    with pytest.raises(error) as err:
        collect(kit, ["AWB-0020", "AWB-0021"], "2026-05-03")
    assert getattr(err.value, "rule", None) == rule
    assert (len(kit.store.rows), len(kit.events()), kit.uow.bumps) == before
    assert good.last_emptied_on is None and kit.store.of(m.Collection) == []


def test_a_linked_activity_session_is_checked_before_anything_opens(
    kit: Kit,
) -> None:
    place(kit, "AWB-0030")
    project, session = str(uuid.uuid4()), str(uuid.uuid4())
    with pytest.raises(InvalidArgument) as err:
        kit.app.collections.check_collection(
            ADMIN, TOWN, "", "x", "", ["AWB-0030"], (1, 0, 0),
            activity_project_id=project,
        )  # fmt: skip
    assert err.value.field == "activity_session_id"
    kit.activity.donation_projects.add(project)
    opened = len(kit.uow.scopes)
    with pytest.raises(FailedPrecondition):
        kit.app.collections.check_collection(
            ADMIN, TOWN, "", "x", "", ["AWB-0030"], (1, 0, 0),
            activity_project_id=project, activity_session_id=session,
        )  # fmt: skip
    assert len(kit.uow.scopes) == opened  # refused before any transaction
    service = str(uuid.uuid4())
    draft = kit.app.collections.check_collection(
        ADMIN, TOWN, "", "x", "", ["AWB-0030"], (1, 0, 0),
        activity_project_id=service, activity_session_id=session,
    )  # fmt: skip
    kit.app.collections.record_collection(ADMIN, draft)
    assert kit.activity.asked[-1] == (service, session)
    (event,) = kit.events("recycling.collection.recorded")
    assert (event["activity_project_id"], event["activity_session_id"]) == (
        service, session,
    )  # fmt: skip


def test_an_organisation_leader_records_only_its_own_collections(kit: Kit) -> None:
    place(kit, "AWB-0040")
    leader = who(COUNTY, "org_leader", org=ORG)
    with pytest.raises(PermissionDenied) as err:
        kit.app.collections.check_collection(
            leader, TOWN, str(uuid.uuid4()), "x", "", ["AWB-0040"], (1, 0, 0)
        )
    assert (err.value.field, err.value.rule) == ("organisation_id", "organisation.own")
    draft = kit.app.collections.check_collection(
        ADMIN, TOWN, "", "x", "", ["AWB-0040"], (1, 0, 0)
    )
    with pytest.raises(PermissionDenied):  # the admin's draft names no organisation
        kit.app.collections.record_collection(leader, draft)
    assert kit.store.of(m.Collection) == []


def test_a_collection_weighs_something(kit: Kit) -> None:
    with pytest.raises(InvalidArgument) as err:
        collect(kit, [], "2026-05-03", weights=(0, 0, 0))
    assert err.value.rule == "weights.positive"
    with pytest.raises(InvalidArgument) as err:
        collect(kit, [], "2026-05-03", weights=(50_000.1, 0, 0))
    assert err.value.rule == "weights.textiles_kg.max"


# -- drives and distributions --------------------------------------------------------
def drive(kit: Kit, items: tuple[int, int, int] = (100, 20, 0), homes: int = 10) -> str:
    draft = kit.app.drives.check_drive(
        ADMIN, TOWN, "", "雁塔志愿者协会", "寒冬送温暖", "2026-04-30", items, homes
    )
    (view,) = kit.app.drives.record_drives(ADMIN, [draft])
    return view.drive.id


def hand_out(
    kit: Kit, drive_id: str, items: tuple[int, int, int], homes: int,
    day: str = "2026-05-02",
) -> Any:  # fmt: skip
    draft = kit.app.drives.check_handout(ADMIN, drive_id, day, homes, items, "")
    return kit.app.drives.record_distributions(ADMIN, [draft])[0]


def test_a_drive_is_counted_once_and_its_handouts_never(kit: Kit) -> None:
    ident = drive(kit)
    counted = dict(kit.uow.bumps)
    assert kit.bump(TOWN, "2026-04", "drives") == 1
    assert kit.bump(TOWN, "2026-04", "items_garments") == 100
    assert kit.bump(TOWN, "2026-04", "households") == 10
    _, view = hand_out(kit, ident, (60, 5, 0), 4)
    _, view = hand_out(kit, ident, (40, 0, 0), 3, day="2026-05-04")
    assert (view.distributed.garments, view.distributed.books) == (100, 5)
    assert view.households_reached == 7 and len(view.distributions) == 2
    assert kit.uow.bumps == counted  # handing out moves no metric
    assert [t for t, _, _ in kit.uow.events] == ["recycling.drive.recorded"]


def test_a_drive_hands_out_no_more_than_it_has(kit: Kit) -> None:
    ident = drive(kit, (100, 20, 0), homes=10)
    hand_out(kit, ident, (90, 0, 0), 8)
    for items, homes, where in (
        ((11, 0, 0), 1, "items.garments"),
        ((0, 1, 0), 3, "households"),
        ((0, 0, 1), 1, "items.other"),
    ):
        with pytest.raises(FailedPrecondition) as err:
            hand_out(kit, ident, items, homes)
        assert (err.value.field, err.value.rule) == (where, "distribution.within_drive")
    drafts = [
        kit.app.drives.check_handout(ADMIN, ident, "2026-05-02", 1, (5, 0, 0), ""),
        kit.app.drives.check_handout(ADMIN, ident, "2026-05-02", 1, (6, 0, 0), ""),
    ]  # each fits alone; together they exceed the ten garments left
    with pytest.raises(FailedPrecondition):
        kit.app.drives.record_distributions(ADMIN, drafts)
    assert len(kit.store.of(m.Distribution)) == 1


def test_a_handout_follows_its_drive_in_the_callers_scope(kit: Kit) -> None:
    ident = drive(kit)
    with pytest.raises(InvalidArgument) as early:
        hand_out(kit, ident, (1, 0, 0), 1, day="2026-04-29")
    assert early.value.rule == "distributed_on.not_before"
    neighbour = who(NEIGHBOUR, "tenant_admin")
    draft = kit.app.drives.check_handout(
        neighbour, ident, "2026-05-02", 1, (1, 0, 0), ""
    )
    with pytest.raises(NotFound) as hidden:
        kit.app.drives.record_distributions(neighbour, [draft])
    assert hidden.value.field == "drive_id"
    assert kit.store.of(m.Distribution) == []


# -- bookings --------------------------------------------------------------------------
RESIDENT = who(TOWN, "volunteer", subject="resident-1")


def book(
    kit: Kit, key: str = "r-1", p: Principal = RESIDENT, division: str = TOWN
) -> tuple[m.Booking, bool]:
    return kit.app.bookings.create_booking(
        p, key, division, "王小明", "13912345678", "陕西省西安市雁塔区雁塔路 1 号",
        "2026-05-08T01:00:00Z", "2026-05-08T05:00:00Z", "",
    )  # fmt: skip


def test_a_booking_keeps_contact_data_sealed_and_counts_once(kit: Kit) -> None:
    row, new = book(kit)
    again, new_again = book(kit)  # a double submit
    assert new and not new_again and again is row
    assert (row.status, row.division_code, row.request_key) == (
        "requested", TOWN, "resident-1/r-1",
    )  # fmt: skip
    assert b"13912345678" not in row.phone_enc and row.phone_masked != "13912345678"
    assert CIPHER.decrypt(row.phone_enc, context="booking.phone") == "13912345678"
    kit.uow.set_clock(datetime(2026, 5, 9, tzinfo=UTC))  # the window has passed
    assert book(kit) == (row, False)  # a late retry still finds its booking
    assert kit.bump(TOWN, "2026-05", "bookings") == 1
    assert len(kit.store.of(m.Booking)) == 1


def test_a_request_id_used_under_a_scope_since_left_is_not_booked_again(
    kit: Kit,
) -> None:
    book(kit)
    moved = who(OTHER_TOWN, "volunteer", subject="resident-1")  # the same person
    with pytest.raises(AlreadyExists) as err:
        book(kit, p=moved, division=OTHER_TOWN)  # cannot see the first booking
    assert (err.value.field, err.value.rule) == ("request_id", "request_id.unique")
    assert len(kit.store.of(m.Booking)) == 1
    assert kit.bump(OTHER_TOWN, "2026-05", "bookings") == 0
    assert book(kit, "r-2", p=moved, division=OTHER_TOWN)[1]  # a new request is


def test_a_booking_goes_requested_assigned_collected(kit: Kit) -> None:
    row, _ = book(kit)
    with pytest.raises(FailedPrecondition):  # nobody was sent yet
        kit.app.bookings.collect_booking(ADMIN, row.id, (10, 0, 0), "2026-05-06")
    kit.app.bookings.assign_booking(ADMIN, row.id, "", "雁塔志愿者协会")
    assert (row.status, row.organisation_name) == ("assigned", "雁塔志愿者协会")
    with pytest.raises(InvalidArgument) as err:  # before it was booked
        kit.app.bookings.collect_booking(ADMIN, row.id, (10, 0, 0), "2026-05-05")
    assert err.value.rule == "collected_on.not_before"
    kit.app.bookings.collect_booking(ADMIN, row.id, (12.3, 0, 0.4), "2026-05-06")
    assert (row.status, str(row.textiles_kg), row.changed_by) == (
        "collected", "12.3", ADMIN.username,
    )  # fmt: skip
    assert kit.bump(TOWN, "2026-05", "bookings_collected") == 1
    assert kit.bump(TOWN, "2026-05", "kg_total") == pytest.approx(12.7)
    (event,) = kit.events("recycling.booking.collected")
    assert event["total_kg"] == pytest.approx(12.7)
    with pytest.raises(FailedPrecondition):  # collected is final
        kit.app.bookings.cancel_booking(RESIDENT, row.id, "changed my mind")


def test_only_the_resident_or_an_office_cancels_a_booking(kit: Kit) -> None:
    row, _ = book(kit)
    stranger = who(TOWN, "volunteer", subject="resident-2")
    with pytest.raises(PermissionDenied) as err:
        kit.app.bookings.cancel_booking(stranger, row.id, "not mine")
    assert err.value.rule == "booking.owner"
    with pytest.raises(PermissionDenied):  # a resident does not dispatch teams
        kit.app.bookings.assign_booking(RESIDENT, row.id, "", "x")
    assert row.status == "requested"
    kit.app.bookings.cancel_booking(RESIDENT, row.id, "moved away")
    assert (row.status, row.cancel_reason) == ("cancelled", "moved away")
    assert kit.bump(TOWN, "2026-05", "bookings") == 1  # the booking still counts


def test_an_organisation_leader_collects_only_its_own_bookings(kit: Kit) -> None:
    row, _ = book(kit)
    kit.app.bookings.assign_booking(ADMIN, row.id, "", "another team")
    leader = who(COUNTY, "org_leader", org=ORG)
    with pytest.raises(PermissionDenied) as err:
        kit.app.bookings.collect_booking(leader, row.id, (10, 0, 0), "2026-05-06")
    assert err.value.rule == "organisation.own"
    assert row.status == "assigned" and kit.events() == []


def test_a_pickup_window_lies_ahead_and_lasts_at_most_a_week(kit: Kit) -> None:
    for start, end, rule in (
        ("2026-05-06T01:00:00Z", "2026-05-06T05:00:00Z", "window_start.future"),
        ("2026-05-08T05:00:00Z", "2026-05-08T01:00:00Z", "window_end.after_start"),
        ("2026-05-08T01:00:00Z", "2026-05-15T02:00:00Z", "window_end.max_duration"),
    ):
        with pytest.raises(InvalidArgument) as err:
            kit.app.bookings.create_booking(
                RESIDENT, "k", TOWN, "王小明", "13912345678", "雁塔路 1 号", start,
                end, "",
            )  # fmt: skip
        assert err.value.rule == rule
    assert kit.store.rows == [] and kit.uow.bumps == {}
