"""Bulk registration of volunteers (a county's roll, a province's history)
at COPY speed, and the volunteer directory hours' bulk import asks.

Each chunk is one transaction. Python does what only Python can: the
GB 11643 ID check, the phone and name rules, encryption (AES-GCM) and the
blind index of the ID number. The rows are COPYed (binary) into a TEMP
staging table; one SQL statement finds the rows of this file imported
before, the ID numbers already registered or repeated in the chunk (Python
flags a blind index seen on an earlier row) and the home divisions that are
unknown or retired; SQL allocates volunteer
numbers in one counter update, inserts under the application role in the
caller's scope (row security refuses the rest), bumps the rollup once per
(home, month) and writes the chunk's events in one ``INSERT … SELECT``:
``registration.volunteers.imported`` parts of at most 1,000 volunteers each
(:mod:`services.common.volunteer_events`), each standing for the
``registration.volunteer.registered`` (and, with ``verified``, ``.verified``)
events of its volunteers. Every consumer gives a part's volunteers what
those per-volunteer events give, under the part's one claim.

Speed (issue 10): the per-row Python path is lean (work that depends on one
value, such as a birth date, an address code, a home or a service-fields
cell, is done once per distinct value; a row the fast path does not pass is
checked by the original per-row code, so its errors read as ever; the
chunk's values are encrypted column by column with
:meth:`PiiCipher.encrypt_many`). Two worker threads, each on a connection
that keeps its staging table for the whole import (JIT off: it compiles for
longer than these statements run; lz4 for the events' large payloads),
apply chunks in turn: chunk k + 1 is COPYed and checked while chunk k is
inserted, and the next chunk is checked and encrypted in Python meanwhile.
Chunk k + 1 takes the number counter after chunk k (whose row lock holds it
until k commits), so numbers and commits follow the file; a chunk sharing
an ID number with the one before is checked once that one is done. A
failed chunk stops the import (the one after it may be in already: a
second run of the file adds only what is missing). Per
row the database does the COPY into staging, one probe of the ID numbers'
unique index (and of the request ids' when the file was seen before) and
the insert into ``volunteers``; numbers follow the staged order without a
sort when no row was refused; the events are one row per thousand
volunteers.
``tests/perf/bench_import_volunteers.py`` measures it against raw COPY into
a twin of ``volunteers``.

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

import contextlib
import json
import re
import threading
import unicodedata
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import date, datetime
from operator import mul
from typing import Any

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from services.common import outbox, telemetry, volunteer_events
from services.common.bulk import (
    BROKEN,
    Column,
    ImportReport,
    RowProblems,
    canonical,
    chunked,
    refresh_statistics,
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
from services.registration.idcard import (
    CHECK_CHARACTERS,
    EARLIEST_BIRTH_DATE,
    GUARDIAN_CONSENT_AGE,
    OUTSIDE_TREE,
    PROVINCE_CODES,
    WEIGHTS,
    parse_id_number,
)
from services.registration.models import ROLLUP, Position, Volunteer
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
# What Python stages per row, after its place in the chunk (``seq``, from 0);
# the database adds the volunteer's id (a random UUID) and the status, and
# makes the request id from the row number.
_STAGE_COLUMNS = (
    "seq", "row_no", "id_hash", "name_enc", "name_masked", "id_number_enc",
    "id_number_masked", "phone_enc", "phone_masked", "sex", "birth_date",
    "home_division_code", "service_fields", "repeat",
)  # fmt: skip
_HOME = _STAGE_COLUMNS.index("home_division_code") - 1  # staged rows lack seq


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
    connections: int = 2,
) -> ImportReport:
    """Register volunteers from rows keyed by the template's headers
    (English or Chinese) into ``scope``; see the module's docstring.
    ``cipher`` defaults to the configured personal-data key; ``connections``
    (1 or 2) is how many chunks are in the database at once, each on a
    connection of its own."""
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
    fast = _FastRows(scope, cipher, source, known)
    with db.engine.connect() as conn:
        # One scan per import, as the owner (row security would hide rows of
        # other scopes), request ids compared by equality only (prefix order
        # depends on the collation): a file never seen has no rows to find.
        fresh = not conn.execute(_SEEN, {"p": fast.prefix[:200]}).scalar()
    workers = max(1, min(2, connections))
    appliers = [_Applier(db, scope, fast.prefix, verified, actor, fresh)
                for _ in range(workers)]  # fmt: skip
    # ``connections`` (two by default) worker threads, each on a connection of
    # its own: chunk k + 1 is COPYed and checked while chunk k is inserted,
    # and this thread checks and encrypts the next chunk meanwhile
    # (PostgreSQL works in its own processes, psycopg releases the GIL while
    # it waits). Chunk k + 1 takes the number counter after chunk k, whose
    # row lock holds it until k commits: numbers and commits follow the file.
    # A chunk that shares an ID number with the chunk before it is checked
    # only once that one is done. The report is filled in the order a
    # one-by-one run would: chunk k's refusals before chunk k + 1's.
    with contextlib.ExitStack() as stack:
        pools = [
            stack.enter_context(
                ThreadPoolExecutor(1, thread_name_prefix=f"volunteer-import-{i}")
            )
            for i in range(workers)
        ]
        for pool, applier in zip(pools, appliers, strict=True):
            stack.callback(_close_on, pool, applier)
        inflight: deque[tuple[Future[_Applied], int]] = deque()
        last: tuple[Future[_Applied], set[str], threading.Event] | None = None
        jobs = 0
        for chunk in chunked(canonical(rows, COLUMNS), max(1, chunk_size)):
            now = clock()
            staged, refused = fast.prepare(chunk, now.astimezone(CST).date())
            while len(inflight) >= workers:  # chunks in the database at once
                done = _settle(inflight.popleft(), report, done, progress)
            report.rows += len(chunk)
            for errors in refused:
                report.reject(errors)
            if staged:
                hashes = {r[1] for r in staged}
                after = earlier = None
                if last is not None:
                    earlier = last[2]
                    after = None if hashes.isdisjoint(last[1]) else last[0]
                turn = threading.Event()
                job = pools[jobs % workers].submit(
                    appliers[jobs % workers].apply, staged, now, after, earlier, turn
                )
                inflight.append((job, len(chunk)))
                last, jobs = (job, hashes, turn), jobs + 1
            else:
                inflight.append((_DONE, len(chunk)))
            del chunk, staged
        while inflight:
            done = _settle(inflight.popleft(), report, done, progress)
    # The next import's lookups by number (and hours' by volunteer) plan on
    # these statistics; autovacuum may be off or behind.
    with db._factory() as s, s.begin():
        refresh_statistics(s, ("volunteers", "registration_rollup%"))
    report.errors.sort(key=lambda e: e.row)  # stable: fields in column order
    return report


def _close_on(pool: ThreadPoolExecutor, applier: _Applier) -> None:
    """Close an applier's connection on its own thread, after its chunks."""
    pool.submit(applier.close).result()


