"""``zhiyuan seed``: every step of the demo in order, each idempotent, so a
second run adds nothing.

Registration first (the others build on its divisions, accounts and
volunteers); the province's bulk volunteers and hours next, so activity's
demo finds them; the star ratings last, once the workers have rated the
hours (:mod:`services.seed.stars`).

Example::

    seed(load(), "61", volunteers=3000)
"""

from __future__ import annotations

import time

from services.common.config import Config
from services.common.db import Database, is_postgres
from services.seed import (
    activity,
    campaign_pickups,
    commendation,
    hours,
    province,
    recycling,
    registration,
    stars,
)

HANDMADE = 200  # volunteers registered one by one, for activity's stories


def seed(
    cfg: Config,
    province_code: str = "61",
    volunteers: int = 3000,
    wait: bool = True,
    handmade: int = HANDMADE,
) -> None:
    """Load the demo of ``province_code`` with ``volunteers`` volunteers: up
    to ``handmade`` registered one by one, the rest imported in bulk (with
    twenty hour records each, on average). ``wait=False`` leaves the hour
    and star reviews to a later run."""
    started = time.perf_counter()
    handmade = min(handmade, volunteers)
    registration.seed(cfg, province=province_code, volunteers=handmade)
    if volunteers <= handmade:
        print("province: no bulk volunteers asked for / 未要求批量导入")
    elif _bulk_capable(cfg):
        province.seed(cfg, province_code, volunteers=volunteers - handmade)
    else:
        print(
            "province: the bulk imports need PostgreSQL (set *_DATABASE_URL); "
            "embedded mode seeds the hand-made demo only / 批量导入需要 PostgreSQL"
        )
    activity.seed(cfg, province=province_code)
    recycling.seed(cfg, province=province_code)
    campaign_pickups.seed(cfg, province=province_code)
    commendation.seed(cfg, province=province_code)
    if wait:
        stars.seed(cfg, province_code)
    else:
        hours.seed(cfg, province=province_code)
    print(f"seed: done in {time.perf_counter() - started:.0f} s / 演示数据已就绪")


def _bulk_capable(cfg: Config) -> bool:
    db = Database(cfg.service("hours"))
    try:
        return is_postgres(db.engine)
    finally:
        db.dispose()
