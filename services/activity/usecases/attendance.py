"""Use cases for attendance: the rotating code, check-in, check-out and the
leader's late close. A check-out is a fact others count on (hours), so it is
announced through the outbox in the same transaction."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from services.activity import domain, validation
from services.activity import models as m
from services.activity.repository import Repository, missing
from services.activity.usecases.base import Context, bump
from services.activity.usecases.signups import required
from services.common.auth import Principal
from services.common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    PermissionDenied,
)
from services.common.roles import require_organisation
from services.common.tenancy import Scope
from services.common.times import iso, utc
from services.common.unit_of_work import Work

_CODE = re.compile(r"^\d{6}$")


# Wrong-code attempts per session and volunteer, in this api process.
GUESSES = domain.CodeGuesses()


class AttendanceCases:
    """The rotating code, check-in, check-out and the late close."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def checkin_code(
        self, p: Principal, session_id: str
    ) -> tuple[str, datetime, datetime]:
        """The current code of a running session, for its leader to show."""
        p.require_any(*domain.MANAGERS)
        with self.ctx.uow(p.scope) as work:
            session, project = self.ctx.repo(work).session_of(
                required(session_id, "session_id")
            )
            require_organisation(p, project.organisation_id, "organisation_id")
            _running(project)
            window = domain.code_window(self.ctx.clock())
            code = domain.checkin_code(session.secret, window)
        start = datetime.fromtimestamp(window * domain.WINDOW_SECONDS, UTC)
        end = datetime.fromtimestamp((window + 1) * domain.WINDOW_SECONDS, UTC)
        return code, start, end

    def check_in(
        self, p: Principal, session_id: str, volunteer_id: str, code: str
    ) -> m.Attendance:
        """Check a confirmed volunteer in, by the current code or (no code) by
        the leader directly. Twice is ALREADY_EXISTS."""
        scope, reach = self._locate(p, session_id, volunteer_id, code)
        return self.check_in_at(p, scope, reach, session_id, volunteer_id, code)

    def check_in_at(
        self,
        p: Principal,
        scope: Scope,
        reach: str,
        session_id: str,
        volunteer_id: str,
        code: str,
    ) -> m.Attendance:
        """:meth:`check_in` under the project's ``scope``, once the caller
        is located (``reach``: how it reaches the project, see ``_locate``)."""
        with self.ctx.uow(scope) as work:
            repo = self.ctx.repo(work)
            session, project = repo.session_of(session_id)
            _running(project)
            sign_up = repo.active_sign_up(session_id, volunteer_id)
            if sign_up is None or sign_up.status != "confirmed":
                raise FailedPrecondition(
                    "the volunteer has no confirmed place in this session",
                    "该志愿者在本场次没有已确认的名额",
                    field="volunteer_id",
                    rule="attendance.confirmed_sign_up",
                )
            self._check_caller(p, reach, sign_up.volunteer_division_code, volunteer_id)
            now = self.ctx.clock()
            self._check_code(session, code, now, volunteer_id)
            domain.check_in_allowed(now, utc(session.starts_at), utc(session.ends_at))
            if repo.attendance(session_id, volunteer_id) is not None:
                raise AlreadyExists(
                    "the volunteer has already checked in",
                    "该志愿者已签到",
                    field="volunteer_id",
                    rule="attendance.unique",
                )
            row = m.Attendance(
                id=str(uuid.uuid4()),
                session_id=session_id,
                project_id=project.id,
                sign_up_id=sign_up.id,
                division_code=project.division_code,
                volunteer_id=volunteer_id,
                volunteer_number=sign_up.volunteer_number,
                volunteer_division_code=sign_up.volunteer_division_code,
                checked_in_at=now,
            )
            repo.add(row)
            repo.flush()
            return row

    def check_out(
        self, p: Principal, session_id: str, volunteer_id: str, code: str
    ) -> m.Attendance:
        """Check out by code (closed by the volunteer) or by the leader."""
        scope, reach = self._locate(p, session_id, volunteer_id, code)
        return self.check_out_at(p, scope, reach, session_id, volunteer_id, code)

    def check_out_at(
        self,
        p: Principal,
        scope: Scope,
        reach: str,
        session_id: str,
        volunteer_id: str,
        code: str,
    ) -> m.Attendance:
        """:meth:`check_out` under the project's ``scope`` (see
        :meth:`check_in_at`)."""
        with self.ctx.uow(scope) as work:
            repo = self.ctx.repo(work)
            session, project = repo.session_of(session_id)
            row = _open_attendance(repo, session_id, volunteer_id)
            self._check_caller(p, reach, row.volunteer_division_code, volunteer_id)
            now = self.ctx.clock()
            self._check_code(session, code, now, volunteer_id)
            domain.check_out_allowed(now, utc(row.checked_in_at), utc(session.ends_at))
            closed_by = "volunteer" if code else "leader"
            return self._close(work, repo, session, project, row, now, closed_by)

    def close_attendance(
        self, p: Principal, session_id: str, volunteer_id: str, ended_at: str
    ) -> m.Attendance:
        """The leader closes a forgotten check-out at the time service ended,
        never after the session's end."""
        p.require_any(*domain.MANAGERS)
        session_id = required(session_id, "session_id")
        volunteer_id = required(volunteer_id, "volunteer_id")
        ended = validation.utc_moment(ended_at, "ended_at")
        with self.ctx.uow(p.scope) as work:
            repo = self.ctx.repo(work)
            session, project = repo.session_of(session_id)
            require_organisation(p, project.organisation_id, "organisation_id")
            row = _open_attendance(repo, session_id, volunteer_id)
            # Service not yet done cannot be recorded: never after now either.
            latest = min(utc(session.ends_at), self.ctx.clock())
            domain.check_close(ended, utc(row.checked_in_at), latest)
            return self._close(work, repo, session, project, row, ended, "leader")

    # -- shared steps ------------------------------------------------------------------
    def _locate(
        self, p: Principal, session_id: str, volunteer_id: str, code: str
    ) -> tuple[Scope, str]:
        """The scope to act under and how the caller reaches the project. A
        code proves presence, so any reader (or the volunteer role) may hand
        it in; without a code only the project's own leaders may act."""
        code = (code or "").strip()
        if code:
            p.require_any(*domain.READERS, "volunteer")
            code_text(code)
        else:
            p.require_any(*domain.MANAGERS)
        session_id = required(session_id, "session_id")
        required(volunteer_id, "volunteer_id")
        with self.ctx.uow(p.scope) as work:
            _, project = self.ctx.repo(work).session_of(session_id, reach_up=True)
            reach = domain.reach(
                p.scope.code, project.division_code, project.emergency, project.status
            )
        if not reach:  # an ancestor's emergency campaign that has closed
            _running(project)
        if reach == "emergency" and not code:
            raise PermissionDenied(
                "only the project's own leaders may check in or out without a code",
                "只有项目所属单位的负责人可以不凭签到码直接签到签退",
                rule="attendance.leader_scope",
            )
        if not code:  # the leader directly: its own organisation's projects
            require_organisation(p, project.organisation_id, "organisation_id")
        return Scope(project.division_code), reach

    def _check_caller(
        self, p: Principal, reach: str, home: str, volunteer_id: str
    ) -> None:
        # From below an emergency campaign, only one's own volunteers.
        if reach == "emergency" and not p.scope.contains(home):
            raise missing("volunteer_id", "volunteer", "志愿者", volunteer_id)

    def _check_code(
        self, session: m.ProjectSession, code: str, now: datetime, volunteer_id: str
    ) -> None:
        if not code:
            return
        # Per volunteer: one person's typos never lock the others out.
        key = f"{session.id}/{volunteer_id}"
        if not GUESSES.allowed(key, now):
            raise too_many_guesses()
        if not domain.code_accepted(session.secret, code.strip(), now):
            GUESSES.missed(key, now)
            raise wrong_code()

    def _close(
        self,
        work: Work,
        repo: Repository,
        session: m.ProjectSession,
        project: m.Project,
        row: m.Attendance,
        at: datetime,
        closed_by: str,
    ) -> m.Attendance:
        row.checked_out_at, row.closed_by = at, closed_by
        repo.flush()
        bump(work, project.division_code, at, attendances=1)
        work.record(
            "activity.attendance.checked_out",
            project.division_code,
            {
                "attendance_id": row.id,
                "project_id": project.id,
                "project_title": project.title,
                "session_id": session.id,
                "session_start": iso(session.starts_at),
                "session_end": iso(session.ends_at),
                "volunteer_id": row.volunteer_id,
                "volunteer_number": row.volunteer_number,
                "organisation_id": project.organisation_id,
                "organisation_name": project.organisation_name,
                "division_code": project.division_code,
                "service_field": project.service_field,
                "kind": project.kind,
                "checked_in_at": iso(row.checked_in_at),
                "checked_out_at": iso(at),
                "closed_by": closed_by,
            },
        )
        return row


