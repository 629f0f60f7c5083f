"""The national record format's export, composed from the services' own list
RPCs with the caller's token (the gateway holds no domain data): registration
for identity (GetVolunteerIdentity, purpose recorded in its access log; the
ID number leaves masked, as registration releases it), hours for service
records, evaluations and certificates, activity for training, commendation
for stars. Every call is scoped by the services themselves: a volunteer
outside the caller's subtree is refused by registration before anything
else is asked.

Example::

    text = await export_file(call, "610113", volunteer_id="V1", now=utcnow())
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

import grpc
from google.protobuf.message import Message

from services.common import protos
from services.common import record_format as fmt
from services.common.divisions import name_of

# call(service, method, request) → the reply as JSON-ready data.
Call = Callable[[str, str, Message], Awaitable[dict[str, Any]]]
PURPOSE = "national record export / 全国志愿服务记录导出"
CST = timezone(timedelta(hours=8))
PAGE = 500
MAX_VOLUNTEERS = 5000  # a tenant export larger than this is split by period
_STATUS = {
    "RECORD_STATUS_PENDING": "pending",
    "RECORD_STATUS_APPROVED": "approved",
    "RECORD_STATUS_REJECTED": "rejected",
}
_CERT_STATUS = {
    "CERTIFICATE_STATUS_VALID": "valid",
    "CERTIFICATE_STATUS_REVOKED": "revoked",
}


def _req(service: str, rpc: str, **fields: Any) -> Message:
    request_type, _ = protos.method_types(service, rpc)
    return request_type(**fields)


def _page(size: int = PAGE, token: str = "") -> Message:
    return protos.messages("common").PageRequest(page_size=size, page_token=token)


async def _all(
    call: Call, service: str, rpc: str, key: str, **fields: Any
) -> list[dict[str, Any]]:
    """Every item of a paged list RPC."""
    out: list[dict[str, Any]] = []
    token = ""
    while True:
        reply = await call(
            service, rpc, _req(service, rpc, page=_page(PAGE, token), **fields)
        )
        out += reply.get(key, [])
        token = reply.get("page", {}).get("next_page_token", "")
        if not token:
            return out


def china_day(moment: str) -> date:
    return datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone(CST).date()


async def export_file(
    call: Call,
    scope: str,
    *,
    now: datetime,
    volunteer_id: str = "",
    period: tuple[date, date] | None = None,
) -> str:
    """The file for one volunteer (``volunteer_id``) or for every volunteer
    with service records in the caller's subtree over ``period`` (China
    dates, both included)."""
    if volunteer_id:
        # Identity first: registration refuses a volunteer outside the scope.
        identity = await call("registration", "GetVolunteerIdentity",
                              _req("registration", "GetVolunteerIdentity",
                                   id=volunteer_id, purpose=PURPOSE))  # fmt: skip
        records = await _all(call, "hours", "ListRecords", "records",
                             volunteer_id=volunteer_id)  # fmt: skip
        people = {volunteer_id: identity}
    else:
        records = await _all(call, "hours", "ListRecords", "records")
        people = {}
    if period is not None:
        records = [r for r in records
                   if period[0] <= china_day(r["started_at"]) <= period[1]]  # fmt: skip
    by_volunteer: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        by_volunteer[r["volunteer_id"]].append(r)
    if volunteer_id:
        by_volunteer.setdefault(volunteer_id, [])
    ids = sorted(by_volunteer)[:MAX_VOLUNTEERS]
    training = await _training(call, set(ids), period)
    volunteers = []
    for vid in ids:
        who = people.get(vid) or await _identity(call, vid)
        if who is None:  # served here, registered where the caller cannot see
            continue
        volunteers.append(await _volunteer(call, who, by_volunteer[vid],
                                           training.get(vid, []), period))  # fmt: skip
    head = fmt.header(scope, now, len(volunteers), period=period)
    head["omitted_volunteers"] = len(by_volunteer) - len(volunteers)
    return fmt.encode(head, volunteers)


async def _identity(call: Call, vid: str) -> dict[str, Any] | None:
    try:
        return await call("registration", "GetVolunteerIdentity",
                          _req("registration", "GetVolunteerIdentity", id=vid,
                               purpose=PURPOSE))  # fmt: skip
    except grpc.RpcError as err:
        if err.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED):
            return None
        raise


async def _volunteer(
    call: Call,
    who: dict[str, Any],
    records: list[dict[str, Any]],
    training: list[dict[str, Any]],
    period: tuple[date, date] | None,
) -> dict[str, Any]:
    vid = who["id"]
    details = await asyncio.gather(*(
        call("hours", "GetRecord", _req("hours", "GetRecord", id=r["id"]))
        for r in records
    ))  # fmt: skip
    certs = await _all(call, "hours", "ListCertificates", "certificates",
                       volunteer_id=vid)  # fmt: skip
    if period is not None:
        first, last = period
        certs = [c for c in certs
                 if first <= date.fromisoformat(c["issued_on"]) <= last]  # fmt: skip
    stars = await _stars(call, vid)
    services = [_service(r, d.get("evaluation") or {}) for r, d in
                zip(records, details, strict=True)]  # fmt: skip
    brought_training, brought_awards = await _imported(call, vid, period)
    return {
        "basic": {
            "name": who["name"],
            "id_type": who["id_type"] or "resident_id",
            "id_number": who["id_number_masked"],
            "id_number_masked": True,
            "volunteer_number": who["volunteer_number"],
            "national_volunteer_number": who.get("national_volunteer_number", ""),
            "home_division_code": who["home_division_code"],
        },
        "services": fmt.sorted_services(services),
        "training": training + brought_training,
        "awards": _awards(stars) + brought_awards,
        "certificates": [_certificate(c) for c in certs],
    }


async def _imported(
    call: Call, vid: str, period: tuple[date, date] | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Training and awards transferred in from other platforms (activity's
    ListTrainingOf, commendation's ListAwardsOf, marked imported), each
    with its issuer platform; undated ones in a whole-record export only."""
    months = protos.messages("common").Period(
        start_month=period[0].strftime("%Y-%m") if period else "",
        end_month=period[1].strftime("%Y-%m") if period else "",
    )

    def inside(day: date | None) -> bool:
        if period is None:
            return True
        return day is not None and period[0] <= day <= period[1]

    async def ask(service: str, rpc: str, key: str) -> list[dict[str, Any]]:
        request = _req(service, rpc, volunteer_id=vid, period=months,
                       include_undated=period is None)  # fmt: skip
        try:
            return list((await call(service, rpc, request)).get(key, []))
        except grpc.RpcError as err:
            # Not in the service's replica yet: nothing imported there.
            if err.code() == grpc.StatusCode.NOT_FOUND:
                return []
            raise

    training = [
        {
            "course_title": t["course_title"], "session_id": t["source_session_id"],
            "started_at": t["starts_at"] or None, "ended_at": t["ends_at"] or None,
            "hours": t["hours"], "issuer_platform": t["issuer_platform"],
        }
        for t in await ask("activity", "ListTrainingOf", "attendances")
        if t.get("imported")
        and inside(china_day(t["starts_at"]) if t["starts_at"] else None)
    ]  # fmt: skip
    awards = [
        {
            "kind": a["imported_kind"], "title": a["title"],
            "awarded_on": a["awarded_on"] or None,
            "division_code": a["division_code"] or None,
            "issuer_platform": a["issuer_platform"],
        }
        for a in await ask("commendation", "ListAwardsOf", "awards")
        if a["kind"] == "AWARD_KIND_IMPORTED"
        and inside(date.fromisoformat(a["awarded_on"]) if a["awarded_on"] else None)
    ]  # fmt: skip
    return training, awards


