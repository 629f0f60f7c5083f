"""Parsing CSV imports: header names in English or Chinese, the encodings
Chinese spreadsheets write, blank lines, and a refused header or size."""

from __future__ import annotations

import pytest

from services.common.errors import InvalidArgument
from services.gateway import imports


def test_chinese_or_english_headers_in_any_order() -> None:
    text = "手机号,姓名,区划代码,身份证号\n13900000001,王五,610113006,X\n\n"
    rows = imports.parse_volunteers(text)
    assert len(rows) == 1  # the blank line is not a row
    assert rows[0].number == 1
    assert rows[0].values == {
        "name": "王五", "id_number": "X", "phone": "13900000001",
        "home_division_code": "610113006",
    }  # fmt: skip
    english = imports.parse_volunteers(
        "name,id_number,phone,home_division_code,service_fields\n"
        "a,b,c,d,minors;elderly_care\n"
    )
    assert english[0].values["service_fields"] == "minors;elderly_care"


def test_gb18030_and_the_utf8_bom_are_read() -> None:
    text = "姓名,身份证号,手机号,区划代码\n张三,1,2,3\n"
    assert imports.decode(text.encode("gb18030")) == text
    assert imports.decode(b"\xef\xbb\xbf" + text.encode()) == text
    with pytest.raises(InvalidArgument) as err:
        imports.decode(b"\xff\xfe\xfa\x00\x81")
    assert err.value.rule == "file.encoding"


@pytest.mark.parametrize(
    ("text", "rule"),
    [("", "file.required"), ("姓名,手机号\n王五,1\n", "file.header")],
)
def test_a_bad_file_is_refused_before_any_row_runs(text: str, rule: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        imports.parse_volunteers(text)
    assert (err.value.field, err.value.rule) == ("file", rule)


def test_too_many_rows_are_refused_whole() -> None:
    head = "name,id_number,phone,home_division_code\n"
    text = head + "a,b,c,d\n" * (imports.MAX_ROWS + 1)
    with pytest.raises(InvalidArgument) as err:
        imports.parse_volunteers(text)
    assert err.value.rule == "file.max_rows"
    assert len(imports.parse_volunteers(head + "a,b,c,d\n" * 3)) == 3


def test_the_request_key_follows_the_file() -> None:
    assert imports.digest(b"a") == imports.digest(b"a") != imports.digest(b"b")


def test_hour_records_header_in_chinese_and_spreadsheet_times() -> None:
    text = (
        "志愿者编号,区划代码,组织名称,服务领域,服务内容,开始时间,结束时间,时长,补录原因\n"
        "ZY610000000001,610113006,站,文明创建,劝导,2026/11/01 09:00,"
        "2026-11-01 11:30,2,纸质台账\n"
    )
    [row] = imports.parse_hours(text)
    assert row.values["volunteer_number"] == "ZY610000000001"
    assert row.values["service_field"] == "文明创建"
    # A time without an offset, as a spreadsheet writes it, is China time;
    # one with an offset is passed on unchanged.
    assert imports._moment(row.values["session_start"]) == "2026-11-01T09:00+08:00"
    assert imports._moment("2026-11-01 11:30:00") == "2026-11-01T11:30:00+08:00"
    assert imports._moment("2026-11-01T09:00:00Z") == "2026-11-01T09:00:00Z"
    assert imports._hours("1.5") == 1.5 and imports._hours("二") != imports._hours("二")


def test_an_hour_file_without_a_volunteer_number_column_is_refused() -> None:
    with pytest.raises(InvalidArgument) as err:
        imports.parse_hours("区划代码,时长\n610113,2\n")
    assert (err.value.field, err.value.rule) == ("file", "file.header")
    assert "volunteer_number" in err.value.message_en
