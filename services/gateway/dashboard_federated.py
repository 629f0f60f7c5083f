"""The upstream's dashboard: the figures its downstream releases forwarded
(issue 15), beside its own. Only a release whose ``federation.role`` is
``upstream`` asks for them; any other release makes no extra call and its
dashboard answer has no ``federated`` key, so a downstream's own users
notice nothing.

The section mirrors the headline: each service's ``SummarizeFederated`` for
all time and hours' for the calendar year, read with the caller's own token,
through the same FIGURES formulas, for the node and each child unit, plus
each reporting downstream (its subtree, the time of its last delta, and
``stale`` when that is older than ``federation.stale_seconds``, default 900).

The section never takes the page down: a service that cannot answer, or
does not federate yet (``UNIMPLEMENTED``, or no such RPC in its proto), has
``None`` figures and is named in the section's ``unavailable``; so is one
that refuses (logged at WARNING), since the own figures beside it have
already passed the scope check.

Example::

    fed = settings(cfg)                   # once, when the app is made
    section = await federated(rpc, "61", 2026, fed)   # None unless upstream
    section["links"][0]["stale"], section["headline"]["hours_year"]
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import grpc

from services.common import protos
from services.common.config import Config
from services.common.divisions import name_of
from services.common.errors import InvalidArgument
from services.common.federation import FederationConfig
from services.gateway.backend import Caller
from services.gateway.dashboard import MISSING, SERVICES, figures, rollup_query

log = logging.getLogger(__name__)

DEFAULT_STALE_SECONDS = 900.0
# Failures that leave a service's federated figures empty without a warning:
# the dashboard's gaps, and a service that does not federate (yet).
QUIET = MISSING | {grpc.StatusCode.UNIMPLEMENTED}


@dataclass(frozen=True)
class FederatedSettings:
    """What the dashboard needs of the ``federation:`` section."""

    upstream: bool
    stale_seconds: float


def settings(cfg: Config) -> FederatedSettings:
    """Read once when the app is made: a bad role or threshold stops the
    gateway at start, not a request."""
    fed = FederationConfig.from_config(cfg)
    raw = cfg.get("federation.stale_seconds")
    try:
        stale = DEFAULT_STALE_SECONDS if raw in (None, "") else float(raw)
    except (TypeError, ValueError):
        stale = -1.0
    if not stale > 0:
        raise InvalidArgument(
            "federation.stale_seconds", "positive",
            "FEDERATION_STALE_SECONDS must be a number of seconds above 0",
            "FEDERATION_STALE_SECONDS 须为大于 0 的秒数",
        )  # fmt: skip
    return FederatedSettings(fed.accepts, stale)


class _NotFederated(Exception):
    """The service's proto has no SummarizeFederated (before it federates)."""


async def _ask(
    rpc: Caller, service: str, code: str, start: str = "", end: str = ""
) -> Any:
    module = protos.messages(service)
    if not hasattr(module, "SummarizeFederatedRequest"):
        raise _NotFederated(service)
    request = module.SummarizeFederatedRequest(
        query=rollup_query(code, start, end, False)
    )
    return await rpc.call("SummarizeFederated", request, service)


def _gaps(services: list[str], results: list[Any]) -> list[str]:
    """Services whose federated answer is missing, in page order; a failure
    that is no gRPC answer at all (a bug) is raised."""
    missing: list[str] = []
    for service, result in zip(services, results, strict=True):
        if not isinstance(result, BaseException):
            continue
        if isinstance(result, grpc.RpcError):
            if result.code() not in QUIET:
                # A refusal the own figures did not meet: worth a look, or
                # (403) an asked node outside the scope, refused there too.
                denied = result.code() == grpc.StatusCode.PERMISSION_DENIED
                log.log(
                    logging.INFO if denied else logging.WARNING,
                    "dashboard: %s refused SummarizeFederated (%s): %s",
                    service, result.code().name, result.details(),
                )  # fmt: skip
        elif not isinstance(result, _NotFederated):
            raise result
        if service not in missing:
            missing.append(service)
    return missing


def _moment(value: str) -> datetime | None:
    try:
        at = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at


