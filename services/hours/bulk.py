"""Bulk import of hour records (a paper register, a province's history) at
COPY speed.

Import implies approval: the rows are service already done and certified by
the office that holds the register, so each imported record is stored
``approved`` (reviewed by the importer), the rollups move in the same
transaction and ``hours.records.imported`` tells the time bank and
commendation's stars. Each chunk is one transaction:

1. rows are checked in Python for what only Python can (formats, times,
   scope, the reference division tree) and volunteers are looked up by
   number in one query per chunk (registration's directory, in the caller's
   scope; only verified volunteers receive hours), and the service
   positions the rows name (``position_id``, optional) by id in one more
   (registration's positions in the caller's scope, as the one-at-a-time
   path asks GetPosition as the caller). This runs on the caller's thread
   while the previous chunk is in the database;
2. the chunk's volunteers' presence rows are read under the presence lock,
   then their records on file that start within a day of a row's service
   day, in every tenant (one index range probe per volunteer and stretch on
   each province partition where presence or the chunk puts them, and
   pending records anywhere), and their platform totals (one key probe
   each in ``hours_volunteer_totals``): a chunk's reads do not grow with
   the volunteers' history;
3. the tenant's policy applies in row order, per volunteer, exactly as one
   at a time would: duplicates (the same file's row again, or the same
   session on record), overlaps with records on file and earlier rows,
   rounding (a blank ``hours`` cell is the session rounded by the policy),
   the daily cap;
4. the kept records are COPYed straight into ``hour_records`` (binary; as
   the owner, since PostgreSQL cannot COPY under row security: the scope is
   checked row by row and once more before the COPY), the rollups and
   presence move in two statements (:func:`rollups.apply_imported`), the
   hours served at positions in one more (:func:`rollups.add_position_hours`,
   as approving each record would), and one outbox event goes per
   ≤ ``EVENT_VOLUNTEERS`` volunteers.

The cross-tenant reads run as the database owner, as the SECURITY DEFINER
functions of the one-at-a-time path do. Re-importing a file imports
nothing twice: a row's id is derived from ``source`` and its row number,
and a row equal to a record on file is a duplicate.

Example::

    with open("register.csv", "rb") as fh:
        report = import_rows(db, Scope("610113"), read_table(fh), source=sha256)
"""

from __future__ import annotations

import contextlib
import math
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from services.common import checks, outbox
from services.common.bulk import (
    BROKEN,
    MAX_KEPT_ERRORS,
    Column,
    ImportReport,
    RowError,
    RowProblems,
    canonical,
    chunked,
    refresh_statistics,
)
from services.common.db import Database, is_postgres
from services.common.divisions import name_of
from services.common.errors import FailedPrecondition, InvalidArgument
from services.common.rollup import array_literal
from services.common.service_fields import SERVICE_FIELDS
from services.common.settings import effective_settings
from services.common.settings_replica import usable
from services.common.tenancy import Scope, ancestors, validate_code
from services.hours import domain, rollups
from services.hours.models import OUTBOX, PolicyNode
from services.hours.validation import MAX_SESSION

COLUMNS = (
    Column("volunteer_number", "志愿者编号"),
    Column("division_code", "区划代码"),
    Column("organisation_name", "组织名称", aliases=("记录单位",)),
    Column("service_field", "服务领域"),
    Column("content", "服务内容"),
    Column("session_start", "开始时间"),
    Column("session_end", "结束时间"),
    Column("hours", "时长", required=False, aliases=("服务时长",)),
    Column("reason", "补录原因", required=False, aliases=("原因",)),
    # The position's id as registration reports it (GET /positions): a
    # position has no other number, and names repeat across divisions.
    Column("position_id", "服务阵地编号", required=False, aliases=("阵地编号",)),
)
LABELS = {c.code: c.label_zh for c in COLUMNS}
EVENT = "hours.records.imported"
EVENT_VOLUNTEERS = 1000  # volunteers per event: a bounded message
# What an import grows, analysed between chunks once autovacuum's rule says
# so (the per-chunk reads rely on their statistics).
GROWN = ("hour_records%", "hours_presence%", "hours_rollup%")
_IDS = uuid.UUID("0c5e7a57-1b0e-4c35-9f6d-8d1f3e2b7a10")
_NUMBER = re.compile(r"^ZY\d{12}$")
_PLAIN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}\Z")  # China time
_FIELD_BY_NAME = {zh: code for code, zh in SERVICE_FIELDS.items()}
# Looks volunteers up by number in a scope: number → (id, status).
VolunteerLookup = Callable[[Scope, Sequence[str]], Mapping[str, tuple[str, str]]]
# Looks service positions up by id in a scope: id → the position's division.
PositionLookup = Callable[[Scope, Sequence[str]], Mapping[str, str]]


