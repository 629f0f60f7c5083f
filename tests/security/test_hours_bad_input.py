"""Bad input to every HoursService field, on the real api role:
INVALID_ARGUMENT naming the field (``zhiyuan-field``) and the rule
(``zhiyuan-rule``), no stack trace, and nothing written by the rejected
request."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from PIL import Image
from sqlalchemy import create_engine, text
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.hours.v1 import hours_pb2 as pb

from services.common.testing import wait_for
from tests.helpers import assert_field, auth, rejected
from tests.integration.test_hours_flow import (
    approve,
    arrived,
    attendance,
    pin_policy,
    publish,
    records,
    slot,
    verified_volunteer,
)
from tests.integration.test_hours_self_service import volunteer_token

pytestmark = pytest.mark.integration
COUNTY, TOWN = "610113", "610113004"
INVALID = grpc.StatusCode.INVALID_ARGUMENT
UUID = str(uuid.uuid4())
LONG = "长" * 501
# Called with the volunteer's own token (role volunteer, claim vol).
OWN = {
    "ListMyRecords",
    "GetMyTotals",
    "FileObjection",
    "ListMyObjections",
    "RequestMyCertificate",
    "ListMyCertificates",
    "GetMyCertificatePdf",
    "ListMyComplaints",
    "ReplyToComplaint",
}
LONGER = "长" * 1001


def count(sql: str) -> int:
    engine = create_engine(os.environ["HOURS_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar_one())
    finally:
        engine.dispose()


class World:
    def __init__(self, hours: Any, stub: Any, token: Any, amqp_uri: str):
        self.hours, self.tok, self.amqp_uri = hours, token(COUNTY), amqp_uri
        pin_policy(stub, hours, self.tok, TOWN)
        self.vol = verified_volunteer(stub, self.tok, home=TOWN)
        self.pending = self._record()
        self.approved = approve(hours, self.tok, self._record(self.vol).id)
        wait_for(lambda: self.balance() == 1.5, timeout=30, what="the deposit")
        self.cert = hours.IssueCertificate(
            pb.IssueCertificateRequest(
                volunteer_id=self.vol.id,
                issuer_name="电子城街道志愿服务站",
                person_in_charge="赵站长",
                contact="029-88880000",
            ),
            metadata=auth(self.tok),
        ).certificate
        self.me = volunteer_token(self.vol, TOWN)
        self.objection = self.call(
            "FileObjection", record_id=self.approved.id, reason="时长少计了半小时"
        ).objection
        self.complaint = self.call(
            "FileComplaint", volunteer_id=self.vol.id, text="服务态度差"
        ).complaint

    def _record(self, vol: Any = None) -> pb.HourRecord:
        vid = vol.id if vol else str(uuid.uuid4())
        body = attendance(vid, slot(90), 90, code=TOWN)
        publish(self.amqp_uri, "attendance.checked_out", body)
        return arrived(self.hours, self.tok, body)

    def call(self, rpc: str, **fields: Any) -> Any:
        request = getattr(pb, f"{rpc}Request")(**fields)
        tok = self.me if rpc in OWN else self.tok
        return getattr(self.hours, rpc)(request, metadata=auth(tok))

    def balance(self) -> float:
        got = self.call("GetTimeBankBalance", volunteer_id=self.vol.id)
        return got.total_hours

    def snapshot(self) -> tuple[Any, ...]:
        """Everything a rejected request could have touched."""
        pending = self.call("GetRecord", id=self.pending.id)
        approved = self.call("GetRecord", id=self.approved.id)
        return (
            pending.record.status,
            len(approved.corrections),
            approved.effective_hours,
            len(records(self.hours, self.tok, volunteer_id=self.vol.id)),
            self.balance(),
            count("SELECT count(*) FROM certificates"),
            count("SELECT count(*) FROM timebank_transactions"),
            self.call("VerifyCertificate", number=self.cert.number).status,
            count("SELECT count(*) FROM hour_objections"),
            count("SELECT count(*) FROM hour_objections WHERE status = 'open'"),
            count("SELECT count(*) FROM hour_evaluations"),
            count("SELECT count(*) FROM hour_complaints"),
            count("SELECT count(*) FROM hour_complaints WHERE status = 'open'"),
            count("SELECT count(*) FROM certificate_seals"),
        )


@pytest.fixture(scope="module")
def w(stubs, stub, token, worker, amqp_uri) -> World:  # type: ignore[no-untyped-def]
    return World(stubs("hours"), stub, token, amqp_uri)


START = datetime(2025, 1, 6, 1, 0, tzinfo=UTC)
END = START + timedelta(hours=2)


def honour(w: World, **over: Any) -> dict[str, Any]:
    base = dict(
        volunteer_id=w.vol.id,
        division_code=TOWN,
        organisation_id="",
        organisation_name="电子城街道志愿服务站",
        service_field="civilisation",
        content="文明交通劝导",
        session_start=START.isoformat(),
        session_end=END.isoformat(),
        hours=1.5,
        reason="补录",
    )
    return {**base, **over}


def future() -> str:
    return (datetime.now(UTC) + timedelta(hours=2)).isoformat()


P = pytest.param
# (rpc, fields(w) -> request fields, field, rule)
CASES = [
    P(
        "RecordHonourHours",
        lambda w: honour(w, volunteer_id=""),
        "volunteer_id",
        "volunteer_id.required",
        id="honour-volunteer-empty",
    ),
    P(
        "RecordHonourHours",
        lambda w: honour(w, volunteer_id="V1"),
        "volunteer_id",
        "volunteer_id.format",
        id="honour-volunteer-not-uuid",
    ),
    P(
        "RecordHonourHours",
        lambda w: honour(w, division_code="61011"),
        "division_code",
        "division_code.width",
        id="honour-division-width",
    ),
    P(
        "RecordHonourHours",
        lambda w: honour(w, division_code="六一"),
        "division_code",
        "division_code.format",
        id="honour-division-letters",
    ),
    P(
        "RecordHonourHours",
        lambda w: honour(w, division_code=""),
        "division_code",
        "division_code.required",
        id="honour-division-empty",
    ),
    P(
        "RecordHonourHours",
        lambda w: honour(w, organisation_id="org-1"),
        "organisation_id",
        "organisation_id.format",
        id="honour-org-id",
    ),
    P(
        "RecordHonourHours",
        lambda w: honour(w, organisation_name=" "),
        "organisation_name",
        "organisation_name.required",
        id="honour-org-name-blank",
    ),
    P(
        "RecordHonourHours",
        lambda w: honour(w, organisation_name="组" * 201),
        "organisation_name",
        "organisation_name.max_length",
        id="honour-org-name-long",
    ),
    P(
        "RecordHonourHours",
        lambda w: honour(w, request_id="k" * 101),
        "request_id",
        "request_id.max_length",
        id="honour-request-id-too-long",
    ),
    P(
        "RecordHonourHours",
        lambda w: honour(w, position_id="站点-1"),
        "position_id",
        "position_id.format",
        id="honour-position-id-not-uuid",
    ),
    P(
        "RecordHonourHours",
        lambda w: honour(w, service_field="knitting"),
        "service_field",
        "service_field.known",
        id="honour-field-unknown",
    ),
    P(
        "RecordHonourHours",
        lambda w: honour(w, service_field=""),
        "service_field",
        "service_field.required",
        id="honour-field-empty",
    ),
    P(
        "RecordHonourHours",
        lambda w: honour(w, content=""),
        "content",
        "content.required",
        id="honour-content-empty",
    ),
    P(
        "RecordHonourHours",
        lambda w: honour(w, content="内" * 201),
        "content",
        "content.max_length",
        id="honour-content-long",
    ),
    P(
        "RecordHonourHours",
        lambda w: honour(w, session_start=""),
        "session_start",
        "session_start.required",
        id="honour-start-empty",
    ),
    P(
        "RecordHonourHours",
        lambda w: honour(w, session_start="2025-01-06 09:00"),
        "session_start",
        "session_start.format",
        id="honour-start-no-offset",
    ),
    P(
        "RecordHonourHours",
        lambda w: honour(w, session_start="yesterday"),
        "session_start",
        "session_start.format",
        id="honour-start-garbage",
    ),
    P(
        "RecordHonourHours",
        lambda w: honour(w, session_end="2025-13-01T00:00:00Z"),
        "session_end",
        "session_end.format",
        id="honour-end-month-13",
    ),
    P(
        "RecordHonourHours",
        lambda w: honour(w, session_end=START.isoformat()),
        "session_end",
        "session_end.after_start",
        id="honour-end-equals-start",
    ),
    P(
        "RecordHonourHours",
        lambda w: honour(w, session_end=(START + timedelta(hours=25)).isoformat()),
        "session_end",
        "session_end.max_duration",
        id="honour-end-25h",
    ),
    P(
        "RecordHonourHours",
        lambda w: honour(
            w, session_start=datetime.now(UTC).isoformat(), session_end=future()
        ),
        "session_end",
        "session_end.past",
        id="honour-end-future",
    ),
    P(
        "RecordHonourHours",
        lambda w: honour(w, hours=0),
        "hours",
        "hours.positive",
        id="honour-hours-zero",
    ),
    P(
        "RecordHonourHours",
        lambda w: honour(w, hours=-1),
        "hours",
        "hours.positive",
        id="honour-hours-negative",
    ),
    P(
        "RecordHonourHours",
        lambda w: honour(w, hours=float("nan")),
        "hours",
        "hours.positive",
        id="honour-hours-nan",
    ),
    P(
        "RecordHonourHours",
        lambda w: honour(w, hours=float("inf")),
        "hours",
        "hours.positive",
        id="honour-hours-inf",
    ),
    P(
        "RecordHonourHours",
        lambda w: honour(w, hours=0.001),
        "hours",
        "hours.positive",
        id="honour-hours-below-cent",
    ),
    P(
        "RecordHonourHours",
        lambda w: honour(w, hours=2.01),
        "hours",
        "hours.max",
        id="honour-hours-beyond-session",
    ),
    P(
        "RecordHonourHours",
        lambda w: honour(w, reason=""),
        "reason",
        "reason.required",
        id="honour-reason-empty",
    ),
    P(
        "RecordHonourHours",
        lambda w: honour(w, reason=LONG),
        "reason",
        "reason.max_length",
        id="honour-reason-long",
    ),
    P(
        "ListRecords",
        lambda w: dict(division_code="6101130"),
        "division_code",
        "division_code.width",
        id="list-division",
    ),
    P(
        "ListRecords",
        lambda w: dict(volunteer_id="x"),
        "volunteer_id",
        "volunteer_id.format",
        id="list-volunteer",
    ),
    P(
        "ListRecords",
        lambda w: dict(status=99),
        "status",
        "status.known",
        id="list-status",
    ),
    P(
        "ListRecords",
        lambda w: dict(page=common.PageRequest(page_token="!!")),
        "page.page_token",
        "page.token",
        id="list-page-token",
    ),
    P(
        "ListRecords",
        lambda w: dict(page=common.PageRequest(page_token="LTE=")),
        "page.page_token",
        "page.token",
        id="list-page-token-negative",
    ),
    P("GetRecord", lambda w: dict(id=""), "id", "id.required", id="get-id-empty"),
    P(
        "GetRecord",
        lambda w: dict(id="1 OR 1=1"),
        "id",
        "id.format",
        id="get-id-injection",
    ),
    P("ApproveRecord", lambda w: dict(id="R1"), "id", "id.format", id="approve-id"),
    P(
        "RejectRecord",
        lambda w: dict(id="R1", reason="x"),
        "id",
        "id.format",
        id="reject-id",
    ),
    P(
        "RejectRecord",
        lambda w: dict(id=w.pending.id, reason=""),
        "reason",
        "reason.required",
        id="reject-reason-empty",
    ),
    P(
        "RejectRecord",
        lambda w: dict(id=w.pending.id, reason=LONG),
        "reason",
        "reason.max_length",
        id="reject-reason-long",
    ),
    P(
        "CorrectRecord",
        lambda w: dict(record_id="", new_hours=1, reason="x"),
        "record_id",
        "record_id.required",
        id="correct-record-empty",
    ),
    P(
        "CorrectRecord",
        lambda w: dict(record_id=w.approved.id, reason="x"),
        "new_hours",
        "change.required",
        id="correct-no-change",
    ),
    P(
        "CorrectRecord",
        lambda w: dict(record_id=w.approved.id, reverse=False, reason="x"),
        "new_hours",
        "change.required",
        id="correct-reverse-false",
    ),
    P(
        "CorrectRecord",
        lambda w: dict(record_id=w.approved.id, new_hours=0, reason="x"),
        "new_hours",
        "new_hours.positive",
        id="correct-hours-zero",
    ),
    P(
        "CorrectRecord",
        lambda w: dict(record_id=w.approved.id, new_hours=float("nan"), reason="x"),
        "new_hours",
        "new_hours.positive",
        id="correct-hours-nan",
    ),
    P(
        "CorrectRecord",
        lambda w: dict(record_id=w.approved.id, new_hours=1.51, reason="x"),
        "new_hours",
        "new_hours.max",
        id="correct-hours-beyond-service",
    ),
    P(
        "CorrectRecord",
        lambda w: dict(record_id=w.approved.id, new_hours=1.5, reason="x"),
        "new_hours",
        "new_hours.unchanged",
        id="correct-hours-unchanged",
    ),
    P(
        "CorrectRecord",
        lambda w: dict(record_id=w.approved.id, new_hours=1, reason=""),
        "reason",
        "reason.required",
        id="correct-reason-empty",
    ),
    P(
        "CorrectRecord",
        lambda w: dict(record_id=w.approved.id, reverse=True, reason=LONG),
        "reason",
        "reason.max_length",
        id="correct-reason-long",
    ),
    P(
        "GetVolunteerTotals",
        lambda w: dict(volunteer_id=""),
        "volunteer_id",
        "volunteer_id.required",
        id="totals-volunteer",
    ),
    P(
        "GetVolunteerTotals",
        lambda w: dict(volunteer_id=w.vol.id, division_code="6x"),
        "division_code",
        "division_code.format",
        id="totals-division",
    ),
    P(
        "GetHourPolicy",
        lambda w: dict(division_code="610"),
        "division_code",
        "division_code.width",
        id="policy-division",
    ),
    P(
        "Summarize",
        lambda w: dict(query=common.RollupQuery(division_code="6101131")),
        "query.division_code",
        "division_code.width",
        id="summarize-division",
    ),
    P(
        "Summarize",
        lambda w: dict(
            query=common.RollupQuery(
                division_code=COUNTY, group_by=common.DIVISION_LEVEL_CITY
            )
        ),
        "query.group_by",
        "group_by.below_node",
        id="summarize-group-above",
    ),
    P(
        "Summarize",
        lambda w: dict(query=common.RollupQuery(division_code=COUNTY, group_by=42)),
        "query.group_by",
        "query.group_by.known",
        id="summarize-group-unknown",
    ),
    P(
        "Summarize",
        lambda w: dict(
            query=common.RollupQuery(
                division_code=COUNTY, period=common.Period(start_month="2026-13")
            )
        ),
        "query.period.start_month",
        "period.month_format",
        id="summarize-month",
    ),
    P(
        "Summarize",
        lambda w: dict(
            query=common.RollupQuery(
                division_code=COUNTY,
                period=common.Period(start_month="2026-05", end_month="2026-04"),
            )
        ),
        "query.period.end_month",
        "period.order",
        id="summarize-period-order",
    ),
    P(
        "SummarizeFederated",
        lambda w: dict(query=common.RollupQuery(division_code="6101131")),
        "query.division_code",
        "division_code.width",
        id="federated-division",
    ),
    P(
        "SummarizeFederated",
        lambda w: dict(
            query=common.RollupQuery(
                division_code=COUNTY, group_by=common.DIVISION_LEVEL_CITY
            )
        ),
        "query.group_by",
        "group_by.below_node",
        id="federated-group-above",
    ),
    P(
        "SummarizeFederated",
        lambda w: dict(
            query=common.RollupQuery(
                division_code=COUNTY,
                period=common.Period(start_month="2026-03", end_month="2026-05"),
            )
        ),
        "query.period",
        "period.stored",
        id="federated-period-not-stored",
    ),
    P(
        "SummarizeFederated",
        lambda w: dict(query=common.RollupQuery(division_code=COUNTY, by_month=True)),
        "query.period",
        "period.stored",
        id="federated-by-month",
    ),
    P(
        "IssueCertificate",
        lambda w: cert(w, volunteer_id="v"),
        "volunteer_id",
        "volunteer_id.format",
        id="issue-volunteer",
    ),
    P(
        "IssueCertificate",
        lambda w: cert(w, period=common.Period(start_month="2026-1")),
        "period.start_month",
        "period.month_format",
        id="issue-period-start",
    ),
    P(
        "IssueCertificate",
        lambda w: cert(w, period=common.Period(end_month="26-01")),
        "period.end_month",
        "period.month_format",
        id="issue-period-end",
    ),
    P(
        "IssueCertificate",
        lambda w: cert(w, division_code="61011300"),
        "division_code",
        "division_code.width",
        id="issue-division",
    ),
    P(
        "IssueCertificate",
        lambda w: cert(w, organisation_id="o"),
        "organisation_id",
        "organisation_id.format",
        id="issue-organisation",
    ),
    P(
        "IssueCertificate",
        lambda w: cert(w, issuer_name=""),
        "issuer_name",
        "issuer_name.required",
        id="issue-issuer-empty",
    ),
    P(
        "IssueCertificate",
        lambda w: cert(w, issuer_name="单" * 201),
        "issuer_name",
        "issuer_name.max_length",
        id="issue-issuer-long",
    ),
    P(
        "IssueCertificate",
        lambda w: cert(w, person_in_charge=""),
        "person_in_charge",
        "person_in_charge.required",
        id="issue-person-empty",
    ),
    P(
        "IssueCertificate",
        lambda w: cert(w, person_in_charge="人" * 51),
        "person_in_charge",
        "person_in_charge.max_length",
        id="issue-person-long",
    ),
    P(
        "IssueCertificate",
        lambda w: cert(w, handler="经" * 51),
        "handler",
        "handler.max_length",
        id="issue-handler-long",
    ),
    P(
        "IssueCertificate",
        lambda w: cert(w, contact=""),
        "contact",
        "contact.required",
        id="issue-contact-empty",
    ),
    P(
        "IssueCertificate",
        lambda w: cert(w, contact="1" * 101),
        "contact",
        "contact.max_length",
        id="issue-contact-long",
    ),
    P(
        "GetCertificatePdf",
        lambda w: dict(number=""),
        "number",
        "number.required",
        id="pdf-number-empty",
    ),
    P(
        "GetCertificatePdf",
        lambda w: dict(number="ZYC-61-2026-1"),
        "number",
        "number.format",
        id="pdf-number-format",
    ),
    P(
        "RevokeCertificate",
        lambda w: dict(number="ZYC-61-2026-000001-0000", reason="x"),
        "number",
        "number.format",
        id="revoke-number-format",
    ),
    P(
        "RevokeCertificate",
        lambda w: dict(number=w.cert.number, reason=""),
        "reason",
        "reason.required",
        id="revoke-reason",
    ),
    P(
        "VerifyCertificate",
        lambda w: dict(number="ZYC-61-2026-000001-K7Q"),
        "number",
        "number.format",
        id="verify-number-short",
    ),
    P(
        "VerifyCertificate",
        lambda w: dict(number="x" * 41),
        "number",
        "number.max_length",
        id="verify-number-long",
    ),
    P(
        "ListCertificates",
        lambda w: dict(volunteer_id="not-a-volunteer"),
        "volunteer_id",
        "volunteer_id.format",
        id="certificates-volunteer",
    ),
    P(
        "ListCertificates",
        lambda w: dict(division_code="6101131"),
        "division_code",
        "division_code.width",
        id="certificates-division-width",
    ),
    P(
        "ListCertificates",
        lambda w: dict(division_code="61O113"),
        "division_code",
        "division_code.format",
        id="certificates-division-letters",
    ),
    P(
        "ListCertificates",
        lambda w: dict(status=7),
        "status",
        "status.known",
        id="certificates-status",
    ),
    P(
        "ListCertificates",
        lambda w: dict(page=common.PageRequest(page_token="!!")),
        "page.page_token",
        "page.token",
        id="certificates-page-token",
    ),
    P(
        "ListCertificates",
        lambda w: dict(page=common.PageRequest(page_token="LTE=")),
        "page.page_token",
        "page.token",
        id="certificates-page-token-negative",
    ),
    P(
        "GetTimeBankBalance",
        lambda w: dict(volunteer_id="v"),
        "volunteer_id",
        "volunteer_id.format",
        id="balance-volunteer",
    ),
    P(
        "GetTimeBankBalance",
        lambda w: dict(volunteer_id=w.vol.id, division_code="0"),
        "division_code",
        "division_code.width",
        id="balance-division",
    ),
    P(
        "WithdrawTimeBank",
        lambda w: withdraw(w, volunteer_id=""),
        "volunteer_id",
        "volunteer_id.required",
        id="withdraw-volunteer",
    ),
    P(
        "WithdrawTimeBank",
        lambda w: withdraw(w, division_code=""),
        "division_code",
        "division_code.required",
        id="withdraw-division",
    ),
    P(
        "WithdrawTimeBank",
        lambda w: withdraw(w, hours=0),
        "hours",
        "hours.positive",
        id="withdraw-hours-zero",
    ),
    P(
        "WithdrawTimeBank",
        lambda w: withdraw(w, hours=-0.5),
        "hours",
        "hours.positive",
        id="withdraw-hours-negative",
    ),
    P(
        "WithdrawTimeBank",
        lambda w: withdraw(w, hours=float("-inf")),
        "hours",
        "hours.positive",
        id="withdraw-hours-inf",
    ),
    P(
        "WithdrawTimeBank",
        lambda w: withdraw(w, hours=10000.01),
        "hours",
        "hours.max",
        id="withdraw-hours-huge",
    ),
    P(
        "WithdrawTimeBank",
        lambda w: withdraw(w, service=""),
        "service",
        "service.required",
        id="withdraw-service-empty",
    ),
    P(
        "WithdrawTimeBank",
        lambda w: withdraw(w, service="服" * 201),
        "service",
        "service.max_length",
        id="withdraw-service-long",
    ),
    P(
        "WithdrawTimeBank",
        lambda w: withdraw(w, request_id="r" * 65),
        "request_id",
        "request_id.max_length",
        id="withdraw-request-id",
    ),
    P(
        "ListTimeBankTransactions",
        lambda w: dict(volunteer_id="v"),
        "volunteer_id",
        "volunteer_id.format",
        id="statement-volunteer",
    ),
    P(
        "ListTimeBankTransactions",
        lambda w: dict(volunteer_id=w.vol.id, division_code="a"),
        "division_code",
        "division_code.format",
        id="statement-division",
    ),
    P(
        "ListTimeBankTransactions",
        lambda w: dict(
            volunteer_id=w.vol.id, page=common.PageRequest(page_token="abc")
        ),
        "page.page_token",
        "page.token",
        id="statement-page",
    ),
]


CASES += [
    P(
        "ListMyRecords",
        lambda w: dict(status=99),
        "status",
        "status.known",
        id="my-records-status",
    ),
    P(
        "ListMyRecords",
        lambda w: dict(page=common.PageRequest(page_token="!!")),
        "page.page_token",
        "page.token",
        id="my-records-page",
    ),
    P(
        "FileObjection",
        lambda w: dict(record_id="r-1", reason="少计"),
        "record_id",
        "record_id.format",
        id="objection-record-id",
    ),
    P(
        "FileObjection",
        lambda w: dict(record_id=w.pending.id, reason=" "),
        "reason",
        "reason.required",
        id="objection-reason-blank",
    ),
    P(
        "FileObjection",
        lambda w: dict(record_id=w.pending.id, reason=LONG),
        "reason",
        "reason.max_length",
        id="objection-reason-long",
    ),
    P(
        "FileObjection",
        lambda w: dict(record_id=w.pending.id, reason="少\x00计"),
        "reason",
        "reason.characters",
        id="objection-reason-nul",
    ),
    P(
        "ListMyObjections",
        lambda w: dict(status=9),
        "status",
        "status.known",
        id="my-objections-status",
    ),
    P(
        "ListObjections",
        lambda w: dict(division_code="6101130"),
        "division_code",
        "division_code.width",
        id="objections-division",
    ),
    P(
        "ListObjections",
        lambda w: dict(status=7),
        "status",
        "status.known",
        id="objections-status",
    ),
    P(
        "ListObjections",
        lambda w: dict(page=common.PageRequest(page_token="LTE=")),
        "page.page_token",
        "page.token",
        id="objections-page",
    ),
    P(
        "ResolveObjection",
        lambda w: dict(id="o-1", outcome="dismissed", note="x"),
        "id",
        "id.format",
        id="resolve-id",
    ),
    P(
        "ResolveObjection",
        lambda w: dict(id=w.objection.id, outcome="maybe", note="x"),
        "outcome",
        "outcome.choice",
        id="resolve-outcome",
    ),
    P(
        "ResolveObjection",
        lambda w: dict(id=w.objection.id, outcome="dismissed", note=""),
        "note",
        "note.required",
        id="resolve-note-empty",
    ),
    P(
        "ResolveObjection",
        lambda w: dict(id=w.objection.id, outcome="dismissed", note=LONG),
        "note",
        "note.max_length",
        id="resolve-note-long",
    ),
    P(
        "ResolveObjection",
        lambda w: dict(id=w.objection.id, outcome="corrected", note="x", new_hours=-1),
        "new_hours",
        "new_hours.positive",
        id="resolve-new-hours",
    ),
    P(
        "ResolveObjection",
        lambda w: dict(id=w.objection.id, outcome="dismissed", note="x", reverse=True),
        "reverse",
        "change.corrected_only",
        id="resolve-dismissed-with-change",
    ),
    P(
        "RequestMyCertificate",
        lambda w: dict(period_start="2026-13"),
        "period_start",
        "period.month_format",
        id="my-certificate-start",
    ),
    P(
        "RequestMyCertificate",
        lambda w: dict(period_start="2026-05", period_end="2026-04"),
        "period_end",
        "period.order",
        id="my-certificate-order",
    ),
    P(
        "GetMyCertificatePdf",
        lambda w: dict(number="ZYC-61"),
        "number",
        "number.format",
        id="my-certificate-pdf-number",
    ),
]


def rate(w: World, **over: Any) -> dict[str, Any]:
    return {**dict(record_id=w.approved.id, score="4", comment="认真"), **over}


def complain(w: World, **over: Any) -> dict[str, Any]:
    return {**dict(volunteer_id=w.vol.id, text="迟到半小时"), **over}


def decide(w: World, **over: Any) -> dict[str, Any]:
    return {**dict(id=w.complaint.id, outcome="upheld", note="属实"), **over}


def answer(w: World, **over: Any) -> dict[str, Any]:
    return {**dict(id=w.complaint.id, reply="当天堵车"), **over}


# Evaluations and complaints (issue 14): each field, with a bare CR, NUL,
# full-width digits and lengths one past the bound.
# fmt: off
CASES += [
    P("EvaluateRecord", lambda w: rate(w, record_id=""), "record_id", "record_id.required", id="rate-record-empty"),  # noqa: E501
    P("EvaluateRecord", lambda w: rate(w, record_id="r-1"), "record_id", "record_id.format", id="rate-record-format"),  # noqa: E501
    P("EvaluateRecord", lambda w: rate(w, score=""), "score", "score.required", id="rate-score-empty"),  # noqa: E501
    P("EvaluateRecord", lambda w: rate(w, score="0"), "score", "score.range", id="rate-score-zero"),  # noqa: E501
    P("EvaluateRecord", lambda w: rate(w, score="6"), "score", "score.range", id="rate-score-six"),  # noqa: E501
    P("EvaluateRecord", lambda w: rate(w, score="５"), "score", "score.range", id="rate-score-full-width"),  # noqa: E501
    P("EvaluateRecord", lambda w: rate(w, score="4.5"), "score", "score.range", id="rate-score-fraction"),  # noqa: E501
    P("EvaluateRecord", lambda w: rate(w, score="优"), "score", "score.range", id="rate-score-word"),  # noqa: E501
    P("EvaluateRecord", lambda w: rate(w, comment=" "), "comment", "comment.required", id="rate-comment-blank"),  # noqa: E501
    P("EvaluateRecord", lambda w: rate(w, comment=LONG), "comment", "comment.max_length", id="rate-comment-long"),  # noqa: E501
    P("EvaluateRecord", lambda w: rate(w, comment="认真\r负责"), "comment", "comment.characters", id="rate-comment-bare-cr"),  # noqa: E501
    P("EvaluateRecord", lambda w: rate(w, comment="认\x00真"), "comment", "comment.characters", id="rate-comment-nul"),  # noqa: E501
    P("FileComplaint", lambda w: complain(w, division_code="6101130"), "division_code", "division_code.width", id="complain-division"),  # noqa: E501
    P("FileComplaint", lambda w: complain(w, volunteer_id=""), "volunteer_id", "volunteer_id.required", id="complain-volunteer-empty"),  # noqa: E501
    P("FileComplaint", lambda w: complain(w, volunteer_id="V1"), "volunteer_id", "volunteer_id.format", id="complain-volunteer-format"),  # noqa: E501
    P("FileComplaint", lambda w: complain(w, record_id="r-1"), "record_id", "record_id.format", id="complain-record-format"),  # noqa: E501
    P("FileComplaint", lambda w: complain(w, record_id=w.pending.id), "record_id", "record_id.volunteer", id="complain-record-of-another"),  # noqa: E501
    P("FileComplaint", lambda w: complain(w, text=""), "text", "text.required", id="complain-text-empty"),  # noqa: E501
    P("FileComplaint", lambda w: complain(w, text=LONGER), "text", "text.max_length", id="complain-text-long"),  # noqa: E501
    P("FileComplaint", lambda w: complain(w, text="迟到\r早退"), "text", "text.characters", id="complain-text-bare-cr"),  # noqa: E501
    P("ListComplaints", lambda w: dict(division_code="61011"), "division_code", "division_code.width", id="complaints-division"),  # noqa: E501
    P("ListComplaints", lambda w: dict(status=9), "status", "status.known", id="complaints-status"),  # noqa: E501
    P("ListComplaints", lambda w: dict(volunteer_id="V1"), "volunteer_id", "volunteer_id.format", id="complaints-volunteer"),  # noqa: E501
    P("ListComplaints", lambda w: dict(page=common.PageRequest(page_token="LTE=")), "page.page_token", "page.token", id="complaints-page"),  # noqa: E501
    P("DecideComplaint", lambda w: decide(w, id="c-1"), "id", "id.format", id="decide-id"),  # noqa: E501
    P("DecideComplaint", lambda w: decide(w, outcome="maybe"), "outcome", "outcome.choice", id="decide-outcome"),  # noqa: E501
    P("DecideComplaint", lambda w: decide(w, note=""), "note", "note.required", id="decide-note-empty"),  # noqa: E501
    P("DecideComplaint", lambda w: decide(w, note=LONG), "note", "note.max_length", id="decide-note-long"),  # noqa: E501
    P("DecideComplaint", lambda w: decide(w, note="属\r实"), "note", "note.characters", id="decide-note-bare-cr"),  # noqa: E501
    P("ListMyComplaints", lambda w: dict(status=9), "status", "status.known", id="my-complaints-status"),  # noqa: E501
    P("ReplyToComplaint", lambda w: answer(w, id=""), "id", "id.required", id="reply-id-empty"),  # noqa: E501
    P("ReplyToComplaint", lambda w: answer(w, reply=" "), "reply", "reply.required", id="reply-blank"),  # noqa: E501
    P("ReplyToComplaint", lambda w: answer(w, reply=LONGER), "reply", "reply.max_length", id="reply-long"),  # noqa: E501
    P("ReplyToComplaint", lambda w: answer(w, reply="堵\r车"), "reply", "reply.characters", id="reply-bare-cr"),  # noqa: E501
    # Certificates' seal and optional sections (issue 14, part 5).
    P("UploadSeal", lambda w: dict(division_code="6101130", image=png()), "division_code", "division_code.width", id="seal-division"),  # noqa: E501
    P("UploadSeal", lambda w: dict(organisation_id="o-1", image=png()), "organisation_id", "organisation_id.format", id="seal-organisation"),  # noqa: E501
    P("UploadSeal", lambda w: dict(image=b"plain text, no image"), "image", "image.format", id="seal-not-an-image"),  # noqa: E501
    P("UploadSeal", lambda w: dict(image=png(2100)), "image", "image.dimensions", id="seal-too-wide"),  # noqa: E501
    P("UploadSeal", lambda w: dict(image=b"\xff\xd8\xff" + bytes(600_000)), "image", "image.max_size", id="seal-too-large"),  # noqa: E501
    P("GetSeal", lambda w: dict(division_code="61011"), "division_code", "division_code.width", id="get-seal-division"),  # noqa: E501
    P("GetSeal", lambda w: dict(organisation_id="o-1"), "organisation_id", "organisation_id.format", id="get-seal-organisation"),  # noqa: E501
    # Typed lines are retired: drawn from the records (include_training/awards).
    P("IssueCertificate", lambda w: cert(w, training=["急救培训"]), "training", "training.from_records", id="cert-training-typed"),  # noqa: E501
    P("IssueCertificate", lambda w: cert(w, awards=["优秀志愿者"]), "awards", "awards.from_records", id="cert-awards-typed"),  # noqa: E501
]
# fmt: on


def png(size: int = 100) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (200, 0, 0)).save(out, format="PNG")
    return out.getvalue()


def cert(w: World, **over: Any) -> dict[str, Any]:
    base = dict(
        volunteer_id=w.vol.id,
        issuer_name="电子城街道志愿服务站",
        person_in_charge="赵站长",
        contact="029-88880000",
    )
    return {**base, **over}


def withdraw(w: World, **over: Any) -> dict[str, Any]:
    base = dict(volunteer_id=w.vol.id, division_code=COUNTY, hours=0.5, service="助餐")
    return {**base, **over}


@pytest.mark.parametrize(("rpc", "fields", "field", "rule"), CASES)
def test_bad_input_names_the_field_and_writes_nothing(
    w: World, rpc: str, fields: Callable[[World], dict[str, Any]], field: str, rule: str
) -> None:
    before = w.snapshot()
    trailers = rejected(lambda: w.call(rpc, **fields(w)))
    assert_field(trailers, field, rule)
    assert w.snapshot() == before


def test_listing_certificates_outside_the_scope_is_denied(w: World) -> None:
    """A well-formed division outside the caller's subtree is not bad input
    but PERMISSION_DENIED, naming the field, and lists nothing."""
    with pytest.raises(grpc.RpcError) as err:
        w.call("ListCertificates", division_code="610103", volunteer_id=w.vol.id)
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "Traceback" not in err.value.details()
    trailers = dict(err.value.trailing_metadata() or ())
    assert trailers.get("zhiyuan-field") == "division_code"
    assert trailers.get("zhiyuan-rule") == "scope.contains"


def test_every_rpc_with_input_has_a_bad_input_case() -> None:
    service = pb.DESCRIPTOR.services_by_name["HoursService"]
    methods = {m.name for m in service.methods if m.input_type.fields}
    covered = {case.values[0] for case in CASES}
    assert methods == covered


def test_every_request_field_has_a_bad_input_case() -> None:
    named = {(case.values[0], case.values[2].split(".")[0]) for case in CASES}
    # Fields whose bad values are reported under another name (a oneof's
    # member, an enum's and a message's parts) or that accept any value.
    aside = {
        ("CorrectRecord", "reverse"),  # reported as new_hours: change.required
        ("Summarize", "query"),
        ("SummarizeFederated", "query"),
        # Flags that accept either value.
        ("IssueCertificate", "include_training"),
        ("IssueCertificate", "include_awards"),
        ("RequestMyCertificate", "include_training"),
        ("RequestMyCertificate", "include_awards"),
    }
    for service in pb.DESCRIPTOR.services_by_name["HoursService"].methods:
        for f in service.input_type.fields:
            key = (service.name, f.name)
            if key not in aside:
                assert key in named, f"no bad-input case for {key}"
