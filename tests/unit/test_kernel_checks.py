"""The kernel's request times and periods, which hours, recycling, activity
and every Summarize share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.common import checks
from services.common.errors import InvalidArgument


def test_moment_keeps_its_offset_and_utc_moment_converts():
    written = checks.moment("2026-11-08T09:00:00+08:00", "start")
    assert written.utcoffset() == timedelta(hours=8)
    assert checks.utc_moment("2026-11-08T09:00:00+08:00", "start") == datetime(
        2026, 11, 8, 1, tzinfo=UTC
    )
    assert checks.moment("2026-11-08T01:00:00Z", "start").tzinfo is not None


@pytest.mark.parametrize(
    ("value", "rule"),
    [("", "start.required"), ("2026-11-08T09:00:00", "start.format"),
     ("tomorrow", "start.format")],
)  # fmt: skip
def test_moment_refuses_naming_field_and_rule(value, rule):
    with pytest.raises(InvalidArgument) as err:
        checks.moment(value, "start")
    assert (err.value.field, err.value.rule) == ("start", rule)


def test_period_names_its_fields_under_the_prefix():
    assert checks.period("2026-01", "", "query.period") == ("2026-01", "")
    with pytest.raises(InvalidArgument) as err:
        checks.period("2026-13", "", "query.period")
    assert (err.value.field, err.value.rule) == (
        "query.period.start_month",
        "period.month_format",
    )
    with pytest.raises(InvalidArgument) as err:
        checks.period("2026-05", "2026-04")
    assert (err.value.field, err.value.rule) == ("period.end_month", "period.order")


ID = "0b9d3a56-6a3e-4bd4-8f4c-2f1f2c8a9e10"


def test_ident_normalises_a_uuid():
    assert checks.ident(ID.upper(), "volunteer_id") == ID
    assert checks.ident(" " + ID.replace("-", "") + "\r", "volunteer_id") == ID
    assert checks.ident("", "volunteer_id", required=False) == ""


@pytest.mark.parametrize(
    "value",
    [
        # Full-width digits and letters: uuid.UUID alone reads these as ASCII.
        ID.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789abcdef"}),
        ID.replace("0", "０", 1),
        ID.replace("9", "٩", 1),  # an Arabic-Indic digit
        ID[:-1],
        ID + "\r0",
        "not-a-uuid",
    ],
)
def test_ident_refuses_anything_but_an_ascii_uuid(value):
    with pytest.raises(InvalidArgument) as err:
        checks.ident(value, "volunteer_id")
    assert err.value.field == "volunteer_id"
    assert err.value.rule == "volunteer_id.format"
