"""Star ratings reacting to a burst of approved hours: the real commendation
worker applying ``hours.record.approved`` events, against raw kombu
publish + consume of as many messages of the same size, measured in the
same run.

Subject: ``python -m services.cli.worker commendation`` as a separate
process (its star consumer is a ``batch_event_handler``: batches of up to
``WORKER_BATCH_SIZE`` events, default 50, prefetch two batches, each batch
applied set-wise in one transaction) on a throw-away,
migrated commendation database and its own vhost. The database holds the
volunteer replica registration's events would have built (id, number, home
township) and no setting overrides, so the platform's default thresholds
(100/300/600/1000/1500 h) and approval levels apply. The burst: ``n``
well-formed envelopes for ``n / 5`` volunteers in real Shaanxi townships
(``services/common/reference/streets.csv``), five approvals each, published
round by round (every volunteer's first approval, then every second one, in
a new shuffled order each round), each carrying the volunteer's platform
total after it (a fifth served in another township of the home county);
totals start where a volunteer's past service left them (55 % below 100 h,
the rest up to 1,600 h) and grow by 1-8 h a record, so a realistic share
cross a threshold during the burst. They are published
from this process to ``hours.events`` / ``record.approved`` as the outbox
relay does: JSON, persistent, ``message_id`` = event id, publisher confirms,
waiting for each confirm in turn. Reaction time: from the first publish
until the worker has applied all ``n`` events (its ``processed_events``
rows for consumer ``commendation.hours``, committed with each event's
effect, polled every 50 ms), so events/s is end to end; a warm-up of
other volunteers runs first and is not counted.

Baselines: a plain kombu consumer in its own process (prefetch 10, an ack
per message, no database) on a durable queue of the same vhost, fed the
same bodies by the same publisher, with confirms off and on (a confirm per
message); timed from the first publish to the last ack. Each runs before
and after the burst; the figures are the two runs pooled.

The burst's rate cannot exceed the publisher's (a confirm per message, on
the same two cores), so a backlog is measured too: the worker is stopped
(SIGSTOP), another ``n`` bodies of the same kind (new volunteers) are
queued for it without confirms, and it is timed from its resumption until
all are applied, against a raw kombu consumer draining the same bodies from
a filled queue (first delivery → last ack). Reported, not part of the goal.

Correctness is checked after the burst and printed with the figures: a
failed check fails the run (after the report is printed), a slow one never
does. The method (the stack, publisher, baselines, backlog and report) is
``tests/perf/worker_bench.py``, shared with ``bench_attendance``.
"""

from __future__ import annotations

import math
import random
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tests.perf.runner import Benchmark, Report, Settings
from tests.perf.worker_bench import (
    Description,
    Measured,
    Outcome,
    Reaction,
    Stack,
    Subject,
    WorkerBench,
    queue_counts,
    shaanxi_townships,
)

NAME = "stars"
SUBJECT = Subject(
    service="commendation",
    consumer="commendation.hours",  # the worker's consumer name for hours events
    event_type="hours.record.approved",
    queue="evt-hours-record.approved--commendation.on_record_approved",
)
EVENTS_PER_VOLUNTEER = 5
MONTHS = ("2025-11", "2025-12", "2026-01", "2026-02", "2026-03")  # per round
APPROVED_FROM = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)  # 09:00 China time
APPROVAL_STEP = timedelta(milliseconds=10)  # occurred_at grows in publish order
BELOW_FIRST_SHARE = 0.55  # volunteers whose past total is under 100 h
AWAY_SHARE = 0.2  # approvals served outside the home township (same county)
WIDTH = {"county": 6, "city": 4, "province": 2}
FIELDS = (
    "elderly_care", "minors", "medical", "environment", "civilisation",
    "culture_education", "large_events", "emergency",
)  # fmt: skip


BENCH = WorkerBench(
    NAME, "Star ratings: a burst of approved hours vs raw kombu",
    "commendation worker", SUBJECT,
)  # fmt: skip


# --- the burst --------------------------------------------------------------


@dataclass
class Burst:
    bodies: list[dict[str, Any]]  # envelopes, in publish order
    home: dict[str, str]  # volunteer id → home township
    number: dict[str, str]  # volunteer id → volunteer number
    totals: dict[str, list[Decimal]]  # volunteer id → totals in publish order
    year_hours: dict[tuple[str, int], Decimal]  # (volunteer, year) → hours

    def final(self, volunteer_id: str) -> Decimal:
        return self.totals[volunteer_id][-1]


