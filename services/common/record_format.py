"""The national record format (全国志愿服务记录交换格式): a volunteer's whole
record as JSON Lines, for transfers between platforms and for gathering
records into the national system (2020 Measures Art. 4, MZ/T 061). See
``docs/record-format.md`` for every field, the rule it answers and where
Zhiyuan keeps it.

One header line, then one line per volunteer::

    {"format": "zhiyuan.national-record", "version": 1, "issuer_platform":
     "zhiyuan", "exported_at": "2026-12-06T21:00:00Z", "scope": "610113",
     "period": {"from": "2026-01-01", "to": "2026-12-31"}, "volunteers": 1}
    {"type": "volunteer", "basic": {...}, "services": [...], "training": [...],
     "awards": {...}, "certificates": [...]}

Pure: no I/O. :func:`encode` writes the lines, :func:`decode` reads them
back line by line, every problem naming the line, the field (a path such as
``services[2].started_at``) and the rule, in English and Chinese.

Example::

    text = encode(header("610113", now), [volunteer])
    head, lines = decode(text.splitlines())
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from services.common.errors import InvalidArgument

T = TypeVar("T")
FORMAT = "zhiyuan.national-record"
VERSION = 1
ID_TYPES = ("resident_id",)
STATUSES = ("pending", "approved", "rejected")
_NUMBER = re.compile(r"^ZY\d{12}\Z", re.ASCII)  # no full-width digits
_CODE = re.compile(r"^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})\Z", re.ASCII)
_MASKED = re.compile(r"^[0-9X*]{18}\Z")
# The national unified volunteer number: the docs give no layout, so a
# conservative one (ASCII letters and digits, 6 to 32); registration's
# record_identity keeps the same rule.
NATIONAL = re.compile(r"^[0-9A-Za-z]{6,32}\Z")
# An issuer platform: printable ASCII without spaces, at most 50.
ISSUER = re.compile(r"^[\x21-\x7e]{1,50}\Z")
# An award's kind on its platform: lower-case letters, digits and _.
AWARD_KIND = re.compile(r"^[a-z][a-z0-9_]{0,19}\Z")
MAX_TRAINING_HOURS = 24  # one training record, as activity's sessions
MAX_TITLE = 100
MAX_SOURCE_ID = 100

# Each section's fields: name → (kind, required). Kinds: str, number, int,
# time (RFC 3339), date (YYYY-MM-DD), code (division), list (of str).
BASIC: dict[str, tuple[str, bool]] = {
    "name": ("str", True),
    "id_type": ("str", True),
    "id_number": ("str", True),
    "id_number_masked": ("bool", True),
    "volunteer_number": ("str", True),
    "national_volunteer_number": ("str", False),
    "home_division_code": ("code", True),
}
SERVICE: dict[str, tuple[str, bool]] = {
    "record_id": ("str", True),
    "activity_name": ("str", True),
    "organisation_name": ("str", True),
    "division_code": ("code", True),
    "place": ("str", False),
    "service_date": ("date", True),
    "started_at": ("time", True),
    "ended_at": ("time", True),
    "recipients": ("list", False),
    "content": ("str", True),
    "service_field": ("str", True),
    "hours": ("number", True),
    "effective_hours": ("number", True),
    "evaluation_score": ("int", False),
    "evaluation_comment": ("str", False),
    "activity_lead": ("str", False),
    "recorder": ("str", True),
    "status": ("str", True),
}
TRAINING: dict[str, tuple[str, bool]] = {
    "course_title": ("str", True),
    "session_id": ("str", True),
    "started_at": ("time", False),
    "ended_at": ("time", False),
    "hours": ("number", True),
    # A record transferred in: the platform that first kept it.
    "issuer_platform": ("str", False),
}
AWARD: dict[str, tuple[str, bool]] = {
    "kind": ("str", True),
    "title": ("str", True),
    "awarded_on": ("date", False),
    "division_code": ("code", False),
    "issuer_platform": ("str", False),
}
CERTIFICATE: dict[str, tuple[str, bool]] = {
    "number": ("str", True),
    "issued_on": ("date", True),
    "hours": ("number", True),
    "issuer_name": ("str", False),
    "service_content": ("str", False),
    "status": ("str", True),
}
SECTIONS: dict[str, dict[str, tuple[str, bool]]] = {
    "services": SERVICE,
    "training": TRAINING,
    "awards": AWARD,
    "certificates": CERTIFICATE,
}
_KINDS_ZH = {
    "str": "文本", "bool": "true 或 false", "number": "数字", "int": "整数",
    "time": "RFC 3339 时间", "date": "YYYY-MM-DD 日期", "code": "行政区划代码",
    "list": "文本列表",
}  # fmt: skip


@dataclass(frozen=True)
class Problem:
    """One bad field of one line (the header is line 1)."""

    line: int
    field: str
    rule: str
    message_en: str
    message_zh: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line, "field": self.field, "rule": self.rule,
            "message_en": self.message_en, "message_zh": self.message_zh,
        }  # fmt: skip


@dataclass
class Line:
    """A volunteer line as read: its number in the file, the object, and
    its problems (empty when the line is good)."""

    number: int
    volunteer: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)


class FormatError(ValueError):
    """The file as a whole cannot be read (no or a wrong header)."""

    def __init__(self, problem: Problem):
        super().__init__(
            f"{problem.field}: {problem.message_en} / {problem.message_zh}"
        )
        self.problem = problem


def header(
    scope: str,
    exported_at: datetime,
    count: int,
    *,
    period: tuple[date, date] | None = None,
    issuer: str = "zhiyuan",
) -> dict[str, Any]:
    """The first line of a file."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "issuer_platform": issuer,
        "exported_at": exported_at.isoformat().replace("+00:00", "Z"),
        "scope": scope,
        "period": (
            {"from": period[0].isoformat(), "to": period[1].isoformat()}
            if period
            else None
        ),
        "volunteers": count,
    }


