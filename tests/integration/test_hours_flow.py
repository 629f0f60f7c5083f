"""Hours on the real servers: activity's events published with kombu on the
test vhost → the hours worker → records reviewed over gRPC → rollups,
corrections and hours' own events. The helpers here serve the other hours
test files too."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import grpc
import pytest
from kombu import Connection, Exchange, Queue
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.hours.v1 import hours_pb2 as pb
from zhiyuan.registration.v1 import registration_pb2 as reg

from services.common.rollup import month_of
from services.common.testing import wait_for
from tests.helpers import auth, new_id_number, new_phone

pytestmark = pytest.mark.integration

PROVINCE, CITY, COUNTY, TOWN = "61", "6101", "610113", "610113005"
ACTIVITY = Exchange("activity.events", type="topic", durable=True)
HOURS_EVENTS = Exchange("hours.events", type="topic", durable=True)
_clock = iter(range(10_000))


def slot(days_ago: int = 30) -> datetime:
    """A start time nobody else uses (a fresh hour of a past day)."""
    base = datetime(2026, 3, 1, 0, 0, tzinfo=UTC) - timedelta(days=days_ago)
    return base + timedelta(hours=3 * next(_clock))


def publish(
    amqp_uri: str, routing_key: str, body: dict, exchange: Exchange = ACTIVITY
) -> None:
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        conn.Producer(serializer="json").publish(
            body, exchange=exchange, routing_key=routing_key, declare=[exchange]
        )


def envelope(event_type: str, code: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "occurred_at": datetime.now(UTC).isoformat(),
        "division_code": code,
        "data": data,
    }


def attendance(
    volunteer_id: str,
    start: datetime,
    minutes: float,
    *,
    code: str = TOWN,
    kind: str = "service",
    field: str = "elderly_care",
    session_hours: float = 6,
    **over: Any,
) -> dict[str, Any]:
    """An activity.attendance.checked_out envelope (docs/events.md)."""
    data = {
        "attendance_id": str(uuid.uuid4()),
        "project_id": str(uuid.uuid4()),
        "project_title": "重阳节敬老院陪伴",
        "session_id": str(uuid.uuid4()),
        "session_start": start.isoformat(),
        "session_end": (start + timedelta(hours=session_hours)).isoformat(),
        "volunteer_id": volunteer_id,
        "volunteer_number": "ZY610000099001",
        "organisation_id": str(uuid.uuid4()),
        "organisation_name": "雁塔区志愿者协会",
        "division_code": code,
        "service_field": field,
        "kind": kind,
        "checked_in_at": start.isoformat(),
        "checked_out_at": (start + timedelta(minutes=minutes)).isoformat(),
        "closed_by": "leader",
    }
    data.update(over)
    return envelope("activity.attendance.checked_out", code, data)


def records(hours: Any, tok: str, **filters: Any) -> list[pb.HourRecord]:
    """Every record a list call returns (all pages)."""
    out, token = [], ""
    while True:
        got = hours.ListRecords(
            pb.ListRecordsRequest(
                **filters, page=common.PageRequest(page_size=500, page_token=token)
            ),
            metadata=auth(tok),
        )
        out.extend(got.records)
        token = got.page.next_page_token
        if not token:
            return out


def arrived(hours: Any, tok: str, body: dict[str, Any]) -> pb.HourRecord:
    """Wait until the worker made the record of a published check-out or visit."""
    data = body["data"]
    source_id = data.get("attendance_id") or data.get("visit_id")

    def find() -> list[pb.HourRecord]:
        got = records(hours, tok, volunteer_id=data["volunteer_id"])
        return [r for r in got if r.source_id == source_id]

    return wait_for(find, timeout=30, what=f"the record of {source_id}")[0]


def approve(hours: Any, tok: str, record_id: str) -> pb.HourRecord:
    return hours.ApproveRecord(
        pb.ApproveRecordRequest(id=record_id), metadata=auth(tok)
    ).record


def total(hours: Any, tok: str, code: str) -> dict[str, float]:
    q = common.RollupQuery(division_code=code)
    return dict(
        hours.Summarize(
            pb.SummarizeRequest(query=q), metadata=auth(tok)
        ).rollup.total.metrics
    )


def verified_volunteer(
    stub: Any, tok: str, home: str = TOWN, name: str = "欧阳志愿"
) -> reg.Volunteer:
    vol = stub.RegisterVolunteer(
        reg.RegisterVolunteerRequest(
            name=name,
            id_number=new_id_number(home[:6]),
            phone=new_phone(),
            home_division_code=home,
            service_fields=["elderly_care"],
        ),
        metadata=auth(tok),
    ).volunteer
    return stub.VerifyVolunteer(
        reg.VerifyVolunteerRequest(id=vol.id), metadata=auth(tok)
    ).volunteer


class Listener:
    """A queue bound to hours.events, declared before the action under test."""

    def __init__(self, amqp_uri: str, pattern: str):
        self.conn = Connection(amqp_uri)
        self.queue = Queue(
            f"test-hours-{uuid.uuid4().hex[:8]}",
            exchange=HOURS_EVENTS,
            routing_key=pattern,
            auto_delete=True,
        )(self.conn.default_channel)
        HOURS_EVENTS(self.conn.default_channel).declare()
        self.queue.declare()

    def next(self, predicate, timeout: float = 20) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        def poll() -> dict[str, Any] | None:
            while (message := self.queue.get(no_ack=True)) is not None:
                body = json.loads(message.body)
                if predicate(body):
                    return body
            return None

        return wait_for(poll, timeout=timeout, what="an hours event")

    def close(self) -> None:
        self.conn.release()


@pytest.fixture
def listen(amqp_uri: str) -> Iterator[Callable[[str], Listener]]:
    """listen("record.approved") → a Listener, closed after the test."""
    made: list[Listener] = []

    def make(pattern: str) -> Listener:
        made.append(Listener(amqp_uri, pattern))
        return made[-1]

    yield make
    for listener in made:
        listener.close()


@pytest.fixture(scope="module")
def hours(stubs: Any) -> Any:
    return stubs("hours")


# The platform defaults, as a node's own overrides.
DEFAULTS = {
    "hours.rounding": json.dumps("exact"),
    "hours.daily_cap": "12",
    "hours.excluded_kinds": json.dumps(["donation"]),
    "timebank.deposit_ratio": "1",
}


def pin_policy(stub: Any, hours: Any, tok: str, code: str) -> None:
    """Give ``code`` the default hour policy as its own overrides and wait for
    hours' replica: other tests leave settings on its ancestors (registration's
    own tests set a province-wide cap and Yanta's rounding) that would change
    what these tests expect."""
    stub.UpdateTenantSettings(
        reg.UpdateTenantSettingsRequest(division_code=code, set_json=DEFAULTS),
        metadata=auth(tok),
    )

    def pinned() -> bool:
        got = hours.GetHourPolicy(
            pb.GetHourPolicyRequest(division_code=code), metadata=auth(tok)
        )
        return set(got.sources.values()) == {code} and got.rounding == "exact"

    wait_for(pinned, timeout=30, what=f"the default policy pinned at {code}")


@pytest.fixture(scope="module", autouse=True)
def policy(stub: Any, hours: Any, token: Any, worker: Any) -> None:
    pin_policy(stub, hours, token(COUNTY), TOWN)


# -- from an event to rollups ----------------------------------------------------


def test_checked_out_event_becomes_a_record_and_approval_rolls_up(
    hours, token, worker, amqp_uri, listen
):
    county, prov = token(COUNTY), token(PROVINCE, "province_admin")
    vol = str(uuid.uuid4())
    body = attendance(vol, slot(), 110)
    before = {code: total(hours, prov, code) for code in (TOWN, COUNTY, CITY, PROVINCE)}
    events = listen("record.approved")
    publish(amqp_uri, "attendance.checked_out", body)
    rec = arrived(hours, county, body)
    assert rec.status == pb.RECORD_STATUS_PENDING
    assert rec.rounding == "exact" and rec.hours == pytest.approx(1.83)
    assert rec.duration_seconds == 110 * 60 and rec.division_code == TOWN
    assert rec.source == pb.RECORD_SOURCE_ATTENDANCE

    done = approve(hours, county, rec.id)
    assert done.status == pb.RECORD_STATUS_APPROVED and done.reviewed_by
    for code, old in before.items():
        new = total(hours, prov, code)
        assert new["hours"] == pytest.approx(old["hours"] + 1.83)
        assert new["records"] == old["records"] + 1
        assert new["volunteers"] == old["volunteers"] + 1
        assert new["hours_elderly_care"] == pytest.approx(
            old["hours_elderly_care"] + 1.83
        )
    event = events.next(lambda b: b["data"]["record_id"] == rec.id)
    assert event["event_type"] == "hours.record.approved"
    assert event["division_code"] == TOWN
    assert set(event["data"]) == {
        "record_id", "volunteer_id", "volunteer_number", "division_code",
        "service_field", "service_month", "hours", "volunteer_total_hours",
    }  # fmt: skip
    started = datetime.fromisoformat(rec.started_at)
    assert event["data"]["service_month"] == month_of(started)
    assert event["data"]["hours"] == pytest.approx(1.83)
    assert event["data"]["volunteer_total_hours"] == pytest.approx(1.83)


def test_rollup_at_every_level_equals_the_raw_records_of_its_subtree(
    hours, token, worker, amqp_uri
):
    county, prov = token(COUNTY), token(PROVINCE, "province_admin")
    vol_a, vol_b = str(uuid.uuid4()), str(uuid.uuid4())
    bodies = [
        attendance(vol_a, slot(), 95, code="610113001"),
        attendance(vol_a, slot(), 40, code="610113002", field="medical"),
        attendance(vol_b, slot(), 170, code="610103001"),
        attendance(vol_b, slot(), 61, code="610113001"),
    ]
    for body in bodies:
        publish(amqp_uri, "attendance.checked_out", body)
    for body in bodies:
        approve(hours, prov, arrived(hours, prov, body).id)
    for code in ("610113001", "610113002", COUNTY, "610103", CITY, PROVINCE):
        raw = records(hours, prov, division_code=code, status=pb.RECORD_STATUS_APPROVED)
        got = total(hours, prov, code)
        assert got["hours"] == pytest.approx(
            sum(r.effective_hours for r in raw), abs=1e-6
        )
        assert got["records"] == len(raw)
        assert got["volunteers"] == len({r.volunteer_id for r in raw})
        medical = [r for r in raw if r.service_field == "medical"]
        assert got["records_medical"] == len(medical)
    # A county official's view is its own subtree only.
    assert total(hours, county, COUNTY) == total(hours, prov, COUNTY)
    # Month by month, each township's row is its raw records of that month.
    rows = hours.Summarize(
        pb.SummarizeRequest(
            query=common.RollupQuery(division_code=COUNTY, by_month=True)
        ),
        metadata=auth(prov),
    ).rollup.rows
    raw = records(hours, prov, division_code=COUNTY, status=pb.RECORD_STATUS_APPROVED)
    for row in rows:
        mine = [
            r
            for r in raw
            if r.division_code.startswith(row.division.code)
            and month_of(datetime.fromisoformat(r.started_at)) == row.month
        ]
        assert row.metrics["records"] == len(mine)
        assert row.metrics["hours"] == pytest.approx(
            sum(r.effective_hours for r in mine)
        )
        assert row.metrics["volunteers"] == len({r.volunteer_id for r in mine})
    below = [
        r for r in raw if len(r.division_code) > len(COUNTY)
    ]  # not the county's own
    assert sum(r.metrics["records"] for r in rows) == len(below)


def test_a_redelivered_event_creates_one_record(hours, token, worker, amqp_uri):
    county = token(COUNTY)
    vol = str(uuid.uuid4())
    body = attendance(vol, slot(), 60)
    publish(amqp_uri, "attendance.checked_out", body)
    publish(amqp_uri, "attendance.checked_out", body)
    # The same check-out announced again under a new event id: still one.
    again = {**body, "event_id": str(uuid.uuid4())}
    publish(amqp_uri, "attendance.checked_out", again)
    marker = attendance(vol, slot(), 30)
    publish(amqp_uri, "attendance.checked_out", marker)
    arrived(hours, county, marker)
    mine = records(hours, county, volunteer_id=vol)
    assert len([r for r in mine if r.source_id == body["data"]["attendance_id"]]) == 1
    assert len(mine) == 2


def test_overlap_donation_and_no_service_time_are_stored_as_rejected(
    hours, token, worker, amqp_uri
):
    county = token(COUNTY)
    vol, start = str(uuid.uuid4()), slot()
    first = attendance(vol, start, 120)
    overlapping = attendance(vol, start + timedelta(minutes=60), 120)
    touching = attendance(vol, start + timedelta(minutes=120), 30)
    donation = attendance(
        vol, start + timedelta(hours=5), 10, kind="donation", field="recycling"
    )
    outside = attendance(
        vol,
        start + timedelta(hours=8),
        30,
        session_start=(start + timedelta(hours=9)).isoformat(),
    )
    # Checked out seconds after checking in: nothing to credit once rounded,
    # which is not the daily cap (the day has 2.5 h of 12).
    instant = attendance(vol, start + timedelta(hours=6), 0.2)
    for body in (first, overlapping, touching, donation, outside, instant):
        publish(amqp_uri, "attendance.checked_out", body)
        arrived(hours, county, body)
    by_source = {r.source_id: r for r in records(hours, county, volunteer_id=vol)}
    get = lambda b: by_source[b["data"]["attendance_id"]]  # noqa: E731
    assert get(first).status == get(touching).status == pb.RECORD_STATUS_PENDING
    assert (get(overlapping).status, get(overlapping).status_reason) == (
        pb.RECORD_STATUS_REJECTED,
        "overlap",
    )
    assert get(overlapping).hours == 0 and get(overlapping).rounded_hours == 0
    assert (get(donation).status_reason, get(donation).hours) == ("excluded_kind", 0)
    assert get(outside).status_reason == "no_service_time"
    assert (get(instant).status, get(instant).status_reason) == (
        pb.RECORD_STATUS_REJECTED,
        "no_service_time",
    )
    rejected = records(
        hours, county, volunteer_id=vol, status=pb.RECORD_STATUS_REJECTED
    )
    assert {r.status_reason for r in rejected} == {
        "overlap",
        "excluded_kind",
        "no_service_time",
    }


def test_the_daily_cap_credits_what_fits_and_notes_the_rest(
    hours, token, worker, amqp_uri
):
    county = token(COUNTY)
    vol = str(uuid.uuid4())
    day = datetime(2025, 6, 2, 0, 0, tzinfo=UTC) + timedelta(
        days=next(_clock)
    )  # 08:00 CST
    morning = attendance(vol, day, 8 * 60, session_hours=9)
    evening = attendance(vol, day + timedelta(hours=9), 6 * 60, session_hours=7)
    more = attendance(vol, day + timedelta(hours=15, minutes=30), 60)
    for body in (morning, evening, more):
        publish(amqp_uri, "attendance.checked_out", body)
        arrived(hours, county, body)
    by_source = {r.source_id: r for r in records(hours, county, volunteer_id=vol)}
    second = by_source[evening["data"]["attendance_id"]]
    assert (second.rounded_hours, second.hours, second.capped_hours) == (6, 4, 2)
    assert "12" in second.note and "2.00" in second.note
    third = by_source[more["data"]["attendance_id"]]
    assert (third.status_reason, third.hours) == ("daily_cap", 0)
    assert sum(r.hours for r in by_source.values()) == 12


def test_a_visit_becomes_a_poverty_relief_record(hours, token, worker, amqp_uri):
    county = token(COUNTY)
    vol, start = str(uuid.uuid4()), slot()
    body = envelope(
        "activity.visit.logged",
        TOWN,
        {
            "visit_id": str(uuid.uuid4()),
            "pair_id": str(uuid.uuid4()),
            "volunteer_id": vol,
            "volunteer_number": "ZY610000099002",
            "organisation_id": str(uuid.uuid4()),
            "organisation_name": "大雁塔街道帮扶队",
            "division_code": TOWN,
            "service_field": "poverty_relief",
            "started_at": start.isoformat(),
            "ended_at": (start + timedelta(minutes=45)).isoformat(),
            "note": "探访王大爷，帮助打扫卫生",
        },
    )
    publish(amqp_uri, "visit.logged", body)
    rec = arrived(hours, county, body)
    assert rec.source == pb.RECORD_SOURCE_VISIT and rec.hours == pytest.approx(0.75)
    assert rec.service_field == "poverty_relief"
    assert "王大爷" not in rec.content  # the note about the household stays out


def test_a_settings_change_in_registration_changes_the_next_rounding(
    hours, stub, token, worker, amqp_uri
):
    county = "610122"  # 蓝田县: nobody else's tests change its settings
    tok = token(county)

    def set_rounding(value: str) -> None:
        stub.UpdateTenantSettings(
            reg.UpdateTenantSettingsRequest(
                division_code=county, set_json={"hours.rounding": json.dumps(value)}
            ),
            metadata=auth(tok),
        )

    def rounding() -> str:
        got = hours.GetHourPolicy(
            pb.GetHourPolicyRequest(division_code=f"{county}001"), metadata=auth(tok)
        )
        # Only an override of this county counts: the replica has caught up.
        return got.rounding if got.sources["hours.rounding"] == county else ""

    set_rounding("exact")
    wait_for(lambda: rounding() == "exact", timeout=30, what="exact rounding")
    before = attendance(str(uuid.uuid4()), slot(), 110, code=f"{county}001")
    publish(amqp_uri, "attendance.checked_out", before)
    assert arrived(hours, tok, before).hours == pytest.approx(1.83)
    set_rounding("chongqing")
    try:
        wait_for(lambda: rounding() == "chongqing", timeout=30, what="the replica")
        policy = hours.GetHourPolicy(
            pb.GetHourPolicyRequest(division_code=f"{county}001"), metadata=auth(tok)
        )
        assert policy.sources["hours.rounding"] == county
        after = attendance(str(uuid.uuid4()), slot(), 110, code=f"{county}001")
        publish(amqp_uri, "attendance.checked_out", after)
        rec = arrived(hours, tok, after)
        assert rec.rounding == "chongqing" and rec.hours == 2.0  # 1 h + 50 min → 2 h
        elsewhere = attendance(str(uuid.uuid4()), slot(), 110)  # pinned in Yanta
        publish(amqp_uri, "attendance.checked_out", elsewhere)
        assert arrived(hours, token(COUNTY), elsewhere).rounding == "exact"
    finally:
        set_rounding("exact")
        wait_for(lambda: rounding() == "exact", timeout=30, what="the replica reset")


# -- corrections ----------------------------------------------------------------


def test_corrections_are_new_entries_with_actor_and_reason(
    hours, token, worker, amqp_uri, listen
):
    tok = token(COUNTY, "tenant_admin", username="yanta-reviewer")
    prov = token(PROVINCE, "province_admin")
    body = attendance(str(uuid.uuid4()), slot(), 180, field="medical")
    publish(amqp_uri, "attendance.checked_out", body)
    rec = approve(hours, tok, arrived(hours, tok, body).id)
    before = total(hours, prov, COUNTY)
    events = listen("record.corrected")

    amended = hours.CorrectRecord(
        pb.CorrectRecordRequest(
            record_id=rec.id, new_hours=2.5, reason="签退时间登记有误"
        ),
        metadata=auth(tok),
    )
    assert amended.effective_hours == 2.5
    assert amended.correction.delta_hours == pytest.approx(-0.5)
    assert total(hours, prov, COUNTY)["hours"] == pytest.approx(before["hours"] - 0.5)
    event = events.next(lambda b: b["data"]["record_id"] == rec.id)
    assert event["event_type"] == "hours.record.corrected"
    assert set(event["data"]) == {
        "record_id", "correction_id", "volunteer_id", "volunteer_number",
        "division_code", "service_month", "delta_hours", "volunteer_total_hours",
        "reason",
    }  # fmt: skip
    assert event["data"]["delta_hours"] == pytest.approx(-0.5)
    assert event["data"]["volunteer_total_hours"] == pytest.approx(2.5)

    hours.CorrectRecord(
        pb.CorrectRecordRequest(
            record_id=rec.id, reverse=True, reason="志愿者提出异议，核实未参加"
        ),
        metadata=auth(tok),
    )
    got = hours.GetRecord(pb.GetRecordRequest(id=rec.id), metadata=auth(prov))
    # The original stays as recorded; the corrections say who, when and why.
    assert got.record.hours == 3.0 and got.record.rounded_hours == 3.0
    assert got.record.status == pb.RECORD_STATUS_REVERSED and got.effective_hours == 0
    assert [c.kind for c in got.corrections] == [
        pb.CORRECTION_KIND_AMEND,
        pb.CORRECTION_KIND_REVERSAL,
    ]
    assert [(c.previous_hours, c.new_hours) for c in got.corrections] == [
        (3, 2.5),
        (2.5, 0),
    ]
    assert {c.actor for c in got.corrections} == {"yanta-reviewer"}
    assert got.corrections[1].reason == "志愿者提出异议，核实未参加"
    assert all(c.created_at for c in got.corrections)
    after = total(hours, prov, COUNTY)
    assert after["hours"] == pytest.approx(before["hours"] - 3.0)
    assert after["records"] == before["records"] - 1
    assert after["records_medical"] == before["records_medical"] - 1
    with pytest.raises(grpc.RpcError) as err:  # a reversed record is final
        hours.CorrectRecord(
            pb.CorrectRecordRequest(record_id=rec.id, new_hours=1, reason="再改"),
            metadata=auth(tok),
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_review_transitions_and_totals(hours, stub, token, worker, amqp_uri):
    tok = token(COUNTY)
    # Totals answer only for a volunteer registration shows to the caller.
    vol = verified_volunteer(stub, tok).id
    bodies = [
        attendance(vol, slot(), m, field=f)
        for m, f in ((60, "medical"), (90, "minors"), (30, "minors"))
    ]
    for body in bodies:
        publish(amqp_uri, "attendance.checked_out", body)
    recs = [arrived(hours, tok, b) for b in bodies]
    approve(hours, tok, recs[0].id)
    approve(hours, tok, recs[1].id)
    rejected = hours.RejectRecord(
        pb.RejectRecordRequest(id=recs[2].id, reason="未按要求签到"), metadata=auth(tok)
    ).record
    assert rejected.status == pb.RECORD_STATUS_REJECTED
    assert rejected.status_reason == "未按要求签到" and rejected.effective_hours == 0
    for rid in (recs[0].id, recs[2].id):
        with pytest.raises(grpc.RpcError) as err:
            approve(hours, tok, rid)
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.RpcError) as err:  # only approved records are corrected
        hours.CorrectRecord(
            pb.CorrectRecordRequest(record_id=recs[2].id, new_hours=0.5, reason="x"),
            metadata=auth(tok),
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    totals = hours.GetVolunteerTotals(
        pb.GetVolunteerTotalsRequest(volunteer_id=vol), metadata=auth(tok)
    )
    assert totals.approved_hours == 2.5 and totals.approved_records == 2
    assert totals.rejected_records == 1 and totals.pending_records == 0
    assert dict(totals.hours_by_field) == {"medical": 1.0, "minors": 1.5}
    assert totals.platform_total_hours == 2.5
    assert Decimal(str(totals.approved_hours)) == Decimal("2.5")


def test_a_poison_event_is_dead_lettered_and_creates_nothing(
    hours, token, worker, amqp_uri
):
    queue = "evt-activity-attendance.checked_out--hours.on_attendance_checked_out.dlq"

    def dead() -> int:
        with Connection(amqp_uri) as conn:
            q = Queue(queue, durable=True)(conn.default_channel)
            return q.queue_declare(passive=True).message_count

    before = dead()
    vol = str(uuid.uuid4())
    body = attendance(vol, slot(), 60)
    del body["data"]["checked_out_at"]
    publish(amqp_uri, "attendance.checked_out", body)
    wait_for(lambda: dead() > before, timeout=20, what="a dead-lettered event")
    assert records(hours, token(COUNTY), volunteer_id=vol) == []
