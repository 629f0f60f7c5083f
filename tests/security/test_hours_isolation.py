"""Tenant isolation for every HoursService RPC, caller by caller, on the real
api role and worker.

The owner is Yanta district (610113). Its hour records live in the township
大雁塔街道 (610113002), its certificates and time bank at the county. Callers:

    owner     610113     tenant_admin   (everything works)
    sibling   610103     tenant_admin   (Beilin: sees nothing of Yanta)
    city      6101       tenant_admin   (Xi'an: reads and writes its subtree)
    province  61         province_admin
    child     610113001  tenant_admin   (another township: cannot look upward
                                         or sideways)
    noscope   ""         tenant_admin   (default deny)

A request naming a division outside the caller's subtree is
PERMISSION_DENIED; one addressing another tenant's record, certificate or
volunteer by id is NOT_FOUND, as if it did not exist; a refused write leaves
nothing changed (checked with the owner's token, or in the database where no
call shows it). VerifyCertificate is public: every caller, and no token at all.
Evaluations and complaints (issue 14): a record's evaluation and a complaint
by id, like the record; a complaint is filed at the owner's division.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import grpc
import pytest
from PIL import Image
from sqlalchemy import create_engine, text
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.hours.v1 import hours_pb2 as pb
from zhiyuan.registration.v1 import registration_pb2 as rpb

from services.common.rpc import error_details
from services.common.testing import wait_for
from tests.helpers import auth
from tests.integration.test_hours_flow import (
    approve,
    arrived,
    attendance,
    pin_policy,
    publish,
    records,
    slot,
    total,
    verified_volunteer,
)
from tests.integration.test_hours_self_service import volunteer_token
from tests.security.matrix import (
    NF,
    OK,
    PD,
    Spec,
    caller_token,
    check_indistinguishable,
    check_isolation,
    check_needs_a_token,
    outcome,
    params,
    rpc_names,
    with_national,
)

pytestmark = pytest.mark.integration

OWNER, SIBLING, CITY, PROVINCE, CHILD = "610113", "610103", "6101", "61", "610113001"
TOWN = "610113002"
SCOPES = {
    "owner": OWNER,
    "sibling": SIBLING,
    "city": CITY,
    "province": PROVINCE,
    "child": CHILD,
}
# ``national``: scope CN (the ministry), rollups and the division tree only.
CALLERS = (*SCOPES, "noscope", "national")
SCOPED = dict(owner=OK, sibling=PD, city=OK, province=OK, child=PD, noscope=PD)
BY_ID = dict(owner=OK, sibling=NF, city=OK, province=OK, child=NF, noscope=PD)
# A volunteer's own calls: no office account may make them (no claim vol).
OWN_ONLY = dict(owner=PD, sibling=PD, city=PD, province=PD, child=PD, noscope=PD)
PUBLIC = dict(owner=OK, sibling=OK, city=OK, province=OK, child=OK, noscope=OK)


def db_count(sql: str, **params: Any) -> int:
    """Read the hours database as its owner (row security does not apply):
    for what no call shows, such as a certificate that must not exist."""
    import os

    engine = create_engine(os.environ["HOURS_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql), params).scalar_one())
    finally:
        engine.dispose()


@dataclass
class World:
    hours: Any
    stub: Any
    token: Callable[..., str]
    amqp_uri: str
    vol: Any = None  # a real, verified volunteer of the owner
    record: pb.HourRecord = None  # type: ignore[assignment]
    cert: pb.Certificate = None  # type: ignore[assignment]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def own(self) -> str:
        return self.token(OWNER)

    @property
    def mine(self) -> str:
        """The token of the volunteer's own account (role volunteer, claim vol)."""
        return volunteer_token(self.vol, TOWN)

    def caller(self, who: str, roles: tuple[str, ...] = ()) -> str:
        return caller_token(self.token, SCOPES, who, roles)

    def pending(self, vol: Any = None) -> pb.HourRecord:
        ids = dict(volunteer_number=vol.volunteer_number) if vol else {}
        vid = vol.id if vol else str(uuid.uuid4())
        body = attendance(vid, slot(60), 75, code=TOWN, **ids)
        publish(self.amqp_uri, "attendance.checked_out", body)
        return arrived(self.hours, self.own, body)

    def approved(self) -> pb.HourRecord:
        return approve(self.hours, self.own, self.pending().id)

    def get(self, record_id: str) -> pb.GetRecordResponse:
        return self.hours.GetRecord(
            pb.GetRecordRequest(id=record_id), metadata=auth(self.own)
        )

    def balance(self) -> float:
        return self.hours.GetTimeBankBalance(
            pb.GetTimeBankBalanceRequest(volunteer_id=self.vol.id),
            metadata=auth(self.own),
        ).total_hours

    def issue(self) -> pb.Certificate:
        return self.hours.IssueCertificate(
            pb.IssueCertificateRequest(
                volunteer_id=self.vol.id,
                issuer_name="雁塔区志愿者协会",
                person_in_charge="王建国",
                contact="029-88886666",
            ),
            metadata=auth(self.own),
        ).certificate


