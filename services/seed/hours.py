"""Demo data for hours: the review of what activity's demo produced. The
records are not made here: they arrive as the activity seed's check-out and
visit events, which the hours worker turns into pending records.
:mod:`services.seed.stars` runs the workers and waits until every such event
is handled, then calls :func:`seed`, which approves about two thirds of the
pending records it finds in the province, through the same use case the api
runs, so rollups, events and time-bank deposits are real. Which records it
approves depends only on their ids: a rerun approves no others. (The
province's year of imported hours is :mod:`services.seed.province`'s.)
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from services.common.auth import Principal
from services.common.config import Config
from services.common.db import Database
from services.common.tenancy import Scope
from services.hours.application import HoursApp
from services.hours.models import HourRecord

SHARE = 3  # approve a record when its id hashes to 0 or 1 of 3


def seed(cfg: Config, province: str = "61", volunteers: int = 0) -> int:
    """Approve a share of the province's pending event records; returns how
    many were approved."""
    db = Database(cfg.service("hours"))
    admin = Principal("seed", "seed", province, frozenset({"province_admin"}), 0)
    try:
        with db.session(Scope(province)) as s:
            pending = s.execute(
                select(HourRecord.id).where(
                    HourRecord.division_code.like(Scope(province).like_pattern),
                    HourRecord.status == "pending",
                    HourRecord.source.in_(("attendance", "visit")),
                )
            ).scalars()
            chosen = [i for i in pending if _chosen(i)]
        app = HoursApp(db)
        for ident in chosen:
            app.review.approve(admin, ident)
        print(
            f"hours: {len(chosen)} pending records approved / 已审核 {len(chosen)} 条"
        )
        return len(chosen)
    finally:
        db.dispose()


def _chosen(ident: str) -> bool:
    return int(hashlib.sha256(ident.encode()).hexdigest(), 16) % SHARE != 2