@dataclass
class _Row:
    row: int
    number: str
    code: str
    org: str
    field: str
    content: str
    start: datetime
    end: datetime
    given: Decimal | None
    reason: str
    position: str = ""  # registration's position id, normalised; '' for none
    volunteer_id: str = ""
    # Filled on the reading thread once the row has passed its checks.
    id: str = ""
    seconds: int = 0
    day: date | None = None
    month: str = ""


@dataclass
class _Theirs:
    """A record on file of a chunk's volunteer, in any tenant."""

    id: str
    volunteer_id: str
    start: datetime
    end: datetime
    day: date
    status: str
    effective: Decimal  # hours plus corrections


def import_rows(
    db: Database,
    scope: Scope,
    rows: Iterable[Mapping[str, str]],
    *,
    source: str,
    chunk_size: int = 20_000,
    progress: Callable[[int], None] | None = None,
    volunteers: VolunteerLookup | None = None,
    positions: PositionLookup | None = None,
    actor: str = "import",
    clock: Callable[[], datetime] = outbox.now,
) -> ImportReport:
    """Import hour records (rows keyed by the template's headers, English
    or Chinese) into ``scope``; see the module's docstring. ``progress`` is
    called with the number of rows done after each chunk. ``volunteers``
    and ``positions`` default to registration's directory from the
    configuration (for positions, opened only once a row names one)."""
    if not is_postgres(db.engine):
        raise FailedPrecondition(
            "bulk import needs PostgreSQL (COPY); embedded mode imports row by row",
            "批量导入需要 PostgreSQL；嵌入模式请逐行导入",
        )
    if not source:
        raise InvalidArgument.required("source")
    close = None
    if volunteers is None:
        from services.registration.bulk import directory

        volunteers, close = directory()
    configured: _ConfiguredPositions | None = None
    places: PositionLookup
    if positions is None:
        places = configured = _ConfiguredPositions()
    else:
        places = positions
    report = ImportReport()
    policies: dict[str, domain.Policy] = {}
    # One chunk in the database while the next is read and checked: the
    # checks are Python, the database's work waits on a socket (no GIL).
    # Chunks still commit in order, one at a time.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hours-import")
    pending: Future[ImportReport] | None = None
    done = pending_rows = 0
    try:
        for chunk in chunked(canonical(rows, COLUMNS), max(1, chunk_size)):
            good = _checked(scope, chunk, volunteers, places, clock(), report, source)
            if pending is not None:
                _merge(report, pending.result())
                done += pending_rows
                if progress is not None:
                    progress(done)
                pending = None
            pending_rows = len(chunk)
            if good:
                pending = pool.submit(
                    _applied, db, scope, good, source, actor, clock(), policies
                )
            else:
                done += pending_rows
                if progress is not None:
                    progress(done)
        if pending is not None:
            _merge(report, pending.result())
            done += pending_rows
            if progress is not None:
                progress(done)
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(Exception):
                pending.result()
        pool.shutdown(wait=True)
        if close is not None:
            close()
        if configured is not None:
            configured.close()
    report.errors.sort(key=lambda e: e.row)  # stable: fields in column order
    return report


class _ConfiguredPositions:
    """Registration's positions from the configuration (an operator path,
    as :func:`services.registration.bulk.directory`), its database opened
    on the first lookup: most files name no position."""

    def __init__(self) -> None:
        self.db: Database | None = None

    def __call__(self, scope: Scope, ids: Sequence[str]) -> Mapping[str, str]:
        from services.registration.bulk import lookup_positions

        if self.db is None:
            from services.common.config import load

            self.db = Database(load().service("registration"))
        return lookup_positions(self.db, scope, ids)

    def close(self) -> None:
        if self.db is not None:
            self.db.dispose()


def _merge(report: ImportReport, part: ImportReport) -> None:
    report.imported += part.imported
    report.duplicates += part.duplicates
    report.rejected += part.rejected
    room = max(0, MAX_KEPT_ERRORS - len(report.errors))
    report.errors += part.errors[:room]
    report.errors_dropped += part.errors_dropped + max(0, len(part.errors) - room)


def _checked(
    scope: Scope,
    chunk: list[tuple[int, dict[str, str]]],
    volunteers: VolunteerLookup,
    positions: PositionLookup,
    now: datetime,
    report: ImportReport,
    source: str,
) -> list[_Row]:
    """The chunk's rows that pass the checks only Python can make, their
    volunteers and positions looked up (one query each for the chunk) and
    what the record derives from the row alone (its id, service day and
    month) filled in; the others are reported."""
    report.rows += len(chunk)
    parsed: list[_Row] = []
    for number, values in chunk:
        problems = RowProblems(number, LABELS)
        row = _parse(number, values, scope, now, problems)
        if problems or row is None:
            report.reject(problems.errors)
        else:
            parsed.append(row)
    found = volunteers(scope, sorted({r.number for r in parsed}))
    named = sorted({r.position for r in parsed if r.position})
    places = positions(scope, named) if named else {}
    good: list[_Row] = []
    for r in parsed:
        got = found.get(r.number)
        unplaced = bool(r.position) and r.position not in places
        if got is None or got[1] != "verified" or unplaced:
            report.reject(_unfound(r, got, unplaced))
        else:
            r.volunteer_id = got[0]
            r.id = str(uuid.uuid5(_IDS, f"{scope.code}/{source}/{r.row}"))
            r.seconds = int((r.end - r.start).total_seconds())
            local = r.start.astimezone(domain.CST)  # as service_day, month_of
            r.day = local.date()
            r.month = f"{local.year:04d}-{local.month:02d}"
            good.append(r)
    return good