def encode_line(obj: Mapping[str, Any]) -> str:
    """One line: compact UTF-8 JSON (Chinese as is, not escaped), keys in
    the order given, no line break inside."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def encode(head: Mapping[str, Any], volunteers: Iterable[Mapping[str, Any]]) -> str:
    """The whole file as text, every line ending in ``\\n``."""
    lines = [encode_line(head)]
    lines += [encode_line({"type": "volunteer", **v}) for v in volunteers]
    return "\n".join(lines) + "\n"


def decode(lines: Iterable[str]) -> tuple[dict[str, Any], list[Line]]:
    """The header and every volunteer line (blank lines skipped), each line
    checked against the format; raises :class:`FormatError` when the first
    line is not this format's header."""
    it = iter(enumerate(lines, start=1))
    head: dict[str, Any] | None = None
    for number, raw in it:
        if raw.strip():
            head = _header(number, raw)
            break
    if head is None:
        raise FormatError(_problem(1, "format", "format.header", "the file is empty",
                                   "文件为空"))  # fmt: skip
    return head, list(_volunteers(it))


def _header(number: int, raw: str) -> dict[str, Any]:
    try:
        head = json.loads(raw.lstrip("\ufeff"))
    except json.JSONDecodeError as err:
        raise FormatError(_problem(number, "format", "line.json",
                                   f"the header is not JSON: {err.msg}",
                                   "首行不是有效的 JSON")) from err  # fmt: skip
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise FormatError(_problem(number, "format", "format.name",
                                   f"the first line must name the format {FORMAT}",
                                   f"首行须注明格式 {FORMAT}"))  # fmt: skip
    if head.get("version") != VERSION:
        raise FormatError(_problem(number, "version", "format.version",
                                   f"only version {VERSION} is understood",
                                   f"仅支持第 {VERSION} 版"))  # fmt: skip
    return head


def _volunteers(it: Iterator[tuple[int, str]]) -> Iterator[Line]:
    for number, raw in it:
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as err:
            yield Line(number, {}, [_problem(number, "line", "line.json",
                                             f"the line is not JSON: {err.msg}",
                                             "该行不是有效的 JSON")])  # fmt: skip
            continue
        if not isinstance(obj, dict) or obj.get("type") != "volunteer":
            yield Line(number, {}, [_problem(number, "type", "line.type",
                                             "a line must be a volunteer object",
                                             "每行须为一个志愿者对象")])  # fmt: skip
            continue
        yield Line(number, obj, check_volunteer(number, obj))


