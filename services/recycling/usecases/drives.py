"""Use cases for clothing donation drives and the distributions that hand
their items to households. A drive counts its items and recipient
households once, when recorded; its distributions say how they were handed
out and are never counted again (that would count the same garments twice),
so they move no rollup metric. Donations earn no service hours."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from services.common.auth import Principal
from services.common.roles import require_organisation
from services.common.unit_of_work import Work
from services.recycling import domain
from services.recycling import models as m
from services.recycling import validation as v
from services.recycling.quantities import Items, check_distribution, check_items
from services.recycling.repository import Repository
from services.recycling.usecases.base import Context


@dataclass
class DriveView:
    drive: m.Drive
    distributed: Items
    households_reached: int
    distributions: list[m.Distribution]


@dataclass(frozen=True)
class DriveDraft:
    division_code: str
    organisation_id: str
    organisation_name: str
    title: str
    held_on: date
    items: Items
    households: int
    # The special campaign it serves ("" none), checked with activity.
    campaign_id: str = ""


@dataclass(frozen=True)
class HandoutDraft:
    drive_id: str
    distributed_on: date
    households: int
    items: Items
    note: str


def items_of(row: m.Drive | m.Distribution) -> Items:
    return Items(row.garments, row.books, row.other_items)


class DriveCases:
    """Recording donation drives and their distributions."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def check_drive(
        self,
        p: Principal,
        division_code: str,
        organisation_id: str,
        organisation_name: str,
        title: str,
        held_on: str,
        items: tuple[int, int, int],
        recipient_households: int,
        campaign_id: str = "",
    ) -> DriveDraft:
        p.require_any(*domain.MANAGERS)
        draft = DriveDraft(
            v.division(p.scope, division_code),
            v.ident(organisation_id, "organisation_id", required=False),
            v.text(organisation_name, "organisation_name", 200),
            v.text(title, "title", 100),
            v.day(held_on, "held_on", self.ctx.today()),
            check_items(Items(*items)),
            v.households(recipient_households, "recipient_households"),
            v.ident(campaign_id, "campaign_id", required=False),
        )
        # An org_leader records its own organisation's drives only.
        require_organisation(p, draft.organisation_id, "organisation_id")
        self.ctx.organisation(draft.organisation_id)
        if draft.campaign_id:
            self.ctx.require_activity().check_campaign(
                draft.campaign_id, draft.division_code, draft.held_on
            )
        return draft

    def record_drives(
        self, p: Principal, drafts: Sequence[DriveDraft]
    ) -> list[DriveView]:
        """Drives in one transaction (all or none): each +1 drive, its items
        and households in the month held."""
        p.require_any(*domain.MANAGERS)
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            return [
                DriveView(self._drive(work, repo, p, d), Items(), 0, []) for d in drafts
            ]

    def _drive(
        self, work: Work, repo: Repository, p: Principal, d: DriveDraft
    ) -> m.Drive:
        require_organisation(p, d.organisation_id, "organisation_id")
        given = d.items
        row = m.Drive(
            id=str(uuid.uuid4()), division_code=d.division_code,
            organisation_id=d.organisation_id, organisation_name=d.organisation_name,
            title=d.title, held_on=d.held_on, garments=given.garments,
            books=given.books, other_items=given.other,
            recipient_households=d.households, recorded_by=p.username,
            recorded_at=self.ctx.clock(), campaign_id=d.campaign_id,
        )  # fmt: skip
        repo.add(row)
        repo.flush()
        work.bump(
            m.ROLLUP, d.division_code, domain.month_of_day(d.held_on), drives=1,
            items_garments=given.garments, items_books=given.books,
            items_other=given.other, households=d.households,
        )  # fmt: skip
        work.record(
            "recycling.drive.recorded",
            d.division_code,
            {
                "drive_id": row.id,
                "division_code": d.division_code,
                "organisation_id": d.organisation_id,
                "organisation_name": d.organisation_name,
                "title": d.title,
                "held_on": d.held_on.isoformat(),
                "garments": given.garments,
                "books": given.books,
                "other_items": given.other,
                "recipient_households": d.households,
                "campaign_id": d.campaign_id,
            },
        )
        return row

    def check_handout(
        self,
        p: Principal,
        drive_id: str,
        distributed_on: str,
        households: int,
        items: tuple[int, int, int],
        note: str,
    ) -> HandoutDraft:
        p.require_any(*domain.MANAGERS)
        return HandoutDraft(
            v.ident(drive_id, "drive_id"),
            v.day(distributed_on, "distributed_on", self.ctx.today()),
            v.households(households, "households"),
            check_items(Items(*items)),
            v.text(note, "note", 500, required=False),
        )

    def record_distributions(
        self, p: Principal, drafts: Sequence[HandoutDraft]
    ) -> list[tuple[m.Distribution, DriveView]]:
        """Items of drives handed to households, in one transaction (all or
        none); never more than a drive has left (checked under the drive's
        lock, so two offices recording at once cannot together exceed it)."""
        p.require_any(*domain.MANAGERS)
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            return [self._handout(repo, p, d) for d in drafts]

    def _handout(
        self, repo: Repository, p: Principal, d: HandoutDraft
    ) -> tuple[m.Distribution, DriveView]:
        drive = repo.drive(d.drive_id, "drive_id", lock=True)
        require_organisation(p, drive.organisation_id, "organisation_id")
        v.not_before(d.distributed_on, drive.held_on, "distributed_on", "the drive")
        before, reached = repo.distributed([drive.id])[drive.id]
        check_distribution(
            items_of(drive), drive.recipient_households, before, reached, d.items,
            d.households,
        )  # fmt: skip
        row = m.Distribution(
            id=str(uuid.uuid4()), drive_id=drive.id, division_code=drive.division_code,
            distributed_on=d.distributed_on, households=d.households,
            garments=d.items.garments, books=d.items.books, other_items=d.items.other,
            note=d.note, recorded_by=p.username, recorded_at=self.ctx.clock(),
        )  # fmt: skip
        repo.add(row)
        repo.flush()
        given = before.plus(d.items)
        view = DriveView(
            drive, given, reached + d.households, repo.distributions(drive.id)
        )
        return row, view
