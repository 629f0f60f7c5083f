"""A volunteer's own hours calls reach only that volunteer's data (issue 13),
with real ids harvested from other volunteers' own accounts: one with the
same home township, one elsewhere in the county, one in another county.
Another's record (an objection to it) and another's certificate (its PDF)
are NOT_FOUND exactly like ids that exist nowhere,
with nothing written; an office account on the volunteer's own calls and a
volunteer on the office's are PERMISSION_DENIED; a neighbour county's
office and a township beside the record's cannot resolve an objection (the
city above can). The per-RPC matrix of office callers is in
test_hours_isolation.py."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from sqlalchemy import create_engine, text
from zhiyuan.hours.v1 import hours_pb2 as pb
from zhiyuan.registration.v1 import registration_pb2 as reg

from services.common.auth import TokenIssuer
from services.common.testing import PRIVATE_PEM
from tests.helpers import auth
from tests.integration.test_hours_flow import (
    approve,
    arrived,
    attendance,
    pin_policy,
    publish,
    slot,
    verified_volunteer,
)
from tests.integration.test_hours_self_service import volunteer_token
from tests.security.matrix import NF, PD, check_indistinguishable, outcome

pytestmark = pytest.mark.integration

COUNTY, TOWN = "610113", "610113003"
NEAR_TOWN = "610113006"  # the same county, another township
OTHER_COUNTY, OTHER_TOWN = "610103", "610103004"
CITY, CHILD = "6101", "610113001"
# A number of the right shape that no certificate has.
NO_SUCH_NUMBER = "ZYC-61-2026-999999-ZZZZ"


def db_count(sql: str) -> int:
    """The hours database as its owner (no row security): what no call shows."""
    engine = create_engine(os.environ["HOURS_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar_one())
    finally:
        engine.dispose()


def written() -> tuple[int, int]:
    """Objections and certificates (an event goes only with one of them, in
    the same transaction)."""
    return (
        db_count("SELECT count(*) FROM hour_objections"),
        db_count("SELECT count(*) FROM certificates"),
    )


@dataclass
class Person:
    vol: Any
    tok: str
    record: pb.HourRecord
    cert: pb.Certificate


def person(hours: Any, stub: Any, office: str, home: str, amqp: str) -> Person:
    """A verified volunteer at ``home`` with one approved record there and a
    certificate requested through its own account: the ids it harvests are
    what its own calls return."""
    vol = verified_volunteer(stub, office, home=home)
    body = attendance(vol.id, slot(), 80, code=home)
    publish(amqp, "attendance.checked_out", body)
    approve(hours, office, arrived(hours, office, body).id)
    tok = volunteer_token(vol, home)
    (record,) = hours.ListMyRecords(
        pb.ListMyRecordsRequest(), metadata=auth(tok)
    ).records
    cert = hours.RequestMyCertificate(
        pb.RequestMyCertificateRequest(), metadata=auth(tok)
    ).certificate
    return Person(vol, tok, record, cert)


@pytest.fixture(scope="module")
def people(stubs, stub, token, worker, amqp_uri):  # type: ignore[no-untyped-def]
    hours = stubs("hours")
    for office, town in (
        (COUNTY, TOWN),
        (COUNTY, NEAR_TOWN),
        (OTHER_COUNTY, OTHER_TOWN),
    ):
        pin_policy(stub, hours, token(office), town)
    return hours, {
        "me": person(hours, stub, token(COUNTY), TOWN, amqp_uri),
        # Same home: only the volunteer id, not row security, keeps them apart.
        "housemate": person(hours, stub, token(COUNTY), TOWN, amqp_uri),
        "neighbour": person(hours, stub, token(COUNTY), NEAR_TOWN, amqp_uri),
        "elsewhere": person(hours, stub, token(OTHER_COUNTY), OTHER_TOWN, amqp_uri),
    }


def _file(hours: Any, tok: str, record_id: str) -> Any:
    return hours.FileObjection(
        pb.FileObjectionRequest(record_id=record_id, reason="这条记录有误"),
        metadata=auth(tok),
    )


def _pdf(hours: Any, tok: str, number: str) -> Any:
    return hours.GetMyCertificatePdf(
        pb.GetMyCertificatePdfRequest(number=number), metadata=auth(tok)
    )


@pytest.mark.parametrize("other", ["housemate", "neighbour", "elsewhere"])
def test_an_objection_to_anothers_record_is_not_found_and_writes_nothing(people, other):
    hours, by = people
    me, them = by["me"], by[other]
    before = written()
    check_indistinguishable(
        lambda ident: _file(hours, me.tok, ident), them.record.id, str(uuid.uuid4())
    )
    assert written() == before
    listed = hours.ListMyObjections(pb.ListMyObjectionsRequest(), metadata=auth(me.tok))
    assert all(o.volunteer_id == me.vol.id for o in listed.objections)
    mine = hours.ListMyRecords(pb.ListMyRecordsRequest(), metadata=auth(me.tok))
    assert [r.id for r in mine.records] == [me.record.id]


@pytest.mark.parametrize("other", ["housemate", "neighbour", "elsewhere"])
def test_anothers_certificate_pdf_is_not_found(people, other):
    hours, by = people
    me, them = by["me"], by[other]
    check_indistinguishable(
        lambda number: _pdf(hours, me.tok, number), them.cert.number, NO_SUCH_NUMBER
    )
    listed = hours.ListMyCertificates(
        pb.ListMyCertificatesRequest(), metadata=auth(me.tok)
    ).certificates
    assert [c.number for c in listed] == [me.cert.number]
    assert _pdf(hours, me.tok, me.cert.number).pdf.startswith(b"%PDF")


def test_my_totals_are_mine_alone(people):
    hours, by = people
    for who in by.values():
        got = hours.GetMyTotals(pb.GetMyTotalsRequest(), metadata=auth(who.tok))
        assert got.records_total == 1
        assert got.hours_total == pytest.approx(who.record.effective_hours)


# The volunteer's own calls, and what each names of the volunteer's own.
OWN_CALLS = {
    "ListMyRecords": lambda me: {},
    "GetMyTotals": lambda me: {},
    "FileObjection": lambda me: {"record_id": me.record.id, "reason": "x"},
    "ListMyObjections": lambda me: {},
    "RequestMyCertificate": lambda me: {},
    "ListMyCertificates": lambda me: {},
    "GetMyCertificatePdf": lambda me: {"number": me.cert.number},
}


@pytest.mark.parametrize("rpc", sorted(OWN_CALLS))
@pytest.mark.parametrize(
    "roles", [("tenant_admin",), ("org_leader",), ("reviewer",), ("volunteer",)]
)
def test_an_office_account_cannot_use_a_volunteers_own_calls(people, token, rpc, roles):
    """An office token (and a volunteer-role token without the claim vol) is
    refused, even naming the volunteer's own record or certificate."""
    hours, by = people
    fields = OWN_CALLS[rpc](by["me"])
    before = written()
    status, _ = outcome(
        lambda: getattr(hours, rpc)(
            getattr(pb, f"{rpc}Request")(**fields), metadata=auth(token(TOWN, *roles))
        )
    )
    assert status == PD
    assert written() == before


