"""Recycling through the gateway, with every process as `make run` starts it
(migrated and seeded by `zhiyuan seed`): the Shaanxi rollup moves by exactly
what a county adds (a bin placed, its collection recorded), a pickup is
booked once however often it is sent, and errors are the gateway's JSON
naming the field. The platform is shared with the other e2e tests, which
add their own facts first, so figures are read before and compared after;
the seed's exact figures are tests/integration/test_recycling_rollup.py's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.e2e.conftest import login
from tests.helpers import new_phone, ok

pytestmark = pytest.mark.e2e
TOWN = "610113002"


def test_recycling_through_the_gateway(platform):
    base, _, _ = platform
    county, province = login(base, "yanta-admin"), login(base, "sx-admin")
    http = httpx.Client(base_url=f"{base}/api/v1", timeout=30)

    def shaanxi() -> dict:
        return ok(
            http.get(
                "/rollups/recycling", headers=province, params={"division_code": "61"}
            )
        )["rollup"]["total"]["metrics"]

    total = shaanxi()
    # Seeded (and maybe added to by earlier tests): never empty.
    assert total["events"] > 0 and total["kg_total"] > 0
    assert total["bins_deployed"] > 0
    assert total["drives"] > 0 and total["items_garments"] > 0

    code = f"E2E-{uuid.uuid4().hex[:8].upper()}"
    bin_ = ok(
        http.post(
            "/recycling/bins",
            headers=county,
            json={
                "code": code,
                "division_code": TOWN,
                "place": {"address": "小寨路街道社区服务站旁"},
            },
        ),
        201,
    )["bin"]
    assert bin_["status"] == "BIN_STATUS_DEPLOYED" and "latitude" not in bin_["place"]
    placed = shaanxi()
    assert placed["bins_deployed"] == total["bins_deployed"] + 1
    assert (placed["events"], placed["kg_total"]) == (
        total["events"],
        total["kg_total"],
    )
    got = ok(http.get(f"/recycling/bins/{bin_['id']}", headers=county))
    assert got["history"][0]["to_status"] == "BIN_STATUS_DEPLOYED"
    collected = ok(
        http.post(
            "/recycling/collections",
            headers=county,
            json={
                "division_code": TOWN,
                "organisation_name": "雁塔区爱为宝志愿服务队",
                "bin_codes": [code],
                "weights": {"textiles_kg": 80.5, "books_kg": 9.5},
            },
        ),
        201,
    )["collection"]
    assert collected["total_kg"] == 90.0
    after = shaanxi()
    assert after["events"] == total["events"] + 1
    assert after["kg_total"] == pytest.approx(total["kg_total"] + 90, abs=1e-6)
    assert after["bins_deployed"] == total["bins_deployed"] + 1
    assert (after["drives"], after["items_garments"]) == (
        total["drives"],
        total["items_garments"],
    )

    phone = new_phone()
    start = datetime.now(UTC) + timedelta(days=1)
    body = {
        "request_id": uuid.uuid4().hex,
        "division_code": TOWN,
        "contact_name": "赵桂英",
        "contact_phone": phone,
        "address": "西安市雁塔区小寨路街道长安中路12号院",
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(hours=3)).isoformat(),
    }
    first = ok(http.post("/recycling/bookings", headers=county, json=body), 201)
    again = ok(http.post("/recycling/bookings", headers=county, json=body), 201)
    assert first["created"] and not again.get("created", False)
    assert again["booking"]["id"] == first["booking"]["id"]
    assert phone not in str(first) and first["booking"]["contact_name"] == "赵**"

    bad = http.post(
        "/recycling/collections",
        headers=county,
        json={"division_code": TOWN, "organisation_name": "队", "weights": {}},
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["field"] == "weights"
    denied = http.get(
        "/recycling/bins", headers=county, params={"division_code": "610112"}
    )
    assert denied.status_code == 403
