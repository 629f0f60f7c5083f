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
   scope; only verified volunteers receive hours);
2. the good rows are COPYed into a TEMP staging table; SQL marks duplicates
   (the same file's row again, or the same volunteer and session already on
   record) and overlaps with existing records, across tenants, and reads the
   volunteers' existing day totals;
3. the tenant's policy applies in row order, per volunteer, exactly as one
   at a time would: overlaps inside the file, rounding (a blank ``hours``
   cell is the session rounded by the policy), the daily cap;
4. ``INSERT … SELECT`` under the application role and the caller's scope
   (row security refuses anything outside it), the rollups once per group,
   and one outbox event per ≤ ``EVENT_VOLUNTEERS`` volunteers.

The cross-tenant reads (overlap, day totals, platform totals) run as the
database owner, as the SECURITY DEFINER functions of the one-at-a-time path
do; writes of facts run as the application role. Re-importing a file
imports nothing twice: a row's id is derived from ``source`` and its row
number, and a row equal to a record on file is a duplicate.

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
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from services.common import outbox
from services.common.bulk import (
    BROKEN,
    MAX_KEPT_ERRORS,
    Column,
    ImportReport,
    RowProblems,
    canonical,
    chunked,
    copy_rows,
)
from services.common.db import Database, is_postgres
from services.common.divisions import name_of
from services.common.errors import FailedPrecondition, InvalidArgument
from services.common.rollup import month_of
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
)
LABELS = {c.code: c.label_zh for c in COLUMNS}
EVENT = "hours.records.imported"
EVENT_VOLUNTEERS = 1000  # volunteers per event: a bounded message
_IDS = uuid.UUID("0c5e7a57-1b0e-4c35-9f6d-8d1f3e2b7a10")
_NUMBER = re.compile(r"^ZY\d{12}$")
_FIELD_BY_NAME = {zh: code for code, zh in SERVICE_FIELDS.items()}
# Looks volunteers up by number in a scope: number → (id, status).
VolunteerLookup = Callable[[Scope, Sequence[str]], Mapping[str, tuple[str, str]]]

STAGE = "hours_import_stage"
_STAGE_COLUMNS = (
    "row_no", "id", "volunteer_id", "volunteer_number", "division_code",
    "organisation_name", "service_field", "content", "started_at", "ended_at",
    "service_day", "month", "duration_seconds", "rounding", "rounded", "note",
)  # fmt: skip


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
    volunteer_id: str = ""


def import_rows(
    db: Database,
    scope: Scope,
    rows: Iterable[Mapping[str, str]],
    *,
    source: str,
    chunk_size: int = 20_000,
    progress: Callable[[int], None] | None = None,
    volunteers: VolunteerLookup | None = None,
    actor: str = "import",
    clock: Callable[[], datetime] = outbox.now,
) -> ImportReport:
    """Import hour records (rows keyed by the template's headers, English
    or Chinese) into ``scope``; see the module's docstring. ``progress`` is
    called with the number of rows done after each chunk. ``volunteers``
    defaults to registration's directory from the configuration."""
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
            good = _checked(scope, chunk, volunteers, clock(), report)
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
    report.errors.sort(key=lambda e: e.row)  # stable: fields in column order
    return report


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
    now: datetime,
    report: ImportReport,
) -> list[_Row]:
    """The chunk's rows that pass the checks only Python can make, their
    volunteers looked up; the others are reported."""
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
    good: list[_Row] = []
    for r in parsed:
        problems = RowProblems(r.row, LABELS)
        got = found.get(r.number)
        if got is None:
            problems.add("volunteer_number", "volunteer_number.known",
                         f"no volunteer numbered {r.number} in your area",
                         f"您的辖区内没有编号为“{r.number}”的志愿者")  # fmt: skip
        elif got[1] != "verified":
            problems.add("volunteer_number", "volunteer.verified",
                         "only verified volunteers receive hours",
                         "只有已审核通过的志愿者才能记录时长")  # fmt: skip
        if problems:
            report.reject(problems.errors)
        else:
            r.volunteer_id = got[0]  # type: ignore[index]
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
        try:
            validate_code(code)
            if not scope.contains(code):
                p.add("division_code", "division_code.scope",
                      f"{code} lies outside your area {scope.code}",
                      f"区划 {code} 不在您的辖区 {scope.code} 内")  # fmt: skip
            elif not name_of(code):
                p.add("division_code", "division_code.known",
                      f"no division has the code {code}",
                      f"没有代码为 {code} 的行政区划")  # fmt: skip
        except InvalidArgument as err:
            p.add_error(err, "division_code")
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
    if p or start is None or end is None:
        return None
    return _Row(number, vol, code, v["organisation_name"], field, v["content"],
                start, end, given, v.get("reason", ""))  # fmt: skip