@pytest.mark.parametrize("rpc", sorted(OWN_CALLS))
def test_the_nation_cannot_use_a_volunteers_own_calls(people, token, rpc):
    """The national account (scope CN) is refused like an office, naming
    the volunteer's own record or certificate, and writes nothing."""
    hours, by = people
    fields = OWN_CALLS[rpc](by["me"])
    before = written()
    status, err = outcome(
        lambda: getattr(hours, rpc)(
            getattr(pb, f"{rpc}Request")(**fields),
            metadata=auth(token("CN", "province_admin")),
        )
    )
    assert status == PD
    assert dict(err.trailing_metadata())["zhiyuan-rule"] == "scope.national"
    assert written() == before


def test_a_claim_vol_without_the_volunteer_role_is_refused(people):
    hours, by = people
    me = by["me"]
    tok, _ = TokenIssuer(PRIVATE_PEM, "zhiyuan", "zhiyuan").issue(
        subject="office-with-vol",
        username="office-with-vol",
        scope_code=TOWN,
        roles=["tenant_admin"],
        volunteer_id=me.vol.id,
    )
    status, _ = outcome(
        lambda: hours.ListMyRecords(pb.ListMyRecordsRequest(), metadata=auth(tok))
    )
    assert status == PD


def test_a_volunteer_cannot_use_the_offices_objection_calls(people):
    hours, by = people
    me = by["me"]
    objection = _file(hours, me.tok, me.record.id).objection
    for call in (
        lambda: hours.ListObjections(pb.ListObjectionsRequest(), metadata=auth(me.tok)),
        lambda: hours.ResolveObjection(
            pb.ResolveObjectionRequest(id=objection.id, outcome="dismissed", note="x"),
            metadata=auth(me.tok),
        ),
        lambda: hours.GetCertificatePdf(
            pb.GetCertificatePdfRequest(number=me.cert.number), metadata=auth(me.tok)
        ),
    ):
        status, _ = outcome(call)
        assert status == PD


