"""``registration.volunteers.imported``: one event for up to
:data:`PART_VOLUNTEERS` volunteers of a bulk import's chunk, standing for the
``registration.volunteer.<verb>`` events a registration one at a time would
have written for each of them (``registered``, and ``verified`` when the
office imported a roll it had already checked).

Its data::

    {"chunk_id": "<uuid>", "part": 1, "parts": 20, "status": "verified",
     "events": ["registered", "verified"],
     "volunteers": [{"volunteer_id": ..., "volunteer_number": ...,
                     "home_division_code": ..., "birth_date": "YYYY-MM-DD",
                     "service_fields": [...]}, ...]}

The event's division is the importer's scope (every home lies in it).
A consumer claims the part's own ``event_id`` in the one transaction that
applies the whole part, and gives each volunteer the effect of the
per-volunteer events :func:`expand` lists, so an import reaches every
consumer exactly as one registration at a time does, exactly once.

Example::

    for one in expand(Envelope.from_body(body)):
        ...  # one.event_type == "registration.volunteer.registered", ...
"""

from __future__ import annotations

import uuid
from typing import Any

from services.common.outbox import Envelope
from services.common.tenancy import validate_code

EVENT = "registration.volunteers.imported"
PART_VOLUNTEERS = 1000  # volunteers per event: a bounded message
VERBS = ("registered", "verified")
STATUSES = ("pending", "verified")
# The per-volunteer event ids a part stands for are derived, never drawn.
_IDS = uuid.UUID("0b6c1e4a-9d2f-4c8e-b7a1-5f3e2d1c0a96")


def expand(env: Envelope) -> list[Envelope]:
    """The per-volunteer events one part stands for, verb by verb in the
    producer's order, each volunteer in row order; each with the envelope
    (type, division, data) one registration writes, its id derived from
    the part's id, the verb and the volunteer. ValueError on a malformed
    part (a permanent failure: the dead-letter queue)."""
    d = env.data
    verbs, status, people = d.get("events"), d.get("status"), d.get("volunteers")
    if not isinstance(verbs, list) or not verbs or any(v not in VERBS for v in verbs):
        raise ValueError("event field 'events' must list registered/verified")
    if status not in STATUSES:
        raise ValueError("event field 'status' must be pending or verified")
    if not isinstance(people, list):
        raise ValueError("event field 'volunteers' must be a list")
    entries = [_entry(p, status) for p in people]
    return [
        Envelope(
            event_id=str(
                uuid.uuid5(_IDS, f"{env.event_id}/{verb}/{e['volunteer_id']}")
            ),
            event_type=f"registration.volunteer.{verb}",
            occurred_at=env.occurred_at,
            division_code=e["home_division_code"],
            data=dict(e),
        )
        for verb in verbs
        for e in entries
    ]


def _entry(p: Any, status: str) -> dict[str, Any]:
    if not isinstance(p, dict):
        raise ValueError("each imported volunteer must be an object")
    fields = p.get("service_fields")
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise ValueError("event field 'service_fields' must be a list of codes")
    out = {
        "volunteer_id": _text(p, "volunteer_id", 36),
        "volunteer_number": _text(p, "volunteer_number", 20),
        "home_division_code": validate_code(_text(p, "home_division_code", 12)),
        "status": status,
        "birth_date": _text(p, "birth_date", 10),
        "service_fields": list(fields),
    }
    return out


def _text(d: dict[str, Any], key: str, limit: int) -> str:
    value = d.get(key)
    if not isinstance(value, str) or not value or len(value) > limit:
        raise ValueError(f"event field {key!r} must be a text of at most {limit}")
    return value