def check_volunteer(number: int, obj: Mapping[str, Any]) -> list[Problem]:
    """Every bad field of one volunteer object."""
    problems: list[Problem] = []
    basic = obj.get("basic")
    if not isinstance(basic, dict):
        missing = _problem(
            number, "basic", "basic.required", "basic information is missing",
            "缺少基本信息",
        )  # fmt: skip
        return [missing]
    problems += _fields(number, "basic", basic, BASIC)
    if basic.get("id_type") not in ID_TYPES:
        problems.append(_problem(number, "basic.id_type", "id_type.known",
                                 f"the ID type must be one of {ID_TYPES}",
                                 "证件类型须为 resident_id（居民身份证）"))  # fmt: skip
    ident = basic.get("id_number")
    if isinstance(ident, str) and not _MASKED.match(ident.upper()):
        problems.append(_problem(number, "basic.id_number", "id_number.format",
                                 "an ID number has 18 characters (digits, X or *)",
                                 "身份证号为 18 位（数字、X 或 *）"))  # fmt: skip
    vol = basic.get("volunteer_number")
    if isinstance(vol, str) and not _NUMBER.match(vol):
        problems.append(_problem(number, "basic.volunteer_number",
                                 "volunteer_number.format",
                                 "a volunteer number is ZY followed by 12 digits",
                                 "志愿者编号为 ZY 加 12 位数字"))  # fmt: skip
    for section, spec in SECTIONS.items():
        items = obj.get(section, [])
        if not isinstance(items, list):
            problems.append(_problem(number, section, f"{section}.list",
                                     "must be a list", "须为列表"))  # fmt: skip
            continue
        for i, item in enumerate(items):
            where = f"{section}[{i}]"
            if not isinstance(item, dict):
                problems.append(_problem(number, where, f"{section}.object",
                                         "must be an object", "须为对象"))  # fmt: skip
                continue
            problems += _fields(number, where, item, spec)
            if section == "services":
                problems += _service(number, where, item)
            elif section == "training":
                problems += _training(number, where, item)
            elif section == "awards":
                problems += _award(number, where, item)
    national = basic.get("national_volunteer_number")
    if isinstance(national, str) and national and not NATIONAL.match(national):
        problems.append(_problem(number, "basic.national_volunteer_number",
                                 "national_volunteer_number.format",
                                 "a national volunteer number is 6 to 32 ASCII"
                                 " letters and digits",
                                 "全国志愿者统一编号须为 6 至 32 位半角字母"
                                 "或数字"))  # fmt: skip
    return problems


def plain_text(value: str) -> bool:
    """Text fit for one line of a record: no line break (CR, LF, U+2028...)
    or other control character."""
    return not any(
        ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 or c in "\u2028\u2029" for c in value
    )


def text_problem(
    number: int, path: str, name: str, value: Any, most: int
) -> Problem | None:
    """A title or id: plain text of at most ``most`` characters."""
    if not isinstance(value, str) or not value:
        return None  # reported by its kind or as required
    if not plain_text(value):
        return _problem(number, path, f"{name}.plain",
                        "must be one line with no control characters",
                        "须为单行文本，不得含换行或控制字符")  # fmt: skip
    if len(value) > most:
        return _problem(number, path, f"{name}.max_length",
                        f"at most {most} characters",
                        f"最多 {most} 个字符")  # fmt: skip
    return None


def issuer_problem(number: int, path: str, value: Any) -> Problem | None:
    if isinstance(value, str) and value and not ISSUER.match(value):
        return _problem(number, path, "issuer_platform.format",
                        "an issuer platform is up to 50 ASCII characters, no spaces",
                        "来源平台须为最多 50 个半角字符，不含空格")  # fmt: skip
    return None


