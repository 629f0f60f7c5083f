"""The read side of a volunteer's own pages: the projects open to them, one
project with their own sign-ups, and their sign-ups with what each is for and
its place in the waitlist.

Like :mod:`services.activity.usecases.own`, every read runs under the scope
of the volunteer's province (every project open to a volunteer lies in it)
and is narrowed to the volunteer: the token's ``vol`` claim and its scope
(the home division), never an id the request names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, func, literal, select

from services.activity import domain
from services.activity import models as m
from services.activity.repository import ProjectView, Repository
from services.activity.usecases.own import province
from services.common import outbox
from services.common.auth import Principal
from services.common.checks import day
from services.common.db import Database
from services.common.paging import Page, next_token, page_bounds
from services.common.roles import own_volunteer
from services.common.rollup import CST
from services.common.service_fields import check_service_fields
from services.common.tenancy import validate_code


@dataclass
class OwnSignUp:
    """A sign-up as its volunteer sees it."""

    row: m.SignUp
    project_title: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    waitlist_position: int = 0


@dataclass(frozen=True)
class ProjectFilter:
    """ListMyProjects' filters, checked (each empty when not given)."""

    service_field: str = ""
    on: date | None = None
    near: str = ""

    @classmethod
    def of(cls, service_field: str, on: str, near: str) -> ProjectFilter:
        service_field, on, near = (x.strip() for x in (service_field, on, near))
        if service_field:
            check_service_fields([service_field], "service_field")
        if near:
            validate_code(near, "near")
        return cls(service_field, day(on, "date") if on else None, near)


def closeness(column: Any, near: str) -> Any:
    """How deep ``column`` (a division code) shares ``near``'s ancestry, in
    digits: 9 the same township, 6 the same county, 4 city, 2 province."""
    whens = [
        (func.substr(column, 1, w) == literal(near[:w]), w)
        for w in (12, 9, 6, 4, 2)
        if w <= len(near)
    ]
    return case(*whens, else_=0)


class OwnQueries:
    def __init__(self, db: Database, clock: Callable[[], datetime] = outbox.now):
        self.db, self.clock = db, clock

    def projects(self, p: Principal, f: ProjectFilter, size: int, token: str) -> Page:
        """Projects still recruiting that are open to the caller."""
        own_volunteer(p)
        home = p.scope.code
        size, offset = page_bounds(size, token)
        t, s = m.Project, m.ProjectSession
        with self.db.session(province(home)) as session:
            repo = Repository(session, province(home))
            q = repo.open_to(home).where(
                t.status.in_(domain.OPEN), t.recruit_ends_at > self.clock()
            )
            if f.service_field:
                q = q.where(t.service_field == f.service_field)
            if f.on:
                start = datetime.combine(f.on, time(), CST)
                q = q.where(
                    select(s.id)
                    .where(
                        s.project_id == t.id,
                        s.starts_at < start + timedelta(days=1),
                        s.ends_at > start,
                    )
                    .exists()
                )
            order: list[Any] = [t.emergency.desc(), t.recruit_ends_at, t.id]
            if f.near:
                order.insert(0, closeness(t.division_code, f.near).desc())
            items, total = repo.list_page(q, order, size, offset)
            views = repo.views(items)
        return Page(views, next_token(offset, size, total), total)

    def project(self, p: Principal, ident: str) -> tuple[ProjectView, list[OwnSignUp]]:
        """A project open to the caller (or one they signed up for), with the
        caller's own sign-ups for its sessions."""
        vol, home = own_volunteer(p), p.scope.code
        with self.db.session(province(home)) as session:
            repo = Repository(session, province(home))
            view = repo.view(repo.my_project((ident or "").strip(), home, vol))
            q = repo.my_sign_ups(vol, view.project.id)
            rows = list(session.execute(q.order_by(m.SignUp.created_at)).scalars())
            return view, self._described(repo, rows)

    def sign_ups(self, p: Principal, size: int, token: str) -> Page:
        """The caller's sign-ups, newest first."""
        vol, home = own_volunteer(p), p.scope.code
        size, offset = page_bounds(size, token)
        order = (m.SignUp.created_at.desc(), m.SignUp.id)
        with self.db.session(province(home)) as session:
            repo = Repository(session, province(home))
            rows, total = repo.list_page(repo.my_sign_ups(vol), order, size, offset)
            items = self._described(repo, rows)
        return Page(items, next_token(offset, size, total), total)

    def _described(self, repo: Repository, rows: list[m.SignUp]) -> list[OwnSignUp]:
        where = repo.sessions_and_projects(list({r.session_id for r in rows}))
        places = repo.waitlist_positions(rows)
        out = []
        for r in rows:
            session, project = where.get(r.session_id, (None, None))
            out.append(
                OwnSignUp(
                    r,
                    project.title if project else "",
                    session.starts_at if session else None,
                    session.ends_at if session else None,
                    places.get(r.id, 0),
                )
            )
        return out
