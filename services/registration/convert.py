"""Rows → protobuf messages. Personal data leaves only in masked form."""

from __future__ import annotations

from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.registration.v1 import registration_pb2 as pb

from services.common.paging import Page
from services.common.rollup_query import LEVELS as LEVELS
from services.common.rollup_query import PB_LEVEL as PB_LEVEL
from services.common.rollup_query import RollupResult, to_rollup
from services.common.rollup_query import enum_value as enum_value
from services.common.tenancy import level_of
from services.common.times import iso as ts
from services.registration import models as m

DIV_STATUS = {
    "active": pb.DIVISION_STATUS_ACTIVE,
    "retired": pb.DIVISION_STATUS_RETIRED,
}
VOL_STATUS = {
    "pending": pb.VOLUNTEER_STATUS_PENDING,
    "verified": pb.VOLUNTEER_STATUS_VERIFIED,
    "rejected": pb.VOLUNTEER_STATUS_REJECTED,
    "merged": pb.VOLUNTEER_STATUS_MERGED,
}
ORG_KIND = {
    "organisation": pb.ORGANISATION_KIND_ORGANISATION,
    "team": pb.ORGANISATION_KIND_TEAM,
}


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
        organisation_id=a.organisation_id or "",
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
        skills=list(v.skills or []),
        merged_into_id=v.merged_into_id or "",
        national_volunteer_number=v.national_volunteer_number or "",
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


def rollup(r: RollupResult) -> common.Rollup:
    return to_rollup(r)


def notification(n: m.Notification) -> pb.Notification:
    return pb.Notification(
        id=n.id,
        kind=n.kind,
        title_zh=n.title_zh,
        title_en=n.title_en,
        body_zh=n.body_zh,
        body_en=n.body_en,
        created_at=ts(n.created_at),
        read_at=ts(n.read_at) if n.read_at else "",
    )


TRANSFER_STATUS = {
    "pending": pb.TRANSFER_STATUS_PENDING,
    "accepted": pb.TRANSFER_STATUS_ACCEPTED,
    "refused": pb.TRANSFER_STATUS_REFUSED,
    "cancelled": pb.TRANSFER_STATUS_CANCELLED,
}
TRANSFER_DIRECTION = {
    pb.TRANSFER_DIRECTION_OUTGOING: "outgoing",
    pb.TRANSFER_DIRECTION_INCOMING: "incoming",
}


def transfer(t: m.Transfer, names: dict[str, str] | None = None) -> pb.Transfer:
    names = names or {}
    return pb.Transfer(
        id=t.id,
        volunteer_id=t.volunteer_id,
        volunteer_number=t.volunteer_number,
        volunteer_name=t.name_masked,
        from_division_code=t.from_division_code,
        to_division_code=t.to_division_code,
        status=TRANSFER_STATUS[t.status],
        requested_by=t.requested_by,
        requested_at=ts(t.requested_at),
        consent_channel=t.consent_channel,
        consent_text=t.consent_text,
        consented_at=ts(t.consented_at),
        consent_note=t.consent_note,
        decided_by=t.decided_by or "",
        decided_at=ts(t.decided_at) if t.decided_at else "",
        reason=t.reason,
        from_division_name=names.get(t.from_division_code, ""),
        to_division_name=names.get(t.to_division_code, ""),
    )


def merge(row: m.VolunteerMerge) -> pb.VolunteerMerge:
    return pb.VolunteerMerge(
        id=row.id,
        survivor_id=row.survivor_id,
        merged_id=row.merged_id,
        survivor_number=row.survivor_number,
        merged_number=row.merged_number,
        survivor_division_code=row.survivor_division_code,
        merged_division_code=row.merged_division_code,
        reason=row.reason,
        actor=row.actor,
        created_at=ts(row.created_at),
        reverted_by=row.reverted_by or "",
        reverted_at=ts(row.reverted_at) if row.reverted_at else "",
        moved_organisation_ids=list(row.moved_memberships),
        revert_reason=row.revert_reason,
    )


POSITION_KIND = {
    pb.POSITION_KIND_GUIDANCE_CENTRE: "guidance_centre",
    pb.POSITION_KIND_STREET_CENTRE: "street_centre",
    pb.POSITION_KIND_STATION: "station",
    pb.POSITION_KIND_BASE: "base",
}
BASE_LEVEL = {
    pb.BASE_LEVEL_DISTRICT: "district",
    pb.BASE_LEVEL_CITY: "city",
    pb.BASE_LEVEL_PROVINCE: "province",
    pb.BASE_LEVEL_NATIONAL: "national",
}
_PB_POSITION_KIND = {v: k for k, v in POSITION_KIND.items()}
_PB_BASE_LEVEL = {v: k for k, v in BASE_LEVEL.items()}


def position(p: m.Position, names: dict[str, str] | None = None) -> pb.Position:
    return pb.Position(
        id=p.id,
        name=p.name,
        kind=_PB_POSITION_KIND[p.kind],
        base_level=_PB_BASE_LEVEL.get(p.base_level or "", 0),
        division_code=p.division_code,
        division_name=(names or {}).get(p.division_code, ""),
        address=p.address,
        opening_hours=p.opening_hours,
        created_at=ts(p.created_at),
        updated_at=ts(p.updated_at),
    )
