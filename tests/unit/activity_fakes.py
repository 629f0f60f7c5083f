"""Activity's repository in memory, for the fast use-case tier.

:class:`FakeStore` holds the rows; :class:`FakeRepository` is the view of it
one unit of work gets, filtered by that unit's scope as the SQL one is (a
row of another tenant and no row get the same NOT_FOUND, and an ancestor's
emergency campaign is readable from below). The unit of work is
the kernel's :class:`TransactionalFakeUnitOfWork` (the fake that also
puts the rows back when a unit raises); it only needs ``snapshot`` and
``restore`` of the store. Only what the use cases call is here: a method a
use case starts calling fails with AttributeError, not silently.

The SQL repository leaves some reads (a session's sign-ups and attendance)
to row-level security; the use cases make them under the project's own
scope, where every such row is visible, so the fake filters them by key only.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import inspect

from services.activity import models as m
from services.activity.repository import PUBLISHED, ProjectView, missing
from services.common.db import KeyTaken
from services.common.errors import NotFound
from services.common.settings import effective_settings
from services.common.tenancy import Scope, ancestors
from services.common.times import utc
from services.common.unit_of_work import (
    TransactionalFakeUnitOfWork,
)

ACTIVE = ("pending", "confirmed", "waitlisted")


class FakeStore:
    def __init__(self) -> None:
        self.rows: list[Any] = []

    def of(self, kind: type) -> list[Any]:
        return [r for r in self.rows if isinstance(r, kind)]

    def put(self, *rows: Any) -> None:
        """Rows a test starts from (replicas of registration's, ...)."""
        self.rows.extend(rows)

    # -- what a rolled-back transaction restores --
    def snapshot(self) -> Any:
        values = [
            (o, {a.key: getattr(o, a.key) for a in inspect(o).mapper.column_attrs})
            for o in self.rows
        ]
        return values, list(self.rows)

    def restore(self, saved: Any) -> None:
        values, rows = saved
        for o, columns in values:
            for key, value in columns.items():
                setattr(o, key, value)
        self.rows = rows


def unit_of_work(store: FakeStore, now: datetime) -> TransactionalFakeUnitOfWork:
    return TransactionalFakeUnitOfWork(store, now)


def _unique_key(row: Any) -> tuple[Any, ...] | None:
    """The unique index a row falls under (the migration's), if any."""
    if isinstance(row, m.SignUp) and row.status in ACTIVE:
        return ("sign_up", row.session_id, row.volunteer_id)
    if isinstance(row, m.Pair):
        return ("pair", row.recipient_id, row.volunteer_id)
    if isinstance(row, m.Attendance):
        return ("attendance", row.session_id, row.volunteer_id)
    return None


class FakeRepository:
    def __init__(self, store: FakeStore, scope: Scope | None):
        assert scope is not None, "activity's use cases run in a tenant scope"
        self.store, self.scope = store, scope

    # -- writes --
    def add(self, row: Any) -> None:
        if any(r is row for r in self.store.rows):
            return
        key = _unique_key(row)
        taken = key is not None and any(_unique_key(r) == key for r in self.store.rows)
        assert not taken, f"a use case wrote a second {key} without checking"
        self.store.rows.append(row)

    def flush(self) -> None:
        pass

    def add_unique(self, row: Any) -> None:
        key = _unique_key(row)
        if key is not None and any(_unique_key(r) == key for r in self.store.rows):
            raise KeyTaken(type(row).__name__)
        self.store.rows.append(row)

    def save_project(
        self, project: m.Project, sessions: list[m.ProjectSession]
    ) -> None:
        self.add(project)
        self.store.rows = [
            r
            for r in self.store.rows
            if not (isinstance(r, m.ProjectSession) and r.project_id == project.id)
        ]
        self.store.rows.extend(sessions)

    # -- visibility --
    def _inside(self, code: str) -> bool:
        return self.scope.contains(code)

    def _reachable(self, code: str, emergency: bool) -> bool:
        above = ancestors(self.scope.code, include_self=False)
        return self._inside(code) or (bool(emergency) and code in above)

    def _find(self, kind: type, ident: str, visible: Any) -> Any:
        for r in self.store.of(kind):
            if r.id == ident and visible(r):
                return r
        return None

    # -- replicas --
    def organisation(self, ident: str, field: str) -> m.OrganisationReplica:
        row = self._find(
            m.OrganisationReplica, ident, lambda r: self._inside(r.division_code)
        )
        if row is None:
            raise missing(field, "organisation", "组织", ident)
        return row  # type: ignore[no-any-return]

    def volunteer(self, ident: str, field: str = "volunteer_id") -> m.VolunteerReplica:
        row = self._find(
            m.VolunteerReplica, ident, lambda r: self._inside(r.home_division_code)
        )
        if row is None:
            raise missing(field, "volunteer", "志愿者", ident)
        return row  # type: ignore[no-any-return]

    # -- projects and sessions --
    def project(
        self, ident: str, reach_up: bool = False, lock: bool = False, field: str = "id"
    ) -> m.Project:
        def visible(r: Any) -> bool:
            if reach_up:
                return self._reachable(r.division_code, r.emergency)
            return self._inside(r.division_code)

        row = self._find(m.Project, ident, visible)
        if row is None:
            raise missing(field, "project", "项目", ident)
        return row  # type: ignore[no-any-return]

    def session_of(
        self, ident: str, reach_up: bool = False
    ) -> tuple[m.ProjectSession, m.Project]:
        def visible(r: Any) -> bool:
            if reach_up:
                return self._reachable(r.division_code, r.emergency)
            return self._inside(r.division_code)

        row = self._find(m.ProjectSession, ident, visible)
        if row is None:
            raise missing("session_id", "session", "活动场次", ident)
        return row, self.project(row.project_id, reach_up)

    def view(self, project: m.Project) -> ProjectView:
        sessions = sorted(
            (x for x in self.store.of(m.ProjectSession) if x.project_id == project.id),
            key=lambda x: (x.starts_at, x.id),
        )
        counts = {
            x.id: (self.confirmed(x.id), len(self.waitlist(x.id))) for x in sessions
        }
        return ProjectView(project, sessions, counts)

    # -- the queue of a session --
    def lock_session(self, session_id: str) -> None:
        pass  # one thread: nothing to serialise

    def lock_queue_of(self, row: m.SignUp) -> None:
        pass  # the row in memory is already the current one

    def _sign_ups(self, session_id: str) -> list[m.SignUp]:
        return [r for r in self.store.of(m.SignUp) if r.session_id == session_id]

    def confirmed(self, session_id: str) -> int:
        return sum(1 for r in self._sign_ups(session_id) if r.status == "confirmed")

    def waitlist(self, session_id: str) -> list[m.SignUp]:
        waiting = [r for r in self._sign_ups(session_id) if r.status == "waitlisted"]
        return sorted(waiting, key=lambda r: r.queue_number)

    def next_queue_number(self, session_id: str) -> int:
        return max((r.queue_number for r in self._sign_ups(session_id)), default=0) + 1

    def sign_up(self, ident: str, field: str = "sign_up_id") -> m.SignUp:
        def visible(r: Any) -> bool:
            return self._inside(r.division_code) or self._inside(
                r.volunteer_division_code
            )

        row = self._find(m.SignUp, ident, visible)
        if row is None:
            raise missing(field, "sign-up", "报名", ident)
        return row  # type: ignore[no-any-return]

    def active_sign_up(self, session_id: str, volunteer_id: str) -> m.SignUp | None:
        found = [
            r
            for r in self._sign_ups(session_id)
            if r.volunteer_id == volunteer_id and r.status in ACTIVE
        ]
        return found[0] if found else None

    def attendance(self, session_id: str, volunteer_id: str) -> m.Attendance | None:
        for r in self.store.of(m.Attendance):
            if r.session_id == session_id and r.volunteer_id == volunteer_id:
                return r  # type: ignore[no-any-return]
        return None

    def open_attendances(self, project_id: str) -> int:
        return sum(
            1
            for r in self.store.of(m.Attendance)
            if r.project_id == project_id and r.checked_out_at is None
        )

    # -- tenant settings and insurance --
    def settings(self, code: str) -> dict[str, Any]:
        """As the SQL replica computes them: the nearest override wins."""
        overrides = {
            r.division_code: dict(r.overrides)
            for r in self.store.of(m.PolicyNode)
            if r.division_code in ancestors(code)
        }
        return {k: json.loads(v) for k, v, _ in effective_settings(code, overrides)}

    def current_cover(self, project_id: str) -> m.InsuranceCover | None:
        for r in self.store.of(m.InsuranceCover):
            if (
                r.project_id == project_id
                and r.replaced_at is None
                and self._inside(r.division_code)
            ):
                return r  # type: ignore[no-any-return]
        return None

    def covered(
        self, project_id: str, size: int = 0, offset: int = 0
    ) -> tuple[list[tuple[str, str, int]], int]:
        counts: dict[tuple[str, str], int] = {}
        for r in self.store.of(m.SignUp):
            if r.project_id == project_id and r.status == "confirmed":
                key = (r.volunteer_id, r.volunteer_number)
                counts[key] = counts.get(key, 0) + 1
        rows = sorted(counts.items(), key=lambda kv: (kv[0][1], kv[0][0]))
        out = [(vid, number, n) for (vid, number), n in rows][offset:]
        return (out[:size] if size else out), len(rows)

    # -- training --
    def _offered(self, code: str) -> bool:
        return code in ancestors(self.scope.code) or self._inside(code)

    def course(self, ident: str, field: str = "course_id") -> m.Course:
        row = self._find(m.Course, ident, lambda r: self._offered(r.division_code))
        if row is None:
            raise missing(field, "course", "培训课程", ident)
        return row  # type: ignore[no-any-return]

    def course_offered_at(self, ident: str, node: str, field: str) -> m.Course:
        row = self._find(
            m.Course,
            ident,
            lambda r: (
                self._offered(r.division_code) and r.division_code in ancestors(node)
            ),
        )
        if row is None:
            raise missing(field, "course", "培训课程", ident)
        return row  # type: ignore[no-any-return]

    def training_session(
        self, ident: str, field: str = "training_session_id"
    ) -> m.TrainingSession:
        row = self._find(
            m.TrainingSession, ident, lambda r: self._inside(r.division_code)
        )
        if row is None:
            raise missing(field, "training session", "培训场次", ident)
        return row  # type: ignore[no-any-return]

    def training_attendance(
        self, session_id: str, volunteer_id: str
    ) -> m.TrainingAttendance | None:
        for r in self.store.of(m.TrainingAttendance):
            if r.training_session_id == session_id and r.volunteer_id == volunteer_id:
                return r  # type: ignore[no-any-return]
        return None

    def trained(self, volunteer_id: str, course_id: str) -> bool:
        return any(
            r.volunteer_id == volunteer_id
            and r.course_id == course_id
            and (
                self._inside(r.division_code) or self._inside(r.volunteer_division_code)
            )
            for r in self.store.of(m.TrainingAttendance)
        )

    # -- pairing --
    def recipient(self, ident: str, field: str = "recipient_id") -> m.Recipient:
        row = self._find(m.Recipient, ident, lambda r: self._inside(r.division_code))
        if row is None:
            raise missing(field, "recipient", "帮扶对象", ident)
        return row  # type: ignore[no-any-return]

    def pair(self, ident: str, field: str = "pair_id") -> m.Pair:
        row = self._find(m.Pair, ident, lambda r: self._inside(r.division_code))
        if row is None:
            raise missing(field, "pair", "结对", ident)
        return row  # type: ignore[no-any-return]

    def pair_count(self, recipient_id: str) -> int:
        return sum(1 for r in self.store.of(m.Pair) if r.recipient_id == recipient_id)

    # -- a volunteer's own (read under the volunteer's province) --
    def my_project(self, ident: str, home: str, volunteer_id: str) -> m.Project:
        def visible(r: Any) -> bool:
            signed = any(
                s.project_id == r.id and s.volunteer_id == volunteer_id
                for s in self.store.of(m.SignUp)
            )
            return (
                self._inside(r.division_code)
                and r.status in PUBLISHED
                and (r.division_code in ancestors(home) or signed)
            )

        row = self._find(m.Project, ident, visible)
        if row is None:
            raise missing("id", "project", "项目", ident)
        return row  # type: ignore[no-any-return]

    def my_session(
        self, ident: str, home: str, volunteer_id: str
    ) -> tuple[m.ProjectSession, m.Project]:
        row = self._find(
            m.ProjectSession, ident, lambda r: self._inside(r.division_code)
        )
        project = None
        if row is not None:
            try:
                project = self.my_project(row.project_id, home, volunteer_id)
            except NotFound:
                project = None
        if row is None or project is None:
            raise missing("session_id", "session", "活动场次", ident)
        return row, project

    def my_sign_up(self, ident: str, volunteer_id: str, field: str = "id") -> m.SignUp:
        row = self._find(
            m.SignUp,
            ident,
            lambda r: (
                r.volunteer_id == volunteer_id
                and self._inside(r.volunteer_division_code)
            ),
        )
        if row is None:
            raise missing(field, "sign-up", "报名", ident)
        return row  # type: ignore[no-any-return]

    def _session(self, ident: str) -> m.ProjectSession:
        (row,) = [x for x in self.store.of(m.ProjectSession) if x.id == ident]
        return row  # type: ignore[no-any-return]

    def sessions_to_check_in(
        self, volunteer_id: str, now: datetime, grace: timedelta
    ) -> list[m.ProjectSession]:
        out = []
        for s in self.store.of(m.SignUp):
            if s.volunteer_id != volunteer_id or s.status != "confirmed":
                continue
            x = self._session(s.session_id)
            project = [p for p in self.store.of(m.Project) if p.id == x.project_id]
            running = project[0].status == "in_progress"
            if running and utc(x.starts_at) <= now + grace and utc(x.ends_at) >= now:
                out.append(x)
        return sorted(out, key=lambda x: (x.starts_at, x.id))

    def sessions_to_check_out(
        self, volunteer_id: str, now: datetime, grace: timedelta
    ) -> list[m.ProjectSession]:
        out = []
        for a in self.store.of(m.Attendance):
            if a.volunteer_id != volunteer_id or a.checked_out_at is not None:
                continue
            x = self._session(a.session_id)
            if utc(x.ends_at) >= now - grace:
                out.append(x)
        return sorted(out, key=lambda x: (x.starts_at, x.id))
