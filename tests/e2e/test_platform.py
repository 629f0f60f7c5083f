"""The platform as `make run` starts it (`zhiyuan up`: registration api,
worker and gateway as processes), on its own database and vhost:
HTTP → gRPC → database → event → rollup and feed, and one trace across it."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import httpx
import pytest

from services.common.testing import wait_for
from tests.e2e.conftest import login, login_with
from tests.helpers import new_id_number, new_phone

pytestmark = pytest.mark.e2e


def verified_total(base: str, headers: dict, code: str) -> float:
    r = httpx.get(
        f"{base}/api/v1/rollups/registration",
        params={"division_code": code},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    return r.json()["rollup"]["total"]["metrics"]["volunteers_verified"]


def test_register_verify_then_province_sees_it(platform):
    base, env, procs = platform
    province, county = login(base, "sx-admin"), login(base, "yanta-admin")
    before = verified_total(base, province, "61")
    body = {
        "name": "李华",
        "id_number": new_id_number("610113"),
        "phone": new_phone(),
        "home_division_code": "610113004",
        "service_fields": ["elderly_care"],
    }
    created = httpx.post(f"{base}/api/v1/volunteers", json=body, headers=county)
    assert created.status_code == 201, created.text
    vol = created.json()["volunteer"]
    assert vol["id_number"].startswith("6101") and "*" in vol["id_number"]
    assert body["id_number"] not in created.text and body["phone"] not in created.text
    ok = httpx.post(f"{base}/api/v1/volunteers/{vol['id']}/verify", headers=county)
    assert ok.status_code == 200, ok.text
    assert verified_total(base, province, "61") == before + 1
    unknown = httpx.get(f"{base}/api/v1/rollups/nothing", headers=province)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "NOT_FOUND"

    def fed():  # type: ignore[no-untyped-def]
        r = httpx.get(
            f"{base}/api/v1/feed",
            params={"division_code": "610113004"},
            headers=province,
        )
        return [i for i in r.json()["items"] if vol["volunteer_number"] in i["summary"]]

    kinds = {
        i["event_type"]
        for i in wait_for(
            lambda: len(fed()) >= 2 and fed(), what="both events in the feed"
        )
    }
    assert kinds == {
        "registration.volunteer.registered",
        "registration.volunteer.verified",
    }
    # The county office cannot read its neighbour, through the gateway either.
    denied = httpx.get(
        f"{base}/api/v1/volunteers", params={"division_code": "610103"}, headers=county
    )
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "PERMISSION_DENIED"


def test_bad_input_is_a_400_naming_the_field(platform):
    base, _, _ = platform
    county = login(base, "yanta-admin")
    good = new_id_number("610113")
    bad = good[:17] + ("0" if good[17] != "0" else "1")  # wrong check character
    body = {
        "name": "李华",
        "id_number": bad,
        "phone": new_phone(),
        "home_division_code": "610113004",
    }
    r = httpx.post(f"{base}/api/v1/volunteers", json=body, headers=county)
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "id_number"
    assert r.json()["error"]["rule"] == "id_number.checksum"
    assert r.json()["error"]["message_zh"]


def test_one_trace_from_gateway_through_api_outbox_and_worker(platform):
    base, env, _ = platform
    county = login(base, "yanta-admin")
    traceparent = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"
    body = {
        "name": "赵敏",
        "id_number": new_id_number("610113"),
        "phone": new_phone(),
        "home_division_code": "610113005",
    }
    r = httpx.post(
        f"{base}/api/v1/volunteers",
        json=body,
        headers={**county, "traceparent": traceparent},
    )
    assert r.status_code == 201, r.text
    spans_file = Path(env["ZHIYUAN_SPANS_FILE"])

    def trace():  # type: ignore[no-untyped-def]
        spans = [json.loads(line) for line in spans_file.read_text().splitlines()]
        mine = [s for s in spans if s["trace_id"] == "ab" * 16]
        names = {s["name"] for s in mine}
        return (
            mine
            if any(
                n.startswith("consume registration.volunteer.registered") for n in names
            )
            else None
        )

    spans = wait_for(trace, timeout=30, what="the consumer span in the same trace")
    by_service = defaultdict(set)
    for s in spans:
        by_service[s["service"]].add(s["name"])
    assert {"gateway", "registration-api", "registration-worker"} <= set(by_service)
    assert any("RegisterVolunteer" in n for n in by_service["registration-api"])
    assert any(
        n.startswith("outbox publish") for n in by_service["registration-worker"]
    )
    # Parent links form one chain: every span's parent is in the trace,
    # except the root, whose parent is the caller's span.
    ids = {s["span_id"] for s in spans}
    roots = [s for s in spans if s["parent_id"] not in ids]
    assert [r["parent_id"] for r in roots] == ["cd" * 8]


def test_organisations_accounts_and_divisions_through_the_gateway(platform):
    base, _, _ = platform
    county = login(base, "yanta-admin")
    org = httpx.post(
        f"{base}/api/v1/organisations",
        headers=county,
        json={
            "name": "雁塔区助老服务队",
            "kind": "team",
            "division_code": "610113002",
            "service_fields": ["elderly_care"],
        },
    )
    assert org.status_code == 201, org.text
    listed = httpx.get(
        f"{base}/api/v1/organisations",
        headers=county,
        params={"division_code": "610113002"},
    ).json()["organisations"]
    assert org.json()["organisation"]["id"] in [o["id"] for o in listed]
    children = httpx.get(
        f"{base}/api/v1/divisions", headers=county, params={"parent_code": "610113"}
    ).json()["divisions"]
    assert {d["code"][:6] for d in children} == {"610113"} and len(children) == 10
    made = httpx.post(
        f"{base}/api/v1/accounts",
        headers=county,
        json={
            "username": "yanta-reviewer",
            "password": "reviewer-password",
            "scope_code": "610113",
            "roles": ["reviewer"],
        },
    )
    assert made.status_code == 201, made.text
    reviewer = login_with(base, "yanta-reviewer", "reviewer-password")
    me = httpx.get(f"{base}/api/v1/me", headers=reviewer).json()
    assert me["scope_code"] == "610113" and me["roles"] == ["reviewer"]
    # A reviewer reads but cannot verify volunteers.
    pending = httpx.get(
        f"{base}/api/v1/volunteers", headers=reviewer, params={"status": "pending"}
    ).json()["volunteers"]
    assert pending, "the demo seed leaves some volunteers pending"
    refused = httpx.post(
        f"{base}/api/v1/volunteers/{pending[0]['id']}/verify", headers=reviewer
    )
    assert refused.status_code == 403
    assert (
        httpx.get(
            f"{base}/api/v1/volunteers", headers={"authorization": "Bearer not-a-token"}
        ).status_code
        == 401
    )
