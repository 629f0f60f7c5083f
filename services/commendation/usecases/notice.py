"""Public notice (公示), objections and the final award.

The round's owner puts every nomination that passed all levels on notice
for at least five working days. Anyone in the round's subtree may object
while the notice runs; the owner resolves each objection (upheld withdraws
the nomination). After the notice ends, with no objection left open, the
owner finalises: barred nominees are withdrawn, the rest awarded.
"""

from __future__ import annotations

import uuid

from services.commendation import domain
from services.commendation.models import (
    ROLLUP_CATEGORIES,
    AwardRound,
    Nomination,
    Objection,
)
from services.commendation.repository import Repository
from services.commendation.usecases.base import Context
from services.commendation.usecases.rounds import RoundCases
from services.common import checks
from services.common.auth import Principal
from services.common.errors import FailedPrecondition, NotFound, PermissionDenied
from services.common.roles import REVIEWERS
from services.common.tenancy import Scope


class NoticeCases:
    """The notice, objections and the award, on rounds found through
    ``rounds``."""

    def __init__(self, ctx: Context, rounds: RoundCases):
        self.ctx, self.rounds = ctx, rounds

    def _owned_round(self, repo: Repository, p: Principal, ident: str) -> AwardRound:
        r = self.rounds.round_for(repo, p, ident)
        if p.scope_code != r.division_code:
            raise PermissionDenied(
                f"only {r.division_code}, which opened the round, may do this",
                f"仅评选发起单位 {r.division_code} 可执行此操作",
                field="round_id", rule="round.owner",
            )  # fmt: skip
        return r

    def start_notice(self, p: Principal, ident: str) -> tuple[AwardRound, int]:
        p.require_any(*REVIEWERS)
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            r = self._owned_round(repo, p, ident)
            if r.status != "open":
                raise FailedPrecondition.transition(
                    "award round", "评选活动", r.status, "notice"
                )
            ready = repo.of_round(r.id, "approved")
            if not ready:
                raise FailedPrecondition(
                    "no nomination has passed every level yet",
                    "尚无通过各级审核的推荐",
                    field="round_id", rule="notice.nominations",
                )  # fmt: skip
            start = self.ctx.today()
            r.status, r.notice_starts_on = "notice", start
            r.notice_ends_on = domain.add_working_days(start, r.notice_working_days)
            for n in ready:
                n.status, n.updated_at = "in_notice", self.ctx.clock()
            work.record("commendation.round.notice_started", r.division_code, {
                "round_id": r.id, "notice_starts_on": start.isoformat(),
                "notice_ends_on": r.notice_ends_on.isoformat(),
                "nominations": len(ready),
            })  # fmt: skip
            return r, len(ready)

    def file_objection(self, p: Principal, ident: str, content: str) -> Objection:
        """Anyone in the round's subtree may object while the notice runs."""
        ident = checks.ident(ident, "nomination_id")
        content = checks.text(content, "content", 2000)
        with self.ctx.uow(p) as work:
            home = self.ctx.repo(work).round_code_of(ident)
        # The notice is public to the round's whole subtree, so the caller
        # may object to a nomination outside their own; the write runs in
        # the round's scope once the caller is known to lie inside it.
        round_code = home or self._round_code_public(ident, p)
        with self.ctx.uow(Scope(round_code)) as work:
            repo = self.ctx.repo(work)
            n = repo.nomination_by_id(ident, lock=True)
            if n is None or (
                n.status != "in_notice" and not p.scope.contains(n.division_code)
            ):
                # Before or after its notice a nomination is not public: to
                # whoever could not see it otherwise it does not exist.
                raise NotFound.entity("nomination", "推荐", ident)
            if n.status != "in_notice":
                raise FailedPrecondition(
                    "objections are taken only while a nomination is on notice",
                    "仅可在公示期内对推荐提出异议",
                    field="nomination_id", rule="objection.notice",
                )  # fmt: skip
            r = repo.round(n.round_id)
            if (
                r is None
                or r.notice_ends_on is None
                or self.ctx.today() > r.notice_ends_on
            ):
                raise FailedPrecondition(
                    "the public notice has ended", "公示期已结束",
                    field="nomination_id", rule="objection.notice",
                )  # fmt: skip
            o = Objection(
                id=str(uuid.uuid4()), nomination_id=n.id, round_id=r.id,
                division_code=n.division_code, content=content, status="open",
                resolution="", filed_by=p.username, filed_at=self.ctx.clock(),
                resolved_by="", resolved_at=None,
            )  # fmt: skip
            repo.add(o)
            work.record("commendation.objection.filed", n.division_code, {
                "objection_id": o.id, "nomination_id": n.id, "round_id": r.id,
            })  # fmt: skip
            return o

    def _round_code_public(self, ident: str, p: Principal) -> str:
        """The round of a nomination outside the caller's scope, if the
        caller lies in that round's subtree (the notice is public there)."""
        with self.ctx.uow(Scope(p.scope_code[:2])) as work:
            n = self.ctx.repo(work).nomination_by_id(ident)
            if n is not None and p.scope_code.startswith(n.round_division_code):
                return n.round_division_code
        raise NotFound.entity("nomination", "推荐", ident)

    def resolve_objection(
        self, p: Principal, ident: str, upheld: bool, resolution: str
    ) -> tuple[Objection, Nomination]:
        p.require_any(*REVIEWERS)
        ident = checks.ident(ident, "id")
        resolution = checks.text(resolution, "resolution", 2000)
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            o = repo.objection(ident)
            self._owned_round(repo, p, o.round_id)
            if o.status != "open":
                raise FailedPrecondition.transition(
                    "objection", "异议", o.status, "resolved"
                )
            o.status = "upheld" if upheld else "dismissed"
            o.resolution, o.resolved_by, o.resolved_at = (
                resolution,
                p.username,
                self.ctx.clock(),
            )
            n = repo.nomination(o.nomination_id, lock=True)
            if upheld and n.status == "in_notice":
                n.status, n.status_reason = (
                    "withdrawn",
                    f"objection upheld: {resolution}",
                )
                n.updated_at = self.ctx.clock()
            return o, n

    def finalize(self, p: Principal, ident: str) -> tuple[AwardRound, int, int]:
        p.require_any(*REVIEWERS)
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            r = self._owned_round(repo, p, ident)
            if r.status != "notice" or r.notice_ends_on is None:
                raise FailedPrecondition.transition(
                    "award round", "评选活动", r.status, "finalized"
                )
            if self.ctx.today() <= r.notice_ends_on:
                raise FailedPrecondition(
                    f"the public notice runs until {r.notice_ends_on.isoformat()}",
                    f"公示期至 {r.notice_ends_on.isoformat()} 结束",
                    field="round_id", rule="notice.ended",
                )  # fmt: skip
            open_ = repo.open_objections(r.id)
            if open_:
                raise FailedPrecondition(
                    f"{open_} objection(s) are still open",
                    f"尚有 {open_} 条异议未处理",
                    field="round_id", rule="objection.resolved",
                )  # fmt: skip
            awarded = withdrawn = 0
            for n in repo.of_round(r.id, "in_notice"):
                barred = n.nominee_volunteer_id and repo.barred_until(
                    n.nominee_volunteer_id, self.ctx.today()
                )
                if barred:
                    n.status, n.status_reason = (
                        "withdrawn",
                        "barred for falsified hours",
                    )
                    withdrawn += 1
                    continue
                n.status, n.updated_at = "awarded", self.ctx.clock()
                awarded += 1
                deltas = {"awards": 1.0}
                if n.category in ROLLUP_CATEGORIES:
                    deltas[f"awards_{n.category}"] = 1.0
                self.ctx.bump(work, n.division_code, **deltas)
                work.record("commendation.award.granted", n.division_code, {
                    "nomination_id": n.id, "round_id": r.id, "category": n.category,
                    "volunteer_id": n.nominee_volunteer_id, "year": r.year,
                })  # fmt: skip
            r.status, r.finalized_at = "finalized", self.ctx.clock()
            return r, awarded, withdrawn
