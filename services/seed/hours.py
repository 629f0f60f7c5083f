"""Demo data for hours: the review of what activity's demo produced. The
records are not made here: they arrive as the activity seed's check-out and
visit events, which the hours worker turns into pending records.
:mod:`services.seed.stars` runs the workers and waits until every such event
is handled, then calls :func:`seed`, which approves about two thirds of the
pending records it finds in the province, through the same use case the api
runs, so rollups, events and time-bank deposits are real. Which records it
approves depends only on their ids: a rerun approves no others. (The
province's year of imported hours is :mod:`services.seed.province`'s.)

It then evaluates about a quarter of the records it approved (评价, scores
3 to 5 and now and then a 2, with a comment) and records a complaint (投诉)
about the volunteer of about one in twenty-five, at the record's county,
deciding every other one: chosen by id too, and skipped where a rerun
finds the evaluation or the complaint made already.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from services.common.auth import Principal
from services.common.config import Config
from services.common.db import Database
from services.common.tenancy import Scope
from services.hours.application import HoursApp
from services.hours.models import Complaint, Evaluation, HourRecord

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
        rated, filed = _evaluate_and_complain(db, app, admin, province)
        print(
            f"hours: {rated} records evaluated, {filed} complaints recorded"
            f" / 评价 {rated} 条，投诉 {filed} 条"
        )
        return len(chosen)
    finally:
        db.dispose()


COMMENTS = {
    5: "服务热情周到，主动承担额外任务",
    4: "按时到岗，认真完成服务",
    3: "完成了基本服务内容",
    2: "迟到较多，需加强守时",
}
COMPLAINT = "服务对象反映志愿者中途离开，未完成约定的陪伴时长"


def _evaluate_and_complain(
    db: Database, app: HoursApp, admin: Principal, province: str
) -> tuple[int, int]:
    """Evaluate and complain about a share of the province's approved
    event records (by their ids), once each."""
    scope = Scope(province)
    with db.session(scope) as s:
        approved = s.execute(
            select(HourRecord).where(
                HourRecord.division_code.like(scope.like_pattern),
                HourRecord.status == "approved",
                HourRecord.source.in_(("attendance", "visit")),
            )
        ).scalars()
        todo = [(r.id, r.volunteer_id, r.division_code) for r in approved]
        done = set(
            s.execute(
                select(Evaluation.record_id).where(Evaluation.superseded_at.is_(None))
            ).scalars()
        )
        complained = set(s.execute(select(Complaint.record_id)).scalars())
    rated = filed = 0
    for ident, volunteer_id, code in todo:
        h = _hash(ident)
        if h % 4 == 0 and ident not in done:
            score = (5, 4, 4, 3, 5, 4, 3, 2)[h // 4 % 8]
            app.evaluations.evaluate(admin, ident, str(score), COMMENTS[score])
            rated += 1
        if h % 25 == 1 and ident not in complained:
            got = app.complaints.file(admin, code[:6], volunteer_id, ident, COMPLAINT)
            if h // 25 % 2:
                app.complaints.decide(admin, got.id, "dismissed", "经核实已提前请假")
            filed += 1
    return rated, filed


def _hash(ident: str) -> int:
    return int(hashlib.sha256(ident.encode()).hexdigest(), 16)


def _chosen(ident: str) -> bool:
    return int(hashlib.sha256(ident.encode()).hexdigest(), 16) % SHARE != 2
