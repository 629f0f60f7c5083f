"""Demo data for recycling (idempotent): the 爱为宝 programme of a province
as :mod:`recycling_facts` plans it, written through the use cases (bins and
collections in a few all-or-nothing batches), so every rollup row, status
history entry and event is what the api would have produced.

For Shaanxi (61) the rollup then reads exactly the reported figures: 1,394
collection events, 945,000 kg collected, 650 bins deployed, 128 donation
drives, 21,482 garments donated. A second run finds the first bin and
changes nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from services.common import keys
from services.common.auth import Principal
from services.common.config import Config
from services.common.db import Database
from services.common.rollup import CST
from services.common.tenancy import Scope
from services.recycling.application import RecyclingApp
from services.recycling.models import Bin
from services.seed.recycling_facts import Plan, PlannedBooking, plan

BATCH = 250  # collections per transaction


def seed(cfg: Config, province: str = "61", volunteers: int = 0) -> None:
    """Load the recycling demo of ``province`` unless it is there already
    (``volunteers`` is registration's count; recycling needs none)."""
    db = Database(cfg.service("recycling"))
    try:
        demo = plan(province)
        with db.session(Scope(province)) as s:
            first = select(Bin.id).where(
                Bin.province == province, Bin.code == demo.bins[0].code
            )
            if s.execute(first).first() is not None:
                print("recycling demo data already present / 回收演示数据已存在")
                return
        clock = Clock()
        app = RecyclingApp(db, keys.pii_cipher(cfg), clock=clock)
        Writer(app, province, clock).run(demo)
        print(
            f"recycling: {len(demo.bins)} bins, {len(demo.collections)} collections,"
            f" {len(demo.drives)} drives, {len(demo.bookings)} bookings"
            " / 回收演示数据已就绪"
        )
    finally:
        db.dispose()


class Clock:
    """The use cases' clock: now, unless a booking's story sets it back."""

    def __init__(self) -> None:
        self.at: datetime | None = None

    def __call__(self) -> datetime:
        return self.at or datetime.now(UTC)


def at(day: date, hour: float) -> datetime:
    """A China-time hour of a day, as UTC."""
    moment = datetime.combine(day, time(0), CST) + timedelta(hours=hour)
    return moment.astimezone(UTC)


def who(subject: str, scope: str, role: str) -> Principal:
    return Principal(subject, subject, scope, frozenset({role}), 0)


class Writer:
    def __init__(self, app: RecyclingApp, province: str, clock: Clock):
        """``clock`` is the one ``app`` was built with."""
        self.app, self.province, self.clock = app, province, clock
        self.admin = who("recycling-seed", province, "province_admin")

    def run(self, demo: Plan) -> None:
        ids = self._bins(demo)
        self._collections(demo)
        for b in demo.bins:
            if b.final is not None:
                status, day = b.final
                why = "箱满待清运 / full" if status == "full" else "维修 / repair"
                self.app.bins.change_bin_status(
                    self.admin, ids[b.code], status, day.isoformat(), why
                )
        self._drives(demo)
        for i, booking in enumerate(demo.bookings):
            self._booking(i, booking, demo)

    def _bins(self, demo: Plan) -> dict[str, str]:
        drafts = [
            self.app.bins.check_bin(
                self.admin, b.code, b.town, b.address, b.latitude, b.longitude,
                b.deployed_on.isoformat(),
            )
            for b in demo.bins
        ]  # fmt: skip
        ids = {
            row.code: row.id for row in self.app.bins.create_bins(self.admin, drafts)
        }
        for b in demo.bins:
            if b.retired_on is not None:
                self.app.bins.change_bin_status(
                    self.admin, ids[b.code], "retired", b.retired_on.isoformat(),
                    "设备老化撤除 / worn out",
                )  # fmt: skip
        return ids

    def _collections(self, demo: Plan) -> None:
        drafts = [
            self.app.collections.check_collection(
                self.admin, c.town, "", c.team, c.day.isoformat(), c.bin_codes,
                (c.half_kg[0] / 2, c.half_kg[1] / 2, c.half_kg[2] / 2),
            )
            for c in demo.collections
        ]  # fmt: skip
        for start in range(0, len(drafts), BATCH):
            self.app.collections.record_collections(
                self.admin, drafts[start : start + BATCH]
            )

    def _drives(self, demo: Plan) -> None:
        drafts = [
            self.app.drives.check_drive(
                self.admin, d.town, "", d.team, d.title, d.day.isoformat(), d.items,
                d.households,
            )
            for d in demo.drives
        ]  # fmt: skip
        views = self.app.drives.record_drives(self.admin, drafts)
        handouts = [
            self.app.drives.check_handout(
                self.admin, view.drive.id, day.isoformat(), homes, items,
                "消毒整理后发放 / disinfected and handed out",
            )
            for d, view in zip(demo.drives, views, strict=True)
            for day, homes, items in d.handouts
        ]  # fmt: skip
        self.app.drives.record_distributions(self.admin, handouts)

    def _booking(self, i: int, b: PlannedBooking, demo: Plan) -> None:
        """One resident's booking along its story, on a simulated clock."""
        now = datetime.now(UTC)
        if b.made_on is None:  # still open: made in the last hours
            made, window = now - timedelta(hours=2 + i), now.astimezone(CST).date()
            window += timedelta(days=1 + i % 3)
        else:
            made, window = at(b.made_on, 20), b.made_on + timedelta(days=2)
        resident = who(f"resident-{self.province}-{i}", b.town, "volunteer")
        self.clock.at = made
        row, _ = self.app.bookings.create_booking(
            resident, f"seed-{i}", b.town, b.name, b.phone, b.address,
            at(window, 9).isoformat(), at(window, 12).isoformat(), b.note,
        )  # fmt: skip
        if b.status == "cancelled":
            self.clock.at = made + timedelta(hours=1)
            self.app.bookings.cancel_booking(resident, row.id, "已自行投放至回收箱")
        elif b.status in ("assigned", "collected"):
            self.clock.at = made + timedelta(minutes=30)
            team = f"{demo.tree.names.get(b.town[:6], '')}爱为宝志愿服务队"
            self.app.bookings.assign_booking(self.admin, row.id, "", team)
        if b.status == "collected":
            self.clock.at = at(window, 18)
            kg = (b.half_kg[0] / 2, b.half_kg[1] / 2, b.half_kg[2] / 2)
            self.app.bookings.collect_booking(
                self.admin, row.id, kg, window.isoformat()
            )
        self.clock.at = None
