"""Use cases for recycling bins: placing them, and every later change of
status, each with its history entry, its effect on the "bins deployed"
rollup and its event in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from services.common.auth import Principal
from services.common.db import KeyTaken
from services.common.errors import AlreadyExists, InvalidArgument
from services.common.unit_of_work import Work
from services.recycling import domain
from services.recycling import models as m
from services.recycling import validation as v
from services.recycling.repository import Repository
from services.recycling.usecases.base import Context


@dataclass(frozen=True)
class BinDraft:
    """A checked request to place a bin."""

    code: str
    division_code: str
    address: str
    latitude: float | None
    longitude: float | None
    deployed_on: date


def _taken(code: str) -> AlreadyExists:
    return AlreadyExists.entity("recycling bin", "回收箱", code, field="code")


class BinCases:
    """Placing bins and changing their status."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def check_bin(
        self,
        p: Principal,
        code: str,
        division_code: str,
        address: str,
        latitude: float | None,
        longitude: float | None,
        deployed_on: str,
    ) -> BinDraft:
        """The request's values checked, before anything is read."""
        p.require_any(*domain.MANAGERS)
        return BinDraft(
            v.bin_code(code),
            v.division(p.scope, division_code),
            v.text(address, "place.address", 200),
            *v.coordinates(latitude, longitude),
            v.day(deployed_on, "deployed_on", self.ctx.today()),
        )

    def create_bin(self, p: Principal, draft: BinDraft) -> m.Bin:
        """Place a bin (status deployed): +1 bin deployed in its month."""
        return self.create_bins(p, [draft])[0]

    def create_bins(self, p: Principal, drafts: Sequence[BinDraft]) -> list[m.Bin]:
        """Place several bins in one transaction: all of them or none."""
        p.require_any(*domain.MANAGERS)
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            out = []
            for d in drafts:
                try:
                    out.append(self._place(work, repo, p, d))
                except KeyTaken:
                    # Another tenant of the province holds the code (invisible
                    # here): the unique constraint still sees it.
                    raise _taken(d.code) from None
            return out

    def _place(self, work: Work, repo: Repository, p: Principal, d: BinDraft) -> m.Bin:
        province = d.division_code[:2]
        if repo.bin_code_taken(province, d.code):
            raise _taken(d.code)
        now = self.ctx.clock()
        row = m.Bin(
            id=str(uuid.uuid4()), code=d.code, province=province,
            division_code=d.division_code, address=d.address, latitude=d.latitude,
            longitude=d.longitude, status="deployed", deployed_on=d.deployed_on,
            status_changed_on=d.deployed_on, last_emptied_on=None,
            created_by=p.username, created_at=now,
        )  # fmt: skip
        repo.add_unique(row)
        self.apply_change(
            work, repo, p, row, "", "deployed", d.deployed_on, "投放 / deployed"
        )
        return row

    def change_bin_status(
        self, p: Principal, ident: str, target: str | None, changed_on: str, reason: str
    ) -> m.Bin:
        """Move a bin along its lifecycle (retired is final): -1 bin deployed
        in the month it retires."""
        p.require_any(*domain.MANAGERS)
        ident = v.ident(ident, "id")
        if not target:
            raise InvalidArgument.required("status")
        day = v.day(changed_on, "changed_on", self.ctx.today())
        reason = v.text(reason, "reason", 500, required=False)
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            row = repo.bin(ident, lock=True)
            domain.check_bin_transition(row.status, target)
            v.not_before(
                day, row.status_changed_on, "changed_on", "the bin's last change"
            )
            self.apply_change(work, repo, p, row, row.status, target, day, reason)
            return row

    def apply_change(
        self,
        work: Work,
        repo: Repository,
        p: Principal,
        row: m.Bin,
        current: str,
        target: str,
        day: date,
        reason: str,
        collection_id: str | None = None,
    ) -> None:
        """Apply a status change: history, the bin, the rollup and the event
        (collections call it too, for the full bins they empty)."""
        repo.add(
            m.BinStatusChange(
                id=str(uuid.uuid4()), bin_id=row.id, division_code=row.division_code,
                from_status=current, to_status=target, changed_on=day,
                changed_by=p.username, recorded_at=self.ctx.clock(), reason=reason,
                collection_id=collection_id,
            )
        )  # fmt: skip
        row.status, row.status_changed_on = target, day
        delta = domain.deployed_delta(current, target)
        if delta:
            month = domain.month_of_day(day)
            work.bump(m.ROLLUP, row.division_code, month, bins_deployed=delta)
        work.record(
            "recycling.bin.status_changed",
            row.division_code,
            {
                "bin_id": row.id,
                "bin_code": row.code,
                "division_code": row.division_code,
                "from_status": current,
                "to_status": target,
                "changed_on": day.isoformat(),
                "collection_id": collection_id or "",
            },
        )
