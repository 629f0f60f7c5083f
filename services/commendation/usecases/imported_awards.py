"""Awards transferred in from another platform (issue 14, part 8): the
national record format's ``awards[]`` (docs/record-format.md), written in
batches by the record import, listed by ``ListAwardsOf`` and the export.

Who may write: administrators, for volunteers at home in their subtree (the
replica's home). A volunteer anywhere else (a neighbour's, an ancestor's,
an id of no one) is NOT_FOUND naming ``entries[i].volunteer_id``, and the
whole batch is refused: nothing is written.

Idempotency: a row's ``source_key`` is the hash of its issuer platform,
kind, title and date, unique per volunteer; an entry whose key is on
record, or that names an award this platform gave the volunteer itself (a
star rating approved here on that day, the medal held: a platform
re-importing its own export), is a duplicate, as is a repeat inside the
batch. Each row lies under the volunteer's home at the import.

Imported awards never change star ratings: no star path reads this table,
and nothing here touches ``star_ratings``, ``star_requests`` or
``star_changes``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from services.commendation import domain
from services.commendation.models import ImportedAward
from services.commendation.repository import Repository
from services.commendation.usecases.base import Context
from services.common import checks
from services.common import record_format as fmt
from services.common.auth import Principal
from services.common.errors import InvalidArgument, NotFound
from services.common.roles import ADMINS
from services.common.rollup import CST

MAX_ENTRIES = 500


@dataclass(frozen=True)
class AwardEntry:
    """One entry as the RPC carries it (``awarded_on`` YYYY-MM-DD or "")."""

    volunteer_id: str
    kind: str
    title: str
    awarded_on: str
    division_code: str
    issuer_platform: str


@dataclass(frozen=True)
class Checked:
    volunteer_id: str
    kind: str
    title: str
    awarded_on: date | None
    division_code: str
    issuer_platform: str

    @property
    def key(self) -> str:
        day = self.awarded_on.isoformat() if self.awarded_on else ""
        return fmt.source_key("award", self.issuer_platform, self.kind, self.title, day)


def check_entry(i: int, e: AwardEntry) -> Checked:
    """One entry's fields, or INVALID_ARGUMENT naming ``entries[i].<field>``
    with the field's own rule (``hours.range``)."""
    return fmt.entry_rules(i, lambda: _check_entry(i, e))


def _check_entry(i: int, e: AwardEntry) -> Checked:
    """One entry's fields, or INVALID_ARGUMENT naming ``entries[i].<field>``."""
    at = f"entries[{i}]"
    vid = checks.ident(e.volunteer_id, f"{at}.volunteer_id")
    kind = checks.text(e.kind, f"{at}.kind", 20)
    if not fmt.AWARD_KIND.match(kind):
        raise InvalidArgument(f"{at}.kind", "kind.format",
                   "lower-case letters, digits and _ (at most 20)",
                   "须为小写字母、数字或下划线（最多 20 个）")  # fmt: skip
    title = checks.text(e.title, f"{at}.title", fmt.MAX_TITLE)
    fmt.require_plain(f"{at}.title", title)
    issuer = checks.text(e.issuer_platform, f"{at}.issuer_platform", 50)
    fmt.require_issuer(f"{at}.issuer_platform", issuer)
    day = checks.day(e.awarded_on, f"{at}.awarded_on") if e.awarded_on else None
    code = (e.division_code or "").strip()
    if code and not fmt.is_code(code):
        raise InvalidArgument(f"{at}.division_code", "division_code.code",
                   "must be a division code (2, 4, 6, 9 or 12 digits)",
                   "须为行政区划代码（2、4、6、9 或 12 位数字）")  # fmt: skip
    return Checked(vid, kind, title, day, code, issuer)


class ImportedAwardCases:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    def import_awards(
        self, p: Principal, entries: list[AwardEntry]
    ) -> fmt.ImportOutcome:
        """Write the entries not on record yet; all or nothing.

        Example::

            got = cases.import_awards(admin, [AwardEntry(vid, "honour",
                "优秀志愿者", "2025-05-04", "", "other")])
            (got.imported, got.duplicates)  # (1, 0); again: (0, 1)
        """
        p.require_any(*ADMINS)
        if not entries:
            raise InvalidArgument.required("entries")
        if len(entries) > MAX_ENTRIES:
            raise InvalidArgument(
                "entries", "entries.max", f"at most {MAX_ENTRIES} entries",
                f"最多 {MAX_ENTRIES} 条",
            )  # fmt: skip
        checked = [check_entry(i, e) for i, e in enumerate(entries)]
        now = self.ctx.clock()
        outcomes: list[str] = []
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            homes: dict[str, str] = {}
            for i, c in enumerate(checked):
                if c.volunteer_id in homes:
                    continue
                home = repo.home_of(c.volunteer_id)
                if not home:  # a neighbour's, an ancestor's, no one's: alike
                    err = NotFound.entity("volunteer", "志愿者", c.volunteer_id)
                    err.field = f"entries[{i}].volunteer_id"
                    err.rule = "volunteer_id.exists"
                    raise err
                homes[c.volunteer_id] = home
            ids = sorted(homes)
            seen = repo.imported_award_keys(ids)
            own = _own_awards(repo, ids)
            for c in checked:
                mine = (c.kind, c.title, c.awarded_on)
                if (c.volunteer_id, c.key) in seen or mine in own.get(
                    c.volunteer_id, set()
                ):
                    outcomes.append("duplicate")
                    continue
                seen.add((c.volunteer_id, c.key))
                repo.add(
                    ImportedAward(
                        id=str(uuid.uuid4()),
                        volunteer_id=c.volunteer_id,
                        division_code=homes[c.volunteer_id],
                        kind=c.kind,
                        title=c.title,
                        awarded_on=c.awarded_on,
                        awarding_division_code=c.division_code,
                        issuer_platform=c.issuer_platform,
                        source_key=c.key,
                        imported_by=p.username,
                        imported_at=now,
                    )
                )
                outcomes.append("imported")
        return fmt.ImportOutcome(
            outcomes.count("imported"), outcomes.count("duplicate"), outcomes
        )


def _own_awards(
    repo: Repository, ids: list[str]
) -> dict[str, set[tuple[str, str, date | None]]]:
    """The awards this platform gave, as its record export writes them
    (kind, title, date): each approved star change, and the medal held."""
    out: dict[str, set[tuple[str, str, date | None]]] = {v: set() for v in ids}
    for c in repo.approved_changes(ids):
        day = c.changed_at.astimezone(CST).date()
        out[c.volunteer_id].add(("star_rating", fmt.star_title(c.to_stars), day))
    for r in repo.ratings_of(ids):
        medals = repo.settings(r.division_code)["honours.medal_hours"]
        medal = domain.medal(r.stars, r.total_hours, medals)
        if medal:
            out[r.volunteer_id].add(("medal", medal, None))
    return out
