"""The statements a merge of duplicate registrations makes (issue 14),
through a scoped :class:`Repository`: every query filters by the scope's
prefix, and row security repeats it in PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, or_, select, update

from services.registration.models import Account, TeamMembership, VolunteerMerge
from services.registration.repository import Repository, _missing


def merge(repo: Repository, ident: str, for_update: bool = False) -> VolunteerMerge:
    """A merge either of whose homes lies in scope (else NOT_FOUND, as for
    no merge at all)."""
    q = select(VolunteerMerge).where(VolunteerMerge.id == ident, _either(repo))
    row = repo.s.execute(q.with_for_update() if for_update else q).scalar_one_or_none()
    if row is None:
        raise _missing("id", "merge", "合并记录", ident)
    return row


def merges_query(repo: Repository, volunteer_id: str = "") -> Any:
    q = select(VolunteerMerge).where(_either(repo))
    if volunteer_id:
        q = q.where(
            or_(
                VolunteerMerge.survivor_id == volunteer_id,
                VolunteerMerge.merged_id == volunteer_id,
            )
        )
    return q


def _either(repo: Repository) -> Any:
    pattern = repo.tenant.like_pattern
    return or_(
        VolunteerMerge.survivor_division_code.like(pattern),
        VolunteerMerge.merged_division_code.like(pattern),
    )


def memberships(repo: Repository, volunteer_id: str) -> list[str]:
    """The organisations the volunteer belongs to, in scope."""
    return list(
        repo.s.execute(
            select(TeamMembership.organisation_id).where(
                TeamMembership.volunteer_id == volunteer_id,
                TeamMembership.division_code.like(repo.tenant.like_pattern),
            )
        ).scalars()
    )


def move_memberships(
    repo: Repository, org_ids: Sequence[str], source: str, target: str
) -> None:
    """Move ``source``'s memberships of ``org_ids`` to ``target`` (one
    set-wise UPDATE)."""
    if not org_ids:
        return
    repo.s.execute(
        update(TeamMembership)
        .where(
            TeamMembership.volunteer_id == source,
            TeamMembership.organisation_id.in_(list(org_ids)),
            TeamMembership.division_code.like(repo.tenant.like_pattern),
        )
        .values(volunteer_id=target)
    )


def accounts_of(repo: Repository, volunteer_id: str) -> list[Account]:
    return list(
        repo.s.execute(
            select(Account)
            .where(
                Account.volunteer_id == volunteer_id,
                Account.scope_code.like(repo.tenant.like_pattern),
            )
            .order_by(Account.created_at)
            .with_for_update()
        ).scalars()
    )


def accounts_by_id(repo: Repository, ids: Sequence[str]) -> list[Account]:
    if not ids:
        return []
    return list(
        repo.s.execute(
            select(Account)
            .where(
                and_(
                    Account.id.in_(list(ids)),
                    Account.scope_code.like(repo.tenant.like_pattern),
                )
            )
            .with_for_update()
        ).scalars()
    )