def too_many_guesses() -> FailedPrecondition:
    return FailedPrecondition(
        "too many wrong codes; wait a few minutes",
        "签到码错误次数过多，请稍后再试",
        field="code",
        rule="code.attempts",
    )


def wrong_code() -> InvalidArgument:
    return InvalidArgument(
        "code",
        "code.mismatch",
        "the code is wrong or has expired; use the code now on the leader's screen",
        "签到码错误或已过期，请使用负责人屏幕上当前显示的签到码",
    )


def code_text(code: str) -> str:
    """The code as typed, stripped, if it has the form of one (six digits)."""
    code = (code or "").strip()
    if not code:
        raise InvalidArgument.required("code")
    if not _CODE.match(code):
        raise InvalidArgument("code", "code.format", "six digits", "签到码为 6 位数字")
    return code


def _running(project: m.Project) -> None:
    if project.status != "in_progress":
        raise FailedPrecondition(
            "the project is not in progress",
            "项目未在进行中",
            rule="project.in_progress",
        )


def _open_attendance(
    repo: Repository, session_id: str, volunteer_id: str
) -> m.Attendance:
    row = repo.attendance(session_id, volunteer_id)
    if row is None:
        raise FailedPrecondition(
            "the volunteer has not checked in",
            "该志愿者尚未签到",
            field="volunteer_id",
            rule="attendance.checked_in",
        )
    if row.checked_out_at is not None:
        raise FailedPrecondition.transition(
            "attendance", "考勤", "checked_out", "checked_out"
        )
    return row
