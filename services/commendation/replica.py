"""Commendation's volunteer replica fed by a bulk import's
``registration.volunteers.imported`` parts: each volunteer left as
:meth:`StarCases.replicate_volunteer` leaves it after the per-volunteer
events the part stands for, set-wise (one upsert for the part, the same
statement), under the part's one claim."""

from __future__ import annotations

from typing import Any

from services.commendation import events
from services.commendation.models import Volunteer
from services.commendation.repository import Repository
from services.common import outbox, volunteer_events
from services.common.db import Database
from services.common.tenancy import Scope


def replicate_imported(db: Database, consumer: str, body: dict[str, Any]) -> bool:
    """Apply one part; False if it was applied before."""
    env = outbox.Envelope.from_body(body)
    latest: dict[str, Volunteer] = {}
    for one in volunteer_events.expand(env):
        v = events.volunteer(one)
        latest[v.id] = v  # the same time: the later event wins, as one by one
    scope = Scope(env.division_code)
    with db.session(scope) as s:
        repo = Repository(s, scope)
        if not repo.claim(consumer, env.event_id):
            return False
        repo.upsert_volunteers(list(latest.values()))
        return True
