"""The shared part of bulk imports: reading a CSV or XLSX file as a stream of
rows, cleaning odd bytes, the per-row report, and COPY into a staging table.

A row is a mapping keyed by the template's headers (English or Chinese, see
:class:`Column`). Row numbers are the spreadsheet's: the header is row 1, so
the n-th record of the iterable is row n + 1; a blank line still takes its
number (readers yield it as an empty mapping) so numbers stay true.

Example::

    with open("hours.xlsx", "rb") as fh:
        for row in read_table(fh, "hours.xlsx"):
            ...
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from typing import IO, Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from services.common.errors import InvalidArgument

# A record the file reader could not parse (a NUL byte, say) comes through as
# a row with only this key: the import reports it as that row's error.
BROKEN = "__broken__"
MAX_KEPT_ERRORS = 10_000  # more are counted, not kept (memory stays bounded)
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060\x00"), None)


@dataclass(frozen=True)
class Column:
    """A template column: its code, labels, the header names it accepts."""

    code: str
    label_zh: str
    required: bool = True
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.code, self.label_zh, *self.aliases)


@dataclass(frozen=True)
class RowError:
    row: int  # as the spreadsheet shows it (the header is row 1)
    field: str
    label_zh: str
    rule: str
    message_en: str
    message_zh: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row, "field": self.field, "label_zh": self.label_zh,
            "rule": self.rule, "message_en": self.message_en,
            "message_zh": self.message_zh,
        }  # fmt: skip


@dataclass
class ImportReport:
    """What an import did: every good row imported once, every bad one
    reported. ``rows`` counts non-blank data rows; ``rejected`` counts rows
    (a row with three bad fields is one rejected row, three errors)."""

    rows: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    errors_dropped: int = 0  # errors beyond MAX_KEPT_ERRORS, counted only

    def reject(self, errors: Sequence[RowError]) -> None:
        self.rejected += 1
        for err in errors:
            if len(self.errors) < MAX_KEPT_ERRORS:
                self.errors.append(err)
            else:
                self.errors_dropped += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows, "imported": self.imported,
            "duplicates": self.duplicates, "rejected": self.rejected,
            "errors": [e.to_dict() for e in self.errors],
            "errors_dropped": self.errors_dropped,
        }  # fmt: skip


class RowProblems:
    """Collects every bad field of one row (not only the first)."""

    def __init__(self, row: int, labels: Mapping[str, str]):
        self.row, self.labels, self.errors = row, labels, list[RowError]()

    def add(self, field_code: str, rule: str, en: str, zh: str) -> None:
        label = self.labels.get(field_code, field_code)
        self.errors.append(RowError(self.row, field_code, label, rule, en, zh))

    def add_error(self, err: InvalidArgument, field_code: str | None = None) -> None:
        self.add(field_code or err.field, err.rule, err.message_en, err.message_zh)

    def __bool__(self) -> bool:
        return bool(self.errors)


def clean(value: Any) -> str:
    """A cell as text: full-width digits and letters as ASCII (NFKC), BOMs,
    zero-width characters and NULs gone, surrounding blanks trimmed."""
    if type(value) is str:  # every CSV cell
        text = value
    elif value is None:
        return ""
    elif isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    elif isinstance(value, date | time):
        return value.isoformat()
    else:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value)
    if text.isascii() and "\x00" not in text:  # the common case, fast
        return text.replace("\r", " ").replace("\n", " ").strip()
    return _clean_text(text)


@lru_cache(maxsize=8192)
def _clean_text(text: str) -> str:
    """:func:`clean` of a cell with other than ASCII: names, contents and
    addresses repeat row after row in a register, so each is worked out
    once (a bounded cache)."""
    if not unicodedata.is_normalized("NFKC", text):  # a quick check, in C
        text = unicodedata.normalize("NFKC", text)
    text = text.translate(_INVISIBLE)
    return text.replace("\r", " ").replace("\n", " ").strip()


def canonical(
    rows: Iterable[Mapping[str, Any]], columns: Sequence[Column]
) -> Iterator[tuple[int, dict[str, str]]]:
    """(spreadsheet row, values by column code) for each non-blank row; a
    row whose keys are the template's Chinese headers reads the same."""
    lookup: dict[str, str] = {}
    for col in columns:
        for name in col.names:
            lookup[clean(name).lower()] = col.code
    keys: dict[str, str | None] = {}  # a file's keys repeat on every row
    for index, row in enumerate(rows, start=2):
        if BROKEN in row:
            yield index, {BROKEN: str(row[BROKEN])}
            continue
        values: dict[str, str] = {}
        for key, value in row.items():
            if key not in keys:
                keys[key] = lookup.get(clean(key).lower())
            code = keys[key]
            if code is not None and code not in values:
                values[code] = clean(value)
        if any(values.values()):
            yield index, values


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# -- files ----------------------------------------------------------------------


def _check_header(names: Sequence[str], columns: Sequence[Column]) -> None:
    seen = {clean(n).lower() for n in names}
    for col in columns:
        if col.required and not any(clean(n).lower() in seen for n in col.names):
            raise InvalidArgument(
                "file", "file.header",
                f"the header needs a column {col.code} ({col.label_zh})",
                f"表头缺少“{col.label_zh}”（{col.code}）列",
            )  # fmt: skip