def test_only_offices_over_the_record_resolve_its_objection(people, token):
    hours, by = people
    them = by["neighbour"]  # a record in NEAR_TOWN
    objection = _file(hours, them.tok, them.record.id).objection
    for other in ("me", "housemate", "elsewhere"):
        seen = hours.ListMyObjections(
            pb.ListMyObjectionsRequest(), metadata=auth(by[other].tok)
        ).objections
        assert objection.id not in {o.id for o in seen}

    def resolve(tok: str, ident: str = objection.id) -> Any:
        return hours.ResolveObjection(
            pb.ResolveObjectionRequest(id=ident, outcome="dismissed", note="记录无误"),
            metadata=auth(tok),
        )

    def still_open() -> bool:
        got = hours.ListObjections(
            pb.ListObjectionsRequest(status=pb.OBJECTION_STATUS_OPEN),
            metadata=auth(token(COUNTY)),
        ).objections
        return objection.id in {o.id for o in got}

    before = written()
    for outsider in (OTHER_COUNTY, TOWN, CHILD):
        check_indistinguishable(
            lambda ident, o=outsider: resolve(token(o), ident),
            objection.id,
            str(uuid.uuid4()),
        )
        listed = hours.ListObjections(
            pb.ListObjectionsRequest(), metadata=auth(token(outsider))
        ).objections
        assert objection.id not in {o.id for o in listed}
    assert still_open() and written() == before
    # The county's parent, the city, may.
    done = resolve(token(CITY)).objection
    assert done.status == pb.OBJECTION_STATUS_DISMISSED and not still_open()


def test_unknown_and_malformed_ids_name_their_field(people):
    hours, by = people
    me = by["me"]
    for call, code in (
        (lambda: _file(hours, me.tok, str(uuid.uuid4())), NF),
        (lambda: _pdf(hours, me.tok, NO_SUCH_NUMBER), NF),
        (lambda: _file(hours, me.tok, "../" + me.record.id), None),
    ):
        with pytest.raises(grpc.RpcError) as err:
            call()
        if code is None:
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        else:
            assert err.value.code() == code
        assert dict(err.value.trailing_metadata())["zhiyuan-field"] in {
            "record_id",
            "number",
        }


def test_a_volunteer_reads_only_its_own_identity_for_its_certificate(people, stub):
    """Registration reveals a real name to a volunteer's own account for
    itself only (its certificate prints it); any other id is refused."""
    _, by = people
    me = by["me"]

    def identity(ident: str) -> Any:
        return stub.GetVolunteerIdentity(
            reg.GetVolunteerIdentityRequest(id=ident, purpose="certificate"),
            metadata=auth(me.tok),
        )

    got = identity(me.vol.id)
    assert got.id == me.vol.id and got.name
    others = [by[k].vol.id for k in ("housemate", "neighbour", "elsewhere")]
    others.append(str(uuid.uuid4()))
    for other in others:
        status, _ = outcome(lambda o=other: identity(o))
        assert status == PD
