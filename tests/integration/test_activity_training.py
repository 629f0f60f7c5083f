"""Training through the real api roles and workers: a county's course used by
its township, a project's required course enforced on the office's and the
volunteer's own sign-up, the volunteer's own training record, and training
hours that never reach the hours service (no event, no hour record)."""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import pytest
from sqlalchemy import create_engine, text
from zhiyuan.activity.v1 import activity_pb2 as pb
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.hours.v1 import hours_pb2 as hpb

from services.common.testing import wait_for
from tests.helpers import auth
from tests.integration.test_activity_flow import Kit, raw_rows, refused, rule, when
from tests.integration.test_activity_self_service import own

pytestmark = pytest.mark.integration
COUNTY, TOWN = "610113", "610113002"
PAGE = common.PageRequest(page_size=500)


@pytest.fixture(scope="module")
def kit(stub, stubs, token, worker, migrated) -> Kit:  # type: ignore[no-untyped-def]
    return Kit(stub, stubs("activity"), token, migrated)


def _course(kit: Kit) -> pb.Course:
    return kit.act.CreateCourse(
        pb.CreateCourseRequest(
            division_code=COUNTY, title=f"应急救护培训-{uuid.uuid4().hex[:6]}"
        ),
        metadata=auth(kit.token(COUNTY)),
    ).course


def _session(kit: Kit, course: pb.Course) -> pb.TrainingSession:
    """Held by the township, from the county's menu: two hours, yesterday."""
    return kit.act.CreateTrainingSession(
        pb.CreateTrainingSessionRequest(
            course_id=course.id,
            division_code=TOWN,
            place="大雁塔街道社区服务中心",
            starts_at=when(-26 * 60),
            ends_at=when(-24 * 60),
        ),
        metadata=auth(kit.token(TOWN)),
    ).session


def _attend(kit: Kit, session: pb.TrainingSession, vol: Any) -> pb.TrainingAttendance:
    return kit.act.RecordTrainingAttendance(
        pb.RecordTrainingAttendanceRequest(
            training_session_id=session.id, volunteer_id=vol.id
        ),
        metadata=auth(kit.token(TOWN)),
    ).attendance


def test_the_required_course_is_enforced_on_both_sign_up_paths(kit: Kit) -> None:
    course = _course(kit)
    org = kit.org(COUNTY)
    office, mine = kit.volunteers(TOWN, 2)
    p = kit.published(org, required_course_id=course.id)
    assert p.required_course_id == course.id
    sid, admin = p.sessions[0].id, kit.token(COUNTY)
    err = refused(lambda: kit.sign_up(sid, office.id, admin))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    trailers = dict(err.trailing_metadata())
    assert (trailers["zhiyuan-field"], rule(err)) == (
        "required_course_id",
        "eligibility.course",
    )
    assert course.title in trailers["zhiyuan-message-zh-bin"].decode()
    err = refused(
        lambda: kit.act.SignUpMe(pb.SignUpMeRequest(session_id=sid), metadata=own(mine))
    )
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert dict(err.trailing_metadata())["zhiyuan-field"] == "required_course_id"
    assert raw_rows(
        kit.env, "SELECT count(*) FROM sign_ups WHERE session_id = :s", s=sid
    ) == [(0,)]
    # Trained at the township's session of the county's course: both join.
    session = _session(kit, course)
    for vol in (office, mine):
        assert _attend(kit, session, vol).hours == 2.0
    assert kit.sign_up(sid, office.id, admin).status == pb.SIGN_UP_STATUS_CONFIRMED
    got = kit.act.SignUpMe(pb.SignUpMeRequest(session_id=sid), metadata=own(mine))
    assert got.sign_up.status == pb.SIGN_UP_STATUS_CONFIRMED
    # The volunteer's own record shows the training and its hours.
    record = kit.act.ListMyTraining(pb.ListMyTrainingRequest(), metadata=own(mine))
    assert [(x.course_title, x.hours) for x in record.attendances] == [
        (course.title, 2.0)
    ]
    assert record.total_hours == 2.0


def test_a_neighbours_course_cannot_be_required_or_used(kit: Kit) -> None:
    theirs = kit.act.CreateCourse(
        pb.CreateCourseRequest(title="外区课程"), metadata=auth(kit.token("610103"))
    ).course
    err = refused(lambda: kit.draft(kit.org(COUNTY), required_course_id=theirs.id))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    assert dict(err.trailing_metadata())["zhiyuan-field"] == "required_course_id"
    err = refused(lambda: _session(kit, theirs))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    assert raw_rows(
        kit.env,
        "SELECT count(*) FROM training_sessions WHERE course_id = :c",
        c=theirs.id,
    ) == [(0,)]


def test_training_hours_never_reach_the_hours_service(
    kit: Kit, stubs: Any, migrated: dict[str, str]
) -> None:
    hours = stubs("hours")
    (vol,) = kit.volunteers(TOWN)
    attended = _attend(kit, _session(kit, _course(kit)), vol)
    # Nothing in activity's outbox names the training attendance.
    assert raw_rows(
        kit.env,
        "SELECT count(*) FROM outbox WHERE CAST(payload AS text) LIKE :a",
        a=f"%{attended.id}%",
    ) == [(0,)]
    # A service visit after it: once its hour record arrives, the pipeline
    # has carried everything before it, and it is the volunteer's only one.
    admin = auth(kit.token(COUNTY))
    rec = kit.act.CreateRecipient(
        pb.CreateRecipientRequest(
            division_code=TOWN, name="王奶奶", address="大雁塔街道某小区",
            pairing_mode=pb.PAIRING_MODE_ONE_TO_ONE, needs="陪伴", consent=True,
        ),
        metadata=admin,
    ).recipient  # fmt: skip
    pair = kit.act.CreatePair(
        pb.CreatePairRequest(
            recipient_id=rec.id, volunteer_id=vol.id, organisation_id=kit.org(COUNTY).id
        ),
        metadata=admin,
    ).pair
    visit = kit.act.LogVisit(
        pb.LogVisitRequest(pair_id=pair.id, started_at=when(-90), ended_at=when(0)),
        metadata=admin,
    ).visit

    def records() -> list[hpb.HourRecord]:
        return list(
            hours.ListRecords(
                hpb.ListRecordsRequest(volunteer_id=vol.id, page=PAGE), metadata=admin
            ).records
        )

    wait_for(lambda: records() != [], timeout=60, what="the visit's hour record")
    (only,) = records()
    assert (only.source, only.source_id) == (hpb.RECORD_SOURCE_VISIT, visit.id)
    assert abs(only.duration_seconds - 90 * 60) <= 1  # the visit's alone
    engine = create_engine(migrated["HOURS_DATABASE_URL"])
    try:
        with engine.connect() as c:
            n = c.execute(
                text("SELECT count(*) FROM hour_records WHERE volunteer_id = :v"),
                {"v": vol.id},
            ).scalar_one()
    finally:
        engine.dispose()
    assert n == 1


def test_a_volunteers_own_training_is_theirs_alone(kit: Kit) -> None:
    trained, other = kit.volunteers(TOWN, 2)
    _attend(kit, _session(kit, _course(kit)), trained)
    mine = kit.act.ListMyTraining(pb.ListMyTrainingRequest(), metadata=own(trained))
    assert len(mine.attendances) == 1 and mine.total_hours == 2.0
    theirs = kit.act.ListMyTraining(pb.ListMyTrainingRequest(), metadata=own(other))
    assert list(theirs.attendances) == [] and theirs.total_hours == 0
