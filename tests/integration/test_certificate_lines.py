"""A certificate's training and awards lines drawn from the records, on the
real api roles and workers: hours asks activity (ListTrainingOf) and
commendation (ListAwardsOf) as the caller, over the certificate's period.

The volunteer (at home in 鼓楼街道, 榆阳区 610802) attended two training
sessions, one inside the period and one months before it, and holds one
star, approved today by the county. Ticked, the certificate prints exactly
the in-period training and the star (read back from the PDF's text with
pypdf) and keeps them; unticked, neither; with activity down the request is
refused UNAVAILABLE, saying so in both languages, and no certificate is
written. 榆阳区 is used by no other test: its star thresholds are lowered
here."""

from __future__ import annotations

import io
import json
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from pypdf import PdfReader
from sqlalchemy import create_engine, text
from zhiyuan.activity.v1 import activity_pb2 as apb
from zhiyuan.commendation.v1 import commendation_pb2 as cpb
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.hours.v1 import hours_pb2 as hpb
from zhiyuan.registration.v1 import registration_pb2 as rpb

from services.catalog import api_entry
from services.common.auth import TokenIssuer
from services.common.config import load
from services.common.rollup import CST
from services.common.testing import PRIVATE_PEM, free_port, wait_for
from tests.helpers import auth, new_id_number, new_phone

pytestmark = pytest.mark.integration
CITY, COUNTY, TOWN, SIBLING = "6108", "610802", "610802001", "610802002"
SETTINGS = {"stars.thresholds_hours": json.dumps([2, 4, 6, 8, 10])}
ISSUER = TokenIssuer(PRIVATE_PEM, "zhiyuan", "zhiyuan")