def _applied(
    db: Database,
    scope: Scope,
    good: list[_Row],
    source: str,
    actor: str,
    now: datetime,
    policies: dict[str, domain.Policy],
) -> ImportReport:
    """One chunk's transaction (on the import's worker thread); what it
    imported, found twice or refused."""
    part = ImportReport()
    with db._factory() as s, s.begin():
        _apply(db, s, scope, good, source, actor, now, part, policies)
    with db._factory() as s, s.begin():
        refresh_statistics(s, GROWN)
    return part


def _parse(
    number: int,
    v: dict[str, str],
    scope: Scope,
    now: datetime,
    p: RowProblems,
) -> _Row | None:
    if BROKEN in v:
        p.add("file", "file.format", f"the line cannot be read as CSV: {v[BROKEN]}",
              "该行不是有效的 CSV")  # fmt: skip
        return None
    for col in COLUMNS:
        if col.required and not v.get(col.code):
            err = InvalidArgument.required(col.code)
            p.add_error(err)
    vol = v.get("volunteer_number", "").upper()
    if vol and not _NUMBER.match(vol):
        p.add("volunteer_number", "volunteer_number.format",
              "a volunteer number is ZY followed by 12 digits",
              "志愿者编号为 ZY 加 12 位数字")  # fmt: skip
    code = v.get("division_code", "")
    if code:
        problem = _code_problem(code, scope.code)
        if isinstance(problem, InvalidArgument):
            p.add_error(problem, "division_code")
        elif problem is not None:
            p.add("division_code", *problem)
    for key, limit in (("organisation_name", 200), ("content", 200), ("reason", 500)):
        if len(v.get(key, "")) > limit:
            p.add_error(InvalidArgument.too_long(key, limit))
    field = v.get("service_field", "")
    field = _FIELD_BY_NAME.get(field, field)
    if field and field not in SERVICE_FIELDS:
        p.add("service_field", "service_field.known",
              f"unknown service field {field!r}",
              f"未知的服务领域“{field}”")  # fmt: skip
    start = _moment(v.get("session_start", ""), "session_start", p)
    end = _moment(v.get("session_end", ""), "session_end", p)
    if start and end:
        if end <= start:
            p.add("session_end", "session_end.after_start",
                  "the session must end after it starts",
                  "活动结束时间须晚于开始时间")  # fmt: skip
        elif end - start > MAX_SESSION:
            p.add("session_end", "session_end.max_duration",
                  "a session lasts at most 24 hours",
                  "单次活动时长不能超过 24 小时")  # fmt: skip
        elif end > now:
            p.add("session_end", "session_end.past",
                  "hours are recorded for service already done",
                  "只能记录已完成的服务时长")  # fmt: skip
    given = _amount(v.get("hours", ""), start, end, p)
    cell = v.get("position_id")
    position = _position(cell) if cell else ""
    if isinstance(position, InvalidArgument):
        p.add_error(position, "position_id")
    if p or start is None or end is None or isinstance(position, InvalidArgument):
        return None
    return _Row(number, vol, code, v["organisation_name"], field, v["content"],
                start, end, given, v.get("reason", ""), position)  # fmt: skip


@lru_cache(maxsize=4096)
def _position(value: str) -> str | InvalidArgument:
    """A row's position id, as the one-at-a-time path reads it (a UUID,
    hyphenated, lower case; '' for none), or what is wrong with it; ids
    repeat across a file's rows: worked out once per value."""
    try:
        return checks.ident(value, "position_id", required=False)
    except InvalidArgument as err:
        return err


@lru_cache(maxsize=4096)
def _code_problem(
    code: str, scope: str
) -> InvalidArgument | tuple[str, str, str] | None:
    """What is wrong with a row's division code in ``scope`` (codes repeat
    across a file's rows: worked out once per code)."""
    try:
        validate_code(code)
    except InvalidArgument as err:
        return err
    if not code.startswith(scope):
        return ("division_code.scope", f"{code} lies outside your area {scope}",
                f"区划 {code} 不在您的辖区 {scope} 内")  # fmt: skip
    if not name_of(code):
        return ("division_code.known", f"no division has the code {code}",
                f"没有代码为 {code} 的行政区划")  # fmt: skip
    return None


