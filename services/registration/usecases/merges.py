"""Duplicate registrations merged (issue 14, part 1).

One person registered twice (the same person under two ID numbers: the
ID-number key refuses the same number twice, see migration 0010) is merged
by an office whose scope holds both records: the merged record is marked
``merged`` and points at the survivor; its team memberships move to the
survivor (those the survivor already has stay behind); its own account moves
to the survivor when the survivor has none, else it is deactivated (one
volunteer, one sign-in). ``registration.volunteer.merged`` tells hours,
activity and commendation to carry the merged record's hours, sign-ups and
rating over. The merge row is the audit record and holds what was moved, so
``revert`` undoes exactly that and announces
``registration.volunteer.unmerged``.
"""

from __future__ import annotations

import uuid
from typing import Any

from services.common import checks
from services.common.auth import Principal
from services.common.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from services.common.paging import Page, next_token, page_bounds
from services.common.unit_of_work import Work
from services.registration import domain
from services.registration import merge_queries as mq
from services.registration.models import Volunteer, VolunteerMerge
from services.registration.repository import Repository, Taken
from services.registration.usecases.base import Context, bump


class MergeCases:
    """Merge duplicate registrations, revert a merge, list merges."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def merge(
        self, p: Principal, survivor_id: str, merged_id: str, reason: str
    ) -> VolunteerMerge:
        """Merge ``merged_id`` into ``survivor_id`` (both in the scope)."""
        p.require_any(*domain.ADMINS)
        survivor_id = checks.ident(survivor_id, "survivor_id")
        merged_id = checks.ident(merged_id, "merged_id")
        if survivor_id == merged_id:
            raise InvalidArgument(
                "merged_id",
                "merged_id.distinct",
                "a volunteer cannot be merged into itself",
                "不能将志愿者合并到其本人",
            )
        reason = domain.check_text(reason, "reason", 500)
        try:
            with self.ctx.uow(p) as work:
                repo = self.ctx.repo(work)
                # Locked in id order: two merges of the same pair cannot
                # deadlock.
                fields = {survivor_id: "survivor_id", merged_id: "merged_id"}
                vols = {
                    i: repo.volunteer(i, for_update=True, field=fields[i])
                    for i in sorted(fields)
                }
                survivor, merged = vols[survivor_id], vols[merged_id]
                _mergeable(survivor, "survivor_id")
                _mergeable(merged, "merged_id")
                for vol, field in ((survivor, "survivor_id"), (merged, "merged_id")):
                    if repo.has_pending_transfer(vol.id):
                        raise FailedPrecondition(
                            "the volunteer has a pending transfer; decide it first",
                            "该志愿者有待处理的转移申请，请先处理",
                            field=field,
                            rule=f"{field}.no_pending_transfer",
                        )
                row = self._apply(repo, survivor, merged, reason, p.username)
                _recount(work, merged, row.merged_status, -1)
                repo.insert(row, keys=("ux_volunteer_merges_one_live",))
                _announce(work, row, "registration.volunteer.merged")
                return row
        except Taken as exc:  # two merges of the same record raced
            raise AlreadyExists(
                "the volunteer is already merged",
                "该志愿者已被合并",
                field="merged_id",
                rule="merged_id.not_merged",
            ) from exc

    def _apply(
        self,
        repo: Repository,
        survivor: Volunteer,
        merged: Volunteer,
        reason: str,
        actor: str,
    ) -> VolunteerMerge:
        have = set(mq.memberships(repo, survivor.id))
        moved = sorted(set(mq.memberships(repo, merged.id)) - have)
        mq.move_memberships(repo, moved, merged.id, survivor.id)
        moved_accounts: dict[str, str] = {}
        deactivated: list[str] = []
        survivor_has = bool(mq.accounts_of(repo, survivor.id))
        for acc in mq.accounts_of(repo, merged.id):
            if survivor_has or moved_accounts:
                if acc.active:
                    acc.active = False
                    deactivated.append(acc.id)
                continue
            moved_accounts[acc.id] = acc.scope_code
            acc.volunteer_id, acc.scope_code = survivor.id, survivor.home_division_code
        row = VolunteerMerge(
            id=str(uuid.uuid4()),
            survivor_id=survivor.id,
            merged_id=merged.id,
            survivor_number=survivor.volunteer_number,
            merged_number=merged.volunteer_number,
            survivor_division_code=survivor.home_division_code,
            merged_division_code=merged.home_division_code,
            reason=reason,
            actor=actor,
            created_at=self.ctx.clock(),
            reverted_by=None,
            reverted_at=None,
            merged_status=merged.status,
            moved_memberships=moved,
            moved_accounts=moved_accounts,
            deactivated_accounts=deactivated,
        )
        merged.status, merged.merged_into_id = "merged", survivor.id
        return row

    def revert(self, p: Principal, ident: str, reason: str) -> VolunteerMerge:
        """Undo a merge exactly (an office whose scope holds both records),
        saying why (kept on the merge row, the audit record)."""
        p.require_any(*domain.ADMINS)
        ident = checks.ident(ident, "id")
        reason = domain.check_text(reason, "reason", 500)
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            row = mq.merge(repo, ident, for_update=True)
            if row.reverted_at is not None:
                raise FailedPrecondition(
                    "the merge was already reverted",
                    "该合并已撤销",
                    field="id",
                    rule="merge.not_reverted",
                )
            fields = {row.survivor_id: "survivor_id", row.merged_id: "merged_id"}
            # Both records must still be in the scope (NOT_FOUND otherwise,
            # as a merge whose other side moved away from this office).
            vols = {
                i: repo.volunteer(i, for_update=True, field=fields[i])
                for i in sorted(fields)
            }
            merged = vols[row.merged_id]
            if merged.status != "merged" or merged.merged_into_id != row.survivor_id:
                raise FailedPrecondition(
                    "the merged record has changed since the merge",
                    "被合并的记录在合并后已变更",
                    field="merged_id",
                    rule="merged_id.still_merged",
                )
            mq.move_memberships(
                repo, row.moved_memberships, row.survivor_id, row.merged_id
            )
            moved = row.moved_accounts
            back = {a.id: a for a in mq.accounts_by_id(repo, list(moved))}
            for acc_id, scope_code in moved.items():
                acc = back[acc_id]
                acc.volunteer_id, acc.scope_code = row.merged_id, scope_code
            for acc in mq.accounts_by_id(repo, row.deactivated_accounts):
                acc.active = True
            merged.status, merged.merged_into_id = row.merged_status, None
            _recount(work, merged, row.merged_status, +1)
            row.reverted_by, row.reverted_at = p.username, self.ctx.clock()
            row.revert_reason = reason
            _announce(work, row, "registration.volunteer.unmerged")
            return row

    def history(
        self, p: Principal, volunteer_id: str, page_size: int, token: str
    ) -> Page:
        """Merges touching the scope, newest first (optionally those of one
        volunteer, survivor or merged)."""
        p.require_any(*domain.ADMINS)
        volunteer_id = checks.ident(volunteer_id, "volunteer_id", required=False)
        size, offset = page_bounds(page_size, token)
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            q = mq.merges_query(repo, volunteer_id)
            order = VolunteerMerge.created_at.desc()
            items, total = repo.list_page(q, order, size, offset)
            return Page(items, next_token(offset, size, total), total, {})


def _mergeable(vol: Volunteer, field: str) -> None:
    if vol.status == "merged":
        raise FailedPrecondition(
            "the volunteer is already merged into another record",
            "该志愿者已被合并到其他记录",
            field=field,
            rule=f"{field}.not_merged",
        )


def _recount(work: Work, vol: Volunteer, status: str, sign: int) -> None:
    """A merged record leaves the verified (or rejected) count where and when
    its review counted it, and a revert puts it back: the rollups then equal
    the records' statuses. It stays registered (it was)."""
    if status in ("verified", "rejected") and vol.reviewed_at is not None:
        metric = {f"volunteers_{status}": float(sign)}
        bump(work, vol.home_division_code, vol.reviewed_at, **metric)


def _announce(work: Work, row: VolunteerMerge, event: str) -> None:
    data: dict[str, Any] = {
        "merge_id": row.id,
        "survivor_id": row.survivor_id,
        "merged_id": row.merged_id,
        "survivor_number": row.survivor_number,
        "merged_number": row.merged_number,
        "survivor_division_code": row.survivor_division_code,
        "merged_division_code": row.merged_division_code,
        # The merged record's status before the merge (what a revert restores).
        "merged_status": row.merged_status,
        "actor": row.reverted_by or row.actor,
    }
    if row.reverted_at is not None:
        data["revert_reason"] = row.revert_reason
    # Under the survivor's home, where the merged hours and rating now count.
    work.record(event, row.survivor_division_code, data)
