"""What only the workers can make, waited for by condition, then reviewed
as offices would: the hour records activity's check-outs and visits become
(hours' worker), and the star ratings the approved hours reach
(commendation's worker).

When no worker of a needed service is alive (``make run`` seeds before it
starts them), the seed runs one of each for the duration, as child
processes stopped by their own PIDs when it is done. Then:

1. it waits until hours' worker has handled every check-out and visit event
   activity published, and approves about two thirds of the pending records
   (chosen by their ids: :mod:`services.seed.hours`);
2. it waits until commendation's ratings hold every approved hour the hours
   service holds in the province (the sums agree), then approves the star
   requests the worker opened, each by a reviewer of the division it was
   routed to, leaving one in eight pending for the review queues.

Idempotent: a second run finds the conditions met and nothing pending that
it would approve.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from services.activity.models import OUTBOX
from services.commendation.application import CommendationApp
from services.commendation.models import StarRating, StarRequest
from services.common.auth import Principal
from services.common.config import Config
from services.common.db import Database
from services.common.tenancy import Scope
from services.hours.models import PROCESSED, HourRecord
from services.seed import hours as hours_seed

WORKERS = ("registration", "activity", "hours", "commendation")
WAIT = 900.0  # seconds: a generous ceiling for two shared cores
ACTIVITY_EVENTS = ("activity.attendance.checked_out", "activity.visit.logged")


def seed(cfg: Config, province: str = "61") -> int:
    """Approve the demo's pending records and star requests once the
    workers have made them; returns how many star requests were approved."""
    dbs = {n: Database(cfg.service(n)) for n in ("activity", "hours", "commendation")}
    try:
        with workers(cfg):
            until(lambda: attendance_handled(dbs), "hours' worker: check-outs")
            hours_seed.seed(cfg, province)
            until(lambda: stars_follow_hours(dbs, province), "commendation's ratings")
        return approve_stars(dbs["commendation"], province)
    finally:
        for db in dbs.values():
            db.dispose()


@contextmanager
def workers(cfg: Config) -> Iterator[list[int]]:
    """The needed workers that are not alive, started for the duration."""
    started: list[subprocess.Popen[bytes]] = []
    log = open(cfg.data_dir / "seed-workers.log", "ab")  # noqa: SIM115
    try:
        for name in WORKERS:
            if not alive(cfg, name):
                started.append(
                    subprocess.Popen(  # noqa: S603 - our interpreter and module
                        [sys.executable, "-m", "services.cli.worker", name],
                        env=dict(os.environ),
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        if started:
            print(
                f"seed: {len(started)} workers started for the seed "
                f"(log {cfg.data_dir / 'seed-workers.log'}) / 已临时启动处理进程"
            )
        yield [p.pid for p in started]
    finally:
        for proc in started:
            proc.terminate()
        for proc in started:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def alive(cfg: Config, name: str, max_age: float = 30.0) -> bool:
    path = Path(cfg.service(name).heartbeat_file)
    return path.exists() and time.time() - path.stat().st_mtime < max_age


def until(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    """Poll ``condition`` (a cheap query) until it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"seed: waited {timeout:.0f} s for {what}")
        time.sleep(0.5)


def attendance_handled(dbs: dict[str, Database]) -> bool:
    """Every check-out and visit event activity wrote has been handled by
    hours' worker (its processed event ids hold them all)."""
    activity, hours = dbs["activity"], dbs["hours"]
    with activity.engine.connect() as conn:
        wanted = set(
            conn.execute(
                select(OUTBOX.c.id).where(OUTBOX.c.event_type.in_(ACTIVITY_EVENTS))
            ).scalars()
        )
    if not wanted:
        return True
    with hours.engine.connect() as conn:
        seen = set(
            conn.execute(
                select(PROCESSED.c.event_id).where(PROCESSED.c.event_id.in_(wanted))
            ).scalars()
        )
    return seen == wanted


def stars_follow_hours(dbs: dict[str, Database], province: str) -> bool:
    """Commendation's ratings hold every approved hour of the province."""
    with dbs["hours"].session(Scope(province)) as s:
        approved = s.execute(
            select(func.coalesce(func.sum(HourRecord.hours), 0)).where(
                HourRecord.status == "approved",
                HourRecord.division_code.like(Scope(province).like_pattern),
            )
        ).scalar_one()
    with dbs["commendation"].session(Scope(province)) as s:
        rated = s.execute(
            select(func.coalesce(func.sum(StarRating.total_hours), 0)).where(
                StarRating.division_code.like(Scope(province).like_pattern)
            )
        ).scalar_one()
    return Decimal(approved) == Decimal(rated)


def approve_stars(db: Database, province: str) -> int:
    """Approve the pending star requests chosen by their ids, each by a
    reviewer of the division it waits at; returns how many."""
    app = CommendationApp(db)
    approved = 0
    while True:  # an approval may open the next tier's request at once
        with db.session(Scope(province)) as s:
            pending = s.execute(
                select(StarRequest.id, StarRequest.approving_code)
                .where(
                    StarRequest.status == "pending",
                    StarRequest.approving_code.like(Scope(province).like_pattern),
                )
                .order_by(StarRequest.created_at, StarRequest.id)
            ).tuples()
            chosen = [(i, code) for i, code in pending if _chosen(i)]
        if not chosen:
            break
        for ident, code in chosen:
            reviewer = Principal(
                f"seed-reviewer-{code}", f"reviewer-{code}", code,
                frozenset({"reviewer"}), 0,
            )  # fmt: skip
            app.star_review.approve_star(reviewer, ident)
            approved += 1
    print(f"stars: {approved} star ratings approved / 已审核星级 {approved} 条")
    return approved


def _chosen(ident: str) -> bool:
    """One request in eight stays pending for the queues."""
    return int(hashlib.sha256(ident.encode()).hexdigest(), 16) % 8 != 7
