"""Use cases for sign-ups: capacity, the waitlist and leader approval.

A sign-up belongs to two tenants: the project's and the volunteer's. The
caller's right is checked under the caller's own scope; the queue is then
worked under the project's scope, where every sign-up of the session is
visible (capacity is counted, never guessed from a partial view).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from services.activity import domain
from services.activity import models as m
from services.activity.repository import missing
from services.activity.usecases.base import Context, bump
from services.activity.usecases.training import TrainingCases
from services.common.auth import Principal
from services.common.db import KeyTaken
from services.common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)
from services.common.roles import require_organisation
from services.common.rollup import CST
from services.common.tenancy import Scope
from services.common.times import utc
from services.common.unit_of_work import Work

ACTIVE = ("pending", "confirmed", "waitlisted")


@dataclass(frozen=True)
class Candidate:
    """What the queue needs of a volunteer, read under the caller's scope."""

    id: str
    number: str
    home: str
    status: str
    birth: date | None
    fields: list[str]


def required(value: str, field: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidArgument.required(field)
    return value


def not_open(what_en: str, what_zh: str, rule: str) -> FailedPrecondition:
    return FailedPrecondition(what_en, what_zh, rule=rule)


class SignUpCases:
    """Sign-ups, the waitlist and the leader's decision."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.training = TrainingCases(ctx)

    def sign_up(self, p: Principal, session_id: str, volunteer_id: str) -> m.SignUp:
        """Sign a volunteer in the caller's scope up for a session of a project
        the caller reaches (its own, or an ancestor's emergency campaign)."""
        p.require_any(*domain.MANAGERS)
        session_id = required(session_id, "session_id")
        volunteer_id = required(volunteer_id, "volunteer_id")
        with self.ctx.uow(p.scope) as work:
            repo = self.ctx.repo(work)
            _, project = repo.session_of(session_id, reach_up=True)
            v = repo.volunteer(volunteer_id)
            who = Candidate(
                v.id, v.volunteer_number, v.home_division_code, v.status,
                v.birth_date, list(v.service_fields),
            )  # fmt: skip
            division = project.division_code
        if not domain.reach(p.scope.code, division, project.emergency, project.status):
            raise not_open(
                "the campaign is not recruiting",
                "该应急项目未在招募",
                "project.recruiting",
            )
        try:
            return self.join(p, Scope(division), session_id, who)
        except KeyTaken as exc:  # a concurrent twin won the unique index
            raise _twice() from exc

    def join(
        self, p: Principal, scope: Scope, session_id: str, who: Candidate
    ) -> m.SignUp:
        """Place ``who`` in the session's queue, worked under the project's
        ``scope``: the caller's right to do so is checked already."""
        with self.ctx.uow(scope) as work:
            repo = self.ctx.repo(work)
            repo.lock_session(session_id)
            session, project = repo.session_of(session_id)
            now = self.ctx.clock()
            if project.status not in domain.OPEN:
                raise not_open(
                    "the project is not recruiting",
                    "项目未在招募中",
                    "project.recruiting",
                )
            window = (utc(project.recruit_starts_at), utc(project.recruit_ends_at))
            if not window[0] <= now <= window[1] or now >= utc(session.ends_at):
                raise not_open(
                    "sign-up is closed for this session",
                    "该场次已不在报名时间内",
                    "project.recruitment_window",
                )
            domain.check_eligible(
                who.status,
                who.birth,
                who.fields,
                project.min_age,
                project.required_skills,
                utc(session.starts_at).astimezone(CST).date(),
            )
            if project.required_course_id:
                title = repo.course(project.required_course_id).title
                self.training.require_course(project, title, who.id, who.home)
            if repo.active_sign_up(session_id, who.id) is not None:
                raise _twice()
            approval = bool(project.leader_approval) and not project.emergency
            row = m.SignUp(
                id=str(uuid.uuid4()),
                session_id=session_id,
                project_id=project.id,
                division_code=project.division_code,
                volunteer_id=who.id,
                volunteer_number=who.number,
                volunteer_division_code=who.home,
                status=domain.place_for(
                    repo.confirmed(session_id), session.capacity, approval
                ),
                queue_number=repo.next_queue_number(session_id),
                reason="",
                created_by=p.username,
                created_at=now,
            )
            repo.add_unique(row)
            bump(work, project.division_code, now, signups=1)
            if row.status != "pending":
                decided(work, project, row)
            return row

    def withdraw(
        self, p: Principal, sign_up_id: str
    ) -> tuple[m.SignUp, list[m.SignUp]]:
        """Withdraw a sign-up of a project the caller reaches: its own
        subtree's, or an ancestor's emergency campaign it signs volunteers up
        for. A sign-up in another tenant's project is NOT_FOUND exactly as an
        unknown id, whatever its state, even when the volunteer lives in the
        caller's subtree. A freed place goes to the head of the waitlist;
        the answer lists only the promoted sign-ups the caller may see."""
        p.require_any(*domain.MANAGERS)
        ident = required(sign_up_id, "sign_up_id")
        with self.ctx.uow(p.scope) as work:
            repo = self.ctx.repo(work)
            found = repo.sign_up(ident)
            try:  # scoped by the project's tenant, before any state check
                repo.project(found.project_id, reach_up=True)
            except NotFound:
                raise missing("sign_up_id", "sign-up", "报名", ident) from None
            division = found.division_code
        row, promoted = self.withdraw_in(Scope(division), ident)
        # Another tenant's volunteer promoted in a shared campaign is
        # promoted all the same, but not named to this caller.
        visible = [
            x
            for x in promoted
            if p.scope.contains(x.division_code)
            or p.scope.contains(x.volunteer_division_code)
        ]
        return row, visible

    def withdraw_in(self, scope: Scope, ident: str) -> tuple[m.SignUp, list[m.SignUp]]:
        """Withdraw a sign-up under its project's ``scope`` (the caller's
        right checked already) and promote the head of the waitlist into a
        freed place; returns the sign-up and every promoted one."""
        with self.ctx.uow(scope) as work:
            repo = self.ctx.repo(work)
            row = repo.sign_up(ident)
            repo.lock_queue_of(row)
            session, project = repo.session_of(row.session_id)
            self._check_open(project, row, "withdrawn")
            if repo.attendance(row.session_id, row.volunteer_id) is not None:
                raise not_open(
                    "the volunteer has already checked in",
                    "该志愿者已签到，不能取消报名",
                    "sign_up.attended",
                )
            freed = row.status == "confirmed"
            row.status, row.decided_at = "withdrawn", self.ctx.clock()
            repo.flush()
            promoted: list[m.SignUp] = []
            if freed:
                waiting = repo.waitlist(row.session_id)
                confirmed = repo.confirmed(row.session_id)
                for nxt in domain.promotions(waiting, confirmed, session.capacity):
                    nxt.status, nxt.decided_at = "confirmed", self.ctx.clock()
                    promoted.append(nxt)
            repo.flush()
            for nxt in promoted:
                decided(work, project, nxt, "promoted")
            return row, promoted

    def decide(
        self, p: Principal, sign_up_id: str, approve: bool, reason: str
    ) -> m.SignUp:
        """The project's leader approves (a place or the waitlist) or rejects
        a pending sign-up."""
        p.require_any(*domain.MANAGERS)
        ident = required(sign_up_id, "sign_up_id")
        if not approve:
            reason = required(reason, "reason")
            if len(reason) > 500:
                raise InvalidArgument.too_long("reason", 500)
        with self.ctx.uow(p.scope) as work:
            repo = self.ctx.repo(work)
            row = repo.sign_up(ident)
            if not p.scope.contains(row.division_code):  # the volunteer's tenant
                raise missing("sign_up_id", "sign-up", "报名", ident)
            repo.lock_queue_of(row)
            session, project = repo.session_of(row.session_id)
            require_organisation(p, project.organisation_id, "organisation_id")
            target = "confirmed" if approve else "rejected"
            self._check_open(project, row, target, ("pending",))
            if approve:
                confirmed = repo.confirmed(row.session_id)
                target = domain.place_for(confirmed, session.capacity, False)
                # The queue is first come, first served from approval on.
                row.queue_number = repo.next_queue_number(row.session_id)
            row.status, row.reason, row.decided_at = target, reason, self.ctx.clock()
            repo.flush()
            decided(work, project, row)
            return row

    def _check_open(
        self,
        project: m.Project,
        row: m.SignUp,
        target: str,
        allowed: tuple[str, ...] = ACTIVE,
    ) -> None:
        if row.status not in allowed:
            raise FailedPrecondition.transition("sign-up", "报名", row.status, target)
        if project.status not in domain.OPEN:
            raise not_open(
                "the project is closed", "项目已结束或取消", "project.recruiting"
            )


DECISIONS = {
    "confirmed": "approved",
    "waitlisted": "waitlisted",
    "rejected": "rejected",
}


def decided(work: Work, project: m.Project, row: m.SignUp, status: str = "") -> str:
    """Announce a decided place (``activity.signup.decided``) in the unit of
    work that decides it: approved (a place), waitlisted, promoted from the
    waitlist, or rejected; the volunteer's inbox follows it."""
    return work.record(
        "activity.signup.decided",
        project.division_code,
        {
            "sign_up_id": row.id,
            "session_id": row.session_id,
            "project_id": project.id,
            "project_title": project.title,
            "volunteer_id": row.volunteer_id,
            "volunteer_number": row.volunteer_number,
            "volunteer_division_code": row.volunteer_division_code,
            "division_code": project.division_code,
            "status": status or DECISIONS[row.status],
        },
    )


def _twice() -> AlreadyExists:
    return AlreadyExists(
        "the volunteer has already signed up for this session",
        "该志愿者已报名此场次",
        field="volunteer_id",
        rule="sign_up.unique",
    )
