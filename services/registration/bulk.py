"""Bulk registration of volunteers (a county's roll, a province's history)
at COPY speed, and the volunteer directory hours' bulk import asks.

Each chunk is one transaction. Python does what only Python can: the
GB 11643 ID check, the phone and name rules, encryption (AES-GCM) and the
blind index of the ID number. The rows are COPYed into a TEMP staging
table; SQL finds the home divisions that are unknown or retired, the ID
numbers already registered (or repeated in the file), allocates volunteer
numbers in one counter update, inserts under the application role in the
caller's scope (row security refuses the rest), bumps the rollup once per
(home, month) and writes each volunteer's ``registration.volunteer.registered``
(and, with ``verified``, ``.verified``) event in one ``INSERT … SELECT``:
consumers see exactly what one registration at a time produces.

Imported volunteers are ``pending`` like any registration, unless
``verified=True`` (an office importing a roll it has already checked):
then they are verified by the importer, as a reviewer would.

The same file twice registers nobody twice: a row's key is ``source`` and
its row number; a row seen before is a duplicate, another row with an ID
number already on the platform is refused (``id_number.unique``).

Example::

    report = import_rows(db, Scope("610113"), rows, source=sha256_of_file)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from services.common import outbox
from services.common.bulk import (
    BROKEN,
    Column,
    ImportReport,
    RowProblems,
    canonical,
    chunked,
    copy_rows,
)
from services.common.db import Database, is_postgres
from services.common.errors import FailedPrecondition, InvalidArgument
from services.common.pii import (
    PiiCipher,
    mask_id_number,
    mask_name,
    mask_phone,
    validate_phone,
)
from services.common.rollup import CST, month_of
from services.common.service_fields import SERVICE_FIELDS, check_service_fields
from services.common.tenancy import Scope, validate_code
from services.registration import domain
from services.registration.idcard import parse_id_number
from services.registration.models import ROLLUP, Volunteer
from services.registration.repository import address_code_checker

COLUMNS = (
    Column("name", "姓名"),
    Column("id_number", "身份证号", aliases=("身份证号码",)),
    Column("phone", "手机号", aliases=("手机号码", "电话")),
    Column("home_division_code", "区划代码", aliases=("所在区划",)),
    Column("service_fields", "服务领域", required=False),
)
LABELS = {c.code: c.label_zh for c in COLUMNS}
# number → (volunteer id, status), in a scope.
Lookup = Callable[[Scope, Sequence[str]], Mapping[str, tuple[str, str]]]
_FIELD_BY_NAME = {zh: code for code, zh in SERVICE_FIELDS.items()}
STAGE = "registration_import_stage"
_STAGE_COLUMNS = (
    "row_no", "request_id", "id_hash", "name_enc", "name_masked", "id_number_enc",
    "id_number_masked", "phone_enc", "phone_masked", "sex", "birth_date",
    "home_division_code", "service_fields",
)  # fmt: skip


def import_rows(
    db: Database,
    scope: Scope,
    rows: Iterable[Mapping[str, str]],
    *,
    source: str,
    chunk_size: int = 20_000,
    progress: Callable[[int], None] | None = None,
    cipher: PiiCipher | None = None,
    verified: bool = False,
    actor: str = "import",
    clock: Callable[[], datetime] = outbox.now,
) -> ImportReport:
    """Register volunteers from rows keyed by the template's headers
    (English or Chinese) into ``scope``; see the module's docstring.
    ``cipher`` defaults to the configured personal-data key."""
    if not is_postgres(db.engine):
        raise FailedPrecondition(
            "bulk import needs PostgreSQL (COPY); embedded mode imports row by row",
            "批量导入需要 PostgreSQL；嵌入模式请逐行导入",
        )
    if not source:
        raise InvalidArgument.required("source")
    if cipher is None:
        from services.common.config import load
        from services.common.keys import pii_cipher

        cipher = pii_cipher(load())
    report = ImportReport()
    done = 0
    with db.session(None) as s:
        known = address_code_checker(s)
    for chunk in chunked(canonical(rows, COLUMNS), max(1, chunk_size)):
        now = clock()
        staged = []
        report.rows += len(chunk)
        for number, values in chunk:
            problems = RowProblems(number, LABELS)
            row = _prepare(number, values, scope, now.astimezone(CST).date(),
                           cipher, source, problems, known)  # fmt: skip
            if row is None:
                report.reject(problems.errors)
            else:
                staged.append(row)
        if staged:
            with db._factory() as s, s.begin():
                _apply(db, s, scope, staged, verified, actor, now, report)
        done += len(chunk)
        if progress is not None:
            progress(done)
    report.errors.sort(key=lambda e: e.row)  # stable: fields in column order
    return report


def _prepare(
    number: int,
    v: dict[str, str],
    scope: Scope,
    today: date,
    cipher: PiiCipher,
    source: str,
    p: RowProblems,
    known: Callable[[str], bool] | None = None,
) -> tuple[Any, ...] | None:
    if BROKEN in v:
        p.add("file", "file.format", f"the line cannot be read as CSV: {v[BROKEN]}",
              "该行不是有效的 CSV")  # fmt: skip
        return None
    name = v.get("name", "")
    try:
        name = domain.check_text(name, "name", 50)
    except InvalidArgument as err:
        p.add_error(err, "name")
    rid = None
    try:
        rid = parse_id_number(
            v.get("id_number", ""), today=today, known_address_code=known
        )
        if rid.requires_guardian_consent(today):
            p.add("id_number", "guardian.required",
                  "a volunteer under 14 registers with a guardian's consent, "
                  "not by import",
                  "未满 14 周岁的志愿者须经监护人同意登记，不能批量导入")  # fmt: skip
    except InvalidArgument as err:
        p.add_error(err, "id_number")
    phone = ""
    try:
        phone = validate_phone(v.get("phone", ""), "phone")
    except InvalidArgument as err:
        p.add_error(err, "phone")
    home = v.get("home_division_code", "")
    try:
        validate_code(home, "home_division_code")
        if not scope.contains(home):
            p.add("home_division_code", "home_division_code.scope",
                  f"{home} lies outside your area {scope.code}",
                  f"区划 {home} 不在您的辖区 {scope.code} 内")  # fmt: skip
    except InvalidArgument as err:
        p.add_error(err, "home_division_code")
    fields: list[str] = []
    try:
        raw = re.split(r"[;；|,，、]", v.get("service_fields", ""))
        names = [_FIELD_BY_NAME.get(f.strip(), f.strip()) for f in raw if f.strip()]
        fields = check_service_fields(names)
    except InvalidArgument as err:
        p.add_error(err, "service_fields")
    if p or rid is None:
        return None
    return (
        number, f"import/{scope.code}/{source}/{number}"[:200],
        cipher.blind_index(rid.number, context="volunteer.id_number"),
        cipher.encrypt(name, context="volunteer.name"), mask_name(name),
        cipher.encrypt(rid.number, context="volunteer.id_number"),
        mask_id_number(rid.number),
        cipher.encrypt(phone, context="volunteer.phone"), mask_phone(phone),
        rid.sex, rid.birth_date, home, "{" + ",".join(fields) + "}",
    )  # fmt: skip


def _apply(
    db: Database,
    s: Session,
    scope: Scope,
    staged: list[tuple[Any, ...]],
    verified: bool,
    actor: str,
    now: datetime,
    report: ImportReport,
) -> None:
    s.execute(text(
        f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (row_no int PRIMARY KEY,"
        " request_id text, id_hash text, name_enc bytea, name_masked text,"
        " id_number_enc bytea, id_number_masked text, phone_enc bytea,"
        " phone_masked text, sex text, birth_date date, home_division_code text,"
        " service_fields text[], status text NOT NULL DEFAULT 'ok', serial bigint)"
        " ON COMMIT DELETE ROWS"
    ))  # fmt: skip
    s.execute(text(f"GRANT SELECT ON {STAGE} TO {db.app_role}"))
    copy_rows(s, STAGE, _STAGE_COLUMNS, staged)
    s.execute(text(f"ANALYZE {STAGE}"))
    # The same file's row again; an ID number on the platform; a repeat in
    # the file (the first keeps it); a home that is unknown or retired.
    s.execute(text(
        f"UPDATE {STAGE} st SET status = 'duplicate' FROM volunteers v"
        " WHERE v.request_id = st.request_id"
    ))  # fmt: skip
    s.execute(text(
        f"UPDATE {STAGE} st SET status = 'registered' FROM volunteers v"
        " WHERE st.status = 'ok' AND v.id_hash = st.id_hash"
    ))  # fmt: skip
    s.execute(text(
        f"UPDATE {STAGE} st SET status = 'repeated' WHERE status = 'ok' AND EXISTS"
        f" (SELECT 1 FROM {STAGE} o WHERE o.id_hash = st.id_hash"
        "  AND o.row_no < st.row_no AND o.status IN ('ok', 'registered'))"
    ))  # fmt: skip
    s.execute(text(
        f"UPDATE {STAGE} st SET status = 'division' WHERE status = 'ok' AND NOT EXISTS"
        " (SELECT 1 FROM divisions d WHERE d.code = st.home_division_code"
        "  AND d.status = 'active')"
    ))  # fmt: skip
    # Volunteer numbers: one counter update reserves the chunk's serials.
    n = s.execute(
        text(f"SELECT count(*) FROM {STAGE} WHERE status = 'ok'")
    ).scalar_one()
    if n:
        last = s.execute(
            text("UPDATE counters SET value = value + :n"
                 " WHERE name = 'volunteer_number' RETURNING value"),
            {"n": n},
        ).scalar_one()  # fmt: skip
        s.execute(text(
            f"UPDATE {STAGE} st SET serial = :first + o.k - 1 FROM (SELECT row_no,"
            f" row_number() OVER (ORDER BY row_no) AS k FROM {STAGE}"
            " WHERE status = 'ok') o WHERE o.row_no = st.row_no"
        ), {"first": last - n + 1})  # fmt: skip
        status = "verified" if verified else "pending"
        s.execute(
            text("SELECT set_config('role', :role, true),"
                 " set_config('zhiyuan.scope', :scope, true)"),
            {"role": db.app_role, "scope": scope.code},
        )  # fmt: skip
        s.execute(
            text(
                "INSERT INTO volunteers (id, volunteer_number, name_enc, name_masked,"
                " id_number_enc, id_number_masked, id_hash, phone_enc, phone_masked,"
                " sex, birth_date, home_division_code, service_fields, status,"
                " rejection_reason, guardian_enc, request_id, registered_by,"
                " registered_at, reviewed_by, reviewed_at)"
                " SELECT gen_random_uuid()::text,"
                " 'ZY' || substr(home_division_code, 1, 2) || lpad(serial::text, 10,"
                " '0'), name_enc, name_masked, id_number_enc, id_number_masked,"
                " id_hash, phone_enc, phone_masked, sex, birth_date,"
                " home_division_code, to_json(service_fields), :status, '', NULL,"
                " request_id, :actor, :now, :reviewer, :reviewed"
                f" FROM {STAGE} WHERE status = 'ok' ORDER BY row_no"
            ),
            {
                "status": status, "actor": actor[:100], "now": now,
                "reviewer": actor[:100] if verified else None,
                "reviewed": now if verified else None,
            },
        )  # fmt: skip
        s.execute(text("RESET ROLE"))
        month = month_of(now)
        homes = s.execute(text(
            f"SELECT home_division_code, count(*) FROM {STAGE} WHERE status = 'ok'"
            " GROUP BY 1"
        )).tuples()  # fmt: skip
        metrics = ["volunteers_registered"] + (["volunteers_verified"] * verified)
        ROLLUP.bump_many(
            s, [(home, month, dict.fromkeys(metrics, float(n))) for home, n in homes]
        )
        for verb in ("registered", "verified") if verified else ("registered",):
            _events(s, verb, now)
    counts = dict(
        s.execute(text(f"SELECT status, count(*) FROM {STAGE} GROUP BY 1")).all()
    )
    report.imported += counts.get("ok", 0)
    report.duplicates += counts.get("duplicate", 0)
    bad = s.execute(
        text(f"SELECT row_no, status FROM {STAGE} WHERE status NOT IN"
             " ('ok', 'duplicate') ORDER BY row_no")
    ).tuples()  # fmt: skip
    for row_no, state in bad:
        problems = RowProblems(row_no, LABELS)
        problems.add(*_REFUSALS[state])
        report.reject(problems.errors)


_REFUSALS = {
    "registered": ("id_number", "id_number.unique",
                   "a volunteer with this ID number is already registered",
                   "该身份证号已在平台注册"),
    "repeated": ("id_number", "id_number.repeated",
                 "this ID number appears on an earlier row of the file",
                 "该身份证号在文件前面的行中已出现"),
    "division": ("home_division_code", "home_division_code.exists",
                 "no active division has this code", "没有该代码的有效行政区划"),
}  # fmt: skip


def _events(s: Session, verb: str, now: datetime) -> None:
    """One event per imported volunteer, as one registration writes it."""
    s.execute(
        text(
            "INSERT INTO outbox (id, event_type, division_code, payload, headers,"
            " created_at, attempts)"
            " SELECT x.eid, CAST(:type AS text), x.home, json_build_object("
            "  'event_id', x.eid, 'event_type', CAST(:type AS text),"
            "  'occurred_at', CAST(:at AS text), 'division_code', x.home,"
            "  'data', json_build_object("
            "   'volunteer_id', x.id, 'volunteer_number', x.volunteer_number,"
            "   'home_division_code', x.home, 'status', x.status,"
            "   'birth_date', to_char(x.birth_date, 'YYYY-MM-DD'),"
            "   'service_fields', x.service_fields)), '{}'::json, :now, 0"
            " FROM (SELECT gen_random_uuid()::text AS eid, v.id, v.volunteer_number,"
            "  v.home_division_code AS home, v.status, v.birth_date,"
            f"  v.service_fields, st.row_no FROM {STAGE} st"
            "  JOIN volunteers v ON v.request_id = st.request_id"
            "  WHERE st.status = 'ok') x ORDER BY x.row_no"
        ),
        {"type": f"registration.volunteer.{verb}", "at": now.isoformat(), "now": now},
    )


# -- the directory hours' import asks -------------------------------------------


def lookup(
    db: Database, scope: Scope, numbers: Sequence[str]
) -> dict[str, tuple[str, str]]:
    """number → (volunteer id, status) for the numbers of volunteers whose
    home lies in ``scope`` (as GetVolunteer answers the caller)."""
    if not numbers:
        return {}
    out: dict[str, tuple[str, str]] = {}
    with db.session(scope) as s:
        for part in chunked(numbers, 10_000):
            q = select(
                Volunteer.volunteer_number, Volunteer.id, Volunteer.status
            ).where(
                Volunteer.volunteer_number.in_(part),
                Volunteer.home_division_code.like(scope.like_pattern),
            )
            out.update((n, (i, st)) for n, i, st in s.execute(q).tuples())
    return out


def directory(
    db: Database | None = None,
) -> tuple[Lookup, Callable[[], None]]:
    """(lookup, close) over registration's database (from the configuration
    unless given). An operator path: the CLI and the scale harness run with
    every service's configuration, as ``zhiyuan seed`` does."""
    own = db is None
    if db is None:
        from services.common.config import load

        db = Database(load().service("registration"))
    reg = db

    def close() -> None:
        if own:
            reg.dispose()

    return (lambda scope, numbers: lookup(reg, scope, numbers)), close