# (imported, duplicates, refused rows as (row, status)) of one applied chunk.
_Applied = tuple[int, int, list[tuple[int, str]]]
_RESERVE = text(
    "UPDATE counters SET value = value + :n"
    " WHERE name = 'volunteer_number' RETURNING value"
)
_DONE: Future[_Applied] = Future()  # a chunk with nothing to stage
_DONE.set_result((0, 0, []))
_SEEN = text(
    "SELECT EXISTS (SELECT 1 FROM volunteers WHERE left(request_id, length(:p)) = :p)"
)


def _settle(
    pending: tuple[Future[_Applied], int],
    report: ImportReport,
    done: int,
    progress: Callable[[int], None] | None,
) -> int:
    """Wait for an applied chunk and add what it did to ``report``."""
    applied, rows = pending
    imported, duplicates, bad = applied.result()
    report.imported += imported
    report.duplicates += duplicates
    for row_no, state in bad:
        problems = RowProblems(row_no, LABELS)
        problems.add(*_REFUSALS[state])
        report.reject(problems.errors)
    done += rows
    if progress is not None:
        progress(done)
    return done


class _FastRows:
    """The per-row checks of :func:`_prepare` for the common, valid row,
    with the work that depends on one value only (a birth date, an address
    code, a home, a service-fields cell) done once per distinct value. A row
    the fast path does not pass goes through :func:`_prepare`, which reports
    its errors exactly as ever; a row it passes is staged exactly as
    :func:`_prepare` stages it."""

    def __init__(
        self,
        scope: Scope,
        cipher: PiiCipher,
        source: str,
        known: Callable[[str], bool] | None,
    ) -> None:
        self.scope, self.cipher, self.source, self.known = scope, cipher, source, known
        self.prefix = f"import/{scope.code}/{source}/"
        self._today: date | None = None
        # birth date text → (date, refused: a bad date or under 14 today)
        self._births: dict[str, tuple[date, bool]] = {}
        self._addresses: dict[str, bool] = {}
        self._homes: dict[str, bool] = {}
        self._fields: dict[str, str | None] = {}

    def prepare(
        self, chunk: list[tuple[int, dict[str, str]]], today: date
    ) -> tuple[list[tuple[Any, ...]], list[list[Any]]]:
        """(rows to stage, the refused rows' errors), in row order."""
        if today != self._today:
            self._today, self._births = today, {}
        staged: list[tuple[Any, ...]] = []
        refused: list[list[Any]] = []
        passed: list[tuple[int, tuple[Any, ...]]] = []  # (place, plain values)
        for number, values in chunk:
            plain = self._row(number, values)
            if plain is not None:
                passed.append((len(staged), plain))
                staged.append(())  # sealed below, with the whole chunk
                continue
            problems = RowProblems(number, LABELS)
            row = _prepare(number, values, self.scope, today, self.cipher,
                           problems, self.known)  # fmt: skip
            if row is None:
                refused.append(problems.errors)
            else:
                staged.append(row)
        if passed:
            self._seal(staged, passed)
        return staged, refused

    def _seal(
        self, staged: list[tuple[Any, ...]], passed: list[tuple[int, tuple[Any, ...]]]
    ) -> None:
        """Encrypt and blind-index the passed rows column by column (the
        cipher's batch methods) and put the finished rows in their places."""
        cipher = self.cipher
        names = [p[1] for _, p in passed]
        idents = [p[2] for _, p in passed]
        phones = [p[3] for _, p in passed]
        hashes = cipher.blind_index_many(idents, context=_ID)
        names_enc = cipher.encrypt_many(names, context=_NAME)
        idents_enc = cipher.encrypt_many(idents, context=_ID)
        phones_enc = cipher.encrypt_many(phones, context=_PHONE)
        for k, (place, p) in enumerate(passed):
            number, name, ident, phone, born, home, fields = p
            staged[place] = (
                number, hashes[k], names_enc[k], mask_name(name), idents_enc[k],
                mask_id_number(ident), phones_enc[k], mask_phone(phone),
                "male" if ident[16] in "13579" else "female", born, home, fields,
            )  # fmt: skip

    def _row(self, number: int, v: dict[str, str]) -> tuple[Any, ...] | None:
        """(number, name, ID number, phone, birth date, home, fields) of a
        row every rule passes, in plain text; None to check it the long way."""
        name = v.get("name", "")
        name = name.strip() if name else ""
        if not name or len(name) > 50:
            return None
        ident = _fast_id(v.get("id_number", ""))
        if ident is None:
            return None
        birth = self._births.get(ident[6:14])
        if birth is None:
            birth = self._births[ident[6:14]] = self._birth(ident[6:14])
        if birth[1]:  # a bad date, or under 14
            return None
        address = ident[:6]
        ok = self._addresses.get(address)
        if ok is None:
            ok = self._addresses[address] = self._address(address)
        if not ok:
            return None
        phone = v.get("phone", "")
        if not (len(phone) == 11 and phone.isascii() and phone.isdigit()
                and phone[0] == "1" and phone[1] in "3456789"):  # fmt: skip
            return None
        home = v.get("home_division_code", "")
        ok = self._homes.get(home)
        if ok is None:
            ok = self._homes[home] = self._home(home)
        if not ok:
            return None
        cell = v.get("service_fields", "")
        fields = self._fields.get(cell, False)
        if fields is False:
            fields = self._fields[cell] = _fields(cell)
        if fields is None:
            return None
        return number, name, ident, phone, birth[0], home, fields

    def _birth(self, text: str) -> tuple[date, bool]:
        """(birth date, refused): refused when the date breaks a rule or its
        holder is under 14 today."""
        try:
            born = date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            return date.min, True
        today = self._today
        assert today is not None
        if born > today or born < EARLIEST_BIRTH_DATE:
            return born, True
        had_birthday = (today.month, today.day) >= (born.month, born.day)
        age = today.year - born.year - (0 if had_birthday else 1)
        return born, age < GUARDIAN_CONSENT_AGE

    def _address(self, code: str) -> bool:
        if code[:2] not in PROVINCE_CODES:
            return False
        return code[:2] in OUTSIDE_TREE or self.known is None or self.known(code)

    def _home(self, home: str) -> bool:
        try:
            validate_code(home, "home_division_code")
            return self.scope.contains(home)
        except InvalidArgument:
            return False


