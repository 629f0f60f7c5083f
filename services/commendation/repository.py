"""Commendation's data access: every statement its use cases make, and the
only place that knows PostgreSQL from SQLite (embedded mode).

A :class:`Repository` is built from the session of a unit of work and its
scope (``None``: the system context, as the worker's event handlers begin).
Row-level security filters every tenant table underneath in PostgreSQL; the
reads a caller names by id also filter by the scope's prefix, so another
tenant's row and no row get the same NOT_FOUND.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, func, select, text
from sqlalchemy.orm import Session

from services.commendation import conduct
from services.commendation.models import (
    PROCESSED,
    AwardRound,
    BarEntry,
    ComplaintFact,
    EvaluationFact,
    ImportedAward,
    Nomination,
    Objection,
    PolicyNode,
    ReviewStep,
    ServiceYear,
    StarChange,
    StarRating,
    StarRequest,
    Volunteer,
)
from services.common import outbox, settings_replica
from services.common.db import (
    Database,
    SessionRepository,
    is_postgres,
    upsertable_insert,
)
from services.common.errors import NotFound
from services.common.paging import Page, next_token, page_bounds, page_rows
from services.common.tenancy import Scope


def batches_set_wise(db: Database) -> bool:
    """Whether a batch of hours events can go to :mod:`.star_batch` (it
    needs PostgreSQL's pipeline mode and arrays)."""
    return is_postgres(db.engine)


class Repository(SessionRepository[Scope | None]):
    def __init__(self, session: Session, scope: Scope | None):
        super().__init__(session, scope)
        self.postgres = session.get_bind().dialect.name == "postgresql"

    def _inside(self, column: Any) -> Any:
        assert self.scope is not None, "a scoped read needs a scope"
        return column.like(self.scope.like_pattern)

    # -- events and settings -------------------------------------------------
    def claim(self, consumer: str, event_id: str) -> bool:
        return outbox.claim(self.s, PROCESSED, consumer, event_id)

    def handled(self, consumer: str, event_id: str) -> bool:
        got = self.s.execute(
            select(PROCESSED.c.event_id).where(
                PROCESSED.c.consumer == consumer, PROCESSED.c.event_id == event_id
            )
        ).first()
        return got is not None

    def settings(self, code: str) -> dict[str, Any]:
        """Every setting's effective value at ``code``."""
        return settings_replica.effective(self.s, PolicyNode, code)

    def settings_rows(self, code: str) -> str | None:
        """The override rows the settings at ``code`` come from (the key of
        an :class:`~services.common.settings_replica.EffectiveCache`)."""
        return self.s.execute(
            select(settings_replica.chain(self.s, PolicyNode, code))
        ).scalar()

    def replace_settings(
        self, code: str, overrides: dict[str, str], when: datetime
    ) -> bool:
        return settings_replica.replace(self.s, PolicyNode, code, overrides, when)

    def overrides_below(self, code: str) -> dict[str, dict[str, str]]:
        """The usable overrides of every node strictly below ``code``."""
        rows = self.s.execute(
            select(PolicyNode.division_code, PolicyNode.overrides).where(
                PolicyNode.division_code.like(Scope(code).like_pattern),
                PolicyNode.division_code != code,
            )
        ).all()
        return {c: settings_replica.usable(o) for c, o in rows}

    # -- the volunteer replica and homes --------------------------------------
    def upsert_volunteers(self, volunteers: Sequence[Volunteer]) -> None:
        """Insert or update the replica rows in one statement (never
        read-then-insert: a volunteer's ``registered`` and ``verified``
        events may be handled at once)."""
        if not volunteers:
            return
        if self.postgres:
            # A home already replicated outside the scope (a home moved to
            # another subtree): the row is updated where it was, so the
            # scope must cover both homes.
            assert self.scope is not None
            scope = self.scope.code
            ids = [v.id for v in volunteers]
            homes = self.s.execute(_HOMES_OF, {"ids": ids}).scalars()
            outside = [h for h in homes if h and not h.startswith(scope)]
            if outside:
                common = os.path.commonprefix([scope, *outside])
                self.s.execute(_SET_SCOPE, {"scope": common or scope})
        self.s.execute(
            _UPSERT_VOLUNTEER,
            [
                {
                    "id": v.id, "volunteer_number": v.volunteer_number,
                    "division_code": v.division_code, "status": v.status,
                    "changed_at": v.changed_at,
                }
                for v in volunteers
            ],
        )  # fmt: skip

    def home_of(self, volunteer_id: str) -> str | None:
        """The volunteer's home division in the replica, if it is in scope."""
        return self.s.execute(
            select(Volunteer.division_code).where(
                Volunteer.id == volunteer_id, self._inside(Volunteer.division_code)
            )
        ).scalar()

    def enter_home(self, volunteer_id: str, fallback: str) -> str:
        """The volunteer's home division from the replica (a cross-tenant
        lookup), else ``fallback``; in PostgreSQL the transaction's scope
        becomes it (``commendation_home_of`` is SECURITY DEFINER)."""
        if self.postgres:
            home = self.s.execute(
                _SCOPE_TO_HOME, {"v": volunteer_id, "fallback": fallback}
            ).scalar_one()
            return str(home)
        got = self.s.execute(
            select(Volunteer.division_code).where(Volunteer.id == volunteer_id)
        ).scalar()
        return str(got) if got else fallback

    def enter_scope(self, code: str) -> None:
        """Narrow (or move) the transaction's scope to ``code``: a transfer
        deletes the volunteer's rows under the old home, then writes them
        under the new one, in one transaction."""
        self.scope = Scope(code)
        if self.postgres:
            self.s.execute(_SET_SCOPE, {"scope": code})

    def replica_row(self, volunteer_id: str) -> Volunteer | None:
        return self.s.get(Volunteer, volunteer_id)

    def service_years_of(self, volunteer_id: str) -> list[ServiceYear]:
        q = select(ServiceYear).where(ServiceYear.volunteer_id == volunteer_id)
        return list(self.s.execute(q.order_by(ServiceYear.year)).scalars())

    def delete(self, row: Any) -> None:
        self.s.delete(row)

    # -- ratings -------------------------------------------------------------
    def rating_locked_with_settings(
        self, values: dict[str, Any]
    ) -> tuple[StarRating, str | None]:
        """Insert the rating if absent, then lock it; with the override rows
        of its settings, read in the same statement. Two workers handling
        two events of one volunteer serialise here instead of colliding."""
        self.s.execute(_INSERT_RATING, values)
        rating, rows = self.s.execute(
            select(
                StarRating,
                settings_replica.chain(self.s, PolicyNode, values["division_code"]),
            )
            .where(StarRating.volunteer_id == values["volunteer_id"])
            .with_for_update(of=StarRating)
        ).one()
        return rating, rows

    def rating(self, volunteer_id: str, lock: bool = False) -> StarRating | None:
        return self.s.get(StarRating, volunteer_id, with_for_update=lock)

    def add_year_hours(
        self, volunteer_id: str, year: int, home: str, hours: Any
    ) -> None:
        """Insert-or-add in one statement; round(): SQLite adds floats, and
        the stored value was always rounded to cents."""
        self.s.execute(_ADD_YEAR_HOURS, {
            "volunteer_id": volunteer_id, "year": year, "division_code": home,
            "hours": hours,
        })  # fmt: skip

    def years_served(self, volunteer_id: str) -> list[int]:
        return list(
            self.s.execute(
                select(ServiceYear.year).where(
                    ServiceYear.volunteer_id == volunteer_id, ServiceYear.hours > 0
                )
            ).scalars()
        )

    def count_ratings(self, where: Sequence[ColumnElement[bool]]) -> int:
        q = select(func.count()).select_from(StarRating).where(*where)
        return int(self.s.execute(q).scalar_one())

    def ratings_after(
        self, where: Sequence[ColumnElement[bool]], after: str, limit: int
    ) -> list[StarRating]:
        """The next ``limit`` ratings after the volunteer ``after``, locked
        in key order."""
        return list(
            self.s.execute(
                select(StarRating)
                .where(*where, StarRating.volunteer_id > after)
                .order_by(StarRating.volunteer_id)
                .limit(limit)
                .with_for_update()
            ).scalars()
        )

    # -- star requests --------------------------------------------------------
    def pending(self, volunteer_id: str, lock: bool = True) -> StarRequest | None:
        """The volunteer's pending request, locked unless ``lock`` is False
        (a read that changes nothing)."""
        q = select(StarRequest).where(
            StarRequest.volunteer_id == volunteer_id,
            StarRequest.status == "pending",
        )
        return self.s.execute(q.with_for_update() if lock else q).scalar_one_or_none()

    def rejected_at(self, volunteer_id: str, stars: int) -> bool:
        """A reviewer refused this tier or a higher one."""
        return bool(
            self.s.execute(
                select(StarRequest.id).where(
                    StarRequest.volunteer_id == volunteer_id,
                    StarRequest.status == "rejected",
                    StarRequest.stars >= stars,
                )
            ).first()
        )

    def star_request(self, ident: str, lock: bool) -> StarRequest | None:
        q = select(StarRequest).where(
            StarRequest.id == ident, self._inside(StarRequest.division_code)
        )
        return self.s.execute(q.with_for_update() if lock else q).scalar_one_or_none()

    def approved_stars(self, volunteer_id: str) -> list[StarRequest]:
        """The volunteer's approved star requests in the scope, oldest first."""
        t = StarRequest
        q = select(t).where(
            t.volunteer_id == volunteer_id,
            t.status == "approved",
            t.decided_at.is_not(None),
            self._inside(t.division_code),
        )
        return list(self.s.execute(q.order_by(t.decided_at, t.id)).scalars())

    # -- awards imported from other platforms (revision 0005) -----------------
    def imported_awards_of(self, volunteer_id: str) -> list[ImportedAward]:
        """The volunteer's imported awards under the scope (the home at the
        import), oldest first, undated last."""
        t = ImportedAward
        q = select(t).where(
            t.volunteer_id == volunteer_id, self._inside(t.division_code)
        )
        rows = list(self.s.execute(q).scalars())
        rows.sort(key=lambda r: (r.awarded_on is None, r.awarded_on or date.min))
        return rows

    def imported_award_keys(self, ids: Sequence[str]) -> set[tuple[str, str]]:
        """(volunteer id, source key) of the volunteers' imported awards."""
        t = ImportedAward
        q = select(t.volunteer_id, t.source_key).where(t.volunteer_id.in_(ids))
        return {(v, k) for v, k in self.s.execute(q).tuples()}

    def approved_changes(self, ids: Sequence[str]) -> list[StarChange]:
        """The volunteers' approved star changes (the stars' history)."""
        t = StarChange
        q = select(t).where(t.volunteer_id.in_(ids), t.kind == "approved")
        return list(self.s.execute(q.order_by(t.id)).scalars())

    def ratings_of(self, ids: Sequence[str]) -> list[StarRating]:
        q = select(StarRating).where(StarRating.volunteer_id.in_(ids))
        return list(self.s.execute(q).scalars())

    # -- bars ----------------------------------------------------------------
    def barred_until(self, volunteer_id: str, today: date) -> date | None:
        return self.s.execute(
            select(func.max(BarEntry.ends_on)).where(
                BarEntry.volunteer_id == volunteer_id, BarEntry.ends_on >= today
            )
        ).scalar()

    # -- conduct: evaluations and complaints (from hours) ----------------------
    def conduct_blocks(self, volunteer_id: str) -> frozenset[str]:
        """What the volunteer's current poor evaluations block."""
        rows = self.s.execute(
            select(EvaluationFact.poor_blocks).where(
                EvaluationFact.volunteer_id == volunteer_id,
                EvaluationFact.poor.is_(True),
            )
        ).scalars()
        return conduct.blocks((True, blocked) for blocked in rows)

    def fact_locked(
        self, model: type[EvaluationFact] | type[ComplaintFact], values: dict[str, Any]
    ) -> tuple[Any, bool]:
        """The fact row keyed as ``values`` is, locked; inserted from
        ``values`` when absent (True then). Two events of one record or
        complaint handled at once serialise here instead of colliding."""
        table = _table(model)
        key = table.primary_key.columns.values()[0]
        new = self.s.execute(
            upsertable_insert(self.s, table)
            .values(values)
            .on_conflict_do_nothing()
            .returning(key)
        ).first()
        row = self.s.execute(
            select(model)
            .where(key == values[key.name])
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one()
        return row, new is not None

    def standing_of(self, volunteer_id: str) -> conduct.Standing:
        """The volunteer's evaluation and complaint figures."""
        scores = self.s.execute(
            select(EvaluationFact.score, EvaluationFact.poor).where(
                EvaluationFact.volunteer_id == volunteer_id
            )
        ).tuples()
        statuses = self.s.execute(
            select(ComplaintFact.status).where(
                ComplaintFact.volunteer_id == volunteer_id
            )
        ).scalars()
        return conduct.standing(scores, statuses)

    def conduct_rows(self, volunteer_id: str) -> list[Any]:
        """The volunteer's evaluation and complaint facts (a transfer
        moves them)."""
        out: list[Any] = []
        for model in (EvaluationFact, ComplaintFact):
            q = select(model).where(model.volunteer_id == volunteer_id)
            out.extend(self.s.execute(q).scalars())
        return out

    # -- rounds and nominations ------------------------------------------------
    def round(self, ident: str) -> AwardRound | None:
        return self.s.get(AwardRound, ident)

    def nomination(self, ident: str, lock: bool = False) -> Nomination:
        """A nomination in the scope (NOT_FOUND otherwise)."""
        q = select(Nomination).where(
            Nomination.id == ident, self._inside(Nomination.division_code)
        )
        n = self.s.execute(q.with_for_update() if lock else q).scalar_one_or_none()
        if n is None:
            raise NotFound.entity("nomination", "推荐", ident)
        return n

    def nomination_by_id(self, ident: str, lock: bool = False) -> Nomination | None:
        """A nomination wherever it is (row security still applies)."""
        return self.s.get(Nomination, ident, with_for_update=lock)

    def submitted(self, username: str, request_id: str) -> Nomination | None:
        return self.s.execute(
            select(Nomination).where(
                Nomination.nominated_by == username,
                Nomination.request_id == request_id,
            )
        ).scalar_one_or_none()

    def round_code_of(self, nomination_id: str) -> str | None:
        return self.s.execute(
            select(Nomination.round_division_code).where(Nomination.id == nomination_id)
        ).scalar()

    def of_round(self, round_id: str, status: str) -> list[Nomination]:
        """A round's nominations in ``status``, locked, oldest first."""
        return list(
            self.s.execute(
                select(Nomination)
                .where(Nomination.round_id == round_id, Nomination.status == status)
                .order_by(Nomination.created_at)
                .with_for_update()
            ).scalars()
        )

    def lock_quota(self, round_id: str, child_code: str) -> None:
        """Serialise the quota check of one child unit in one round: two
        reviewers passing two of its nominations up at once must not both
        take its last place (SQLite's one writer serialises already)."""
        if self.postgres:
            self.s.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                {"k": f"quota:{round_id}:{child_code}"},
            )

    def places_held(
        self, round_id: str, child_code: str, statuses: Sequence[str], but: str
    ) -> int:
        """Nominations of a child unit that reached the round's level and
        hold a place (all but ``but``)."""
        return int(
            self.s.execute(
                select(func.count()).where(
                    Nomination.round_id == round_id,
                    Nomination.child_code == child_code,
                    Nomination.at_round_level.is_(True),
                    Nomination.status.in_(statuses),
                    Nomination.id != but,
                )
            ).scalar_one()
        )

    def conflict_declared(self, nomination_id: str, subject: str) -> bool:
        return (
            self.s.execute(
                select(ReviewStep.id).where(
                    ReviewStep.nomination_id == nomination_id,
                    ReviewStep.decision == "conflict",
                    ReviewStep.reviewer_subject == subject,
                )
            ).first()
            is not None
        )

    def awards_of(self, volunteer_id: str) -> list[tuple[Nomination, AwardRound]]:
        """The volunteer's awards: nominations of them awarded in a finished
        round, with the round, newest first."""
        rows = self.s.execute(
            select(Nomination, AwardRound)
            .join(AwardRound, AwardRound.id == Nomination.round_id)
            .where(
                Nomination.nominee_volunteer_id == volunteer_id,
                Nomination.status == "awarded",
                AwardRound.status == "finalized",
            )
            .order_by(AwardRound.finalized_at.desc(), Nomination.id)
        ).tuples()
        return list(rows)

    # -- objections -------------------------------------------------------------
    def objection(self, ident: str) -> Objection:
        """An objection in the scope, locked (NOT_FOUND otherwise)."""
        o = self.s.execute(
            select(Objection)
            .where(Objection.id == ident, self._inside(Objection.division_code))
            .with_for_update()
        ).scalar_one_or_none()
        if o is None:
            raise NotFound.entity("objection", "异议", ident)
        return o

    def open_objections(self, round_id: str) -> int:
        return int(
            self.s.execute(
                select(func.count()).where(
                    Objection.round_id == round_id, Objection.status == "open"
                )
            ).scalar_one()
        )

    # -- lists -------------------------------------------------------------------
    def page(self, query: Any, order: Sequence[Any], paging: tuple[int, str]) -> Page:
        """One page of a list call behind the kernel's tokens."""
        size, offset = page_bounds(*paging)
        items, total = page_rows(self.s, query, order, size, offset)
        return Page(items, next_token(offset, size, total), total)


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


_INSERT_RATING = outbox.cached_insert(
    _table(StarRating), "volunteer_id", "volunteer_number", "division_code",
    "total_hours", "total_as_of", "stars", "eligible_stars", "continuous_years",
    "updated_at", tail="ON CONFLICT DO NOTHING",
)  # fmt: skip
_UPSERT_VOLUNTEER = outbox.cached_insert(
    _table(Volunteer),
    "id", "volunteer_number", "division_code", "status", "changed_at",
    tail="ON CONFLICT (id) DO UPDATE SET"
    " volunteer_number = excluded.volunteer_number, status = excluded.status,"
    " division_code = excluded.division_code, changed_at = excluded.changed_at"
    " WHERE volunteers.changed_at <= excluded.changed_at",
)  # fmt: skip
_HOMES_OF = text("SELECT commendation_home_of(v) FROM unnest(CAST(:ids AS text[])) v")
_SET_SCOPE = text("SELECT set_config('zhiyuan.scope', :scope, true)")
_ADD_YEAR_HOURS = outbox.cached_insert(
    _table(ServiceYear), "volunteer_id", "year", "division_code", "hours",
    tail="ON CONFLICT (volunteer_id, year) DO UPDATE"
    " SET hours = round(service_years.hours + excluded.hours, 2)",
)  # fmt: skip
# The home (an empty or missing replica row: where the service was) becomes
# the transaction's scope; commendation_home_of is SECURITY DEFINER.
_SCOPE_TO_HOME = text(
    "SELECT set_config('zhiyuan.scope',"
    " coalesce(nullif(commendation_home_of(:v), ''), :fallback), true)"
)