def _moment(value: str, key: str, p: RowProblems) -> datetime | None:
    """A spreadsheet time (``2026-11-01 09:00``, ``2026/11/1 9:00``) is
    China time; an RFC 3339 time keeps its offset."""
    if not value:
        return None
    if len(value) == 16 and _PLAIN.match(value):  # the template's own form
        with contextlib.suppress(ValueError):
            return datetime(int(value[:4]), int(value[5:7]), int(value[8:10]),
                            int(value[11:13]), int(value[14:16]),
                            tzinfo=domain.CST)  # fmt: skip
    raw = value.replace("/", "-").replace("T", " ").replace("Z", "+00:00")
    m = re.match(
        r"^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{2})(?::(\d{2}))?(.*)$", raw
    )
    try:
        if m is None:
            raise ValueError(value)
        y, mo, d, h, mi, sec, rest = m.groups()
        moment = datetime(int(y), int(mo), int(d), int(h), int(mi), int(sec or 0))
        rest = rest.strip()
        if rest:
            offset = datetime.fromisoformat(f"2000-01-01T00:00:00{rest}").tzinfo
            return moment.replace(tzinfo=offset)
        return moment.replace(tzinfo=domain.CST)
    except ValueError:
        p.add(key, f"{key}.format",
              "must be a time such as 2026-11-01 09:00 (China time) or RFC 3339",
              "须为时间，如 2026-11-01 09:00（北京时间）")  # fmt: skip
        return None


def _amount(
    value: str, start: datetime | None, end: datetime | None, p: RowProblems
) -> Decimal | None:
    if not value:
        return None  # the policy rounds the session
    try:
        got = float(value)
    except ValueError:
        got = math.nan
    if not math.isfinite(got) or domain.hours(got) <= 0:
        p.add("hours", "hours.positive", "must be a number more than 0",
              "须为大于 0 的数字")  # fmt: skip
        return None
    amount = domain.hours(got)
    if start and end and end > start:
        limit = domain.hours((end - start).total_seconds() / 3600)
        if amount > limit:
            p.add("hours", "hours.max", f"must be at most {limit} hours",
                  f"不能超过 {limit} 小时")  # fmt: skip
    return amount


def _unfound(r: _Row, got: tuple[str, str] | None, unplaced: bool) -> list[RowError]:
    """What a row's lookups found wrong: its volunteer (unknown in the
    scope, or not verified), its position (unknown or outside the scope:
    alike, as GetPosition answers the caller)."""
    problems = RowProblems(r.row, LABELS)
    if got is None:
        problems.add("volunteer_number", "volunteer_number.known",
                     f"no volunteer numbered {r.number} in your area",
                     f"您的辖区内没有编号为“{r.number}”的志愿者")  # fmt: skip
    elif got[1] != "verified":
        problems.add("volunteer_number", "volunteer.verified",
                     "only verified volunteers receive hours",
                     "只有已审核通过的志愿者才能记录时长")  # fmt: skip
    if unplaced:
        problems.add("position_id", "position_id.known",
                     f"no service position {r.position} in your area",
                     f"您的辖区内没有编号为“{r.position}”的服务阵地")  # fmt: skip
    return problems.errors


def _apply(
    db: Database,
    s: Session,
    scope: Scope,
    rows: list[_Row],
    source: str,
    actor: str,
    now: datetime,
    report: ImportReport,
    policies: dict[str, domain.Policy],
) -> None:
    _policies(s, {r.code for r in rows} - set(policies), policies)
    # Presence (the volunteers' approved hours by division and month) is
    # read once, under the lock its writes need, for where to look for the
    # volunteers' records and for the distinct counts.
    rollups.lock_all(s)
    before = rollups.present(s, sorted({r.volunteer_id for r in rows}))
    where, parts = _where(s, rows, before)
    theirs = _theirs(s, rows, where, parts)
    kept, refused = _decide(rows, theirs, policies)
    for r, state in refused:
        if state == "duplicate":
            report.duplicates += 1
            continue
        problems = RowProblems(r.row, LABELS)
        err = _refusal(state)
        problems.add(err.field or "session_start", err.rule or state,
                     err.message_en, err.message_zh)  # fmt: skip
        report.reject(problems.errors)
    if not kept:
        return
    # The scope was checked row by row; checked again here because COPY
    # runs as the table's owner: PostgreSQL cannot COPY under row security,
    # and an INSERT from a staging table would cost as much as the COPY.
    outside = sorted({k.row.code for k in kept if not scope.contains(k.row.code)})
    if outside:
        raise FailedPrecondition(
            f"rows outside the import's area {scope.code}: {outside[:5]}",
            f"有记录不在导入辖区 {scope.code} 内：{outside[:5]}",
        )
    totals = _totals(s, (r.volunteer_id for r in rows))  # before the COPY
    event_id = str(uuid.uuid4())
    _copy_records(s, kept, event_id, actor[:100], now)
    report.imported += len(kept)
    rollups.apply_imported(
        s,
        ((k.row.volunteer_id, k.row.code, k.row.month, k.row.field, k.credited)
         for k in kept),
        before,
    )  # fmt: skip
    rollups.add_position_hours(
        s, ((k.row.code, k.row.month, k.credited) for k in kept if k.row.position)
    )
    _announce(s, scope, event_id, kept, totals)


