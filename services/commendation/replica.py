"""Commendation's volunteer replica fed by a bulk import's
``registration.volunteers.imported`` parts: each volunteer left as
:meth:`StarCases.replicate_volunteer` leaves it after the per-volunteer
events the part stands for, set-wise (one upsert for the part, the same
statement), under the part's one claim."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import text

from services.commendation import events
from services.commendation.models import PROCESSED, Volunteer
from services.commendation.stars import _SET_SCOPE, _UPSERT_VOLUNTEER
from services.common import outbox, volunteer_events
from services.common.db import Database, is_postgres
from services.common.tenancy import Scope

_HOMES_OF = text("SELECT commendation_home_of(v) FROM unnest(CAST(:ids AS text[])) v")


def replicate_imported(db: Database, consumer: str, body: dict[str, Any]) -> bool:
    """Apply one part; False if it was applied before."""
    env = outbox.Envelope.from_body(body)
    latest: dict[str, Volunteer] = {}
    for one in volunteer_events.expand(env):
        v = events.volunteer(one)
        latest[v.id] = v  # the same time: the later event wins, as one by one
    scope = env.division_code
    with db.session(Scope(scope)) as s:
        if not outbox.claim(s, PROCESSED, consumer, env.event_id):
            return False
        if not latest:
            return True
        if is_postgres(db.engine):
            # A home already replicated outside the part's scope (an id seen
            # before): the scope must cover it, as one by one.
            homes = s.execute(_HOMES_OF, {"ids": list(latest)}).scalars()
            outside = [h for h in homes if h and not h.startswith(scope)]
            if outside:
                common = os.path.commonprefix([scope, *outside])
                s.execute(_SET_SCOPE, {"scope": common or scope})
        s.execute(
            _UPSERT_VOLUNTEER,
            [
                {
                    "id": v.id, "volunteer_number": v.volunteer_number,
                    "division_code": v.division_code, "status": v.status,
                    "changed_at": v.changed_at,
                }
                for v in latest.values()
            ],
        )  # fmt: skip
        return True