def _links(
    answers: list[tuple[str, Any]], now: datetime, stale_seconds: float
) -> list[dict[str, Any]]:
    """Each reporting downstream once: its shortest subtree, its latest
    delta over every service (``services`` keeps each one's)."""
    merged: dict[str, dict[str, Any]] = {}
    for service, answer in answers:
        for link in answer.links:
            entry = merged.setdefault(
                link.downstream,
                {"subtree": link.subtree, "last": None, "services": {}},
            )
            if len(link.subtree) < len(entry["subtree"]):
                entry["subtree"] = link.subtree
            at = _moment(link.last_delta_at)
            entry["services"][service] = at.isoformat() if at else None
            if at is not None and (entry["last"] is None or at > entry["last"]):
                entry["last"] = at
    out = []
    for name in sorted(merged):
        entry = merged[name]
        last = entry["last"]
        age = None if last is None else max(0, int((now - last).total_seconds()))
        out.append(
            {
                "downstream": name,
                "subtree": entry["subtree"],
                "subtree_name": name_of(entry["subtree"]),
                "last_delta_at": last.astimezone(UTC).isoformat() if last else None,
                "age_seconds": age,
                "stale": age is None or age > stale_seconds,
                "services": entry["services"],
            }
        )
    return out


def _reporting(code: str, links: list[dict[str, Any]]) -> list[str]:
    """The downstreams whose figures count in the row of ``code``."""
    return [
        link["downstream"]
        for link in links
        if link["subtree"].startswith(code) or code.startswith(link["subtree"])
    ]


async def federated(
    rpc: Caller,
    code: str,
    year: int,
    fed: FederatedSettings,
    now: datetime | None = None,
) -> dict[str, Any] | None:
    """The ``federated`` section for the (checked) node ``code`` and
    ``year``, or None when this release is no upstream (no call made)."""
    if not fed.upstream:
        return None
    asked = [*SERVICES, "hours"]
    calls = [_ask(rpc, s, code) for s in SERVICES]
    calls.append(_ask(rpc, "hours", code, f"{year:04d}-01", f"{year:04d}-12"))
    results = await asyncio.gather(*calls, return_exceptions=True)
    unavailable = _gaps(asked, results)
    answered = [
        (s, r) for s, r in zip(asked, results, strict=True)
        if not isinstance(r, BaseException)
    ]  # fmt: skip
    *answers, year_answer = [
        None if isinstance(r, BaseException) else r for r in results
    ]
    links = _links(answered, now or datetime.now(UTC), fed.stale_seconds)
    totals: dict[str, dict[str, float]] = {}
    rows: dict[str, dict[str, Any]] = {}
    for service, answer in zip(SERVICES, answers, strict=True):
        if answer is None:
            continue
        totals[service] = dict(answer.rollup.total.metrics)
        for row in answer.rollup.rows:
            child = rows.setdefault(
                row.division.code, {"name": row.division.name, "metrics": {}}
            )
            child["metrics"][service] = dict(row.metrics)
    year_hours: dict[str, float] = {}
    if year_answer is not None:
        for row in year_answer.rollup.rows:
            year_hours[row.division.code] = row.metrics["hours"]
            rows.setdefault(row.division.code, {"name": "", "metrics": {}})

    def hours_year(metrics: dict[str, float] | None) -> float | None:
        if "hours" in unavailable:
            return None
        return round((metrics or {}).get("hours", 0.0), 2)

    headline = figures(totals, unavailable)
    headline["hours_year"] = hours_year(
        dict(year_answer.rollup.total.metrics) if year_answer is not None else None
    )
    children = [
        {"code": c, "name": rows[c]["name"] or name_of(c),
         "downstreams": _reporting(c, links),
         "hours_year": hours_year({"hours": year_hours.get(c, 0.0)}),
         **figures(rows[c]["metrics"], unavailable)}
        for c in sorted(rows)
    ]  # fmt: skip
    return {
        "period": {"start_month": f"{year:04d}-01", "end_month": f"{year:04d}-12"},
        "stale_seconds": fed.stale_seconds,
        "headline": headline,
        "children": children,
        "links": links,
        "unavailable": unavailable,
    }
