"""ListTrainingOf (activity) and ListAwardsOf (commendation), the reads a
certificate's training and awards lines come from, are scoped like every
other read: an office sees only volunteers at home in its subtree, a
volunteer's own account only itself.

The caller is the township office of 鼓楼街道 (610802001). Three other
volunteers trained at a session the township held and were honoured on a
nomination of a township unit, so their rows lie inside the township's
row security: the sibling township's (610802002), the parent county's
(home 610802 itself) and, for contrast, the township's own. Asked by the
township, the first two are NOT_FOUND exactly as a random id, and neither
title shows; the own one is answered. A volunteer's token naming another's
id gets its own lines only.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import grpc
import pytest
from sqlalchemy import create_engine, text
from zhiyuan.activity.v1 import activity_pb2 as apb
from zhiyuan.commendation.v1 import commendation_pb2 as cpb
from zhiyuan.registration.v1 import registration_pb2 as rpb

from tests.helpers import auth
from tests.integration.test_certificate_lines import (
    COUNTY,
    SIBLING,
    TOWN,
    World,
    at,
    own_token,
)
from tests.security.matrix import national_token

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Person:
    vol: rpb.Volunteer
    course: str
    honour: str


def honoured(env: dict[str, str], vol: rpb.Volunteer, unit_code: str) -> str:
    """A finalised round of the county in which a unit at ``unit_code``
    nominated ``vol`` and the nominee was awarded (written as commendation's
    owner: a round's notice takes five working days to run through)."""
    title = f"2026年度优秀志愿者-{uuid.uuid4().hex[:6]}"
    now, round_id = datetime.now(UTC), str(uuid.uuid4())
    engine = create_engine(env["COMMENDATION_DATABASE_URL"])
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO award_rounds (id, division_code, title, year,"
                    " categories, quota_per_child, deadline, notice_working_days,"
                    " status, notice_starts_on, notice_ends_on, created_by,"
                    " created_at, finalized_at) VALUES (:id, :c, :t, :y, :cats, 5,"
                    " :d, 5, 'finalized', :d, :d, 'test', :now, :now)"
                ),
                {
                    "id": round_id, "c": COUNTY, "t": title, "y": now.year,
                    "cats": json.dumps(["individual"]), "d": now.date(), "now": now,
                },
            )  # fmt: skip
            conn.execute(
                text(
                    "INSERT INTO nominations (id, round_id, round_division_code,"
                    " category, division_code, unit_organisation_id, unit_name,"
                    " child_code, nominee_volunteer_id, nominee_name,"
                    " nominee_division_code, statement, status, status_reason,"
                    " stage_codes, stage_index, current_stage, at_round_level,"
                    " evidence, signals, nominated_by, nominated_by_subject,"
                    " nominated_by_scope, request_id, created_at, updated_at)"
                    " VALUES (:id, :r, :c, 'individual', :u, '', '社区志愿服务站',"
                    " :u, :v, '王*', :home, '事迹', 'awarded', '', '[]', 0, '',"
                    " true, '{}', '[]', 'test', 'test', :u, :id, :now, :now)"
                ),
                {
                    "id": str(uuid.uuid4()), "r": round_id, "c": COUNTY,
                    "u": unit_code, "v": vol.id, "home": vol.home_division_code,
                    "now": now,
                },
            )  # fmt: skip
    finally:
        engine.dispose()
    return title


@pytest.fixture(scope="module")
def world(stubs, token, migrated, worker) -> World:  # type: ignore[no-untyped-def]
    return World(stubs, token, migrated)


@pytest.fixture(scope="module")
def people(world: World) -> dict[str, Person]:
    """Volunteers at home in the township, the sibling township and the
    county itself, each trained at the township's session and honoured on a
    township unit's nomination."""
    out = {}
    for who, home in (("mine", TOWN), ("sibling", SIBLING), ("parent", COUNTY)):
        vol = world.volunteer(home)
        course = world.trained(vol, TOWN, at(5))
        out[who] = Person(vol, course, honoured(world.env, vol, TOWN))
    return out


def training(world: World, tok: str, vid: str) -> Any:
    return world.act.ListTrainingOf(
        apb.ListTrainingOfRequest(volunteer_id=vid), metadata=auth(tok)
    )


def awards(world: World, tok: str, vid: str) -> Any:
    return world.com.ListAwardsOf(
        cpb.ListAwardsOfRequest(volunteer_id=vid), metadata=auth(tok)
    )


def refusal(call: Callable[[], Any]) -> tuple[Any, str, str]:
    with pytest.raises(grpc.RpcError) as err:
        call()
    trailers = dict(err.value.trailing_metadata() or ())
    return (
        err.value.code(),
        str(trailers.get("zhiyuan-field")),
        str(trailers.get("zhiyuan-rule")),
    )


@pytest.mark.parametrize("read", [training, awards], ids=["training", "awards"])
def test_an_office_gets_its_own_volunteer_and_nobody_else(
    world: World, people: dict[str, Person], read: Callable[..., Any]
) -> None:
    town = world.office(TOWN)
    mine = read(world, town, people["mine"].vol.id)
    assert mine.volunteer_id == people["mine"].vol.id
    shown = str(mine)
    assert people["mine"].course in shown or people["mine"].honour in shown
    unknown = refusal(lambda: read(world, town, str(uuid.uuid4())))
    assert unknown[0] == grpc.StatusCode.NOT_FOUND
    for who in ("sibling", "parent"):
        vid = people[who].vol.id
        # Alike an unknown id: same code, field and rule; nothing of theirs.
        assert refusal(partial(read, world, town, vid)) == unknown
    # The county above holds both the township's and the county's own.
    county = world.office(COUNTY)
    for who in ("mine", "parent"):
        got = read(world, county, people[who].vol.id)
        assert got.volunteer_id == people[who].vol.id
    # The nation (scope CN) reads no volunteer's lines, not even by a real id.
    nation = refusal(lambda: read(world, national_token(), people["mine"].vol.id))
    assert nation == (grpc.StatusCode.PERMISSION_DENIED, "None", "scope.national")


def test_lines_are_the_volunteers_own(world: World, people: dict[str, Person]) -> None:
    town = world.office(TOWN)
    got = training(world, town, people["mine"].vol.id)
    assert [x.course_title for x in got.attendances] == [people["mine"].course]
    assert got.total_hours == 2.0
    got = awards(world, town, people["mine"].vol.id)
    assert [a.round_title for a in got.awards] == [people["mine"].honour]
    assert got.awards[0].kind == cpb.AWARD_KIND_HONOUR


@pytest.mark.parametrize("read", [training, awards], ids=["training", "awards"])
def test_a_volunteer_naming_anothers_id_gets_only_its_own(
    world: World, people: dict[str, Person], read: Callable[..., Any]
) -> None:
    me, other = people["mine"], people["sibling"]
    for named in (other.vol.id, str(uuid.uuid4()), ""):
        got = read(world, own_token(me.vol), named)
        assert got.volunteer_id == me.vol.id
        shown = str(got)
        assert other.course not in shown and other.honour not in shown
        assert me.course in shown or me.honour in shown
