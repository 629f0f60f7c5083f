"""The award round's review chain end to end through the gateway, with
every process as `make run` starts it: nominate → county → city → province
→ public notice → objection → award; recusal, the quota and the deadline
enforced on the way.

Time cannot be waited out (a notice lasts at least five working days), so
the test moves a round's stored dates into the past in commendation's own
database, exactly as the calendar would."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import httpx
import pytest
import sqlalchemy as sa

from tests.e2e.conftest import PASSWORD, login

pytestmark = pytest.mark.e2e
ROUND_BASE = "/commendation"


def ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def refused(response: httpx.Response, status: int, rule: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["rule"] == rule, error
    assert error["message_zh"] and error["message_en"]
    return error


def account(
    http: httpx.Client, admin: dict, username: str, scope: str, role: str
) -> dict:
    ok(
        http.post(
            "/accounts",
            headers=admin,
            json={"username": username, "password": PASSWORD,
                  "scope_code": scope, "roles": [role]},
        ),
        201,
    )  # fmt: skip
    return login(str(http.base_url).removesuffix("/api/v1/"), username)


def test_nomination_review_chain_notice_objection_award(platform):  # type: ignore[no-untyped-def]
    base, env, _ = platform
    http = httpx.Client(base_url=f"{base}/api/v1", timeout=60)
    province, county = login(base, "sx-admin"), login(base, "yanta-admin")
    changan = login(base, "changan-admin")
    tag = uuid.uuid4().hex[:6]  # the platform is shared with other e2e tests
    city_rev = account(http, province, f"xian-reviewer-{tag}", "6101", "reviewer")
    prov_rev = account(http, province, f"sx-reviewer-{tag}", "61", "reviewer")
    county_rev = account(http, county, f"yanta-reviewer-{tag}", "610113", "reviewer")
    c = f"{ROUND_BASE}"

    round_ = ok(
        http.post(
            f"{c}/rounds",
            headers=province,
            json={"division_code": "61", "title": "2026年度陕西省优秀志愿者推选",
                  "year": 2026, "quota_per_child": 1,
                  "deadline": (date.today() + timedelta(days=30)).isoformat()},
        ),
        201,
    )["round"]  # fmt: skip
    assert round_["categories"] == ["individual", "collective", "project", "station"]
    assert round_["notice_working_days"] == 5
    rid = round_["id"]

    where = {"division_code": "610113"}
    org = ok(http.get("/organisations", headers=county, params=where))
    org = org["organisations"][0]
    vols = ok(http.get("/volunteers", headers=county, params=where))["volunteers"]
    assert len(vols) >= 2

    def nominate(volunteer: dict, key: str) -> httpx.Response:
        return http.post(
            f"{c}/nominations",
            headers=county,
            json={"round_id": rid, "category": "individual",
                  "unit_division_code": org["division_code"],
                  "unit_organisation_id": org["id"],
                  "nominee_volunteer_id": volunteer["id"],
                  "statement": "长期坚持社区助老服务，事迹突出。", "request_id": key},
        )  # fmt: skip

    first = ok(nominate(vols[0], "first"), 201)["nomination"]
    again = ok(nominate(vols[0], "first"), 201)["nomination"]
    assert again["id"] == first["id"]  # a double submit is one nomination
    nid = first["id"]
    assert first["stage_codes"][-2:] == ["6101", "61"]
    assert first["current_stage_code"] == first["stage_codes"][0] == "610113"
    assert "approved_hours" in first["evidence"] or first["evidence"] == {}
    assert first["nominee_name"].endswith("*")  # masked, fetched from registration

    def review(
        who: dict, ident: str, decision: str, comment: str = ""
    ) -> httpx.Response:
        return http.post(f"{c}/nominations/{ident}/review", headers=who,
                         json={"decision": decision, "comment": comment})  # fmt: skip

    # The nominator never reviews its own nomination; the city waits its turn.
    refused(review(county, nid, "DECISION_APPROVE"), 403, "review.recusal")
    refused(review(city_rev, nid, "DECISION_APPROVE"), 403, "review.stage")
    # A reviewer related to the nominee steps aside and then cannot act.
    conflicted = account(http, county, f"yanta-reviewer-2-{tag}", "610113", "reviewer")
    ok(http.post(f"{c}/nominations/{nid}/conflicts", headers=conflicted,
                 json={"reason": "被推荐人系本人亲属"}))  # fmt: skip
    refused(review(conflicted, nid, "DECISION_APPROVE"), 403, "review.recusal")

    step = ok(review(county_rev, nid, "DECISION_APPROVE"))["nomination"]
    assert step["current_stage_code"] == "6101"
    step = ok(review(city_rev, nid, "DECISION_APPROVE"))["nomination"]
    assert step["current_stage_code"] == "61"
    done = ok(review(prov_rev, nid, "DECISION_APPROVE"))["nomination"]
    assert done["status"] == "NOMINATION_STATUS_APPROVED"
    assert [s["division_code"] for s in done["steps"]] == ["610113", "6101", "61"]

    # Quota: Xi'an has passed its one place up; a second is stopped at the city.
    second = ok(nominate(vols[1], "second"), 201)["nomination"]
    ok(review(county_rev, second["id"], "DECISION_APPROVE"))
    refused(review(city_rev, second["id"], "DECISION_APPROVE"), 409, "round.quota")
    held = ok(http.get(f"{c}/nominations/{second['id']}", headers=city_rev))
    assert held["nomination"]["current_stage_code"] == "6101"  # nothing half-done
    ok(review(city_rev, second["id"], "DECISION_RETURN", "名额已满，请补充材料后再议"))

    # Public notice, an objection from another district, its resolution.
    notice = ok(http.post(f"{c}/rounds/{rid}/notice", headers=province))
    assert notice["nominations_in_notice"] == 1
    ends = date.fromisoformat(notice["round"]["notice_ends_on"])
    assert (ends - date.fromisoformat(notice["round"]["notice_starts_on"])).days >= 4
    objection = ok(
        http.post(f"{c}/nominations/{nid}/objections", headers=changan,
                  json={"content": "服务时长与实际情况不符，请核实。"}),
        201,
    )["objection"]  # fmt: skip
    refused(http.post(f"{c}/rounds/{rid}/finalize", headers=province), 409,
            "notice.ended")  # fmt: skip

    engine = sa.create_engine(env["COMMENDATION_DATABASE_URL"])
    past = date.today() - timedelta(days=1)
    with engine.begin() as db:
        db.execute(sa.text("UPDATE award_rounds SET notice_ends_on=:d WHERE id=:r"),
                   {"d": past, "r": rid})  # fmt: skip
    refused(http.post(f"{c}/rounds/{rid}/finalize", headers=province), 409,
            "objection.resolved")  # fmt: skip
    resolve = f"{c}/objections/{objection['id']}/resolve"
    body = {"upheld": False, "resolution": "经核实，时长记录真实"}
    ok(http.post(resolve, headers=province, json=body))
    before = ok(http.get("/rollups/commendation", headers=province,
                         params={"division_code": "61"}))  # fmt: skip
    final = ok(http.post(f"{c}/rounds/{rid}/finalize", headers=province))
    assert (final["awarded"], final["round"]["status"]) == (1, "ROUND_STATUS_FINALIZED")
    after = ok(http.get("/rollups/commendation", headers=province,
                        params={"division_code": "61"}))  # fmt: skip
    metric = lambda r, m: r["rollup"]["total"]["metrics"].get(m, 0)  # noqa: E731
    assert metric(after, "awards_individual") == metric(before, "awards_individual") + 1
    got = ok(http.get(f"{c}/nominations/{nid}", headers=province))
    assert got["nomination"]["status"] == "NOMINATION_STATUS_AWARDED"
    assert got["objections"][0]["status"] == "OBJECTION_STATUS_DISMISSED"

    # Deadline: once it has passed, nothing more is nominated.
    late = ok(
        http.post(f"{c}/rounds", headers=province,
                  json={"division_code": "61", "title": "已截止的评选", "year": 2026,
                        "quota_per_child": 3,
                        "deadline": (date.today() + timedelta(days=2)).isoformat()}),
        201,
    )["round"]  # fmt: skip
    with engine.begin() as db:
        db.execute(sa.text("UPDATE award_rounds SET deadline=:d WHERE id=:r"),
                   {"d": past, "r": late["id"]})  # fmt: skip
    rid = late["id"]
    refused(nominate(vols[1], str(uuid.uuid4())), 409, "round.deadline")
    engine.dispose()
