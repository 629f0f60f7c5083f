"""Use cases for projects: drafting, review and the rest of the lifecycle."""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any, Protocol

from services.activity import domain, validation
from services.activity import models as m
from services.activity.repository import ProjectView, Repository
from services.activity.usecases.base import Context, bump
from services.activity.usecases.insurance import check_recruiting
from services.common import checks
from services.common.auth import Principal
from services.common.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from services.common.roles import require_organisation
from services.common.rollup import month_of
from services.common.times import utc
from services.common.unit_of_work import Work

# A lifecycle step's own work, in the unit of work of the move.
Hook = Callable[[Work, Repository, m.Project], None]


class PositionSource(Protocol):
    def position(self, position_id: str) -> str:
        """The division of a service position the caller may see (else
        NOT_FOUND naming ``position_id``)."""
        ...


class ProjectCases:
    """Projects from draft to completion; each step checks the transition.
    ``positions`` answers whether a named service position (阵地) is one the
    caller may see (registration's client; None: naming one is refused)."""

    def __init__(self, ctx: Context, positions: PositionSource | None = None):
        self.ctx = ctx
        self.positions = positions

    def _position(self, raw: dict[str, Any]) -> str | None:
        """The checked ``position_id`` of a draft, asked of registration as
        the caller before any transaction (a foreign or unknown position is
        NOT_FOUND alike, nothing written); None when the draft names none."""
        ident = checks.ident(str(raw.get("position_id") or ""), "position_id", False)
        if not ident:
            return None
        if self.positions is None:
            raise RuntimeError("naming a position needs registration's client")
        self.positions.position(ident)
        return ident

    def create_project(
        self, p: Principal, organisation_id: str, raw: dict[str, Any]
    ) -> ProjectView:
        """A draft project of an organisation in the caller's scope, at the
        organisation's division."""
        p.require_any(*domain.MANAGERS)
        if not organisation_id.strip():
            raise InvalidArgument.required("organisation_id")
        # An org_leader publishes for its own organisation only.
        require_organisation(p, organisation_id.strip(), "organisation_id")
        position = self._position(raw)
        with self.ctx.uow(p.scope) as work:
            repo = self.ctx.repo(work)
            org = repo.organisation(organisation_id.strip(), "organisation_id")
            spec = validation.project_spec(raw, org.division_code)
            now = self.ctx.clock()
            project = m.Project(
                id=str(uuid.uuid4()),
                organisation_id=org.id,
                organisation_name=org.name,
                division_code=org.division_code,
                status="draft",
                publisher_subject=p.subject,
                publisher_name=p.username,
                comment="",
                created_at=now,
                position_id=position,
            )
            self._apply(repo, project, spec)
            return repo.view(project)

    def update_project(
        self, p: Principal, ident: str, raw: dict[str, Any]
    ) -> ProjectView:
        """Replace the editable fields (sessions included) of a draft or a
        returned project."""
        p.require_any(*domain.MANAGERS)
        position = self._position(raw)
        with self.ctx.uow(p.scope) as work:
            repo = self.ctx.repo(work)
            project = repo.project(ident, lock=True)
            require_organisation(p, project.organisation_id, "organisation_id")
            domain.check_editable(project.status)
            project.position_id = position
            self._apply(
                repo, project, validation.project_spec(raw, project.division_code)
            )
            return repo.view(project)

    def _apply(
        self, repo: Repository, project: m.Project, spec: validation.ProjectSpec
    ) -> None:
        for name in (
            "title", "description", "place", "service_field", "kind",
            "recruit_starts_at", "recruit_ends_at", "min_age", "required_skills",
            "leader_approval", "emergency",
        ):  # fmt: skip
            setattr(project, name, getattr(spec, name))
        if spec.required_course_id:  # the organisation's own or an ancestor's
            repo.course_offered_at(
                spec.required_course_id, project.division_code, "required_course_id"
            )
        project.required_course_id = spec.required_course_id or None
        project.updated_at = self.ctx.clock()
        sessions = [
            m.ProjectSession(
                id=str(uuid.uuid4()),
                project_id=project.id,
                division_code=project.division_code,
                emergency=project.emergency,
                starts_at=item.starts_at,
                ends_at=item.ends_at,
                capacity=item.capacity,
                secret=os.urandom(32),
            )
            for item in spec.sessions
        ]
        # Nobody can sign up before recruiting, so sessions are replaced whole.
        repo.save_project(project, sessions)

    # -- the lifecycle --------------------------------------------------------------
    def submit_project(self, p: Principal, ident: str) -> ProjectView:
        return self._move(p, ident, "submitted", domain.MANAGERS)

    def approve_project(self, p: Principal, ident: str) -> ProjectView:
        return self._move(p, ident, "approved", domain.REVIEWERS, self._review(p, ""))

    def return_project(self, p: Principal, ident: str, reason: str) -> ProjectView:
        reason = validation.text(reason, "reason", 500)
        return self._move(
            p, ident, "returned", domain.REVIEWERS, self._review(p, reason)
        )

    def publish_project(self, p: Principal, ident: str) -> ProjectView:
        """Open recruitment; a project whose service field the tenant's
        policy lists needs an insurance cover holding its sessions first."""

        def published(work: Work, repo: Repository, project: m.Project) -> None:
            check_recruiting(repo, project)
            self._published(work, repo, project)

        return self._move(p, ident, "recruiting", domain.MANAGERS, published)

    def start_project(self, p: Principal, ident: str) -> ProjectView:
        return self._move(p, ident, "in_progress", domain.MANAGERS)

    def complete_project(self, p: Principal, ident: str) -> ProjectView:
        return self._move(p, ident, "completed", domain.MANAGERS, self._completed)

    def cancel_project(self, p: Principal, ident: str, reason: str) -> ProjectView:
        reason = validation.text(reason, "reason", 500, required=False)

        def cancelled(work: Work, repo: Repository, project: m.Project) -> None:
            project.comment, project.closed_at = reason, self.ctx.clock()
            self._closed(work, project, "cancelled")

        return self._move(p, ident, "cancelled", domain.MANAGERS, cancelled)

    def _move(
        self,
        p: Principal,
        ident: str,
        target: str,
        roles: tuple[str, ...],
        hook: Hook | None = None,
    ) -> ProjectView:
        p.require_any(*roles)
        with self.ctx.uow(p.scope) as work:
            repo = self.ctx.repo(work)
            project = repo.project(ident, lock=True)
            if "org_leader" in roles:  # a manager's step: its own projects only
                require_organisation(p, project.organisation_id, "organisation_id")
            domain.check_transition(project.status, target)
            if hook:
                hook(work, repo, project)
            project.status, project.updated_at = target, self.ctx.clock()
            repo.flush()
            return repo.view(project)

    def _review(self, p: Principal, comment: str) -> Hook:
        def review(work: Work, repo: Repository, project: m.Project) -> None:
            # The token's subject, not the display name: names are not unique.
            if p.subject == project.publisher_subject:
                raise PermissionDenied(
                    "you cannot review a project you published",
                    "不能审核本人发布的项目",
                    rule="review.own_project",
                )
            project.reviewer_name, project.comment = p.username, comment

        return review

    def _published(self, work: Work, repo: Repository, project: m.Project) -> None:
        now = self.ctx.clock()
        project.published_at = now
        code = project.division_code
        bump(work, code, now, projects_published=1)
        sessions = repo.view(project).sessions
        # Sessions count in the month they take place, not the publishing one.
        for month, n in Counter(month_of(utc(x.starts_at)) for x in sessions).items():
            work.bump(m.ROLLUP, code, month, sessions=n)
        work.record(
            "activity.project.published",
            code,
            {
                "project_id": project.id,
                "organisation_id": project.organisation_id,
                "organisation_name": project.organisation_name,
                "division_code": code,
                "service_field": project.service_field,
                "title": project.title,
                "emergency": bool(project.emergency),
            },
        )

    def _completed(self, work: Work, repo: Repository, project: m.Project) -> None:
        if repo.open_attendances(project.id):
            raise FailedPrecondition(
                "volunteers are still checked in: check them out or close attendance",
                "仍有志愿者未签退，请先签退或补签退",
                rule="project.open_attendance",
            )
        project.closed_at = self.ctx.clock()
        self._closed(work, project, "completed")

    def _closed(self, work: Work, project: m.Project, verb: str) -> None:
        code = project.division_code
        work.record(
            f"activity.project.{verb}",
            code,
            {"project_id": project.id, "division_code": code},
        )
