"""Transfers between regions (记录转移接续, issue 14).

A volunteer who moves home asks for a transfer (their own account) or the
old home's office files it for them; either way the volunteer's consent is
recorded: the exact text consented to, when, through which channel and, for
an office, where the evidence is kept. The offices of both homes see the
request; only the new home's office (a scope holding the new home) accepts
or refuses it; the volunteer, or the old home's office, may cancel it while
it is pending. Accepting moves the volunteer's home (and their own account
and inbox) to the new division in the same transaction, so the old office
loses access through the ordinary scope filters and row security, and
announces ``registration.volunteer.transferred`` for the other services.
Past records are not touched: they stay where the service was done.

The transfer row is the audit record: who asked, who consented and when,
who decided, when and why, the old and the new home.
"""

from __future__ import annotations

import uuid
from typing import Any

from services.common import checks
from services.common.auth import Principal
from services.common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from services.common.roles import own_volunteer
from services.common.tenancy import Level, level_of, validate_code
from services.common.unit_of_work import Work
from services.registration import domain
from services.registration.models import Transfer, Volunteer
from services.registration.repository import Repository, Taken
from services.registration.usecases.base import Context
from services.registration.usecases.people import _volunteer_event as volunteer_event

NEW_HOME_LEVELS = (Level.TOWNSHIP, Level.VILLAGE)
# The text a volunteer consents to (the phone app shows it; an office reads
# it to the volunteer or has it signed). Stored with every request.
CONSENT_TEXT = (
    "本人申请将志愿者注册信息转移至新居住地，同意新居住地志愿服务管理部门接收并"
    "管理本人的注册信息、星级评定等记录；已有服务时长记录仍由原服务地保存。"
    " / I ask to transfer my volunteer registration to my new home and agree "
    "that its volunteer office takes over my registration and star rating; my "
    "past service hours stay recorded where the service was done."
)
KIND = ("transfer", "转移申请")


class TransferCases:
    """Request, list, accept, refuse and cancel transfers."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    # -- requests ---------------------------------------------------------------
    def request(
        self, p: Principal, volunteer_id: str, to: str, consent: bool, note: str
    ) -> Transfer:
        """An office files a transfer for a volunteer of its subtree, with
        the volunteer's consent given in person (``note``: where the signed
        form or other evidence is kept)."""
        p.require_any(*domain.ADMINS)
        volunteer_id = checks.ident(volunteer_id, "volunteer_id")
        to = _new_home_code(to)
        _consented(consent)
        note = domain.check_name(note, "consent_note", 200)
        return self._file(p, volunteer_id, to, "office", note)

    def request_mine(self, p: Principal, to: str, consent: bool) -> Transfer:
        """The volunteer asks for their own transfer in the phone app."""
        vid = own_volunteer(p, "volunteer_id")
        to = _new_home_code(to)
        _consented(consent)
        return self._file(p, vid, to, "app", "")

    def _file(
        self, p: Principal, vid: str, to: str, channel: str, note: str
    ) -> Transfer:
        try:
            with self.ctx.uow(p) as work:
                repo = self.ctx.repo(work)
                vol = repo.volunteer(vid, for_update=True, field="volunteer_id")
                _check_new_home(repo, vol, to)
                if repo.has_pending_transfer(vid):
                    raise _duplicate()
                now = self.ctx.clock()
                t = Transfer(
                    id=str(uuid.uuid4()),
                    volunteer_id=vol.id,
                    volunteer_number=vol.volunteer_number,
                    name_masked=vol.name_masked,
                    from_division_code=vol.home_division_code,
                    to_division_code=to,
                    status="pending",
                    requested_by=p.username,
                    requested_at=now,
                    consent_channel=channel,
                    consent_text=CONSENT_TEXT,
                    consented_at=now,
                    consent_note=note,
                    decided_by=None,
                    decided_at=None,
                    reason="",
                )
                repo.insert(t, keys=("ux_transfers_one_pending",))
                _announce(work, t, "registration.transfer.requested")
                return t
        except Taken as exc:  # two requests raced: the key keeps one
            raise _duplicate() from exc

    # -- decisions --------------------------------------------------------------
    def accept(self, p: Principal, ident: str) -> Transfer:
        """The new home's office takes the volunteer over."""
        p.require_any(*domain.ADMINS)
        ident = checks.ident(ident, "id")
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            t = self._pending(repo, ident, "accepted")
            _new_home_decides(p, t)
            now = self.ctx.clock()
            repo.accept_transfer(t, p.username, now)
            vol = repo.volunteer(t.volunteer_id)
            data = {
                **volunteer_event(vol),
                "transfer_id": t.id,
                "from_division_code": t.from_division_code,
                "to_division_code": t.to_division_code,
            }
            work.record("registration.volunteer.transferred", t.to_division_code, data)
            _announce(work, t, "registration.transfer.accepted")
            return t

    def refuse(self, p: Principal, ident: str, reason: str) -> Transfer:
        """The new home's office refuses, saying why."""
        p.require_any(*domain.ADMINS)
        ident = checks.ident(ident, "id")
        reason = domain.check_text(reason, "reason", 500)
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            t = self._pending(repo, ident, "refused")
            _new_home_decides(p, t)
            t.status, t.reason = "refused", reason
            t.decided_by, t.decided_at = p.username, self.ctx.clock()
            _announce(work, t, "registration.transfer.refused")
            return t

    def cancel(self, p: Principal, ident: str) -> Transfer:
        """The volunteer (their own request) or the old home's office
        withdraws a pending transfer."""
        ident = checks.ident(ident, "id")
        own = "volunteer" in p.roles and bool(p.volunteer_id)
        if not own:
            p.require_any(*domain.ADMINS)
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            t = repo.transfer(ident, for_update=True)
            if own and t.volunteer_id != p.volunteer_id:
                # Another volunteer's request is as good as none (whatever
                # its state: the answer must not tell).
                raise _missing(ident)
            t = self._pending(repo, ident, "cancelled")
            if not own and not p.scope.contains(t.from_division_code):
                raise PermissionDenied(
                    "only the volunteer or the old home's office may cancel",
                    "只有志愿者本人或原居住地管理部门可以撤回转移申请",
                    field="id",
                    rule="transfer.cancel_by_old_home",
                )
            t.status = "cancelled"
            t.decided_by, t.decided_at = p.username, self.ctx.clock()
            _announce(work, t, "registration.transfer.cancelled")
            return t

    def _pending(self, repo: Repository, ident: str, target: str) -> Transfer:
        t = repo.transfer(ident, for_update=True)
        if t.status != "pending":
            raise FailedPrecondition.transition(*KIND, t.status, target)
        return t

    # -- reads ----------------------------------------------------------------
    def mine(self, p: Principal) -> list[Transfer]:
        """The caller's own transfers, newest first."""
        vid = own_volunteer(p, "volunteer_id")
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            q = repo.transfers_query("", None, vid)
            rows, _ = repo.list_page(q, Transfer.requested_at.desc(), 50, 0)
            return rows

    def division_names(self, rows: list[Transfer]) -> dict[str, str]:
        """The names of both homes of ``rows`` (public reference data)."""
        codes = sorted(
            {c for t in rows for c in (t.from_division_code, t.to_division_code)}
        )
        with self.ctx.uow(None) as work:
            return self.ctx.repo(work).division_names(codes)


