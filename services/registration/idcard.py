"""Resident ID numbers (居民身份证号码, GB 11643-1999).

An 18-character number: a 6-digit address code, an 8-digit birth date
(YYYYMMDD), a 3-digit sequence (odd for men, even for women) and a check
character computed from the first 17 digits. The number is personal
information: this module parses and checks it; storing it encrypted and
showing it masked is ``services.common.pii``'s job. Error messages never
repeat the number, since they end up in logs.

Example:
    >>> rid = parse_id_number("11010519491231002x", today=date(2024, 1, 1))
    >>> rid.birth_date, rid.sex, rid.age_on(date(2024, 1, 1))
    (datetime.date(1949, 12, 31), 'female', 74)
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from services.common.errors import InvalidArgument
from services.common.pii import mask_id_number

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
EARLIEST_BIRTH_DATE = date(1900, 1, 1)
# PIPL Art. 31: below this age a guardian must consent to registration.
GUARDIAN_CONSENT_AGE = 14

# Province-level parts of GB/T 2260 address codes, including Taiwan (71),
# Hong Kong (81) and Macao (82), whose residents can hold mainland-format
# numbers (e.g. residence permits) even though the division tree has no
# such nodes.
PROVINCE_CODES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23"}
    | {"31", "32", "33", "34", "35", "36", "37"}
    | {"41", "42", "43", "44", "45", "46"}
    | {"50", "51", "52", "53", "54"}
    | {"61", "62", "63", "64", "65"}
    | {"71", "81", "82"}
)
# Provinces with no nodes in the division tree: their codes are checked by
# the province part only.
OUTSIDE_TREE = frozenset({"71", "81", "82"})

Sex = Literal["male", "female"]


@dataclass(frozen=True, repr=False)
class ResidentId:
    """A checked resident ID number and what it encodes.

    ``repr`` shows only the masked number, so an object that lands in a log
    or a traceback does not leak the full number.

    Example:
        >>> rid = parse_id_number("11010519491231002X", today=date(2024, 1, 1))
        >>> rid
        ResidentId('1101**********002X')
        >>> rid.address_code
        '110105'
    """

    number: str

    @property
    def address_code(self) -> str:
        """The 6-digit county code of the place of first registration."""
        return self.number[:6]

    @property
    def birth_date(self) -> date:
        """The holder's date of birth."""
        n = self.number
        return date(int(n[6:10]), int(n[10:12]), int(n[12:14]))

    @property
    def sex(self) -> Sex:
        """``"male"`` when the 17th digit is odd, else ``"female"``."""
        return "male" if int(self.number[16]) % 2 else "female"

    def __repr__(self) -> str:
        return f"ResidentId({mask_id_number(self.number)!r})"

    def age_on(self, day: date) -> int:
        """Completed years of age on ``day``.

        Example:
            >>> rid = parse_id_number("11010519491231002X", today=date(2024, 1, 1))
            >>> rid.age_on(date(2019, 12, 30)), rid.age_on(date(2019, 12, 31))
            (69, 70)
        """
        born = self.birth_date
        if day < born:
            raise ValueError("the day precedes the birth date")
        had_birthday = (day.month, day.day) >= (born.month, born.day)
        return day.year - born.year - (0 if had_birthday else 1)

    def requires_guardian_consent(self, day: date) -> bool:
        """Whether the holder is under 14 on ``day`` (PIPL Art. 31).

        Example:
            >>> rid = parse_id_number(make_id_number("610113", date(2015, 6, 1), 1),
            ...                       today=date(2024, 1, 1))
            >>> rid.requires_guardian_consent(date(2024, 1, 1))
            True
        """
        return self.age_on(day) < GUARDIAN_CONSENT_AGE


def check_character(first17: str) -> str:
    """The check character for the first 17 digits of a number.

    Example:
        >>> check_character("11010519491231002")
        'X'
    """
    if len(first17) != 17 or not (first17.isascii() and first17.isdigit()):
        raise ValueError("the check character needs exactly 17 ASCII digits")
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARACTERS[total % 11]


