"""Use cases for special campaigns (专项行动): a province or city publishes
one for a window and target groups; its subtree sees it; only the publisher
edits it. Projects and pairing visits are tagged to a visible campaign that
covers their division, inside its window; recycling tags its drives and
pickups the same way (asking :meth:`CampaignCases.get` as the caller) and
activity keeps their figures from recycling's events (see ``worker.py``).

The summary groups the tagged facts under the asked node by child unit or
by ISO week, counting distinct households and volunteers per group.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from services.activity import campaign_repo as cr
from services.activity import domain
from services.activity import models as m
from services.activity.campaigns import (
    Figures,
    campaign_spec,
    check_tag,
    local_day,
    require_publisher,
    summarise,
)
from services.activity.repository import ProjectView, Repository
from services.activity.usecases.base import Context
from services.common.auth import Principal
from services.common.checks import ident
from services.common.errors import InvalidArgument, PermissionDenied
from services.common.paging import Page, next_token, page_bounds
from services.common.roles import ADMINS, require_organisation


@dataclass(frozen=True)
class Summary:
    campaign: m.Campaign
    node: str
    rows: dict[str, Figures]
    total: Figures


def tagged(
    repo: Repository, campaign_id: str, code: str, days: Iterable[date]
) -> str | None:
    """The campaign id a fact at ``code`` on ``days`` may carry ("" → None),
    refused naming ``campaign_id`` when not visible, not covering the
    division or outside the window."""
    wanted = ident(campaign_id, "campaign_id", required=False)
    if not wanted:
        return None
    row = cr.campaign(repo, wanted)
    check_tag(row.division_code, (row.starts_on, row.ends_on), code, days)
    return row.id


class CampaignCases:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    def create(
        self,
        p: Principal,
        title: str,
        description: str,
        starts_on: str,
        ends_on: str,
        target_groups: Iterable[str],
    ) -> m.Campaign:
        """Publish a campaign at the caller's own node (a province or city)."""
        p.require_any(*ADMINS)
        code = require_publisher(p.scope)
        spec = campaign_spec(title, description, starts_on, ends_on, target_groups)
        now = self.ctx.clock()
        with self.ctx.uow(p.scope) as work:
            row = m.Campaign(
                id=str(uuid.uuid4()), division_code=code, title=spec.title,
                description=spec.description, starts_on=spec.starts_on,
                ends_on=spec.ends_on, target_groups=spec.target_groups,
                created_by=p.username, created_at=now, updated_at=now,
            )  # fmt: skip
            self.ctx.repo(work).add(row)
            return row

    def update(
        self,
        p: Principal,
        campaign_id: str,
        title: str,
        description: str,
        starts_on: str,
        ends_on: str,
        target_groups: Iterable[str],
    ) -> m.Campaign:
        """Edit a campaign: its publisher only (a child office sees it but
        may not change it)."""
        p.require_any(*ADMINS)
        wanted = ident(campaign_id, "id")
        spec = campaign_spec(title, description, starts_on, ends_on, target_groups)
        with self.ctx.uow(p.scope) as work:
            repo = self.ctx.repo(work)
            # Read before locking: row security hides an ancestor's campaign
            # from SELECT ... FOR UPDATE, and a child office must learn that
            # it may not edit it, not that it does not exist.
            if cr.campaign(repo, wanted, "id").division_code != p.scope.code:
                raise PermissionDenied(
                    "only the publisher edits a special campaign",
                    "只有发布单位可以修改专项行动",
                    field="id",
                    rule="campaign.publisher",
                )
            row = cr.campaign(repo, wanted, "id", lock=True)
            row.title, row.description = spec.title, spec.description
            row.starts_on, row.ends_on = spec.starts_on, spec.ends_on
            row.target_groups = spec.target_groups
            row.updated_at = self.ctx.clock()
            return row

    def get(self, p: Principal, campaign_id: str) -> m.Campaign:
        p.require_any(*domain.READERS)
        wanted = ident(campaign_id, "id")
        with self.ctx.uow(p.scope) as work:
            return cr.campaign(self.ctx.repo(work), wanted, "id")

    def list(self, p: Principal, size: int, token: str) -> Page:
        """Campaigns the caller sees, the latest window first."""
        p.require_any(*domain.READERS)
        size, offset = page_bounds(size, token)
        with self.ctx.uow(p.scope) as work:
            repo = self.ctx.repo(work)
            t = m.Campaign
            order = (t.starts_on.desc(), t.division_code, t.id)
            items, total = repo.list_page(cr.campaigns(repo), order, size, offset)
            return Page(items, next_token(offset, size, total), total)

    def tag_project(
        self, p: Principal, project_id: str, campaign_id: str
    ) -> ProjectView:
        """Tag a project (every session starting inside the window) or, with
        ``campaign_id`` "", remove its tag."""
        p.require_any(*domain.MANAGERS)
        pid = ident(project_id, "project_id")
        with self.ctx.uow(p.scope) as work:
            repo = self.ctx.repo(work)
            project = repo.project(pid, lock=True, field="project_id")
            require_organisation(p, project.organisation_id, "organisation_id")
            view = repo.view(project)
            days = [local_day(s.starts_at) for s in view.sessions]
            project.campaign_id = tagged(repo, campaign_id, project.division_code, days)
            project.updated_at = self.ctx.clock()
            return view

    def summary(self, p: Principal, campaign_id: str, node: str, by: str) -> Summary:
        """The campaign's figures at ``node`` (default: the campaign's node
        when it lies in the caller's scope, else the caller's own), by
        ``child`` unit or ``week``."""
        p.require_any(*domain.READERS)
        wanted = ident(campaign_id, "campaign_id")
        if by not in ("child", "week"):
            raise InvalidArgument(
                "by",
                "by.known",
                "must be child or week",
                "须为 child（下级）或 week（周）",
            )
        with self.ctx.uow(p.scope) as work:
            repo = self.ctx.repo(work)
            row = cr.campaign(repo, wanted)
            default = row.division_code if p.scope.contains(row.division_code) else ""
            at = p.scope.require(node or default or p.scope.code)
            if not at.startswith(row.division_code):
                raise InvalidArgument(
                    "division_code",
                    "division_code.in_campaign",
                    f"{at} lies outside the campaign's area {row.division_code}",
                    f"{at} 不在该专项行动的范围（{row.division_code}）内",
                )
            rows, total = summarise(cr.facts(repo, row.id, at), at, by == "week")
            return Summary(row, at, rows, total)
