"""The county office imports volunteers from CSV in the console (headless
Chromium): the progress bar fills, the bad row is reported with its field
and rule, the good rows are kept, and uploading the same file again
registers nobody twice. A screenshot of the report is kept."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.browser import shot
from tests.e2e.conftest import PASSWORD, login
from tests.helpers import new_id_number, new_phone

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
TOWN = "610113006"


def county_total(base: str, headers: dict) -> int:
    got = httpx.get(
        f"{base}/api/v1/volunteers",
        headers=headers,
        params={"division_code": "610113", "page_size": 1},
        timeout=30,
    )
    assert got.status_code == 200, got.text
    return int(got.json()["page"].get("total_size", 0))


def bad_checksum(number: str) -> str:
    last = "0" if number[-1] != "0" else "1"
    return number[:-1] + last


def csv_file() -> bytes:
    rows = [
        ("刘一", new_id_number("610113"), new_phone(), TOWN, "elderly_care"),
        ("陈二", new_id_number("610113"), new_phone(), TOWN, "environment;recycling"),
        ("张三", bad_checksum(new_id_number("610113")), new_phone(), TOWN, ""),
        ("李四", new_id_number("610113"), new_phone(), TOWN, "minors"),
    ]
    lines = ["姓名,身份证号,手机号,区划代码,服务领域"] + [",".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def upload(page, payload: bytes) -> None:  # type: ignore[no-untyped-def]
    page.set_input_files(
        "[data-testid=import-file]",
        files=[{"name": "volunteers.csv", "mimeType": "text/csv", "buffer": payload}],
    )
    page.click("[data-testid=import-start]")
    page.wait_for_selector("[data-testid=import-summary][data-imported]")


def test_csv_import_keeps_good_rows_and_reports_the_bad_one(platform, page) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    county = login(base, "yanta-admin")
    before = county_total(base, county)
    page.goto(f"{base}/console/#/import")
    page.fill("input[name=username]", "yanta-admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[data-testid=login-form] button[type=submit]")
    page.wait_for_selector("[data-testid=import-file]")

    payload = csv_file()
    upload(page, payload)
    summary = page.locator("[data-testid=import-summary]")
    assert summary.get_attribute("data-imported") == "3"
    assert summary.get_attribute("data-failed") == "1"
    progress = page.locator("[data-testid=import-progress]")
    assert progress.get_attribute("value") == progress.get_attribute("max") == "4"
    report = page.locator("[data-testid=import-report] tbody tr")
    assert report.count() == 1
    cells = report.first.locator("td").all_inner_texts()
    # The row as the spreadsheet shows it (the header is row 1), the field by
    # its label (the key kept as data).
    assert cells[0] == "4" and cells[1] == "身份证号"
    assert report.first.get_attribute("data-field") == "id_number"
    assert cells[2].startswith("id_number.") and cells[3]  # the rule and why
    shot(page, "import-report")
    assert county_total(base, county) == before + 3

    upload(page, payload)  # the same file again: no one twice
    assert summary.get_attribute("data-imported") == "0"
    assert summary.get_attribute("data-duplicates") == "3"
    assert summary.inner_text().startswith("已导入 0 ")
    assert county_total(base, county) == before + 3


def test_a_file_without_the_needed_columns_is_refused_whole(platform) -> None:  # type: ignore[no-untyped-def]
    base, _, _ = platform
    county = login(base, "yanta-admin")
    before = county_total(base, county)
    got = httpx.post(
        f"{base}/api/v1/imports/volunteers",
        headers={**county, "content-type": "text/csv"},
        content="姓名,手机号\n王五,13900000000\n".encode(),
        timeout=30,
    )
    assert got.status_code == 400
    error = got.json()["error"]
    assert (error["field"], error["rule"]) == ("file", "file.header")
    assert "身份证号" in error["message_zh"]
    assert county_total(base, county) == before


def test_rows_outside_the_importers_scope_are_refused_row_by_row(platform) -> None:  # type: ignore[no-untyped-def]
    """A county cannot register into a neighbouring county by import: that
    row fails with the scope rule, the good row is kept, the neighbour
    receives nobody."""
    base, _, _ = platform
    county, province = login(base, "yanta-admin"), login(base, "sx-admin")
    neighbour = httpx.get(
        f"{base}/api/v1/volunteers", headers=province,
        params={"division_code": "610116", "page_size": 1}, timeout=30,
    ).json()["page"].get("total_size", 0)  # fmt: skip
    before = county_total(base, county)
    body = (
        "姓名,身份证号,手机号,区划代码\n"
        f"吴本区,{new_id_number('610113')},{new_phone()},{TOWN}\n"
        f"郑邻区,{new_id_number('610116')},{new_phone()},610116001\n"
    )
    got = httpx.post(
        f"{base}/api/v1/imports/volunteers",
        headers={**county, "content-type": "text/csv"},
        content=body.encode(), timeout=60,
    )  # fmt: skip
    assert got.status_code == 200, got.text
    lines = [json.loads(x) for x in got.text.splitlines()]
    assert lines[0] == {"total": 2} and lines[-1]["imported"] == 1
    [refused] = [x for x in lines if x.get("ok") is False]
    assert (refused["row"], refused["field"]) == (3, "home_division_code")
    assert refused["rule"] == "home_division_code.scope"
    assert county_total(base, county) == before + 1
    after = httpx.get(
        f"{base}/api/v1/volunteers", headers=province,
        params={"division_code": "610116", "page_size": 1}, timeout=30,
    ).json()["page"].get("total_size", 0)  # fmt: skip
    assert after == neighbour
