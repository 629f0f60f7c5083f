"""Rows → protobuf messages. Personal data leaves only in masked form."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TypeVar

from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.registration.v1 import registration_pb2 as pb

from services.common.errors import InvalidArgument
from services.common.tenancy import Level, level_of
from services.registration import models as m
from services.registration.queries import Page, RollupResult

T = TypeVar("T")
LEVELS = {
    common.DIVISION_LEVEL_PROVINCE: Level.PROVINCE,
    common.DIVISION_LEVEL_CITY: Level.CITY,
    common.DIVISION_LEVEL_COUNTY: Level.COUNTY,
    common.DIVISION_LEVEL_TOWNSHIP: Level.TOWNSHIP,
    common.DIVISION_LEVEL_VILLAGE: Level.VILLAGE,
}
PB_LEVEL = {v: k for k, v in LEVELS.items()}
DIV_STATUS = {
    "active": pb.DIVISION_STATUS_ACTIVE,
    "retired": pb.DIVISION_STATUS_RETIRED,
}
VOL_STATUS = {
    "pending": pb.VOLUNTEER_STATUS_PENDING,
    "verified": pb.VOLUNTEER_STATUS_VERIFIED,
    "rejected": pb.VOLUNTEER_STATUS_REJECTED,
}
ORG_KIND = {
    "organisation": pb.ORGANISATION_KIND_ORGANISATION,
    "team": pb.ORGANISATION_KIND_TEAM,
}


def enum_value(known: Mapping[int, T], value: int, field: str) -> T | None:
    """The meaning of an enum field; None when unset, an error when unknown."""
    if value == 0:
        return None
    if value not in known:
        raise InvalidArgument(
            field, f"{field}.known", f"unknown value {value}", f"未知的取值 {value}"
        )
    return known[value]


def ts(value: datetime | None) -> str:
    if value is None:
        return ""
    # SQLite (embedded mode) hands back naive datetimes; they were stored as UTC.
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def division_ref(d: m.Division) -> common.DivisionRef:
    return common.DivisionRef(
        code=d.code, name=d.name, level=PB_LEVEL[level_of(d.code)]
    )


def division(d: m.Division) -> pb.Division:
    return pb.Division(
        code=d.code,
        name=d.name,
        level=PB_LEVEL[level_of(d.code)],
        parent_code=d.parent_code or "",
        status=DIV_STATUS[d.status],
        successor_code=d.successor_code or "",
    )


def change(c: m.DivisionChange) -> pb.DivisionChange:
    return pb.DivisionChange(
        code=c.code,
        kind=c.kind,
        old_name=c.old_name or "",
        new_name=c.new_name or "",
        successor_code=c.successor_code or "",
        reason=c.reason,
        actor=c.actor,
        changed_at=ts(c.changed_at),
    )


def settings(rows: list[tuple[str, str, str]]) -> list[pb.EffectiveSetting]:
    return [
        pb.EffectiveSetting(key=k, value_json=v, source_code=src) for k, v, src in rows
    ]


def account(a: m.Account) -> pb.Account:
    return pb.Account(
        id=a.id,
        username=a.username,
        display_name=a.display_name,
        scope_code=a.scope_code,
        roles=list(a.roles),
        active=bool(a.active),
    )


def organisation(o: m.Organisation) -> pb.Organisation:
    return pb.Organisation(
        id=o.id,
        name=o.name,
        kind=ORG_KIND[o.kind],
        division_code=o.division_code,
        parent_id=o.parent_id or "",
        service_fields=list(o.service_fields),
        contact_name=o.contact_name,
        contact_phone=o.contact_phone_masked,
        created_at=ts(o.created_at),
    )


def volunteer(v: m.Volunteer, teams: list[str]) -> pb.Volunteer:
    return pb.Volunteer(
        id=v.id,
        volunteer_number=v.volunteer_number,
        name=v.name_masked,
        id_number=v.id_number_masked,
        phone=v.phone_masked,
        sex=v.sex,
        birth_year=v.birth_date.year,
        home_division_code=v.home_division_code,
        service_fields=list(v.service_fields),
        status=VOL_STATUS[v.status],
        rejection_reason=v.rejection_reason,
        has_guardian=v.guardian_enc is not None,
        registered_at=ts(v.registered_at),
        team_ids=teams,
    )


def page(p: Page) -> common.PageInfo:
    return common.PageInfo(next_page_token=p.next_token, total_size=p.total)


def feed(i: m.FeedItem) -> pb.FeedItem:
    return pb.FeedItem(
        event_id=i.event_id,
        event_type=i.event_type,
        division_code=i.division_code,
        summary=i.summary,
        occurred_at=ts(i.occurred_at),
    )


def _ref(code: str, name: str) -> common.DivisionRef:
    return common.DivisionRef(code=code, name=name, level=PB_LEVEL[level_of(code)])


def rollup(r: RollupResult) -> common.Rollup:
    return common.Rollup(
        rows=[
            common.RollupRow(division=_ref(code, name), month=month, metrics=metrics)
            for code, name, month, metrics in r.rows
        ],
        total=common.RollupRow(division=_ref(r.node, r.node_name), metrics=r.total),
        metric_names=r.metric_names,
    )