def make_id_number(address_code: str, birth_date: date, sequence: int) -> str:
    """Compose a valid number (demo seeds and tests; odd ``sequence`` = male).

    Example:
        >>> make_id_number("110105", date(1949, 12, 31), 2)
        '11010519491231002X'
    """
    if not (
        len(address_code) == 6 and address_code.isascii() and address_code.isdigit()
    ):
        raise ValueError("the address code must be 6 ASCII digits")
    if address_code[:2] not in PROVINCE_CODES:
        raise ValueError(f"{address_code[:2]} is not a province code")
    if not 0 <= sequence <= 999:
        raise ValueError("the sequence must be between 0 and 999")
    first17 = f"{address_code}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def parse_id_number(
    value: str,
    *,
    today: date,
    field: str = "id_number",
    known_address_code: Callable[[str], bool] | None = None,
) -> ResidentId:
    """Normalise and check a resident ID number; raise on the first broken rule.

    Checks, in order: length, characters, check character, birth date, then
    address code. ``known_address_code`` may check the 6-digit code against
    the division tree; it must accept retired codes too, because a number
    keeps its original address code for life after divisions merge.

    Example:
        >>> parse_id_number(" 11010519491231002x ", today=date(2024, 1, 1)).number
        '11010519491231002X'
        >>> parse_id_number("11010519491231002", today=date(2024, 1, 1))
        Traceback (most recent call last):
        ...
        services.common.errors.InvalidArgument: id_number: must be 18 characters long / 身份证号码应为 18 位
    """  # noqa: E501
    # NFKC turns full-width digits and "Ｘ", common with Chinese IMEs, into ASCII.
    number = unicodedata.normalize("NFKC", value or "").strip().upper()
    if not number:
        raise InvalidArgument.required(field)
    if len(number) != 18:
        raise InvalidArgument(
            field,
            "id_number.length",
            "must be 18 characters long",
            "身份证号码应为 18 位",
        )
    body, last = number[:17], number[17]
    if not (body.isascii() and body.isdigit() and (last.isdigit() or last == "X")):
        raise InvalidArgument(
            field,
            "id_number.format",
            "must be 17 digits followed by a digit or X",
            "身份证号码应由 17 位数字加 1 位数字或 X 组成",
        )
    if check_character(body) != last:
        raise InvalidArgument(
            field,
            "id_number.checksum",
            "the check character does not match; please check for typos",
            "校验位不正确，请检查号码是否输入有误",
        )
    _check_birth_date(number[6:14], today, field)
    _check_address_code(number[:6], field, known_address_code)
    return ResidentId(number)


def _check_birth_date(text: str, today: date, field: str) -> None:
    try:
        born = date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise InvalidArgument(
            field,
            "id_number.birth_date",
            "the birth date is not a real calendar date",
            "出生日期不是有效的日期",
        ) from None
    if born > today:
        raise InvalidArgument(
            field,
            "id_number.birth_date_range",
            "the birth date lies in the future",
            "出生日期不能晚于今天",
        )
    if born < EARLIEST_BIRTH_DATE:
        raise InvalidArgument(
            field,
            "id_number.birth_date_range",
            "the birth date is before 1900-01-01",
            "出生日期不能早于 1900 年 1 月 1 日",
        )


def _check_address_code(
    code: str, field: str, known: Callable[[str], bool] | None
) -> None:
    if code[:2] not in PROVINCE_CODES:
        raise InvalidArgument(
            field,
            "id_number.address_code",
            "ID number: the first 2 digits are not a province code",
            "身份证号码：前 2 位不是有效的省级行政区划代码",
        )
    if code[:2] in OUTSIDE_TREE or known is None or known(code):
        return
    raise InvalidArgument(
        field,
        "id_number.address_code",
        "ID number: the address code (first 6 digits) is not a known county, "
        "current or retired",
        "身份证号码：前 6 位地址码不是现行或已撤销的县级行政区划代码",
    )