def read_table(
    stream: IO[bytes], name: str = "", columns: Sequence[Column] = ()
) -> Iterator[dict[str, Any]]:
    """Rows of a CSV (UTF-8 with or without BOM, or GB18030; any line
    endings, a bare CR included) or XLSX file, streamed. With ``columns``
    the header is checked before the first row (InvalidArgument
    ``file.header``)."""
    head = stream.read(4)
    stream.seek(0)
    if name.lower().endswith(".xlsx") or head == b"PK\x03\x04":
        return _xlsx_rows(stream, columns)
    return _csv_rows(stream, columns)


def _encoding(stream: IO[bytes]) -> str:
    sample = stream.read(1 << 16)
    stream.seek(0)
    try:  # a multi-byte character cut at the sample's end is still UTF-8
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "gb18030"


def _csv_rows(stream: IO[bytes], columns: Sequence[Column]) -> Iterator[dict[str, Any]]:
    # newline=None: universal newlines, so "\r", "\r\n" and "\n" all end a
    # line (old Mac spreadsheets write bare CRs); csv never sees a bare CR.
    text = io.TextIOWrapper(stream, encoding=_encoding(stream), newline=None)
    reader = csv.reader(text)
    header = _next_record(reader)
    if not header or not any(clean(h) for h in header):
        raise InvalidArgument.required("file")
    if columns:
        _check_header(header, columns)
    return _csv_body(reader, header)


def _csv_body(reader: Any, header: list[str]) -> Iterator[dict[str, Any]]:
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            yield {BROKEN: str(err)}
            continue
        except UnicodeDecodeError:
            raise _not_text() from None
        yield dict(zip(header, cells, strict=False))


def _next_record(reader: Any) -> list[str] | None:
    try:
        return next(reader, None)
    except UnicodeDecodeError:
        raise _not_text() from None
    except csv.Error:
        raise InvalidArgument(
            "file", "file.format", "the header line cannot be read as CSV",
            "表头行不是有效的 CSV",
        ) from None  # fmt: skip


def _not_text() -> InvalidArgument:
    """A line the file's encoding cannot decode (csv reads the text itself:
    a generator between them cost a Python frame per line)."""
    return InvalidArgument(
        "file", "file.encoding", "the file must be UTF-8 or GB18030 text",
        "文件须为 UTF-8 或 GB18030 编码的文本",
    )  # fmt: skip


def _xlsx_rows(
    stream: IO[bytes], columns: Sequence[Column]
) -> Iterator[dict[str, Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(stream, read_only=True, data_only=True)
    except Exception:  # a damaged zip or sheet: the whole file is refused
        raise InvalidArgument(
            "file", "file.format", "the file is not a readable XLSX workbook",
            "文件不是可读取的 XLSX 工作簿",
        ) from None  # fmt: skip
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [clean(h) for h in next(rows, ())]
    if not any(header):
        book.close()
        raise InvalidArgument.required("file")
    if columns:
        _check_header(header, columns)

    def body() -> Iterator[dict[str, Any]]:
        try:
            for cells in rows:
                yield dict(zip(header, cells, strict=False))
        finally:
            book.close()

    return body()


# -- staging --------------------------------------------------------------------


def copy_rows(
    session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """COPY ``rows`` into ``table`` over the session's own connection (so in
    its transaction), with psycopg 3's binary-free text protocol."""
    raw = session.connection().connection.driver_connection
    if raw is None:  # a pooled connection always has one; typing says maybe
        raise RuntimeError("COPY needs a live database connection")
    cols = ", ".join(columns)
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as cp:
        for row in rows:
            cp.write_row(row)


Progress = Callable[[int], None]


# Tables (leaves, not partitioned parents) whose rows changed since their last
# ANALYZE by more than autovacuum's own rule would allow (50 rows plus 10% of
# the table), with an absolute floor so small tables are not analysed per
# chunk. A never-analysed table has reltuples -1.
_STALE = text(
    "SELECT c.relname FROM pg_stat_user_tables t"
    " JOIN pg_class c ON c.oid = t.relid"
    " WHERE c.relkind = 'r' AND t.schemaname = current_schema()"
    " AND c.relname LIKE ANY(CAST(:names AS text[]))"
    " AND t.n_mod_since_analyze > :floor + 0.1 * greatest(c.reltuples, 0)"
    " ORDER BY c.relname"
)


def refresh_statistics(
    session: Session, names: Sequence[str], *, floor: int = 5_000
) -> list[str]:
    """ANALYZE the tables named by ``names`` (LIKE patterns) that a bulk
    import has grown past autovacuum's rule; return their names.

    An import must not rely on autovacuum: it may be off (it is on the
    machine these figures were measured on), and it lags behind a load of
    thousands of rows a second. A table the planner believes empty gets
    sequential scans where an index probe was meant: the national scale run
    of 2026-12-06 stalled for 18 minutes on one chunk's read of a 6.4M-row
    table that had never been analysed. Call it between chunks, in a
    transaction of its own, as the tables' owner (ANALYZE skips, with a
    warning, a table the caller does not own)."""
    stale = [
        name
        for (name,) in session.execute(_STALE, {"names": list(names), "floor": floor})
    ]
    for name in stale:
        quoted = name.replace('"', '""')
        session.execute(text(f'ANALYZE "{quoted}"'))
    return stale
