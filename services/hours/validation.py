"""Request checks for hours: each raises INVALID_ARGUMENT naming the field
and the rule, before anything is read or written."""

from __future__ import annotations

import io
import math
import re
from datetime import datetime, timedelta
from decimal import Decimal

from PIL import Image

from services.common.checks import ident as ident
from services.common.checks import moment as moment
from services.common.checks import month
from services.common.checks import period as period
from services.common.checks import text as text
from services.common.errors import InvalidArgument
from services.common.service_fields import check_service_fields
from services.hours.domain import hours

# Control characters but the line break and the tab (NUL and the like
# cannot be stored, and show nothing a reader could check).
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
NUMBER = re.compile(r"^ZYC-\d{2}-\d{4}-\d{6}-[A-Z2-9]{4}$")
MAX_SESSION = timedelta(hours=24)


def session(start: str, end: str, now: datetime) -> tuple[datetime, datetime]:
    a, b = moment(start, "session_start"), moment(end, "session_end")
    if b <= a:
        raise InvalidArgument(
            "session_end",
            "session_end.after_start",
            "the session must end after it starts",
            "活动结束时间须晚于开始时间",
        )
    if b - a > MAX_SESSION:
        raise InvalidArgument(
            "session_end",
            "session_end.max_duration",
            "a session lasts at most 24 hours",
            "单次活动时长不能超过 24 小时",
        )
    if b > now:
        raise InvalidArgument(
            "session_end",
            "session_end.past",
            "hours are recorded for service already done",
            "只能记录已完成的服务时长",
        )
    return a, b


def amount(value: float, field: str, maximum: Decimal | None = None) -> Decimal:
    """A positive number of hours (two places), at most ``maximum``."""
    if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise InvalidArgument(
            field, f"{field}.positive", "must be more than 0", "须大于 0"
        )
    got = hours(value)
    if got <= 0:
        raise InvalidArgument(
            field, f"{field}.positive", "must be at least 0.01", "不能少于 0.01 小时"
        )
    if maximum is not None and got > maximum:
        raise InvalidArgument(
            field,
            f"{field}.max",
            f"must be at most {maximum} hours",
            f"不能超过 {maximum} 小时",
        )
    return got


def service_field(value: str) -> str:
    return check_service_fields([text(value, "service_field", 40)], "service_field")[0]


def certificate_number(value: str) -> str:
    value = text(value, "number", 40).upper()
    if not NUMBER.match(value):
        raise InvalidArgument(
            "number",
            "number.format",
            "a certificate number looks like ZYC-61-2026-000042-K7QX",
            "证明编号格式应如 ZYC-61-2026-000042-K7QX",
        )
    return value


def prose(value: str, field: str, max_length: int = 500) -> str:
    """Required free text (a reason, a note) of 1 to ``max_length``
    characters, lines allowed, no other control characters."""
    value = text(value, field, max_length)
    if CONTROL.search(value):
        raise InvalidArgument(
            field,
            f"{field}.characters",
            "must not contain control characters",
            "不能包含控制字符",
        )
    return value


def months(start: str, end: str) -> tuple[str, str]:
    """A period as two months named ``period_start`` and ``period_end``
    (either may be empty: open), in order."""
    start, end = month(start, "period_start"), month(end, "period_end")
    if start and end and end < start:
        raise InvalidArgument(
            "period_end",
            "period.order",
            "the period must not end before it starts",
            "截止月份不能早于起始月份",
        )
    return start, end


SCORE = re.compile(r"^[1-5]$", re.ASCII)


def score(value: str) -> int:
    """An evaluation's score: one ASCII digit from 1 (差) to 5 (优).
    Full-width digits are refused, not read: a score is typed on a
    keyboard the office controls, and a silent reading of "５" would
    hide an input method left in full-width mode."""
    value = (value or "").strip()
    if not value:
        raise InvalidArgument.required("score")
    if not SCORE.match(value):
        raise InvalidArgument(
            "score",
            "score.range",
            "the score is one of the digits 1 (poor) to 5 (excellent), "
            "written in ASCII (half-width) digits",
            "评分须为半角数字 1（差）到 5（优）之一",
        )
    return int(value)


SEAL_MAX_BYTES = 512 * 1024
SEAL_PIXELS = (64, 2048)
SEAL_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}


def seal_image(data: bytes) -> tuple[str, int, int]:
    """(media type, width, height) of a seal image: PNG or JPEG, at most
    512 KiB, 64 to 2048 pixels a side, and a whole image (Pillow reads it
    through, so a truncated or disguised file is refused)."""
    if not data:
        raise InvalidArgument.required("image")
    if len(data) > SEAL_MAX_BYTES:
        raise InvalidArgument(
            "image",
            "image.max_size",
            f"a seal image is at most {SEAL_MAX_BYTES // 1024} KiB",
            f"印章图片不能超过 {SEAL_MAX_BYTES // 1024} KiB",
        )
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind, (width, height) = probe.format or "", probe.size
            probe.verify()
        with Image.open(io.BytesIO(data)) as whole:
            whole.load()
    except (OSError, ValueError, Image.DecompressionBombError):
        kind = ""
    if kind not in SEAL_FORMATS:
        raise InvalidArgument(
            "image",
            "image.format",
            "a seal image is a PNG or JPEG file",
            "印章图片须为 PNG 或 JPEG 格式",
        )
    low, high = SEAL_PIXELS
    if not (low <= width <= high and low <= height <= high):
        raise InvalidArgument(
            "image",
            "image.dimensions",
            f"a seal image is {low} to {high} pixels on each side",
            f"印章图片的宽和高须在 {low} 到 {high} 像素之间",
        )
    return SEAL_FORMATS[kind], width, height


def lines(values: list[str], field: str, count: int = 5, length: int = 60) -> list[str]:
    """Optional lines of prose (training, awards): blanks dropped, at most
    ``count`` lines of ``length`` characters, no control characters."""
    kept = [prose(x, f"{field}", length) for x in values if (x or "").strip()]
    if len(kept) > count:
        raise InvalidArgument(
            field,
            f"{field}.max_items",
            f"at most {count} lines",
            f"最多 {count} 条",
        )
    return kept
