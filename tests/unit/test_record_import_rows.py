"""The record format's import side without I/O: a service record becomes
the bulk import's row (the template's columns), records that are not to be
transferred are named by field and rule, and the export's period is checked
naming the parameter."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.common.errors import InvalidArgument
from services.gateway.api_records import period_of
from services.hours import bulk
from services.hours.record_import import FIELDS, _not_transferred, _row

# A transferred record names no service position of this platform: the
# optional position_id column is the only one the record format leaves out.
TRANSFERRED = {c.code for c in bulk.COLUMNS} - {"position_id"}
RECORD: dict[str, Any] = {
    "record_id": "R1", "division_code": "610113005",
    "organisation_name": "雁塔区志愿者协会", "service_field": "elderly_care",
    "content": "敬老院陪伴", "started_at": "2026-03-01T01:00:00Z",
    "ended_at": "2026-03-01T03:30:00Z", "hours": 2.5, "effective_hours": 2.25,
    "status": "approved",
}  # fmt: skip


def test_a_record_becomes_a_bulk_import_row() -> None:
    row = _row("ZY610000000042", RECORD, "other-platform")
    assert set(row) == TRANSFERRED
    assert row == {
        "volunteer_number": "ZY610000000042", "division_code": "610113005",
        "organisation_name": "雁塔区志愿者协会", "service_field": "elderly_care",
        "content": "敬老院陪伴", "session_start": "2026-03-01T01:00:00Z",
        "session_end": "2026-03-01T03:30:00Z", "hours": "2.25",
        "reason": "转入 other-platform R1",
    }  # fmt: skip


def test_every_pipeline_column_maps_back_to_a_field_of_the_file() -> None:
    assert set(FIELDS) == TRANSFERRED


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"status": "pending"}, "services[3].status", "status.approved"),
        ({"status": "rejected"}, "services[3].status", "status.approved"),
        ({"effective_hours": 0}, "services[3].effective_hours",
         "effective_hours.positive"),
    ],
)  # fmt: skip
def test_records_not_transferred_are_named(
    change: dict[str, Any], field: str, rule: str
) -> None:
    got = _not_transferred(5, "services[3]", {**RECORD, **change})
    assert got is not None
    assert (got.line, got.field, got.rule) == (5, field, rule)
    assert got.message_zh and got.message_en
    assert _not_transferred(5, "services[3]", RECORD) is None


def test_the_period_is_both_days_or_none() -> None:
    assert period_of("", "") is None
    assert period_of("2026-01-01", "2026-12-31") == (
        date(2026, 1, 1),
        date(2026, 12, 31),
    )


@pytest.mark.parametrize(
    ("first", "last", "field", "rule"),
    [
        ("2026-13-01", "2026-12-31", "from", "from.format"),
        ("2026-01-01", "", "to", "to.format"),
        ("2026-02-01", "2026-01-31", "to", "to.after_from"),
        ("2025-01-01", "2026-01-02", "to", "period.max"),
    ],
)
def test_a_bad_period_is_refused_naming_the_parameter(
    first: str, last: str, field: str, rule: str
) -> None:
    with pytest.raises(InvalidArgument) as err:
        period_of(first, last)
    assert (err.value.field, err.value.rule) == (field, rule)
    assert err.value.message_zh