async def _stars(call: Call, vid: str) -> dict[str, Any]:
    """The volunteer's stars; none yet (no rating row) is no award."""
    try:
        reply = await call("commendation", "GetVolunteerStars",
                           _req("commendation", "GetVolunteerStars",
                                volunteer_id=vid))  # fmt: skip
    except grpc.RpcError as err:
        if err.code() == grpc.StatusCode.NOT_FOUND:
            return {"history": [], "medal": "", "division_code": ""}
        raise
    return dict(reply["stars"])


def _service(r: dict[str, Any], evaluation: dict[str, Any]) -> dict[str, Any]:
    code = r["division_code"]
    return {
        "record_id": r["id"],
        "activity_name": r["content"],
        "organisation_name": r["organisation_name"],
        "division_code": code,
        "place": name_of(code) or code,
        "service_date": china_day(r["started_at"]).isoformat(),
        "started_at": r["started_at"],
        "ended_at": r["ended_at"],
        "recipients": [],
        "content": r["content"],
        "service_field": r["service_field"],
        "hours": r["hours"],
        "effective_hours": r["effective_hours"],
        "evaluation_score": evaluation.get("score") or None,
        "evaluation_comment": evaluation.get("comment", ""),
        "activity_lead": r.get("reviewed_by", ""),
        "recorder": r["recorded_by"],
        "status": _STATUS.get(r["status"], "pending"),
    }


async def _training(
    call: Call, ids: set[str], period: tuple[date, date] | None
) -> dict[str, list[dict[str, Any]]]:
    """Training attendances of these volunteers at sessions in the caller's
    subtree (training hours, kept apart from service hours)."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if not ids:
        return out
    sessions = await _all(call, "activity", "ListTrainingSessions", "sessions")
    for s in sessions:
        if (
            period is not None
            and s["starts_at"]
            and not (period[0] <= china_day(s["starts_at"]) <= period[1])
        ):
            continue
        for a in await _all(call, "activity", "ListTrainingAttendances",
                            "attendances", training_session_id=s["id"]):  # fmt: skip
            if a["volunteer_id"] in ids:
                out[a["volunteer_id"]].append({
                    "course_title": s["course_title"], "session_id": s["id"],
                    "started_at": s["starts_at"] or None,
                    "ended_at": s["ends_at"] or None, "hours": a["hours"],
                })  # fmt: skip
    return out


def _awards(stars: dict[str, Any]) -> list[dict[str, Any]]:
    """Star ratings as approved (each change) and the medal held."""
    out = [
        {"kind": "star_rating", "title": f"{h['to_stars']} 星级志愿者",
         "awarded_on": china_day(h["changed_at"]).isoformat() if h["changed_at"]
         else None, "division_code": stars["division_code"] or None}
        for h in stars.get("history", []) if h["kind"] == "approved"
    ]  # fmt: skip
    if stars.get("medal"):
        out.append({"kind": "medal", "title": stars["medal"], "awarded_on": None,
                    "division_code": stars["division_code"] or None})  # fmt: skip
    return out


def _certificate(c: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": c["number"], "issued_on": c["issued_on"], "hours": c["hours"],
        "issuer_name": c["issuer_name"], "service_content": c["service_content"],
        "status": _CERT_STATUS.get(c["status"], "valid"),
    }  # fmt: skip