_NAME, _ID, _PHONE = "volunteer.name", "volunteer.id_number", "volunteer.phone"


_WEIGHT_OF_ZEROS = 48 * sum(WEIGHTS)  # ord("0") times every weight


def _fast_id(value: str) -> str | None:
    """The normalised number when it passes length, characters and check
    character (as :func:`parse_id_number` checks them), else None."""
    number = (
        value.strip().upper()
        if value.isascii()
        else unicodedata.normalize("NFKC", value).strip().upper()
    )
    if len(number) != 18:
        return None
    body, last = number[:17], number[17]
    if not (body.isascii() and body.isdigit() and (last.isdigit() or last == "X")):
        return None
    total = sum(map(mul, body.encode("ascii"), WEIGHTS)) - _WEIGHT_OF_ZEROS
    if CHECK_CHARACTERS[total % 11] != last:
        return None
    return number


def _fields(cell: str) -> str | None:
    """A service-fields cell's codes as a JSON array (as the ORM writes
    one), None when it is refused."""
    try:
        raw = re.split(r"[;；|,，、]", cell)
        names = [_FIELD_BY_NAME.get(f.strip(), f.strip()) for f in raw if f.strip()]
        return json.dumps(check_service_fields(names))
    except InvalidArgument:
        return None


def _prepare(
    number: int,
    v: dict[str, str],
    scope: Scope,
    today: date,
    cipher: PiiCipher,
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
        number, cipher.blind_index(rid.number, context="volunteer.id_number"),
        cipher.encrypt(name, context="volunteer.name"), mask_name(name),
        cipher.encrypt(rid.number, context="volunteer.id_number"),
        mask_id_number(rid.number),
        cipher.encrypt(phone, context="volunteer.phone"), mask_phone(phone),
        rid.sex, rid.birth_date, home, json.dumps(fields),
    )  # fmt: skip


