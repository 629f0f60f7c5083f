"""The phone's certificate request prints training and awards drawn from
the records (issue 14), in headless Chromium at 390x844 against the
platform as `make run` starts it.

A volunteer of 曲江街道 (610113008: no other e2e test's volunteers; its star
tiers are lowered here to 2/4/6/8/10 hours) attended a training session of
Yanta's ten days ago and holds one star the county approved today. On the
phone the request form offers two boxes; unticked, the certificate has no
lines; ticked, the list shows the training and the award, the stored
certificate (GET /me/certificates) carries exactly those lines and the PDF
prints them. Photographed at 390 and 1366 px
(``test-artifacts/screenshots/mobile-certificate-lines-*.png``)."""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import Page
from pypdf import PdfReader
from zhiyuan.registration.v1 import registration_pb2 as reg
from zhiyuan.registration.v1 import registration_pb2_grpc as reg_grpc

from services.common.testing import wait_for
from tests.e2e.conftest import login, login_with
from tests.e2e.test_mobile_pages import PASSWORD, photograph, sign_in
from tests.helpers import new_id_number, new_phone, ok

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

COUNTY, TOWN = "610113", "610113008"  # 雁塔区曲江街道
TIERS = "[2, 4, 6, 8, 10]"
CST = timedelta(hours=8)


def china_month(moment: datetime) -> str:
    return (moment + CST).strftime("%Y-%m")


def lower_star_tiers(env: dict[str, str], province: dict) -> None:
    """Tiers of 2/4/6/8/10 hours for TOWN, set in registration (no HTTP
    route sets them) and replicated to commendation."""
    channel = grpc.insecure_channel(env["REGISTRATION_GRPC_ADDRESS"])
    try:
        reg_grpc.RegistrationServiceStub(channel).UpdateTenantSettings(
            reg.UpdateTenantSettingsRequest(
                division_code=TOWN, set_json={"stars.thresholds_hours": TIERS}
            ),
            metadata=list(province.items()),
            timeout=30,
        )
    finally:
        channel.close()
    engine = sa.create_engine(env["COMMENDATION_DATABASE_URL"])
    sql = sa.text("SELECT overrides FROM policy_overrides WHERE division_code = :c")

    def replicated() -> bool:
        with engine.connect() as c:
            got = c.execute(sql, {"c": TOWN}).scalar()
        return bool(got) and "stars.thresholds_hours" in str(got)

    try:
        wait_for(replicated, timeout=30, what="commendation's settings replica")
    finally:
        engine.dispose()


def self_registered(base: str, http: httpx.Client, county: dict) -> tuple[str, str]:
    """A volunteer of TOWN registered on /me/register and verified by the
    office: (volunteer number, id)."""
    got = ok(
        http.post(
            "/me/register",
            json={
                "name": "钱证明", "id_number": new_id_number(COUNTY),
                "phone": new_phone(), "home_division_code": TOWN,
                "service_fields": ["elderly_care"], "skills": [],
                "password": PASSWORD,
            },
        ),
        201,
    )  # fmt: skip
    vid = got["volunteer"]["id"]
    ok(http.post(f"/volunteers/{vid}/verify", headers=county))
    return got["volunteer_number"], vid


def trained(http: httpx.Client, county: dict, vid: str, start: datetime) -> str:
    """A course of Yanta, a two-hour session at TOWN from ``start``,
    attended by the volunteer (once activity has them); returns the title."""
    title = f"应急救护培训-{uuid.uuid4().hex[:6]}"
    course = ok(
        http.post("/courses", headers=county,
                  json={"division_code": COUNTY, "title": title}),
        201,
    )["course"]  # fmt: skip
    session = ok(
        http.post("/training-sessions", headers=county, json={
            "course_id": course["id"], "division_code": TOWN, "place": "曲江社区中心",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(),
        }),
        201,
    )["session"]  # fmt: skip

    def attended() -> bool:
        got = http.post(
            f"/training-sessions/{session['id']}/attendances",
            headers=county,
            json={"volunteer_id": vid},
        )
        # 404 until activity's replica has the volunteer; then 201.
        assert got.status_code in (201, 404), got.text
        return got.status_code == 201

    wait_for(attended, timeout=60, what="the training attendance recorded")
    return title


