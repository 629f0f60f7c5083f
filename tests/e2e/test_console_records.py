"""The console's hour records page (#/records, headless Chromium): a county
admin corrects an approved record with a reason and sees the correction and
the volunteer's totals move by exactly the difference; a correction without
a reason (or with hours out of bounds) is refused naming field and rule and
changes nothing; a certificate is issued, downloaded as a real PDF, verified
by number, revoked with a reason and then verified as revoked, the
certificate list following each step (and downloading, verifying and
revoking from its rows); a neighbouring county's admin sees neither the
record nor its data, nor the certificate in its list.
Screenshots ``record-correction`` and ``certificate`` are kept.

The platform is shared with the other e2e tests: every test makes its own
volunteer and record and asserts only on those."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.browser import shot
from tests.e2e.conftest import login
from tests.helpers import log_in, new_id_number, new_phone, ok

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
TOWN = "610113006"
CERT_NUMBER = re.compile(r"^ZYC-61-\d{4}-\d{6}-[A-Z2-9]{4}$")


def client(base: str, headers: dict) -> httpx.Client:
    return httpx.Client(base_url=f"{base}/api/v1", timeout=30, headers=headers)


def approved_record(base: str, county: dict, content: str) -> dict:
    """A new verified volunteer with one approved honour record of 1.75 h
    in a 2-hour session (so at most 2 h may be credited)."""
    with client(base, county) as http:
        vol = ok(http.post("/volunteers", json={
            "name": "吴更正", "id_number": new_id_number("610113"),
            "phone": new_phone(), "home_division_code": TOWN,
            "service_fields": ["elderly_care"],
        }), 201)["volunteer"]  # fmt: skip
        ok(http.post(f"/volunteers/{vol['id']}/verify"))
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
        record = ok(http.post("/hours/honour", json={
            "volunteer_id": vol["id"], "division_code": TOWN,
            "organisation_name": "雁塔区志愿者协会", "service_field": "elderly_care",
            "content": content, "session_start": start.isoformat(),
            "session_end": (start + timedelta(hours=2)).isoformat(), "hours": 1.75,
            "reason": "纸质签到表补录",
        }), 201)["record"]  # fmt: skip
        approved = ok(http.post(f"/hours/records/{record['id']}/approve"))["record"]
    assert approved["status"] == "RECORD_STATUS_APPROVED"
    return approved


def totals(base: str, headers: dict, volunteer_id: str) -> dict:
    with client(base, headers) as http:
        return ok(http.get(f"/hours/volunteers/{volunteer_id}/totals"))


def record_detail(base: str, headers: dict, record_id: str) -> dict:
    with client(base, headers) as http:
        return ok(http.get(f"/hours/records/{record_id}"))


def list_loaded(page, previous: str) -> str:  # type: ignore[no-untyped-def]
    """Wait for a records list other than the one stamped ``previous``."""
    page.wait_for_function(
        "old => { const t = document.querySelector('[data-testid=records-table]');"
        " return t && t.dataset.loaded && t.dataset.loaded !== old; }",
        arg=previous,
    )
    return page.get_attribute("[data-testid=records-table]", "data-loaded") or ""


def cert_list_loaded(page, previous: str) -> str:  # type: ignore[no-untyped-def]
    """Wait for a certificate list other than the one stamped ``previous``."""
    page.wait_for_function(
        "old => { const t = document.querySelector('[data-testid=cert-list-table]');"
        " return t && t.dataset.loaded && t.dataset.loaded !== old; }",
        arg=previous,
    )
    return page.get_attribute("[data-testid=cert-list-table]", "data-loaded") or ""


def cert_row(page, number: str):  # type: ignore[no-untyped-def]
    return page.locator(f"[data-testid=cert-row][data-number='{number}']")


def value(page, selector: str) -> float:  # type: ignore[no-untyped-def]
    return float(page.get_attribute(selector, "data-value") or "nan")


def test_correcting_an_approved_record_moves_the_totals(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    county = login(base, "yanta-admin")
    record = approved_record(base, county, "社区助老（更正测试）")
    vid = record["volunteer_id"]
    before = totals(base, county, vid)
    assert before["approved_hours"] == pytest.approx(1.75)

    log_in(page, base, "yanta-admin", f"/records/{record['id']}")
    page.wait_for_selector("[data-testid=correction-form]")
    detail = "[data-testid=record-detail]"
    assert page.get_attribute(detail, "data-status") == "RECORD_STATUS_APPROVED"
    assert float(page.get_attribute(detail, "data-effective") or 0) == 1.75
    assert "社区助老（更正测试）" in page.inner_text(detail)
    assert page.locator("[data-testid=corrections-empty]").count() == 1
    assert value(page, "[data-testid=totals-approved]") == pytest.approx(1.75)

    reason = "签到表复核：实际服务 1 小时 15 分钟"
    page.fill("[data-testid=correction-hours]", "1.25")
    page.fill("[data-testid=correction-reason]", reason)
    page.click("[data-testid=correction-submit]")
    row = page.locator("[data-testid=correction-row]")
    row.wait_for()
    assert row.count() == 1
    assert row.get_attribute("data-kind") == "CORRECTION_KIND_AMEND"
    assert float(row.get_attribute("data-previous") or 0) == 1.75
    assert float(row.get_attribute("data-new") or 0) == 1.25
    assert float(row.get_attribute("data-delta") or 0) == -0.5
    assert row.get_attribute("data-actor") == "yanta-admin"
    assert row.locator("td[data-col=change]").inner_text() == "1.75 → 1.25"
    assert row.locator("td[data-col=reason]").inner_text() == reason
    assert row.locator("td[data-col=actor]").inner_text() == "yanta-admin"
    assert float(page.get_attribute(detail, "data-effective") or 0) == 1.25
    # The totals on the page were reloaded, and the service agrees.
    assert value(page, "[data-testid=totals-approved]") == pytest.approx(1.25)
    assert "1.75 → 1.25" in page.inner_text("[data-testid=correction-notice]")
    shot(page, "record-correction")

    after = totals(base, county, vid)
    assert after["approved_hours"] - before["approved_hours"] == pytest.approx(-0.5)
    assert after["platform_total_hours"] - before["platform_total_hours"] == (
        pytest.approx(-0.5)
    )
    got = record_detail(base, county, record["id"])
    assert got["effective_hours"] == pytest.approx(1.25)
    fixes = [
        (c["previous_hours"], c["new_hours"], c["reason"], c["actor"])
        for c in got["corrections"]
    ]
    assert fixes == [(1.75, 1.25, reason, "yanta-admin")]

    # The list, filtered to the volunteer, shows the record's effective hours.
    page.click("[data-testid=volunteer-link]")
    listed = page.locator(f"[data-testid=records-table] tr[data-id='{record['id']}']")
    listed.wait_for()
    assert page.locator("[data-testid=records-table] tbody tr").count() == 1
    assert float(listed.get_attribute("data-effective") or 0) == 1.25

    # Reversing it entirely: the record is reversed and counts nothing.
    listed.locator("[data-action=open]").click()
    page.wait_for_selector("[data-testid=correction-form]")
    page.check("[data-testid=correction-mode-reverse]")
    page.fill("[data-testid=correction-reason]", "异议成立：当日未到岗")
    page.click("[data-testid=correction-submit]")
    page.wait_for_selector(f"{detail}[data-status=RECORD_STATUS_REVERSED]")
    assert page.locator("[data-testid=correction-row]").count() == 2
    assert page.locator("[data-testid=correction-form]").count() == 0
    assert page.locator("[data-testid=correction-closed]").count() == 1
    last = page.locator("[data-testid=correction-row]").nth(1)
    assert last.get_attribute("data-kind") == "CORRECTION_KIND_REVERSAL"
    assert float(last.get_attribute("data-delta") or 0) == -1.25
    final = totals(base, county, vid)
    assert final["approved_hours"] - before["approved_hours"] == pytest.approx(-1.75)

    # The list's filters: by volunteer number and status, in the form.
    page.click("[data-testid=back-to-list]")
    stamp = list_loaded(page, "")
    page.fill("[data-testid=records-volunteer]", record["volunteer_number"])
    page.select_option("[data-testid=records-status]", "RECORD_STATUS_REVERSED")
    page.click("[data-testid=records-apply]")
    stamp = list_loaded(page, stamp)
    rows = page.locator("[data-testid=records-table] tbody tr")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-id") == record["id"]
    assert rows.first.get_attribute("data-status") == "RECORD_STATUS_REVERSED"
    assert page.get_attribute("[data-testid=records-total]", "data-total") == "1"
    page.select_option("[data-testid=records-status]", "RECORD_STATUS_APPROVED")
    page.click("[data-testid=records-apply]")
    list_loaded(page, stamp)
    assert rows.count() == 0
    assert page.locator("[data-testid=records-empty]").is_visible()
    page.goto(f"{base}/console/#/records/{record['id']}")
    page.wait_for_selector("[data-testid=correction-row]")

    # In English the same history reads in English.
    page.click("[data-testid=lang]")
    page.wait_for_selector("[data-testid=correction-row]")
    kind = page.locator("[data-testid=correction-row] td[data-col=kind]").nth(1)
    assert kind.inner_text() == "Reversed"
    assert page.inner_text("[data-testid=nav-records]") == "Hours and certificates"


def test_a_refused_correction_names_field_and_rule_and_changes_nothing(
    platform, page
) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    county = login(base, "yanta-admin")
    record = approved_record(base, county, "社区助老（拒绝更正测试）")
    vid = record["volunteer_id"]
    before_totals = totals(base, county, vid)
    before = record_detail(base, county, record["id"])

    log_in(page, base, "yanta-admin", f"/records/{record['id']}")
    page.wait_for_selector("[data-testid=correction-form]")
    error = "[data-testid=correction-error]"
    cases = [
        ("1.25", "", "reason", "reason.required"),
        ("0", "录入错误", "new_hours", "new_hours.positive"),
        ("-1", "录入错误", "new_hours", "new_hours.positive"),
        ("5", "录入错误", "new_hours", "new_hours.max"),  # the session lasted 2 h
        ("1.75", "录入错误", "new_hours", "new_hours.unchanged"),
    ]
    for hours, reason, field, rule in cases:
        page.fill("[data-testid=correction-hours]", hours)
        page.fill("[data-testid=correction-reason]", reason)
        page.click("[data-testid=correction-submit]")
        shown = page.locator(f"{error}[data-rule='{rule}']")
        shown.wait_for()
        assert shown.get_attribute("data-field") == field
        text = shown.inner_text()
        label = {"reason": "原因", "new_hours": "更正后时长"}[field]
        assert text.startswith(f"{label}：") and len(text) > len(f"{label}：")
        assert page.locator("[data-testid=correction-row]").count() == 0

    # In English the service's English message is shown.
    page.click("[data-testid=lang]")
    page.wait_for_selector("[data-testid=correction-form]")
    page.fill("[data-testid=correction-hours]", "1")
    page.click("[data-testid=correction-submit]")
    page.locator(f"{error}[data-rule='reason.required']").wait_for()
    assert page.inner_text(error) == "Reason: a value is required"

    assert page.locator("[data-testid=corrections-empty]").count() == 1
    after = record_detail(base, county, record["id"])
    assert after["corrections"] == [] == before["corrections"]
    assert after["effective_hours"] == before["effective_hours"] == 1.75
    assert after["record"]["status"] == "RECORD_STATUS_APPROVED"
    assert (
        totals(base, county, vid)["approved_hours"] == before_totals["approved_hours"]
    )


def test_issue_download_verify_and_revoke_a_certificate(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    county = login(base, "yanta-admin")
    record = approved_record(base, county, "社区助老（证明测试）")
    vid = record["volunteer_id"]
    started = datetime.fromisoformat(record["started_at"])
    month = started.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")

    log_in(page, base, "yanta-admin", f"/records?volunteer={vid}")
    page.wait_for_selector("[data-testid=certificate-form]")
    assert page.input_value("[data-testid=cert-volunteer_id]") == vid
    page.wait_for_selector(f"[data-testid=records-table] tr[data-id='{record['id']}']")
    assert value(page, "[data-testid=totals-approved]") == pytest.approx(1.75)

    # Without an issuer the service refuses, naming the field.
    page.click("[data-testid=cert-submit]")
    refused = page.locator(
        "[data-testid=issue-error][data-rule='issuer_name.required']"
    )
    refused.wait_for()
    assert refused.inner_text().startswith("出具单位：")
    assert page.locator("[data-testid=certificate]").count() == 0

    # The office knows the volunteer by number, not by id: the form looks
    # the number up (exactly, inside the county).
    page.fill("[data-testid=cert-volunteer_id]", record["volunteer_number"])
    page.fill("[data-testid=cert-start_month]", month)
    page.fill("[data-testid=cert-end_month]", month)
    page.fill("[data-testid=cert-issuer_name]", "雁塔区文明办")
    page.fill("[data-testid=cert-person_in_charge]", "李主任")
    page.fill("[data-testid=cert-contact]", "029-88886666")
    page.click("[data-testid=cert-submit]")
    card = page.locator("[data-testid=issued] [data-testid=certificate]")
    card.wait_for()
    assert card.get_attribute("data-status") == "CERTIFICATE_STATUS_VALID"
    number = card.locator("[data-testid=certificate-number]").inner_text()
    assert CERT_NUMBER.match(number), number
    assert number in page.inner_text("[data-testid=issue-notice]")
    hours = card.locator("[data-testid=certificate-hours]").get_attribute("data-value")
    assert float(hours or 0) == 1.75
    facts = card.inner_text()
    assert "雁塔区文明办" in facts and "李主任" in facts and "yanta-admin" in facts
    assert "*" in facts  # the name and ID number are masked

    # The list of the volunteer's certificates shows it at once, newest first.
    row = cert_row(page, number)
    row.wait_for()
    assert page.get_attribute("[data-testid=cert-list]", "data-volunteer") == vid
    assert row.get_attribute("data-status") == "CERTIFICATE_STATUS_VALID"
    assert (
        page.locator("[data-testid=cert-row]").first.get_attribute("data-number")
        == number
    )
    assert (
        row.locator("td[data-col=name]").inner_text()
        == card.locator("[data-testid=certificate-facts] dd").nth(2).inner_text()
    )
    assert "*" in row.locator("td[data-col=name]").inner_text()
    assert float(row.locator("td[data-col=hours]").get_attribute("data-value")) == (
        1.75
    )
    assert row.locator("td[data-col=issuer]").inner_text() == "雁塔区文明办"
    assert row.locator("td[data-col=status]").inner_text() == "有效"
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    assert row.locator("td[data-col=issued]").get_attribute("data-value") == today
    assert row.locator("td[data-col=issued]").inner_text().strip()
    assert (
        row.locator("td[data-col=period]")
        .inner_text()
        .count(str(started.astimezone(ZoneInfo("Asia/Shanghai")).year))
        == 2
    )

    # The PDF: downloaded in the browser, and fetched with the token.
    with page.expect_download() as caught:
        card.locator("[data-testid=certificate-download]").click()
    download = caught.value
    assert download.suggested_filename == f"{number}.pdf"
    with open(download.path(), "rb") as f:
        assert f.read(5) == b"%PDF-"
    with client(base, county) as http:
        pdf = http.get(f"/certificates/{number}/pdf")
        assert pdf.status_code == 200, pdf.text
        assert pdf.headers["content-type"].startswith("application/pdf")
        assert pdf.content.startswith(b"%PDF")
        assert http.get(f"/certificates/{number}/pdf", headers={
            "authorization": ""}).status_code == 401  # fmt: skip

    # Verify by number: valid.
    page.fill("[data-testid=verify-number]", number)
    page.click("[data-testid=verify-submit]")
    page.wait_for_selector("[data-testid=verify-result][data-status=valid]")
    assert value(page, "[data-testid=verify-hours]") == pytest.approx(1.75)
    assert number in page.inner_text("[data-testid=verify-result]")
    shot(page, "certificate")

    # Revoking needs a reason; without one nothing changes.
    card.locator("[data-testid=certificate-revoke]").click()
    no_reason = card.locator(
        "[data-testid=certificate-error][data-rule='reason.required']"
    )
    no_reason.wait_for()
    assert no_reason.get_attribute("data-field") == "reason"
    status = httpx.get(f"{base}/api/v1/certificates/{number}/verify", timeout=30)
    assert ok(status)["status"] == "CERTIFICATE_STATUS_VALID"

    card.locator("[data-testid=revoke-reason]").fill("时长记录更正后重新开具")
    card.locator("[data-testid=certificate-revoke]").click()
    revoked = page.locator(
        "[data-testid=issued] [data-testid=certificate]"
        "[data-status=CERTIFICATE_STATUS_REVOKED]"
    )
    revoked.wait_for()
    assert "时长记录更正后重新开具" in revoked.inner_text()
    assert revoked.locator("[data-testid=certificate-revoke]").count() == 0
    # ... and so does its row in the list, which no longer offers a revocation.
    page.wait_for_selector(
        f"[data-testid=cert-row][data-number='{number}']"
        "[data-status=CERTIFICATE_STATUS_REVOKED]"
    )
    assert row.locator("td[data-col=status]").inner_text() == "已撤销"
    assert row.locator("[data-action=revoke]").count() == 0

    # Verify again: revoked, in the page and for anyone without a token.
    page.click("[data-testid=verify-submit]")
    page.wait_for_selector("[data-testid=verify-result][data-status=revoked]")
    assert page.get_attribute("[data-testid=verify-status]", "data-value") == (
        "CERTIFICATE_STATUS_REVOKED"
    )
    public = ok(httpx.get(f"{base}/api/v1/certificates/{number}/verify", timeout=30))
    assert public["status"] == "CERTIFICATE_STATUS_REVOKED"

    # A malformed number is refused naming the field.
    page.fill("[data-testid=verify-number]", "ZYC-BAD")
    page.click("[data-testid=verify-submit]")
    bad = page.locator("[data-testid=verify-error][data-rule='number.format']")
    bad.wait_for()
    assert bad.inner_text().startswith("证明编号：")


def test_the_certificate_list_downloads_verifies_and_revokes_by_row(
    platform, page
) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    county = login(base, "yanta-admin")
    record = approved_record(base, county, "社区助老（证明列表测试）")
    vid = record["volunteer_id"]
    with client(base, county) as http:
        body = {
            "volunteer_id": vid, "issuer_name": "雁塔区志愿者协会",
            "person_in_charge": "王建国", "contact": "029-88886666",
        }  # fmt: skip
        older = ok(http.post("/certificates", json=body), 201)["certificate"]
        newer = ok(http.post("/certificates", json=body), 201)["certificate"]

    log_in(page, base, "yanta-admin", f"/records?volunteer={vid}")
    cert_row(page, newer["number"]).wait_for()
    rows = page.locator("[data-testid=cert-row]")
    assert [rows.nth(i).get_attribute("data-number") for i in range(rows.count())] == [
        newer["number"],
        older["number"],
    ]
    assert page.get_attribute("[data-testid=cert-list-total]", "data-total") == "2"
    row = cert_row(page, newer["number"])

    with page.expect_download() as caught:
        row.locator("[data-action=download]").click()
    assert caught.value.suggested_filename == f"{newer['number']}.pdf"
    with open(caught.value.path(), "rb") as f:
        assert f.read(5) == b"%PDF-"

    row.locator("[data-action=verify]").click()
    page.wait_for_selector(
        f"[data-testid=verify-result][data-status=valid][data-number='{newer['number']}']"
    )

    # Revoking from the row needs a reason; with one the row turns revoked.
    row.locator("[data-action=revoke]").click()
    revoke_row = page.locator(
        f"[data-testid=cert-revoke-row][data-number='{newer['number']}']"
    )
    revoke_row.locator("[data-testid=certificate-revoke]").click()
    revoke_row.locator(
        "[data-testid=certificate-error][data-rule='reason.required']"
    ).wait_for()
    assert row.get_attribute("data-status") == "CERTIFICATE_STATUS_VALID"
    revoke_row.locator("[data-testid=revoke-reason]").fill("重复开具")
    revoke_row.locator("[data-testid=certificate-revoke]").click()
    page.wait_for_selector(
        f"[data-testid=cert-row][data-number='{newer['number']}']"
        "[data-status=CERTIFICATE_STATUS_REVOKED]"
    )
    assert cert_row(page, older["number"]).get_attribute("data-status") == (
        "CERTIFICATE_STATUS_VALID"
    )
    cert_row(page, newer["number"]).locator("[data-action=verify]").click()
    page.wait_for_selector(
        f"[data-testid=verify-result][data-status=revoked][data-number='{newer['number']}']"
    )
    public = httpx.get(f"{base}/api/v1/certificates/{newer['number']}/verify")
    assert ok(public)["status"] == "CERTIFICATE_STATUS_REVOKED"

    # The status filter: only the valid one, then only the revoked one.
    stamp = page.get_attribute("[data-testid=cert-list-table]", "data-loaded") or ""
    page.select_option("[data-testid=cert-list-status]", "CERTIFICATE_STATUS_VALID")
    stamp = cert_list_loaded(page, stamp)
    assert (
        rows.count() == 1
        and rows.first.get_attribute("data-number") == (older["number"])
    )
    page.select_option("[data-testid=cert-list-status]", "CERTIFICATE_STATUS_REVOKED")
    cert_list_loaded(page, stamp)
    assert (
        rows.count() == 1
        and rows.first.get_attribute("data-number") == (newer["number"])
    )

    # In English the list reads in English.
    page.click("[data-testid=lang]")
    cert_row(page, older["number"]).wait_for()
    assert (
        cert_row(page, older["number"]).locator("td[data-col=status]").inner_text()
        == "Valid"
    )
    shot(page, "certificate-list")


def test_a_neighbouring_county_sees_nothing_of_the_record(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    yanta, changan = login(base, "yanta-admin"), login(base, "changan-admin")
    record = approved_record(base, yanta, "社区助老（跨区测试）")
    vid = record["volunteer_id"]
    # The record exists and its owner sees it by the same query.
    with client(base, yanta) as http:
        mine = ok(http.get("/hours/records", params={"volunteer_id": vid}))
        number = ok(http.post("/certificates", json={
            "volunteer_id": vid, "issuer_name": "雁塔区志愿者协会",
            "person_in_charge": "王建国", "contact": "029-88886666",
        }), 201)["certificate"]["number"]  # fmt: skip
        certs = ok(http.get("/certificates", params={"volunteer_id": vid}))
        latest = ok(http.get("/certificates"))
    assert [r["id"] for r in mine["records"]] == [record["id"]]
    assert [c["number"] for c in certs["certificates"]] == [number]
    assert number in {c["number"] for c in latest["certificates"]}
    with client(base, changan) as http:
        assert http.get(f"/hours/records/{record['id']}").status_code == 404
        theirs = ok(http.get("/hours/records", params={"volunteer_id": vid}))
        their_certs = ok(http.get("/certificates", params={"volunteer_id": vid}))
        their_latest = ok(http.get("/certificates", params={"page_size": 500}))
        outside = http.get("/certificates", params={"division_code": "610113"})
        assert http.get(f"/certificates/{number}/pdf").status_code == 404
    assert theirs["records"] == [] and int(theirs["page"]["total_size"]) == 0
    assert their_certs.get("certificates", []) == []
    assert int(their_certs["page"].get("total_size", 0)) == 0
    assert number not in {c["number"] for c in their_latest.get("certificates", [])}
    assert all(
        c["division_code"].startswith("610116")
        for c in their_latest.get("certificates", [])
    )
    assert outside.status_code == 403
    assert outside.json()["error"]["field"] == "division_code"

    log_in(page, base, "changan-admin", f"/records/{record['id']}")
    page.wait_for_selector("[data-testid=record-not-found], [data-testid=denied]")
    html = page.content()
    for secret in (record["content"], record["volunteer_number"], vid):
        assert secret not in html
    assert page.locator("[data-testid=record-detail]").count() == 0
    assert page.locator("[data-testid=correction-form]").count() == 0

    # Filtered to the volunteer, their list is empty and shows no totals.
    page.goto(f"{base}/console/#/records?volunteer={vid}")
    stamp = list_loaded(page, "")
    page.wait_for_selector("[data-testid=records-empty]")
    assert page.get_attribute("[data-testid=records-total]", "data-total") == "0"
    assert page.locator(f"tr[data-id='{record['id']}']").count() == 0
    assert page.locator("[data-testid=totals-empty]").count() == 1
    assert record["content"] not in page.content()
    # Nor does their certificate list show the certificate yanta issued.
    page.wait_for_selector("[data-testid=cert-list-empty]")
    assert page.get_attribute("[data-testid=cert-list-total]", "data-total") == "0"
    assert page.locator("[data-testid=cert-row]").count() == 0
    assert number not in page.content()

    # Unfiltered, every record listed lies in Chang'an, never this one.
    page.goto(f"{base}/console/#/records")
    list_loaded(page, stamp)
    assert page.locator(f"tr[data-id='{record['id']}']").count() == 0
    divisions = page.locator("[data-testid=records-table] td[data-col=division]")
    assert all(d.startswith("610116") for d in divisions.all_inner_texts())
    assert page.get_attribute("[data-testid=cert-list]", "data-volunteer") == ""
    assert cert_row(page, number).count() == 0 and number not in page.content()
    issuers = page.locator("[data-testid=cert-row]")
    assert all(
        (issuers.nth(i).get_attribute("data-division") or "").startswith("610116")
        for i in range(issuers.count())
    )
    # And a division outside their scope is the denied page.
    page.goto(f"{base}/console/#/records?division=610113")
    page.wait_for_selector("[data-testid=denied]")
    assert record["content"] not in page.content()