@pytest.fixture(scope="module")
def w(stubs, stub, token, worker, amqp_uri) -> World:  # type: ignore[no-untyped-def]
    world = World(stubs("hours"), stub, token, amqp_uri)
    pin_policy(stub, world.hours, world.own, TOWN)
    world.vol = verified_volunteer(stub, world.own, home=TOWN)
    world.record = world.pending(world.vol)
    approve(world.hours, world.own, world.record.id)
    second = world.pending(world.vol)
    approve(world.hours, world.own, second.id)
    wait_for(lambda: world.balance() == 2.5, timeout=30, what="the owner's deposits")
    world.cert = world.issue()
    world.extra["objection"] = _open_objection(world)
    world.extra["complaint"] = _open_complaint(world)
    _upload_seal(world, None, world.own)
    return world


# -- one specification per RPC ---------------------------------------------------


def _honour_target(w: World) -> tuple[Any, Any]:
    return verified_volunteer(w.stub, w.own, home=TOWN), slot(60)


def _honour(w: World, t: tuple[Any, Any], tok: str) -> Any:
    vol, start = t
    request = pb.RecordHonourHoursRequest(
        volunteer_id=vol.id,
        division_code=TOWN,
        organisation_name="大雁塔街道志愿服务站",
        service_field="civilisation",
        content="文明交通劝导",
        session_start=start.isoformat(),
        session_end=(start + timedelta(hours=2)).isoformat(),
        hours=1.5,
        reason="补录",
    )
    return w.hours.RecordHonourHours(request, metadata=auth(tok))


def _honoured(w: World, t: tuple[Any, Any], resp: Any) -> None:
    got = records(w.hours, w.own, volunteer_id=t[0].id)
    assert [r.id for r in got] == [resp.record.id] and got[0].division_code == TOWN


def _not_honoured(w: World, t: tuple[Any, Any]) -> None:
    assert records(w.hours, w.own, volunteer_id=t[0].id) == []


def _list(w: World, _: Any, tok: str) -> Any:
    return w.hours.ListRecords(
        pb.ListRecordsRequest(
            division_code=TOWN, page=common.PageRequest(page_size=500)
        ),
        metadata=auth(tok),
    )


def _listed(w: World, _: Any, resp: Any) -> None:
    assert w.record.id in {r.id for r in resp.records}
    assert all(r.division_code.startswith(TOWN) for r in resp.records)


def _get(w: World, _: Any, tok: str) -> Any:
    return w.hours.GetRecord(pb.GetRecordRequest(id=w.record.id), metadata=auth(tok))


def _got(w: World, _: Any, resp: Any) -> None:
    assert resp.record.id == w.record.id and resp.effective_hours == 1.25


def _approve(w: World, rec: pb.HourRecord, tok: str) -> Any:
    return w.hours.ApproveRecord(pb.ApproveRecordRequest(id=rec.id), metadata=auth(tok))


def _reject(w: World, rec: pb.HourRecord, tok: str) -> Any:
    return w.hours.RejectRecord(
        pb.RejectRecordRequest(id=rec.id, reason="不实"), metadata=auth(tok)
    )


def _now_status(status: int) -> Callable[[World, Any, Any], None]:
    def check(w: World, rec: pb.HourRecord, resp: Any) -> None:
        assert w.get(rec.id).record.status == status

    return check


def _review_target(w: World) -> tuple[pb.HourRecord, dict[str, float]]:
    return w.pending(), total(w.hours, w.own, TOWN)


def _still_pending(w: World, t: tuple[pb.HourRecord, dict[str, float]]) -> None:
    got = w.get(t[0].id).record
    assert got.status == pb.RECORD_STATUS_PENDING and got.reviewed_by == ""
    assert total(w.hours, w.own, TOWN) == t[1]


def _correct(w: World, rec: pb.HourRecord, tok: str) -> Any:
    return w.hours.CorrectRecord(
        pb.CorrectRecordRequest(record_id=rec.id, new_hours=1.0, reason="更正"),
        metadata=auth(tok),
    )


def _corrected(w: World, rec: pb.HourRecord, resp: Any) -> None:
    got = w.get(rec.id)
    assert got.effective_hours == 1.0 and len(got.corrections) == 1


def _uncorrected(w: World, rec: pb.HourRecord) -> None:
    got = w.get(rec.id)
    assert got.effective_hours == 1.25 and list(got.corrections) == []


def _totals(w: World, _: Any, tok: str) -> Any:
    return w.hours.GetVolunteerTotals(
        pb.GetVolunteerTotalsRequest(volunteer_id=w.vol.id), metadata=auth(tok)
    )


def _totalled(w: World, _: Any, resp: Any) -> None:
    assert (
        resp.volunteer_number == w.vol.volunteer_number and resp.approved_hours >= 2.5
    )


def _policy(w: World, _: Any, tok: str) -> Any:
    return w.hours.GetHourPolicy(
        pb.GetHourPolicyRequest(division_code=OWNER), metadata=auth(tok)
    )


def _summarize(w: World, _: Any, tok: str) -> Any:
    return w.hours.Summarize(
        pb.SummarizeRequest(query=common.RollupQuery(division_code=OWNER)),
        metadata=auth(tok),
    )