_RECORD_COLUMNS = (
    "id",
    "source",
    "source_id",
    "event_id",
    "volunteer_id",
    "volunteer_number",
    "division_code",
    "organisation_id",
    "organisation_name",
    "service_field",
    "activity_kind",
    "content",
    "started_at",
    "ended_at",
    "duration_seconds",
    "service_day",
    "month",
    "rounding",
    "rounded_hours",
    "hours",
    "capped_hours",
    "note",
    "status",
    "status_reason",
    "recorded_by",
    "recorded_at",
    "reviewed_by",
    "reviewed_at",
    "position_id",
)
_RECORD_TYPES = (
    "text", "text", "text", "text", "text", "text", "text", "text", "text", "text",
    "text", "text", "timestamptz", "timestamptz", "int4", "date", "text", "text",
    "numeric", "numeric", "numeric", "text", "text", "text", "text", "timestamptz",
    "text", "timestamptz", "text",
)  # fmt: skip


def _copy_records(
    s: Session, kept: list[_Kept], event_id: str, actor: str, now: datetime
) -> None:
    """The chunk's records, approved, straight into hour_records (binary
    COPY, in row order; PostgreSQL routes each to its partition)."""
    raw = s.connection().connection.driver_connection
    if raw is None:  # a pooled connection always has one; typing says maybe
        raise RuntimeError("COPY needs a live database connection")
    cols = ", ".join(_RECORD_COLUMNS)
    sql = f"COPY hour_records ({cols}) FROM STDIN (FORMAT BINARY)"
    with raw.cursor() as cur, cur.copy(sql) as cp:
        cp.set_types(_RECORD_TYPES)
        for k in kept:
            r = k.row
            cp.write_row((
                r.id, "import", r.id, event_id, r.volunteer_id, r.number, r.code,
                "", r.org, r.field, "service", r.content, r.start, r.end,
                r.seconds, r.day, r.month, k.rounding, k.rounded, k.credited,
                k.capped, k.note, "approved", "", actor, now, actor, now,
                r.position or None,
            ))  # fmt: skip


def _windows(rows: list[_Row]) -> list[tuple[str, datetime, datetime]]:
    """Per volunteer, the stretches of time a chunk's rows can collide with:
    from the start of the China day before each row's service day to the
    end of the day after it (a session lasts at most a day, so an overlap
    starts within a day of the row; the daily cap reads the whole service
    day). Touching stretches are joined; (volunteer, from, to), sorted."""
    days: dict[str, set[date]] = defaultdict(set)
    for r in rows:
        if r.day is not None:
            days[r.volunteer_id].add(r.day)
    out: list[tuple[str, datetime, datetime]] = []
    for v in sorted(days):
        lo = hi = None
        for d in sorted(days[v]):
            a, b = _day_start(d) - _DAY, _day_start(d) + 2 * _DAY
            if hi is not None and lo is not None and a <= hi:
                hi = max(hi, b)
                continue
            if lo is not None and hi is not None:
                out.append((v, lo, hi))
            lo, hi = a, b
        if lo is not None and hi is not None:
            out.append((v, lo, hi))
    return out


_DAY = timedelta(days=1)


@lru_cache(maxsize=4096)
def _day_start(d: date) -> datetime:
    """Midnight of a China day, as an aware moment."""
    return datetime(d.year, d.month, d.day, tzinfo=domain.CST)


def _where(
    s: Session, rows: list[_Row], presence: Mapping[rollups.Key, int]
) -> tuple[dict[str, set[str]], dict[str, str]]:
    """Where the chunk's volunteers may have records: by province, each
    volunteer in the chunk's own provinces and in any other where presence
    shows approved hours of theirs; and hour_records' partition per
    province code."""
    where: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        where[r.code[:2]].add(r.volunteer_id)
    for v, code, _, _ in presence:
        where[code[:2]].add(v)
    for code in where:
        if not (code.isdigit() and len(code) == 2):
            raise ValueError(f"not a province code: {code!r}")
    parts = dict(
        s.execute(
            text(
                "SELECT substr(c.relname, 14), c.relname FROM pg_inherits i"
                " JOIN pg_class c ON c.oid = i.inhrelid"
                " WHERE i.inhparent = 'hour_records'::regclass"
            )
        )
        .tuples()
        .all()
    )
    return where, parts


def _in_province(parts: Mapping[str, str], code: str) -> tuple[str, str]:
    """The table to read a province's records from and the condition that
    keeps it to them: its own partition (through the parent, run-time
    pruning costs ~30x an index probe), else the default one by range."""
    table = parts.get(code)
    if table is not None:
        return table, ""
    return "hour_records", (
        f" AND h.division_code >= '{code}' AND h.division_code < '{code}~'"
    )


