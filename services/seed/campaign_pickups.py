"""The recycling side of the province's 寒冬送温暖 campaign (idempotent): a
winter-clothes drive and a few residents' pickups in Xi'an, tagged to the
campaign the activity seed published. A step of its own (after recycling's
demo) so recycling's demo keeps its reported figures exactly.

Recycling checks a tag with activity over gRPC as the caller; a seed runs
before any api, so :class:`SeedCampaigns` answers the same question from
activity's database (the rule itself is activity's :func:`check_tag`). The
tagged facts reach activity's campaign figures through recycling's events,
once the workers run.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from services.activity.campaigns import check_tag
from services.activity.models import Campaign
from services.common import keys
from services.common.config import Config
from services.common.db import Database
from services.common.rollup import CST
from services.common.tenancy import Scope
from services.recycling.activity_client import Activity
from services.recycling.application import RecyclingApp
from services.recycling.models import Booking, Drive
from services.seed.activity_demo import CAMPAIGN
from services.seed.recycling import Clock, at, who

# (town, resident's name, kg of textiles, books, other), collected days ago
PICKUPS = [
    ("610113002", "刘淑芬", (12.5, 3.0, 0.5), 6),
    ("610113001", "陈玉兰", (8.0, 0.0, 1.0), 4),
    ("610116001", "赵德明", (15.0, 5.5, 0.0), 2),
]
# What the tagged pickups add to the province's reported 945 t (the dashboard
# shows both).
PICKUPS_KG = sum(sum(kg) for _, _, kg, _ in PICKUPS)


class SeedCampaigns(Activity):
    """Activity's campaign check, read from activity's database (seed only)."""

    def __init__(self, db: Database, province: str):
        super().__init__("seed", 1.0)
        self.db, self.province = db, province

    def check_campaign(self, campaign_id: str, code: str, day: date) -> None:
        with self.db.session(Scope(self.province)) as s:
            row = s.get(Campaign, campaign_id)
            assert row is not None, "the activity seed publishes the campaign"
            check_tag(row.division_code, (row.starts_on, row.ends_on), code, [day])


def seed(cfg: Config, province: str = "61") -> None:
    activity = Database(cfg.service("activity"))
    db = Database(cfg.service("recycling"))
    try:
        with activity.session(Scope(province)) as s:
            q = select(Campaign).where(
                Campaign.division_code == province, Campaign.title == CAMPAIGN
            )
            campaign = s.execute(q).scalars().first()
        if campaign is None:
            print(f"campaign pickups: no {CAMPAIGN} campaign in {province}: skipped")
            return
        with db.session(Scope(province)) as s:
            tagged = select(Booking.id).where(Booking.campaign_id == campaign.id)
            drive = select(Drive.id).where(Drive.campaign_id == campaign.id)
            if s.execute(tagged.union(drive).limit(1)).first() is not None:
                print("campaign pickups already present / 专项行动回收数据已存在")
                return
        clock = Clock()
        app = RecyclingApp(
            db, keys.pii_cipher(cfg), SeedCampaigns(activity, province), clock=clock
        )
        _write(app, clock, province, campaign)
        print(f"campaign pickups: 1 drive and {len(PICKUPS)} pickups tagged {CAMPAIGN}")
    finally:
        db.dispose()
        activity.dispose()


def _write(app: RecyclingApp, clock: Clock, province: str, campaign: Campaign) -> None:
    admin = who("recycling-seed", province, "province_admin")
    today = datetime.now(CST).date()
    first = max(campaign.starts_on, today - timedelta(days=8))
    draft = app.drives.check_drive(
        admin, "610113002", "", "雁塔区慈善协会", "寒冬送温暖冬衣捐赠",
        first.isoformat(), (120, 30, 10), 25, campaign.id,
    )  # fmt: skip
    app.drives.record_drives(admin, [draft])
    for i, (town, name, kg, ago) in enumerate(PICKUPS):
        day = max(campaign.starts_on, today - timedelta(days=ago))
        clock.at = at(day, 8) - timedelta(days=1)
        resident = who(f"resident-{province}-winter-{i}", town, "volunteer")
        row, _ = app.bookings.create_booking(
            resident, f"seed-winter-{i}", town, name, f"1389123{i:04d}",
            f"陕西省西安市{town}社区{i + 1}号楼", at(day, 9).isoformat(),
            at(day, 12).isoformat(), "冬衣棉被，送给低保户",
        )  # fmt: skip
        clock.at += timedelta(minutes=30)
        app.bookings.assign_booking(admin, row.id, "", "爱为宝志愿服务队")
        clock.at = at(day, 14)
        app.bookings.collect_booking(admin, row.id, kg, day.isoformat(), campaign.id)
    clock.at = None
