"""The issue's end-to-end flow through the gateway, with every process as
`make run` starts it: publish → review → sign up → check in and out → the
hours record → approval → certificate PDF downloaded and verified publicly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import create_engine, text

from services.common.testing import wait_for
from tests.e2e.conftest import login
from tests.helpers import new_id_number, new_phone, ok

TOWN = "610113006"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def back_date_check_in(database_url: str, session_id: str, volunteer_id: str) -> None:
    """Move an open check-in 45 s into the past, in activity's own database, as
    if the volunteer had arrived then: service time without waiting for it.

    45 s is what the test used to sleep. The check-in stays inside the session
    and its check-in window (the session began 90 minutes ago), and nothing
    else was derived from the check-in time: the check-out (at the real now)
    and the hours record are computed from it as from one made 45 s earlier.
    """
    engine = create_engine(database_url)  # the owner: no row security applies
    try:
        with engine.begin() as conn:
            moved = conn.execute(
                text(
                    "UPDATE attendances"
                    " SET checked_in_at = checked_in_at - interval '45 seconds'"
                    " WHERE session_id = :s AND volunteer_id = :v"
                    " AND checked_out_at IS NULL"
                ),
                {"s": session_id, "v": volunteer_id},
            ).rowcount
    finally:
        engine.dispose()
    assert moved == 1, moved


def test_publish_to_certificate_through_the_gateway(platform):
    base, env, _ = platform
    county, province = login(base, "yanta-admin"), login(base, "sx-admin")
    http = httpx.Client(base_url=f"{base}/api/v1", timeout=30)

    # A verified volunteer; activity learns of it through registration's events.
    vol = ok(
        http.post(
            "/volunteers",
            headers=county,
            json={
                "name": "孙志愿",
                "id_number": new_id_number("610113"),
                "phone": new_phone(),
                "home_division_code": TOWN,
                "service_fields": ["elderly_care"],
            },
        ),
        201,
    )["volunteer"]
    ok(http.post(f"/volunteers/{vol['id']}/verify", headers=county))
    org = ok(
        http.get("/organisations", headers=county, params={"division_code": "610113"})
    )["organisations"][0]

    now = datetime.now(UTC)
    created = ok(
        http.post(
            "/projects",
            headers=county,
            json={
                "organisation_id": org["id"],
                "title": "社区助老陪伴",
                "place": "雁塔区某社区",
                "description": "陪伴独居老人",
                "service_field": "elderly_care",
                "kind": "PROJECT_KIND_SERVICE",
                "sessions": [
                    {
                        "starts_at": iso(now - timedelta(minutes=90)),
                        "ends_at": iso(now + timedelta(minutes=60)),
                        "capacity": 5,
                    }
                ],
                "recruit_starts_at": iso(now - timedelta(hours=2)),
                "recruit_ends_at": iso(now + timedelta(minutes=30)),
            },
        ),
        201,
    )["project"]
    pid, session = created["id"], created["sessions"][0]["id"]
    ok(http.post(f"/projects/{pid}/submit", headers=county))
    # The publisher may not approve its own project; the province may.
    assert http.post(f"/projects/{pid}/approve", headers=county).status_code == 403
    ok(http.post(f"/projects/{pid}/approve", headers=province))
    ok(http.post(f"/projects/{pid}/publish", headers=county))

    signed = wait_for(
        lambda: (
            (
                r := http.post(
                    f"/sessions/{session}/sign-ups",
                    headers=county,
                    json={"volunteer_id": vol["id"]},
                )
            ).status_code
            == 201
            and r
        ),
        timeout=30,
        what="sign-up once activity knows the verified volunteer",
    )
    assert signed.json()["sign_up"]["status"].endswith("CONFIRMED")
    ok(http.post(f"/projects/{pid}/start", headers=county))
    code = ok(http.get(f"/sessions/{session}/check-in-code", headers=county))["code"]
    ok(
        http.post(
            f"/sessions/{session}/check-in",
            headers=county,
            json={"volunteer_id": vol["id"], "code": code},
        )
    )
    # 0.01 h is the smallest unit recorded: 45 s of service, back-dated.
    back_date_check_in(env["ACTIVITY_DATABASE_URL"], session, vol["id"])
    code = ok(http.get(f"/sessions/{session}/check-in-code", headers=county))["code"]
    ok(
        http.post(
            f"/sessions/{session}/check-out",
            headers=county,
            json={"volunteer_id": vol["id"], "code": code},
        )
    )

    def pending():  # type: ignore[no-untyped-def]
        records = ok(
            http.get(
                "/hours/records", headers=county, params={"volunteer_id": vol["id"]}
            )
        )["records"]
        return [r for r in records if r["status"] == "RECORD_STATUS_PENDING"]

    record = wait_for(pending, timeout=30, what="the hours record from the check-out")[
        0
    ]
    assert 0 < record["hours"] <= 0.02
    ok(http.post(f"/hours/records/{record['id']}/approve", headers=county))
    totals = ok(http.get(f"/hours/volunteers/{vol['id']}/totals", headers=county))
    assert totals["approved_hours"] == record["hours"]

    cert = ok(
        http.post(
            "/certificates",
            headers=county,
            json={
                "volunteer_id": vol["id"],
                "division_code": "610113",
                "organisation_id": org["id"],
                "issuer_name": org["name"],
                "person_in_charge": "王主任",
                "handler": "李干事",
                "contact": "029-88888888",
            },
        ),
        201,
    )["certificate"]
    pdf = http.get(f"/certificates/{cert['number']}/pdf", headers=county)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    public = ok(httpx.get(f"{base}/api/v1/certificates/{cert['number']}/verify"))
    assert public["number"] == cert["number"] and public["hours"] == record["hours"]
    assert "孙志愿" not in str(public) and vol["id"] not in str(public)
    assert public["status"].endswith("VALID")
