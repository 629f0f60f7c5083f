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

Beside the service records, once a line's volunteer is found (issue 14,
part 8): its ``training[]`` goes to activity's ``ImportTraining`` and its
``awards[]`` to commendation's ``ImportAwards`` (one batch per line, with
the caller's own token: the services check the scope again), and its
``basic.national_volunteer_number`` is stored by registration when the
volunteer has none. A line whose volunteer already holds a different
national number is refused whole (nothing of it written). Every field is
checked (:func:`services.common.record_format.check_volunteer`) before
anything is written, so a bad field refuses its whole line.

Example::

    with open("records.jsonl", encoding="utf-8") as fh:
        report = import_records(db, Scope("610113"), fh, source=sha256)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import grpc
from google.protobuf.message import Message

from services.common import protos
from services.common import record_format as fmt
from services.common import rpc as rpc_errors
from services.common.db import Database
from services.common.errors import InvalidArgument, PermissionDenied
from services.common.tenancy import Scope
from services.hours import bulk

# Finds volunteers by full ID number in a scope: ID number → volunteer number.
IdentityLookup = Callable[[Scope, Sequence[str]], Mapping[str, str]]
# Sends one line's training or awards entries (dicts of the RPC's entry
# fields) to their service; (imported, duplicates), or raises grpc.RpcError.
Send = Callable[[list[dict[str, Any]]], tuple[int, int]]
# call(service, method, request) → the reply message, with the caller's token.
Call = Callable[[str, str, Message], Message]


class Person(Protocol):
    """A volunteer found here (record_identity.Person)."""

    @property
    def id(self) -> str: ...

    @property
    def volunteer_number(self) -> str: ...

    @property
    def national_volunteer_number(self) -> str: ...


class Registry(Protocol):
    """Registration as the import needs it (record_identity's functions)."""

    def people(self, scope: Scope, numbers: Sequence[str]) -> Mapping[str, Person]:
        """Volunteer number → the volunteer at home in ``scope``."""
        ...

    def set_national(self, scope: Scope, numbers: Mapping[str, str]) -> int:
        """Store volunteer id → national number where none is stored."""
        ...


@dataclass(frozen=True)
class Remote:
    """Where a line's training and awards go: activity's ImportTraining and
    commendation's ImportAwards, through ``call`` (the caller's token)."""

    call: Call

    def training(self, entries: list[dict[str, Any]]) -> tuple[int, int]:
        return self._send("activity", "ImportTraining", "ImportedTrainingEntry",
                          entries)  # fmt: skip

    def awards(self, entries: list[dict[str, Any]]) -> tuple[int, int]:
        return self._send("commendation", "ImportAwards", "ImportedAwardEntry",
                          entries)  # fmt: skip

    def _send(
        self, service: str, method: str, entry: str, entries: list[dict[str, Any]]
    ) -> tuple[int, int]:
        request_type, _ = protos.method_types(service, method)
        kind = getattr(protos.messages(service), entry)
        got: Any = self.call(
            service, method, request_type(entries=[kind(**e) for e in entries])
        )
        return int(got.imported), int(got.duplicates)


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
    # Training and awards (activity, commendation) and national numbers
    # stored (registration).
    training: int = 0
    training_imported: int = 0
    training_duplicates: int = 0
    awards: int = 0
    awards_imported: int = 0
    awards_duplicates: int = 0
    national_numbers: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines": self.lines, "records": self.records,
            "imported": self.imported, "duplicates": self.duplicates,
            "rejected": self.rejected, "skipped": self.skipped,
            "training": self.training,
            "training_imported": self.training_imported,
            "training_duplicates": self.training_duplicates,
            "awards": self.awards, "awards_imported": self.awards_imported,
            "awards_duplicates": self.awards_duplicates,
            "national_numbers": self.national_numbers,
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
    registry: Registry | None = None,
    remote: Remote | None = None,
    actor: str = "record-import",
) -> RecordReport:
    """Import a record file's approved service records into ``scope``, and
    its training, awards and national numbers (``registry``: registration,
    from the configuration unless given; ``remote``: the services' RPCs, a
    line carrying training or awards without it is refused); see the
    module's docstring. Raises ``InvalidArgument`` when the file is not this
    format and ``PermissionDenied`` when it names a division outside
    ``scope`` (nothing written either way)."""
    try:
        head, read = fmt.decode(lines)
    except fmt.FormatError as err:
        p = err.problem
        raise InvalidArgument(p.field, p.rule, p.message_en, p.message_zh) from err
    report = RecordReport(lines=len(read))
    _check_scope(scope, read)
    numbers = _numbers(scope, read, identities, report)
    issuer = str(head.get("issuer_platform", ""))[:50]
    whom = _people(scope, read, numbers, registry, report)
    rows: list[dict[str, str]] = []
    where: dict[int, tuple[int, str]] = {}  # pipeline row → (line, record path)
    for line in read:
        services = line.volunteer.get("services", [])
        if isinstance(services, list):
            report.records += len(services)
        for section in ("training", "awards"):
            items = line.volunteer.get(section, [])
            if isinstance(items, list):
                setattr(report, section, getattr(report, section) + len(items))
        if line.problems or line.number not in numbers or line.number not in whom:
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
    _extras(scope, read, whom, registry, remote, issuer, report)
    report.problems.sort(key=lambda p: p.line)
    return report


