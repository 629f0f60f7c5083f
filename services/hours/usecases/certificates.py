"""Certificates (志愿服务记录证明): issued free, on request, by whoever recorded
the hours (谁记录谁证明), numbered, stored with their PDF, verifiable by
number by anyone, revocable by the issuer."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from services.common.auth import Principal
from services.common.divisions import name_of
from services.common.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from services.common.pii import mask_name
from services.common.roles import own_volunteer, require_organisation
from services.common.rollup import CST
from services.common.service_fields import SERVICE_FIELDS
from services.common.tenancy import Level, truncate
from services.hours import domain, pdf
from services.hours import validation as v
from services.hours.certificate_lines import award_lines, training_lines
from services.hours.models import Certificate, HourRecord
from services.hours.repository import Repository
from services.hours.usecases.base import Context, number
from services.hours.usecases.seals import SealCases

PDF_CONTEXT = "certificate.pdf"
SELF_SERVICE = "本人网上申请"


@dataclass(frozen=True)
class Sections:
    """The optional sections the requester ticked: the volunteer's training
    (activity's records) and awards (commendation's), over the period."""

    training: bool = False
    awards: bool = False


@dataclass(frozen=True)
class Issue:
    """Whose certificate, issued where (the issuing node), for which
    organisation's hours (empty: any), over which months, by whom."""

    volunteer_id: str
    division_code: str
    organisation_id: str
    period: tuple[str, str]
    issuer: str
    sections: Sections


