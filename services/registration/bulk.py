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

Speed (issue 10): the per-row Python path is lean (work that depends on one
value, such as a birth date, an address code, a home or a service-fields
cell, is done once per distinct value; a row the fast path does not pass is
checked by the original per-row code, so its errors read as ever), and a
worker thread applies chunk k in the database while chunk k + 1 is checked
and encrypted. ``tests/perf/bench_import_volunteers.py`` measures it
against raw COPY into a twin of ``volunteers``.

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

import hashlib
import hmac
import json
import os
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime
from operator import mul
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
    NONCE_BYTES,
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
    "home_division_code", "service_fields", "id",
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
    fast = _FastRows(scope, cipher, source, known)
    # The database applies chunk k on a worker thread while this thread
    # checks and encrypts chunk k + 1 (PostgreSQL works in its own process,
    # psycopg releases the GIL while it waits). The report is filled in the
    # order a one-by-one run would: chunk k's refusals before chunk k + 1's.
    with ThreadPoolExecutor(1, thread_name_prefix="volunteer-import") as pool:
        pending: tuple[Future[_Applied], int] | None = None
        for chunk in chunked(canonical(rows, COLUMNS), max(1, chunk_size)):
            now = clock()
            staged, refused = fast.prepare(chunk, now.astimezone(CST).date())
            if pending is not None:
                done = _settle(pending, report, done, progress)
                pending = None
            report.rows += len(chunk)
            for errors in refused:
                report.reject(errors)
            if staged:
                applied = pool.submit(
                    _apply_chunk, db, scope, staged, verified, actor, now
                )
                pending = (applied, len(chunk))
            else:
                done += len(chunk)
                if progress is not None:
                    progress(done)
            del chunk, staged
        if pending is not None:
            done = _settle(pending, report, done, progress)
    report.errors.sort(key=lambda e: e.row)  # stable: fields in column order
    return report


# (imported, duplicates, refused rows as (row, status)) of one applied chunk.
_Applied = tuple[int, int, list[tuple[int, str]]]


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
        self._seal = _Sealer.of(cipher)

    def prepare(
        self, chunk: list[tuple[int, dict[str, str]]], today: date
    ) -> tuple[list[tuple[Any, ...]], list[list[Any]]]:
        """(rows to stage, the refused rows' errors), in row order."""
        if today != self._today:
            self._today, self._births = today, {}
        staged: list[tuple[Any, ...]] = []
        refused: list[list[Any]] = []
        if self._seal is not None:
            self._seal.reserve(len(chunk))
        for number, values in chunk:
            row = self._row(number, values)
            if row is None:
                problems = RowProblems(number, LABELS)
                row = _prepare(number, values, self.scope, today, self.cipher,
                               self.source, problems, self.known)  # fmt: skip
                if row is None:
                    refused.append(problems.errors)
                    continue
                row += (str(uuid.uuid4()),)
            staged.append(row)
        return staged, refused

    def _row(self, number: int, v: dict[str, str]) -> tuple[Any, ...] | None:
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
        seal = self._seal
        if seal is None:
            cipher = self.cipher
            id_hash = cipher.blind_index(ident, context=_ID)
            name_enc = cipher.encrypt(name, context=_NAME)
            id_enc = cipher.encrypt(ident, context=_ID)
            phone_enc = cipher.encrypt(phone, context=_PHONE)
        else:
            id_hash = seal.blind_id(ident)
            name_enc = seal.encrypt(name, seal.name_aad)
            id_enc = seal.encrypt(ident, seal.id_aad)
            phone_enc = seal.encrypt(phone, seal.phone_aad)
        return (
            number, (self.prefix + str(number))[:200], id_hash,
            name_enc, mask_name(name), id_enc, mask_id_number(ident),
            phone_enc, mask_phone(phone),
            "male" if ident[16] in "13579" else "female", birth[0], home, fields,
            str(uuid.uuid4()),
        )  # fmt: skip

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


