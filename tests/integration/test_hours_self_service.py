"""A volunteer's own hours on the real servers ("my service", issue 13): its
records wherever the service was done (one in another county), its totals,
an objection filed on its own record landing in the queue of the record's
office and resolved both ways, a certificate requested for itself and its
PDF; and bad input refused naming the field, with nothing written.

The volunteer's token is what registration issues for a volunteer's own
account: role ``volunteer``, scope its home, claim ``vol``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from zhiyuan.hours.v1 import hours_pb2 as pb

from services.common.auth import TokenIssuer
from services.common.rollup import CST
from services.common.testing import PRIVATE_PEM, wait_for
from tests.helpers import assert_field, auth, rejected
from tests.integration import test_hours_flow as flow
from tests.integration.test_hours_flow import (
    COUNTY,
    TOWN,
    approve,
    arrived,
    attendance,
    pin_policy,
    publish,
    slot,
    verified_volunteer,
)

pytestmark = pytest.mark.integration
hours, listen = flow.hours, flow.listen  # the flow tests' fixtures
policy = flow.policy  # the default hour policy pinned at TOWN
# Beilin district, a neighbour county, where the volunteer also served.
OTHER_COUNTY, OTHER_TOWN = "610103", "610103002"
ISSUER = TokenIssuer(PRIVATE_PEM, "zhiyuan", "zhiyuan")


def volunteer_token(vol: Any, home: str = TOWN) -> str:
    """The token of a volunteer's own account, as registration issues it."""
    value, _ = ISSUER.issue(
        subject=f"acct-{vol.id}",
        username=vol.volunteer_number,
        scope_code=home,
        roles=["volunteer"],
        ttl=600,
        volunteer_id=vol.id,
    )
    return value


def my_records(hours: Any, tok: str, **filters: Any) -> list[pb.HourRecord]:
    return list(
        hours.ListMyRecords(
            pb.ListMyRecordsRequest(**filters), metadata=auth(tok)
        ).records
    )


def my_totals(hours: Any, tok: str) -> pb.GetMyTotalsResponse:
    return hours.GetMyTotals(pb.GetMyTotalsRequest(), metadata=auth(tok))


def queue(hours: Any, tok: str, **filters: Any) -> list[pb.Objection]:
    return list(
        hours.ListObjections(
            pb.ListObjectionsRequest(**filters), metadata=auth(tok)
        ).objections
    )


def file(hours: Any, tok: str, record_id: str, reason: str) -> pb.Objection:
    return hours.FileObjection(
        pb.FileObjectionRequest(record_id=record_id, reason=reason),
        metadata=auth(tok),
    ).objection


def served(
    hours: Any, amqp: str, office: str, vol_id: str, code: str, minutes: int
) -> Any:
    """A check-out at ``code`` made into a record and approved by ``office``."""
    body = attendance(vol_id, slot(), minutes, code=code)
    publish(amqp, "attendance.checked_out", body)
    return approve(hours, office, arrived(hours, office, body).id)


@pytest.fixture(scope="module")
def me(hours, stub, token, worker, amqp_uri):  # type: ignore[no-untyped-def]
    """A Yanta volunteer with an approved record at home (2 h), one in
    Beilin (1.5 h) and one pending at home (1 h)."""
    pin_policy(stub, hours, token(OTHER_COUNTY), OTHER_TOWN)
    vol = verified_volunteer(stub, token(COUNTY))
    home = served(hours, amqp_uri, token(COUNTY), vol.id, TOWN, 120)
    away = served(hours, amqp_uri, token(OTHER_COUNTY), vol.id, OTHER_TOWN, 90)
    body = attendance(vol.id, slot(), 60)
    publish(amqp_uri, "attendance.checked_out", body)
    pending = arrived(hours, token(COUNTY), body)
    return vol, volunteer_token(vol), {"home": home, "away": away, "pending": pending}


def test_my_records_include_those_done_in_another_county(hours, token, me):
    vol, tok, recs = me
    got = my_records(hours, tok)
    assert {r.id for r in got} == {r.id for r in recs.values()}
    assert {r.division_code for r in got} == {TOWN, OTHER_TOWN}
    assert all(r.volunteer_id == vol.id for r in got)
    # Newest first, and the status filter.
    starts = [r.started_at for r in got]
    assert starts == sorted(starts, reverse=True)
    approved = my_records(hours, tok, status=pb.RECORD_STATUS_APPROVED)
    assert {r.id for r in approved} == {recs["home"].id, recs["away"].id}
    # The home office cannot list the Beilin record: the volunteer's own
    # reads widened nothing.
    office = flow.records(hours, token(COUNTY), volunteer_id=vol.id)
    assert recs["away"].id not in {r.id for r in office}


