"""Rows → protobuf messages (volunteer numbers and masked names only)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from zhiyuan.commendation.v1 import commendation_pb2 as pb
from zhiyuan.common.v1 import common_pb2 as common

from services.commendation import models as m
from services.commendation.awards_of import Award
from services.common.divisions import name_of
from services.common.paging import Page
from services.common.rollup_query import LEVELS as LEVELS
from services.common.rollup_query import RollupResult, to_rollup
from services.common.rollup_query import enum_value as enum_value
from services.common.tenancy import level_of
from services.common.times import iso as ts

if TYPE_CHECKING:
    from services.commendation.queries import MyStars

REQUEST_STATUS = {
    pb.STAR_REQUEST_STATUS_PENDING: "pending",
    pb.STAR_REQUEST_STATUS_APPROVED: "approved",
    pb.STAR_REQUEST_STATUS_REJECTED: "rejected",
    pb.STAR_REQUEST_STATUS_SUPERSEDED: "superseded",
    pb.STAR_REQUEST_STATUS_WITHDRAWN: "withdrawn",
}
PB_REQUEST_STATUS = {v: k for k, v in REQUEST_STATUS.items()}
NOMINATION_STATUS = {
    pb.NOMINATION_STATUS_IN_REVIEW: "in_review",
    pb.NOMINATION_STATUS_RETURNED: "returned",
    pb.NOMINATION_STATUS_REJECTED: "rejected",
    pb.NOMINATION_STATUS_APPROVED: "approved",
    pb.NOMINATION_STATUS_IN_NOTICE: "in_notice",
    pb.NOMINATION_STATUS_AWARDED: "awarded",
    pb.NOMINATION_STATUS_WITHDRAWN: "withdrawn",
}
PB_NOMINATION_STATUS = {v: k for k, v in NOMINATION_STATUS.items()}
DECISIONS = {
    pb.DECISION_APPROVE: "approve",
    pb.DECISION_REJECT: "reject",
    pb.DECISION_RETURN: "return",
}
PB_DECISION = {v: k for k, v in DECISIONS.items()}
HONOURS = {pb.HONOUR_KIND_MEDAL: "medal", pb.HONOUR_KIND_LONG_SERVICE: "long_service"}
ROUND_STATUS = {
    "open": pb.ROUND_STATUS_OPEN,
    "notice": pb.ROUND_STATUS_NOTICE,
    "finalized": pb.ROUND_STATUS_FINALIZED,
}
OBJECTION_STATUS = {
    "open": pb.OBJECTION_STATUS_OPEN,
    "upheld": pb.OBJECTION_STATUS_UPHELD,
    "dismissed": pb.OBJECTION_STATUS_DISMISSED,
}


def h(value: Decimal | float | int) -> float:
    return float(value)


def d(value: date | None) -> str:
    return value.isoformat() if value else ""


def page(p: Page) -> common.PageInfo:
    return common.PageInfo(next_page_token=p.next_token, total_size=p.total)


def star_request(r: m.StarRequest | None) -> pb.StarRequest | None:
    if r is None:
        return None
    return pb.StarRequest(
        id=r.id, volunteer_id=r.volunteer_id, volunteer_number=r.volunteer_number,
        division_code=r.division_code, stars=r.stars,
        approval_level=r.approval_level, approving_division_code=r.approving_code,
        hours_at_request=h(r.hours_at_request), status=PB_REQUEST_STATUS[r.status],
        reason=r.reason, created_at=ts(r.created_at), decided_by=r.decided_by,
        decided_at=ts(r.decided_at),
    )  # fmt: skip


def stars(
    rating: m.StarRating, history: list[m.StarChange], pending: m.StarRequest | None,
    medal: str,
) -> pb.VolunteerStars:  # fmt: skip
    return pb.VolunteerStars(
        volunteer_id=rating.volunteer_id, volunteer_number=rating.volunteer_number,
        division_code=rating.division_code, stars=rating.stars,
        eligible_stars=rating.eligible_stars, total_hours=h(rating.total_hours),
        medal=medal, continuous_years=rating.continuous_years,
        history=[
            pb.StarChange(
                from_stars=c.from_stars, to_stars=c.to_stars, kind=c.kind,
                reason=c.reason, actor=c.actor, changed_at=ts(c.changed_at),
            )
            for c in history
        ],
        pending=star_request(pending), held_reason=rating.held_reason or "",
    )  # fmt: skip


def honour(r: m.StarRating, medal: str) -> pb.Honour:
    return pb.Honour(
        volunteer_id=r.volunteer_id, volunteer_number=r.volunteer_number,
        division_code=r.division_code, stars=r.stars, total_hours=h(r.total_hours),
        medal=medal, continuous_years=r.continuous_years,
    )  # fmt: skip


def bar(b: m.BarEntry) -> pb.Bar:
    return pb.Bar(
        id=b.id, volunteer_id=b.volunteer_id, volunteer_number=b.volunteer_number,
        division_code=b.division_code, years=b.years, starts_on=d(b.starts_on),
        ends_on=d(b.ends_on), reason=b.reason, organisation_id=b.organisation_id,
        organisation_name=b.organisation_name, created_by=b.created_by,
        created_at=ts(b.created_at),
    )  # fmt: skip


def round_(r: m.AwardRound) -> pb.Round:
    return pb.Round(
        id=r.id, division_code=r.division_code, title=r.title, year=r.year,
        categories=list(r.categories), quota_per_child=r.quota_per_child,
        deadline=d(r.deadline), notice_working_days=r.notice_working_days,
        status=ROUND_STATUS[r.status], notice_starts_on=d(r.notice_starts_on),
        notice_ends_on=d(r.notice_ends_on), created_by=r.created_by,
        created_at=ts(r.created_at), finalized_at=ts(r.finalized_at),
    )  # fmt: skip


def _evidence(e: dict[str, Any]) -> pb.Evidence:
    return pb.Evidence(
        approved_hours=float(e.get("approved_hours", 0)),
        approved_records=int(e.get("approved_records", 0)),
        hours_by_field={
            k: float(x) for k, x in (e.get("hours_by_field") or {}).items()
        },
        activities=[str(a) for a in e.get("activities") or []],
        projects=int(e.get("projects", 0)),
        evaluated_records=int(e.get("evaluated_records", 0)),
        poor_evaluations=int(e.get("poor_evaluations", 0)),
        average_score=float(e.get("average_score", 0)),
        complaints_upheld=int(e.get("complaints_upheld", 0)),
        complaints_dismissed=int(e.get("complaints_dismissed", 0)),
        complaints_open=int(e.get("complaints_open", 0)),
    )


def nomination(n: m.Nomination, steps: list[m.ReviewStep]) -> pb.Nomination:
    return pb.Nomination(
        id=n.id, round_id=n.round_id, category=n.category,
        unit_division_code=n.division_code,
        unit_organisation_id=n.unit_organisation_id, unit_name=n.unit_name,
        nominee_volunteer_id=n.nominee_volunteer_id, nominee_name=n.nominee_name,
        nominee_division_code=n.nominee_division_code, statement=n.statement,
        status=PB_NOMINATION_STATUS[n.status], current_stage_code=n.current_stage,
        stage_codes=list(n.stage_codes), evidence=_evidence(n.evidence),
        signals=[pb.FraudSignal(**x) for x in n.signals],
        steps=[
            pb.ReviewStep(
                division_code=x.stage_code,
                decision=PB_DECISION.get(x.decision, pb.DECISION_UNSPECIFIED),
                comment=x.comment, reviewer=x.reviewer, decided_at=ts(x.decided_at),
            )
            for x in steps
            if x.decision in PB_DECISION
        ],
        nominated_by=n.nominated_by, created_at=ts(n.created_at),
        status_reason=n.status_reason,
    )  # fmt: skip


def objection(o: m.Objection) -> pb.Objection:
    return pb.Objection(
        id=o.id, nomination_id=o.nomination_id, content=o.content,
        status=OBJECTION_STATUS[o.status], resolution=o.resolution,
        filed_by=o.filed_by, filed_at=ts(o.filed_at), resolved_by=o.resolved_by,
        resolved_at=ts(o.resolved_at),
    )  # fmt: skip


def rollup(r: RollupResult) -> common.Rollup:
    return to_rollup(r)


SUMMARY_CHARS = 200


def notice_entry(n: m.Nomination, r: m.AwardRound) -> pb.NoticeEntry:
    """What a public notice shows of a nomination: never the evidence, fraud
    signals, review steps or anything personal beyond the masked name."""
    summary = " ".join((n.statement or "").split())
    if len(summary) > SUMMARY_CHARS:
        summary = summary[: SUMMARY_CHARS - 1] + "…"
    return pb.NoticeEntry(
        nomination_id=n.id, category=n.category, nominee_name=n.nominee_name,
        nominee_division_code=n.nominee_division_code, unit_name=n.unit_name,
        unit_division_code=n.division_code, summary=summary,
        notice_ends_on=d(r.notice_ends_on),
    )  # fmt: skip


def my_stars(got: MyStars) -> pb.GetMyStarsResponse:
    way = got.progress
    return pb.GetMyStarsResponse(
        stars=got.stars, hours_counted=h(got.hours), next_star=way.next_star,
        next_star_hours=h(way.next_hours), hours_to_next=h(way.hours_to_next),
        progress=way.share, pending_request=got.pending is not None,
        pending_stars=got.pending.stars if got.pending is not None else 0,
        honours=[my_honour(n, r) for n, r in got.awards],
    )  # fmt: skip


def my_honour(n: m.Nomination, r: m.AwardRound) -> pb.MyHonour:
    """An award as its notice showed it: the round, its unit and the
    nominating unit, nothing from the review (evidence, signals, steps)."""
    return pb.MyHonour(
        round_title=r.title, level=level_of(r.division_code).name.lower(),
        awarded_at=ts(r.finalized_at),
        division_name=name_of(r.division_code), division_code=r.division_code,
        category=n.category, year=r.year, unit_name=n.unit_name,
    )  # fmt: skip


AWARD_KINDS = {
    "star_rating": pb.AWARD_KIND_STAR_RATING,
    "honour": pb.AWARD_KIND_HONOUR,
}


def imported_award_line(x: m.ImportedAward) -> pb.AwardLine:
    """An award transferred in: AWARD_KIND_IMPORTED, its kind there, title
    (also as round_title, for readers printing honours) and issuer."""
    return pb.AwardLine(
        kind=pb.AWARD_KIND_IMPORTED,
        awarded_on=x.awarded_on.isoformat() if x.awarded_on else "",
        round_title=x.title, division_code=x.awarding_division_code,
        division_name=name_of(x.awarding_division_code)
        if x.awarding_division_code else "",
        imported_kind=x.kind, title=x.title, issuer_platform=x.issuer_platform,
    )  # fmt: skip


def award_line(a: Award) -> pb.AwardLine:
    return pb.AwardLine(
        kind=AWARD_KINDS[a.kind], awarded_on=a.awarded_on.isoformat(),
        stars=a.stars, round_title=a.round_title, category=a.category,
        year=a.year, division_code=a.division_code,
        division_name=name_of(a.division_code),
    )  # fmt: skip