class CertificateCases:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.seals = SealCases(ctx)

    def issue(
        self,
        p: Principal,
        volunteer_id: str,
        period: tuple[str, str],
        code: str,
        org_id: str,
        issuer: str,
        person: str,
        handler: str,
        contact: str,
        sections: Sections = Sections(),
        typed: tuple[list[str], list[str]] = ([], []),
    ) -> Certificate:
        """Issue a certificate of the volunteer's approved hours recorded in
        the subtree ``code`` (of ``org_id`` when given), with the training
        and awards ``sections`` the volunteer asked for, drawn from the
        records. ``typed`` are the retired free-text lines (training,
        awards): refused when given, never printed."""
        p.require_any(*domain.WRITERS)
        _refuse_typed(*typed)
        volunteer_id = v.ident(volunteer_id, "volunteer_id")
        start, end = v.period(*period)
        code = p.scope.require(code or p.scope.code, "division_code")
        org_id = v.ident(org_id, "organisation_id", required=False)
        if not org_id and not p.has_any(*domain.ADMINS):
            # 谁记录谁证明: an org_leader certifies its organisation's hours.
            org_id = p.organisation_id
        require_organisation(p, org_id, "organisation_id")
        issuer = v.text(issuer, "issuer_name", 200, required=not org_id)
        person = v.text(person, "person_in_charge", 50)
        handler = v.text(handler or p.username, "handler", 50)
        contact = v.text(contact, "contact", 100)
        query = (volunteer_id, code, org_id, start, end)

        def rows(repo: Repository) -> list[tuple[HourRecord, Decimal]]:
            return self._certified(repo, *query)

        issued = Issue(volunteer_id, code, org_id, (start, end), issuer, sections)
        return self._issue(p, issued, (person, handler, contact), rows)

    def request_own(
        self, p: Principal, start: str, end: str, sections: Sections = Sections()
    ) -> Certificate:
        """A certificate of the caller's own approved hours in the months
        ``start`` to ``end`` (open when empty), wherever they were recorded
        (read by the caller's volunteer id), issued in the name of the
        caller's home office: the node its token's scope names, whose
        subtree's offices list and revoke it. Built as :meth:`issue` builds
        one."""
        volunteer_id = own_volunteer(p)
        start, end = v.months(start, end)
        code = p.scope.code
        if not code:
            raise PermissionDenied.no_scope()
        office = truncate(code, Level.COUNTY) if len(code) > 6 else code
        issuer = name_of(office) or name_of(code) or code

        def rows(repo: Repository) -> list[tuple[HourRecord, Decimal]]:
            found, _ = repo.own_records(volunteer_id, "approved")
            inside = [
                r
                for r in sorted(found, key=lambda r: (r.started_at, r.id))
                if (not start or r.month >= start) and (not end or r.month <= end)
            ]
            certified = [
                (r, h)
                for r, h in repo.own_with_effective(volunteer_id, inside)
                if h > 0
            ]
            if not certified:
                raise FailedPrecondition(
                    "you have no approved hours to certify in this period",
                    "您在该期间内没有可出具证明的已审核时长",
                    field="period_start",
                    rule="certificate.no_hours",
                )
            return certified

        issued = Issue(volunteer_id, code, "", (start, end), issuer, sections)
        # The handler is no clerk: the volunteer asked on its own page.
        return self._issue(p, issued, ("", SELF_SERVICE, ""), rows)

    def _issue(
        self,
        p: Principal,
        c: Issue,
        people: tuple[str, str, str],
        rows_of: Callable[[Repository], list[tuple[HourRecord, Decimal]]],
    ) -> Certificate:
        """Number, fill, render and store a certificate of the hours
        ``rows_of`` reads, and record hours.certificate.issued: the one way
        every certificate is made."""
        person, handler, contact = people
        # Refuse before the real name is revealed (and the reveal logged),
        # and before the records' lines are asked for; a service that does
        # not answer refuses the certificate (never one with lines missing).
        with self.ctx.uow(p) as work:
            rows_of(self.ctx.repo(work))
        training, awards = self._lines(c)
        who = self.ctx.registration_client().identity(c.volunteer_id, "certificate")
        now = self.ctx.clock()
        today = now.astimezone(CST).date()
        code, (start, end) = c.division_code, c.period
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            rows = rows_of(repo)
            total = sum((h for _, h in rows), Decimal(0))
            serial = repo.next_certificate_serial(code[:2], today.year)
            cert = Certificate(
                number=domain.certificate_number(code[:2], today.year, serial),
                volunteer_id=c.volunteer_id, volunteer_number=who.volunteer_number,
                name_masked=mask_name(who.name), id_type=who.id_type,
                id_number_masked=who.id_number_masked, hours=total,
                service_content=_content(rows), division_code=code,
                issuer_name=c.issuer or rows[0][0].organisation_name,
                person_in_charge=person, handler=handler, contact=contact,
                organisation_id=c.organisation_id, period_start=start,
                period_end=end, issued_on=today, issued_by=p.username,
                issued_at=now, status="valid", revoked_reason="", pdf=b"",
                training_lines=list(training), award_lines=list(awards),
            )  # fmt: skip
            text = replace(
                _text(cert, who.name, rows),
                seal_image=self.seals.image_for(repo, code, c.organisation_id),
                training=training,
                awards=awards,
            )
            cert.pdf = self._seal(pdf.render(text, self.ctx.public_url))
            repo.add(cert)
            work.record(
                "hours.certificate.issued",
                code,
                {
                    "certificate_number": cert.number,
                    "volunteer_id": c.volunteer_id,
                    "division_code": code,
                    "hours": number(total),
                },
            )
            return cert

    def _lines(self, c: Issue) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The training and awards lines the requester ticked, read from
        activity and commendation as the caller, over the period."""
        training: tuple[str, ...] = ()
        awards: tuple[str, ...] = ()
        if c.sections.training:
            source = self.ctx.line_source()
            training = training_lines(source.training(c.volunteer_id, c.period))
        if c.sections.awards:
            source = self.ctx.line_source()
            awards = award_lines(source.awards(c.volunteer_id, c.period))
        return training, awards

    def _certified(
        self,
        repo: Repository,
        volunteer_id: str,
        code: str,
        org_id: str,
        start: str,
        end: str,
    ) -> list[tuple[HourRecord, Decimal]]:
        records = repo.approved(volunteer_id, code, org_id, start, end)
        rows = [(r, h) for r, h in repo.with_effective(records) if h > 0]
        if not rows:
            raise FailedPrecondition(
                "there are no approved hours to certify for this volunteer here",
                "该志愿者在此范围内没有可出具证明的已审核时长",
                field="volunteer_id",
                rule="certificate.no_hours",
            )
        return rows

    def _seal(self, document: bytes) -> bytes:
        return (
            self.ctx.cipher.seal(document, context=PDF_CONTEXT)
            if self.ctx.cipher
            else document
        )

    def certificate_pdf(self, p: Principal, number_: str) -> tuple[Certificate, bytes]:
        """The certificate and its PDF, unsealed for the caller in scope."""
        cert = self.certificate(p, number_)
        return cert, self._open(cert.pdf)

    def own_pdf(self, p: Principal, number_: str) -> tuple[Certificate, bytes]:
        """One of the caller's own certificates (wherever issued) and its
        PDF; another's is NOT_FOUND exactly like an unknown number."""
        volunteer_id = own_volunteer(p)
        number_ = v.certificate_number(number_)
        with self.ctx.uow(p) as work:
            cert = self.ctx.repo(work).own_certificate(volunteer_id, number_)
        return cert, self._open(cert.pdf)

    def _open(self, document: bytes) -> bytes:
        if document.startswith(b"%PDF") or self.ctx.cipher is None:
            return document  # written before sealing was configured
        return self.ctx.cipher.open(document, context=PDF_CONTEXT)

    def certificate(self, p: Principal, number_: str) -> Certificate:
        p.require_any(*domain.READERS)
        number_ = v.certificate_number(number_)
        with self.ctx.uow(p) as work:
            return self.ctx.repo(work).certificate(number_)

    def revoke(self, p: Principal, number_: str, reason: str) -> Certificate:
        p.require_any(*domain.WRITERS)
        number_ = v.certificate_number(number_)
        reason = v.text(reason, "reason", 500)
        with self.ctx.uow(p) as work:
            cert = self.ctx.repo(work).certificate(number_, lock=True)
            require_organisation(p, cert.organisation_id, "organisation_id")
            if cert.status != "valid":
                raise FailedPrecondition.transition(
                    "certificate", "证明", cert.status, "revoked"
                )
            cert.status, cert.revoked_reason = "revoked", reason
            cert.revoked_by, cert.revoked_at = p.username, self.ctx.clock()
            return cert

    def verify(self, number_: str) -> Mapping[str, Any]:
        """Anyone (no token): only what the certificate shows publicly."""
        number_ = v.certificate_number(number_)
        with self.ctx.uow(None) as work:
            found = self.ctx.repo(work).verify_certificate(number_)
        if found is None:
            err = NotFound.entity("certificate", "证明", number_)
            err.field, err.rule = "number", "number.exists"
            raise err
        return found


