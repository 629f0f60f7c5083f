"""The county office imports hour records from a paper register in the
console (headless Chromium) and finds volunteers by number.

Rows name volunteers by their volunteer number; each good row becomes an
approved record (the bulk import: the office certifies its register), a bad
row is reported with its field and rule (an unknown number, more hours than
the session lasted, a volunteer of the neighbouring county), and uploading
the same file again records nothing
twice. The search box finds a volunteer by number or by whole ID number,
and a neighbouring county's search finds nothing. Screenshot kept:
``import-hours-report``."""

from __future__ import annotations

import httpx
import pytest

from tests.browser import shot
from tests.e2e.conftest import login
from tests.helpers import log_in, new_id_number, new_phone, ok

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
TOWN = "610113006"
HEADER = (
    "志愿者编号,区划代码,组织名称,服务领域,服务内容,开始时间,结束时间,时长,补录原因"
)


def verified(base: str, headers: dict, town: str) -> tuple[dict, str]:
    """A new verified volunteer living in ``town``, and their ID number."""
    id_number = new_id_number(town[:6])
    vol = ok(
        httpx.post(
            f"{base}/api/v1/volunteers", headers=headers, timeout=30,
            json={"name": "赵补录", "id_number": id_number, "phone": new_phone(),
                  "home_division_code": town, "service_fields": ["civilisation"]},
        ),
        201,
    )["volunteer"]  # fmt: skip
    ok(
        httpx.post(
            f"{base}/api/v1/volunteers/{vol['id']}/verify",
            headers=headers,
            json={},
            timeout=30,
        )
    )
    return vol, id_number


def records_of(base: str, headers: dict, volunteer_id: str) -> list[dict]:
    return ok(
        httpx.get(
            f"{base}/api/v1/hours/records", headers=headers, timeout=30,
            params={"volunteer_id": volunteer_id, "page_size": 100},
        )
    ).get("records", [])  # fmt: skip


def upload(page, payload: bytes) -> None:  # type: ignore[no-untyped-def]
    page.evaluate(
        "document.querySelector('[data-testid=import-summary]')"
        ".removeAttribute('data-imported')"
    )
    page.set_input_files(
        "[data-testid=import-file]",
        files=[{"name": "hours.csv", "mimeType": "text/csv", "buffer": payload}],
    )
    page.click("[data-testid=import-start]")
    page.wait_for_selector("[data-testid=import-summary][data-imported]")


