"""Honour hours, certificates and the time bank on the real servers, with a
real volunteer registered in registration (the certificate's name comes
from registration over gRPC, as the caller)."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import grpc
import pytest
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.hours.v1 import hours_pb2 as pb
from zhiyuan.registration.v1 import registration_pb2 as reg

from services.common.testing import wait_for
from tests.helpers import auth, new_id_number, new_phone
from tests.integration import test_hours_flow as flow
from tests.integration.test_hours_flow import (
    COUNTY,
    PROVINCE,
    TOWN,
    approve,
    arrived,
    attendance,
    publish,
    records,
    slot,
    verified_volunteer,
)

pytestmark = pytest.mark.integration
hours, listen = flow.hours, flow.listen  # the flow tests' fixtures
policy = flow.policy  # the default hour policy pinned at TOWN
NAME = "欧阳志愿"


def rpc_error(fn) -> grpc.RpcError:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as err:
        fn()
    return err.value


def honour(hours, tok, vol_id, start: datetime, minutes: int, amount: float, **over):  # type: ignore[no-untyped-def]
    req = dict(
        volunteer_id=vol_id,
        division_code=TOWN,
        organisation_name="雁塔区志愿者协会",
        service_field="large_events",
        content="西安马拉松赛道服务",
        session_start=start.isoformat(),
        session_end=(start + timedelta(minutes=minutes)).isoformat(),
        hours=amount,
        reason="签到设备故障，补录",
    )
    req.update(over)
    return hours.RecordHonourHours(
        pb.RecordHonourHoursRequest(**req), metadata=auth(tok)
    )


def test_honour_hours_never_exceed_the_session(hours, stub, token, worker):
    tok = token(COUNTY)
    vol = verified_volunteer(stub, tok)
    start = slot()
    err = rpc_error(lambda: honour(hours, tok, vol.id, start, 90, 1.51))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert dict(err.trailing_metadata())["zhiyuan-field"] == "hours"
    assert records(hours, tok, volunteer_id=vol.id) == []

    rec = honour(hours, tok, vol.id, start, 90, 1.5).record
    assert rec.source == pb.RECORD_SOURCE_HONOUR and rec.hours == 1.5
    assert rec.status == pb.RECORD_STATUS_PENDING and rec.rounding == "manual"
    assert rec.volunteer_number == vol.volunteer_number
    assert "补录" in rec.note and rec.recorded_by == f"test-{COUNTY}"
    # The same session again overlaps: refused, nothing written.
    err = rpc_error(lambda: honour(hours, tok, vol.id, start, 90, 1.0))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert dict(err.trailing_metadata())["zhiyuan-rule"] == "record.overlap"
    assert len(records(hours, tok, volunteer_id=vol.id)) == 1


def test_honour_hours_need_a_verified_volunteer_in_the_callers_reach(
    hours, stub, token, worker
):
    tok = token(COUNTY)
    pending = stub.RegisterVolunteer(
        reg.RegisterVolunteerRequest(
            name="待审核",
            id_number=new_id_number(COUNTY),
            phone=new_phone(),
            home_division_code=TOWN,
        ),
        metadata=auth(tok),
    ).volunteer
    err = rpc_error(lambda: honour(hours, tok, pending.id, slot(), 60, 1))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert dict(err.trailing_metadata())["zhiyuan-field"] == "volunteer_id"
    err = rpc_error(lambda: honour(hours, tok, str(uuid.uuid4()), slot(), 60, 1))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    assert dict(err.trailing_metadata())["zhiyuan-field"] == "volunteer_id"


@pytest.fixture(scope="module")
def certified(hours, stub, token, worker, amqp_uri):  # type: ignore[no-untyped-def]
    """A real volunteer with three approved records (two organisations)."""
    tok = token(COUNTY)
    vol = verified_volunteer(stub, tok, name=NAME)
    org = str(uuid.uuid4())
    number = {"volunteer_number": vol.volunteer_number}
    start = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)
    bodies = [
        attendance(vol.id, start, 120, organisation_id=org, **number),
        attendance(
            vol.id, start + timedelta(days=1), 150, organisation_id=org, **number
        ),
        attendance(
            vol.id,
            start + timedelta(days=40),
            60,
            organisation_id=str(uuid.uuid4()),
            **number,
        ),
    ]
    for body in bodies:
        publish(amqp_uri, "attendance.checked_out", body)
    recs = [approve(hours, tok, arrived(hours, tok, b).id) for b in bodies]
    return vol, org, recs


def issue(hours, tok, vol_id, **over):  # type: ignore[no-untyped-def]
    req = dict(
        volunteer_id=vol_id,
        period=common.Period(start_month="2026-04", end_month="2026-04"),
        issuer_name="雁塔区志愿者协会",
        person_in_charge="王建国",
        contact="029-88886666",
    )
    req.update(over)
    return hours.IssueCertificate(
        pb.IssueCertificateRequest(**req), metadata=auth(tok)
    ).certificate


def test_certificate_is_numbered_rendered_and_verifiable_without_a_token(
    hours, stub, token, certified, listen
):
    vol, org, _ = certified
    tok = token(COUNTY, "org_leader", username="李经办", org=org)
    events = listen("certificate.issued")
    cert = issue(hours, tok, vol.id, organisation_id=org)
    year = datetime.now(UTC).year
    assert cert.number.startswith(f"ZYC-61-{year}-")
    assert cert.hours == 4.5  # April, that organisation: 2 h + 2.5 h
    assert cert.name_masked == "欧***" and NAME not in str(cert)
    assert cert.id_number_masked.count("*") == 10 and cert.id_type == "resident_id"
    assert cert.volunteer_number == vol.volunteer_number
    assert cert.handler == "李经办" and cert.status == pb.CERTIFICATE_STATUS_VALID
    assert "养老助老" in cert.service_content

    got = hours.GetCertificatePdf(
        pb.GetCertificatePdfRequest(number=cert.number), metadata=auth(tok)
    )
    assert got.pdf.startswith(b"%PDF") and cert.number.encode() in got.pdf
    assert got.filename == f"{cert.number}.pdf"
    # At rest the document (it carries the full name) is sealed, not a PDF.
    from sqlalchemy import create_engine, text

    engine = create_engine(os.environ["HOURS_DATABASE_URL"])
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT pdf FROM certificates WHERE number = :n"), {"n": cert.number}
        ).scalar_one()
    engine.dispose()
    assert not bytes(stored).startswith(b"%PDF")
    assert cert.number.encode() not in bytes(stored)

    public = hours.VerifyCertificate(pb.VerifyCertificateRequest(number=cert.number))
    assert public.status == pb.CERTIFICATE_STATUS_VALID and public.hours == 4.5
    assert public.issuer_name == "雁塔区志愿者协会" and public.name_masked == "欧***"
    wire = public.SerializeToString()
    assert NAME.encode() not in wire and vol.volunteer_number.encode() not in wire
    assert cert.id_number_masked.encode() not in wire and vol.id.encode() not in wire
    assert set(pb.VerifyCertificateResponse.DESCRIPTOR.fields_by_name) == {
        "number", "name_masked", "hours", "issuer_name", "issued_on", "status",
    }  # fmt: skip

    event = events.next(lambda b: b["data"]["certificate_number"] == cert.number)
    assert event["data"] == {
        "certificate_number": cert.number,
        "volunteer_id": vol.id,
        "division_code": COUNTY,
        "hours": 4.5,
    }

    revoked = hours.RevokeCertificate(
        pb.RevokeCertificateRequest(number=cert.number, reason="时长更正后重新出具"),
        metadata=auth(token(COUNTY)),
    ).certificate
    assert revoked.status == pb.CERTIFICATE_STATUS_REVOKED
    public = hours.VerifyCertificate(pb.VerifyCertificateRequest(number=cert.number))
    assert public.status == pb.CERTIFICATE_STATUS_REVOKED


def test_certificate_numbers_are_distinct_and_unknown_ones_not_found(
    hours, token, certified
):
    vol, _, _ = certified
    tok = token(COUNTY)
    whole = issue(hours, tok, vol.id, period=common.Period())
    again = issue(hours, tok, vol.id, period=common.Period())
    assert whole.number != again.number and whole.hours == again.hours == 5.5
    serial = lambda n: int(n.split("-")[3])  # noqa: E731
    assert serial(again.number) == serial(whole.number) + 1
    err = rpc_error(
        lambda: hours.VerifyCertificate(
            pb.VerifyCertificateRequest(number=whole.number[:-4] + "ZZZZ")
        )
    )
    assert err.code() == grpc.StatusCode.NOT_FOUND


def test_no_certificate_without_approved_hours_and_no_name_revealed(
    hours, stub, token, certified
):
    vol, _, _ = certified
    err = rpc_error(
        lambda: issue(
            hours, token(COUNTY), vol.id, period=common.Period(start_month="2030-01")
        )
    )
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert dict(err.trailing_metadata())["zhiyuan-rule"] == "certificate.no_hours"


# -- the time bank ----------------------------------------------------------------


def balance(hours, tok, vol_id) -> float:  # type: ignore[no-untyped-def]
    return hours.GetTimeBankBalance(
        pb.GetTimeBankBalanceRequest(volunteer_id=vol_id), metadata=auth(tok)
    ).total_hours


def statement(hours, tok, vol_id) -> list[pb.TimeBankTransaction]:  # type: ignore[no-untyped-def]
    return list(
        hours.ListTimeBankTransactions(
            pb.ListTimeBankTransactionsRequest(volunteer_id=vol_id), metadata=auth(tok)
        ).transactions
    )


def test_approval_deposits_and_withdrawals_cannot_overdraw(hours, token, certified):
    vol, _, recs = certified
    tok = token(COUNTY)
    wait_for(lambda: balance(hours, tok, vol.id) == 5.5, timeout=30, what="deposits")
    err = rpc_error(
        lambda: hours.WithdrawTimeBank(
            pb.WithdrawTimeBankRequest(
                volunteer_id=vol.id, division_code=COUNTY, hours=5.51, service="助餐"
            ),
            metadata=auth(tok),
        )
    )
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert balance(hours, tok, vol.id) == 5.5
    request = pb.WithdrawTimeBankRequest(
        volunteer_id=vol.id,
        division_code=COUNTY,
        hours=2,
        service="上门理发",
        request_id="r1",
    )
    first = hours.WithdrawTimeBank(request, metadata=auth(tok))
    repeat = hours.WithdrawTimeBank(request, metadata=auth(tok))
    assert first.transaction.id == repeat.transaction.id and first.balance_hours == 3.5
    assert balance(hours, tok, vol.id) == 3.5
    txs = statement(hours, tok, vol.id)
    assert sorted(t.kind for t in txs) == ["deposit"] * 3 + ["withdrawal"]
    for t in txs:  # double entry: every transaction sums to zero
        assert sum(Decimal(str(e.amount_hours)) for e in t.entries) == 0
        assert len(t.entries) == 2
    assert {e.account for t in txs for e in t.entries} == {
        f"volunteer:{vol.id}",
        f"bank:{COUNTY}",
    }


def test_a_correction_follows_into_the_time_bank(hours, stub, token, worker, amqp_uri):
    tok = token(COUNTY)
    vol = verified_volunteer(stub, tok)
    body = attendance(vol.id, slot(), 120)
    publish(amqp_uri, "attendance.checked_out", body)
    rec = approve(hours, tok, arrived(hours, tok, body).id)
    wait_for(lambda: balance(hours, tok, vol.id) == 2, timeout=30, what="deposit")
    hours.CorrectRecord(
        pb.CorrectRecordRequest(record_id=rec.id, new_hours=1.25, reason="早退"),
        metadata=auth(tok),
    )
    wait_for(lambda: balance(hours, tok, vol.id) == 1.25, timeout=30, what="clawback")
    kinds = sorted(t.kind for t in statement(hours, tok, vol.id))
    assert kinds == ["adjustment", "deposit"]


def test_the_deposit_ratio_comes_from_the_tenant_settings(
    hours, stub, token, worker, amqp_uri
):
    county = "610124"  # 周至县: nobody else's tests change its settings
    tok = token(county)
    vol = verified_volunteer(stub, tok, home=f"{county}001")
    stub.UpdateTenantSettings(
        reg.UpdateTenantSettingsRequest(
            division_code=county, set_json={"timebank.deposit_ratio": json.dumps(0.5)}
        ),
        metadata=auth(tok),
    )
    try:
        wait_for(
            lambda: (
                hours.GetHourPolicy(
                    pb.GetHourPolicyRequest(division_code=county), metadata=auth(tok)
                ).deposit_ratio
                == 0.5
            ),
            timeout=30,
            what="the replica",
        )
        body = attendance(vol.id, slot(), 150, code=f"{county}001")
        publish(amqp_uri, "attendance.checked_out", body)
        approve(hours, tok, arrived(hours, tok, body).id)
        wait_for(
            lambda: balance(hours, tok, vol.id) == 1.25, timeout=30, what="deposit"
        )
        accounts = hours.GetTimeBankBalance(
            pb.GetTimeBankBalanceRequest(volunteer_id=vol.id), metadata=auth(tok)
        ).accounts
        assert [(a.division_code, a.balance_hours) for a in accounts] == [
            (county, 1.25)
        ]
    finally:
        stub.UpdateTenantSettings(
            reg.UpdateTenantSettingsRequest(
                division_code=county, clear=["timebank.deposit_ratio"]
            ),
            metadata=auth(tok),
        )


def test_province_sees_the_certificate_but_a_sibling_county_does_not(
    hours, token, certified
):
    vol, _, _ = certified
    cert = issue(hours, token(COUNTY), vol.id)
    md = pb.GetCertificatePdfRequest(number=cert.number)
    assert hours.GetCertificatePdf(
        md, metadata=auth(token(PROVINCE, "province_admin"))
    ).pdf
    err = rpc_error(lambda: hours.GetCertificatePdf(md, metadata=auth(token("610103"))))
    assert err.code() == grpc.StatusCode.NOT_FOUND


# -- the certificate list ----------------------------------------------------------


def listed(hours, tok, **fields) -> list[pb.Certificate]:  # type: ignore[no-untyped-def]
    return list(
        hours.ListCertificates(
            pb.ListCertificatesRequest(
                page=common.PageRequest(page_size=500), **fields
            ),
            metadata=auth(tok),
        ).certificates
    )


def test_issued_then_revoked_certificates_show_in_the_list_with_their_status(
    hours, token, certified
):
    vol, _, _ = certified
    tok = token(COUNTY)
    older = issue(hours, tok, vol.id)
    cert = issue(hours, tok, vol.id)
    mine = listed(hours, tok, volunteer_id=vol.id)
    numbers = [c.number for c in mine]
    # Newest first, each as IssueCertificate returned it (masked).
    assert numbers.index(cert.number) < numbers.index(older.number)
    assert [c for c in mine if c.number == cert.number] == [cert]
    assert all(c.volunteer_id == vol.id for c in mine)
    assert all(c.name_masked == "欧***" for c in mine)
    assert NAME not in str(mine)
    valid = listed(hours, tok, volunteer_id=vol.id, status=pb.CERTIFICATE_STATUS_VALID)
    assert cert.number in {c.number for c in valid}
    assert all(c.status == pb.CERTIFICATE_STATUS_VALID for c in valid)

    hours.RevokeCertificate(
        pb.RevokeCertificateRequest(number=cert.number, reason="期间填写有误"),
        metadata=auth(tok),
    )
    after = {c.number: c for c in listed(hours, tok, volunteer_id=vol.id)}
    assert after[cert.number].status == pb.CERTIFICATE_STATUS_REVOKED
    assert after[cert.number].revoked_reason == "期间填写有误"
    assert after[older.number].status == pb.CERTIFICATE_STATUS_VALID
    valid = listed(hours, tok, volunteer_id=vol.id, status=pb.CERTIFICATE_STATUS_VALID)
    revoked = listed(
        hours, tok, volunteer_id=vol.id, status=pb.CERTIFICATE_STATUS_REVOKED
    )
    assert cert.number not in {c.number for c in valid}
    assert older.number in {c.number for c in valid}
    assert cert.number in {c.number for c in revoked}
    assert all(c.status == pb.CERTIFICATE_STATUS_REVOKED for c in revoked)

    # Unfiltered: the county's latest, the province sees it too, the sibling
    # county (in its own scope) does not.
    assert cert.number in {c.number for c in listed(hours, tok)}
    province = listed(hours, token(PROVINCE, "province_admin"), volunteer_id=vol.id)
    assert cert.number in {c.number for c in province}
    assert listed(hours, token("610103"), volunteer_id=vol.id) == []


def test_the_certificate_list_pages(hours, token, certified):
    vol, _, _ = certified
    tok = token(COUNTY)
    for _ in range(3):
        issue(hours, tok, vol.id)
    whole = [c.number for c in listed(hours, tok, volunteer_id=vol.id)]
    seen: list[str] = []
    page_token = ""
    while True:
        got = hours.ListCertificates(
            pb.ListCertificatesRequest(
                volunteer_id=vol.id,
                page=common.PageRequest(page_size=2, page_token=page_token),
            ),
            metadata=auth(tok),
        )
        assert got.page.total_size == len(whole) and len(got.certificates) <= 2
        seen += [c.number for c in got.certificates]
        page_token = got.page.next_page_token
        if not page_token:
            break
    assert seen == whole