def _totals(s: Session, volunteers: Iterable[str]) -> dict[str, Decimal]:
    """Each volunteer's approved hours on the whole platform (corrections
    included) before the chunk: the event's ``volunteer_total_hours`` as
    approving one record reports it. One key probe per volunteer: the
    totals are kept at write time (hours revision 0010), so a busy
    volunteer's history is not summed again for every chunk."""
    got = s.execute(
        text("SELECT volunteer_id, hours FROM hours_volunteer_totals"
             " WHERE volunteer_id = ANY(CAST(:v AS text[]))"),
        {"v": array_literal(sorted(set(volunteers)))},
    ).tuples()  # fmt: skip
    return {v: Decimal(h) for v, h in got}


def _theirs(
    s: Session,
    rows: list[_Row],
    where: Mapping[str, set[str]],
    parts: Mapping[str, str],
) -> list[_Theirs]:
    """The records on file of the chunk's volunteers, in every tenant, that
    the duplicate, overlap and daily-cap checks read, with their effective
    hours (corrections included): those starting within a day of a row's
    service day (:func:`_windows`), approved or pending. One index range
    probe per (volunteer, stretch) and partition on (volunteer_id,
    started_at), so a chunk costs the same however much history its
    volunteers already have (a busy volunteer's whole history read for
    every chunk made the national build quadratic). hour_records is
    partitioned by province and a volunteer may have served in any: the
    chunk's own provinces and those where presence shows their approved
    hours are probed (``where``, :func:`_where`), and pending records
    anywhere through their partial index. The planner is kept off
    sequential scans: the partitions' statistics lag far behind a bulk
    load."""
    windows = _windows(rows)
    cols = (
        "h.id, h.volunteer_id, h.started_at, h.ended_at, h.service_day,"
        " h.status, h.hours"
    )
    selects: list[str] = []
    params: dict[str, str] = {}
    for i, (code, mine) in enumerate(sorted(where.items())):
        here = [w for w in windows if w[0] in mine]
        params[f"v{i}"] = array_literal([w[0] for w in here])
        params[f"a{i}"] = array_literal([w[1].isoformat() for w in here])
        params[f"b{i}"] = array_literal([w[2].isoformat() for w in here])
        # One index range probe per (volunteer, stretch) and province.
        table, extra = _in_province(parts, code)
        selects.append(
            f"SELECT {cols} FROM unnest(CAST(:v{i} AS text[]),"
            f" CAST(:a{i} AS timestamptz[]), CAST(:b{i} AS timestamptz[]))"
            f" AS w(v, a, b) JOIN {table} h ON h.volunteer_id = w.v"
            f" AND h.started_at >= w.a AND h.started_at < w.b{extra}"
        )
    # Pending records elsewhere (no presence row shows where): few, read
    # through their partial index in every partition.
    selects.append(
        f"SELECT {cols} FROM hour_records h WHERE h.status = 'pending'"
        " AND h.volunteer_id = ANY(CAST(:vols AS text[]))"
    )
    params["vols"] = array_literal(sorted({r.volunteer_id for r in rows}))
    s.execute(text("SET LOCAL enable_seqscan = off"))
    found: dict[str, _Theirs] = {}
    for rid, v, start, end, day, status, hours in s.execute(
        text(" UNION ALL ".join(selects)), params
    ).tuples():
        found[rid] = _Theirs(rid, v, start, end, day, status, Decimal(hours))
    s.execute(text("SET LOCAL enable_seqscan = on"))
    if found:
        for rid, delta in s.execute(
            text("SELECT record_id, sum(delta_hours) FROM hour_corrections"
                 " WHERE record_id = ANY(CAST(:ids AS text[])) GROUP BY 1"),
            {"ids": array_literal(list(found))},
        ).tuples():  # fmt: skip
            found[rid].effective += Decimal(delta)
    return list(found.values())


def _policies(s: Session, codes: set[str], into: dict[str, domain.Policy]) -> None:
    """The effective policy at each code, from one read of the overrides of
    all their ancestors (as :meth:`Repository.policy` computes one)."""
    if not codes:
        return
    chain = {a for c in codes for a in ancestors(c)}
    nodes = s.execute(
        select(PolicyNode).where(PolicyNode.division_code.in_(sorted(chain)))
    ).scalars()
    overrides = {n.division_code: usable(n.overrides) for n in nodes}
    for code in codes:
        mine = {a: overrides[a] for a in ancestors(code) if a in overrides}
        into[code] = domain.Policy.from_settings(effective_settings(code, mine))


@dataclass
class _Kept:
    """A row to import, as the policy credits it."""

    row: _Row
    rounding: str
    rounded: Decimal
    credited: Decimal
    capped: Decimal
    note: str


_ACTIVE = ("pending", "approved")


