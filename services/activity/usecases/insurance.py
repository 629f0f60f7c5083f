"""Use cases for a project's insurance cover: record or replace it, read it
with what the tenant's policy asks of the project, list the volunteers it
covers, and the insurer's CSV list.

Scoped like the project's other writes: the project's own tenant and its
ancestors (an org_leader only for its own organisation's projects); another
tenant's project is NOT_FOUND exactly as an unknown id.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.activity import domain
from services.activity import insurance as rules
from services.activity import models as m
from services.activity.insurance import CoverSpec, RosterRow
from services.activity.repository import Repository
from services.activity.usecases.base import Context
from services.common.auth import Principal
from services.common.checks import ident as checked_id
from services.common.errors import FailedPrecondition
from services.common.paging import Page, next_token, page_bounds
from services.common.roles import require_organisation
from services.common.times import utc

# Why the names are revealed, as registration's access log records it.
PURPOSE = "insurance"
CLOSED = frozenset({"completed", "cancelled"})


class IdentitySource(Protocol):
    def identity(self, volunteer_id: str, number: str, purpose: str) -> RosterRow:
        """The volunteer's name and masked ID number (a logged reveal)."""
        ...


@dataclass(frozen=True)
class CoverView:
    """A project's current cover (None: none yet) and what policy asks."""

    project: m.Project
    cover: m.InsuranceCover | None
    # The tenant's policy requires a cover for the project's service field.
    required: bool
    # The cover's period holds every session (False without a cover).
    covers_sessions: bool
    covered_volunteers: int


def spec_of(cover: m.InsuranceCover | None) -> CoverSpec | None:
    if cover is None:
        return None
    return CoverSpec(cover.insurer, cover.policy_number, cover.starts_on, cover.ends_on)


def session_times(
    repo: Repository, project: m.Project
) -> list[tuple[datetime, datetime]]:
    return [(utc(x.starts_at), utc(x.ends_at)) for x in repo.view(project).sessions]


def required_fields(repo: Repository, project: m.Project) -> list[str]:
    return list(repo.settings(project.division_code)[rules.SETTING])


def check_recruiting(repo: Repository, project: m.Project) -> None:
    """Refuse opening recruitment without the cover policy asks for."""
    rules.check_cover(
        project.service_field,
        required_fields(repo, project),
        spec_of(repo.current_cover(project.id)),
        session_times(repo, project),
    )


class InsuranceCases:
    def __init__(self, ctx: Context, registration: IdentitySource | None = None):
        self.ctx, self.registration = ctx, registration

    def _project(
        self, p: Principal, repo: Repository, project_id: str, lock: bool = False
    ) -> m.Project:
        project = repo.project(project_id, lock=lock, field="project_id")
        require_organisation(p, project.organisation_id, "organisation_id")
        return project

    def set_cover(
        self,
        p: Principal,
        project_id: str,
        insurer: str,
        policy_number: str,
        starts_on: str,
        ends_on: str,
    ) -> CoverView:
        """Record the project's cover, replacing the current one (kept as
        history). A project already recruiting keeps a cover that holds its
        sessions when its field requires one."""
        p.require_any(*domain.MANAGERS)
        project_id = checked_id(project_id, "project_id")
        spec = rules.cover_spec(insurer, policy_number, starts_on, ends_on)
        with self.ctx.uow(p.scope) as work:
            repo = self.ctx.repo(work)
            project = self._project(p, repo, project_id, lock=True)
            if project.status in CLOSED:
                raise FailedPrecondition(
                    f"a {project.status} project's cover cannot be changed",
                    "项目已结束或取消，不能再修改保险",
                    field="project_id",
                    rule="insurance.closed_project",
                )
            if project.status in domain.OPEN:
                rules.check_cover(
                    project.service_field,
                    required_fields(repo, project),
                    spec,
                    session_times(repo, project),
                )
            now = self.ctx.clock()
            current = repo.current_cover(project.id)
            if current is not None:
                current.replaced_at = now
                repo.flush()  # the partial unique index holds one current cover
            repo.add(
                m.InsuranceCover(
                    id=str(uuid.uuid4()),
                    project_id=project.id,
                    division_code=project.division_code,
                    insurer=spec.insurer,
                    policy_number=spec.policy_number,
                    starts_on=spec.starts_on,
                    ends_on=spec.ends_on,
                    recorded_by=p.username,
                    created_at=now,
                    replaced_at=None,
                )
            )
            repo.flush()
            return self._view(repo, project)

    def get_cover(self, p: Principal, project_id: str) -> CoverView:
        p.require_any(*domain.READERS)
        project_id = checked_id(project_id, "project_id")
        with self.ctx.uow(p.scope) as work:
            repo = self.ctx.repo(work)
            project = repo.project(project_id, field="project_id")
            return self._view(repo, project)

    def covered(self, p: Principal, project_id: str, size: int, token: str) -> Page:
        """A page of the covered volunteers (the project's confirmed
        sign-ups): (volunteer id, number, sessions) by volunteer number."""
        p.require_any(*domain.READERS)
        project_id = checked_id(project_id, "project_id")
        size, offset = page_bounds(size, token)
        with self.ctx.uow(p.scope) as work:
            repo = self.ctx.repo(work)
            project = repo.project(project_id, field="project_id")
            rows, total = repo.covered(project.id, size, offset)
            return Page(rows, next_token(offset, size, total), total)

    def roster(self, p: Principal, project_id: str) -> bytes:
        """The insurer's CSV of the covered volunteers. Names and masked ID
        numbers come from registration, which logs each reveal; only the
        project's managers (who record the cover) may ask."""
        p.require_any(*domain.MANAGERS)
        project_id = checked_id(project_id, "project_id")
        with self.ctx.uow(p.scope) as work:
            repo = self.ctx.repo(work)
            project = self._project(p, repo, project_id)
            cover = spec_of(repo.current_cover(project.id))
            if cover is None:
                raise FailedPrecondition(
                    "the project has no insurance cover to list",
                    "该项目尚未登记保险，无法导出投保名单",
                    field="insurance",
                    rule="insurance.required",
                )
            people, _ = repo.covered(project.id)
            title = project.title
        if self.registration is None:
            raise RuntimeError("the insurer's list needs the registration client")
        source = self.registration
        # Outside the transaction: no database connection waits on the calls.
        rows = [source.identity(vid, number, PURPOSE) for vid, number, _ in people]
        return rules.roster_csv(title, cover, rows)

    def _view(self, repo: Repository, project: m.Project) -> CoverView:
        cover = repo.current_cover(project.id)
        spec = spec_of(cover)
        holds = spec is not None and not rules.uncovered(
            spec.starts_on, spec.ends_on, session_times(repo, project)
        )
        _, count = repo.covered(project.id, 1)
        return CoverView(
            project,
            cover,
            rules.required(project.service_field, required_fields(repo, project)),
            holds,
            count,
        )
