"""Use cases for training (培训): a tenant's course catalogue (a menu for its
subtree, edited by the owner tenant), sessions of a course, attendance with
training hours, a volunteer's own training record, and the check a
project's required course makes on sign-up.

Training hours are kept apart from service hours (2012 Measures Art. 7):
nothing here records an event the hours service consumes, and nothing is
counted in the service-hour rollups.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from services.activity import domain
from services.activity import models as m
from services.activity.usecases.base import Context
from services.common.auth import Principal
from services.common.checks import ident as checked_id
from services.common.checks import text, utc_moment
from services.common.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from services.common.paging import Page, next_token, page_bounds
from services.common.roles import ADMINS, own_volunteer
from services.common.tenancy import Scope
from services.common.times import utc

MAX_TRAINING = timedelta(hours=24)


@dataclass(frozen=True)
class SessionView:
    session: m.TrainingSession
    course_title: str
    attended: int


@dataclass(frozen=True)
class OwnTraining:
    row: m.TrainingAttendance
    course_title: str
    session: m.TrainingSession | None


def training_hours(value: float, length: timedelta) -> Decimal:
    """The hours asked for (0: the session's length), at most its length,
    to two decimals.

    Example:
        >>> training_hours(0, timedelta(hours=2, minutes=30))
        Decimal('2.50')
    """
    longest = Decimal(length.total_seconds() / 3600).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )
    hours = (
        longest
        if value == 0
        else Decimal(str(value)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    )
    if not Decimal("0") < hours <= longest:
        raise InvalidArgument(
            "hours",
            "hours.range",
            f"must be more than 0 and at most the session's {longest} hours",
            f"培训时长须大于 0 且不超过该场次的 {longest} 小时",
        )
    return hours


class TrainingCases:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    # -- the catalogue ---------------------------------------------------------------
    def create_course(
        self, p: Principal, node: str, title: str, description: str
    ) -> m.Course:
        """A course of the tenant at ``node`` (default the caller's scope),
        offered to its whole subtree."""
        p.require_any(*ADMINS)
        title = text(title, "title", 100)
        description = text(description, "description", 2000, required=False)
        code = p.scope.require(node or p.scope.code)
        with self.ctx.uow(p.scope) as work:
            row = m.Course(
                id=str(uuid.uuid4()),
                division_code=code,
                title=title,
                description=description,
                created_by=p.username,
                created_at=self.ctx.clock(),
            )
            self.ctx.repo(work).add(row)
            return row

    def courses(self, p: Principal, node: str, size: int, token: str) -> Page:
        p.require_any(*domain.READERS)
        size, offset = page_bounds(size, token)
        with self.ctx.uow(p.scope) as work:
            repo = self.ctx.repo(work)
            order = (m.Course.division_code, m.Course.title, m.Course.id)
            q = repo.courses_at(node or p.scope.code)
            items, total = repo.list_page(q, order, size, offset)
            return Page(items, next_token(offset, size, total), total)

    # -- sessions and attendance ------------------------------------------------------
    def create_session(
        self,
        p: Principal,
        course_id: str,
        node: str,
        place: str,
        starts_at: str,
        ends_at: str,
    ) -> SessionView:
        """A session of a course offered at ``node`` (its own or an
        ancestor's catalogue), held by the tenant at ``node``."""
        p.require_any(*domain.MANAGERS)
        course_id = checked_id(course_id, "course_id")
        code = p.scope.require(node or p.scope.code)
        place = text(place, "place", 200)
        start = utc_moment(starts_at, "starts_at")
        end = utc_moment(ends_at, "ends_at")
        if end <= start or end - start > MAX_TRAINING:
            raise InvalidArgument(
                "ends_at",
                "ends_at.after_start",
                "must be after the start, within 24 hours",
                "结束时间须晚于开始时间，且不超过 24 小时",
            )
        with self.ctx.uow(p.scope) as work:
            repo = self.ctx.repo(work)
            course = repo.course_offered_at(course_id, code, "course_id")
            row = m.TrainingSession(
                id=str(uuid.uuid4()),
                course_id=course.id,
                division_code=code,
                place=place,
                starts_at=start,
                ends_at=end,
                created_by=p.username,
                created_at=self.ctx.clock(),
            )
            repo.add(row)
            return SessionView(row, course.title, 0)

    def sessions(
        self, p: Principal, node: str, course_id: str, size: int, token: str
    ) -> Page:
        p.require_any(*domain.READERS)
        course_id = checked_id(course_id, "course_id", required=False)
        size, offset = page_bounds(size, token)
        with self.ctx.uow(p.scope) as work:
            repo = self.ctx.repo(work)
            t = m.TrainingSession
            q = repo.under(t, node or p.scope.code)
            if course_id:
                q = q.where(t.course_id == course_id)
            rows, total = repo.list_page(q, (t.starts_at.desc(), t.id), size, offset)
            titles = repo.course_titles([x.course_id for x in rows])
            counts = repo.attended_counts([x.id for x in rows])
            items = [
                SessionView(x, titles.get(x.course_id, ""), counts.get(x.id, 0))
                for x in rows
            ]
            return Page(items, next_token(offset, size, total), total)

    def record(
        self, p: Principal, session_id: str, volunteer_id: str, hours: float
    ) -> m.TrainingAttendance:
        """The volunteer (in the caller's scope) attended the session (held
        in it) for ``hours`` training hours."""
        p.require_any(*domain.MANAGERS)
        session_id = checked_id(session_id, "training_session_id")
        volunteer_id = text(volunteer_id, "volunteer_id", 36)
        with self.ctx.uow(p.scope) as work:
            repo = self.ctx.repo(work)
            session = repo.training_session(session_id)
            vol = repo.volunteer(volunteer_id)
            amount = training_hours(
                hours, utc(session.ends_at) - utc(session.starts_at)
            )
            if repo.training_attendance(session.id, vol.id) is not None:
                raise AlreadyExists(
                    "the volunteer's attendance of this session is recorded",
                    "该志愿者的本场培训签到已登记",
                    field="volunteer_id",
                    rule="training_attendance.unique",
                )
            row = m.TrainingAttendance(
                id=str(uuid.uuid4()),
                training_session_id=session.id,
                course_id=session.course_id,
                division_code=session.division_code,
                volunteer_id=vol.id,
                volunteer_number=vol.volunteer_number,
                volunteer_division_code=vol.home_division_code,
                hours=amount,
                recorded_by=p.username,
                recorded_at=self.ctx.clock(),
            )
            repo.add(row)
            return row

    def attendances(self, p: Principal, session_id: str, size: int, token: str) -> Page:
        p.require_any(*domain.READERS)
        session_id = checked_id(session_id, "training_session_id")
        size, offset = page_bounds(size, token)
        with self.ctx.uow(p.scope) as work:
            repo = self.ctx.repo(work)
            repo.training_session(session_id)
            t = m.TrainingAttendance
            q = repo.training_attendances_of(session_id)
            items, total = repo.list_page(q, (t.volunteer_number, t.id), size, offset)
            return Page(items, next_token(offset, size, total), total)

    # -- a volunteer's own record ------------------------------------------------------
    def mine(self, p: Principal, size: int, token: str) -> tuple[Page, Decimal]:
        """The token's volunteer's training, newest first, and the hours in
        all; read under the home province, narrowed to the volunteer."""
        vol = own_volunteer(p)
        size, offset = page_bounds(size, token)
        with self.ctx.uow(Scope(p.scope.code[:2])) as work:
            repo = self.ctx.repo(work)
            t = m.TrainingAttendance
            q = repo.my_training(vol)
            rows, total = repo.list_page(q, (t.recorded_at.desc(), t.id), size, offset)
            titles = repo.course_titles([x.course_id for x in rows])
            sessions = repo.training_sessions_by_id(
                [x.training_session_id for x in rows]
            )
            items = [
                OwnTraining(
                    x,
                    titles.get(x.course_id, ""),
                    sessions.get(x.training_session_id),
                )
                for x in rows
            ]
            hours = repo.training_hours_of(vol)
            return Page(items, next_token(offset, size, total), total), hours

    # -- the sign-up check ---------------------------------------------------------
    def require_course(
        self, project: m.Project, course_title: str, volunteer_id: str, home: str
    ) -> None:
        """Refuse a sign-up of a volunteer who attended no session of the
        project's required course (read under the volunteer's home scope)."""
        course_id = project.required_course_id
        if not course_id:
            return
        with self.ctx.uow(Scope(home)) as work:
            done = self.ctx.repo(work).trained(volunteer_id, course_id)
        if not done:
            raise FailedPrecondition(
                f"the project requires the training course '{course_title}' first",
                f"该项目要求先参加培训课程“{course_title}”",
                field="required_course_id",
                rule="eligibility.course",
            )
