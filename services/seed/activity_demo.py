"""The activity demo itself: a simulated clock walks each project through its
life (publish, sign up, check in and out with the rotating code, complete),
so every row, rollup and event is what the api would have produced.

Xi'an's city-level federation runs an emergency campaign now (flood
watch): its session started an hour ago, a few volunteers are checked in,
and its leader can show the rotating check-in code (the seed prints one).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.activity.application import ActivityApp
from services.common.auth import Principal
from services.common.db import Database
from services.common.pii import PiiCipher
from services.common.rollup import CST
from services.common.times import utc

MARKER = "秦岭北麓生态保护清洁行动"
CAMPAIGN = "寒冬送温暖"
CHANGAN, YANTA = "610116", "610113"
HOUSEHOLDS = [  # name, phone, address, needs; one-to-one first, then many-to-one
    (
        "王秀兰",
        "13891230001",
        "陕西省西安市长安区韦曲街道南街社区3号楼2单元",
        "独居老人，需每周探访、代购生活用品",
    ),
    ("李建国", "13891230002", "陕西省西安市长安区郭杜街道周家庄村5组18号", "因病致困"),
    ("张桂英", "", "陕西省西安市长安区滦镇街道抱龙峪村2组7号", "留守老人，需助洁助餐"),
]


def day(days_from_today: int, hour: float) -> datetime:
    """A moment on a day relative to today, at a China-time hour, as UTC."""
    today = datetime.now(CST).replace(hour=0, minute=0, second=0, microsecond=0)
    return (today + timedelta(days=days_from_today, hours=hour)).astimezone(UTC)


def winter_window(today: date) -> tuple[date, date]:
    """寒冬送温暖 runs from 15 November to 25 March; out of season (a demo
    seeded in summer) a window around today instead, so the tags hold."""
    season = today.year if today.month >= 7 else today.year - 1
    start, end = date(season, 11, 15), date(season + 1, 3, 25)
    if start <= today <= end:
        return start, end
    return today - timedelta(days=30), today + timedelta(days=110)


class Clock:
    """The use cases' clock, moved by the demo along its timeline."""

    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.at