class _Sealer:
    """:meth:`PiiCipher.encrypt` and :meth:`PiiCipher.blind_index` for many
    rows: the context's HMAC key derived once instead of per value, the
    nonces drawn from the OS once per chunk. Built from the cipher's own key
    objects and used only once it is proven to give what the cipher gives
    (the blind index equal, the ciphertext opened by the cipher); otherwise
    :meth:`of` answers None and the cipher's methods are called per row."""

    def __init__(self, version: int, aead: Any, hash_key: bytes) -> None:
        header = bytes([version])
        self.header = header
        self.aead = aead
        self.name_aad = header + _NAME.encode()
        self.id_aad = header + _ID.encode()
        self.phone_aad = header + _PHONE.encode()
        self.id_key = hmac.new(hash_key, _ID.encode(), hashlib.sha256).digest()
        self.nonces = b""
        self.at = 0

    @classmethod
    def of(cls, cipher: PiiCipher) -> _Sealer | None:
        try:
            aead = cipher._aeads[cipher.version]
            sealer = cls(cipher.version, aead, cipher._hash_key)
        except (AttributeError, KeyError, TypeError):
            return None
        probe = "11010519491231002X"
        sealer.reserve(1)
        try:
            same = (
                sealer.blind_id(probe) == cipher.blind_index(probe, context=_ID)
                and cipher.decrypt(sealer.encrypt(probe, sealer.id_aad), context=_ID)
                == probe
            )
        except Exception:  # noqa: BLE001 - any surprise: use the cipher itself
            same = False
        return sealer if same else None

    def reserve(self, rows: int) -> None:
        """Draw the nonces of ``rows`` rows (three values each) at once."""
        self.nonces, self.at = os.urandom(3 * NONCE_BYTES * rows), 0

    def encrypt(self, value: str, aad: bytes) -> bytes:
        at = self.at
        nonce = self.nonces[at : at + NONCE_BYTES]
        if len(nonce) < NONCE_BYTES:  # more values than reserved
            nonce = os.urandom(NONCE_BYTES)
        self.at = at + NONCE_BYTES
        return self.header + nonce + self.aead.encrypt(nonce, value.encode(), aad)

    def blind_id(self, number: str) -> str:
        """The blind index of a normalised ID number (ASCII, upper case)."""
        return hmac.digest(self.id_key, number.encode(), "sha256").hex()


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
    """A service-fields cell as a text[] literal, None when it is refused."""
    try:
        raw = re.split(r"[;；|,，、]", cell)
        names = [_FIELD_BY_NAME.get(f.strip(), f.strip()) for f in raw if f.strip()]
        return "{" + ",".join(check_service_fields(names)) + "}"
    except InvalidArgument:
        return None


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


def _apply_chunk(
    db: Database,
    scope: Scope,
    staged: list[tuple[Any, ...]],
    verified: bool,
    actor: str,
    now: datetime,
) -> _Applied:
    """Apply one chunk in its own transaction (on the import's worker)."""
    with db._factory() as s, s.begin():
        return _apply(db, s, scope, staged, verified, actor, now)


