"""Scoped data access for activity: every statement its use cases make, and
the only place that knows PostgreSQL from SQLite (embedded mode). A
:class:`Repository` is built from a session and a :class:`Scope`; every
tenant query it issues filters by that scope's prefix, and row-level security
repeats the filter in PostgreSQL.

Emergency campaigns are the one exception the tree allows upward: a node may
read (never write) the open emergency projects of its ancestors.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, delete, false, func, or_, select, text
from sqlalchemy.orm import aliased

from services.activity import models as m
from services.common import settings_replica
from services.common.db import SessionRepository
from services.common.errors import NotFound
from services.common.paging import page_rows
from services.common.tenancy import Scope, ancestors

# Not found, named by the request's field (kept under this name for callers).
missing = NotFound.named_by
# Projects a volunteer may see once published (drafts and reviews stay the
# office's).
PUBLISHED = ("recruiting", "in_progress", "completed", "cancelled")


@dataclass
class ProjectView:
    """A project with its sessions and their confirmed/waitlisted counts."""

    project: m.Project
    sessions: list[m.ProjectSession]
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)


class Repository(SessionRepository[Scope]):
    def save_project(
        self, project: m.Project, sessions: list[m.ProjectSession]
    ) -> None:
        """Write a project and replace its sessions whole (nobody can sign up
        before recruiting, so no sign-up hangs on an old one)."""
        self.s.add(project)
        self.s.flush()
        t = m.ProjectSession
        self.s.execute(delete(t).where(t.project_id == project.id))
        self.s.add_all(sessions)
        self.s.flush()

    # -- visibility -------------------------------------------------------------
    def _inside(self, column: Any) -> Any:
        return column.like(self.scope.like_pattern)

    def _reachable(self, model: Any) -> Any:
        """Inside the scope, or an emergency campaign of an ancestor."""
        above = ancestors(self.scope.code, include_self=False)
        upward = (
            and_(model.emergency, model.division_code.in_(above)) if above else false()
        )
        return or_(self._inside(model.division_code), upward)

    def _one(self, query: Any, field: str, kind: tuple[str, str], key: str) -> Any:
        row = self.s.execute(query).scalar_one_or_none()
        if row is None:
            # Another tenant's row and no row at all get the same answer.
            raise missing(field, kind[0], kind[1], key)
        return row

    # -- replicas -----------------------------------------------------------------
    def organisation(self, ident: str, field: str) -> m.OrganisationReplica:
        t = m.OrganisationReplica
        q = select(t).where(t.id == ident, self._inside(t.division_code))
        return self._one(q, field, ("organisation", "组织"), ident)

    def volunteer(self, ident: str, field: str = "volunteer_id") -> m.VolunteerReplica:
        t = m.VolunteerReplica
        q = select(t).where(t.id == ident, self._inside(t.home_division_code))
        return self._one(q, field, ("volunteer", "志愿者"), ident)

    # -- projects and sessions --------------------------------------------------------
    def project(
        self, ident: str, reach_up: bool = False, lock: bool = False, field: str = "id"
    ) -> m.Project:
        t = m.Project
        where = self._reachable(t) if reach_up else self._inside(t.division_code)
        q = select(t).where(t.id == ident, where)
        return self._one(
            q.with_for_update() if lock else q, field, ("project", "项目"), ident
        )

    def session_of(
        self, ident: str, reach_up: bool = False
    ) -> tuple[m.ProjectSession, m.Project]:
        t = m.ProjectSession
        where = self._reachable(t) if reach_up else self._inside(t.division_code)
        q = select(t).where(t.id == ident, where)
        row = self._one(q, "session_id", ("session", "活动场次"), ident)
        return row, self.project(row.project_id, reach_up)

    def view(self, project: m.Project) -> ProjectView:
        return self.views([project])[0]

    def views(self, projects: list[m.Project]) -> list[ProjectView]:
        """Projects with their sessions and counts, in two queries for a page."""
        t = m.ProjectSession
        q = select(t).where(t.project_id.in_([p.id for p in projects]))
        sessions = list(self.s.execute(q.order_by(t.starts_at, t.id)).scalars())
        counts = self.counts([x.id for x in sessions])
        return [
            ProjectView(p, [x for x in sessions if x.project_id == p.id], counts)
            for p in projects
        ]

    def counts(self, session_ids: list[str]) -> dict[str, tuple[int, int]]:
        if not session_ids:
            return {}
        t = m.SignUp
        rows = self.s.execute(
            select(t.session_id, t.status, func.count())
            .where(
                t.session_id.in_(session_ids), t.status.in_(("confirmed", "waitlisted"))
            )
            .group_by(t.session_id, t.status)
        ).all()
        out = {sid: (0, 0) for sid in session_ids}
        for sid, status, n in rows:
            c, w = out[sid]
            out[sid] = (n, w) if status == "confirmed" else (c, n)
        return out

    # -- the queue of a session -------------------------------------------------------
    def lock_session(self, session_id: str) -> None:
        """Serialise sign-ups of one session (capacity is counted, not stored).
        A transaction-scoped advisory lock, since a caller may lack the right
        to lock the session row itself."""
        if self.s.get_bind().dialect.name == "postgresql":
            key = uuid.UUID(session_id).int % (1 << 63)
            self.s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})

    def lock_queue_of(self, row: m.SignUp) -> None:
        """Serialise on the sign-up's session, then read the row again: it
        may have changed while this transaction waited for the lock."""
        self.lock_session(row.session_id)
        self.s.refresh(row)

    def confirmed(self, session_id: str) -> int:
        return self.counts([session_id])[session_id][0]

    def waitlist(self, session_id: str) -> list[m.SignUp]:
        t = m.SignUp
        q = select(t).where(t.session_id == session_id, t.status == "waitlisted")
        return list(self.s.execute(q.order_by(t.queue_number)).scalars())

    def next_queue_number(self, session_id: str) -> int:
        t = m.SignUp
        q = select(func.coalesce(func.max(t.queue_number), 0)).where(
            t.session_id == session_id
        )
        return int(self.s.execute(q).scalar_one()) + 1

    def sign_up(self, ident: str, field: str = "sign_up_id") -> m.SignUp:
        """Readable by the project's tenant and by the volunteer's."""
        t = m.SignUp
        either = or_(
            self._inside(t.division_code), self._inside(t.volunteer_division_code)
        )
        q = select(t).where(t.id == ident, either)
        return self._one(q, field, ("sign-up", "报名"), ident)

    def active_sign_up(self, session_id: str, volunteer_id: str) -> m.SignUp | None:
        t = m.SignUp
        q = select(t).where(
            t.session_id == session_id,
            t.volunteer_id == volunteer_id,
            t.status.in_(("pending", "confirmed", "waitlisted")),
        )
        return self.s.execute(q).scalar_one_or_none()

    def attendance(self, session_id: str, volunteer_id: str) -> m.Attendance | None:
        t = m.Attendance
        q = select(t).where(t.session_id == session_id, t.volunteer_id == volunteer_id)
        return self.s.execute(q.with_for_update()).scalar_one_or_none()

    def open_attendances(self, project_id: str) -> int:
        t = m.Attendance
        q = select(func.count()).where(
            t.project_id == project_id, t.checked_out_at.is_(None)
        )
        return int(self.s.execute(q).scalar_one())

    # -- tenant settings and insurance ---------------------------------------------
    def settings(self, code: str) -> dict[str, Any]:
        """Every setting's effective value at ``code`` (from the replica of
        registration's overrides; ancestors' rows are readable)."""
        return settings_replica.effective(self.s, m.PolicyNode, code)

    def current_cover(self, project_id: str) -> m.InsuranceCover | None:
        t = m.InsuranceCover
        q = select(t).where(
            t.project_id == project_id,
            t.replaced_at.is_(None),
            self._inside(t.division_code),
        )
        return self.s.execute(q).scalar_one_or_none()

    def covered(
        self, project_id: str, size: int = 0, offset: int = 0
    ) -> tuple[list[tuple[str, str, int]], int]:
        """The volunteers a cover holds (the project's confirmed sign-ups):
        (volunteer id, number, sessions) by number, and how many in all."""
        t = m.SignUp
        q = (
            select(t.volunteer_id, t.volunteer_number, func.count())
            .where(
                t.project_id == project_id,
                t.status == "confirmed",
                self._inside(t.division_code),
            )
            .group_by(t.volunteer_id, t.volunteer_number)
        )
        total = self.s.execute(select(func.count()).select_from(q.subquery()))
        q = q.order_by(t.volunteer_number, t.volunteer_id).offset(offset)
        rows = self.s.execute(q.limit(size) if size else q).all()
        return [(a, b, int(n)) for a, b, n in rows], int(total.scalar_one())

    # -- training -----------------------------------------------------------------
    def _offered(self, model: Any, node: str) -> Any:
        """Courses at ``node``'s ancestors or itself (the menu), or below it."""
        return or_(
            model.division_code.in_(ancestors(node)),
            model.division_code.like(f"{node}%"),
        )

    def course(self, ident: str, field: str = "course_id") -> m.Course:
        """A course the scope sees: its own subtree's or an ancestor's."""
        t = m.Course
        q = select(t).where(t.id == ident, self._offered(t, self.scope.code))
        return self._one(q, field, ("course", "培训课程"), ident)

    def course_offered_at(self, ident: str, node: str, field: str) -> m.Course:
        """A course of ``node``'s own or an ancestor's catalogue (what an
        organisation or a session at ``node`` may use)."""
        t = m.Course
        q = select(t).where(
            t.id == ident,
            t.division_code.in_(ancestors(node)),
            self._offered(t, self.scope.code),
        )
        return self._one(q, field, ("course", "培训课程"), ident)

    def courses_at(self, node: str) -> Any:
        self.scope.require(node)
        return select(m.Course).where(self._offered(m.Course, node))

    def training_session(
        self, ident: str, field: str = "training_session_id"
    ) -> m.TrainingSession:
        t = m.TrainingSession
        q = select(t).where(t.id == ident, self._inside(t.division_code))
        return self._one(q, field, ("training session", "培训场次"), ident)

    def training_attendance(
        self, session_id: str, volunteer_id: str
    ) -> m.TrainingAttendance | None:
        t = m.TrainingAttendance
        q = select(t).where(
            t.training_session_id == session_id, t.volunteer_id == volunteer_id
        )
        return self.s.execute(q).scalar_one_or_none()

    def trained(self, volunteer_id: str, course_id: str) -> bool:
        """Whether the volunteer attended a session of the course (read
        under the volunteer's home scope: their attendance, wherever held)."""
        t = m.TrainingAttendance
        q = select(t.id).where(
            t.volunteer_id == volunteer_id,
            t.course_id == course_id,
            or_(self._inside(t.division_code), self._inside(t.volunteer_division_code)),
        )
        return self.s.execute(q.limit(1)).first() is not None

    def attended_counts(self, session_ids: list[str]) -> dict[str, int]:
        if not session_ids:
            return {}
        t = m.TrainingAttendance
        q = (
            select(t.training_session_id, func.count())
            .where(t.training_session_id.in_(session_ids))
            .group_by(t.training_session_id)
        )
        return {sid: int(n) for sid, n in self.s.execute(q).all()}

    def course_titles(self, course_ids: list[str]) -> dict[str, str]:
        if not course_ids:
            return {}
        t = m.Course
        q = select(t.id, t.title).where(t.id.in_(set(course_ids)))
        return {i: title for i, title in self.s.execute(q).all()}

    def training_attendances_of(self, session_id: str) -> Any:
        t = m.TrainingAttendance
        either = or_(
            self._inside(t.division_code), self._inside(t.volunteer_division_code)
        )
        return select(t).where(t.training_session_id == session_id, either)

    def my_training(self, volunteer_id: str) -> Any:
        t = m.TrainingAttendance
        return select(t).where(
            t.volunteer_id == volunteer_id, self._inside(t.volunteer_division_code)
        )

    def training_rows_of(self, volunteer_id: str) -> list[m.TrainingAttendance]:
        """Every attendance of the volunteer the scope reads: held inside
        it, or by a volunteer at home inside it (as row security reads)."""
        t = m.TrainingAttendance
        either = or_(
            self._inside(t.division_code), self._inside(t.volunteer_division_code)
        )
        q = select(t).where(t.volunteer_id == volunteer_id, either)
        return list(self.s.execute(q.order_by(t.recorded_at, t.id)).scalars())

    # -- training imported from other platforms (revision 0009) ---------------------
    def imported_training_of(self, volunteer_id: str) -> list[m.ImportedTraining]:
        """The volunteer's imported training under the scope (the home at
        the import), oldest first, undated last."""
        t = m.ImportedTraining
        q = select(t).where(
            t.volunteer_id == volunteer_id, self._inside(t.division_code)
        )
        rows = list(self.s.execute(q).scalars())
        rows.sort(key=lambda r: (r.started_at is None, r.started_at or r.imported_at))
        return rows

    def imported_training_keys(self, ids: list[str]) -> set[tuple[str, str]]:
        """(volunteer id, source key) of the volunteers' imported training."""
        t = m.ImportedTraining
        q = select(t.volunteer_id, t.source_key).where(t.volunteer_id.in_(ids))
        return {(v, k) for v, k in self.s.execute(q).tuples()}

    def attended_sessions(self, ids: list[str]) -> set[tuple[str, str]]:
        """(volunteer id, session id) of the volunteers' attendances here."""
        t = m.TrainingAttendance
        q = select(t.volunteer_id, t.training_session_id).where(t.volunteer_id.in_(ids))
        return {(v, x) for v, x in self.s.execute(q).tuples()}

    def training_hours_of(self, volunteer_id: str) -> Decimal:
        t = m.TrainingAttendance
        q = select(func.coalesce(func.sum(t.hours), 0)).where(
            t.volunteer_id == volunteer_id, self._inside(t.volunteer_division_code)
        )
        return Decimal(str(self.s.execute(q).scalar_one()))

    def training_sessions_by_id(self, ids: list[str]) -> dict[str, m.TrainingSession]:
        """Sessions of the volunteer's own attendance (read under the
        province: the attendance already proves they are theirs)."""
        if not ids:
            return {}
        t = m.TrainingSession
        q = select(t).where(t.id.in_(set(ids)), self._inside(t.division_code))
        return {x.id: x for x in self.s.execute(q).scalars()}

    # -- pairing -----------------------------------------------------------------------
    def recipient(self, ident: str, field: str = "recipient_id") -> m.Recipient:
        t = m.Recipient
        q = select(t).where(t.id == ident, self._inside(t.division_code))
        return self._one(q.with_for_update(), field, ("recipient", "帮扶对象"), ident)

    def pair(self, ident: str, field: str = "pair_id") -> m.Pair:
        t = m.Pair
        q = select(t).where(t.id == ident, self._inside(t.division_code))
        return self._one(q, field, ("pair", "结对"), ident)

    def pair_count(self, recipient_id: str) -> int:
        q = select(func.count()).where(m.Pair.recipient_id == recipient_id)
        return int(self.s.execute(q).scalar_one())

    # -- lists -------------------------------------------------------------------------
    def list_page(
        self, query: Any, order: Any, size: int, offset: int
    ) -> tuple[list[Any], int]:
        return page_rows(self.s, query, order, size, offset)

    def under(self, model: Any, node: str, column: str = "division_code") -> Any:
        """Rows of ``model`` at ``node`` or below (``node`` inside the scope)."""
        narrowed = self.scope.narrow(node)
        return select(model).where(getattr(model, column).like(narrowed.like_pattern))

    def open_projects(self, node: str) -> Any:
        t = m.Project
        self.scope.require(node)
        above = ancestors(node, include_self=False)
        upward = and_(t.emergency, t.division_code.in_(above)) if above else false()
        return select(t).where(
            t.status == "recruiting", or_(t.division_code.like(f"{node}%"), upward)
        )

    def sign_ups_of(self, session_id: str) -> Any:
        t = m.SignUp
        either = or_(
            self._inside(t.division_code), self._inside(t.volunteer_division_code)
        )
        return select(t).where(t.session_id == session_id, either)

    def attendances_of(self, session_id: str) -> Any:
        t = m.Attendance
        either = or_(
            self._inside(t.division_code), self._inside(t.volunteer_division_code)
        )
        return select(t).where(t.session_id == session_id, either)

    # -- a volunteer's own ----------------------------------------------------------
    # Read under the scope of the volunteer's province (every project open to
    # a volunteer lies in it), each narrowed to the volunteer explicitly.
    def open_to(self, home: str) -> Any:
        """Projects of ``home`` and its ancestors (a city's or province's
        emergency campaign among them)."""
        t = m.Project
        return select(t).where(
            t.division_code.in_(ancestors(home)), self._inside(t.division_code)
        )

    def my_project(self, ident: str, home: str, volunteer_id: str) -> m.Project:
        """A published project open to the volunteer, or one they signed up
        for; anything else is NOT_FOUND as an unknown id."""
        t, s = m.Project, m.SignUp
        signed = (
            select(s.id)
            .where(s.project_id == t.id, s.volunteer_id == volunteer_id)
            .exists()
        )
        q = select(t).where(
            t.id == ident,
            self._inside(t.division_code),
            t.status.in_(PUBLISHED),
            or_(t.division_code.in_(ancestors(home)), signed),
        )
        return self._one(q, "id", ("project", "项目"), ident)

    def my_session(
        self, ident: str, home: str, volunteer_id: str
    ) -> tuple[m.ProjectSession, m.Project]:
        """A session of a project :meth:`my_project` finds."""
        t = m.ProjectSession
        q = select(t).where(t.id == ident, self._inside(t.division_code))
        row = self._one(q, "session_id", ("session", "活动场次"), ident)
        try:
            return row, self.my_project(row.project_id, home, volunteer_id)
        except NotFound:
            raise missing("session_id", "session", "活动场次", ident) from None

    def my_sign_up(self, ident: str, volunteer_id: str, field: str = "id") -> m.SignUp:
        """The volunteer's own sign-up; another's is NOT_FOUND."""
        t = m.SignUp
        q = select(t).where(
            t.id == ident,
            t.volunteer_id == volunteer_id,
            self._inside(t.volunteer_division_code),
        )
        return self._one(q, field, ("sign-up", "报名"), ident)

    def my_sign_ups(self, volunteer_id: str, project_id: str = "") -> Any:
        t = m.SignUp
        q = select(t).where(
            t.volunteer_id == volunteer_id, self._inside(t.volunteer_division_code)
        )
        return q.where(t.project_id == project_id) if project_id else q

    def waitlist_positions(self, rows: list[m.SignUp]) -> dict[str, int]:
        """Each waitlisted sign-up's place in its session's waitlist (1: the
        next to move up)."""
        ids = [r.id for r in rows if r.status == "waitlisted"]
        if not ids:
            return {}
        mine, other = aliased(m.SignUp), aliased(m.SignUp)
        q = (
            select(mine.id, func.count(other.id))
            .join(
                other,
                and_(
                    other.session_id == mine.session_id,
                    other.status == "waitlisted",
                    other.queue_number <= mine.queue_number,
                ),
            )
            .where(mine.id.in_(ids))
            .group_by(mine.id)
        )
        return {ident: int(n) for ident, n in self.s.execute(q).all()}

    def sessions_and_projects(
        self, session_ids: list[str]
    ) -> dict[str, tuple[m.ProjectSession, m.Project]]:
        if not session_ids:
            return {}
        t, p = m.ProjectSession, m.Project
        q = (
            select(t, p)
            .join(p, p.id == t.project_id)
            .where(t.id.in_(session_ids), self._inside(t.division_code))
        )
        return {x.id: (x, y) for x, y in self.s.execute(q).all()}

    def sessions_to_check_in(
        self, volunteer_id: str, now: datetime, grace: timedelta
    ) -> list[m.ProjectSession]:
        """Sessions under way (check-in open) where the volunteer holds a
        confirmed place."""
        t, s, p = m.ProjectSession, m.SignUp, m.Project
        q = (
            select(t)
            .join(s, s.session_id == t.id)
            .join(p, p.id == t.project_id)
            .where(
                s.volunteer_id == volunteer_id,
                s.status == "confirmed",
                self._inside(s.volunteer_division_code),
                p.status == "in_progress",
                t.starts_at <= now + grace,
                t.ends_at >= now,
            )
        )
        return list(self.s.execute(q.order_by(t.starts_at, t.id)).scalars())

    def sessions_to_check_out(
        self, volunteer_id: str, now: datetime, grace: timedelta
    ) -> list[m.ProjectSession]:
        """Sessions the volunteer is checked in to and may still leave."""
        t, a = m.ProjectSession, m.Attendance
        q = (
            select(t)
            .join(a, a.session_id == t.id)
            .where(
                a.volunteer_id == volunteer_id,
                a.checked_out_at.is_(None),
                self._inside(a.volunteer_division_code),
                t.ends_at >= now - grace,
            )
        )
        return list(self.s.execute(q.order_by(t.starts_at, t.id)).scalars())