def hours_problem(
    number: int, path: str, value: Any, start: Any, end: Any
) -> Problem | None:
    """Training hours: more than 0, at most 24 and at most the length."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None  # reported by its kind
    longest = float(MAX_TRAINING_HOURS)
    first, last = _time(start), _time(end)
    if first and last and last > first:
        longest = min(longest, (last - first).total_seconds() / 3600)
    if not 0 < value <= longest + 1e-9:
        return _problem(number, path, "hours.range",
                        f"training hours must be more than 0 and at most"
                        f" {longest:g}",
                        f"培训时长须大于 0 且不超过 {longest:g} 小时")  # fmt: skip
    return None


def _training(number: int, where: str, item: Mapping[str, Any]) -> list[Problem]:
    got = [
        text_problem(number, f"{where}.course_title", "course_title",
                     item.get("course_title"), MAX_TITLE),
        text_problem(number, f"{where}.session_id", "session_id",
                     item.get("session_id"), MAX_SOURCE_ID),
        issuer_problem(number, f"{where}.issuer_platform", item.get("issuer_platform")),
        hours_problem(number, f"{where}.hours", item.get("hours"),
                      item.get("started_at"), item.get("ended_at")),
    ]  # fmt: skip
    start, end = _time(item.get("started_at")), _time(item.get("ended_at"))
    if start and end and end <= start:
        got.append(_problem(number, f"{where}.ended_at", "ended_at.after_start",
                            "the training must end after it starts",
                            "培训结束时间须晚于开始时间"))  # fmt: skip
    if end and item.get("started_at") in (None, ""):
        got.append(_problem(number, f"{where}.started_at", "started_at.required",
                            "an end needs a start",
                            "有结束时间时须有开始时间"))  # fmt: skip
    return [p for p in got if p is not None]


def _award(number: int, where: str, item: Mapping[str, Any]) -> list[Problem]:
    got = [
        text_problem(number, f"{where}.title", "title", item.get("title"), MAX_TITLE),
        issuer_problem(number, f"{where}.issuer_platform", item.get("issuer_platform")),
    ]
    kind = item.get("kind")
    if isinstance(kind, str) and kind and not AWARD_KIND.match(kind):
        got.append(_problem(number, f"{where}.kind", "kind.format",
                            "a kind is lower-case letters, digits and _"
                            " (at most 20)",
                            "类别须为小写字母、数字或下划线"
                            "（最多 20 个）"))  # fmt: skip
    return [p for p in got if p is not None]


def _service(number: int, where: str, item: Mapping[str, Any]) -> list[Problem]:
    out: list[Problem] = []
    if item.get("status") not in STATUSES:
        out.append(_problem(number, f"{where}.status", "status.known",
                            f"the status must be one of {STATUSES}",
                            "状态须为 pending、approved 或 rejected"))  # fmt: skip
    start, end = _time(item.get("started_at")), _time(item.get("ended_at"))
    if start and end and end <= start:
        out.append(_problem(number, f"{where}.ended_at", "ended_at.after_start",
                            "the service must end after it starts",
                            "服务结束时间须晚于开始时间"))  # fmt: skip
    score = item.get("evaluation_score")
    if isinstance(score, int) and not 1 <= score <= 5:
        out.append(_problem(number, f"{where}.evaluation_score",
                            "evaluation_score.range", "a score runs from 1 to 5",
                            "评价分值为 1 至 5"))  # fmt: skip
    return out


def _fields(
    number: int,
    where: str,
    obj: Mapping[str, Any],
    spec: Mapping[str, tuple[str, bool]],
) -> list[Problem]:
    out: list[Problem] = []
    for name, (kind, required) in spec.items():
        path = f"{where}.{name}"
        value = obj.get(name)
        if value is None or value == "":
            if required:
                out.append(_problem(number, path, f"{name}.required",
                                    "a value is required", "该项必填"))  # fmt: skip
            continue
        if not _fits(kind, value):
            out.append(_problem(number, path, f"{name}.{kind}",
                                f"must be a {kind} value",
                                f"须为{_KINDS_ZH[kind]}"))  # fmt: skip
    return out


def star_title(stars: int) -> str:
    """An approved star rating's award title, as the export writes it."""
    return f"{stars} 星级志愿者"


def source_key(*parts: str) -> str:
    """An imported record's idempotency key: the SHA-256 of its source
    (issuer platform, then what names the record there)."""
    import hashlib

    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _fits(kind: str, value: Any) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "time":
        return _time(value) is not None
    if kind == "date":
        return isinstance(value, str) and _date(value) is not None
    if kind == "code":
        return isinstance(value, str) and bool(_CODE.match(value))
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def is_code(value: str) -> bool:
    """Whether ``value`` has the shape of a division code (2, 4, 6, 9 or 12
    digits)."""
    return bool(_CODE.match(value))


def _time(value: Any) -> datetime | None:
    """An RFC 3339 time with its offset; anything else is None."""
    if not isinstance(value, str):
        return None
    try:
        got = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return got if got.tzinfo is not None else None


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None


def _problem(number: int, path: str, rule: str, en: str, zh: str) -> Problem:
    return Problem(number, path, rule, en, zh)


def sorted_services(items: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Service records in the file's order: by start, then record id."""
    return sorted(items, key=lambda r: (str(r["started_at"]), str(r["record_id"])))


@dataclass(frozen=True)
class ImportOutcome:
    """What a batch of imported training or awards came to."""

    imported: int
    duplicates: int
    outcomes: list[str]  # per entry: "imported" or "duplicate"


def entry_rules(i: int, check: Callable[[], T]) -> T:
    """Run one batch entry's checks; a refusal names ``entries[i].<field>``
    while its rule stays the field's own (``hours.range``)."""
    try:
        return check()
    except InvalidArgument as err:
        err.rule = (err.rule or "").removeprefix(f"entries[{i}].")
        raise


def require_plain(field: str, value: str) -> str:
    """``value`` is one line with no control characters, else refused."""
    if not plain_text(value):
        name = field.rsplit(".", 1)[-1]
        raise InvalidArgument(
            field, f"{name}.plain", "must be one line with no control characters",
            "须为单行文本，不得含换行或控制字符",
        )  # fmt: skip
    return value


def require_issuer(field: str, value: str) -> str:
    """The issuing platform's name: up to 50 ASCII characters, no spaces."""
    if not ISSUER.match(value):
        raise InvalidArgument(
            field, "issuer_platform.format", "up to 50 ASCII characters, no spaces",
            "须为最多 50 个半角字符，不含空格",
        )  # fmt: skip
    return value