def _summarize_federated(w: World, _: Any, tok: str) -> Any:
    return w.hours.SummarizeFederated(
        pb.SummarizeFederatedRequest(query=common.RollupQuery(division_code=OWNER)),
        metadata=auth(tok),
    )


def _federated_summarized(w: World, _: Any, resp: Any) -> None:
    # This release has no downstream: the node's total, and nothing else.
    assert resp.rollup.total.division.code == OWNER
    assert all(r.division.code.startswith(OWNER) for r in resp.rollup.rows)


def _summarized(w: World, _: Any, resp: Any) -> None:
    assert (
        resp.rollup.total.division.code == OWNER
        and resp.rollup.total.metrics["hours"] >= 2.5
    )
    assert all(r.division.code.startswith(OWNER) for r in resp.rollup.rows)


def _certificates() -> int:
    return db_count("SELECT count(*) FROM certificates")


def _issue(w: World, _: Any, tok: str) -> Any:
    return w.hours.IssueCertificate(
        pb.IssueCertificateRequest(
            volunteer_id=w.vol.id, division_code=OWNER, issuer_name="雁塔区志愿者协会",
            person_in_charge="王建国", contact="029-88886666",
        ),
        metadata=auth(tok),
    )  # fmt: skip


def _issued(w: World, before: int, resp: Any) -> None:
    assert resp.certificate.division_code == OWNER and resp.certificate.hours >= 2.5
    assert _certificates() == before + 1


def _not_issued(w: World, before: int) -> None:
    assert _certificates() == before


def _pdf(w: World, _: Any, tok: str) -> Any:
    return w.hours.GetCertificatePdf(
        pb.GetCertificatePdfRequest(number=w.cert.number), metadata=auth(tok)
    )


def _revoke(w: World, cert: pb.Certificate, tok: str) -> Any:
    return w.hours.RevokeCertificate(
        pb.RevokeCertificateRequest(number=cert.number, reason="重开"),
        metadata=auth(tok),
    )


def _public_status(w: World, number: str) -> int:
    return w.hours.VerifyCertificate(pb.VerifyCertificateRequest(number=number)).status


def _revoked(w: World, cert: pb.Certificate, resp: Any) -> None:
    assert _public_status(w, cert.number) == pb.CERTIFICATE_STATUS_REVOKED


def _still_valid(w: World, cert: pb.Certificate) -> None:
    assert _public_status(w, cert.number) == pb.CERTIFICATE_STATUS_VALID


def _certificate_list(w: World, _: Any, tok: str) -> Any:
    return w.hours.ListCertificates(
        pb.ListCertificatesRequest(
            division_code=OWNER,
            volunteer_id=w.vol.id,
            page=common.PageRequest(page_size=500),
        ),
        metadata=auth(tok),
    )


def _certificates_listed(w: World, _: Any, resp: Any) -> None:
    got = {c.number: c for c in resp.certificates}
    assert w.cert.number in got
    assert got[w.cert.number].name_masked == w.cert.name_masked
    assert all(c.division_code.startswith(OWNER) for c in resp.certificates)
    assert all(c.volunteer_id == w.vol.id for c in resp.certificates)
    assert resp.page.total_size == len(resp.certificates)


def _verify(w: World, _: Any, tok: str) -> Any:
    return w.hours.VerifyCertificate(
        pb.VerifyCertificateRequest(number=w.cert.number), metadata=auth(tok)
    )


def _verified(w: World, _: Any, resp: Any) -> None:
    assert resp.number == w.cert.number and resp.name_masked == w.cert.name_masked


def _balance(w: World, _: Any, tok: str) -> Any:
    return w.hours.GetTimeBankBalance(
        pb.GetTimeBankBalanceRequest(volunteer_id=w.vol.id), metadata=auth(tok)
    )


def _balanced(w: World, _: Any, resp: Any) -> None:
    assert [a.division_code for a in resp.accounts] == [OWNER]


def _withdraw(w: World, _: Any, tok: str) -> Any:
    return w.hours.WithdrawTimeBank(
        pb.WithdrawTimeBankRequest(
            volunteer_id=w.vol.id, division_code=OWNER, hours=0.1, service="助餐"
        ),
        metadata=auth(tok),
    )


def _withdrew(w: World, before: float, resp: Any) -> None:
    assert w.balance() == pytest.approx(before - 0.1)


def _kept(w: World, before: float) -> None:
    assert w.balance() == before


def _statement(w: World, _: Any, tok: str) -> Any:
    return w.hours.ListTimeBankTransactions(
        pb.ListTimeBankTransactionsRequest(volunteer_id=w.vol.id, division_code=OWNER),
        metadata=auth(tok),
    )


def _stated(w: World, _: Any, resp: Any) -> None:
    assert {t.kind for t in resp.transactions} >= {"deposit"}
    assert all(t.division_code == OWNER for t in resp.transactions)


def _objections() -> tuple[int, int]:
    return (
        db_count("SELECT count(*) FROM hour_objections"),
        db_count("SELECT count(*) FROM hour_objections WHERE status = 'open'"),
    )


def _own(rpc: str, **fields: Any) -> Callable[[World, Any, str], Any]:
    def act(w: World, _: Any, tok: str) -> Any:
        request = getattr(pb, f"{rpc}Request")(**fields)
        return getattr(w.hours, rpc)(request, metadata=auth(tok))

    return act


