"""The national record format (services/common/record_format.py): encode
then decode gives the same objects; each bad field is reported on its line
by path and rule, in English and Chinese; the header is checked first."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.common import record_format as fmt

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def volunteer(**basic: Any) -> dict[str, Any]:
    return {
        "basic": {
            "name": "张三", "id_type": "resident_id",
            "id_number": "1101**********002X", "id_number_masked": True,
            "volunteer_number": "ZY610000000042", "national_volunteer_number": "",
            "home_division_code": "610113005", **basic,
        },
        "services": [{
            "record_id": "R1", "activity_name": "敬老院陪伴",
            "organisation_name": "雁塔区志愿者协会", "division_code": "610113005",
            "place": "小寨路街道", "service_date": "2026-03-01",
            "started_at": "2026-03-01T09:00:00+08:00",
            "ended_at": "2026-03-01T11:30:00+08:00", "recipients": ["王奶奶"],
            "content": "敬老院陪伴", "service_field": "elderly_care", "hours": 2.5,
            "effective_hours": 2.5, "evaluation_score": 5,
            "evaluation_comment": "认真负责", "activity_lead": "李队长",
            "recorder": "yanta-admin", "status": "approved",
        }],
        "training": [{"course_title": "急救培训", "session_id": "S1",
                      "started_at": "2026-02-01T09:00:00+08:00",
                      "ended_at": "2026-02-01T12:00:00+08:00", "hours": 3}],
        "awards": [{"kind": "star_rating", "title": "1 星级志愿者",
                    "awarded_on": "2026-05-01", "division_code": "610113"}],
        "certificates": [{"number": "ZYC-61-2026-000042-K7QX",
                          "issued_on": "2026-06-01", "hours": 2.5,
                          "issuer_name": "雁塔区志愿者协会",
                          "service_content": "敬老院陪伴", "status": "valid"}],
    }  # fmt: skip


def test_encode_then_decode_gives_the_same_objects() -> None:
    head = fmt.header("610113", NOW, 1, period=(date(2026, 1, 1), date(2026, 12, 31)))
    text = fmt.encode(head, [volunteer()])
    lines = text.splitlines()
    assert len(lines) == 2 and text.endswith("\n")
    assert "张三" in lines[1]  # UTF-8 as is, not \u-escaped
    got_head, got = fmt.decode(lines)
    assert got_head == head
    assert got_head["exported_at"] == "2026-12-06T12:00:00Z"
    assert got_head["period"] == {"from": "2026-01-01", "to": "2026-12-31"}
    assert len(got) == 1 and got[0].number == 2 and got[0].problems == []
    assert got[0].volunteer == {"type": "volunteer", **volunteer()}


def test_blank_lines_are_skipped_and_line_numbers_kept() -> None:
    text = fmt.encode(fmt.header("6101", NOW, 2), [volunteer(), volunteer()])
    lines = text.splitlines()
    _, got = fmt.decode([lines[0], "", lines[1], "  ", lines[2]])
    assert [line.number for line in got] == [3, 5]


def test_a_malformed_line_is_reported_on_its_line_and_the_rest_read() -> None:
    lines = fmt.encode(fmt.header("6101", NOW, 2), [volunteer()]).splitlines()
    _, got = fmt.decode([*lines, '{"type": "volunteer", "basic": ', "[1, 2]"])
    assert got[0].problems == []
    assert [(p.line, p.field, p.rule) for p in got[1].problems] == [
        (3, "line", "line.json")
    ]
    assert [(p.line, p.field, p.rule) for p in got[2].problems] == [
        (4, "type", "line.type")
    ]
    assert got[1].problems[0].message_zh == "该行不是有效的 JSON"


@pytest.mark.parametrize(
    ("change", "where", "rule"),
    [
        (("services", 0, "started_at", "2026-03-01 09:00"),
         "services[0].started_at", "started_at.time"),
        (("services", 0, "hours", "2.5"), "services[0].hours", "hours.number"),
        (("services", 0, "status", "done"), "services[0].status", "status.known"),
        (("services", 0, "ended_at", "2026-03-01T08:00:00+08:00"),
         "services[0].ended_at", "ended_at.after_start"),
        (("services", 0, "evaluation_score", 9), "services[0].evaluation_score",
         "evaluation_score.range"),
        (("services", 0, "division_code", "61011"), "services[0].division_code",
         "division_code.code"),
        (("services", 0, "content", ""), "services[0].content", "content.required"),
        (("training", 0, "hours", None), "training[0].hours", "hours.required"),
        (("certificates", 0, "issued_on", "2026/06/01"),
         "certificates[0].issued_on", "issued_on.date"),
        (("basic", None, "volunteer_number", "610000000042"),
         "basic.volunteer_number", "volunteer_number.format"),
        (("basic", None, "id_number", "1101"), "basic.id_number",
         "id_number.format"),
        (("basic", None, "id_type", "passport"), "basic.id_type", "id_type.known"),
        (("basic", None, "id_number_masked", "yes"), "basic.id_number_masked",
         "id_number_masked.bool"),
    ],
)  # fmt: skip
def test_each_bad_field_is_named_with_its_rule(
    change: tuple[str, int | None, str, Any], where: str, rule: str
) -> None:
    obj = volunteer()
    section, index, name, value = change
    target = obj[section] if index is None else obj[section][index]
    target[name] = value
    problems = fmt.check_volunteer(7, obj)
    assert [(p.line, p.field, p.rule) for p in problems] == [(7, where, rule)]
    assert problems[0].message_en and problems[0].message_zh
    assert problems[0].to_dict()["field"] == where


def test_missing_basic_information_is_one_problem() -> None:
    obj = volunteer()
    del obj["basic"]
    assert [p.rule for p in fmt.check_volunteer(2, obj)] == ["basic.required"]


def test_a_section_that_is_not_a_list_is_named() -> None:
    obj = volunteer()
    obj["training"] = {"course_title": "x"}
    assert [(p.field, p.rule) for p in fmt.check_volunteer(2, obj)] == [
        ("training", "training.list")
    ]


@pytest.mark.parametrize(
    ("first", "rule"),
    [
        ("", "format.header"),
        ("not json", "line.json"),
        (json.dumps({"format": "other", "version": 1}), "format.name"),
        (json.dumps({"format": fmt.FORMAT, "version": 2}), "format.version"),
    ],
)
def test_a_file_without_this_header_is_refused_whole(first: str, rule: str) -> None:
    with pytest.raises(fmt.FormatError) as caught:
        fmt.decode([first] if first else [])
    assert caught.value.problem.rule == rule
    assert " / " in str(caught.value)  # English / Chinese


def test_services_are_ordered_by_start_then_id() -> None:
    a = {"started_at": "2026-03-02T09:00:00+08:00", "record_id": "B"}
    b = {"started_at": "2026-03-01T09:00:00+08:00", "record_id": "C"}
    c = {"started_at": "2026-03-01T09:00:00+08:00", "record_id": "A"}
    assert fmt.sorted_services([a, b, c]) == [c, b, a]


@pytest.mark.parametrize(
    ("value", "ok"),
    [("61", True), ("6101", True), ("610113", True), ("610113005", True),
     ("610113005001", True), ("61011", False), ("6101130051", False),
     ("", False), ("abc", False)],
)  # fmt: skip
def test_division_code_shapes(value: str, ok: bool) -> None:
    assert fmt.is_code(value) is ok


# -- training, awards and the national number (issue 14, part 8) ------------------


def _with(section: str, **over: Any) -> dict[str, Any]:
    v = volunteer()
    v[section][0].update(over)
    return v


@pytest.mark.parametrize(
    ("obj", "path", "rule"),
    [
        (volunteer(national_volunteer_number="NV-12345"),
         "basic.national_volunteer_number", "national_volunteer_number.format"),
        (volunteer(national_volunteer_number="ＮＶ１２３４５６"),
         "basic.national_volunteer_number", "national_volunteer_number.format"),
        (volunteer(national_volunteer_number="12345"),
         "basic.national_volunteer_number", "national_volunteer_number.format"),
        (_with("training", course_title="急救\r培训"), "training[0].course_title",
         "course_title.plain"),
        (_with("training", course_title="急" * 101), "training[0].course_title",
         "course_title.max_length"),
        (_with("training", hours=-1), "training[0].hours", "hours.range"),
        (_with("training", hours=0), "training[0].hours", "hours.range"),
        (_with("training", hours=3.01), "training[0].hours", "hours.range"),
        (_with("training", started_at=None, ended_at=None, hours=24.5),
         "training[0].hours", "hours.range"),
        (_with("training", started_at=None), "training[0].started_at",
         "started_at.required"),
        (_with("training", issuer_platform="有 空格"), "training[0].issuer_platform",
         "issuer_platform.format"),
        (_with("awards", title="优秀\u2028志愿者"), "awards[0].title", "title.plain"),
        (_with("awards", kind="Star Rating"), "awards[0].kind", "kind.format"),
        (_with("awards", awarded_on="2026-02-30"), "awards[0].awarded_on",
         "awarded_on.date"),
        (_with("awards", division_code="６１０１"), "awards[0].division_code",
         "division_code.code"),
        (volunteer(home_division_code="６１０１１３００５"),
         "basic.home_division_code", "home_division_code.code"),
    ],
)  # fmt: skip
def test_each_bad_training_award_or_number_is_named(
    obj: dict[str, Any], path: str, rule: str
) -> None:
    got = fmt.check_volunteer(2, obj)
    assert [(p.field, p.rule) for p in got] == [(path, rule)], got
    assert all(p.message_zh and p.message_en for p in got)


def test_good_training_awards_and_number_pass() -> None:
    v = volunteer(national_volunteer_number="NV0123456789ab")
    v["training"][0].update(hours=3, issuer_platform="sx-volunteer-cloud")
    v["awards"].append({"kind": "medal", "title": "silver", "awarded_on": None,
                        "division_code": None, "issuer_platform": "other"})  # fmt: skip
    v["training"].append({"course_title": "线上课程", "session_id": "x-1",
                          "hours": 24})  # fmt: skip
    assert fmt.check_volunteer(2, v) == []


def test_source_keys_differ_by_every_part() -> None:
    keys = {
        fmt.source_key("training", "a", "s1"),
        fmt.source_key("training", "b", "s1"),
        fmt.source_key("training", "a", "s2"),
        fmt.source_key("training", "a\x1fs", "1"),
    }
    assert len(keys) == 4 and all(len(k) == 64 for k in keys)