def _decide(
    rows: list[_Row], theirs: list[_Theirs], policies: dict[str, domain.Policy]
) -> tuple[list[_Kept], list[tuple[_Row, str]]]:
    """The policy in row order, as one at a time would apply it: a row is a
    duplicate of a record on file (its id, or the same session pending or
    approved), overlaps one, then is a duplicate of or overlaps an earlier
    row of the file; then rounding and the daily cap over what the day
    already holds (on record and earlier in the file). Returns the rows to
    import and the refused ones with their reason."""
    ids = {t.id for t in theirs}
    on_file: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    # Keyed by (volunteer, China day); a checked row's day is always set.
    day_total: dict[tuple[str, date | None], Decimal] = defaultdict(Decimal)
    for t in theirs:
        if t.status in _ACTIVE:
            on_file[t.volunteer_id].append((t.start, t.end))
            day_total[(t.volunteer_id, t.day)] += t.effective
    taken: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    kept: list[_Kept] = []
    refused: list[tuple[_Row, str]] = []
    for r in sorted(rows, key=lambda x: x.row):
        state = "ok"
        if r.id in ids:
            state = "duplicate"
        else:
            for spans in (on_file.get(r.volunteer_id, ()), taken[r.volunteer_id]):
                if any(a == r.start and b == r.end for a, b in spans):
                    state = "duplicate"
                elif any(a < r.end and r.start < b for a, b in spans):
                    state = "overlap"
                if state != "ok":
                    break
        if state != "ok":
            refused.append((r, state))
            continue
        policy = policies[r.code]
        rounding = "manual" if r.given is not None else policy.rounding
        rounded = (
            r.given if r.given is not None
            else domain.round_hours(r.seconds, policy.rounding)
        )  # fmt: skip
        key = (r.volunteer_id, r.day)
        credited, capped = domain.apply_cap(
            day_total.get(key, Decimal(0)), rounded, policy.daily_cap
        )
        if rounded <= 0:
            refused.append((r, "no_service_time"))
        elif credited <= 0:
            refused.append((r, "daily_cap"))
        else:
            taken[r.volunteer_id].append((r.start, r.end))
            day_total[key] += credited
            note = f"补录：{r.reason}" if r.reason else "批量导入"
            if capped:
                note += f"；每日上限 {policy.daily_cap} 小时：{capped} 小时未计入"
            kept.append(_Kept(r, rounding, rounded, credited, capped, note))
    return kept, refused


def _refusal(state: str) -> InvalidArgument | FailedPrecondition:
    if state == "overlap":
        return FailedPrecondition(
            "the volunteer already has hours recorded for part of this time",
            "该志愿者在此时段已有时长记录",
            field="session_start", rule="record.overlap",
        )  # fmt: skip
    if state == "daily_cap":
        return FailedPrecondition(
            "the volunteer has reached the daily cap for that day",
            "该志愿者当日时长已达上限", field="hours", rule="record.daily_cap",
        )  # fmt: skip
    return InvalidArgument(
        "session_start", "record.no_service_time",
        "no service time once rounded by the policy",
        "按时长规则取整后没有可计入的服务时长",
    )  # fmt: skip


def _announce(
    s: Session,
    scope: Scope,
    event_id: str,
    kept: list[_Kept],
    before: Mapping[str, Decimal],
) -> None:
    """``hours.records.imported``: per volunteer, the hours added per
    service year and the platform total after the chunk, in parts of at
    most EVENT_VOLUNTEERS volunteers. Every part names the chunk (its
    ``chunk_id`` is the records' ``event_id``)."""
    total: dict[str, Decimal] = defaultdict(Decimal, before)
    mine: dict[str, dict[str, Any]] = {}
    for k in kept:
        r = k.row
        entry = mine.get(r.volunteer_id)
        if entry is None:
            entry = mine[r.volunteer_id] = {
                "number": r.number, "code": r.code, "years": defaultdict(Decimal),
            }  # fmt: skip
        entry["number"] = min(entry["number"], r.number)
        entry["code"] = min(entry["code"], r.code)
        entry["years"][r.month[:4]] += k.credited
        total[r.volunteer_id] += k.credited
    entries = [
        {
            "volunteer_id": v, "volunteer_number": e["number"],
            "division_code": e["code"],
            "years": {y: float(h) for y, h in sorted(e["years"].items())},
            "volunteer_total_hours": float(total[v]),
        }
        for v, e in sorted(mine.items())
    ]  # fmt: skip
    parts = list(chunked(entries, EVENT_VOLUNTEERS))
    for i, part in enumerate(parts, start=1):
        outbox.record(s, OUTBOX, EVENT, division_code=scope.code, data={
            "chunk_id": event_id, "part": i, "parts": len(parts),
            "volunteers": part,
        })  # fmt: skip


def _bank_scope(codes: set[str]) -> Scope:
    """The narrowest scope holding every record's bank (its county)."""
    banks = {domain.bank_code(c) for c in codes}
    for width in (6, 4, 2):
        if len({b[:width] for b in banks}) == 1:
            return Scope(next(iter(banks))[:width])
    raise ValueError("an import event's records must lie in one province")


