"""Recycling's tagged facts, kept by activity for campaign summaries: a
drive's items delivered (``recycling.drive.recorded``) and a collected
pickup's kg (``recycling.booking.collected``) whose event names a
``campaign_id``. Each event is applied once (its claim in ``processed``, in
the same transaction as the row), under the event's own division.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from services.activity import models as m
from services.activity.models import PROCESSED
from services.common import outbox
from services.common.db import Database
from services.common.tenancy import Scope

CONSUMER = "activity.campaign.deliveries"


def delivery(env: outbox.Envelope) -> m.CampaignDelivery | None:
    """The row an event adds, or None for an untagged fact.

    Example:
        >>> env = outbox.Envelope("e", "recycling.booking.collected", "", "61",
        ...     {"booking_id": "b", "campaign_id": "c", "collected_on":
        ...      "2026-12-01", "total_kg": 4.5})
        >>> delivery(env).kg
        Decimal('4.5')
    """
    data = env.data
    campaign_id = str(data.get("campaign_id") or "")
    if not campaign_id:
        return None
    if env.event_type == "recycling.drive.recorded":
        source, key, on = "drive", str(data["drive_id"]), str(data["held_on"])
        items = sum(int(data.get(k) or 0) for k in ("garments", "books", "other_items"))
        kg = Decimal("0")
    else:
        source, key, on = "booking", str(data["booking_id"]), str(data["collected_on"])
        items, kg = 0, Decimal(str(data.get("total_kg") or 0))
    return m.CampaignDelivery(
        id=f"{source}:{key}",
        campaign_id=campaign_id,
        division_code=str(data.get("division_code") or env.division_code),
        source=source,
        occurred_on=date.fromisoformat(on),
        items=items,
        kg=kg,
        recorded_at=outbox.now(),
    )


def apply(db: Database, body: dict[str, Any]) -> bool:
    """Keep one recycling event's tagged fact; False if seen before."""
    env = outbox.Envelope.from_body(body)
    with db.session(Scope(env.division_code)) as s:
        if not outbox.claim(s, PROCESSED, CONSUMER, env.event_id):
            return False
        row = delivery(env)
        if row is not None:
            s.merge(row)
        return True
