"""The console's dashboard, composed from every service's live rollup:
headline figures for a node, the same figures for each child unit, and the
series its charts draw. The gateway holds no domain data: every number is a
Summarize answer read with the caller's own token, so a node outside the
caller's scope is refused by the services themselves (403), never shown.

When a service cannot answer (down, timed out, failing), the page still
shows what the others answered: that service's figures are ``None``, its
chart series empty, and ``unavailable`` names it, with a bilingual
``notice``. Any other refusal (403 outside scope, 400) is the whole page's.

Example::

    board = await compose(rpc, "6101", 2026)
    board["headline"]["hours_year"], board["children"][0]["name"]
    board["unavailable"]  # e.g. ["hours"] while hours' api is down
"""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
from zhiyuan.common.v1 import common_pb2 as common

from services.common import protos
from services.common.divisions import name_of
from services.common.errors import InvalidArgument, PermissionDenied
from services.common.service_fields import SERVICE_FIELDS, SERVICE_FIELDS_EN
from services.common.tenancy import (
    NATIONAL,
    NATIONAL_NAME,
    Level,
    ancestors,
    child_level,
    is_national,
    level_of,
    rollup_scope_from_claim,
    validate_code,
)
from services.gateway.backend import Caller

# Figure → (service, how it is computed from that service's metrics).
FIGURES: dict[str, tuple[str, Any]] = {
    "volunteers_registered": ("registration", lambda m: m["volunteers_registered"]),
    "volunteers_verified": ("registration", lambda m: m["volunteers_verified"]),
    "organisations": ("registration", lambda m: m["organisations"] + m["teams"]),
    "projects": ("activity", lambda m: m["projects_published"]),
    "hours_total": ("hours", lambda m: m["hours"]),
    "tonnes": ("recycling", lambda m: m["kg_total"] / 1000),
    "bins_deployed": ("recycling", lambda m: m["bins_deployed"]),
    "stars": ("commendation", lambda m: sum(m[f"stars_{n}"] for n in range(1, 6))),
    "awards": ("commendation", lambda m: m["awards"]),
}
SERVICES = ("registration", "activity", "hours", "recycling", "commendation")
# A service's name in the notice when its figures are missing.
LABELS = {
    "registration": ("注册", "Registration"),
    "activity": ("活动", "Activity"),
    "hours": ("时长", "Hours"),
    "recycling": ("回收", "Recycling"),
    "commendation": ("表彰", "Commendation"),
}
# Failures that mean "this service cannot answer now": shown as a gap.
MISSING = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    }
)
PB_LEVEL = {
    Level.PROVINCE: common.DIVISION_LEVEL_PROVINCE,
    Level.CITY: common.DIVISION_LEVEL_CITY,
    Level.COUNTY: common.DIVISION_LEVEL_COUNTY,
    Level.TOWNSHIP: common.DIVISION_LEVEL_TOWNSHIP,
    Level.VILLAGE: common.DIVISION_LEVEL_VILLAGE,
}


def rollup_query(code: str, start: str, end: str, by_month: bool) -> Any:
    """The rollup query of the node's child units (the provinces for CN)."""
    level = Level.PROVINCE if code == NATIONAL else child_level(level_of(code))
    assert level is not None
    return common.RollupQuery(
        division_code=code,
        group_by=PB_LEVEL[level],
        period=common.Period(start_month=start, end_month=end),
        by_month=by_month,
    )


def _request(service: str, code: str, start: str, end: str, by_month: bool) -> Any:
    module = protos.messages(service)
    return module.SummarizeRequest(query=rollup_query(code, start, end, by_month))


async def _summarize(
    rpc: Caller, service: str, code: str, start: str = "", end: str = "",
    by_month: bool = False,
) -> common.Rollup:  # fmt: skip
    reply = await rpc.call(
        "Summarize", _request(service, code, start, end, by_month), service
    )
    return reply.rollup


def _metrics(row: common.RollupRow) -> dict[str, float]:
    return dict(row.metrics)


def figures(
    per_service: dict[str, dict[str, float]], unavailable: list[str]
) -> dict[str, float | None]:
    """The FIGURES from each service's metrics; ``None`` for a service in
    ``unavailable``, 0 for one that has no row yet."""
    out: dict[str, float | None] = {}
    for name, (service, formula) in FIGURES.items():
        if service in unavailable:
            out[name] = None
            continue
        metrics = per_service.get(service, {})
        try:
            out[name] = round(float(formula(metrics)), 3)
        except KeyError:
            out[name] = 0.0  # a child with no rows yet in that service
    return out


def check_node(code: str, scope_code: str) -> str:
    """The node to show: ``code``, or the caller's own scope when empty. The
    nation (``CN``) is a node only for a national caller; whether any other
    node lies in the caller's scope is the services' to say."""
    rollup_scope_from_claim(scope_code)  # no, empty or malformed claim: 403
    if is_national(scope_code) and code in ("", NATIONAL):
        return NATIONAL
    if code == NATIONAL:
        raise PermissionDenied.outside_scope("division_code", code, scope_code)
    code = validate_code(code or scope_code, "division_code")
    if child_level(level_of(code)) is None:
        raise InvalidArgument(
            "division_code",
            "division_code.has_children",
            "a village has no units below it to show",
            "村（社区）级以下没有下级单位可展示",
        )
    return code