def _moment(value: str, key: str, p: RowProblems) -> datetime | None:
    """A spreadsheet time (``2026-11-01 09:00``, ``2026/11/1 9:00``) is
    China time; an RFC 3339 time keeps its offset."""
    if not value:
        return None
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
    # Hash joins over a chunk's volunteers' records stay in memory.
    s.execute(text("SET LOCAL work_mem = '64MB'"))
    _policies(s, {r.code for r in rows} - set(policies), policies)
    s.execute(text(
        f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (row_no int PRIMARY KEY,"
        " id text, volunteer_id text, volunteer_number text, division_code text,"
        " organisation_name text, service_field text, content text,"
        " started_at timestamptz, ended_at timestamptz, service_day date,"
        " month text, duration_seconds int, rounding text, rounded numeric(10,2),"
        " note text, status text NOT NULL DEFAULT 'ok', credited numeric(10,2),"
        " capped numeric(10,2)) ON COMMIT DELETE ROWS"
    ))  # fmt: skip
    s.execute(text(f"GRANT SELECT ON {STAGE} TO {db.app_role}"))
    copy_rows(
        s,
        STAGE,
        _STAGE_COLUMNS,
        (_staged(r, scope.code, source, policies) for r in rows),
    )
    s.execute(text(f"ANALYZE {STAGE}"))
    _theirs(s)
    # Duplicates: this file's row again, or the same session on record.
    s.execute(text(
        f"UPDATE {STAGE} st SET status = 'duplicate' WHERE EXISTS ("
        " SELECT 1 FROM zy_theirs t WHERE t.id = st.id)"
    ))  # fmt: skip
    # Two statements, not one with OR: an OR keeps each EXISTS a subplan
    # run per row (quadratic once the volunteers' records outgrow work_mem).
    s.execute(text(
        f"UPDATE {STAGE} st SET status = 'duplicate' WHERE status = 'ok'"
        " AND EXISTS (SELECT 1 FROM zy_theirs t"
        " WHERE t.volunteer_id = st.volunteer_id AND t.started_at = st.started_at"
        " AND t.ended_at = st.ended_at AND t.status IN ('pending', 'approved'))"
    ))  # fmt: skip
    s.execute(text(
        f"UPDATE {STAGE} st SET status = 'overlap' WHERE status = 'ok' AND EXISTS ("
        " SELECT 1 FROM zy_theirs t WHERE t.volunteer_id = st.volunteer_id"
        " AND t.status IN ('pending', 'approved')"
        " AND t.started_at < st.ended_at AND st.started_at < t.ended_at)"
    ))  # fmt: skip
    existing = {
        (v, d): Decimal(t)
        for v, d, t in s.execute(text(
            "SELECT t.volunteer_id, t.service_day, sum(t.effective)"
            " FROM zy_theirs t JOIN (SELECT DISTINCT volunteer_id, service_day"
            f"  FROM {STAGE} WHERE status = 'ok') k"
            " ON k.volunteer_id = t.volunteer_id AND k.service_day = t.service_day"
            " WHERE t.status IN ('pending', 'approved') GROUP BY 1, 2"
        ))
    }  # fmt: skip
    status = dict(s.execute(text(f"SELECT row_no, status FROM {STAGE}")).all())
    decided = _decide(rows, status, existing, policies)
    s.execute(
        text(
            f"UPDATE {STAGE} st SET status = d.status, credited = d.credited,"
            " capped = d.capped, note = st.note || d.note FROM unnest("
            " CAST(:rows AS int[]), CAST(:statuses AS text[]),"
            " CAST(:credited AS numeric[]), CAST(:capped AS numeric[]),"
            " CAST(:notes AS text[])) AS d(row_no, status, credited, capped, note)"
            " WHERE st.row_no = d.row_no"
        ),
        {
            "rows": [r for r, *_ in decided],
            "statuses": [x for _, x, *_ in decided],
            "credited": [c for _, _, c, _, _ in decided],
            "capped": [c for *_, c, _ in decided],
            "notes": [n for *_, n in decided],
        },
    )
    event_id = str(uuid.uuid4())
    # The facts, as the application role in the caller's scope: row security
    # is the last line that keeps a row outside the scope out.
    s.execute(
        text("SELECT set_config('role', :role, true),"
             " set_config('zhiyuan.scope', :scope, true)"),
        {"role": db.app_role, "scope": scope.code},
    )  # fmt: skip
    s.execute(
        text(
            "INSERT INTO hour_records (id, source, source_id, event_id,"
            " volunteer_id, volunteer_number, division_code, organisation_id,"
            " organisation_name, service_field, activity_kind, content, started_at,"
            " ended_at, duration_seconds, service_day, month, rounding,"
            " rounded_hours, hours, capped_hours, note, status, status_reason,"
            " recorded_by, recorded_at, reviewed_by, reviewed_at)"
            " SELECT id, 'import', id, :event, volunteer_id, volunteer_number,"
            " division_code, '', organisation_name, service_field, 'service',"
            " content, started_at, ended_at, duration_seconds, service_day, month,"
            " rounding, rounded, credited, capped, note, 'approved', '', :actor,"
            f" :now, :actor, :now FROM {STAGE} WHERE status = 'ok' ORDER BY row_no"
        ),
        {"event": event_id, "actor": actor[:100], "now": now},
    )
    s.execute(text("RESET ROLE"))
    counts = dict(
        s.execute(text(f"SELECT status, count(*) FROM {STAGE} GROUP BY 1")).all()
    )
    report.imported += counts.get("ok", 0)
    report.duplicates += counts.get("duplicate", 0)
    for row_no, state in sorted(
        s.execute(
            text(f"SELECT row_no, status FROM {STAGE} WHERE status NOT IN"
                 " ('ok', 'duplicate')")
        ).tuples()
    ):  # fmt: skip
        problems = RowProblems(row_no, LABELS)
        err = _refusal(state)
        problems.add(err.field or "session_start", err.rule or state,
                     err.message_en, err.message_zh)  # fmt: skip
        report.reject(problems.errors)
    if counts.get("ok", 0):
        _count(s)
        _announce(s, scope, event_id)


def _theirs(s: Session) -> None:
    """``zy_theirs``: every record on file of the chunk's volunteers, in
    every tenant, with its effective hours (corrections included): what the
    duplicate, overlap, daily-cap and total checks read. One index probe per
    volunteer and partition, so a chunk costs the same however many records
    the table holds (hour_records is partitioned by province; a volunteer
    may have served in any). The planner is kept off sequential scans: the
    partitions' statistics lag far behind a bulk load."""
    s.execute(text("DROP TABLE IF EXISTS pg_temp.zy_theirs"))
    # Where to look: each volunteer in the chunk's own provinces, and in any
    # other province where presence shows approved hours of theirs.
    s.execute(text(
        "CREATE TEMP TABLE zy_where ON COMMIT DROP AS"
        f" SELECT DISTINCT st.volunteer_id AS v, left(st.division_code, 2) AS p"
        f" FROM {STAGE} st UNION SELECT DISTINCT p.volunteer_id,"
        " left(p.division_code, 2) FROM hours_presence p"
        f" WHERE p.volunteer_id IN (SELECT volunteer_id FROM {STAGE})"
    ))  # fmt: skip
    s.execute(text("ANALYZE zy_where"))
    # One index probe per (volunteer, province), on the province's partition
    # itself: through the parent, run-time pruning costs ~30x the probe.
    provinces = s.execute(text("SELECT DISTINCT p FROM zy_where")).scalars().all()
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
    cols = (
        "h.id, h.volunteer_id, h.started_at, h.ended_at, h.service_day,"
        " h.status, h.hours AS effective"
    )
    selects = []
    for code in provinces:
        if not (code.isdigit() and len(code) == 2):
            raise ValueError(f"not a province code: {code!r}")
        if code in parts:
            selects.append(
                f"SELECT {cols} FROM zy_where w JOIN {parts[code]} h"
                f" ON h.volunteer_id = w.v WHERE w.p = '{code}'"
            )
        else:  # no partition of its own (the default one): by range
            selects.append(
                f"SELECT {cols} FROM zy_where w JOIN hour_records h"
                f" ON h.volunteer_id = w.v AND h.division_code >= '{code}'"
                f" AND h.division_code < '{code}~' WHERE w.p = '{code}'"
            )
    plan = ("enable_seqscan", "enable_hashjoin", "enable_mergejoin")
    s.execute(text("; ".join(f"SET LOCAL {p} = off" for p in plan)))
    s.execute(
        text(
            "CREATE TEMP TABLE zy_theirs ON COMMIT DROP AS "
            + " UNION ALL ".join(selects)
        )
    )
    s.execute(text("; ".join(f"SET LOCAL {p} = on" for p in plan)))
    # Pending records elsewhere (no presence row shows where): few, read
    # through their partial index in every partition.
    s.execute(text("SET LOCAL enable_seqscan = off"))
    s.execute(text(
        f"INSERT INTO zy_theirs SELECT {cols} FROM hour_records h"
        " WHERE h.status = 'pending'"
        " AND h.volunteer_id IN (SELECT v FROM zy_where)"
        " AND NOT EXISTS (SELECT 1 FROM zy_where w WHERE w.v = h.volunteer_id"
        "  AND w.p = left(h.division_code, 2))"
    ))  # fmt: skip
    s.execute(text("SET LOCAL enable_seqscan = on"))
    # Indexed, so that no plan of the checks below is quadratic in the chunk.
    s.execute(text("CREATE INDEX ON zy_theirs (volunteer_id, started_at)"))
    s.execute(text("ANALYZE zy_theirs"))
    # Corrections are few: one pass over them, not one probe per record.
    s.execute(text(
        "UPDATE zy_theirs t SET effective = t.effective + c.delta FROM ("
        " SELECT record_id, sum(delta_hours) AS delta FROM hour_corrections"
        " GROUP BY 1) AS c WHERE c.record_id = t.id"
    ))  # fmt: skip


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


def _staged(
    r: _Row, scope: str, source: str, policies: dict[str, domain.Policy]
) -> tuple:  # type: ignore[type-arg]
    seconds = int((r.end - r.start).total_seconds())
    policy = policies[r.code]
    rounding = "manual" if r.given is not None else policy.rounding
    rounded = r.given if r.given is not None else domain.round_hours(seconds, rounding)
    note = f"补录：{r.reason}" if r.reason else "批量导入"
    return (
        r.row, str(uuid.uuid5(_IDS, f"{scope}/{source}/{r.row}")),
        r.volunteer_id, r.number,
        r.code, r.org, r.field, r.content, r.start, r.end,
        domain.service_day(r.start), month_of(r.start), seconds, rounding,
        rounded, note,
    )  # fmt: skip


def _decide(
    rows: list[_Row],
    status: dict[int, str],
    existing: dict[tuple[str, Any], Decimal],
    policies: dict[str, domain.Policy],
) -> list[tuple[int, str, Decimal, Decimal, str]]:
    """The policy in row order, as one-at-a-time would apply it: overlap
    with the file's earlier records, then rounding and the daily cap over
    what the day already holds (on record and earlier in the file)."""
    out = []
    taken: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    day_total = dict(existing)
    for r in sorted(rows, key=lambda x: x.row):
        state = status.get(r.row, "ok")
        credited = capped = Decimal(0)
        note = ""
        if state == "ok":
            mine = taken[r.volunteer_id]
            if any(a == r.start and b == r.end for a, b in mine):
                state = "duplicate"
            elif any(a < r.end and r.start < b for a, b in mine):
                state = "overlap"
        if state == "ok":
            seconds = int((r.end - r.start).total_seconds())
            policy = policies[r.code]
            rounded = (
                r.given if r.given is not None
                else domain.round_hours(seconds, policy.rounding)
            )  # fmt: skip
            key = (r.volunteer_id, domain.service_day(r.start))
            credited, capped = domain.apply_cap(
                day_total.get(key, Decimal(0)), rounded, policy.daily_cap
            )
            if rounded <= 0:
                state = "no_service_time"
            elif credited <= 0:
                state = "daily_cap"
            else:
                taken[r.volunteer_id].append((r.start, r.end))
                day_total[key] = day_total.get(key, Decimal(0)) + credited
                if capped:
                    note = f"；每日上限 {policy.daily_cap} 小时：{capped} 小时未计入"
        out.append((r.row, state, credited, capped, note))
    return out


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


def _count(s: Session) -> None:
    """Rollups for the chunk's imported records, set-wise (sums, distinct
    volunteers, every ancestor and period), as approving one by one would."""
    rollups.apply_imported(
        s,
        "SELECT volunteer_id, division_code, service_field, credited AS hours,"
        f" month FROM {STAGE} WHERE status = 'ok'",
        {},
    )


def _announce(s: Session, scope: Scope, event_id: str) -> None:
    """``hours.records.imported``: per volunteer, the hours added per
    service year and the platform total after the chunk, in parts of at
    most EVENT_VOLUNTEERS volunteers. Every part names the chunk (its
    ``chunk_id`` is the records' ``event_id``)."""
    rows = s.execute(text(
        "WITH mine AS (SELECT volunteer_id, min(volunteer_number) AS number,"
        "  min(division_code) AS code FROM hours_import_stage WHERE status = 'ok'"
        "  GROUP BY 1),"
        " years AS (SELECT volunteer_id, substr(month, 1, 4) AS year,"
        "  sum(credited) AS hours FROM hours_import_stage WHERE status = 'ok'"
        "  GROUP BY 1, 2),"
        " totals AS (SELECT volunteer_id, sum(hours) AS total FROM ("
        "  SELECT volunteer_id, effective AS hours FROM zy_theirs"
        "  WHERE status = 'approved' UNION ALL SELECT volunteer_id, credited"
        "  FROM hours_import_stage WHERE status = 'ok') AS x GROUP BY 1)"
        " SELECT m.volunteer_id, m.number, m.code, t.total,"
        "  json_object_agg(y.year, y.hours)"
        " FROM mine m JOIN totals t USING (volunteer_id)"
        " JOIN years y USING (volunteer_id)"
        " GROUP BY m.volunteer_id, m.number, m.code, t.total ORDER BY 1"
    )).tuples()  # fmt: skip
    entries = [
        {
            "volunteer_id": v, "volunteer_number": number, "division_code": code,
            "years": {y: float(h) for y, h in years.items()},
            "volunteer_total_hours": float(total),
        }
        for v, number, code, total, years in rows
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
        accounts = {(domain.bank_code(c), v) for _, v, c, _, _ in posts}
        accounts |= {(b, "") for b, _ in accounts}
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
