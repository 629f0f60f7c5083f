"""Star ratings (星级评定) from the hours events.

The worker follows each volunteer's approved hours (hours announces the
platform total after every approval and correction) and keeps the tier they
reach. A tier above the approved stars opens one approval request at the
tier's level (default: 1-2 stars the county, 3-4 the city, 5 the province,
each tenant may change both thresholds and levels); a higher tier
supersedes it, a correction below it withdraws it, and a correction below
approved stars lowers them, on the record.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from services.commendation import domain
from services.commendation.base import UseCases
from services.commendation.models import (
    PROCESSED,
    ServiceYear,
    StarChange,
    StarRating,
    StarRequest,
    Volunteer,
)
from services.common import outbox
from services.common.db import is_postgres
from services.common.tenancy import Scope

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class HoursNews:
    """What an hours event says about a volunteer."""

    volunteer_id: str
    volunteer_number: str
    division_code: str  # where the service was
    year: int
    delta_hours: Decimal
    total_hours: Decimal
    occurred_at: datetime


class StarCases(UseCases):
    # -- replicas ------------------------------------------------------------
    def replicate_volunteer(self, consumer: str, event_id: str, v: Volunteer) -> bool:
        """Keep the volunteer's number, home division and status."""
        with self.db.session(Scope(v.division_code)) as s:
            if not outbox.claim(s, PROCESSED, consumer, event_id):
                return False
            row = s.get(Volunteer, v.id)
            if row is None:
                s.add(v)
            elif _aware(row.changed_at) <= v.changed_at:
                row.volunteer_number, row.status = v.volunteer_number, v.status
                row.division_code, row.changed_at = v.division_code, v.changed_at
            return True

    # -- hours ---------------------------------------------------------------
    def follow_hours(self, consumer: str, event_id: str, news: HoursNews) -> bool:
        """Apply one hours event: totals, the year's hours, then the tier."""
        home = self._home(news.volunteer_id) or news.division_code
        with self.db.session(Scope(home)) as s:
            if not outbox.claim(s, PROCESSED, consumer, event_id):
                return False
            rating = self._rating(s, news, home)
            s.execute(
                outbox.upsertable_insert(s, ServiceYear)
                .values(
                    volunteer_id=news.volunteer_id, year=news.year,
                    division_code=home, hours=Decimal(0),
                )
                .on_conflict_do_nothing()
            )  # fmt: skip
            year = s.get(ServiceYear, (news.volunteer_id, news.year))
            assert year is not None
            year.hours += news.delta_hours
            s.flush()
            rating.continuous_years = domain.continuous_years(
                s.execute(
                    select(ServiceYear.year).where(
                        ServiceYear.volunteer_id == news.volunteer_id,
                        ServiceYear.hours > 0,
                    )
                ).scalars()
            )
            if _aware(rating.total_as_of) <= news.occurred_at:
                rating.total_hours = news.total_hours
                rating.total_as_of = news.occurred_at
            self.reconcile(s, rating, actor="system")
            return True

    def _home(self, volunteer_id: str) -> str | None:
        """The volunteer's home division from the replica (a cross-tenant
        lookup: the event says where the service was, not where they live)."""
        with self.db.session(None) as s:
            if is_postgres(self.db.engine):
                got = s.execute(
                    text("SELECT commendation_home_of(:v)"), {"v": volunteer_id}
                ).scalar()
            else:
                got = s.execute(
                    select(Volunteer.division_code).where(Volunteer.id == volunteer_id)
                ).scalar()
        return str(got) if got else None

    def _rating(self, s: Session, news: HoursNews, home: str) -> StarRating:
        # Insert-if-absent, then lock: two workers handling two events of
        # the same volunteer serialise here instead of colliding.
        s.execute(
            outbox.upsertable_insert(s, StarRating)
            .values(
                volunteer_id=news.volunteer_id,
                volunteer_number=news.volunteer_number, division_code=home,
                total_hours=Decimal(0), total_as_of=EPOCH, stars=0,
                eligible_stars=0, continuous_years=0, updated_at=self.clock(),
            )
            .on_conflict_do_nothing()
        )  # fmt: skip
        return s.execute(
            select(StarRating)
            .where(StarRating.volunteer_id == news.volunteer_id)
            .with_for_update()
        ).scalar_one()

    def reconcile(self, s: Session, rating: StarRating, actor: str) -> None:
        """Bring the pending request and the stars in line with the hours."""
        settings = self._settings(s, rating.division_code)
        eligible = domain.tier(rating.total_hours, settings["stars.thresholds_hours"])
        rating.eligible_stars, rating.updated_at = eligible, self.clock()
        pending = self.pending(s, rating.volunteer_id)
        if pending is not None and pending.stars != eligible:
            if eligible > rating.stars:
                self._close(pending, "superseded", f"the hours now reach {eligible}")
            else:
                self._close(pending, "withdrawn", "a correction lowered the hours")
            pending = None
        if eligible < rating.stars:
            self._change(s, rating, eligible, "lowered_by_correction", actor,
                         "hours corrected below the threshold")  # fmt: skip
        if (
            eligible > rating.stars
            and pending is None
            and not self._rejected_at(s, rating.volunteer_id, eligible)
        ):
            self._open(s, rating, eligible, settings["stars.approval_level"])

    @staticmethod
    def _rejected_at(s: Session, volunteer_id: str, stars: int) -> bool:
        """A reviewer refused this tier (or a higher one): more hours within
        the same tier do not ask again; reaching the next tier does."""
        return bool(
            s.execute(
                select(StarRequest.id).where(
                    StarRequest.volunteer_id == volunteer_id,
                    StarRequest.status == "rejected",
                    StarRequest.stars >= stars,
                )
            ).first()
        )

    def pending(self, s: Session, volunteer_id: str) -> StarRequest | None:
        return s.execute(
            select(StarRequest)
            .where(
                StarRequest.volunteer_id == volunteer_id,
                StarRequest.status == "pending",
            )
            .with_for_update()
        ).scalar_one_or_none()

    def _close(self, request: StarRequest, status: str, reason: str) -> None:
        request.status, request.reason = status, reason
        request.decided_by, request.decided_at = "system", self.clock()

    def _open(
        self, s: Session, rating: StarRating, stars: int, levels: dict[str, str]
    ) -> StarRequest:
        level = levels[str(stars)]
        request = StarRequest(
            id=str(uuid.uuid4()), volunteer_id=rating.volunteer_id,
            volunteer_number=rating.volunteer_number,
            division_code=rating.division_code, stars=stars,
            approval_level=level,
            approving_code=domain.approving_code(rating.division_code, level),
            hours_at_request=rating.total_hours, status="pending", reason="",
            created_at=self.clock(), decided_by="", decided_at=None,
        )  # fmt: skip
        s.add(request)
        self._event(s, "commendation.star_request.opened", rating.division_code, {
            "request_id": request.id, "volunteer_id": rating.volunteer_id,
            "volunteer_number": rating.volunteer_number, "stars": stars,
            "approval_level": level, "approving_division_code": request.approving_code,
        })  # fmt: skip
        return request

    def _change(
        self, s: Session, rating: StarRating, to: int, kind: str, actor: str,
        reason: str,
    ) -> None:  # fmt: skip
        old = rating.stars
        s.add(StarChange(
            volunteer_id=rating.volunteer_id, division_code=rating.division_code,
            from_stars=old, to_stars=to, kind=kind, reason=reason, actor=actor,
            changed_at=self.clock(),
        ))  # fmt: skip
        deltas: dict[str, float] = {}
        if old:
            deltas[f"stars_{old}"] = -1.0
        if to:
            deltas[f"stars_{to}"] = 1.0
        if kind == "approved":
            deltas["star_approvals"] = 1.0
        self._bump(s, rating.division_code, **deltas)
        rating.stars = to
        self._event(s, f"commendation.stars.{kind}", rating.division_code, {
            "volunteer_id": rating.volunteer_id,
            "volunteer_number": rating.volunteer_number,
            "from_stars": old, "to_stars": to,
        })  # fmt: skip


def _aware(moment: datetime) -> datetime:
    # SQLite (embedded mode) hands back naive datetimes, stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
