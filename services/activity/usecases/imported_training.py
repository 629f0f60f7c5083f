"""Training transferred in from another platform (issue 14, part 8): the
national record format's ``training[]`` (docs/record-format.md), written in
batches by the record import and listed beside local training.

Who may write: administrators, for volunteers at home in their subtree (the
replica's home). A volunteer anywhere else (a neighbour's, an ancestor's,
an id of no one) is NOT_FOUND naming ``entries[i].volunteer_id``, and the
whole batch is refused: nothing is written.

Idempotency: a row's ``source_key`` is the hash of its issuer platform and
its session id there, unique per volunteer; an entry whose key is on record,
or whose session id is a session of this platform the volunteer attended
(a platform re-importing its own export), is a duplicate, as is a repeat
inside the batch. Each row lies under the volunteer's home at the import.
Training hours are kept apart from service hours: nothing is announced to
hours.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from services.activity import models as m
from services.activity.usecases.base import Context
from services.common import checks
from services.common import record_format as fmt
from services.common.auth import Principal
from services.common.errors import InvalidArgument
from services.common.roles import ADMINS

MAX_ENTRIES = 500


@dataclass(frozen=True)
class TrainingEntry:
    """One entry as the RPC carries it (times RFC 3339 or "")."""

    volunteer_id: str
    course_title: str
    started_at: str
    ended_at: str
    hours: float
    issuer_platform: str
    source_session_id: str


@dataclass(frozen=True)
class Checked:
    volunteer_id: str
    course_title: str
    started_at: datetime | None
    ended_at: datetime | None
    hours: Decimal
    issuer_platform: str
    source_session_id: str

    @property
    def key(self) -> str:
        return fmt.source_key("training", self.issuer_platform, self.source_session_id)


def check_entry(i: int, e: TrainingEntry) -> Checked:
    """One entry's fields, or INVALID_ARGUMENT naming ``entries[i].<field>``
    with the field's own rule (``hours.range``)."""
    return fmt.entry_rules(i, lambda: _check_entry(i, e))


def _check_entry(i: int, e: TrainingEntry) -> Checked:
    """One entry's fields, or INVALID_ARGUMENT naming ``entries[i].<field>``."""
    at = f"entries[{i}]"
    vid = checks.ident(e.volunteer_id, f"{at}.volunteer_id")
    title = checks.text(e.course_title, f"{at}.course_title", fmt.MAX_TITLE)
    source = checks.text(e.source_session_id, f"{at}.source_session_id",
                         fmt.MAX_SOURCE_ID)  # fmt: skip
    issuer = checks.text(e.issuer_platform, f"{at}.issuer_platform", 50)
    fmt.require_plain(f"{at}.course_title", title)
    fmt.require_plain(f"{at}.source_session_id", source)
    fmt.require_issuer(f"{at}.issuer_platform", issuer)
    start = (
        checks.utc_moment(e.started_at, f"{at}.started_at") if e.started_at else None
    )
    end = checks.utc_moment(e.ended_at, f"{at}.ended_at") if e.ended_at else None
    if end is not None and (start is None or end <= start):
        raise InvalidArgument(f"{at}.ended_at", "ended_at.after_start",
                   "the training must start, and end after it starts",
                   "培训须有开始时间，且结束时间晚于开始时间")  # fmt: skip
    longest = Decimal(fmt.MAX_TRAINING_HOURS)
    if start is not None and end is not None:
        longest = min(longest, Decimal((end - start).total_seconds()) / 3600)
    hours = Decimal(str(e.hours)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    if not (e.hours == e.hours and Decimal(0) < hours <= longest):  # NaN too
        raise InvalidArgument(f"{at}.hours", "hours.range",
                   f"training hours must be more than 0 and at most {longest:.2f}",
                   f"培训时长须大于 0 且不超过 {longest:.2f} 小时")  # fmt: skip
    return Checked(vid, title, start, end, hours, issuer, source)


class ImportedTrainingCases:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    def import_training(
        self, p: Principal, entries: list[TrainingEntry]
    ) -> fmt.ImportOutcome:
        """Write the entries not on record yet; all or nothing.

        Example::

            got = cases.import_training(admin, [TrainingEntry(vid, "急救",
                "2025-03-01T01:00:00Z", "2025-03-01T03:00:00Z", 2, "other", "s1")])
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
        with self.ctx.uow(p.scope) as work:
            repo = self.ctx.repo(work)
            homes: dict[str, m.VolunteerReplica] = {}
            for i, c in enumerate(checked):
                if c.volunteer_id not in homes:  # NOT_FOUND outside the subtree
                    homes[c.volunteer_id] = repo.volunteer(
                        c.volunteer_id, field=f"entries[{i}].volunteer_id"
                    )
            ids = sorted(homes)
            seen = repo.imported_training_keys(ids)
            attended = repo.attended_sessions(ids)
            for c in checked:
                if (c.volunteer_id, c.key) in seen or (
                    c.volunteer_id,
                    c.source_session_id,
                ) in attended:
                    outcomes.append("duplicate")
                    continue
                seen.add((c.volunteer_id, c.key))
                vol = homes[c.volunteer_id]
                repo.add(
                    m.ImportedTraining(
                        id=str(uuid.uuid4()),
                        volunteer_id=vol.id,
                        volunteer_number=vol.volunteer_number,
                        division_code=vol.home_division_code,
                        course_title=c.course_title,
                        started_at=c.started_at,
                        ended_at=c.ended_at,
                        hours=c.hours,
                        issuer_platform=c.issuer_platform,
                        source_session_id=c.source_session_id,
                        source_key=c.key,
                        imported_by=p.username,
                        imported_at=now,
                    )
                )
                outcomes.append("imported")
        return fmt.ImportOutcome(
            outcomes.count("imported"), outcomes.count("duplicate"), outcomes
        )
