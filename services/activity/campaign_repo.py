"""Scoped reads of special campaigns and their tagged facts, over an
activity :class:`Repository` (its session and scope). A campaign is visible
to its publisher's subtree and to the publisher's ancestors' offices (the
same rule as a course's menu, row security repeating it); tagged facts are
read inside the caller's scope and the asked node only.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import or_, select

from services.activity import models as m
from services.activity.campaigns import Fact, local_day
from services.activity.repository import Repository, missing
from services.common.tenancy import ancestors
from services.common.times import utc

KIND = ("campaign", "专项行动")


def _visible(repo: Repository) -> Any:
    t = m.Campaign
    return or_(
        t.division_code.in_(ancestors(repo.scope.code)),
        t.division_code.like(repo.scope.like_pattern),
    )


def campaign(
    repo: Repository, ident: str, field: str = "campaign_id", lock: bool = False
) -> m.Campaign:
    """A campaign the scope sees; another's and none get the same NOT_FOUND."""
    t = m.Campaign
    q = select(t).where(t.id == ident, _visible(repo))
    row = repo.s.execute(q.with_for_update() if lock else q).scalar_one_or_none()
    if row is None:
        raise missing(field, KIND[0], KIND[1], ident)
    return row


def campaigns(repo: Repository) -> Any:
    return select(m.Campaign).where(_visible(repo))


def _hours(start: datetime, end: datetime) -> Decimal:
    seconds = Decimal(int((utc(end) - utc(start)).total_seconds()))
    return (seconds / Decimal(3600)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def facts(repo: Repository, campaign_id: str, node: str) -> Iterator[Fact]:
    """Every fact tagged to the campaign at ``node`` or below it (the
    caller's scope holds ``node``): visits, attendances of tagged projects
    (closed, with a check-out) and recycling's deliveries."""
    below = f"{node}%"
    v = m.Visit
    q: Any = select(
        v.division_code, v.started_at, v.ended_at, v.recipient_id, v.volunteer_id
    ).where(v.campaign_id == campaign_id, v.division_code.like(below))
    for code, start, end, recipient, volunteer in repo.s.execute(q):
        yield Fact(code, local_day(start), recipient, volunteer, _hours(start, end),
                   visit=True)  # fmt: skip
    a, p = m.Attendance, m.Project
    q = (
        select(a.division_code, a.checked_in_at, a.checked_out_at, a.volunteer_id)
        .join(p, p.id == a.project_id)
        .where(
            p.campaign_id == campaign_id,
            a.division_code.like(below),
            a.checked_out_at.is_not(None),
        )
    )
    for code, start, end, volunteer in repo.s.execute(q):
        yield Fact(code, local_day(start), volunteer_id=volunteer,
                   hours=_hours(start, end))  # fmt: skip
    d = m.CampaignDelivery
    q = select(d.division_code, d.occurred_on, d.items, d.kg).where(
        d.campaign_id == campaign_id, d.division_code.like(below)
    )
    for code, on, items, kg in repo.s.execute(q):
        yield Fact(code, on, items=int(items), kg=Decimal(kg))