def _content(rows: list[tuple[HourRecord, Decimal]], limit: int = 6) -> str:
    """The service, by field and activity, largest first."""
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for r, h in rows:
        sums[(SERVICE_FIELDS.get(r.service_field, r.service_field), r.content)] += h
    ranked = sorted(sums.items(), key=lambda kv: (-kv[1], kv[0]))
    parts = [f"{field}·{content}（{h}小时）" for (field, content), h in ranked[:limit]]
    if len(ranked) > limit:
        parts.append(f"等{len(ranked)}项")
    return "；".join(parts)


def _text(
    c: Certificate, name: str, rows: list[tuple[HourRecord, Decimal]]
) -> pdf.CertificateText:
    first, last = rows[0][0].started_at, rows[-1][0].started_at
    return pdf.CertificateText(
        number=c.number, name=name, id_type=c.id_type,
        id_number_masked=c.id_number_masked, volunteer_number=c.volunteer_number,
        hours=str(c.hours), period=f"{_day(first)} 至 {_day(last)}",
        service_content=c.service_content, issuer_name=c.issuer_name,
        person_in_charge=c.person_in_charge, handler=c.handler,
        contact=c.contact, issued_on=c.issued_on.isoformat(),
    )  # fmt: skip


def _day(moment: datetime) -> str:
    return moment.astimezone(CST).strftime("%Y年%m月%d日")


def _refuse_typed(training: list[str], awards: list[str]) -> None:
    """The retired free-text sections: a line typed by the requester is
    never printed (the certificate attests records, 谁记录谁证明), and is
    not dropped in silence either: the request is refused, naming the field
    and what to send instead."""
    for field, lines, flag, zh in (
        ("training", training, "include_training", "培训"),
        ("awards", awards, "include_awards", "表彰"),
    ):
        if any(x.strip() for x in lines):
            raise InvalidArgument(
                field,
                f"{field}.from_records",
                f"{field} lines are no longer typed: they are drawn from the "
                f"records; set {flag} instead",
                f"{zh}内容不再手工填写，改为从记录中读取：请勾选“包含{zh}”（{flag}）",
            )