def make_burst(
    rng: random.Random,
    n: int,
    counties: dict[str, list[str]],
    first_serial: int,
    approved_from: datetime,
) -> Burst:
    """``n`` approvals for ``ceil(n / 5)`` new volunteers, five rounds."""

    def ident() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    def half_hours(low: float, high: float) -> Decimal:
        return Decimal(rng.randint(int(low * 2), int(high * 2))) / 2

    burst = Burst([], {}, {}, {}, defaultdict(Decimal))
    county_codes = sorted(counties)
    running: dict[str, Decimal] = {}
    for serial in range(first_serial, first_serial + -(-n // EVENTS_PER_VOLUNTEER)):
        vid = ident()
        burst.home[vid] = rng.choice(counties[rng.choice(county_codes)])
        burst.number[vid] = f"ZY61{serial:010d}"
        burst.totals[vid] = []
        below = rng.random() < BELOW_FIRST_SHARE
        running[vid] = half_hours(0, 99.5) if below else half_hours(100, 1600)
    at = approved_from
    for month in MONTHS:
        order = list(running)
        rng.shuffle(order)
        for vid in order:
            if len(burst.bodies) == n:
                break
            home = burst.home[vid]
            where = home
            if rng.random() < AWAY_SHARE:
                where = rng.choice(counties[home[:6]])
            hours = half_hours(1, 8)
            running[vid] += hours
            burst.totals[vid].append(running[vid])
            burst.year_hours[(vid, int(month[:4]))] += hours
            at += APPROVAL_STEP
            burst.bodies.append(
                {
                    "event_id": ident(),
                    "event_type": SUBJECT.event_type,
                    "occurred_at": at.isoformat(timespec="milliseconds").replace(
                        "+00:00", "Z"
                    ),
                    "division_code": where,
                    "data": {
                        "record_id": ident(),
                        "volunteer_id": vid,
                        "volunteer_number": burst.number[vid],
                        "division_code": where,
                        "service_field": rng.choice(FIELDS),
                        "service_month": month,
                        "hours": float(hours),
                        "volunteer_total_hours": float(running[vid]),
                    },
                }
            )
    return burst


def tier(total: Decimal, thresholds: Sequence[float]) -> int:
    return sum(1 for t in thresholds if total >= Decimal(str(t)))


def requests_in_order(totals: Sequence[Decimal], thresholds: Sequence[float]) -> int:
    """Star requests opened when the totals are applied in this order, by
    stars.py's rules with no stars approved meanwhile: a tier above the
    stars opens a request unless one is pending at that tier; a pending
    request at another tier is superseded first."""
    opened = pending = 0
    for total in totals:
        eligible = tier(total, thresholds)
        if pending and pending != eligible:
            pending = 0
        if eligible > 0 and not pending:
            opened, pending = opened + 1, eligible
    return opened


# --- the replica and the checks ---------------------------------------------


def seed_volunteers(target: Stack, bursts: Sequence[Burst]) -> int:
    """The volunteer replica registration's events would have built."""
    changed = APPROVED_FROM - timedelta(days=400)
    rows = [
        (vid, b.number[vid], home, "verified", changed)
        for b in bursts
        for vid, home in b.home.items()
    ]
    with (
        target.admin.transaction(),
        target.admin.cursor() as cur,
        cur.copy(
            "COPY volunteers (id, volunteer_number, division_code, status,"
            " changed_at) FROM STDIN"
        ) as copy,
    ):
        for row in rows:
            copy.write_row(row)
    target.admin.execute("ANALYZE volunteers")
    return len(rows)


def star_rules() -> tuple[list[float], dict[str, str]]:
    """The platform's default thresholds and approval levels (the database
    holds no setting overrides)."""
    from services.common.settings import SETTINGS

    return (
        list(SETTINGS["stars.thresholds_hours"].default),
        dict(SETTINGS["stars.approval_level"].default),
    )


def verify(target: Stack, burst: Burst) -> Outcome:
    """Compare what the worker stored with what the burst implies."""
    db, out = target.admin, Outcome()
    ids = list(burst.home)
    event_ids = [b["event_id"] for b in burst.bodies]
    thresholds, levels = star_rules()
    first = Decimal(str(thresholds[0]))

    overrides = db.execute("SELECT count(*) FROM policy_overrides").fetchone()[0]
    out.add(
        "no setting overrides (defaults apply)",
        overrides == 0,
        f"{overrides} override rows; thresholds {thresholds}",
    )
    claimed = db.execute(
        "SELECT count(*) FROM processed_events"
        " WHERE consumer = %s AND event_id = ANY(%s)",
        [SUBJECT.consumer, event_ids],
    ).fetchone()[0]
    out.add(
        "processed events = events published",
        claimed == len(event_ids),
        f"{claimed:,} of {len(event_ids):,}",
    )

    ratings = {
        r[0]: r[1:]
        for r in db.execute(
            "SELECT volunteer_id, total_hours, stars, eligible_stars, division_code"
            " FROM star_ratings WHERE volunteer_id = ANY(%s)",
            [ids],
        ).fetchall()
    }
    wrong_total = [v for v in ids if v in ratings and ratings[v][0] != burst.final(v)]
    wrong_tier = [
        v
        for v in ids
        if v in ratings
        and (ratings[v][2] != tier(burst.final(v), thresholds) or ratings[v][1] != 0)
    ]
    wrong_home = [v for v in ids if v in ratings and ratings[v][3] != burst.home[v]]
    out.add(
        "a rating per volunteer",
        len(ratings) == len(ids),
        f"{len(ratings):,} of {len(ids):,}",
    )
    out.add(
        "stored total = last total published",
        not wrong_total,
        f"{len(wrong_total)} mismatches"
        + (
            f", e.g. {wrong_total[0]}: {ratings[wrong_total[0]][0]} stored, "
            f"{burst.final(wrong_total[0])} published"
            if wrong_total
            else ""
        ),
    )
    out.add(
        "eligible stars = tier of the final total (stars stay 0)",
        not wrong_tier,
        f"{len(wrong_tier)} mismatches",
    )
    out.add(
        "rating kept at the home township (replica)",
        not wrong_home,
        f"{len(wrong_home)} mismatches",
    )

    years = {
        (r[0], int(r[1])): r[2]
        for r in db.execute(
            "SELECT volunteer_id, year, hours FROM service_years"
            " WHERE volunteer_id = ANY(%s)",
            [ids],
        ).fetchall()
    }
    wrong_years = [k for k, h in burst.year_hours.items() if years.get(k) != h]
    out.add(
        "year hours = sum of the approvals per year",
        not wrong_years and len(years) == len(burst.year_hours),
        f"{len(wrong_years)} mismatches, {len(years):,} rows "
        f"(expected {len(burst.year_hours):,})",
    )

    requests = db.execute(
        "SELECT volunteer_id, stars, status, approval_level, approving_code,"
        " division_code FROM star_requests WHERE volunteer_id = ANY(%s)",
        [ids],
    ).fetchall()
    pending: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for r in requests:
        if r[2] == "pending":
            pending[r[0]].append(r)
    reaching = [v for v in ids if burst.final(v) >= first]
    wrong_pending = []
    for v in ids:
        want = tier(burst.final(v), thresholds)
        got = pending.get(v, [])
        if want == 0:
            if got:
                wrong_pending.append(v)
            continue
        level = levels[str(want)]
        home = burst.home[v]
        if (
            len(got) != 1
            or got[0][1] != want
            or got[0][3] != level
            or got[0][4] != home[: WIDTH[level]]
            or got[0][5] != home
        ):
            wrong_pending.append(v)
    n_pending = sum(len(p) for p in pending.values())
    out.add(
        f"pending star requests = volunteers whose final total ≥ {thresholds[0]:g} h",
        n_pending == len(reaching),
        f"{n_pending:,} pending, {len(reaching):,} volunteers reach "
        f"{thresholds[0]:g} h",
    )
    out.add(
        "each pending request at the final tier, level and approving division",
        not wrong_pending,
        f"{len(wrong_pending)} volunteers wrong",
    )
    in_order = sum(requests_in_order(burst.totals[v], thresholds) for v in ids)
    closed = [r for r in requests if r[2] != "pending"]
    not_superseded = [r for r in closed if r[2] != "superseded"]
    out.add(
        "requests opened ≤ one per tier reached in publish order",
        n_pending <= len(requests) <= in_order and not not_superseded,
        f"{len(requests):,} opened ({len(closed):,} superseded by a higher tier"
        f"{f', {len(not_superseded)} otherwise closed' if not_superseded else ''}); "
        f"{in_order:,} if every event were applied in publish order",
    )
    opened_events = db.execute(
        "SELECT count(*) FROM outbox WHERE event_type = %s"
        " AND payload->'data'->>'volunteer_id' = ANY(%s)",
        ["commendation.star_request.opened", ids],
    ).fetchone()[0]
    out.add(
        "a star_request.opened event per request (outbox)",
        opened_events == len(requests),
        f"{opened_events:,} events, {len(requests):,} requests",
    )
    messages, _ = queue_counts(target.amqp_uri, SUBJECT.queue)
    dead, _ = queue_counts(target.amqp_uri, SUBJECT.queue + ".dlq")
    out.add(
        "worker queue drained, nothing dead-lettered",
        messages == 0 and dead == 0,
        f"{messages} ready, {dead} in the DLQ",
    )
    crossed = sum(
        1
        for v in ids
        if tier(burst.totals[v][0], thresholds) < tier(burst.final(v), thresholds)
    )
    out.facts = {
        "volunteers": len(ids),
        "volunteers_reaching_first_threshold": len(reaching),
        "volunteers_crossing_a_threshold_within_the_burst": crossed,
        "star_requests_opened": len(requests),
        "star_requests_pending": n_pending,
        "star_requests_superseded": len(closed) - len(not_superseded),
        "star_requests_if_applied_in_publish_order": in_order,
        "star_requests_by_stars": {
            str(s): sum(1 for r in requests if r[1] == s and r[2] == "pending")
            for s in range(1, 6)
        },
    }
    return out


def _drained(reaction: Reaction) -> str:
    seconds = reaction.outbox_drain_seconds
    if math.isnan(seconds):
        return "the worker's relay had NOT published all the requests' events yet."
    if seconds < 0.05:
        return (
            "the worker's relay (0.5 s timer) had published the requests' events "
            "by the time the last event was applied."
        )
    return (
        "the worker's relay published the requests' events "
        f"{seconds:.1f} s after the last event was applied."
    )


def run(settings: Settings) -> Report:
    n = settings.pick(10_000, 1_000)
    warm_n = settings.pick(500, 200)
    rng = random.Random(20260401)  # noqa: S311 - test data
    counties = shaanxi_townships()
    warm = make_burst(rng, warm_n, counties, 1, APPROVED_FROM - timedelta(days=1))
    burst = make_burst(rng, n, counties, 1_000_000, APPROVED_FROM)
    backlog = make_burst(rng, n, counties, 2_000_000, APPROVED_FROM + timedelta(1))

    def prepare(target: Stack) -> None:
        seeded = seed_volunteers(target, [warm, burst, backlog])
        BENCH.log(f"seeded the volunteer replica ({seeded:,} volunteers)")
        BENCH.log(f"the burst's {n:,} events are for {len(burst.home):,} volunteers")

    return BENCH.run(
        settings,
        (warm.bodies, burst.bodies, backlog.bodies),
        lambda target: verify(target, burst),
        describe,
        prepare,
    )


def describe(m: Measured, size: float) -> Description:
    f = m.outcome.facts
    return Description(
        bodies=f"{m.reaction.events:,} hours.record.approved envelopes "
        f"(~{size:.0f} bytes of JSON) for {f['volunteers']:,} volunteers in "
        "Shaanxi townships, five approvals each",
        notes=[
            f"star requests: {f['star_requests_opened']:,} opened, "
            f"{f['star_requests_pending']:,} pending (1-5 stars: "
            + "/".join(f"{v:,}" for v in f["star_requests_by_stars"].values())
            + f"), {f['star_requests_superseded']:,} superseded by a higher tier; "
            f"{f['volunteers_crossing_a_threshold_within_the_burst']:,} volunteers "
            "crossed a threshold during the burst; " + _drained(m.reaction)
        ],
        data={"events_per_volunteer": EVENTS_PER_VOLUNTEER, "stars": f},
    )


BENCHMARK = Benchmark(
    name=NAME,
    summary="commendation worker applying a burst of approved hours vs raw kombu",
    run=run,
)
