"""Use cases of a volunteer's own pages: signing up, withdrawing, checking in
and out by the leader's rotating code.

The volunteer is the one the token names (``own_volunteer``), never one a
request names; the home division is the token's scope. The volunteer's part
is read under the scope of their province (every project open to them lies
in it), each read narrowed to what is theirs or open to them; a session or
sign-up that is neither is NOT_FOUND exactly as an unknown id. The writes
then go through the leaders' own steps under the project's scope, so
capacity, the waitlist, the code's window and the session's times are the
same rules.
"""

from __future__ import annotations

from services.activity import domain
from services.activity import models as m
from services.activity.repository import Repository
from services.activity.usecases.attendance import (
    GUESSES,
    AttendanceCases,
    code_text,
    too_many_guesses,
    wrong_code,
)
from services.activity.usecases.base import Context
from services.activity.usecases.signups import Candidate, SignUpCases, required
from services.common.auth import Principal
from services.common.db import KeyTaken
from services.common.errors import (
    AlreadyExists,
    FailedPrecondition,
    NotFound,
)
from services.common.roles import own_volunteer
from services.common.tenancy import Scope, ancestors

# "own" reach: the volunteer acts for themself (see AttendanceCases._locate).
SELF = "own"


def province(home: str) -> Scope:
    """Where a volunteer's projects, sessions and sign-ups are read."""
    return Scope(home[:2])


class OwnCases:
    """Sign-up, withdrawal, check-in and check-out for oneself."""

    def __init__(self, ctx: Context, signups: SignUpCases, attendance: AttendanceCases):
        self.ctx, self.signups, self.attendance = ctx, signups, attendance

    # -- sign-ups -------------------------------------------------------------------
    def sign_up(self, p: Principal, session_id: str) -> tuple[m.SignUp, int]:
        """Sign oneself up for a session of a project open to one (of the home
        division or an ancestor); returns the sign-up and its waitlist place
        (0 when not waitlisted)."""
        vol, home = own_volunteer(p), p.scope.code
        session_id = required(session_id, "session_id")
        with self.ctx.uow(province(home)) as work:
            repo = self.ctx.repo(work)
            _, project = repo.my_session(session_id, home, vol)
            if project.division_code not in ancestors(home):
                # Signed up by a leader below the home: not open to join.
                raise NotFound.named_by("session_id", "session", "活动场次", session_id)
            who = _candidate(repo, vol)
        try:
            row = self.signups.join(p, Scope(project.division_code), session_id, who)
        except (KeyTaken, AlreadyExists) as exc:
            raise _twice() from exc
        except FailedPrecondition as exc:
            if exc.field == "volunteer_id":  # no such field in this request
                exc.field = None
            raise
        return row, self.position(row)

    def position(self, row: m.SignUp) -> int:
        """The sign-up's place in its session's waitlist (0: not waitlisted)."""
        if row.status != "waitlisted":
            return 0
        with self.ctx.uow(Scope(row.division_code)) as work:
            waiting = [x.id for x in self.ctx.repo(work).waitlist(row.session_id)]
        return waiting.index(row.id) + 1 if row.id in waiting else 0

    def withdraw(self, p: Principal, sign_up_id: str) -> m.SignUp:
        """Withdraw one's own sign-up; a freed place goes to the head of the
        waitlist. Another volunteer's sign-up is NOT_FOUND."""
        vol, home = own_volunteer(p), p.scope.code
        ident = required(sign_up_id, "id")
        with self.ctx.uow(province(home)) as work:
            division = self.ctx.repo(work).my_sign_up(ident, vol).division_code
        row, _ = self.signups.withdraw_in(Scope(division), ident)
        return row

    # -- attendance -----------------------------------------------------------------
    def check_in(self, p: Principal, code: str, session_id: str) -> m.Attendance:
        """Check oneself in by the code on the leader's screen; without a
        session the code picks one of one's sessions under way."""
        vol, scope, sid, code = self._session_for(p, code, session_id, out=False)
        return self.attendance.check_in_at(p, scope, SELF, sid, vol, code)

    def check_out(self, p: Principal, code: str, session_id: str) -> m.Attendance:
        """Check oneself out by the code (see :meth:`check_in`)."""
        vol, scope, sid, code = self._session_for(p, code, session_id, out=True)
        return self.attendance.check_out_at(p, scope, SELF, sid, vol, code)

    def _session_for(
        self, p: Principal, code: str, session_id: str, out: bool
    ) -> tuple[str, Scope, str, str]:
        vol, home = own_volunteer(p), p.scope.code
        code = code_text(code)
        session_id = (session_id or "").strip()
        with self.ctx.uow(province(home)) as work:
            repo = self.ctx.repo(work)
            if session_id:
                session, _ = repo.my_session(session_id, home, vol)
            else:
                session = self._match(repo, vol, code, out)
            return vol, Scope(session.division_code), session.id, code

    def _match(
        self, repo: Repository, vol: str, code: str, out: bool
    ) -> m.ProjectSession:
        """The one of the volunteer's sessions under way whose code this is."""
        now = self.ctx.clock()
        if out:
            under_way = repo.sessions_to_check_out(vol, now, domain.GRACE)
        else:
            under_way = repo.sessions_to_check_in(vol, now, domain.GRACE)
        if not under_way:
            raise _nothing_under_way(out)
        key = f"own/{vol}"
        if not GUESSES.allowed(key, now):
            raise too_many_guesses()
        for session in under_way:
            if domain.code_accepted(session.secret, code, now):
                return session
        GUESSES.missed(key, now)
        raise wrong_code()


def _candidate(repo: Repository, vol: str) -> Candidate:
    """The volunteer as the queue needs them, refused unless verified (a
    registration not yet replicated here is still awaiting verification)."""
    try:
        v = repo.volunteer(vol)
    except NotFound:
        v = None
    if v is None or v.status == "pending":
        raise FailedPrecondition(
            "your registration is awaiting your office's verification",
            "你的注册信息正在等待所在地志愿服务组织审核，审核通过后即可报名",
            rule="eligibility.verified",
        )
    if v.status != "verified":
        raise FailedPrecondition(
            "your registration was not approved; please ask your office",
            "你的注册未通过审核，请联系所在地志愿服务组织",
            rule="eligibility.verified",
        )
    return Candidate(
        v.id, v.volunteer_number, v.home_division_code, v.status, v.birth_date,
        list(v.service_fields),
    )  # fmt: skip


def _twice() -> AlreadyExists:
    return AlreadyExists(
        "you have already signed up for this session",
        "你已报名该场次",
        field="session_id",
        rule="sign_up.unique",
    )


def _nothing_under_way(out: bool) -> FailedPrecondition:
    if out:
        return FailedPrecondition(
            "you are not checked in to any session that is still open",
            "你目前没有可以签退的活动场次",
            field="code",
            rule="attendance.none_under_way",
        )
    return FailedPrecondition(
        "you have no confirmed place in a session under way now",
        "你目前没有正在进行且已确认名额的活动场次",
        field="code",
        rule="attendance.none_under_way",
    )