def _apply(
    db: Database,
    s: Session,
    scope: Scope,
    staged: list[tuple[Any, ...]],
    verified: bool,
    actor: str,
    now: datetime,
) -> _Applied:
    s.execute(text(
        f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (row_no int PRIMARY KEY,"
        " request_id text, id_hash text, name_enc bytea, name_masked text,"
        " id_number_enc bytea, id_number_masked text, phone_enc bytea,"
        " phone_masked text, sex text, birth_date date, home_division_code text,"
        " service_fields text[], id text, status text NOT NULL DEFAULT 'ok')"
        " ON COMMIT DELETE ROWS"
    ))  # fmt: skip
    s.execute(text(f"GRANT SELECT ON {STAGE} TO {db.app_role}"))
    copy_rows(s, STAGE, _STAGE_COLUMNS, staged)
    # Statistics of the keys only: the plans below need the row count and
    # the keys' spread, not the ciphertexts'.
    s.execute(text(f"ANALYZE {STAGE} (row_no, request_id, id_hash, status)"))
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
    counts: dict[str, int] = dict(
        s.execute(text(f"SELECT status, count(*) FROM {STAGE} GROUP BY 1")).all()  # type: ignore[arg-type]
    )
    n = counts.get("ok", 0)
    if n:
        # Volunteer numbers: one counter update reserves the chunk's serials.
        last = s.execute(
            text("UPDATE counters SET value = value + :n"
                 " WHERE name = 'volunteer_number' RETURNING value"),
            {"n": n},
        ).scalar_one()  # fmt: skip
        status = "verified" if verified else "pending"
        s.execute(
            text("SELECT set_config('role', :role, true),"
                 " set_config('zhiyuan.scope', :scope, true),"
                 " set_config('work_mem', '64MB', true)"),
            {"role": db.app_role, "scope": scope.code},
        )  # fmt: skip
        params = {
            "first": last - n + 1, "status": status, "actor": actor[:100],
            "now": now, "at": now.isoformat(),
            "reviewer": actor[:100] if verified else None,
            "reviewed": now if verified else None,
        }  # fmt: skip
        s.execute(
            text(
                "INSERT INTO volunteers (id, volunteer_number, name_enc, name_masked,"
                " id_number_enc, id_number_masked, id_hash, phone_enc, phone_masked,"
                " sex, birth_date, home_division_code, service_fields, status,"
                " rejection_reason, guardian_enc, request_id, registered_by,"
                f" registered_at, reviewed_by, reviewed_at) SELECT id, {_NUMBER},"
                " name_enc, name_masked, id_number_enc, id_number_masked, id_hash,"
                " phone_enc, phone_masked, sex, birth_date, home_division_code,"
                " to_json(service_fields), :status, '', NULL, request_id, :actor,"
                f" :now, :reviewer, :reviewed FROM {STAGE} WHERE status = 'ok'"
                " ORDER BY row_no"
            ),
            params,
        )  # fmt: skip
        for verb in ("registered", "verified") if verified else ("registered",):
            _events(s, f"registration.volunteer.{verb}", params)
        s.execute(text("RESET ROLE"))
        month = month_of(now)
        homes = s.execute(text(
            f"SELECT home_division_code, count(*) FROM {STAGE} WHERE status = 'ok'"
            " GROUP BY 1"
        )).tuples()  # fmt: skip
        metrics = ["volunteers_registered"] + (["volunteers_verified"] * verified)
        ROLLUP.bump_many(
            s, [(home, month, dict.fromkeys(metrics, float(c))) for home, c in homes]
        )
    bad: list[tuple[int, str]] = []
    if n + counts.get("duplicate", 0) < len(staged):
        bad = list(
            s.execute(
                text(f"SELECT row_no, status FROM {STAGE} WHERE status NOT IN"
                     " ('ok', 'duplicate') ORDER BY row_no")
            ).tuples()
        )  # fmt: skip
    return n, counts.get("duplicate", 0), bad


# A volunteer's number from the chunk's first reserved serial, in row order.
_NUMBER = (
    "'ZY' || substr(home_division_code, 1, 2) || lpad((:first - 1"
    " + row_number() OVER (ORDER BY row_no))::text, 10, '0')"
)


# An event's payload, as ``outbox.event`` writes it, for ``format()``.
_PAYLOAD = json.dumps({
    "event_id": "%1$s", "event_type": "{type}", "occurred_at": "{at}",
    "division_code": "%2$s",
    "data": {
        "volunteer_id": "%3$s", "volunteer_number": "%4$s",
        "home_division_code": "%2$s", "status": "{status}",
        "birth_date": "%5$s", "service_fields": "%6$s",
    },
}).replace('"%6$s"', "%6$s")  # fmt: skip


def _events(s: Session, event_type: str, params: Mapping[str, Any]) -> None:
    """One event per imported volunteer, in row order, as one registration
    writes it. The payload is composed as text (cheaper than building JSON
    objects row by row): every value put in it is an id, a code, a number, a
    date or a JSON array the database made, so nothing needs escaping, and
    the json type still checks the result."""
    payload = (
        _PAYLOAD.replace("{type}", event_type)
        .replace("{at}", params["at"])
        .replace("{status}", params["status"])
    )
    s.execute(
        text(
            "INSERT INTO outbox (id, event_type, division_code, payload, headers,"
            " created_at, attempts)"
            " SELECT x.eid, :type, x.home, CAST(format(:payload, x.eid, x.home, x.id,"
            "  x.number, to_char(x.birth_date, 'YYYY-MM-DD'),"
            "  to_json(x.service_fields)) AS json), '{}'::json, :now, 0"
            " FROM (SELECT gen_random_uuid()::text AS eid, id, birth_date,"
            f"  home_division_code AS home, service_fields, {_NUMBER} AS number,"
            f"  row_no FROM {STAGE} WHERE status = 'ok') x ORDER BY x.row_no"
        ),
        {**params, "type": event_type, "payload": payload},
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
