"""Award rounds and nominations (先进典型推选): a unit opens a round for its
subtree; organisations and units below nominate from recorded facts before
the deadline; each level reviews before passing up, never a nomination of
its own unit or one it declared a conflict on; each child unit passes at
most its quota up to the round's level. Reviewing is in :mod:`.review`."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.commendation import conduct, domain
from services.commendation import validation as v
from services.commendation.models import AwardRound, Nomination
from services.commendation.repository import Repository
from services.commendation.usecases.base import Context
from services.common import checks
from services.common.auth import Principal
from services.common.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from services.common.roles import ADMINS, MANAGERS, require_organisation
from services.common.tenancy import Scope, validate_code

# Once it passed every level a nomination holds its quota place until the end.
HOLDS_PLACE = ("in_review", "approved", "in_notice", "awarded")


def visible_round(repo: Repository, p: Principal, ident: str) -> AwardRound:
    """A round the caller may see: opened in their subtree or above them."""
    ident = checks.ident(ident, "round_id")
    r = repo.round(ident)
    if r is None or not (
        p.scope.contains(r.division_code) or p.scope_code.startswith(r.division_code)
    ):
        raise NotFound.entity("award round", "评选活动", ident)
    return r


def refuse_blocked_nominee(repo: Repository, volunteer_id: str) -> None:
    """A current poor evaluation whose policy blocks nominations refuses
    nominating (and resubmitting) the volunteer."""
    if "nominations" in repo.conduct_blocks(volunteer_id):
        en, zh = conduct.nomination_refusal()
        raise FailedPrecondition(
            en, zh, field="nominee_volunteer_id", rule="evaluation.poor_blocks"
        )


class RoundCases:
    """Rounds and nominations; the round checks that reviewing and the
    notice share (:meth:`round_for`, :meth:`before_deadline`,
    :meth:`enter_stage`) live here."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def open_round(
        self, p: Principal, code: str, title: str, year: int,
        categories: list[str], quota: int, deadline: str, notice_days: int,
    ) -> AwardRound:  # fmt: skip
        p.require_any(*ADMINS)
        code = p.scope.require(validate_code(code or p.scope_code), "division_code")
        title = checks.text(title, "title", 200)
        year = checks.whole(year, "year", 2000, 2100)
        quota = checks.whole(quota, "quota_per_child", 1, 10_000)
        due = checks.day(deadline, "deadline")
        if due < self.ctx.today():
            raise InvalidArgument(
                "deadline", "deadline.future", "the deadline has passed",
                "截止日期已过",
            )  # fmt: skip
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            settings = repo.settings(code)
            cats = v.categories(categories or settings["awards.categories"])
            days = notice_days or settings["awards.notice_working_days"]
            days = checks.whole(days, "notice_working_days", 5, 60)
            r = AwardRound(
                id=str(uuid.uuid4()), division_code=code, title=title, year=year,
                categories=cats, quota_per_child=quota, deadline=due,
                notice_working_days=days, status="open", notice_starts_on=None,
                notice_ends_on=None, created_by=p.username, created_at=self.ctx.clock(),
                finalized_at=None,
            )  # fmt: skip
            repo.add(r)
            work.record("commendation.round.opened", code, {
                "round_id": r.id, "title": title, "year": year,
                "deadline": due.isoformat(), "categories": cats,
            })  # fmt: skip
            return r

    def round_for(self, repo: Repository, p: Principal, ident: str) -> AwardRound:
        return visible_round(repo, p, ident)

    # -- nominate --------------------------------------------------------------
    def nominate(self, p: Principal, req: v.NominationInput) -> Nomination:
        p.require_any(*MANAGERS)
        # An org_leader nominates for its own organisation (unit) only.
        require_organisation(p, req.unit_organisation_id, "unit_organisation_id")
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            existing = repo.submitted(p.username, req.request_id)
            if existing is not None:
                return existing  # the same submission again
            r = self.round_for(repo, p, req.round_id)
        unit = p.scope.require(req.unit_division_code, "unit_division_code")
        if not unit.startswith(r.division_code):
            raise PermissionDenied.outside_scope(
                "unit_division_code", unit, r.division_code
            )
        if req.category not in r.categories:
            raise InvalidArgument(
                "category", "category.in_round",
                f"this round has the categories {', '.join(r.categories)}",
                f"本次评选的类别为：{'、'.join(r.categories)}",
            )  # fmt: skip
        facts = self.ctx.require_facts()
        unit_name = f"{unit} office"
        if req.unit_organisation_id:
            unit_name, org_code = facts.organisation(req.unit_organisation_id)
            if org_code != unit:
                raise InvalidArgument(
                    "unit_organisation_id", "unit_organisation_id.in_division",
                    f"the organisation belongs to {org_code}, not {unit}",
                    f"该组织隶属于 {org_code}，而非 {unit}",
                )  # fmt: skip
        evidence, signals, nominee = self._gather(req, r)
        stages = domain.stages(unit, not req.unit_organisation_id, r.division_code)
        if not stages:
            raise FailedPrecondition(
                "the round's own unit reviews this round; it cannot nominate into it",
                "评选发起单位负责终审，不能在本次评选中推荐",
                field="unit_division_code", rule="nomination.own_round",
            )  # fmt: skip
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            r = self.round_for(repo, p, req.round_id)
            self.before_deadline(r)
            n = Nomination(
                id=str(uuid.uuid4()), round_id=r.id,
                round_division_code=r.division_code, category=req.category,
                division_code=unit, unit_organisation_id=req.unit_organisation_id,
                unit_name=unit_name, child_code=domain.child_of(unit, r.division_code),
                nominee_volunteer_id=req.nominee_volunteer_id,
                nominee_name=nominee[0], nominee_division_code=nominee[1],
                statement=req.statement, status="in_review", status_reason="",
                stage_codes=stages, stage_index=0, current_stage=stages[0],
                at_round_level=False,
                evidence=evidence, signals=signals, nominated_by=p.username,
                nominated_by_subject=p.subject, nominated_by_scope=p.scope_code,
                request_id=req.request_id,
                created_at=self.ctx.clock(), updated_at=self.ctx.clock(),
            )  # fmt: skip
            repo.add(n)
            self.enter_stage(repo, r, n)
            self.ctx.bump(work, unit, nominations=1)
            work.record("commendation.nomination.submitted", unit, {
                "nomination_id": n.id, "round_id": r.id, "category": n.category,
                "stage_code": stages[0],
            })  # fmt: skip
            try:
                repo.flush()
            except IntegrityError:
                raise FailedPrecondition(
                    "this request_id was used for another nomination",
                    "该请求编号已用于另一条推荐", field="request_id",
                    rule="request_id.unique",
                ) from None  # fmt: skip
            return n

    def _gather(
        self, req: v.NominationInput, r: AwardRound
    ) -> tuple[dict[str, Any], list[dict[str, str]], tuple[str, str]]:
        """Evidence and fraud signals, fetched as the nominating caller."""
        facts = self.ctx.require_facts()
        if req.category != "individual":
            code = validate_code(req.nominee_division_code, "nominee_division_code")
            if not code.startswith(r.division_code):
                raise PermissionDenied.outside_scope(
                    "nominee_division_code", code, r.division_code
                )
            projects = facts.projects_in(code)
            return {"projects": projects}, [], (req.nominee_name, code)
        nominee = facts.nominee(req.nominee_volunteer_id)
        if not nominee.home_division_code.startswith(r.division_code):
            raise PermissionDenied.outside_scope(
                "nominee_volunteer_id", nominee.home_division_code, r.division_code
            )
        barred, standing = self._at_home(
            req.nominee_volunteer_id, nominee.home_division_code
        )
        got = facts.hours_of(req.nominee_volunteer_id)
        evidence = {
            "approved_hours": got.approved_hours,
            "approved_records": got.approved_records,
            "platform_hours": got.platform_hours,
            "hours_by_field": got.by_field,
            "activities": got.activities,
            **standing.as_evidence(),
        }
        signals = [x.as_dict() for x in domain.signals(got.records, barred)]
        return evidence, signals, (nominee.name_masked, nominee.home_division_code)

    def _at_home(
        self, volunteer_id: str, home: str
    ) -> tuple[date | None, conduct.Standing]:
        """What the nominee's home keeps of them: the end of a bar, and the
        evaluation and complaint figures; a current poor evaluation whose
        policy blocks nominations refuses the nomination (nothing written)."""
        with self.ctx.uow(Scope(home)) as work:
            repo = self.ctx.repo(work)
            refuse_blocked_nominee(repo, volunteer_id)
            barred = repo.barred_until(volunteer_id, self.ctx.today())
            return barred, repo.standing_of(volunteer_id)

    def check_nominee_conduct(self, volunteer_id: str, fallback_home: str) -> None:
        """Refuse as :meth:`nominate` does if the volunteer's current poor
        evaluation blocks nominations, read where the facts lie: under the
        home the replica knows now (it follows transfers), else
        ``fallback_home``. A read-only transaction of its own, since the
        home may lie outside the caller's scope (row security)."""
        with self.ctx.uow(None) as work:
            repo = self.ctx.repo(work)
            repo.scope = Scope(repo.enter_home(volunteer_id, fallback_home))
            refuse_blocked_nominee(repo, volunteer_id)

    def before_deadline(self, r: AwardRound) -> None:
        if r.status != "open" or self.ctx.today() > r.deadline:
            raise FailedPrecondition(
                f"nominations closed on {r.deadline.isoformat()}",
                f"推荐已于 {r.deadline.isoformat()} 截止",
                field="round_id", rule="round.deadline",
            )  # fmt: skip

    @staticmethod
    def enter_stage(repo: Repository, r: AwardRound, n: Nomination) -> None:
        """Checks on reaching a stage: the round's own level takes a place
        of the child unit's quota."""
        if n.stage_codes[n.stage_index] != r.division_code or n.at_round_level:
            return
        # Two reviewers passing two nominations of one child unit up at once
        # must not both take its last place.
        repo.lock_quota(r.id, n.child_code)
        held = repo.places_held(r.id, n.child_code, HOLDS_PLACE, but=n.id)
        if held >= r.quota_per_child:
            raise FailedPrecondition(
                f"{n.child_code} has passed up its quota of {r.quota_per_child}",
                f"{n.child_code} 的推荐名额（{r.quota_per_child} 个）已用完",
                field="id", rule="round.quota",
            )  # fmt: skip
        n.at_round_level = True
