"""Insurance cover of projects: the pure rules (no I/O).

A tenant setting (``insurance.required_fields``, inherited down the tree)
names the service fields whose projects may not open recruiting without a
cover; the cover's period must hold every session (China-time dates).

Example:
    >>> spec = cover_spec("中国人寿", " pa-２０２６-001 ", "2026-12-01", "2026-12-31")
    >>> spec.policy_number, spec.starts_on.isoformat()
    ('PA-2026-001', '2026-12-01')
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from services.common.checks import day, text
from services.common.errors import FailedPrecondition, InvalidArgument
from services.common.rollup import CST
from services.common.service_fields import SERVICE_FIELDS
from services.common.times import utc

SETTING = "insurance.required_fields"
POLICY_NUMBER_MAX = 50
INSURER_MAX = 100
# Letters, digits and the separators insurers print in policy numbers.
_POLICY = re.compile(r"^[A-Z0-9][A-Z0-9\-/_.]*$")
ID_TYPES = {"resident_id": "居民身份证"}
CSV_HEADER = (
    "姓名",
    "证件类型",
    "证件号码",
    "志愿者编号",
    "项目",
    "保险公司",
    "保单号",
    "保险起期",
    "保险止期",
)


@dataclass(frozen=True)
class CoverSpec:
    insurer: str
    policy_number: str
    starts_on: date
    ends_on: date


def _printable(value: str, field: str) -> str:
    """Refuse control characters (a bare CR, a tab, a NUL): they break the
    insurer's CSV and are never part of a name or a number."""
    if any(unicodedata.category(c).startswith("C") for c in value):
        raise InvalidArgument(
            field,
            f"{field}.characters",
            "must not contain control characters such as a line break",
            "不能包含换行等控制字符",
        )
    return value


def cover_spec(
    insurer: str, policy_number: str, starts_on: str, ends_on: str
) -> CoverSpec:
    """Check a cover's fields. The policy number is NFKC-normalised, as ID
    numbers are elsewhere (full-width digits and letters from a Chinese IME
    become ASCII), and upper-cased."""
    name = _printable(text(insurer, "insurer", INSURER_MAX), "insurer")
    number = unicodedata.normalize("NFKC", policy_number or "")
    number = _printable(number.strip(), "policy_number").upper()
    number = text(number, "policy_number", POLICY_NUMBER_MAX)
    if not _POLICY.match(number):
        raise InvalidArgument(
            "policy_number",
            "policy_number.format",
            "only letters, digits and - / _ . are allowed",
            "保单号只能包含字母、数字及 - / _ .",
        )
    start = day(starts_on, "starts_on")
    end = day(ends_on, "ends_on")
    if end < start:
        raise InvalidArgument(
            "ends_on",
            "ends_on.after_start",
            "the cover must not end before it starts",
            "保险止期不能早于起期",
        )
    return CoverSpec(name, number, start, end)


def required(service_field: str, required_fields: Iterable[str]) -> bool:
    """Whether a project of ``service_field`` needs a cover to recruit.

    Example:
        >>> required("emergency", ["emergency", "large_events"])
        True
    """
    return service_field in set(required_fields)


def uncovered(
    starts_on: date, ends_on: date, sessions: Sequence[tuple[datetime, datetime]]
) -> list[date]:
    """China-time days of sessions the period does not hold (sorted).

    Example:
        >>> from datetime import UTC
        >>> s = (datetime(2026, 12, 5, 1, tzinfo=UTC), datetime(2026, 12, 5, 4, tzinfo=UTC))
        >>> uncovered(date(2026, 12, 1), date(2026, 12, 4), [s])
        [datetime.date(2026, 12, 5)]
    """  # noqa: E501
    out: set[date] = set()
    for start, end in sessions:
        for moment in (start, end):
            local = utc(moment).astimezone(CST).date()
            if not starts_on <= local <= ends_on:
                out.add(local)
    return sorted(out)


def check_cover(
    service_field: str,
    required_fields: Iterable[str],
    cover: CoverSpec | None,
    sessions: Sequence[tuple[datetime, datetime]],
) -> None:
    """Refuse opening recruitment (FAILED_PRECONDITION naming ``insurance``)
    for a project whose field needs a cover it lacks, or whose cover's
    period does not hold every session."""
    if not required(service_field, required_fields):
        return
    zh_field = SERVICE_FIELDS.get(service_field, service_field)
    if cover is None:
        raise FailedPrecondition(
            f"projects of the service field '{service_field}' need an insurance "
            "cover (insurer, policy number, period) before recruiting",
            f"“{zh_field}”类项目须先登记保险（保险公司、保单号、保险期间）才能发布招募",
            field="insurance",
            rule="insurance.required",
        )
    days = uncovered(cover.starts_on, cover.ends_on, sessions)
    if days:
        first = days[0].isoformat()
        period = f"{cover.starts_on.isoformat()} – {cover.ends_on.isoformat()}"
        raise FailedPrecondition(
            f"the insurance period {period} does not cover the session on {first}",
            f"保险期间 {period} 未覆盖 {first} 的活动场次",
            field="insurance",
            rule="insurance.period",
        )


def _cell(value: str) -> str:
    """A cell Excel will not run as a formula (OWASP's CSV injection rule:
    a leading = + - @ is quoted away).

    Example:
        >>> _cell("=1+1"), _cell("张三")
        ("'=1+1", '张三')
    """
    return f"'{value}" if value[:1] in ("=", "+", "-", "@") else value


@dataclass(frozen=True)
class RosterRow:
    """One covered volunteer as the insurer's list shows them."""

    name: str
    id_type: str
    id_number_masked: str
    volunteer_number: str


def roster_csv(
    project_title: str, cover: CoverSpec, rows: Iterable[RosterRow]
) -> bytes:
    """The insurer's list: UTF-8 with a BOM (Excel reads it as UTF-8),
    Chinese headers, CRLF line ends, personal data as registration gives it
    (the ID number masked).

    Example:
        >>> spec = cover_spec("人保", "P1", "2026-12-01", "2026-12-02")
        >>> roster_csv("防汛", spec, []).decode("utf-8-sig").splitlines()[0][:12]
        '姓名,证件类型,证件号码'
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for r in rows:
        writer.writerow(
            _cell(x)
            for x in (
                r.name,
                ID_TYPES.get(r.id_type, r.id_type),
                r.id_number_masked,
                r.volunteer_number,
                project_title,
                cover.insurer,
                cover.policy_number,
                cover.starts_on.isoformat(),
                cover.ends_on.isoformat(),
            )
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")