def _file(w: World, _: Any, tok: str) -> Any:
    return w.hours.FileObjection(
        pb.FileObjectionRequest(record_id=w.record.id, reason="少计了"),
        metadata=auth(tok),
    )


def _my_pdf(w: World, _: Any, tok: str) -> Any:
    return w.hours.GetMyCertificatePdf(
        pb.GetMyCertificatePdfRequest(number=w.cert.number), metadata=auth(tok)
    )


def _objection_list(w: World, _: Any, tok: str) -> Any:
    return w.hours.ListObjections(
        pb.ListObjectionsRequest(division_code=OWNER), metadata=auth(tok)
    )


def _objections_listed(w: World, _: Any, resp: Any) -> None:
    assert w.extra["objection"] in {o.id for o in resp.objections}
    assert all(o.division_code.startswith(OWNER) for o in resp.objections)


def _open_objection(w: World) -> str:
    """An open objection of the volunteer to a new record of theirs."""
    rec = w.pending(w.vol)
    return w.hours.FileObjection(
        pb.FileObjectionRequest(record_id=rec.id, reason="未到场"),
        metadata=auth(w.mine),
    ).objection.id


def _status_of(w: World, ident: str) -> int:
    got = w.hours.ListObjections(
        pb.ListObjectionsRequest(page=common.PageRequest(page_size=500)),
        metadata=auth(w.own),
    ).objections
    return {o.id: o.status for o in got}[ident]


def _resolve(w: World, ident: str, tok: str) -> Any:
    return w.hours.ResolveObjection(
        pb.ResolveObjectionRequest(id=ident, outcome="dismissed", note="记录无误"),
        metadata=auth(tok),
    )


def _evaluate(w: World, rec: pb.HourRecord, tok: str) -> Any:
    return w.hours.EvaluateRecord(
        pb.EvaluateRecordRequest(record_id=rec.id, score="4", comment="服务认真"),
        metadata=auth(tok),
    )


def _evaluated(w: World, rec: pb.HourRecord, resp: Any) -> None:
    got = w.get(rec.id)
    assert got.evaluation.id == resp.evaluation.id and got.evaluation.score == 4


def _not_evaluated(w: World, rec: pb.HourRecord) -> None:
    assert not w.get(rec.id).HasField("evaluation")
    assert (
        db_count("SELECT count(*) FROM hour_evaluations WHERE record_id = :r", r=rec.id)
        == 0
    )


def _complaints() -> int:
    return db_count("SELECT count(*) FROM hour_complaints")


def _file_complaint(w: World, _: Any, tok: str) -> Any:
    return w.hours.FileComplaint(
        pb.FileComplaintRequest(
            division_code=OWNER, volunteer_id=w.vol.id, text="活动中途离开"
        ),
        metadata=auth(tok),
    )


def _complaint_filed(w: World, before: int, resp: Any) -> None:
    assert _complaints() == before + 1
    assert resp.complaint.division_code == OWNER


def _open_complaint(w: World) -> str:
    """An open complaint of the owner about the owner's volunteer."""
    return _file_complaint(w, None, w.own).complaint.id


def _complaint_status(w: World, ident: str) -> int:
    got = w.hours.ListComplaints(
        pb.ListComplaintsRequest(page=common.PageRequest(page_size=500)),
        metadata=auth(w.own),
    ).complaints
    return {c.id: c.status for c in got}[ident]


def _complaint_list(w: World, _: Any, tok: str) -> Any:
    return w.hours.ListComplaints(
        pb.ListComplaintsRequest(division_code=OWNER), metadata=auth(tok)
    )


def _complaints_listed(w: World, _: Any, resp: Any) -> None:
    assert w.extra["complaint"] in {c.id for c in resp.complaints}
    assert all(c.division_code.startswith(OWNER) for c in resp.complaints)


def _decide(w: World, ident: str, tok: str) -> Any:
    return w.hours.DecideComplaint(
        pb.DecideComplaintRequest(id=ident, outcome="dismissed", note="核实无此事"),
        metadata=auth(tok),
    )