class Demo:
    def __init__(
        self,
        db: Database,
        cipher: PiiCipher,
        province: str,
        orgs: list[Any],
        vols: list[Any],
    ):
        self.clock = Clock()
        self.app = ActivityApp(db, cipher, clock=self.clock)
        self.orgs = orgs
        verified = [v for v in vols if v.status == 2]  # VOLUNTEER_STATUS_VERIFIED
        self.vols = sorted(verified, key=lambda v: v.volunteer_number)
        self.admin = _who(
            "activity-seed-admin", "sx-activity-admin", province, "province_admin"
        )
        self.kiosk = _who("activity-seed-kiosk", "station-kiosk", province, "volunteer")

    def run(self) -> None:
        changan = self._org(CHANGAN, "生态环保") or self._org(CHANGAN, "")
        yanta = self._org(YANTA, "")
        if changan is None or yanta is None or not self.vols:
            print(
                "  registration's demo organisations or volunteers are missing: skipped"
            )
            return
        self.campaign = self._campaign()
        self._past(
            changan, MARKER, "environment", "秦岭北麓环山路沿线", [-21, -14], 8, 6
        )
        civilised = self._past(
            yanta,
            "大雁塔北广场文明旅游引导",
            "civilisation",
            "大雁塔北广场",
            [-7],
            5,
            4,
            approval=True,
        )
        donated = self._past(
            yanta,
            "爱为宝旧衣物捐赠日",
            "recycling",
            "小寨街道社区广场",
            [-3],
            10,
            3,
            kind="donation",
        )
        self._tag(civilised, -7)
        self._tag(donated, -3)
        self._recruiting(self._org(CHANGAN, "养老") or changan)
        self._awaiting_review(yanta)
        self._pairing(self._org(CHANGAN, "总队") or changan)
        city = self._org(CHANGAN[:4], "")
        if city is not None:
            self._emergency(city)
        self._training(YANTA)
        print(
            "  6 projects, sign-ups and attendances, 3 households paired,"
            f" the province's campaign {CAMPAIGN} with its tagged projects and visits"
        )

    def _org(self, county: str, hint: str) -> Any:
        found = [o for o in self.orgs if o.division_code == county and hint in o.name]
        return found[0] if found else None

    def _raw(
        self,
        title: str,
        field: str,
        place: str,
        sessions: list[tuple[datetime, datetime, int]],
        **over: Any,
    ) -> dict[str, Any]:
        raw = {
            "title": title,
            "description": f"{title}：{place}",
            "place": place,
            "service_field": field,
            "kind": "service",
            "sessions": [(a.isoformat(), b.isoformat(), n) for a, b, n in sessions],
            "recruit_starts_at": (sessions[0][0] - timedelta(days=10)).isoformat(),
            "recruit_ends_at": sessions[-1][1].isoformat(),
            "min_age": 16,
            "required_skills": [],
            "leader_approval": False,
            "emergency": False,
        }
        raw.update(over)
        return raw

    def _published(self, org: Any, raw: dict[str, Any]) -> tuple[Principal, Any]:
        leader = self._leader(org)
        view = self.app.projects.create_project(leader, org.id, raw)
        self.app.projects.submit_project(leader, view.project.id)
        self.app.projects.approve_project(self.admin, view.project.id)
        if self.app.insurance.get_cover(leader, view.project.id).required:
            self._insure(leader, view)
        return leader, self.app.projects.publish_project(leader, view.project.id)

    def _insure(self, leader: Principal, view: Any) -> None:
        """A group accident policy over the sessions, as the tenant's policy
        asks of emergency and large-event projects before recruiting."""
        first = utc(view.sessions[0].starts_at).astimezone(CST).date()
        last = utc(view.sessions[-1].ends_at).astimezone(CST).date()
        self.app.insurance.set_cover(
            leader,
            view.project.id,
            "中国人民财产保险股份有限公司西安市分公司",
            f"PEAC{first:%Y%m%d}610100",
            first.isoformat(),
            (last + timedelta(days=1)).isoformat(),
        )

    def _past(
        self,
        org: Any,
        title: str,
        field: str,
        place: str,
        days: list[int],
        capacity: int,
        people: int,
        approval: bool = False,
        kind: str = "service",
    ) -> str:
        """A completed project; its id."""
        sessions = [(day(d, 9), day(d, 12), capacity) for d in days]
        raw = self._raw(
            title, field, place, sessions, leader_approval=approval, kind=kind
        )
        self.clock.at = sessions[0][0] - timedelta(days=10)
        leader, view = self._published(org, raw)
        self.clock.at += timedelta(days=1)
        team = [v.id for v in self.vols[:people]]
        for s in view.sessions:
            for vid in team:
                row = self.app.signups.sign_up(self.admin, s.id, vid)
                if approval:
                    self.app.signups.decide(leader, row.id, True, "")
        self.clock.at = sessions[0][0] - timedelta(minutes=30)
        self.app.projects.start_project(leader, view.project.id)
        for s in view.sessions:
            self._attend(leader, s, team)
        self.clock.at = utc(view.sessions[-1].ends_at) + timedelta(hours=4)
        self.app.projects.complete_project(leader, view.project.id)
        return str(view.project.id)

    def _campaign(self) -> Any:
        """The province's winter campaign (寒冬送温暖), published a month ago."""
        self.clock.at = datetime.now(UTC) - timedelta(days=30)
        start, end = winter_window(datetime.now(CST).date())
        return self.app.campaigns.create(
            self.admin, CAMPAIGN, "为低保户、独居老人和留守儿童送去冬衣、棉被和关怀",
            start.isoformat(), end.isoformat(),
            ["dibao", "elderly_alone", "left_behind_children", "sick_disabled"],
        )  # fmt: skip

    def _in_window(self, days_from_today: int) -> bool:
        on = datetime.now(CST).date() + timedelta(days=days_from_today)
        return bool(self.campaign.starts_on <= on <= self.campaign.ends_on)

    def _tag(self, project_id: str, days_from_today: int) -> None:
        if self._in_window(days_from_today):
            self.app.campaigns.tag_project(self.admin, project_id, self.campaign.id)

    def _attend(self, leader: Principal, session: Any, vids: list[str]) -> None:
        start, end = utc(session.starts_at), utc(session.ends_at)
        self.clock.at = start - timedelta(minutes=10)
        for vid in vids:
            code, _, _ = self.app.attendance.checkin_code(leader, session.id)
            self.app.attendance.check_in(self.kiosk, session.id, vid, code)
        self.clock.at = end + timedelta(minutes=5)
        for vid in vids[:-1]:
            code, _, _ = self.app.attendance.checkin_code(leader, session.id)
            self.app.attendance.check_out(self.kiosk, session.id, vid, code)
        # The last one forgot: the leader closes it at the real end.
        self.clock.at = end + timedelta(hours=3)
        real_end = end - timedelta(minutes=20)
        self.app.attendance.close_attendance(
            leader, session.id, vids[-1], real_end.isoformat()
        )

    def _recruiting(self, org: Any) -> None:
        self.clock.at = datetime.now(UTC) - timedelta(days=2)
        start = day(10, 9)
        raw = self._raw(
            "重阳节敬老院探访",
            "elderly_care",
            "长安区社会福利院",
            [(start, start + timedelta(hours=2.5), 2)],
        )
        raw["recruit_starts_at"] = self.clock.at.isoformat()
        _, view = self._published(org, raw)
        self.clock.at += timedelta(hours=1)
        for vol in self.vols[:4]:
            self.app.signups.sign_up(self.admin, view.sessions[0].id, vol.id)

    def _emergency(self, org: Any) -> None:
        """A city's flood watch, running now, with volunteers checked in."""
        now = datetime.now(UTC)
        self.clock.at = now - timedelta(hours=3)
        start = now - timedelta(hours=1)
        raw = self._raw(
            "汛期防汛应急值守行动",
            "emergency",
            "西安市灞河、浐河沿岸重点堤段",
            [(start, start + timedelta(hours=8), 40)],
            emergency=True,
        )
        raw["recruit_starts_at"] = self.clock.at.isoformat()
        leader, view = self._published(org, raw)
        session = view.sessions[0]
        team = [v.id for v in self.vols[5:17]]
        for vid in team:
            self.app.signups.sign_up(self.admin, session.id, vid)
        self.clock.at = start - timedelta(minutes=15)
        self.app.projects.start_project(leader, view.project.id)
        self.clock.at = start + timedelta(minutes=5)
        for vid in team[:8]:
            code, _, _ = self.app.attendance.checkin_code(leader, session.id)
            self.app.attendance.check_in(self.kiosk, session.id, vid, code)
        self.clock.at = datetime.now(UTC)
        code, _, _ = self.app.attendance.checkin_code(leader, session.id)
        print(
            f"  emergency campaign running: check-in code {code} (rotates; "
            f"the console shows the current one) / 应急行动进行中，签到码 {code}"
        )

    def _training(self, county: str) -> None:
        """The county's course menu: a first-aid course its streets use, one
        session held, with attendance (training hours, not service hours)."""
        self.clock.at = datetime.now(UTC) - timedelta(days=10)
        course = self.app.training.create_course(
            self.admin,
            county,
            "应急救护培训（初级）",
            "心肺复苏与止血包扎，区红十字会授课",
        )
        start = day(-6, 14)
        view = self.app.training.create_session(
            self.admin,
            course.id,
            county,
            "雁塔区红十字会培训室",
            start.isoformat(),
            (start + timedelta(hours=3)).isoformat(),
        )
        for vol in self.vols[:6]:
            self.app.training.record(self.admin, view.session.id, vol.id, 0)

    def _awaiting_review(self, org: Any) -> None:
        self.clock.at = datetime.now(UTC) - timedelta(hours=5)
        start = day(20, 14)
        raw = self._raw(
            "社区应急救护知识培训",
            "emergency",
            "雁塔区小寨东路社区中心",
            [(start, start + timedelta(hours=2), 30)],
        )
        leader = self._leader(org)
        view = self.app.projects.create_project(leader, org.id, raw)
        self.app.projects.submit_project(leader, view.project.id)

    def _pairing(self, org: Any) -> None:
        leader = self._leader(org)
        streets = sorted(
            {o.division_code for o in self.orgs if o.division_code[:6] == CHANGAN}
            - {CHANGAN}
        )
        # One volunteer for the one-to-one household, two for each other one.
        teams = [self.vols[:1], self.vols[1:3] or self.vols[:1], self.vols[3:5]]
        for i, (name, phone, address, needs) in enumerate(HOUSEHOLDS):
            self.clock.at = day(-40, 10)  # consent and pairing, then the visits
            code = streets[i % len(streets)] if streets else org.division_code
            mode = "one_to_one" if i == 0 else "many_to_one"
            rec = self.app.pairing.create_recipient(
                leader, code, name, phone, address, mode, needs, True
            )
            for vol in teams[i] or self.vols[-1:]:
                self.clock.at = day(-40, 10)
                pair = self.app.pairing.create_pair(self.admin, rec.id, vol.id, org.id)
                for d in (-30, -9):
                    self.clock.at = day(d, 12)
                    note = f"入户探访{name[0]}家，了解近况，协助打扫卫生"
                    tag = self.campaign.id if self._in_window(d) else ""
                    self.app.pairing.log_visit(
                        leader,
                        pair.id,
                        day(d, 10).isoformat(),
                        day(d, 11.5).isoformat(),
                        note,
                        tag,
                    )

    def _leader(self, org: Any) -> Principal:
        """The leader of ``org``: org_leader tokens name their organisation."""
        code = org.division_code
        who = _who(f"activity-seed-{code}", f"leader-{code}", code, "org_leader")
        return replace(who, organisation_id=org.id)


def _who(subject: str, username: str, scope: str, role: str) -> Principal:
    return Principal(subject, username, scope, frozenset({role}), 0)