def one_star(http: httpx.Client, county: dict, vid: str) -> None:
    """Three approved hours at TOWN, then the county approves the one-star
    request commendation opens for them."""
    start = (datetime.now(UTC) - timedelta(days=12)).replace(
        hour=1, minute=0, second=0, microsecond=0
    )
    rec = ok(http.post("/hours/honour", headers=county, json={
        "volunteer_id": vid, "division_code": TOWN,
        "organisation_name": "雁塔区志愿者协会", "service_field": "elderly_care",
        "content": "敬老院陪护（证明测试）", "session_start": start.isoformat(),
        "session_end": (start + timedelta(hours=3)).isoformat(),
        "hours": 3, "reason": "纸质签到表补录",
    }), 201)["record"]  # fmt: skip
    ok(http.post(f"/hours/records/{rec['id']}/approve", headers=county))

    def pending() -> str:
        got = http.get(f"/commendation/volunteers/{vid}/stars", headers=county)
        if got.status_code == 404:
            return ""
        return str(ok(got)["stars"].get("pending", {}).get("id", ""))

    ident = wait_for(pending, timeout=60, what="commendation to open a star request")
    ok(http.post(f"/commendation/star-requests/{ident}/approve", headers=county))


def request(page: Page, start_month: str, **ticks: bool) -> dict[str, Any]:
    """Requests a certificate from ``start_month`` on the phone with the
    boxes ticked as asked; returns the list item that appears."""
    before = page.locator("[data-testid=certificate]").count()
    page.fill("[data-testid=period-start]", start_month)
    for box in ("training", "awards"):
        check = page.locator(f"[data-testid=certificate-{box}]")
        check.set_checked(ticks.get(box, False))
    page.click("[data-testid=certificate-request]")
    page.wait_for_selector("[data-testid=certificate-issued]:not([hidden])")
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=certificate]').length > n",
        arg=before,
    )
    number = page.locator("[data-testid=certificate]").first.get_attribute(
        "data-number"
    )
    return {"number": number}


def test_ticked_boxes_print_the_training_and_the_award(  # type: ignore[no-untyped-def]
    platform, phone_page: Page
) -> None:
    base, env, _ = platform
    page = phone_page
    http = httpx.Client(base_url=f"{base}/api/v1", timeout=60)
    province, county = login(base, "sx-admin"), login(base, "yanta-admin")
    lower_star_tiers(env, province)
    number, vid = self_registered(base, http, county)
    trained_at = datetime.now(UTC) - timedelta(days=10)
    title = trained(http, county, vid, trained_at)
    one_star(http, county, vid)
    own = login_with(base, number, PASSWORD)
    start = china_month(trained_at)

    sign_in(page, base, number, "/certificates")
    page.wait_for_selector("[data-testid=certificate-form]")
    # The boxes are labelled in Chinese and start unticked.
    form = page.locator("[data-testid=certificate-form]")
    assert "列入参加培训情况" in form.inner_text()
    assert "列入获得表彰情况" in form.inner_text()
    assert not page.is_checked("[data-testid=certificate-training]")

    # Unticked: no lines, stored or shown.
    plain = request(page, start)["number"]
    stored = {
        c["number"]: c
        for c in ok(http.get("/me/certificates", headers=own))["certificates"]
    }
    assert stored[plain].get("training", []) == []
    assert stored[plain].get("awards", []) == []
    item = page.locator(f"[data-testid=certificate][data-number='{plain}']")
    assert item.locator("[data-testid=lines-training]").count() == 0

    # Ticked: the training and the award, drawn from the records.
    ticked = request(page, start, training=True, awards=True)["number"]
    stored = {
        c["number"]: c
        for c in ok(http.get("/me/certificates", headers=own))["certificates"]
    }
    (training,) = stored[ticked]["training"]
    (award,) = stored[ticked]["awards"]
    assert title in training
    assert award.endswith("一星级志愿者（雁塔区）"), award
    item = page.locator(f"[data-testid=certificate][data-number='{ticked}']")
    assert item.locator("[data-testid=lines-training] li").all_inner_texts() == [
        training
    ]
    assert item.locator("[data-testid=lines-awards] li").all_inner_texts() == [award]
    assert (
        item.locator("[data-testid=lines-training]").inner_text().startswith("参加培训")
    )
    # The PDF prints both.
    pdf = http.get(f"/me/certificates/{ticked}/pdf", headers=own)
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    flat = re.sub(
        r"\s+", "", PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    )
    assert re.sub(r"\s+", "", training) in flat and re.sub(r"\s+", "", award) in flat
    photograph(page, "certificate-lines")

    # In English.
    page.click("[data-testid=lang]")
    page.wait_for_selector("text=Include training attended")
    assert item.locator("[data-testid=lines-awards]").inner_text().startswith("Awards")
