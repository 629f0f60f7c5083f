"""Exact reconciliation after a fault: what the clients were promised against
what every database and queue holds. :func:`problems` lists every mismatch
(empty when all is well), so a test polls it until the platform is quiet and
then asserts on the last list.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

import httpx

from tests.faults.conftest import SERVICES, Platform
from tests.faults.load import Outcome, bearer

# A handler's queue: evt-<source>-<event_type>--<service>.<method>
HANDLER_QUEUE = re.compile(r"^evt-([a-z]+)-([a-z_.]+)--([a-z]+)\.([a-z0-9_]+)$")


def handlers(queues: dict[str, int]) -> dict[str, Counter]:
    """Event type → {consuming service: handlers}, read off the broker."""
    out: dict[str, Counter] = defaultdict(Counter)
    for name in queues:
        m = HANDLER_QUEUE.match(name)
        if m:
            source, event_type, service, _ = m.groups()
            out[f"{source}.{event_type}"][service] += 1
    return out


def problems(
    plat: Platform, outcome: Outcome | None, allowed_dlq: dict[str, int] | None = None
) -> list[str]:
    """Every way the platform differs from exactly-once; [] when it does not."""
    found: list[str] = []
    queues = plat.queues()
    found += _queues(queues, allowed_dlq or {})
    found += _events(plat, handlers(queues))
    if outcome is not None:
        found += _requests(plat, outcome)
    found += _rollups(plat)
    return found


def counts(plat: Platform) -> dict[str, Any]:
    """How much the platform holds: events by service, consumer claims."""
    events = {s: plat.sql(s, "SELECT count(*) FROM outbox")[0][0] for s in SERVICES}
    claims = {
        s: plat.sql(s, "SELECT count(*) FROM processed_events")[0][0] for s in SERVICES
    }
    return {"events": events, "applied": claims}


def _queues(queues: dict[str, int], allowed_dlq: dict[str, int]) -> list[str]:
    out = []
    for name, messages in sorted(queues.items()):
        if name.endswith(".dlq"):
            want = allowed_dlq.get(name, 0)
            if messages != want:
                out.append(f"dead-letter queue {name} holds {messages}, want {want}")
        elif (HANDLER_QUEUE.match(name) or name.startswith("zhiyuan.retry.")) and (
            messages
        ):
            out.append(f"queue {name} still holds {messages}")
    for name, want in allowed_dlq.items():
        if name not in queues:
            out.append(f"dead-letter queue {name} is missing (want {want})")
    return out


def _events(plat: Platform, by_type: dict[str, Counter]) -> list[str]:
    out = []
    claimed = {
        s: Counter(
            dict(
                plat.sql(
                    s, "SELECT event_id, count(*) FROM processed_events GROUP BY 1"
                )
            )
        )
        for s in SERVICES
    }
    for source in SERVICES:
        rows = plat.sql(
            source, "SELECT id, event_type, published_at IS NOT NULL FROM outbox"
        )
        pending = [r for r in rows if not r[2]]
        if pending:
            out.append(f"{source}'s outbox has {len(pending)} unpublished events")
        for event_id, event_type, _ in rows:
            for consumer, want in by_type.get(event_type, Counter()).items():
                got = claimed[consumer].pop(event_id, 0)
                if got != want:
                    out.append(
                        f"{event_type} {event_id} applied {got}× by {consumer},"
                        f" want {want}"
                    )
    for consumer, rest in claimed.items():
        if rest:
            out.append(f"{consumer} applied {len(rest)} events no outbox holds")
    return out


def _requests(plat: Platform, o: Outcome) -> list[str]:
    out = []
    stored = Counter(
        dict(
            plat.sql(
                "registration",
                "SELECT request_id, count(*) FROM volunteers"
                " WHERE request_id LIKE '%fault-vol-%' GROUP BY 1",
            )
        )
    )
    by_key = {_key(k): n for k, n in stored.items()}
    for key in o.volunteers:
        if by_key.pop(key, 0) != 1:
            out.append(f"accepted registration {key} not stored exactly once")
    for key, n in by_key.items():
        if key not in o.abandoned_volunteers or n != 1:
            out.append(f"registration {key} stored {n}× but never accepted")
    status = dict(plat.sql("registration", "SELECT id, status FROM volunteers"))
    for vol in o.verified:
        if status.get(vol) != "verified":
            out.append(f"accepted verification of {vol}: {status.get(vol)}")
    # Every consumer's replica holds each accepted volunteer once, verified.
    for service in ("activity", "commendation"):
        replica = Counter(
            dict(plat.sql(service, "SELECT id, count(*) FROM volunteers GROUP BY 1"))
        )
        missing = [v for v in o.volunteers.values() if replica.get(v) != 1]
        if missing:
            out.append(f"{service}'s replica lacks {len(missing)} volunteers")
    records = dict(
        plat.sql(
            "hours",
            "SELECT id, status FROM hour_records WHERE source = 'honour'",
        )
    )
    for rid in o.records.values():
        if rid not in records:
            out.append(f"accepted honour record {rid} not stored")
    extra = set(records) - set(o.records.values())
    if len(extra) > len(o.abandoned_records):
        out.append(f"{len(extra)} honour records stored that were never accepted")
    for rid in o.approved:
        if records.get(rid) != "approved":
            out.append(f"accepted approval of {rid}: {records.get(rid)}")
    return out


def _key(stored: str) -> str:
    return "fault-vol-" + stored.split("fault-vol-", 1)[1]


def _rollups(plat: Platform) -> list[str]:
    """Each service's Summarize (townships / counties of the province) equals
    the GROUP BY of its raw facts."""
    out = []
    vols = plat.sql(
        "registration",
        "SELECT substr(home_division_code, 1, 9), count(*),"
        " count(*) FILTER (WHERE status = 'verified')"
        " FROM volunteers WHERE home_division_code LIKE '61%' GROUP BY 1",
    )
    got = _summary(plat, "registration", "township")
    for code, registered, verified in vols:
        row = got.pop(code, {})
        want = {"volunteers_registered": registered, "volunteers_verified": verified}
        for metric, value in want.items():
            if abs(row.get(metric, 0) - value) > 1e-6:
                out.append(f"registration rollup {code} {metric}: "
                           f"{row.get(metric, 0)}, raw facts {value}")  # fmt: skip
    out += [f"registration rollup {c} has no raw facts: {m}" for c, m in got.items()
            if m.get("volunteers_registered")]  # fmt: skip
    records = plat.sql(
        "hours",
        "SELECT substr(division_code, 1, 6), count(*), sum(hours),"
        " count(DISTINCT volunteer_id) FROM hour_records"
        " WHERE status = 'approved' AND division_code LIKE '61%' GROUP BY 1",
    )
    got = _summary(plat, "hours", "county")
    for code, n, hours, people in records:
        row = got.pop(code, {})
        want = {"records": n, "hours": float(hours), "volunteers": people}
        for metric, value in want.items():
            if abs(row.get(metric, 0) - value) > 1e-6:
                out.append(f"hours rollup {code} {metric}: "
                           f"{row.get(metric, 0)}, raw facts {value}")  # fmt: skip
    out += [f"hours rollup {c} has no raw facts: {m}" for c, m in got.items()
            if m.get("records")]  # fmt: skip
    return out


def _summary(plat: Platform, service: str, level: str) -> dict[str, dict]:
    r = httpx.get(
        f"{plat.base}/api/v1/rollups/{service}",
        params={"division_code": "61", "group_by": level},
        headers=bearer("61", "province_admin", "fault-province"),
        timeout=15,
    )
    assert r.status_code == 200, r.text
    return {
        row["division"]["code"]: row.get("metrics", {})
        for row in r.json()["rollup"].get("rows", [])
    }