def test_my_totals_count_every_county_this_year_and_the_time_bank(hours, token, me):
    vol, tok, recs = me
    this_year = datetime.now(UTC).astimezone(CST).year
    in_year = sum(
        r.hours
        for key, r in recs.items()
        if key != "pending"
        and datetime.fromisoformat(r.started_at).astimezone(CST).year == this_year
    )
    got = my_totals(hours, tok)
    assert got.hours_total == pytest.approx(3.5)
    assert got.pending_hours == pytest.approx(1.0)
    assert got.records_total == 3
    assert got.year == this_year
    assert got.hours_this_year == pytest.approx(in_year)

    # Deposits reach a bank in each county (the worker, after approval).
    def banked() -> bool:
        return my_totals(hours, tok).time_bank_balance == pytest.approx(3.5)

    wait_for(banked, timeout=30, what="both deposits in the volunteer's balance")


def test_an_objection_lands_with_the_records_office_and_is_dismissed(
    hours, token, me, listen
):
    vol, tok, recs = me
    filed_events = listen("objection.filed")
    resolved_events = listen("objection.resolved")
    objection = file(
        hours, tok, recs["away"].id, "我当天服务了两个小时，不是一个半小时"
    )
    assert objection.status == pb.OBJECTION_STATUS_OPEN
    assert objection.division_code == OTHER_TOWN
    assert objection.volunteer_id == vol.id and objection.record_id == recs["away"].id
    # One open objection a record.
    trailers = rejected(
        lambda: file(hours, tok, recs["away"].id, "再次提出"),
        grpc.StatusCode.ALREADY_EXISTS,
    )
    assert_field(trailers, "record_id", "objection.open")

    beilin = token(OTHER_COUNTY)
    open_ = queue(hours, beilin, status=pb.OBJECTION_STATUS_OPEN)
    assert objection.id in {o.id for o in open_}
    assert objection.id not in {o.id for o in queue(hours, token(COUNTY))}
    event = filed_events.next(lambda b: b["data"]["objection_id"] == objection.id)
    assert event["event_type"] == "hours.objection.filed"
    assert event["data"]["volunteer_id"] == vol.id

    done = hours.ResolveObjection(
        pb.ResolveObjectionRequest(
            id=objection.id, outcome="dismissed", note="签到签退记录为一个半小时"
        ),
        metadata=auth(beilin),
    )
    assert done.objection.status == pb.OBJECTION_STATUS_DISMISSED
    assert done.objection.resolution_note == "签到签退记录为一个半小时"
    assert done.objection.resolved_by == f"test-{OTHER_COUNTY}"
    assert not done.HasField("correction")
    event = resolved_events.next(lambda b: b["data"]["objection_id"] == objection.id)
    assert event["data"]["status"] == "dismissed"
    assert objection.id not in {
        o.id for o in queue(hours, beilin, status=pb.OBJECTION_STATUS_OPEN)
    }
    (answer,) = [
        o
        for o in hours.ListMyObjections(
            pb.ListMyObjectionsRequest(status=pb.OBJECTION_STATUS_DISMISSED),
            metadata=auth(tok),
        ).objections
        if o.id == objection.id
    ]
    assert answer.resolution_note == "签到签退记录为一个半小时"
    # Closed: it cannot be resolved again, and a new one may be filed.
    trailers = rejected(
        lambda: hours.ResolveObjection(
            pb.ResolveObjectionRequest(id=objection.id, outcome="dismissed", note="x"),
            metadata=auth(beilin),
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert trailers.get("zhiyuan-rule") == "state.transition"
    again = file(hours, tok, recs["away"].id, "补充：有照片为证")
    assert again.status == pb.OBJECTION_STATUS_OPEN and again.id != objection.id


def test_an_objection_resolved_corrected_goes_through_the_correction_flow(
    hours, stub, token, worker, amqp_uri
):
    county = token(COUNTY)
    vol = verified_volunteer(stub, county)
    tok = volunteer_token(vol)
    first = served(hours, amqp_uri, county, vol.id, TOWN, 120)
    second = served(hours, amqp_uri, county, vol.id, TOWN, 60)

    # Corrected now, with the new hours: one transaction, CorrectRecord's rules.
    objection = file(hours, tok, first.id, "实际服务 1.5 小时，多计了")
    done = hours.ResolveObjection(
        pb.ResolveObjectionRequest(
            id=objection.id, outcome="corrected", note="核实后更正", new_hours=1.5
        ),
        metadata=auth(county),
    )
    assert done.objection.status == pb.OBJECTION_STATUS_CORRECTED
    assert done.correction.new_hours == 1.5 and done.correction.reason == "核实后更正"
    assert done.objection.correction_id == done.correction.id
    detail = hours.GetRecord(pb.GetRecordRequest(id=first.id), metadata=auth(county))
    assert [c.id for c in detail.corrections] == [done.correction.id]
    assert my_totals(hours, tok).hours_total == pytest.approx(2.5)

    # Corrected with no change given: refused until the office corrects the
    # record, then linked to that correction.
    objection = file(hours, tok, second.id, "这条记录不是我的")
    trailers = rejected(
        lambda: hours.ResolveObjection(
            pb.ResolveObjectionRequest(
                id=objection.id, outcome="corrected", note="撤销"
            ),
            metadata=auth(county),
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert_field(trailers, "outcome", "objection.correction_required")
    fix = hours.CorrectRecord(
        pb.CorrectRecordRequest(record_id=second.id, reverse=True, reason="误记"),
        metadata=auth(county),
    ).correction
    done = hours.ResolveObjection(
        pb.ResolveObjectionRequest(id=objection.id, outcome="corrected", note="已撤销"),
        metadata=auth(county),
    )
    assert done.objection.correction_id == fix.id and done.correction.id == fix.id
    got = {r.id: r for r in my_records(hours, tok)}
    assert got[second.id].status == pb.RECORD_STATUS_REVERSED
    assert got[first.id].effective_hours == pytest.approx(1.5)


def test_a_certificate_of_my_hours_in_the_name_of_my_home_office(hours, token, me):
    vol, tok, recs = me
    cert = hours.RequestMyCertificate(
        pb.RequestMyCertificateRequest(), metadata=auth(tok)
    ).certificate
    assert cert.volunteer_id == vol.id
    assert cert.volunteer_number == vol.volunteer_number
    assert cert.division_code == TOWN and cert.issuer_name == "雁塔区"
    effective = {r.id: r.effective_hours for r in my_records(hours, tok)}
    assert cert.hours == pytest.approx(
        effective[recs["home"].id] + effective[recs["away"].id]
    )
    assert cert.status == pb.CERTIFICATE_STATUS_VALID and cert.name_masked
    listed = hours.ListMyCertificates(
        pb.ListMyCertificatesRequest(), metadata=auth(tok)
    ).certificates
    assert cert.number in [c.number for c in listed]
    document = hours.GetMyCertificatePdf(
        pb.GetMyCertificatePdfRequest(number=cert.number), metadata=auth(tok)
    )
    assert document.pdf.startswith(b"%PDF") and document.filename.endswith(".pdf")
    # The home office lists it, and anyone may verify it.
    office = hours.ListCertificates(
        pb.ListCertificatesRequest(volunteer_id=vol.id), metadata=auth(token(COUNTY))
    ).certificates
    assert cert.number in [c.number for c in office]
    check = hours.VerifyCertificate(pb.VerifyCertificateRequest(number=cert.number))
    assert check.status == pb.CERTIFICATE_STATUS_VALID


def test_no_certificate_without_approved_hours(hours, stub, token, worker):
    vol = verified_volunteer(stub, token(COUNTY))
    tok = volunteer_token(vol)
    trailers = rejected(
        lambda: hours.RequestMyCertificate(
            pb.RequestMyCertificateRequest(period_start="2026-01"), metadata=auth(tok)
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert_field(trailers, "period_start", "certificate.no_hours")
    assert not hours.ListMyCertificates(
        pb.ListMyCertificatesRequest(), metadata=auth(tok)
    ).certificates


@pytest.mark.parametrize(
    ("reason", "rule"),
    [
        ("", "reason.required"),
        ("   ", "reason.required"),
        ("长" * 501, "reason.max_length"),
        ("bad\x00byte", "reason.characters"),
        ("bell\x07", "reason.characters"),
    ],
)
def test_a_bad_reason_is_refused_naming_the_field(hours, token, me, reason, rule):
    _, tok, recs = me
    before = queue(hours, token(COUNTY))
    trailers = rejected(lambda: file(hours, tok, recs["pending"].id, reason))
    assert_field(trailers, "reason", None)
    assert trailers["zhiyuan-rule"] == rule
    assert queue(hours, token(COUNTY)) == before


def test_bad_ids_periods_and_outcomes_are_refused_naming_the_field(hours, token, me):
    _, tok, recs = me
    county = token(COUNTY)
    assert_field(
        rejected(lambda: file(hours, tok, "not-an-id", "x")), "record_id", None
    )
    for start, end, field in (
        ("2026-13", "", "period_start"),
        ("2026-05", "2026-04", "period_end"),
        ("", "26-04", "period_end"),
    ):
        trailers = rejected(
            lambda s=start, e=end: hours.RequestMyCertificate(
                pb.RequestMyCertificateRequest(period_start=s, period_end=e),
                metadata=auth(tok),
            )
        )
        assert_field(trailers, field, None)
    trailers = rejected(
        lambda: hours.GetMyCertificatePdf(
            pb.GetMyCertificatePdfRequest(number="ZYC-nope"), metadata=auth(tok)
        )
    )
    assert_field(trailers, "number", "number.format")
    objection = file(hours, tok, recs["pending"].id, "未签退就被记录")
    for outcome, note, change, field in (
        ("maybe", "x", {}, "outcome"),
        ("dismissed", "", {}, "note"),
        ("dismissed", "a\x00", {}, "note"),
        ("dismissed", "x", {"new_hours": 1.0}, "new_hours"),
        ("corrected", "x", {"new_hours": -1.0}, "new_hours"),
    ):
        trailers = rejected(
            lambda o=outcome, n=note, c=change: hours.ResolveObjection(
                pb.ResolveObjectionRequest(id=objection.id, outcome=o, note=n, **c),
                metadata=auth(county),
            )
        )
        assert_field(trailers, field, None)
    still = {o.id: o for o in queue(hours, county)}[objection.id]
    assert still.status == pb.OBJECTION_STATUS_OPEN and not still.resolved_by