def _registry(registry: Registry | None) -> tuple[Registry, Callable[[], None]]:
    if registry is not None:
        return registry, lambda: None
    from services.common.config import load
    from services.common.db import Database
    from services.registration import record_identity

    db = Database(load().service("registration"))
    return record_identity.Directory(db), db.dispose


def _people(
    scope: Scope,
    read: Sequence[fmt.Line],
    numbers: Mapping[int, str],
    registry: Registry | None,
    report: RecordReport,
) -> dict[int, Person]:
    """line → its volunteer here, for the good lines whose volunteer is at
    home in ``scope`` and whose national number (if any) agrees with the
    one stored; every other line is reported here and refused whole."""
    wanted = sorted({numbers[x.number] for x in read if x.number in numbers})
    own, close = _registry(registry)
    try:
        found = own.people(scope, wanted) if wanted else {}
    finally:
        close()
    out: dict[int, Person] = {}
    for line in read:
        if line.problems or line.number not in numbers:
            continue
        person = found.get(numbers[line.number])
        basic = line.volunteer["basic"]
        if person is None:
            report.problems.append(fmt.Problem(
                line.number, "basic.volunteer_number", "volunteer_number.known",
                "no volunteer with this number is registered in your area",
                "您的辖区内没有该志愿者编号的志愿者"))  # fmt: skip
            continue
        national = basic.get("national_volunteer_number") or ""
        held = person.national_volunteer_number
        if national and held and national != held:
            report.problems.append(fmt.Problem(
                line.number, "basic.national_volunteer_number",
                "national_volunteer_number.conflict",
                "the volunteer already has a different national volunteer number"
                "; nothing of this line was imported",
                "该志愿者已登记不同的全国志愿者统一编号；本行未导入"))  # fmt: skip
            continue
        out[line.number] = person
    return out


def _extras(
    scope: Scope,
    read: Sequence[fmt.Line],
    whom: Mapping[int, Person],
    registry: Registry | None,
    remote: Remote | None,
    issuer: str,
    report: RecordReport,
) -> None:
    """Each found line's training, awards and national number."""
    national: dict[str, str] = {}
    for line in read:
        person = whom.get(line.number)
        if person is None:
            continue
        vol = line.volunteer
        ok = True
        if remote is None:
            for section in ("training", "awards"):
                if vol.get(section):
                    report.problems.append(fmt.Problem(
                        line.number, section, f"{section}.unavailable",
                        f"{section} not imported: this import runs without"
                        " the activity and commendation services",
                        "本次导入未连接活动与表彰服务，培训与表彰记录未导入",
                    ))  # fmt: skip
        if remote is not None:
            for section, send, entry in (
                ("training", remote.training, _training_entry),
                ("awards", remote.awards, _award_entry),
            ):
                items = vol.get(section) or []
                if not items or not ok:
                    continue
                try:
                    made, again = send([entry(person.id, x, issuer) for x in items])
                except grpc.RpcError as err:
                    report.problems.append(_refused(line.number, section, err))
                    ok = False
                    continue
                setattr(report, f"{section}_imported",
                        getattr(report, f"{section}_imported") + made)  # fmt: skip
                setattr(report, f"{section}_duplicates",
                        getattr(report, f"{section}_duplicates") + again)  # fmt: skip
        wanted = vol["basic"].get("national_volunteer_number") or ""
        if ok and wanted and not person.national_volunteer_number:
            national[person.id] = wanted
    if national:
        own, close = _registry(registry)
        try:
            report.national_numbers += own.set_national(scope, national)
        finally:
            close()


def _training_entry(vid: str, x: Mapping[str, Any], issuer: str) -> dict[str, Any]:
    return {
        "volunteer_id": vid, "course_title": x["course_title"],
        "started_at": x.get("started_at") or "", "ended_at": x.get("ended_at") or "",
        "hours": float(x["hours"]),
        "issuer_platform": x.get("issuer_platform") or issuer,
        "source_session_id": x["session_id"],
    }  # fmt: skip


def _award_entry(vid: str, x: Mapping[str, Any], issuer: str) -> dict[str, Any]:
    return {
        "volunteer_id": vid, "kind": x["kind"], "title": x["title"],
        "awarded_on": x.get("awarded_on") or "",
        "division_code": x.get("division_code") or "",
        "issuer_platform": x.get("issuer_platform") or issuer,
    }  # fmt: skip


def _refused(number: int, section: str, err: grpc.RpcError) -> fmt.Problem:
    """A service's refusal of a line's batch, on the line's field path
    (``entries[2].hours`` → ``training[2].hours``)."""
    got = rpc_errors.error_details(err)
    name = got.get("field", "")
    path = section
    if name.endswith(".volunteer_id"):
        path = "basic.volunteer_number"
    elif name.startswith("entries"):
        path = section + name.removeprefix("entries").replace(
            "source_session_id", "session_id"
        )
    rule = got.get("rule") or f"{section}.{got['code'].lower()}"
    en = got.get("message_en", "")
    return fmt.Problem(number, path, rule, en, got.get("message_zh", "") or en)


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
