"""Import of the national record format (:mod:`services.common.record_format`)
into hours: records transferred in from another platform (记录转移接续).

No second writer: each approved service record becomes one row of hours'
bulk import (:func:`services.hours.bulk.import_rows`), with its checks,
policy, per-row report and idempotency (the same file twice imports nothing
twice: a row's id is derived from the file's digest and its place in it).
What the pipeline reports against a row is translated back to the file's
line and field (``services[2].started_at``).

Volunteers must already be registered where the records come in: a full ID
number in the file finds the volunteer by registration's keyed hash, in the
caller's scope; a masked one falls back to the platform volunteer number.
Every division the file names (homes and where service was done) must lie
in the caller's scope, or nothing is written.

Example::

    with open("records.jsonl", encoding="utf-8") as fh:
        report = import_records(db, Scope("610113"), fh, source=sha256)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.common import record_format as fmt
from services.common.db import Database
from services.common.errors import InvalidArgument, PermissionDenied
from services.common.tenancy import Scope
from services.hours import bulk

# Finds volunteers by full ID number in a scope: ID number → volunteer number.
IdentityLookup = Callable[[Scope, Sequence[str]], Mapping[str, str]]
# The bulk pipeline's column → the service record's field in the file.
FIELDS = {
    "volunteer_number": "volunteer_number",
    "division_code": "division_code",
    "organisation_name": "organisation_name",
    "service_field": "service_field",
    "content": "content",
    "session_start": "started_at",
    "session_end": "ended_at",
    "hours": "effective_hours",
    "reason": "record_id",
}


@dataclass
class RecordReport:
    """What an import of a record file did; ``problems`` name line and field."""

    lines: int = 0
    records: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    skipped: int = 0  # records not transferred (not approved, nothing left)
    problems: list[fmt.Problem] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines": self.lines, "records": self.records,
            "imported": self.imported, "duplicates": self.duplicates,
            "rejected": self.rejected, "skipped": self.skipped,
            "problems": [p.to_dict() for p in self.problems],
        }  # fmt: skip


def import_records(
    db: Database,
    scope: Scope,
    lines: Iterable[str],
    *,
    source: str,
    volunteers: bulk.VolunteerLookup | None = None,
    identities: IdentityLookup | None = None,
    actor: str = "record-import",
) -> RecordReport:
    """Import a record file's approved service records into ``scope``; see
    the module's docstring. Raises ``InvalidArgument`` when the file is not
    this format and ``PermissionDenied`` when it names a division outside
    ``scope`` (nothing written either way)."""
    try:
        head, read = fmt.decode(lines)
    except fmt.FormatError as err:
        p = err.problem
        raise InvalidArgument(p.field, p.rule, p.message_en, p.message_zh) from err
    report = RecordReport(lines=len(read))
    _check_scope(scope, read)
    numbers = _numbers(scope, read, identities, report)
    rows: list[dict[str, str]] = []
    where: dict[int, tuple[int, str]] = {}  # pipeline row → (line, record path)
    issuer = str(head.get("issuer_platform", ""))[:50]
    for line in read:
        services = line.volunteer.get("services", [])
        if isinstance(services, list):
            report.records += len(services)
        if line.problems or line.number not in numbers:
            # Records of a line that cannot be read or matched: all refused.
            report.rejected += max(
                1, len(services) if isinstance(services, list) else 1
            )
            report.problems += line.problems
            continue
        number = numbers[line.number]
        for i, rec in enumerate(services):
            path = f"services[{i}]"
            skip = _not_transferred(line.number, path, rec)
            if skip is not None:
                report.skipped += 1
                report.problems.append(skip)
                continue
            where[len(rows) + 2] = (line.number, path)
            rows.append(_row(number, rec, issuer))
    if rows:
        got = bulk.import_rows(
            db, scope, rows, source=source, volunteers=volunteers, actor=actor
        )
        report.imported, report.duplicates = got.imported, got.duplicates
        report.rejected += got.rejected
        for e in got.errors:
            number_, path = where.get(e.row, (0, "services[?]"))
            name = FIELDS.get(e.field, e.field)
            report.problems.append(
                fmt.Problem(
                    number_, f"{path}.{name}", e.rule, e.message_en, e.message_zh
                )  # fmt: skip
            )
    report.problems.sort(key=lambda p: p.line)
    return report


def _check_scope(scope: Scope, read: Sequence[fmt.Line]) -> None:
    """Every division the file names lies in ``scope``, or PermissionDenied
    naming the first that does not (before anything is written)."""
    for line in read:
        vol = line.volunteer
        basic = vol.get("basic")
        named: list[tuple[str, Any]] = []
        if isinstance(basic, dict):
            named.append(("basic.home_division_code", basic.get("home_division_code")))
        services = vol.get("services")
        for i, rec in enumerate(services if isinstance(services, list) else []):
            if isinstance(rec, dict):
                named.append((f"services[{i}].division_code", rec.get("division_code")))
        for path, code in named:
            if not isinstance(code, str) or not fmt.is_code(code):
                continue  # reported on its line (division_code.code)
            if not scope.contains(code):
                raise PermissionDenied(
                    f"line {line.number}: {code} lies outside your jurisdiction"
                    f" {scope.code}; nothing was imported",
                    f"第 {line.number} 行：{code} 不在您的管辖范围（{scope.code}）内；"
                    "未导入任何记录",
                    field=path, rule="scope.contains",
                )  # fmt: skip


def _numbers(
    scope: Scope,
    read: Sequence[fmt.Line],
    identities: IdentityLookup | None,
    report: RecordReport,
) -> dict[int, str]:
    """line → the volunteer's number on this platform: by full ID number
    (registration's keyed hash, in scope), else the number in the file."""
    full = {
        line.number: str(line.volunteer["basic"]["id_number"]).upper()
        for line in read
        if not line.problems and "*" not in str(line.volunteer["basic"]["id_number"])
    }
    found: Mapping[str, str] = {}
    if full:
        wanted = sorted(set(full.values()))
        if identities is not None:
            found = identities(scope, wanted)
        else:
            from services.registration.record_identity import directory

            find, close = directory()
            try:
                found = find(scope, wanted)
            finally:
                close()
    out: dict[int, str] = {}
    for line in read:
        if line.problems:
            continue
        if line.number in full:
            number = found.get(full[line.number])
            if number is None:
                report.problems.append(
                    fmt.Problem(line.number, "basic.id_number", "volunteer.known",
                                "no volunteer with this ID number is registered"
                                " in your area", "您的辖区内没有持该身份证号的志愿者")
                )  # fmt: skip
                continue
            out[line.number] = number
        else:
            out[line.number] = str(line.volunteer["basic"]["volunteer_number"])
    return out


def _not_transferred(
    number: int, path: str, rec: Mapping[str, Any]
) -> fmt.Problem | None:
    if rec.get("status") != "approved":
        return fmt.Problem(number, f"{path}.status", "status.approved",
                           "only approved records are transferred",
                           "仅转入已审核通过的记录")  # fmt: skip
    if float(rec.get("effective_hours", 0)) <= 0:
        return fmt.Problem(number, f"{path}.effective_hours",
                           "effective_hours.positive",
                           "a reversed record carries no hours to transfer",
                           "已冲销的记录没有可转入的时长")  # fmt: skip
    return None


def _row(number: str, rec: Mapping[str, Any], issuer: str) -> dict[str, str]:
    """One bulk-import row (the template's English codes)."""
    return {
        "volunteer_number": number,
        "division_code": str(rec["division_code"]),
        "organisation_name": str(rec["organisation_name"]),
        "service_field": str(rec["service_field"]),
        "content": str(rec["content"]),
        "session_start": str(rec["started_at"]),
        "session_end": str(rec["ended_at"]),
        "hours": format(float(rec["effective_hours"]), "g"),
        "reason": f"转入 {issuer} {rec['record_id']}"[:500],
    }
