"""Reference and demo data: the national division tree (province → township)
and a realistic Shaanxi tenant. Both steps are idempotent.

The demo builds, through the same use cases the API runs (so rollups and
events are real): provincial and county admin accounts; Chang'an district's
"1+10+N" structure (one district team, ten professional sub-teams, one
sub-team per street, as Yuexiu's 1+10+18); organisations in several
counties and Xi'an's city-level federation; a few hundred volunteers with valid
generated ID numbers (the province's thousands come in bulk: ``province``).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select

from services.common import keys
from services.common.auth import Principal
from services.common.config import Config
from services.common.db import Database
from services.common.errors import AlreadyExists
from services.common.tenancy import Scope
from services.registration.application import RegistrationApp
from services.registration.bootstrap import create_account, load_divisions, progress
from services.registration.domain import SERVICE_FIELDS
from services.registration.idcard import make_id_number
from services.registration.models import Account, Position, Volunteer
from services.registration.repository import Repository

DEMO_PASSWORD = "zhiyuan-demo-2026"  # noqa: S105 - printed by `make run`, demo only
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国红梅鑫宇浩然子涵欣怡梓萱"
)
DEMO_COUNTIES = ["610116", "610113", "610103", "610602", "610702", "610802", "610402"]


def seed(cfg: Config, province: str = "61", volunteers: int = 300) -> None:
    db = Database(cfg.service("registration"))
    print("loading the division tree / 导入行政区划 …")
    print(f"  {load_divisions(db)} divisions added")
    with db.session(Scope(province)) as s:
        done = s.execute(select(Account).where(Account.username == "sx-admin")).first()
    if done:
        _positions(db, RegistrationApp(db, keys.pii_cipher(cfg), None), province)
        print("demo data already present / 演示数据已存在")
        return
    for username, scope, roles, display in [
        ("sx-admin", province, ["province_admin"], "陕西省慈善协会管理员"),
        ("yanta-admin", "610113", ["tenant_admin"], "雁塔区文明办"),
        ("changan-admin", "610116", ["tenant_admin"], "长安区志愿者协会"),
        # The nation (issue 15): every province's rollups and nothing else.
        ("nation-admin", "CN", ["province_admin"], "全国志愿服务统计（演示）"),
    ]:
        create_account(cfg, username, DEMO_PASSWORD, scope, roles, display)
    app = RegistrationApp(db, keys.pii_cipher(cfg), None)
    admin = Principal("seed", "seed", province, frozenset({"province_admin"}), 0)
    rng = random.Random(61)  # noqa: S311 - deterministic demo data
    teams = _organisations(db, app, admin, rng)
    _volunteers(app, admin, rng, volunteers, teams)
    _transfers(db, app)
    _positions(db, app, province)
    print("demo data ready / 演示数据已就绪")


def _organisations(db, app, admin, rng):  # type: ignore[no-untyped-def]
    fields = list(SERVICE_FIELDS)
    with db.session(Scope("610116")) as s:
        streets = Repository(s, Scope("610116")).children("610116", False, 100, 0)[0]
    root = app.people.create_organisation(
        admin,
        "长安区志愿服务总队",
        "organisation",
        "610116",
        "",
        ["civilisation"],
        "李明",
        "13891234567",
    )
    created = [root]
    for f in fields[:10]:
        created.append(
            app.people.create_organisation(
                admin,
                f"长安区{SERVICE_FIELDS[f]}志愿服务队",
                "team",
                "610116",
                root.id,
                [f],
                "",
                "",
            )
        )
    for street in streets:
        created.append(
            app.people.create_organisation(
                admin,
                f"{street.name}志愿服务队",
                "team",
                street.code,
                root.id,
                ["civilisation", "elderly_care"],
                "",
                "",
            )
        )
    # A city-level organisation: emergency campaigns are a city's or a
    # province's (activity's demo runs one).
    created.append(
        app.people.create_organisation(
            admin,
            "西安市志愿者联合会",
            "organisation",
            "6101",
            "",
            ["emergency", "civilisation"],
            "",
            "",
        )  # fmt: skip
    )
    for county in DEMO_COUNTIES[1:]:
        with db.session(Scope(county)) as s:
            name = Repository(s, Scope(county)).division(county).name
        created.append(
            app.people.create_organisation(
                admin,
                f"{name}志愿者协会",
                "organisation",
                county,
                "",
                rng.sample(fields, 2),
                "",
                "",
            )
        )
    progress("organisations", len(created), len(created))
    return created


def _volunteers(app, admin, rng, count, teams):  # type: ignore[no-untyped-def]
    fields = list(SERVICE_FIELDS)
    for i in range(count):
        county = DEMO_COUNTIES[i % len(DEMO_COUNTIES)]
        birth = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 56))
        number = make_id_number(county, birth, rng.randrange(1, 999))
        name = (
            rng.choice(SURNAMES)
            + rng.choice(GIVEN)
            + rng.choice(["", rng.choice(GIVEN)])
        )
        phone = f"1{rng.choice('3589')}{rng.randrange(10**8, 10**9)}"
        try:
            vol = app.people.register_volunteer(
                admin,
                name,
                number,
                phone,
                county,
                rng.sample(fields, 2),
                None,
                f"seed-{i}",
            )
        except AlreadyExists:
            continue
        if i % 4 != 3:
            app.people.review_volunteer(admin, vol.id, True, "")
            local = [t for t in teams if t.division_code.startswith(county)]
            if local and i % 2 == 0:
                app.people.add_membership(admin, vol.id, rng.choice(local).id, "member")
        elif i % 8 == 7:
            app.people.review_volunteer(
                admin, vol.id, False, "材料不全 / incomplete documents"
            )
        if (i + 1) % 25 == 0 or i + 1 == count:
            progress("volunteers", i + 1, count)


def _transfers(db: Database, app: RegistrationApp) -> None:
    """Transfers between regions (issue 14): a Yanta volunteer moving to a
    street of Chang'an, filed by Yanta and pending there; a Beilin
    volunteer who moved to a street of Yanta, accepted by Yanta."""

    def office(username: str, scope: str) -> Principal:
        return Principal(username, username, scope, frozenset({"tenant_admin"}), 0)

    def verified(county: str, skip: int) -> str | None:
        with db.session(Scope(county)) as s:
            q = Repository(s, Scope(county)).volunteers_query(county, "verified")
            found = s.execute(q.order_by(Volunteer.volunteer_number)).scalars().all()
        return found[skip].id if len(found) > skip else None

    # The pending one waits for changan-admin in the console.
    yanta = office("yanta-admin", "610113")
    moving = verified("610113", 0)
    if moving:
        app.transfers.request(
            yanta, moving, "610116001", True, "签字同意书存雁塔区文明办档案室"
        )
    moved = verified("610103", 0)
    if moved:
        beilin = office("beilin-admin", "610103")
        t = app.transfers.request(
            beilin, moved, "610113001", True, "签字同意书存碑林区档案室"
        )
        app.transfers.accept(yanta, t.id)


# Bases of the demo province: (name, level, division).
DEMO_BASES = (
    ("长安区助老志愿服务基地", "district", "610116"),
    ("雁塔区大雁塔文明旅游志愿服务基地", "district", "610113"),
    ("西安市应急救援志愿服务基地", "city", "6101"),
    ("陕西省青少年志愿服务基地", "province", "61"),
    ("延安革命纪念地志愿服务基地", "national", "610602"),
)


def _positions(db: Database, app: RegistrationApp, province: str) -> None:
    """Service positions (志愿服务阵地, issue 14): Chang'an's and Yanta's
    guidance centres, a centre in each of Chang'an's first streets with two
    community stations each, one of Yanta's, and bases from district to
    national level. Skipped when the province has positions already."""
    with db.session(Scope(province)) as s:
        if s.execute(select(Position.id).limit(1)).first():
            return
    admin = Principal("seed", "seed", province, frozenset({"province_admin"}), 0)
    hours = "周一至周五 9:00-17:30，周六 9:00-12:00"
    made = 0
    for county in ("610116", "610113"):
        with db.session(Scope(county)) as s:
            repo = Repository(s, Scope(county))
            name = repo.division(county).name
            streets = repo.children(county, False, 100, 0)[0][:4]
        app.positions.create(
            admin, f"{name}新时代文明实践中心", "guidance_centre", "", county,
            f"陕西省西安市{name}文明路1号", hours,
        )  # fmt: skip
        made += 1
        for i, street in enumerate(streets):
            app.positions.create(
                admin, f"{street.name}志愿服务中心", "street_centre", "", street.code,
                f"{name}{street.name}综合服务楼", hours,
            )  # fmt: skip
            for n in range(1 if county == "610113" else 2):
                app.positions.create(
                    admin, f"{street.name}第{n + 1}社区学雷锋志愿服务站", "station", "",
                    street.code, f"{street.name}第{n + 1}社区党群服务中心",
                    "每日 8:30-20:00",
                )  # fmt: skip
            made += 1 + (1 if county == "610113" else 2)
            if county == "610113" and i >= 1:
                break
    for name, level, code in DEMO_BASES:
        app.positions.create(admin, name, "base", level, code, "", "开放日见公告")
        made += 1
    progress("positions", made, made)