async def compose(rpc: Caller, scope_code: str, code: str, year: int) -> dict[str, Any]:
    """Everything the dashboard page shows for ``code`` (the caller's scope
    when empty) and ``year`` (China time, for the year's hours)."""
    code = check_node(code, scope_code)
    first, last = f"{year:04d}-01", f"{year:04d}-12"
    calls = [_summarize(rpc, s, code) for s in SERVICES]
    calls.append(_summarize(rpc, "hours", code, first, last, by_month=True))
    results = await asyncio.gather(*calls, return_exceptions=True)
    unavailable = _unavailable([*SERVICES, "hours"], results)
    empty = common.Rollup()
    *answers, monthly = [empty if isinstance(r, BaseException) else r for r in results]
    totals = {s: _metrics(a.total) for s, a in zip(SERVICES, answers, strict=True)}
    headline = figures(totals, unavailable)
    headline["hours_year"] = (
        None
        if "hours" in unavailable
        else round(sum(r.metrics["hours"] for r in monthly.rows), 2)
    )
    children: dict[str, dict[str, Any]] = {}
    for service, answer in zip(SERVICES, answers, strict=True):
        for row in answer.rows:
            child = children.setdefault(
                row.division.code,
                {"code": row.division.code, "name": row.division.name, "metrics": {}},
            )
            child["metrics"][service] = _metrics(row)
    year_hours: dict[str, float] = {}
    for row in monthly.rows:
        code_ = row.division.code
        year_hours[code_] = year_hours.get(code_, 0.0) + row.metrics["hours"]
    table = [
        {"code": c["code"], "name": c["name"] or name_of(c["code"]),
         "hours_year": None if "hours" in unavailable
         else round(year_hours.get(c["code"], 0.0), 2),
         **figures(c["metrics"], unavailable)}
        for c in sorted(children.values(), key=lambda c: c["code"])
    ]  # fmt: skip
    months: dict[str, float] = {f"{year:04d}-{m:02d}": 0.0 for m in range(1, 13)}
    for row in monthly.rows:
        months[row.month] = months.get(row.month, 0.0) + row.metrics["hours"]
    if "hours" in unavailable:
        months = {}
    fields = {
        f: round(totals["hours"].get(f"hours_{f}", 0.0), 2)
        for f in SERVICE_FIELDS
        if totals["hours"].get(f"hours_{f}", 0.0)
    }
    com = totals["commendation"]
    return {
        "node": _node(code),
        "breadcrumb": breadcrumb(code, scope_code),
        "year": year,
        "headline": headline,
        "children": table,
        "charts": {
            "hours_by_month": [
                {"label": k, "value": round(v, 2)} for k, v in months.items()
            ],
            "hours_by_field": [
                {
                    "label": k,
                    "label_zh": SERVICE_FIELDS[k],
                    "label_en": SERVICE_FIELDS_EN[k],
                    "value": v,
                }
                for k, v in fields.items()
            ],
            "tonnes_by_child": []
            if "recycling" in unavailable
            else [{"label": r["name"], "value": r["tonnes"]} for r in table],
            "stars": []
            if "commendation" in unavailable
            else [
                {"label": str(n), "value": com.get(f"stars_{n}", 0.0)}
                for n in range(1, 6)
            ],
        },
        "unavailable": unavailable,
        "notice": notice(unavailable),
    }


def _node(code: str) -> dict[str, str]:
    if code == NATIONAL:
        return {"code": code, "name": NATIONAL_NAME, "level": "nation"}
    return {"code": code, "name": name_of(code), "level": level_of(code).name.lower()}


def breadcrumb(code: str, scope_code: str) -> list[dict[str, str]]:
    """The way from the caller's own node down to ``code``: for the nation
    it starts at ``CN`` (全国), for a tenant at its scope.

    Example:
        >>> [c["code"] for c in breadcrumb("6101", "CN")]
        ['CN', '61', '6101']
    """
    if is_national(scope_code):
        top = [{"code": NATIONAL, "name": NATIONAL_NAME}]
        return top + ([] if code == NATIONAL else breadcrumb(code, ""))
    return [
        {"code": a, "name": name_of(a)}
        for a in ancestors(code)
        if a.startswith(scope_code)
    ]


def _unavailable(services: list[str], results: list[Any]) -> list[str]:
    """Services whose answer is missing, in page order; re-raises a refusal,
    or the first failure when no service answered at all."""
    missing: list[str] = []
    failures = [r for r in results if isinstance(r, BaseException)]
    for service, result in zip(services, results, strict=True):
        if not isinstance(result, BaseException):
            continue
        code = result.code() if isinstance(result, grpc.RpcError) else None
        if code not in MISSING:
            raise result
        if service not in missing:
            missing.append(service)
    if failures and len(missing) == len(set(services)):
        raise failures[0]
    return missing


def notice(unavailable: list[str]) -> dict[str, Any] | None:
    """The bilingual line the console shows above a page with gaps."""
    if not unavailable:
        return None
    zh = "、".join(LABELS[s][0] for s in unavailable)
    en = ", ".join(LABELS[s][1] for s in unavailable)
    return {
        "message_zh": f"部分数据暂不可用：{zh}",
        "message_en": f"Some data is unavailable: {en}",
        "labels": [f"{LABELS[s][0]} {LABELS[s][1]}" for s in unavailable],
    }