def _reply(w: World, _: Any, tok: str) -> Any:
    return w.hours.ReplyToComplaint(
        pb.ReplyToComplaintRequest(id=w.extra["complaint"], reply="我当天有事提前请假"),
        metadata=auth(tok),
    )


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 120), (190, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def _seal_state() -> int:
    return db_count(
        "SELECT coalesce(max(xmin::text::bigint), 0) + count(*)"
        " FROM certificate_seals WHERE division_code = :c",
        c=OWNER,
    )


def _upload_seal(w: World, _: Any, tok: str) -> Any:
    return w.hours.UploadSeal(
        pb.UploadSealRequest(division_code=OWNER, image=_png()), metadata=auth(tok)
    )


def _get_seal(w: World, _: Any, tok: str) -> Any:
    return w.hours.GetSeal(pb.GetSealRequest(division_code=OWNER), metadata=auth(tok))


SPECS: dict[str, Spec] = {
    "RecordHonourHours": Spec(
        SCOPED, _honour, _honour_target, _honoured, _not_honoured
    ),
    "ListRecords": Spec(SCOPED, _list, succeeded=_listed),
    "GetRecord": Spec(BY_ID, _get, succeeded=_got),
    "ApproveRecord": Spec(
        BY_ID,
        lambda w, t, tok: _approve(w, t[0], tok),
        _review_target,
        lambda w, t, r: _now_status(pb.RECORD_STATUS_APPROVED)(w, t[0], r),
        _still_pending,
    ),  # fmt: skip
    "RejectRecord": Spec(
        BY_ID,
        lambda w, t, tok: _reject(w, t[0], tok),
        _review_target,
        lambda w, t, r: _now_status(pb.RECORD_STATUS_REJECTED)(w, t[0], r),
        _still_pending,
    ),  # fmt: skip
    "CorrectRecord": Spec(BY_ID, _correct, World.approved, _corrected, _uncorrected),
    "GetVolunteerTotals": Spec(BY_ID, _totals, succeeded=_totalled),
    "GetHourPolicy": Spec(
        SCOPED,
        _policy,
        succeeded=lambda w, _, r: r.division_code == OWNER or pytest.fail("node"),
    ),
    "Summarize": Spec(SCOPED, _summarize, succeeded=_summarized),
    "SummarizeFederated": Spec(
        SCOPED, _summarize_federated, succeeded=_federated_summarized
    ),
    "IssueCertificate": Spec(
        SCOPED, _issue, lambda w: _certificates(), _issued, _not_issued
    ),
    "GetCertificatePdf": Spec(
        BY_ID,
        _pdf,
        succeeded=lambda w, _, r: r.pdf.startswith(b"%PDF") or pytest.fail("pdf"),
    ),
    "RevokeCertificate": Spec(BY_ID, _revoke, World.issue, _revoked, _still_valid),
    "VerifyCertificate": Spec(PUBLIC, _verify, succeeded=_verified),
    "ListCertificates": Spec(SCOPED, _certificate_list, succeeded=_certificates_listed),
    "GetTimeBankBalance": Spec(BY_ID, _balance, succeeded=_balanced),
    "WithdrawTimeBank": Spec(SCOPED, _withdraw, World.balance, _withdrew, _kept),
    "ListTimeBankTransactions": Spec(SCOPED, _statement, succeeded=_stated),
    "ListMyRecords": Spec(OWN_ONLY, _own("ListMyRecords")),
    "GetMyTotals": Spec(OWN_ONLY, _own("GetMyTotals")),
    "FileObjection": Spec(
        OWN_ONLY,
        _file,
        lambda w: _objections(),
        unchanged=lambda w, before: _objections() == before or pytest.fail("filed"),
    ),  # fmt: skip
    "ListMyObjections": Spec(OWN_ONLY, _own("ListMyObjections")),
    "ListObjections": Spec(SCOPED, _objection_list, succeeded=_objections_listed),
    "ResolveObjection": Spec(
        BY_ID,
        _resolve,
        _open_objection,
        lambda w, i, r: (
            _status_of(w, i) == pb.OBJECTION_STATUS_DISMISSED
            or pytest.fail("not dismissed")
        ),
        lambda w, i: (
            _status_of(w, i) == pb.OBJECTION_STATUS_OPEN or pytest.fail("not open")
        ),
    ),  # fmt: skip
    "RequestMyCertificate": Spec(
        OWN_ONLY,
        _own("RequestMyCertificate"),
        lambda w: _certificates(),
        unchanged=_not_issued,
    ),  # fmt: skip
    "ListMyCertificates": Spec(OWN_ONLY, _own("ListMyCertificates")),
    "GetMyCertificatePdf": Spec(OWN_ONLY, _my_pdf),
    "EvaluateRecord": Spec(
        BY_ID, _evaluate, World.approved, _evaluated, _not_evaluated
    ),
    "FileComplaint": Spec(
        SCOPED,
        _file_complaint,
        lambda w: _complaints(),
        _complaint_filed,
        lambda w, before: _complaints() == before or pytest.fail("filed"),
    ),  # fmt: skip
    "ListComplaints": Spec(SCOPED, _complaint_list, succeeded=_complaints_listed),
    "DecideComplaint": Spec(
        BY_ID,
        _decide,
        _open_complaint,
        lambda w, i, r: (
            _complaint_status(w, i) == pb.COMPLAINT_STATUS_DISMISSED
            or pytest.fail("not dismissed")
        ),
        lambda w, i: (
            _complaint_status(w, i) == pb.COMPLAINT_STATUS_OPEN
            or pytest.fail("not open")
        ),
    ),  # fmt: skip
    "UploadSeal": Spec(
        SCOPED,
        _upload_seal,
        lambda w: _seal_state(),
        lambda w, before, r: r.seal.division_code == OWNER or pytest.fail("seal"),
        lambda w, before: _seal_state() == before or pytest.fail("uploaded"),
    ),  # fmt: skip
    "GetSeal": Spec(
        SCOPED,
        _get_seal,
        succeeded=lambda w, _, r: r.image == _png() or pytest.fail("image"),
    ),
    "ListMyComplaints": Spec(OWN_ONLY, _own("ListMyComplaints")),
    "ReplyToComplaint": Spec(
        OWN_ONLY,
        _reply,
        unchanged=lambda w, _: (
            _complaint_status(w, w.extra["complaint"]) == pb.COMPLAINT_STATUS_OPEN
            or pytest.fail("replied")
        ),
    ),  # fmt: skip
}

SPECS = with_national(SPECS)
MATRIX = params(SPECS, CALLERS)


def test_every_rpc_is_in_the_matrix() -> None:
    assert rpc_names(pb, "HoursService") == set(SPECS)


@pytest.mark.parametrize(("rpc", "who"), MATRIX)
def test_isolation(w: World, rpc: str, who: str) -> None:
    # A NOT_FOUND refusal does not say where the entity lives.
    check_isolation(
        w, SPECS[rpc], rpc, who, caller=w.caller, not_revealed=(OWNER, TOWN)
    )


# -- beyond the matrix -------------------------------------------------------------


@pytest.mark.parametrize("rpc", sorted(set(SPECS) - {"VerifyCertificate"}))
def test_every_call_but_verify_needs_a_token(w: World, rpc: str) -> None:
    check_needs_a_token(w.hours, pb, rpc)


def test_verify_needs_no_token_and_reveals_only_the_certificates_face(w: World) -> None:
    got = w.hours.VerifyCertificate(pb.VerifyCertificateRequest(number=w.cert.number))
    assert got.status == pb.CERTIFICATE_STATUS_VALID and "*" in got.name_masked
    wire = got.SerializeToString()
    for secret in (w.vol.id, w.vol.volunteer_number, w.cert.id_number_masked, OWNER):
        assert secret.encode() not in wire


@pytest.mark.parametrize(
    "rpc", ["GetRecord", "GetVolunteerTotals", "GetTimeBankBalance"]
)
def test_another_tenants_entity_is_indistinguishable_from_a_missing_one(
    w: World, rpc: str
) -> None:
    real = w.record.id if rpc == "GetRecord" else w.vol.id
    missing = str(uuid.uuid4())
    field = "id" if rpc == "GetRecord" else "volunteer_id"
    md = auth(w.caller("sibling"))

    def call(ident: str) -> Any:
        request = getattr(pb, f"{rpc}Request")(**{field: ident})
        return getattr(w.hours, rpc)(request, metadata=md)

    check_indistinguishable(call, real, missing)


@pytest.mark.parametrize("who", ["owner", "province"])
def test_the_volunteer_and_reviewer_roles_cannot_review(w: World, who: str) -> None:
    rec = w.pending()
    for roles in (("volunteer",), ("reviewer",)):
        status, _ = outcome(lambda r=roles: _approve(w, rec, w.caller(who, r)))
        assert status == PD
    assert w.get(rec.id).record.status == pb.RECORD_STATUS_PENDING
    status, _ = outcome(lambda: _list(w, None, w.caller(who, ("volunteer",))))
    assert status == PD


def test_a_child_township_works_inside_its_own_subtree(w: World) -> None:
    child = w.caller("child")
    body = attendance(str(uuid.uuid4()), slot(60), 45, code=f"{CHILD}")
    publish(w.amqp_uri, "attendance.checked_out", body)
    rec = arrived(w.hours, child, body)
    assert approve(w.hours, child, rec.id).status == pb.RECORD_STATUS_APPROVED
    listed = records(w.hours, child)
    assert rec.id in {r.id for r in listed}
    assert all(r.division_code.startswith(CHILD) for r in listed)


@pytest.mark.parametrize("who", ["sibling", "child"])
def test_a_certificate_list_in_ones_own_scope_never_shows_the_owners(
    w: World, who: str
) -> None:
    """Without naming a division (their own scope), the sibling county and a
    township below the issuing county list none of its certificates, not
    even when they ask for its volunteer."""
    tok = w.caller(who)
    for vid in ("", w.vol.id):
        got = w.hours.ListCertificates(
            pb.ListCertificatesRequest(
                volunteer_id=vid, page=common.PageRequest(page_size=500)
            ),
            metadata=auth(tok),
        )
        assert w.cert.number not in {c.number for c in got.certificates}
        assert all(c.division_code.startswith(SCOPES[who]) for c in got.certificates)
    mine = w.hours.ListCertificates(
        pb.ListCertificatesRequest(volunteer_id=w.vol.id), metadata=auth(w.own)
    )
    assert w.cert.number in {c.number for c in mine.certificates}


def test_the_volunteer_role_cannot_list_certificates(w: World) -> None:
    status, _ = outcome(
        lambda: _certificate_list(w, None, w.caller("owner", ("volunteer",)))
    )
    assert status == PD


# -- honour hours' idempotency key (the CSV import's row key) -----------------


def test_an_honour_request_id_answers_the_first_record_and_never_crosses_tenants(
    w: World,
) -> None:
    key = f"import:{uuid.uuid4().hex[:16]}:1"
    target = _honour_target(w)

    def honour(tok: str, t: tuple[Any, Any], code: str, hours: float) -> Any:
        vol, start = t
        return w.hours.RecordHonourHours(
            pb.RecordHonourHoursRequest(
                volunteer_id=vol.id, division_code=code,
                organisation_name="补录单位", service_field="civilisation",
                content="文明交通劝导", session_start=start.isoformat(),
                session_end=(start + timedelta(hours=2)).isoformat(),
                hours=hours, reason="纸质台账补录", request_id=key,
            ),
            metadata=auth(tok),
        )  # fmt: skip

    first = honour(w.own, target, TOWN, 1.5)
    again = honour(w.own, target, TOWN, 2.0)  # a changed row, the same key
    assert first.created and not again.created
    assert again.record.id == first.record.id and again.record.hours == 1.5
    assert [r.id for r in records(w.hours, w.own, volunteer_id=target[0].id)] == [
        first.record.id
    ]
    # The sibling county using the same key records its own, unrelated entry.
    sibling = w.caller("sibling")
    theirs_target = (
        verified_volunteer(w.stub, sibling, home="610103002"),
        target[1],
    )
    theirs = honour(sibling, theirs_target, "610103002", 1.0)
    assert theirs.created and theirs.record.id != first.record.id
    assert theirs.record.volunteer_id == theirs_target[0].id


def test_an_honour_request_id_over_100_characters_is_refused(w: World) -> None:
    vol, start = _honour_target(w)
    status, err = outcome(
        lambda: w.hours.RecordHonourHours(
            pb.RecordHonourHoursRequest(
                volunteer_id=vol.id, division_code=TOWN, organisation_name="站",
                service_field="civilisation", content="劝导",
                session_start=start.isoformat(),
                session_end=(start + timedelta(hours=1)).isoformat(),
                hours=1.0, reason="补录", request_id="k" * 101,
            ),
            metadata=auth(w.own),
        )
    )  # fmt: skip
    assert status == grpc.StatusCode.INVALID_ARGUMENT
    assert error_details(err)["field"] == "request_id"
    assert records(w.hours, w.own, volunteer_id=vol.id) == []


# -- an org_leader acts for its own organisation only -------------------------------

ORG_A, ORG_B = str(uuid.uuid4()), str(uuid.uuid4())


def _leader(w: World, org: str = ORG_A) -> list[tuple[str, str]]:
    return auth(w.token(OWNER, "org_leader", username="yanta-leader-a", org=org))


def _denied(call: Callable[[], Any], field: str = "organisation_id") -> str:
    status, err = outcome(call)
    assert status == PD, status
    md = dict(err.trailing_metadata() or ())
    assert md.get("zhiyuan-field") == field
    assert md.get("zhiyuan-message-zh-bin", b"").decode().strip()
    assert "Traceback" not in err.details()
    return str(md.get("zhiyuan-rule"))


def _org_record(w: World, org: str, vol: Any = None) -> pb.HourRecord:
    ids = dict(volunteer_number=vol.volunteer_number) if vol else {}
    vid = vol.id if vol else str(uuid.uuid4())
    body = attendance(vid, slot(60), 75, code=TOWN, organisation_id=org, **ids)
    publish(w.amqp_uri, "attendance.checked_out", body)
    return arrived(w.hours, w.own, body)


def _honour_for(w: World, vol: Any, org: str, md: Any) -> Any:
    start = slot(60)
    return w.hours.RecordHonourHours(
        pb.RecordHonourHoursRequest(
            volunteer_id=vol.id,
            division_code=TOWN,
            organisation_id=org,
            organisation_name="大雁塔街道志愿服务站",
            service_field="civilisation",
            content="文明交通劝导",
            session_start=start.isoformat(),
            session_end=(start + timedelta(hours=2)).isoformat(),
            hours=1.5,
            reason="补录",
        ),
        metadata=md,
    )


def test_org_leader_records_honour_hours_for_its_own_organisation_only(
    w: World,
) -> None:
    vol = verified_volunteer(w.stub, w.own, home=TOWN)
    # Honour hours name a registered organisation the caller may see.
    org = w.stub.CreateOrganisation(
        rpb.CreateOrganisationRequest(
            name=f"大雁塔街道志愿服务站-{uuid.uuid4().hex[:6]}",
            kind=rpb.ORGANISATION_KIND_ORGANISATION,
            division_code=OWNER,
        ),
        metadata=auth(w.own),
    ).organisation
    md = _leader(w, org.id)
    for other in (ORG_B, ""):
        assert _denied(lambda o=other: _honour_for(w, vol, o, md)) == (
            "organisation.own"
        )
    assert records(w.hours, w.own, volunteer_id=vol.id) == []
    got = _honour_for(w, vol, org.id, md).record
    assert got.organisation_id == org.id


def test_org_leader_reviews_and_corrects_only_its_organisations_records(
    w: World,
) -> None:
    md = _leader(w)
    theirs = _org_record(w, ORG_B)
    for call in (
        lambda: w.hours.ApproveRecord(
            pb.ApproveRecordRequest(id=theirs.id), metadata=md
        ),
        lambda: w.hours.RejectRecord(
            pb.RejectRecordRequest(id=theirs.id, reason="不实"), metadata=md
        ),
    ):
        assert _denied(call) == "organisation.own"
    assert w.get(theirs.id).record.status == pb.RECORD_STATUS_PENDING
    approve(w.hours, w.own, theirs.id)
    before = w.get(theirs.id).effective_hours
    assert (
        _denied(
            lambda: w.hours.CorrectRecord(
                pb.CorrectRecordRequest(record_id=theirs.id, reverse=True, reason="错"),
                metadata=md,
            )
        )
        == "organisation.own"
    )
    assert w.get(theirs.id).effective_hours == before
    assert w.get(theirs.id).record.status == pb.RECORD_STATUS_APPROVED
    mine = _org_record(w, ORG_A)
    got = w.hours.ApproveRecord(pb.ApproveRecordRequest(id=mine.id), metadata=md)
    assert got.record.status == pb.RECORD_STATUS_APPROVED


def test_org_leader_certifies_only_its_organisations_hours(w: World) -> None:
    md = _leader(w)
    vol = verified_volunteer(w.stub, w.own, home=TOWN)
    for org in (ORG_A, ORG_B):
        approve(w.hours, w.own, _org_record(w, org, vol).id)
    count = "SELECT count(*) FROM certificates WHERE volunteer_id = :v"

    def issue(org: str) -> pb.Certificate:
        return w.hours.IssueCertificate(
            pb.IssueCertificateRequest(
                volunteer_id=vol.id,
                organisation_id=org,
                issuer_name="大雁塔街道志愿服务站",
                person_in_charge="王建国",
                contact="029-88886666",
            ),
            metadata=md,
        ).certificate

    assert _denied(lambda: issue(ORG_B)) == "organisation.own"
    assert db_count(count, v=vol.id) == 0
    # No organisation named: its own organisation's hours, never the others'.
    cert = issue("")
    assert cert.hours == 1.25
    assert db_count(count, v=vol.id) == 1
    assert (
        _denied(
            lambda: w.hours.RevokeCertificate(
                pb.RevokeCertificateRequest(number=w.cert.number, reason="不是我的"),
                metadata=md,
            )
        )
        == "organisation.own"
    )


def test_org_leader_token_without_organisation_is_refused(w: World) -> None:
    vol = verified_volunteer(w.stub, w.own, home=TOWN)
    unbound = auth(w.token(OWNER, "org_leader", username="yanta-leader-unbound"))
    assert _denied(lambda: _honour_for(w, vol, ORG_A, unbound)) == (
        "organisation.bound"
    )
    assert records(w.hours, w.own, volunteer_id=vol.id) == []
    mine = _org_record(w, ORG_A)
    assert (
        _denied(
            lambda: w.hours.ApproveRecord(
                pb.ApproveRecordRequest(id=mine.id), metadata=unbound
            )
        )
        == "organisation.bound"
    )
    assert w.get(mine.id).record.status == pb.RECORD_STATUS_PENDING


# -- totals: only for a volunteer the caller may see --------------------------------


def _totals_of(w: World, vid: str, tok: str) -> Any:
    return w.hours.GetVolunteerTotals(
        pb.GetVolunteerTotalsRequest(volunteer_id=vid), metadata=auth(tok)
    )


def test_totals_of_a_volunteer_living_elsewhere_are_not_found(w: World) -> None:
    # A Beilin resident served in Yanta (hours the province recorded there,
    # approved by Yanta) and at home (recorded and approved by Beilin).
    home = w.caller("sibling")
    vol = verified_volunteer(w.stub, home, home="610103002")

    def honour(code: str, hours: float, tok: str) -> pb.HourRecord:
        start = slot(60)
        return w.hours.RecordHonourHours(
            pb.RecordHonourHoursRequest(
                volunteer_id=vol.id, division_code=code,
                organisation_name="志愿者协会", service_field="elderly_care",
                content="敬老院陪护", session_start=start.isoformat(),
                session_end=(start + timedelta(hours=2)).isoformat(),
                hours=hours, reason="补录",
            ),
            metadata=auth(tok),
        ).record  # fmt: skip

    here = approve(w.hours, w.own, honour(TOWN, 1.5, w.caller("province")).id)
    approve(w.hours, home, honour("610103002", 1.0, home).id)
    # Yanta lists the record it holds, but the volunteer's totals (and the
    # hours Beilin recorded) are refused exactly like an unknown id's.
    assert [r.id for r in records(w.hours, w.own, volunteer_id=vol.id)] == [here.id]
    check_indistinguishable(
        lambda ident: _totals_of(w, ident, w.own), vol.id, str(uuid.uuid4())
    )
    # The home tenant: its own records, and the platform total.
    got = _totals_of(w, vol.id, home)
    assert (got.approved_hours, got.approved_records) == (1.0, 1)
    assert got.platform_total_hours == 2.5
    assert got.volunteer_number == vol.volunteer_number
    # The city above both sees both records.
    city = _totals_of(w, vol.id, w.caller("city"))
    assert (city.approved_hours, city.platform_total_hours) == (2.5, 2.5)


def test_totals_of_own_volunteer_without_hours_are_zero(w: World) -> None:
    vol = verified_volunteer(w.stub, w.own, home=TOWN)
    got = _totals_of(w, vol.id, w.own)
    assert got.volunteer_number == vol.volunteer_number
    assert (got.approved_hours, got.approved_records) == (0, 0)
    assert got.platform_total_hours == 0
