"""A volunteer's awards in a period, for the certificate hours issues
(民发〔2015〕149号: "training and awards, where the volunteer asks for them").

What counts as an award: a star rating a reviewer approved (the tier's
level: county, city or province), and an honour awarded in a finalised
award round. Of the stars, the latest approval of each tier the volunteer
still holds: a tier taken back by a correction of the hours is not printed
(a certificate states what is true now), and a tier approved again after
such a correction is printed once, with its latest date. Computed honour
lists (medals, long service) are standings, not grants, and carry no date:
they are not awards here.

Who may ask, as the other reads: an office (READERS roles) for a volunteer
at home in its subtree (the replica's home), any other id NOT_FOUND alike;
a volunteer's own account for itself only, whatever id the request names.
The rows are then read under the home's province, narrowed to the
volunteer, as ``GetMyStars`` reads them: an award's nomination lies at the
nominating unit, inside the round's subtree, and a round takes nominees of
its own subtree only, so every award of the volunteer lies in that province.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from services.commendation.models import (
    AwardRound,
    ImportedAward,
    Nomination,
    StarRequest,
)
from services.commendation.usecases.base import Context
from services.common import checks
from services.common.auth import Principal
from services.common.errors import NotFound
from services.common.roles import READERS, own_volunteer
from services.common.rollup import CST
from services.common.tenancy import Scope


@dataclass(frozen=True)
class Award:
    kind: str  # star_rating | honour
    awarded_on: date
    division_code: str
    stars: int = 0
    round_title: str = ""
    category: str = ""
    year: int = 0


@dataclass(frozen=True)
class AwardsOf:
    volunteer_id: str
    awards: list[Award]
    # Awards transferred in from another platform (ImportAwards).
    imported: list[ImportedAward] = field(default_factory=list)


class AwardsOfQueries:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    def awards_of(
        self,
        p: Principal,
        volunteer_id: str,
        period: tuple[str, str],
        include_undated: bool = False,
    ) -> AwardsOf:
        """The volunteer's awards dated in the months ``period`` (open
        bounds when empty), oldest first; and the awards imported from other
        platforms dated in it (with ``include_undated`` those with no date
        too), read under the caller's scope (an office) or the province (the
        volunteer's own account).

        Example::

            got = queries.awards_of(office, "0b6c…", ("2026-01", "2026-12"))
            [(a.kind, a.stars, a.awarded_on) for a in got.awards]
        """
        start, end = checks.period(*period)
        if p.has_any(*READERS):
            vid = checks.ident(volunteer_id, "volunteer_id")
            with self.ctx.uow(p) as work:
                home = self.ctx.repo(work).home_of(vid)
            if not home:
                err = NotFound.entity("volunteer", "志愿者", vid)
                err.field, err.rule = "volunteer_id", "volunteer_id.exists"
                raise err
        else:
            vid, home = own_volunteer(p), p.scope.code
        with self.ctx.uow(Scope(home[:2])) as work:
            repo = self.ctx.repo(work)
            rating = repo.rating(vid)
            stars = repo.approved_stars(vid)
            honours = repo.awards_of(vid)
        reader = p.scope if p.has_any(*READERS) else Scope(home[:2])
        with self.ctx.uow(reader) as work:
            brought = self.ctx.repo(work).imported_awards_of(vid)
        found = _stars(stars, rating.stars if rating else 0) + [
            _honour(n, r) for n, r in honours
        ]
        inside = [
            a
            for a in found
            if (not start or a.awarded_on.strftime("%Y-%m") >= start)
            and (not end or a.awarded_on.strftime("%Y-%m") <= end)
        ]
        inside.sort(key=lambda a: (a.awarded_on, a.kind, a.stars, a.round_title))
        imported = [
            x
            for x in brought
            if (x.awarded_on is None and include_undated)
            or (
                x.awarded_on is not None
                and (not start or x.awarded_on.strftime("%Y-%m") >= start)
                and (not end or x.awarded_on.strftime("%Y-%m") <= end)
            )
        ]
        return AwardsOf(vid, inside, imported)


def _day(moment: datetime) -> date:
    return moment.astimezone(CST).date()


def _stars(approved: list[StarRequest], held: int) -> list[Award]:
    latest: dict[int, StarRequest] = {}
    for r in approved:  # oldest first: the last one of a tier wins
        if r.stars <= held and r.decided_at is not None:
            latest[r.stars] = r
    return [
        Award("star_rating", _day(r.decided_at), r.approving_code, stars=r.stars)
        for r in latest.values()
        if r.decided_at is not None
    ]


def _honour(n: Nomination, r: AwardRound) -> Award:
    when = r.finalized_at or n.updated_at
    return Award(
        "honour", _day(when), r.division_code, round_title=r.title,
        category=n.category, year=r.year,
    )  # fmt: skip
