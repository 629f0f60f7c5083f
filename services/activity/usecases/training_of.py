"""A volunteer's training in a period, for the certificate hours issues
(民发〔2015〕149号: "training and awards, where the volunteer asks for them").

Who may ask, as the other reads: an office (READERS roles) for a volunteer
at home in its subtree, any other id (a neighbour's, an ancestor's, unknown)
NOT_FOUND alike; a volunteer's own account for itself only, whatever id the
request names (the token's ``vol`` claim, :func:`own_volunteer`).

Which rows: the attendances the caller's scope reads (held inside it, or by
a volunteer at home inside it, as row security has it); a volunteer's own
account reads under its home province, as ``ListMyTraining`` does. An
attendance proves the session and the course are the volunteer's, so their
date and title are read under the session's own node (the narrowest scope
that holds them): a county volunteer trained at the province's session gets
its line, and no other row of that node is read.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from services.activity import domain
from services.activity import models as m
from services.activity.usecases.base import Context
from services.common import checks
from services.common.auth import Principal
from services.common.roles import own_volunteer
from services.common.rollup import month_of
from services.common.tenancy import Scope


@dataclass(frozen=True)
class TrainingLine:
    row: m.TrainingAttendance
    course_title: str
    session: m.TrainingSession


@dataclass(frozen=True)
class TrainingOf:
    volunteer_id: str
    lines: list[TrainingLine]
    # Training transferred in from another platform (ImportTraining).
    imported: list[m.ImportedTraining] = field(default_factory=list)

    @property
    def hours(self) -> Decimal:
        return sum((x.row.hours for x in self.lines), Decimal(0)) + sum(
            (x.hours for x in self.imported), Decimal(0)
        )


class TrainingOfCases:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    def training_of(
        self,
        p: Principal,
        volunteer_id: str,
        period: tuple[str, str],
        include_undated: bool = False,
    ) -> TrainingOf:
        """The volunteer's attended sessions starting in the months
        ``period`` (open bounds when empty), oldest first, and the training
        imported from other platforms (started in the period; with
        ``include_undated`` those with no start too) under the home's scope.

        Example::

            got = cases.training_of(office, "0b6c…", ("2026-01", "2026-12"))
            [(x.course_title, x.row.hours) for x in got.lines]
        """
        start, end = checks.period(*period)
        if p.has_any(*domain.READERS):
            vid = checks.ident(volunteer_id, "volunteer_id")
            with self.ctx.uow(p.scope) as work:
                repo = self.ctx.repo(work)
                repo.volunteer(vid)  # NOT_FOUND outside the subtree
                rows = repo.training_rows_of(vid)
                brought = repo.imported_training_of(vid)
        else:
            vid = own_volunteer(p)
            with self.ctx.uow(Scope(p.scope.code[:2])) as work:
                repo = self.ctx.repo(work)
                rows = repo.training_rows_of(vid)
                brought = repo.imported_training_of(vid)
        lines = [
            x
            for x in self._detailed(rows)
            if (not start or month_of(x.session.starts_at) >= start)
            and (not end or month_of(x.session.starts_at) <= end)
        ]
        lines.sort(key=lambda x: (x.session.starts_at, x.row.id))
        imported = [
            x
            for x in brought
            if (x.started_at is None and include_undated)
            or (
                x.started_at is not None
                and (not start or month_of(x.started_at) >= start)
                and (not end or month_of(x.started_at) <= end)
            )
        ]
        return TrainingOf(vid, lines, imported)

    def _detailed(self, rows: list[m.TrainingAttendance]) -> list[TrainingLine]:
        by_node: dict[str, list[m.TrainingAttendance]] = defaultdict(list)
        for row in rows:
            by_node[row.division_code].append(row)
        out: list[TrainingLine] = []
        for node, held in sorted(by_node.items()):
            with self.ctx.uow(Scope(node)) as work:
                repo = self.ctx.repo(work)
                sessions = repo.training_sessions_by_id(
                    [x.training_session_id for x in held]
                )
                titles = repo.course_titles([x.course_id for x in held])
            out.extend(
                TrainingLine(x, titles.get(x.course_id, ""), s)
                for x in held
                if (s := sessions.get(x.training_session_id)) is not None
            )
        return out
