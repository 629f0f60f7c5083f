"""Times as the platform keeps them: aware, and UTC where no offset is said.

A time without an offset is UTC here, in two places: SQLite (embedded mode)
hands back naive datetimes for what was stored as UTC, and the platform's
services write UTC into the events they publish.

Example:
    >>> from datetime import datetime
    >>> utc(datetime(2026, 11, 8, 1, 0)).isoformat()
    '2026-11-08T01:00:00+00:00'
    >>> iso(None), parse("2026-11-08T01:00:00Z").isoformat()
    ('', '2026-11-08T01:00:00+00:00')
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc(moment: datetime) -> datetime:
    """``moment`` made aware: a naive one is UTC; an aware one is kept as is."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso(moment: datetime | None) -> str:
    """RFC 3339 of an aware or stored-naive time; '' for none."""
    return utc(moment).isoformat() if moment else ""


def parse(raw: str) -> datetime:
    """An RFC 3339 time another service wrote (a missing offset means UTC);
    ValueError when it is not one."""
    return utc(datetime.fromisoformat(raw.replace("Z", "+00:00")))