class _Applier:
    """Applies staged chunks on one connection of its own (the import's
    worker thread), each chunk in its own transaction. The TEMP staging
    table is made once per connection and emptied by every commit."""

    def __init__(
        self,
        db: Database,
        scope: Scope,
        prefix: str,
        verified: bool,
        actor: str,
        fresh: bool,
    ) -> None:
        self.db, self.scope, self.verified, self.actor = db, scope, verified, actor
        # The row's key: the file and the row number (as request_id).
        self.request_id = f"left({_literal(prefix)} || k.row_no, 200)"
        self.fresh = fresh  # no row of this file imported before
        self.conn: Connection | None = None

    def apply(
        self,
        staged: list[tuple[Any, ...]],
        now: datetime,
        after: Future[_Applied] | None,
        earlier: threading.Event | None,
        turn: threading.Event,
    ) -> _Applied:
        """Apply one chunk: checked once ``after`` (the chunk before, when
        they share an ID number) is done, numbered once ``earlier`` (the
        chunk before has its numbers) is set; ``turn`` is set once this
        chunk has its numbers, or will take none."""
        try:
            if after is not None:
                wait([after])
            if self.conn is None:
                self.conn = self._connect()
            with Session(bind=self.conn) as s, s.begin():
                return self._apply(s, staged, now, earlier, turn)
        finally:
            turn.set()

    def _connect(self) -> Connection:
        conn = self.db.engine.connect()
        with conn.begin():
            conn.execute(_CREATE_STAGE)
            conn.execute(text(f"GRANT SELECT ON {STAGE} TO {self.db.app_role}"))
            lz4 = conn.execute(_HAS_LZ4).scalar()
        # For this connection while it imports (close() resets them): JIT
        # compiles for longer than these statements run, and lz4 compresses
        # the events' large payloads faster than pglz.
        conn.exec_driver_sql("SET jit = off")
        if lz4:
            conn.exec_driver_sql("SET default_toast_compression = lz4")
        conn.commit()
        return conn

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is None:
            return
        try:
            conn.rollback()
            conn.exec_driver_sql("RESET jit")
            conn.exec_driver_sql("RESET default_toast_compression")
            conn.commit()
        except Exception:  # noqa: BLE001 - the import's own error comes first
            conn.invalidate()  # never back to the pool with the import's settings
        finally:
            conn.close()

    def _apply(
        self,
        s: Session,
        staged: list[tuple[Any, ...]],
        now: datetime,
        earlier: threading.Event | None,
        turn: threading.Event,
    ) -> _Applied:
        _copy_binary(s, staged)
        # One statement marks every refused row, in this order: the same
        # file's row again; an ID number on the platform; a repeat in the
        # chunk (the first keeps it: an earlier row with the number was either
        # staged too, or is the same file's, then the number is registered);
        # a home that is unknown or retired. Per row one probe of each unique
        # index (scalar subqueries: never a hash of the whole table, whose
        # cost would grow with it); a file never imported before has no
        # rows to find by request id.
        dup = (
            "false" if self.fresh else
            f"(SELECT true FROM volunteers d WHERE d.request_id = {self.request_id})"
            " IS NOT NULL"
        )  # fmt: skip
        bad = s.execute(text(
            f"UPDATE {STAGE} st SET status = x.state FROM (SELECT k.row_no, CASE"
            f"  WHEN {dup} THEN 'duplicate'"
            "  WHEN (SELECT true FROM volunteers r WHERE r.id_hash = k.id_hash)"
            "   IS NOT NULL THEN 'registered'"
            "  WHEN k.repeat THEN 'repeated'"
            "  WHEN NOT EXISTS (SELECT 1 FROM divisions v"
            "   WHERE v.code = k.home_division_code AND v.status = 'active')"
            "   THEN 'division' END AS state"
            f"  FROM {STAGE} k) x"
            " WHERE x.state IS NOT NULL AND st.row_no = x.row_no"
            " RETURNING st.row_no, st.status"
        )).tuples().all()  # fmt: skip
        refused = {row_no: state for row_no, state in bad}
        duplicates = sum(1 for state in refused.values() if state == "duplicate")
        n = len(staged) - len(refused)
        if n:
            # A volunteer's rank among the chunk's imported rows: its place
            # when no row was refused (no sort), else counted in row order.
            rank = "row_number() OVER (ORDER BY row_no)" if refused else "seq + 1"
            if earlier is not None:
                earlier.wait()
            self._insert(s, staged, refused, n, now, rank, turn)
        out = sorted((r, st) for r, st in refused.items() if st != "duplicate")
        return n, duplicates, out

    def _insert(
        self,
        s: Session,
        staged: list[tuple[Any, ...]],
        refused: dict[int, str],
        n: int,
        now: datetime,
        rank: str,
        turn: threading.Event,
    ) -> None:
        # Volunteer numbers: one counter update reserves the chunk's serials,
        # after the chunk before has its own; the row lock then waits for that
        # chunk's commit (numbers and commits follow the file, with no gap).
        last = s.execute(_RESERVE, {"n": n}).scalar_one()
        turn.set()
        verified, actor = self.verified, self.actor[:100]
        s.execute(
            text("SELECT set_config('role', :role, true),"
                 " set_config('zhiyuan.scope', :scope, true)"),
            {"role": self.db.app_role, "scope": self.scope.code},
        )  # fmt: skip
        params = {
            "first": last - n + 1, "actor": actor, "now": now,
            "status": "verified" if verified else "pending",
            "reviewer": actor if verified else None,
            "reviewed": now if verified else None,
        }  # fmt: skip
        s.execute(
            text(
                "INSERT INTO volunteers (id, volunteer_number, name_enc, name_masked,"
                " id_number_enc, id_number_masked, id_hash, phone_enc, phone_masked,"
                " sex, birth_date, home_division_code, service_fields, status,"
                " rejection_reason, guardian_enc, request_id, registered_by,"
                " registered_at, reviewed_by, reviewed_at) SELECT id,"
                f" {_number(rank)}, name_enc, name_masked, id_number_enc,"
                " id_number_masked, id_hash, phone_enc, phone_masked, sex,"
                " birth_date, home_division_code, service_fields, :status, '', NULL,"
                f" {self.request_id}, :actor, :now, :reviewer, :reviewed"
                f" FROM {STAGE} k WHERE status = 'ok'"
            ),
            params,
        )  # fmt: skip
        self._announce(s, n, params, rank)
        s.execute(text("RESET ROLE"))
        month = month_of(now)
        homes = Counter(r[_HOME] for r in staged if r[0] not in refused)
        metrics = ["volunteers_registered"] + (["volunteers_verified"] * verified)
        ROLLUP.bump_many(
            s, [(h, month, dict.fromkeys(metrics, float(c))) for h, c in homes.items()]
        )

    def _announce(
        self, s: Session, n: int, params: Mapping[str, Any], rank: str
    ) -> None:
        """``registration.volunteers.imported``: the chunk's volunteers in
        row order, in parts of at most PART_VOLUNTEERS, one outbox row each,
        by one ``INSERT … SELECT`` (JSON built by the database); every part
        names the chunk."""
        size = volunteer_events.PART_VOLUNTEERS
        verbs = ["registered", "verified"] if self.verified else ["registered"]
        s.execute(
            text(
                "INSERT INTO outbox (id, event_type, division_code, payload, headers,"
                " created_at, attempts)"
                " SELECT p.eid, CAST(:type AS text), CAST(:scope AS text),"
                "  json_build_object('event_id', p.eid, 'event_type',"
                "  CAST(:type AS text), 'occurred_at', CAST(:at AS text),"
                "  'division_code', CAST(:scope AS text), 'data', json_build_object("
                "  'chunk_id', CAST(:chunk AS text), 'part', p.part, 'parts',"
                "  CAST(:parts AS int), 'status', CAST(:status AS text), 'events',"
                "  CAST(:verbs AS json), 'volunteers', p.people)),"
                "  CAST(:headers AS json), :now, 0"
                " FROM (SELECT gen_random_uuid()::text AS eid, g.part, g.people"
                "  FROM (SELECT (x.n - 1) / CAST(:size AS int) + 1 AS part, json_agg("
                "   json_build_object('volunteer_id', x.id, 'volunteer_number',"
                "   x.number, 'home_division_code', x.home_division_code,"
                "   'birth_date', to_char(x.birth_date, 'YYYY-MM-DD'),"
                "   'service_fields', x.service_fields) ORDER BY x.n) AS people"
                f"  FROM (SELECT {rank} AS n, {_number(rank)} AS number, id,"
                "   home_division_code, birth_date, service_fields FROM"
                f"   {STAGE} WHERE status = 'ok') x GROUP BY 1) g) p ORDER BY p.part"
            ),
            {
                "type": volunteer_events.EVENT, "scope": self.scope.code,
                "at": params["now"].isoformat(), "chunk": str(uuid.uuid4()),
                "parts": -(-n // size), "status": params["status"],
                "verbs": json.dumps(verbs), "headers": json.dumps(telemetry.inject()),
                "size": size, "now": params["now"], "first": params["first"],
            },
        )  # fmt: skip


def _copy_binary(s: Session, staged: list[tuple[Any, ...]]) -> None:
    """COPY the staged rows in PostgreSQL's binary format (no text to
    parse, ciphertexts as they are)."""
    raw = s.connection().connection.driver_connection
    if raw is None:  # a pooled connection always has one; typing says maybe
        raise RuntimeError("COPY needs a live database connection")
    cols = ", ".join(_STAGE_COLUMNS)
    sql = f"COPY {STAGE} ({cols}) FROM STDIN (FORMAT BINARY)"
    with raw.cursor() as cur, cur.copy(sql) as cp:
        cp.set_types(_STAGE_TYPES)
        seen: set[str] = set()  # the blind indexes of the chunk's earlier rows
        for seq, row in enumerate(staged):
            cp.write_row((seq, *row, row[1] in seen))
            seen.add(row[1])


# service_fields: the JSON text itself (json's binary form is its text).
_STAGE_TYPES = (
    "int4", "int4", "text", "bytea", "text", "bytea", "text", "bytea", "text", "text",
    "date", "text", "text", "bool",
)  # fmt: skip


def _literal(value: str) -> str:
    """A SQL string literal (the request id's prefix: a scope code and the
    file's source key)."""
    return "'" + value.replace("'", "''") + "'"


_HAS_LZ4 = text(
    "SELECT 'lz4' = ANY(enumvals) FROM pg_settings"
    " WHERE name = 'default_toast_compression'"
)
_CREATE_STAGE = text(
    f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (seq int NOT NULL,"
    " row_no int NOT NULL, id_hash text,"
    " name_enc bytea, name_masked text, id_number_enc bytea, id_number_masked text,"
    " phone_enc bytea, phone_masked text, sex text, birth_date date,"
    " home_division_code text, service_fields json, repeat bool NOT NULL,"
    " id text NOT NULL DEFAULT gen_random_uuid()::text,"
    " status text NOT NULL DEFAULT 'ok') ON COMMIT DELETE ROWS"
)


def _number(rank: str) -> str:
    """A volunteer's number: the chunk's first reserved serial plus its
    rank among the imported rows, less one."""
    return (
        "'ZY' || substr(home_division_code, 1, 2) ||"
        f" lpad((CAST(:first AS bigint) - 1 + {rank})::text, 10, '0')"
    )


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


def lookup_positions(db: Database, scope: Scope, ids: Sequence[str]) -> dict[str, str]:
    """position id → its division, for the service positions in ``scope``
    (as GetPosition answers the caller: another tenant's, an ancestor's or
    an unknown id is simply absent). One query per 10,000 ids.

    Example::

        lookup_positions(db, Scope("610113"), ["0b6f…"])  # {"0b6f…": "610113005"}
    """
    if not ids:
        return {}
    out: dict[str, str] = {}
    with db.session(scope) as s:
        for part in chunked(ids, 10_000):
            q = select(Position.id, Position.division_code).where(
                Position.id.in_(part),
                Position.division_code.like(scope.like_pattern),
            )
            for ident, code in s.execute(q).tuples():
                out[ident] = code
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