# -- the time bank's side of hours.records.imported -----------------------------


def deposit_imported(
    db: Database,
    consumer: str,
    event_id: str,
    data: Mapping[str, Any],
    clock: Callable[[], datetime] = outbox.now,
) -> int:
    """Deposit each approved record of one part of an import (its volunteers'
    records of the chunk) in its county's time bank, × the deposit ratio in
    force at the record's division, exactly as :meth:`reconcile` would after
    ``hours.record.approved``; a record already reconciled (a correction got
    there first) is left to that path. One transaction; returns the number
    of deposits."""
    from services.hours.bank_repository import BankRepository
    from services.hours.models import PROCESSED

    chunk = str(data["chunk_id"])
    vols = [str(v["volunteer_id"]) for v in data["volunteers"]]
    codes = {validate_code(str(v["division_code"])) for v in data["volunteers"]}
    scope = _bank_scope(codes)
    with db.session(scope) as s:
        if not outbox.claim(s, PROCESSED, consumer, event_id):
            return 0
        repo = BankRepository(s, scope)
        records = s.execute(text(
            "SELECT r.id, r.volunteer_id, r.division_code, r.hours + coalesce(("
            " SELECT sum(c.delta_hours) FROM hour_corrections c"
            " WHERE c.record_id = r.id), 0)"
            " FROM hour_records r WHERE r.event_id = :chunk"
            " AND r.volunteer_id = ANY(:vols) AND r.status = 'approved'"
            " AND NOT EXISTS (SELECT 1 FROM timebank_transactions t"
            "  WHERE t.record_id = r.id) ORDER BY r.id"
        ), {"chunk": chunk, "vols": vols}).tuples().all()  # fmt: skip
        ratios: dict[str, Decimal] = {}
        posts = []
        for record_id, volunteer_id, code, effective in records:
            if code not in ratios:
                ratios[code] = repo.policy(code).deposit_ratio
            amount = domain.deposit_amount(Decimal(effective), ratios[code])
            if amount > 0:
                posts.append(
                    (record_id, volunteer_id, code, Decimal(effective), amount)
                )
        if not posts:
            return 0
        now = clock()
        found = {(domain.bank_code(c), v) for _, v, c, _, _ in posts}
        # Inserted in key order: two parts handled at once wait on each
        # other's new rows (the bank's own account above all) in one order,
        # never in a cycle (a set's order deadlocked them).
        accounts = sorted(found | {(b, "") for b, _ in found})
        s.execute(
            text(
                "INSERT INTO timebank_accounts (id, division_code, kind, volunteer_id,"
                " created_at) SELECT gen_random_uuid()::text, b, CASE WHEN v = ''"
                " THEN 'bank' ELSE 'volunteer' END, v, :now"
                " FROM unnest(CAST(:banks AS text[]), CAST(:vols AS text[])) AS a(b, v)"
                " ON CONFLICT DO NOTHING"
            ),
            {"banks": [b for b, _ in accounts], "vols": [v for _, v in accounts],
             "now": now},
        )  # fmt: skip
        ids = {
            (b, v): i
            for i, b, v in s.execute(text(
                "SELECT id, division_code, volunteer_id FROM timebank_accounts"
                " WHERE (division_code, volunteer_id) IN (SELECT * FROM unnest("
                " CAST(:banks AS text[]), CAST(:vols AS text[])))"
            ), {"banks": [b for b, _ in accounts], "vols": [v for _, v in accounts]})
        }  # fmt: skip
        txs, legs = [], []
        for record_id, volunteer_id, code, effective, amount in posts:
            bank, tx = domain.bank_code(code), str(uuid.uuid4())
            ratio = ratios[code]
            txs.append({
                "id": tx, "bank": bank, "vol": volunteer_id, "rec": record_id,
                "ratio": ratio, "desc": f"服务时长 {effective} 小时 × {ratio}",
                "key": f"{consumer}/{event_id}/{record_id}", "now": now,
            })  # fmt: skip
            for e in domain.deposit(bank, volunteer_id, amount):
                owner = "" if e.account.startswith("bank:") else volunteer_id
                legs.append({"tx": tx, "acc": ids[(bank, owner)], "bank": bank,
                             "amount": e.amount})  # fmt: skip
        s.execute(
            text(
                "INSERT INTO timebank_transactions (id, division_code, kind,"
                " volunteer_id, record_id, ratio, description, actor, request_key,"
                " created_at) VALUES (:id, :bank, 'deposit', :vol, :rec, :ratio,"
                " :desc, 'system', :key, :now)"
            ),
            txs,
        )
        s.execute(
            text(
                "INSERT INTO timebank_entries (transaction_id, account_id,"
                " division_code, amount) VALUES (:tx, :acc, :bank, :amount)"
            ),
            legs,
        )
        return len(txs)
