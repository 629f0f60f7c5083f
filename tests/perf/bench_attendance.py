"""Hour records from a burst of check-outs: the real hours worker turning
``activity.attendance.checked_out`` events into records, against raw kombu
publish + consume of as many messages of the same bodies, measured in the
same run (the method of ``bench_stars``, shared in ``worker_bench.py``).

Subject: ``python -m services.cli.worker hours`` as a separate process (its
check-out consumer is a ``batch_event_handler``: batches of up to
``WORKER_BATCH_SIZE`` events, default 50, prefetch two batches, each batch
ingested by ``RecordCases.ingest_batch`` in one transaction per province
and per 500 drafts: the claims, the source check, the policy, the
volunteers' locks, overlap and the daily cap) on a throw-away, migrated
hours database and its own vhost. Ingesting a check-out asks registration
nothing (the event carries the volunteer number; only honour hours call it)
and reads only hours' own tables: the replica of setting overrides is left
empty, so the platform's default policy applies (exact rounding to 0.01 h,
a 12 h daily cap, donations excluded), as on the integration tests'
platform, where ``tests/integration/test_hours_flow.py`` publishes
check-outs straight to this worker in the same way.

The burst: ``n`` envelopes as activity's outbox writes them at check-out
(``services/activity/usecases/attendance.py``, ``docs/events.md``) for
``n / 4`` volunteers living in real Shaanxi townships
(``services/common/reference/streets.csv``; a sample of ``n / 150`` of
them, so that a session has a few volunteers), four sessions each on
different days of January to March (so no overlap and no daily cap: a
volunteer serves once a day). Each township's volunteer service station
runs three projects (a field, a title, a weekday, a start at 08:30, 09:00,
14:00 or 14:30 China time, 2 to 4 hours a session); a volunteer serves in
the home township's projects, one session in five in another township of
the county. Check-in from 15 min early to 20 min late, check-out from 30
min early to 10 min late (the counted time is clipped to the session); one
check-out in ten was forgotten and closed hours later by the leader at the
real end. One project in thirty is a donation drive: the default policy
excludes it, so its records are stored as rejected, as the worker does
with every refusal. Published in the order of the check-outs, as the
outbox relay publishes the outbox (JSON, persistent, ``message_id`` =
event id, a publisher confirm per message). Reaction time: from the first
publish until the worker has claimed all ``n`` (its ``processed_events``
rows for consumer ``hours.attendance``, committed with the records, polled
every 50 ms).

Baselines, the backlog measurement and the reporting are bench_stars':
see ``tests/perf/worker_bench.py``. After the burst the records are
counted in the database: exactly ``n`` for the burst's attendance ids, the
service ones pending with their clipped time to 0.01 h, the donations
rejected and nothing else; a failed check fails the run (after the report
is printed), a slow one never does.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tests.perf.bench_hours import CONTENT
from tests.perf.runner import Benchmark, Report, Settings
from tests.perf.worker_bench import (
    Description,
    Measured,
    Outcome,
    Stack,
    Subject,
    WorkerBench,
    queue_counts,
    shaanxi_townships,
)

NAME = "attendance"
SUBJECT = Subject(
    service="hours",
    consumer="hours.attendance",  # the worker's consumer name for check-outs
    event_type="activity.attendance.checked_out",
    queue="evt-activity-attendance.checked_out--hours.on_attendance_checked_out",
)
SESSIONS_PER_VOLUNTEER = 4
DAYS = 85  # 5 January to 30 March 2026
CHINA = timedelta(hours=8)
STARTS = (8 * 60 + 30, 9 * 60, 14 * 60, 14 * 60 + 30)  # minutes, China time
PROJECTS_PER_TOWNSHIP = 3
AWAY_SHARE = 0.2  # sessions served in another township of the home county
FORGOTTEN_SHARE = 0.1  # check-outs the leader closed later
DONATION_SHARE = 1 / 30  # projects that are donation drives
CENT = Decimal("0.01")


BENCH = WorkerBench(
    NAME, "Hour records: a burst of check-outs vs raw kombu", "hours worker", SUBJECT
)


# --- the burst --------------------------------------------------------------


@dataclass(frozen=True)
class Project:
    id: str
    title: str
    field: str
    kind: str  # service | donation
    division_code: str  # the township
    organisation_id: str
    organisation_name: str
    weekday: int  # its sessions: every week on this day (0 = 5 January)
    start_minute: int  # China time
    minutes: int  # a session's length


@dataclass(frozen=True)
class Expected:
    """What the worker should store for one check-out."""

    volunteer_id: str
    volunteer_number: str
    division_code: str
    kind: str
    hours: Decimal  # the clipped time; 0 for a donation (rejected)


@dataclass
class World:
    """Projects and their sessions, shared by every phase's volunteers."""

    rng: random.Random
    counties: dict[str, list[str]]
    projects: dict[str, list[Project]] = field(default_factory=dict)
    sessions: dict[tuple[str, int], str] = field(default_factory=dict)

    def ident(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def projects_of(self, township: str) -> list[Project]:
        from services.common.divisions import name_of

        if township not in self.projects:
            rng, org = self.rng, self.ident()
            station = f"{name_of(township) or township}志愿服务站"
            made = []
            for _ in range(PROJECTS_PER_TOWNSHIP):
                donation = rng.random() < DONATION_SHARE
                field_ = rng.choice(list(CONTENT))
                made.append(
                    Project(
                        id=self.ident(),
                        title="爱心衣物捐赠" if donation else CONTENT[field_],
                        field=field_,
                        kind="donation" if donation else "service",
                        division_code=township,
                        organisation_id=org,
                        organisation_name=station,
                        weekday=rng.randrange(7),
                        start_minute=rng.choice(STARTS),
                        minutes=rng.choice((120, 150, 180, 240)),
                    )
                )
            self.projects[township] = made
        return self.projects[township]

    def sessions_of(self, home: str) -> list[tuple[Project, int]]:
        """A volunteer's sessions, each on a day of its own: the home
        township's projects, some in another township of the county."""
        rng, days = self.rng, set()
        out: list[tuple[Project, int]] = []
        while len(out) < SESSIONS_PER_VOLUNTEER:
            where = home
            if rng.random() < AWAY_SHARE:
                where = rng.choice(self.counties[home[:6]])
            project = rng.choice(self.projects_of(where))
            day = rng.randrange(project.weekday, DAYS, 7)
            if day not in days:
                days.add(day)
                out.append((project, day))
        return out

    def session(self, project: Project, day: int) -> str:
        return self.sessions.setdefault((project.id, day), self.ident())


@dataclass
class Burst:
    bodies: list[dict[str, Any]]  # envelopes, in publish order
    expected: dict[str, Expected]  # attendance id → what should be stored
    volunteers: int

    @property
    def townships(self) -> int:
        return len({e.division_code for e in self.expected.values()})


def clipped_hours(start: datetime, end: datetime) -> Decimal:
    """Hours of ``start``..``end`` to 0.01 h, half up (the exact rounding)."""
    seconds = max(0, int((end - start).total_seconds()))
    return (Decimal(seconds) / 3600).quantize(CENT, ROUND_HALF_UP)


def make_burst(world: World, n: int, first_serial: int, first_day: datetime) -> Burst:
    """``n`` check-outs of ``ceil(n / 4)`` new volunteers, four sessions
    each on different days, in the order they were checked out."""
    rng = world.rng
    burst = Burst([], {}, 0)
    timed: list[tuple[datetime, dict[str, Any]]] = []
    townships = [t for places in world.counties.values() for t in places]
    active = sorted(rng.sample(townships, min(len(townships), max(8, n // 150))))
    for serial in range(first_serial, first_serial + -(-n // SESSIONS_PER_VOLUNTEER)):
        volunteer_id, number = world.ident(), f"ZY61{serial:010d}"
        burst.volunteers += 1
        for project, day in world.sessions_of(rng.choice(active)):
            if len(timed) == n:
                break
            where = project.division_code
            start = first_day + timedelta(days=day, minutes=project.start_minute)
            start -= CHINA
            end = start + timedelta(minutes=project.minutes)
            checked_in = start + timedelta(minutes=rng.randint(-15, 20))
            checked_out = end + timedelta(minutes=rng.randint(-30, 10))
            closed_by, occurred = "volunteer", checked_out
            if rng.random() < FORGOTTEN_SHARE:
                closed_by = "leader"
                occurred = checked_out + timedelta(hours=rng.randint(2, 20))
            attendance_id = world.ident()
            counted = clipped_hours(max(checked_in, start), min(checked_out, end))
            burst.expected[attendance_id] = Expected(
                volunteer_id, number, where, project.kind,
                counted if project.kind == "service" else Decimal(0),
            )  # fmt: skip
            body = {
                "event_id": world.ident(),
                "event_type": SUBJECT.event_type,
                "occurred_at": occurred.isoformat(),
                "division_code": where,
                "data": {
                    "attendance_id": attendance_id,
                    "project_id": project.id,
                    "project_title": project.title,
                    "session_id": world.session(project, day),
                    "session_start": start.isoformat(),
                    "session_end": end.isoformat(),
                    "volunteer_id": volunteer_id,
                    "volunteer_number": number,
                    "organisation_id": project.organisation_id,
                    "organisation_name": project.organisation_name,
                    "division_code": where,
                    "service_field": project.field,
                    "kind": project.kind,
                    "checked_in_at": checked_in.isoformat(),
                    "checked_out_at": checked_out.isoformat(),
                    "closed_by": closed_by,
                },
            }
            timed.append((occurred, body))
    timed.sort(key=lambda pair: pair[0])
    burst.bodies = [body for _, body in timed]
    return burst


# --- the checks ---------------------------------------------------------------


def verify(target: Stack, burst: Burst) -> Outcome:
    """Count and compare what the worker stored for the burst, as the
    database owner (row security does not apply)."""
    db, out = target.admin, Outcome()
    n = len(burst.bodies)
    event_ids = [b["event_id"] for b in burst.bodies]
    claimed = db.execute(
        "SELECT count(*) FROM processed_events"
        " WHERE consumer = %s AND event_id = ANY(%s)",
        [SUBJECT.consumer, event_ids],
    ).fetchone()[0]
    out.add(
        "processed events = events published",
        claimed == n,
        f"{claimed:,} of {n:,}",
    )
    rows = db.execute(
        "SELECT source_id, volunteer_id, volunteer_number, division_code,"
        " activity_kind, status, status_reason, hours, event_id"
        " FROM hour_records WHERE source = 'attendance' AND source_id = ANY(%s)",
        [list(burst.expected)],
    ).fetchall()
    out.add(
        "records stored = check-outs published (one each)",
        len(rows) == n and len({r[0] for r in rows}) == n,
        f"{len(rows):,} records for {n:,} check-outs",
    )
    statuses = Counter((r[5], r[6]) for r in rows)
    donations = sum(1 for e in burst.expected.values() if e.kind == "donation")
    out.add(
        "service check-outs pending, donations rejected (excluded_kind), no other",
        statuses[("pending", "")] == n - donations
        and statuses[("rejected", "excluded_kind")] == donations
        and sum(statuses.values()) == statuses[("pending", "")] + donations,
        ", ".join(f"{s or '-'}/{r or '-'}: {c:,}" for (s, r), c in statuses.items()),
    )
    event_of = {b["data"]["attendance_id"]: b["event_id"] for b in burst.bodies}
    wrong = []
    for r in rows:
        e = burst.expected[r[0]]
        want = (e.volunteer_id, e.volunteer_number, e.division_code, e.kind,
                e.hours, event_of[r[0]])  # fmt: skip
        if tuple(r[1:5]) + (r[7], r[8]) != want:
            wrong.append(r[0])
    out.add(
        "each record: volunteer, number, township, kind, event, clipped hours",
        not wrong,
        f"{len(wrong)} mismatches" + (f", e.g. attendance {wrong[0]}" if wrong else ""),
    )
    stored = sum((r[7] for r in rows), Decimal(0))
    expected = sum((e.hours for e in burst.expected.values()), Decimal(0))
    out.add(
        "pending hours = the check-outs' clipped session time",
        stored == expected,
        f"{stored:,} h stored, {expected:,} h expected",
    )
    messages, _ = queue_counts(target.amqp_uri, SUBJECT.queue)
    dead, _ = queue_counts(target.amqp_uri, SUBJECT.queue + ".dlq")
    out.add(
        "worker queue drained, nothing dead-lettered",
        messages == 0 and dead == 0,
        f"{messages} ready, {dead} in the DLQ",
    )
    outbox = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
    out.facts = {
        "records": len(rows),
        "pending": statuses[("pending", "")],
        "rejected_donations": donations,
        "pending_hours": str(stored),
        "volunteers": burst.volunteers,
        "townships": burst.townships,
        "closed_by_leader": sum(
            1 for b in burst.bodies if b["data"]["closed_by"] == "leader"
        ),
        "outbox_rows_written": int(outbox),
    }
    return out


# --- the benchmark ----------------------------------------------------------


def run(settings: Settings) -> Report:
    n = settings.pick(10_000, 1_000)
    world = World(random.Random(20260105), shaanxi_townships())  # noqa: S311
    first_day = datetime(2026, 1, 5, tzinfo=UTC)
    warm = make_burst(world, settings.pick(500, 200), 1, first_day)
    burst = make_burst(world, n, 1_000_000, first_day)
    backlog = make_burst(world, n, 2_000_000, first_day)
    BENCH.log(
        f"the burst's {n:,} check-outs are for {burst.volunteers:,} volunteers "
        f"in {burst.townships:,} townships, {len(world.sessions):,} sessions in all"
    )
    return BENCH.run(
        settings,
        (warm.bodies, burst.bodies, backlog.bodies),
        lambda target: verify(target, burst),
        describe,
    )


def describe(m: Measured, size: float) -> Description:
    f = m.outcome.facts
    return Description(
        bodies=f"{m.reaction.events:,} activity.attendance.checked_out envelopes "
        f"(~{size:.0f} bytes of JSON) for {f['volunteers']:,} volunteers in "
        f"{f['townships']:,} Shaanxi townships, four sessions each on different days",
        notes=[
            f"records: {f['records']:,} stored, {f['pending']:,} pending "
            f"({f['pending_hours']} h), {f['rejected_donations']:,} donation "
            f"check-outs rejected by the default policy; {f['closed_by_leader']:,} "
            f"check-outs closed by a leader; outbox rows written: "
            f"{f['outbox_rows_written']:,} (ingesting records no events)."
        ],
        data={"sessions_per_volunteer": SESSIONS_PER_VOLUNTEER, "records": f},
    )


BENCHMARK = Benchmark(
    name=NAME,
    summary="hours worker recording a burst of check-outs vs raw kombu",
    run=run,
)
