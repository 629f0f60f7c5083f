"""services.common.times: a time without an offset is UTC, one with is kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.common import times

CST = timezone(timedelta(hours=8))


def test_a_naive_time_is_utc_and_an_aware_one_is_kept():
    assert times.utc(datetime(2026, 11, 8, 1)) == datetime(2026, 11, 8, 1, tzinfo=UTC)
    beijing = datetime(2026, 11, 8, 9, tzinfo=CST)
    assert times.utc(beijing).utcoffset() == timedelta(hours=8)
    assert times.iso(beijing) == "2026-11-08T09:00:00+08:00"
    assert times.iso(datetime(2026, 11, 8, 1)) == "2026-11-08T01:00:00+00:00"
    assert times.iso(None) == ""


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("2026-11-08T01:00:00Z", datetime(2026, 11, 8, 1, tzinfo=UTC)),
        ("2026-11-08T01:00:00", datetime(2026, 11, 8, 1, tzinfo=UTC)),
        ("2026-11-08T09:00:00+08:00", datetime(2026, 11, 8, 1, tzinfo=UTC)),
    ],
)
def test_parse_reads_what_services_write(raw, want):
    assert times.parse(raw) == want


def test_parse_refuses_what_is_not_a_time():
    with pytest.raises(ValueError):
        times.parse("yesterday")
