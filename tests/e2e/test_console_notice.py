"""The commendation console page in headless Chromium, beyond the review
queue: star requests approved and rejected by clicking, a nomination made in
the page (a bad one refused naming the field), a provincial round's public
notice read by another county with an objection filed from it and seen by
the round's owner, and a county round's notice denied to a neighbour.

Star requests arise as in production: honour hours recorded and approved in
hours, relayed to commendation's worker, which opens a request when the
approved hours reach a tier. The tiers are lowered (2 h for one star) for
one Yanta township no other test uses, as a tenant may set them."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import grpc
import httpx
import pytest
import sqlalchemy as sa
from zhiyuan.registration.v1 import registration_pb2 as reg
from zhiyuan.registration.v1 import registration_pb2_grpc as reg_grpc

from services.common.testing import wait_for
from tests.browser import shot
from tests.e2e.conftest import PASSWORD, login
from tests.helpers import log_in, new_id_number, new_phone, ok

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
C = "/commendation"
COUNTY, TOWN = "610113", "610113010"  # 雁塔区漳浒寨街道: no other test's volunteers
SETTINGS = {
    "stars.thresholds_hours": json.dumps([2, 4, 6, 8, 10]),
    "hours.rounding": json.dumps("exact"),
    "hours.daily_cap": "12",
}
_day = iter(range(3, 300))


def switch_user(page, base: str, username: str, route: str) -> None:  # type: ignore[no-untyped-def]
    page.click("[data-testid=logout]")
    page.wait_for_selector("[data-testid=login-form]")
    log_in(page, base, username, route)


class Kit:
    """HTTP clients and data makers over the shared platform."""

    def __init__(self, platform: tuple[str, dict[str, str], Any]) -> None:
        self.base, self.env, _ = platform
        self.http = httpx.Client(base_url=f"{self.base}/api/v1", timeout=60)
        self.province = login(self.base, "sx-admin")
        self.county = login(self.base, "yanta-admin")
        self.tag = uuid.uuid4().hex[:6]  # the platform is shared with other tests

    def account(self, admin: dict, username: str, scope: str, role: str) -> dict:
        ok(self.http.post("/accounts", headers=admin, json={
            "username": username, "password": PASSWORD, "scope_code": scope,
            "roles": [role],
        }), 201)  # fmt: skip
        return login(self.base, username)

    def lower_star_tiers(self) -> None:
        """Tiers of 2/4/6/8/10 hours for TOWN, set in registration (no HTTP
        route sets them) and replicated to commendation."""
        channel = grpc.insecure_channel(self.env["REGISTRATION_GRPC_ADDRESS"])
        try:
            reg_grpc.RegistrationServiceStub(channel).UpdateTenantSettings(
                reg.UpdateTenantSettingsRequest(division_code=TOWN, set_json=SETTINGS),
                metadata=list(self.province.items()),
                timeout=30,
            )
        finally:
            channel.close()
        engine = sa.create_engine(self.env["COMMENDATION_DATABASE_URL"])

        def replicated() -> bool:
            with engine.connect() as c:
                got = c.execute(
                    sa.text(
                        "SELECT overrides FROM policy_overrides WHERE division_code=:c"
                    ),
                    {"c": TOWN},
                ).scalar()
            return bool(got) and "stars.thresholds_hours" in got

        try:
            wait_for(replicated, timeout=30, what="commendation's settings replica")
        finally:
            engine.dispose()

    def volunteer(self) -> dict:
        """A verified volunteer of TOWN, with the ID number and phone it gave."""
        body = {
            "name": "孙志愿", "id_number": new_id_number(COUNTY), "phone": new_phone(),
            "home_division_code": TOWN, "service_fields": ["elderly_care"],
        }  # fmt: skip
        vol = ok(self.http.post("/volunteers", headers=self.county, json=body), 201)
        vol = vol["volunteer"]
        ok(self.http.post(f"/volunteers/{vol['id']}/verify", headers=self.county))
        return {**vol, "raw_id_number": body["id_number"], "raw_phone": body["phone"]}

    def honour_hours(self, vid: str, amount: float) -> None:
        start = (datetime.now(UTC) - timedelta(days=next(_day))).replace(
            hour=1, minute=0, second=0, microsecond=0
        )
        rec = ok(self.http.post("/hours/honour", headers=self.county, json={
            "volunteer_id": vid, "division_code": TOWN,
            "organisation_name": "雁塔区志愿者协会", "service_field": "elderly_care",
            "content": "敬老院陪护（星级测试）", "session_start": start.isoformat(),
            "session_end": (start + timedelta(hours=amount)).isoformat(),
            "hours": amount, "reason": "纸质签到表补录",
        }), 201)["record"]  # fmt: skip
        ok(self.http.post(f"/hours/records/{rec['id']}/approve", headers=self.county))

    def stars(self, vid: str) -> dict | None:
        got = self.http.get(f"{C}/volunteers/{vid}/stars", headers=self.county)
        if got.status_code == 404:
            return None
        return ok(got)["stars"]

    def star_request(self, vid: str) -> dict:
        def opened() -> bool:
            got = self.stars(vid)
            return bool(got and got.get("pending", {}).get("id"))

        wait_for(opened, timeout=60, what="commendation to open a star request")
        got = self.stars(vid)
        assert got is not None
        return got["pending"]

    def round(self, who: dict, code: str, title: str) -> dict:
        return ok(self.http.post(f"{C}/rounds", headers=who, json={
            "division_code": code, "title": f"{title} {self.tag}", "year": 2026,
            "quota_per_child": 5,
            "deadline": (date.today() + timedelta(days=30)).isoformat(),
        }), 201)["round"]  # fmt: skip

    def review(self, who: dict, nid: str) -> dict:
        body = {"decision": "DECISION_APPROVE"}
        got = self.http.post(f"{C}/nominations/{nid}/review", headers=who, json=body)
        return ok(got)["nomination"]


@pytest.fixture(scope="module")
def kit(platform) -> Kit:  # type: ignore[no-untyped-def]
    k = Kit(platform)
    k.lower_star_tiers()
    return k


def test_star_requests_are_approved_and_rejected_in_the_page(kit: Kit, page) -> None:  # type: ignore[no-untyped-def]
    one, two = kit.volunteer(), kit.volunteer()
    for vol in (one, two):
        kit.honour_hours(vol["id"], 2.5)
    first, second = kit.star_request(one["id"]), kit.star_request(two["id"])
    assert first["stars"] == second["stars"] == 1
    assert first["approving_division_code"] == COUNTY  # one star: the county

    log_in(page, kit.base, "yanta-admin", C)
    queue = page.locator("[data-testid=star-requests]")
    row1 = queue.locator(f"tr[data-id='{first['id']}']")
    row2 = queue.locator(f"tr[data-id='{second['id']}']")
    row1.wait_for()
    row2.wait_for()
    assert one["volunteer_number"] in row1.inner_text()
    assert "★" in row1.inner_text() and "★★" not in row1.inner_text()

    # Rejecting needs a reason: the service says so, naming the field.
    row2.locator("[data-action=reject]").click()
    page.wait_for_selector("[data-testid=star-error][data-field=reason]")
    assert page.locator("[data-testid=star-error]").inner_text().startswith("原因：")
    assert kit.stars(two["id"])["pending"]["id"] == second["id"]  # still pending

    row1.locator("[data-action=approve]").click()
    row1.wait_for(state="detached")
    got = kit.stars(one["id"])
    assert got["stars"] == 1 and not got.get("pending", {}).get("id")
    assert got["history"][-1]["kind"] == "approved"

    row2 = page.locator(f"[data-testid=star-requests] tr[data-id='{second['id']}']")
    row2.locator("input[name=reason]").fill("补录时长缺少签到表原件")
    row2.locator("[data-action=reject]").click()
    row2.wait_for(state="detached")
    got = kit.stars(two["id"])
    assert got.get("stars", 0) == 0 and not got.get("pending", {}).get("id")
    listed = ok(kit.http.get(f"{C}/star-requests", headers=kit.county, params={
        "division_code": TOWN, "status": "STAR_REQUEST_STATUS_REJECTED",
        "page_size": 500,
    }))["requests"]  # fmt: skip
    rejected = {r["id"]: r for r in listed}
    assert rejected[second["id"]]["reason"] == "补录时长缺少签到表原件"
    assert rejected[second["id"]]["decided_by"] == "yanta-admin"


def test_nominate_then_object_from_the_public_notice(kit: Kit, page) -> None:  # type: ignore[no-untyped-def]
    """Yanta nominates in the page into a provincial round; once on notice,
    Chang'an (another county, which cannot see Yanta's nominations) reads
    the notice and objects from it; the province, which opened the round,
    sees the objection."""
    vol = kit.volunteer()
    round_ = kit.round(kit.province, "61", "控制台公示评选")
    rid = round_["id"]

    log_in(page, kit.base, "yanta-admin", f"{C}?round={rid}")
    form = page.locator("[data-testid=nominate-form]")
    form.wait_for()
    assert form.locator("[data-testid=nominate-unit]").input_value() == COUNTY
    form.locator("[data-testid=nominate-category]").select_option("individual")
    # Found by number through the search box (the list holds only the first
    # page of the county's volunteers), which selects them.
    form.locator("[data-testid=nominate-find]").fill(vol["volunteer_number"])
    form.locator("[data-testid=nominate-find-button]").click()
    page.wait_for_function(
        "id => document.querySelector('[data-testid=nominate-volunteer]').value === id",
        arg=vol["id"],
    )
    # No statement: refused by the service, which names the field.
    form.locator("[data-testid=nominate-submit]").click()
    error = page.locator("[data-testid=nominate-error][data-field=statement]")
    error.wait_for()
    assert error.get_attribute("data-rule") == "statement.required"
    assert error.inner_text().startswith("推荐理由：")  # the label, not the key
    listed = ok(kit.http.get(f"{C}/nominations", headers=kit.province,
                             params={"round_id": rid}))  # fmt: skip
    assert listed.get("nominations", []) == []  # nothing written

    form.locator("[data-testid=nominate-statement]").fill(
        "扎根漳浒寨社区，常年陪护独居老人，累计服务时长位居街道前列。"
    )
    form.locator("[data-testid=nominate-submit]").click()
    done = page.locator("[data-testid=nominate-done][data-id]")
    done.wait_for()
    nid = done.get_attribute("data-id")
    assert page.locator("[data-testid=nominate-error]").inner_text() == ""
    got = ok(kit.http.get(f"{C}/nominations/{nid}", headers=kit.province))
    n = got["nomination"]
    assert n["nominee_volunteer_id"] == vol["id"] and n["round_id"] == rid
    assert n["unit_division_code"] == COUNTY and n["stage_codes"] == ["6101", "61"]
    assert n["nominated_by"] == "yanta-admin"

    # Xi'an and the province pass it up; the province starts the notice.
    city = kit.account(kit.province, f"xian-notice-reviewer-{kit.tag}", "6101",
                       "reviewer")  # fmt: skip
    kit.review(city, nid)
    assert kit.review(kit.province, nid)["status"] == "NOMINATION_STATUS_APPROVED"
    notice = ok(kit.http.post(f"{C}/rounds/{rid}/notice", headers=kit.province))
    ends = notice["round"]["notice_ends_on"]

    # Chang'an reads the notice: a county user, Yanta's nominations outside
    # its own scope, the provincial round's notice public to it.
    changan = login(kit.base, "changan-admin")
    hidden = kit.http.get(f"{C}/nominations/{nid}", headers=changan)
    assert hidden.status_code == 404
    switch_user(page, kit.base, "changan-admin", C)
    link = page.locator(f"[data-testid=notice-link][data-round='{rid}']")
    link.wait_for()
    link.click()
    board = page.locator(f"[data-testid=notice][data-round='{rid}']")
    board.wait_for()
    assert board.get_attribute("data-status") == "ROUND_STATUS_NOTICE"
    row = board.locator(f"[data-testid=notice-entries] tr[data-id='{nid}']")
    row.wait_for()
    assert row.locator("[data-col=nominee]").inner_text() == n["nominee_name"]
    assert n["nominee_name"].endswith("*")  # masked
    assert row.locator("[data-col=nominee_division]").inner_text() == TOWN
    assert COUNTY in row.locator("[data-col=unit]").inner_text()
    assert "独居老人" in row.locator("[data-col=summary]").inner_text()
    assert row.locator("[data-col=ends]").get_attribute("data-value") == ends
    shown = board.inner_text()
    for secret in (vol["raw_id_number"], vol["raw_phone"], vol["id_number"],
                   vol["volunteer_number"]):  # fmt: skip
        assert secret not in shown
    assert page.locator("[data-testid=signal]").count() == 0

    # An empty objection is refused naming the field; a real one is filed.
    row.locator("[data-action=object]").click()
    bad = row.locator("[data-testid=objection-error][data-field=content]")
    bad.wait_for()
    assert bad.inner_text().startswith("服务内容：")
    row.locator("[data-testid=objection-content]").fill(
        "该志愿者部分补录时长缺少签到记录，请核实。"
    )
    row.locator("[data-action=object]").click()
    filed = row.locator("[data-testid=objection-done][data-id]")
    filed.wait_for()
    oid = filed.get_attribute("data-id")
    shot(page, "commendation-notice")

    got = ok(kit.http.get(f"{C}/nominations/{nid}", headers=kit.province))
    mine = [o for o in got["objections"] if o["id"] == oid]
    assert len(mine) == 1 and mine[0]["filed_by"] == "changan-admin"
    assert mine[0]["status"] == "OBJECTION_STATUS_OPEN"

    # The province, which opened the round, finds it among its objections.
    switch_user(page, kit.base, "sx-admin", f"{C}?round={rid}")
    objection = page.locator(f"[data-testid=objections] tr[data-id='{oid}']")
    objection.wait_for()
    assert objection.get_attribute("data-status") == "OBJECTION_STATUS_OPEN"
    assert "缺少签到记录" in objection.inner_text()


def test_a_county_rounds_notice_is_denied_outside_the_county(kit: Kit, page) -> None:  # type: ignore[no-untyped-def]
    """Yanta's own round: a township's collective on notice is public in
    Yanta, as if missing to Chang'an next door."""
    round_ = kit.round(kit.county, COUNTY, "雁塔区先进集体推选")
    rid = round_["id"]
    office = kit.account(kit.county, f"zhanghuzhai-office-{kit.tag}", TOWN,
                         "tenant_admin")  # fmt: skip
    n = ok(kit.http.post(f"{C}/nominations", headers=office, json={
        "round_id": rid, "category": "collective", "unit_division_code": TOWN,
        "nominee_name": f"漳浒寨街道志愿服务队{kit.tag}", "nominee_division_code": TOWN,
        "statement": "常态化开展社区助老与垃圾分类志愿服务。",
    }), 201)["nomination"]  # fmt: skip
    assert kit.review(kit.county, n["id"])["status"] == "NOMINATION_STATUS_APPROVED"
    ok(kit.http.post(f"{C}/rounds/{rid}/notice", headers=kit.county))

    changan = login(kit.base, "changan-admin")
    assert kit.http.get(f"{C}/rounds/{rid}/notice", headers=changan).status_code == 404
    resident = kit.account(kit.county, f"zhanghuzhai-resident-{kit.tag}",
                           TOWN, "volunteer")  # fmt: skip
    seen = ok(kit.http.get(f"{C}/rounds/{rid}/notice", headers=resident))
    assert [e["nomination_id"] for e in seen["entries"]] == [n["id"]]

    log_in(page, kit.base, "changan-admin", f"{C}/notice?round={rid}")
    page.wait_for_selector("[data-testid=denied]")
    assert page.locator("[data-testid=notice-entries]").count() == 0
    assert n["nominee_name"] not in page.locator("#view").inner_text()

    # Inside the county, a resident's account sees it.
    switch_user(page, kit.base, f"zhanghuzhai-resident-{kit.tag}",
                f"{C}/notice?round={rid}")  # fmt: skip
    row = page.locator(f"[data-testid=notice-entries] tr[data-id='{n['id']}']")
    row.wait_for()
    assert n["nominee_name"] in row.inner_text()
    assert page.locator("[data-testid=denied]").count() == 0
