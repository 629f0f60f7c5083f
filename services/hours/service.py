"""Hours' api role: the gRPC servicer (entrypoints only: parse, call the
application, serialise) and the process entry ``serve()``."""

from __future__ import annotations

import logging
import threading
from decimal import Decimal

import grpc
from zhiyuan.hours.v1 import hours_pb2 as pb
from zhiyuan.hours.v1 import hours_pb2_grpc as pb_grpc

from services.common import keys, rpc
from services.common.auth import current_principal as me
from services.common.config import Config
from services.common.db import Database
from services.common.federation_read import federated_response
from services.hours import convert as cv
from services.hours.application import HoursApp
from services.hours.lines_client import RecordLines
from services.hours.queries import HoursQueries
from services.hours.registration_client import Registration
from services.hours.usecases.certificates import Sections

log = logging.getLogger(__name__)
SERVICE = "zhiyuan.hours.v1.HoursService"
PUBLIC_METHODS = {f"/{SERVICE}/VerifyCertificate"}


class HoursServicer(pb_grpc.HoursServiceServicer):
    def __init__(self, app: HoursApp, queries: HoursQueries):
        self.app, self.q = app, queries

    def RecordHonourHours(  # noqa: N802
        self, req: pb.RecordHonourHoursRequest, ctx: grpc.ServicerContext
    ) -> pb.RecordHonourHoursResponse:
        rec, created = self.app.records.record_honour(
            me(), req.volunteer_id, req.division_code, req.organisation_id,
            req.organisation_name, req.service_field, req.content,
            req.session_start, req.session_end, req.hours, req.reason,
            req.request_id, req.position_id,
        )  # fmt: skip
        return pb.RecordHonourHoursResponse(
            record=cv.record(rec, rec.hours), created=created
        )

    def ListRecords(  # noqa: N802
        self, req: pb.ListRecordsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListRecordsResponse:
        status = cv.enum_value(cv.STATUSES, req.status, "status")
        page = self.q.records(
            me(), req.division_code, req.volunteer_id, status,
            req.page.page_size, req.page.page_token,
        )  # fmt: skip
        return pb.ListRecordsResponse(
            records=[cv.record(r, e) for r, e in page.items], page=cv.page(page)
        )

    def GetRecord(  # noqa: N802
        self, req: pb.GetRecordRequest, ctx: grpc.ServicerContext
    ) -> pb.GetRecordResponse:
        rec, fixes, effective, rated = self.q.record(me(), req.id)
        return pb.GetRecordResponse(
            record=cv.record(rec, effective),
            corrections=[cv.correction(c) for c in fixes],
            effective_hours=cv.h(effective),
            evaluation=cv.evaluation(rated),
        )

    def ApproveRecord(  # noqa: N802
        self, req: pb.ApproveRecordRequest, ctx: grpc.ServicerContext
    ) -> pb.ApproveRecordResponse:
        rec, effective = self.app.review.approve(me(), req.id)
        return pb.ApproveRecordResponse(record=cv.record(rec, effective))

    def RejectRecord(  # noqa: N802
        self, req: pb.RejectRecordRequest, ctx: grpc.ServicerContext
    ) -> pb.RejectRecordResponse:
        rec = self.app.review.reject(me(), req.id, req.reason)
        return pb.RejectRecordResponse(record=cv.record(rec, Decimal(0)))

    def CorrectRecord(  # noqa: N802
        self, req: pb.CorrectRecordRequest, ctx: grpc.ServicerContext
    ) -> pb.CorrectRecordResponse:
        change = req.WhichOneof("change")
        new_hours = req.new_hours if change == "new_hours" else None
        # "reverse: false" asks for nothing; the use case says so.
        reverse = change == "reverse" and req.reverse
        rec, fix, effective = self.app.review.correct(
            me(), req.record_id, new_hours, reverse, req.reason
        )
        return pb.CorrectRecordResponse(
            record=cv.record(rec, effective),
            correction=cv.correction(fix),
            effective_hours=cv.h(effective),
        )

    def GetVolunteerTotals(  # noqa: N802
        self, req: pb.GetVolunteerTotalsRequest, ctx: grpc.ServicerContext
    ) -> pb.GetVolunteerTotalsResponse:
        t = self.q.totals(me(), req.volunteer_id, req.division_code)
        return pb.GetVolunteerTotalsResponse(
            volunteer_id=t.volunteer_id, volunteer_number=t.volunteer_number,
            division_code=t.division_code,
            approved_hours=cv.h(t.hours.get("approved", 0)),
            pending_hours=cv.h(t.hours.get("pending", 0)),
            approved_records=t.counts.get("approved", 0),
            pending_records=t.counts.get("pending", 0),
            rejected_records=t.counts.get("rejected", 0),
            hours_by_field={k: cv.h(x) for k, x in t.by_field.items()},
            platform_total_hours=cv.h(t.platform_total),
        )  # fmt: skip

    def GetHourPolicy(  # noqa: N802
        self, req: pb.GetHourPolicyRequest, ctx: grpc.ServicerContext
    ) -> pb.GetHourPolicyResponse:
        code, policy = self.q.policy(me(), req.division_code)
        return cv.policy(code, policy)

    def Summarize(  # noqa: N802
        self, req: pb.SummarizeRequest, ctx: grpc.ServicerContext
    ) -> pb.SummarizeResponse:
        q = req.query
        level = cv.enum_value(cv.LEVELS, q.group_by, "query.group_by")
        result = self.q.summarize(
            me(), q.division_code, level, q.period.start_month,
            q.period.end_month, q.by_month,
        )  # fmt: skip
        return pb.SummarizeResponse(rollup=cv.rollup(result))

    def SummarizeFederated(  # noqa: N802
        self, req: pb.SummarizeFederatedRequest, ctx: grpc.ServicerContext
    ) -> pb.SummarizeFederatedResponse:
        """What downstream releases forwarded (services/common/federation.py)."""
        return federated_response(pb, me(), req.query, self.q.summarize_federated)

    def IssueCertificate(  # noqa: N802
        self, req: pb.IssueCertificateRequest, ctx: grpc.ServicerContext
    ) -> pb.IssueCertificateResponse:
        cert = self.app.certificates.issue(
            me(), req.volunteer_id, (req.period.start_month, req.period.end_month),
            req.division_code, req.organisation_id, req.issuer_name,
            req.person_in_charge, req.handler, req.contact,
            Sections(req.include_training, req.include_awards),
            (list(req.training), list(req.awards)),
        )  # fmt: skip
        return pb.IssueCertificateResponse(certificate=cv.certificate(cert))

    def GetCertificatePdf(  # noqa: N802
        self, req: pb.GetCertificatePdfRequest, ctx: grpc.ServicerContext
    ) -> pb.GetCertificatePdfResponse:
        cert, document = self.app.certificates.certificate_pdf(me(), req.number)
        return pb.GetCertificatePdfResponse(
            number=cert.number, filename=f"{cert.number}.pdf", pdf=document
        )

    def RevokeCertificate(  # noqa: N802
        self, req: pb.RevokeCertificateRequest, ctx: grpc.ServicerContext
    ) -> pb.RevokeCertificateResponse:
        cert = self.app.certificates.revoke(me(), req.number, req.reason)
        return pb.RevokeCertificateResponse(certificate=cv.certificate(cert))

    def VerifyCertificate(  # noqa: N802
        self, req: pb.VerifyCertificateRequest, ctx: grpc.ServicerContext
    ) -> pb.VerifyCertificateResponse:
        return cv.verification(self.app.certificates.verify(req.number))

    def ListCertificates(  # noqa: N802
        self, req: pb.ListCertificatesRequest, ctx: grpc.ServicerContext
    ) -> pb.ListCertificatesResponse:
        status = cv.enum_value(cv.CERT_STATUSES, req.status, "status")
        page = self.q.certificates(
            me(), req.division_code, req.volunteer_id, status,
            req.page.page_size, req.page.page_token,
        )  # fmt: skip
        return pb.ListCertificatesResponse(
            certificates=[cv.certificate(c) for c in page.items], page=cv.page(page)
        )

    def ListMyRecords(  # noqa: N802
        self, req: pb.ListMyRecordsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListMyRecordsResponse:
        status = cv.enum_value(cv.STATUSES, req.status, "status")
        page = self.q.own.records(me(), status, req.page.page_size, req.page.page_token)
        return pb.ListMyRecordsResponse(
            records=[cv.record(r, e) for r, e in page.items],
            page=cv.page(page),
            evaluations=[cv.evaluation(e) for e in page.extra["evaluations"]],
        )

    def GetMyTotals(  # noqa: N802
        self, req: pb.GetMyTotalsRequest, ctx: grpc.ServicerContext
    ) -> pb.GetMyTotalsResponse:
        t = self.q.own.totals(me())
        return pb.GetMyTotalsResponse(
            hours_this_year=cv.h(t.hours_this_year), hours_total=cv.h(t.hours_total),
            pending_hours=cv.h(t.pending_hours), records_total=t.records_total,
            time_bank_balance=cv.h(t.time_bank_balance), year=t.year,
        )  # fmt: skip

    def FileObjection(  # noqa: N802
        self, req: pb.FileObjectionRequest, ctx: grpc.ServicerContext
    ) -> pb.FileObjectionResponse:
        found = self.app.objections.file(me(), req.record_id, req.reason)
        return pb.FileObjectionResponse(objection=cv.objection(found))

    def ListMyObjections(  # noqa: N802
        self, req: pb.ListMyObjectionsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListMyObjectionsResponse:
        status = cv.enum_value(cv.OBJECTION_STATUSES, req.status, "status")
        found = self.q.own.objections(me(), status)
        return pb.ListMyObjectionsResponse(objections=[cv.objection(o) for o in found])

    def ListObjections(  # noqa: N802
        self, req: pb.ListObjectionsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListObjectionsResponse:
        status = cv.enum_value(cv.OBJECTION_STATUSES, req.status, "status")
        page = self.q.objections(
            me(), req.division_code, status, req.page.page_size, req.page.page_token
        )
        return pb.ListObjectionsResponse(
            objections=[cv.objection(o) for o in page.items], page=cv.page(page)
        )

    def ResolveObjection(  # noqa: N802
        self, req: pb.ResolveObjectionRequest, ctx: grpc.ServicerContext
    ) -> pb.ResolveObjectionResponse:
        change = req.WhichOneof("change")
        found, fix = self.app.objections.resolve(
            me(), req.id, req.outcome, req.note,
            req.new_hours if change == "new_hours" else None,
            change == "reverse" and req.reverse,
        )  # fmt: skip
        return pb.ResolveObjectionResponse(
            objection=cv.objection(found),
            correction=cv.correction(fix) if fix else None,
        )

    def RequestMyCertificate(  # noqa: N802
        self, req: pb.RequestMyCertificateRequest, ctx: grpc.ServicerContext
    ) -> pb.RequestMyCertificateResponse:
        sections = Sections(req.include_training, req.include_awards)
        cert = self.app.certificates.request_own(
            me(), req.period_start, req.period_end, sections
        )
        return pb.RequestMyCertificateResponse(certificate=cv.certificate(cert))

    def ListMyCertificates(  # noqa: N802
        self, req: pb.ListMyCertificatesRequest, ctx: grpc.ServicerContext
    ) -> pb.ListMyCertificatesResponse:
        found = self.q.own.certificates(me())
        return pb.ListMyCertificatesResponse(
            certificates=[cv.certificate(c) for c in found]
        )

    def GetMyCertificatePdf(  # noqa: N802
        self, req: pb.GetMyCertificatePdfRequest, ctx: grpc.ServicerContext
    ) -> pb.GetMyCertificatePdfResponse:
        cert, document = self.app.certificates.own_pdf(me(), req.number)
        return pb.GetMyCertificatePdfResponse(
            number=cert.number, filename=f"{cert.number}.pdf", pdf=document
        )

    def GetTimeBankBalance(  # noqa: N802
        self, req: pb.GetTimeBankBalanceRequest, ctx: grpc.ServicerContext
    ) -> pb.GetTimeBankBalanceResponse:
        found = self.q.balances(me(), req.volunteer_id, req.division_code)
        return pb.GetTimeBankBalanceResponse(
            accounts=[
                pb.TimeBankAccount(
                    division_code=a.division_code,
                    volunteer_id=a.volunteer_id,
                    balance_hours=cv.h(b),
                )
                for a, b in found
            ],
            total_hours=cv.h(sum(b for _, b in found)),
        )

    def WithdrawTimeBank(  # noqa: N802
        self, req: pb.WithdrawTimeBankRequest, ctx: grpc.ServicerContext
    ) -> pb.WithdrawTimeBankResponse:
        tx, legs, balance = self.app.bank.withdraw(
            me(), req.volunteer_id, req.division_code, req.hours, req.service,
            req.request_id,
        )  # fmt: skip
        return pb.WithdrawTimeBankResponse(
            transaction=cv.transaction(tx, [(e.account, e.amount) for e in legs]),
            balance_hours=cv.h(balance),
        )

    def ListTimeBankTransactions(  # noqa: N802
        self, req: pb.ListTimeBankTransactionsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListTimeBankTransactionsResponse:
        page = self.q.transactions(
            me(), req.volunteer_id, req.division_code,
            req.page.page_size, req.page.page_token,
        )  # fmt: skip
        legs = page.extra["entries"]
        return pb.ListTimeBankTransactionsResponse(
            transactions=[cv.transaction(t, legs[t.id]) for t in page.items],
            page=cv.page(page),
        )

    def EvaluateRecord(  # noqa: N802
        self, req: pb.EvaluateRecordRequest, ctx: grpc.ServicerContext
    ) -> pb.EvaluateRecordResponse:
        found = self.app.evaluations.evaluate(
            me(), req.record_id, req.score, req.comment
        )
        return pb.EvaluateRecordResponse(evaluation=cv.evaluation(found))

    def FileComplaint(  # noqa: N802
        self, req: pb.FileComplaintRequest, ctx: grpc.ServicerContext
    ) -> pb.FileComplaintResponse:
        found = self.app.complaints.file(
            me(), req.division_code, req.volunteer_id, req.record_id, req.text
        )
        return pb.FileComplaintResponse(complaint=cv.complaint(found))

    def ListComplaints(  # noqa: N802
        self, req: pb.ListComplaintsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListComplaintsResponse:
        status = cv.enum_value(cv.COMPLAINT_STATUSES, req.status, "status")
        page = self.q.complaints(
            me(), req.division_code, status, req.volunteer_id,
            req.page.page_size, req.page.page_token,
        )  # fmt: skip
        return pb.ListComplaintsResponse(
            complaints=[cv.complaint(c) for c in page.items], page=cv.page(page)
        )

    def DecideComplaint(  # noqa: N802
        self, req: pb.DecideComplaintRequest, ctx: grpc.ServicerContext
    ) -> pb.DecideComplaintResponse:
        found = self.app.complaints.decide(me(), req.id, req.outcome, req.note)
        return pb.DecideComplaintResponse(complaint=cv.complaint(found))

    def ListMyComplaints(  # noqa: N802
        self, req: pb.ListMyComplaintsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListMyComplaintsResponse:
        status = cv.enum_value(cv.COMPLAINT_STATUSES, req.status, "status")
        found = self.q.own.complaints(me(), status)
        return pb.ListMyComplaintsResponse(complaints=[cv.complaint(c) for c in found])

    def ReplyToComplaint(  # noqa: N802
        self, req: pb.ReplyToComplaintRequest, ctx: grpc.ServicerContext
    ) -> pb.ReplyToComplaintResponse:
        found = self.app.complaints.reply(me(), req.id, req.reply)
        return pb.ReplyToComplaintResponse(complaint=cv.complaint(found))

    def UploadSeal(  # noqa: N802
        self, req: pb.UploadSealRequest, ctx: grpc.ServicerContext
    ) -> pb.UploadSealResponse:
        found = self.app.seals.upload(
            me(), req.division_code, req.organisation_id, req.image
        )
        return pb.UploadSealResponse(seal=cv.seal(found))

    def GetSeal(  # noqa: N802
        self, req: pb.GetSealRequest, ctx: grpc.ServicerContext
    ) -> pb.GetSealResponse:
        found, image = self.app.seals.get(me(), req.division_code, req.organisation_id)
        return pb.GetSealResponse(seal=cv.seal(found), image=image)


def build(cfg: Config) -> tuple[HoursServicer, Database, Registration, RecordLines]:
    db = Database(cfg.service("hours"))
    registration = Registration(
        cfg.service("registration").grpc_address, float(cfg["grpc.deadline_seconds"])
    )
    lines = RecordLines.from_config(cfg)
    app = HoursApp(
        db,
        registration,
        cipher=keys.pii_cipher(cfg),
        public_url=cfg.get("gateway.public_url", ""),
        lines=lines,
    )
    servicer = HoursServicer(app, HoursQueries(db, registration))
    return servicer, db, registration, lines


def serve(cfg: Config, stop: threading.Event | None = None) -> None:
    """Run the api role until SIGTERM/SIGINT (or ``stop`` is set).

    Example::

        serve(load())  # zhiyuan run hours api
    """
    servicer, db, registration, lines = build(cfg)
    rpc.serve_api(
        cfg,
        "hours",
        servicer,
        pb_grpc.add_HoursServiceServicer_to_server,
        public_methods=PUBLIC_METHODS,
        on_stop=[registration.close, lines.close, db.dispose],
        stop=stop,
    )