def rows(env: dict[str, str], service: str, sql: str, **params: Any) -> list[Any]:
    """Rows of a service's own database, read as its owner (tests only)."""
    engine = create_engine(env[f"{service.upper()}_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params).all())
    finally:
        engine.dispose()


def at(days_ago: int) -> datetime:
    """10:00 China time, ``days_ago`` days before today."""
    day = datetime.now(CST) - timedelta(days=days_ago)
    return day.replace(hour=10, minute=0, second=0, microsecond=0)


def month(moment: datetime) -> str:
    return moment.astimezone(CST).strftime("%Y-%m")


def day(moment: datetime) -> str:
    return moment.astimezone(CST).strftime("%Y年%m月%d日")


def own_token(vol: rpb.Volunteer) -> str:
    """The volunteer's own account's token (claim ``vol``)."""
    value, _ = ISSUER.issue(
        subject=f"account-{vol.id}", username=vol.volunteer_number,
        scope_code=vol.home_division_code, roles=["volunteer"], volunteer_id=vol.id,
    )  # fmt: skip
    return value


def pdf_text(document: bytes) -> str:
    page = PdfReader(io.BytesIO(document)).pages[0]
    return re.sub(r"\s+", "", page.extract_text())


@dataclass
class World:
    """Stubs, tokens and the helpers both this file and the security tests
    (tests/security/test_certificate_lines_isolation.py) build with."""

    stubs: Callable[[str], Any]
    token: Callable[..., str]
    env: dict[str, str]
    ready: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.reg, self.act = self.stubs("registration"), self.stubs("activity")
        self.hours, self.com = self.stubs("hours"), self.stubs("commendation")

    def office(self, code: str = COUNTY) -> str:
        return self.token(code, "tenant_admin", username=f"office-{code}")

    def lower_thresholds(self) -> None:
        self.reg.UpdateTenantSettings(
            rpb.UpdateTenantSettingsRequest(division_code=COUNTY, set_json=SETTINGS),
            metadata=auth(self.token("61", "province_admin")),
        )
        sql = "SELECT overrides FROM policy_overrides WHERE division_code = :c"
        wait_for(
            lambda: (
                "stars.thresholds_hours"
                in str(rows(self.env, "commendation", sql, c=COUNTY))
            ),
            timeout=30,
            what="commendation's settings replica",
        )

    def volunteer(self, home: str) -> rpb.Volunteer:
        """A verified volunteer at ``home``, once activity and commendation
        have it in their replicas."""
        office = self.office(home[:6])
        vol = self.reg.RegisterVolunteer(
            rpb.RegisterVolunteerRequest(
                name="王培训", id_number=new_id_number(COUNTY), phone=new_phone(),
                home_division_code=home, service_fields=["elderly_care"],
            ),
            metadata=auth(office),
        ).volunteer  # fmt: skip
        self.reg.VerifyVolunteer(
            rpb.VerifyVolunteerRequest(id=vol.id), metadata=auth(office)
        )
        for service in ("activity", "commendation"):
            wait_for(
                lambda s=service: rows(
                    self.env, s, "SELECT 1 FROM volunteers WHERE id = :v", v=vol.id
                ),
                timeout=30,
                what=f"the volunteer in {service}'s replica",
            )
        return vol

    def trained(self, vol: rpb.Volunteer, node: str, start: datetime) -> str:
        """A new course of the county, a two-hour session of it held at
        ``node`` from ``start``, attended by ``vol``; returns the title."""
        title = f"应急救护培训-{uuid.uuid4().hex[:6]}"
        course = self.act.CreateCourse(
            apb.CreateCourseRequest(division_code=COUNTY, title=title),
            metadata=auth(self.office()),
        ).course
        session = self.act.CreateTrainingSession(
            apb.CreateTrainingSessionRequest(
                course_id=course.id, division_code=node, place="社区服务中心",
                starts_at=start.isoformat(),
                ends_at=(start + timedelta(hours=2)).isoformat(),
            ),
            metadata=auth(self.office(node)),
        ).session  # fmt: skip
        # Recorded by the county, which sees the session and every volunteer
        # of the tests (the township would not see its sibling's).
        self.act.RecordTrainingAttendance(
            apb.RecordTrainingAttendanceRequest(
                training_session_id=session.id, volunteer_id=vol.id
            ),
            metadata=auth(self.office()),
        )
        return title

    def served(self, vol: rpb.Volunteer, start: datetime, hours: float = 3) -> None:
        """Approved honour hours at TOWN."""
        record = self.hours.RecordHonourHours(
            hpb.RecordHonourHoursRequest(
                volunteer_id=vol.id, division_code=TOWN,
                organisation_name="榆阳区志愿者协会", service_field="elderly_care",
                content="敬老院陪护", session_start=start.isoformat(),
                session_end=(start + timedelta(hours=hours)).isoformat(),
                hours=hours, reason="纸质签到表补录",
            ),
            metadata=auth(self.office()),
        ).record  # fmt: skip
        self.hours.ApproveRecord(
            hpb.ApproveRecordRequest(id=record.id), metadata=auth(self.office())
        )

    def star_approved(self, vol: rpb.Volunteer) -> None:
        """Approve the one-star request the hours opened (the county's level)."""

        def pending() -> str:
            got = self.com.ListStarRequests(
                cpb.ListStarRequestsRequest(awaiting_me=True),
                metadata=auth(self.office()),
            ).requests
            return next((r.id for r in got if r.volunteer_id == vol.id), "")

        ident = wait_for(pending, timeout=30, what="the star request")
        self.com.ApproveStarRequest(
            cpb.ApproveStarRequestRequest(id=ident), metadata=auth(self.office())
        )


@dataclass(frozen=True)
class Scene:
    vol: rpb.Volunteer
    inside: str  # the course title of the in-period session
    outside: str  # and of the one months before
    trained_at: datetime
    period: common.Period


@pytest.fixture(scope="module")
def world(stubs, token, migrated, worker) -> World:  # type: ignore[no-untyped-def]
    w = World(stubs, token, migrated)
    w.lower_thresholds()
    return w


@pytest.fixture(scope="module")
def scene(world: World) -> Scene:
    vol = world.volunteer(TOWN)
    trained_at = at(10)
    inside = world.trained(vol, TOWN, trained_at)
    outside = world.trained(vol, TOWN, at(120))
    world.served(vol, at(15))
    world.star_approved(vol)
    period = common.Period(start_month=month(at(20)), end_month=month(at(0)))
    return Scene(vol, inside, outside, trained_at, period)


def issue(world: World, scene: Scene, tok: str = "", **ticks: bool) -> Any:
    return world.hours.IssueCertificate(
        hpb.IssueCertificateRequest(
            volunteer_id=scene.vol.id, division_code=COUNTY, period=scene.period,
            issuer_name="榆阳区志愿者协会", person_in_charge="王建国",
            contact="0912-3333333", **ticks,
        ),
        metadata=auth(tok or world.office()),
    ).certificate  # fmt: skip


def test_ticked_prints_exactly_the_in_period_training_and_the_award(
    world: World, scene: Scene
) -> None:
    cert = issue(world, scene, include_training=True, include_awards=True)
    training = f"{day(scene.trained_at)} {scene.inside}（2学时）"
    award = f"{day(datetime.now(UTC))} 一星级志愿者（榆阳区）"
    assert (list(cert.training), list(cert.awards)) == ([training], [award])
    document = world.hours.GetCertificatePdf(
        hpb.GetCertificatePdfRequest(number=cert.number),
        metadata=auth(world.office()),
    ).pdf
    flat = pdf_text(document)
    # Exactly these lines in each section (the award section ends the list).
    printed = flat.split("参加培训：", 1)[1].split("特此证明", 1)[0]
    assert printed == re.sub(r"\s+", "", f"{training}获得表彰：{award}"), flat
    assert scene.outside not in flat
    # Kept with the certificate: read back, the same lines.
    (stored,) = rows(
        world.env, "hours",
        "SELECT training_lines, award_lines FROM certificates WHERE number = :n",
        n=cert.number,
    )  # fmt: skip
    assert (stored.training_lines, stored.award_lines) == ([training], [award])


def test_the_volunteers_own_request_prints_the_same_lines(
    world: World, scene: Scene
) -> None:
    cert = world.hours.RequestMyCertificate(
        hpb.RequestMyCertificateRequest(
            period_start=scene.period.start_month, period_end=scene.period.end_month,
            include_training=True, include_awards=True,
        ),
        metadata=auth(own_token(scene.vol)),
    ).certificate  # fmt: skip
    assert [x.split(" ", 1)[1] for x in cert.training] == [f"{scene.inside}（2学时）"]
    assert [x.split(" ", 1)[1] for x in cert.awards] == ["一星级志愿者（榆阳区）"]


def test_unticked_prints_none(world: World, scene: Scene) -> None:
    cert = issue(world, scene)
    assert (list(cert.training), list(cert.awards)) == ([], [])
    document = world.hours.GetCertificatePdf(
        hpb.GetCertificatePdfRequest(number=cert.number),
        metadata=auth(world.office()),
    ).pdf
    flat = pdf_text(document)
    assert "参加培训" not in flat and "获得表彰" not in flat
    assert scene.inside not in flat and "星级志愿者" not in flat


@pytest.fixture(scope="module")
def hours_without_activity(world: World) -> Iterator[Any]:
    """A second hours api role on the same database whose activity address
    has nothing listening (activity down)."""
    from services.common import protos

    port = free_port()
    env = {
        **os.environ,
        "ACTIVITY_GRPC_ADDRESS": f"127.0.0.1:{free_port()}",
        "HOURS_GRPC_LISTEN": f"127.0.0.1:{port}",
        "HOURS_GRPC_ADDRESS": f"127.0.0.1:{port}",
    }
    stop = threading.Event()
    thread = threading.Thread(
        target=api_entry("hours"), args=(load(env=env), stop), daemon=True
    )
    thread.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    grpc.channel_ready_future(channel).result(timeout=20)
    yield protos.stub("hours", channel)
    channel.close()
    stop.set()
    thread.join(timeout=10)


def test_activity_down_refuses_unavailable_and_writes_nothing(
    world: World, scene: Scene, hours_without_activity: Any
) -> None:
    count = "SELECT count(*) FROM certificates WHERE volunteer_id = :v"
    before = rows(world.env, "hours", count, v=scene.vol.id)
    with pytest.raises(grpc.RpcError) as err:
        hours_without_activity.IssueCertificate(
            hpb.IssueCertificateRequest(
                volunteer_id=scene.vol.id, division_code=COUNTY,
                period=scene.period, issuer_name="榆阳区志愿者协会",
                person_in_charge="王建国", contact="0912-3333333",
                include_training=True, include_awards=True,
            ),
            metadata=auth(world.office()),
        )  # fmt: skip
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE, err.value.details()
    trailers = dict(err.value.trailing_metadata() or ())
    assert "活动服务" in trailers["zhiyuan-message-zh-bin"].decode()
    assert "no certificate was issued" in (err.value.details() or "")
    assert rows(world.env, "hours", count, v=scene.vol.id) == before
    # The same role issues one when only the awards (commendation) are asked.
    cert = hours_without_activity.IssueCertificate(
        hpb.IssueCertificateRequest(
            volunteer_id=scene.vol.id, division_code=COUNTY, period=scene.period,
            issuer_name="榆阳区志愿者协会", person_in_charge="王建国",
            contact="0912-3333333", include_awards=True,
        ),
        metadata=auth(world.office()),
    ).certificate  # fmt: skip
    assert len(cert.awards) == 1 and not cert.training
