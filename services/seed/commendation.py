"""Demo data for commendation: the province's award round for this year,
open for nominations (idempotent: a round with the same title is kept).

Stars are not seeded: they follow the demo's approved hours through the
workers once `make run` starts them, and nominations need the running
services (they fetch their evidence over gRPC), so offices make them in
the demo through the gateway.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from services.commendation import domain
from services.commendation.application import CommendationApp
from services.commendation.models import AwardRound
from services.common.auth import Principal
from services.common.config import Config
from services.common.db import Database
from services.common.divisions import name_of
from services.common.tenancy import Scope


def seed(cfg: Config, province: str = "61", volunteers: int = 0) -> int:
    """Open the province's round for this year; returns 1 if it was opened."""
    db = Database(cfg.service("commendation"))
    admin = Principal("seed", "seed", province, frozenset({"province_admin"}), 0)
    today = domain.today()
    title = f"{today.year}年度{name_of(province)}志愿服务先进典型推选"
    try:
        with db.session(Scope(province)) as s:
            found = s.execute(
                select(AwardRound.id).where(
                    AwardRound.division_code == province, AwardRound.title == title
                )
            ).first()
        if found:
            print(f"commendation: round {title!r} exists / 评选活动已存在")
            return 0
        CommendationApp(db).rounds.open_round(
            admin, province, title, today.year, [], 3,
            (today + timedelta(days=60)).isoformat(), 0,
        )  # fmt: skip
        print(f"commendation: opened {title!r} / 已发起评选")
        return 1
    finally:
        db.dispose()