def test_hour_records_import_keeps_good_rows_and_reports_bad_ones(
    platform, page
) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    county, neighbour = login(base, "yanta-admin"), login(base, "changan-admin")
    vol, _ = verified(base, county, TOWN)
    other, _ = verified(base, neighbour, "610116001")
    number = vol["volunteer_number"]
    rows = [
        # 1: good, a spreadsheet time in China time, the field by its name
        f"{number},{TOWN},大雁塔街道志愿服务站,文明创建,文明交通劝导,"
        "2026-11-02 09:00,2026-11-02 11:00,2,纸质台账补录",
        # 2: nobody has this number
        f"ZY619999999999,{TOWN},站,civilisation,劝导,"
        "2026-11-03 09:00,2026-11-03 10:00,1,补录",
        # 3: five hours claimed for a two-hour session
        f"{number},{TOWN},站,civilisation,劝导,"
        "2026-11-04 09:00,2026-11-04 11:00,5,补录",
        # 4: good, given with an offset and the field's code
        f"{number},{TOWN},站,environment,垃圾分类督导,"
        "2026-11-05T14:00:00+08:00,2026-11-05T15:30:00+08:00,1.5,补录",
        # 5: the neighbouring county's volunteer cannot be named from here
        f"{other['volunteer_number']},{TOWN},站,civilisation,劝导,"
        "2026-11-06 09:00,2026-11-06 10:00,1,补录",
    ]
    payload = ("\ufeff" + "\n".join([HEADER, *rows]) + "\n").encode()

    log_in(page, base, "yanta-admin", "/import?kind=hours")
    page.wait_for_selector("section[data-kind=hours] [data-testid=import-file]")
    assert "志愿者编号" in page.inner_text("[data-testid=import-help]")
    upload(page, payload)
    summary = page.locator("[data-testid=import-summary]")
    assert summary.get_attribute("data-imported") == "2"
    assert summary.get_attribute("data-failed") == "3"
    progress = page.locator("[data-testid=import-progress]")
    assert progress.get_attribute("value") == progress.get_attribute("max") == "5"
    refused = page.locator("[data-testid=import-report] tbody tr").all()
    report = {
        cells[0]: cells[1:]
        for cells in (tr.locator("td").all_inner_texts() for tr in refused)
    }
    keys = {
        tr.get_attribute("data-row"): tr.get_attribute("data-field") for tr in refused
    }
    # Rows as the spreadsheet shows them (the header is row 1), fields by
    # their labels (the keys kept as data).
    assert set(report) == {"3", "4", "6"}
    assert keys == {"3": "volunteer_number", "4": "hours", "6": "volunteer_number"}
    assert report["3"][:2] == ["志愿者编号", "volunteer_number.known"]
    assert report["4"][0] == "时长" and report["4"][1].startswith("hours.")
    assert report["6"][:2] == ["志愿者编号", "volunteer_number.known"]
    assert all(r[2] for r in report.values())  # a reason in words, in Chinese
    shot(page, "import-hours-report")

    kept = records_of(base, county, vol["id"])
    assert sorted(r["hours"] for r in kept) == [1.5, 2.0]
    # An import is the office's certified register: approved records.
    assert {r["status"] for r in kept} == {"RECORD_STATUS_APPROVED"}
    assert {r["service_field"] for r in kept} == {"civilisation", "environment"}
    assert records_of(base, neighbour, other["id"]) == []

    upload(page, payload)  # the same file again: no new rows
    assert summary.get_attribute("data-imported") == "0"
    assert summary.get_attribute("data-duplicates") == "2"
    assert summary.inner_text().startswith("已导入 0 ")
    assert sorted(r["id"] for r in records_of(base, county, vol["id"])) == sorted(
        r["id"] for r in kept
    )


def test_volunteer_search_by_number_and_id_number_stays_in_scope(
    platform, page
) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    county = login(base, "yanta-admin")
    vol, id_number = verified(base, county, TOWN)

    log_in(page, base, "yanta-admin", "/volunteers")
    table = "[data-testid=volunteers-table]"
    page.wait_for_selector(f"{table}[data-loaded]", state="attached")
    for term in (vol["volunteer_number"], id_number):
        page.evaluate(
            f"document.querySelector('{table}').removeAttribute('data-loaded')"
        )
        page.fill("[data-testid=volunteers-search]", term)
        page.click("[data-testid=volunteers-search-form] button[type=submit]")
        page.wait_for_selector(f"{table}[data-loaded]", state="attached")
        rows = page.locator(f"{table} tbody tr")
        assert rows.count() == 1
        assert rows.first.get_attribute("data-id") == vol["id"]
        assert id_number not in page.content()  # shown masked only
    page.fill("[data-testid=volunteers-search]", "张三")
    page.click("[data-testid=volunteers-search-form] button[type=submit]")
    message = page.locator("[data-testid=volunteers-message][data-field=query]")
    message.wait_for()
    assert message.get_attribute("data-rule") == "query.format"

    # The neighbouring county, holding the whole ID number, finds nobody.
    neighbour = login(base, "changan-admin")
    for term in (vol["volunteer_number"], id_number):
        got = ok(
            httpx.get(
                f"{base}/api/v1/volunteers", headers=neighbour,
                params={"q": term}, timeout=30,
            )
        )  # fmt: skip
        assert got.get("volunteers", []) == []