def _new_home_code(code: str) -> str:
    if isinstance(code, str) and not code.strip():
        raise InvalidArgument.required("to_division_code")
    code = validate_code(code, "to_division_code")
    if level_of(code) not in NEW_HOME_LEVELS:
        raise InvalidArgument(
            "to_division_code",
            "to_division_code.level",
            "the new home must be a township (street) or village (community)",
            "新居住地须为乡镇（街道）或村（社区）",
        )
    return code


def _consented(consent: bool) -> None:
    if consent is not True:
        raise InvalidArgument(
            "consent",
            "consent.required",
            "a transfer needs the volunteer's consent",
            "转移须取得志愿者本人同意",
        )


def _check_new_home(repo: Repository, vol: Volunteer, to: str) -> None:
    """The new home exists, is active and differs from the current one; the
    volunteer is not a rejected registration."""
    if to == vol.home_division_code:
        raise InvalidArgument(
            "to_division_code",
            "to_division_code.unchanged",
            "the new home is the volunteer's current home",
            "新居住地与当前居住地相同",
        )
    try:
        division = repo.division(to, "to_division_code")
    except NotFound as exc:
        raise InvalidArgument(
            "to_division_code",
            "to_division_code.exists",
            f"there is no division {to}",
            f"不存在行政区划“{to}”",
        ) from exc
    if division.status != "active":
        raise InvalidArgument(
            "to_division_code",
            "to_division_code.active",
            f"the division {to} is retired",
            f"行政区划“{to}”已撤销",
        )
    if vol.status in ("rejected", "merged"):
        raise FailedPrecondition(
            f"a {vol.status} registration cannot be transferred",
            "已驳回的注册不能转移"
            if vol.status == "rejected"
            else "已合并的注册不能转移",
            field="volunteer_id",
            rule="volunteer.status",
        )


def _new_home_decides(p: Principal, t: Transfer) -> None:
    if not p.scope.contains(t.to_division_code):
        raise PermissionDenied(
            "only the new home's office may decide a transfer",
            "只有新居住地管理部门可以接收或拒绝转移申请",
            field="id",
            rule="transfer.new_home_decides",
        )


def _duplicate() -> AlreadyExists:
    return AlreadyExists(
        "the volunteer already has a pending transfer",
        "该志愿者已有待处理的转移申请",
        field="volunteer_id",
        rule="transfer.one_pending",
    )


def _missing(ident: str) -> NotFound:
    err = NotFound.entity(*KIND, ident)
    err.field, err.rule = "id", "id.exists"
    return err


def _announce(work: Work, t: Transfer, event: str) -> None:
    data: dict[str, Any] = {
        "transfer_id": t.id,
        "volunteer_id": t.volunteer_id,
        "volunteer_number": t.volunteer_number,
        "from_division_code": t.from_division_code,
        "to_division_code": t.to_division_code,
        "status": t.status,
        "actor": t.decided_by or t.requested_by,
    }
    # Under the old home: both offices' feeds are fed by the worker; the
    # new home learns of it from its list.
    work.record(event, t.from_division_code, data)
