"""Training through activity's use cases, in memory (``activity_fakes``): a
county's course is a menu for its subtree, sessions and attendance with
training hours, a project's required course enforced on both sign-up paths
(the office's and the volunteer's own), bad input naming its field; and no
training records an event (the hours service never sees training hours).
The same rules through gRPC and PostgreSQL: tests/integration/
test_activity_training.py."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from services.activity import models as m
from services.activity.application import ActivityApp
from services.common.auth import Principal
from services.common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from services.common.pii import PiiCipher
from tests.unit.activity_fakes import FakeRepository, FakeStore, unit_of_work
from tests.unit.test_activity_usecases import (
    ADMIN,
    COUNTY,
    MAY,
    NOW,
    ORG,
    SIBLING,
    STREET,
    org,
    raw,
    volunteer,
    who,
)

LESSON = ("2026-05-03T01:00:00Z", "2026-05-03T03:00:00Z")  # two hours


class Kit:
    def __init__(self) -> None:
        self.store = FakeStore()
        self.store.put(org(ORG, COUNTY), org("org-street", STREET))
        self.store.put(*(volunteer(f"v{i}") for i in range(1, 4)))
        self.store.put(volunteer("v-beilin", home=SIBLING))
        self.uow = unit_of_work(self.store, NOW)
        self.app = ActivityApp(
            None,  # type: ignore[arg-type]  # no database: the fakes stand in
            PiiCipher(bytes(32)),
            self.uow.clock,
            uow=self.uow,
            repository=lambda work: FakeRepository(self.store, work.scope),  # type: ignore[arg-type,return-value]
        )

    def course(self, by: Principal = ADMIN, node: str = "") -> m.Course:
        return self.app.training.create_course(by, node, "应急救护培训", "")

    def session(self, course: m.Course, by: Principal = ADMIN, node: str = "") -> str:
        view = self.app.training.create_session(
            by, course.id, node, "雁塔区红十字会", *LESSON
        )
        return view.session.id

    def recruiting(self, course: m.Course | None, **over: Any) -> str:
        spec = raw(MAY, required_course_id=course.id if course else "", **over)
        ident = self.app.projects.create_project(ADMIN, ORG, spec).project.id
        self.app.projects.submit_project(ADMIN, ident)
        self.app.projects.approve_project(who(COUNTY, "reviewer"), ident)
        return self.app.projects.publish_project(ADMIN, ident).sessions[0].id

    def at(self, day: int) -> None:
        self.uow.set_clock(NOW.replace(day=day))


@pytest.fixture
def kit() -> Kit:
    return Kit()


def me(vol: str, home: str = STREET) -> Principal:
    return Principal(
        f"acct-{vol}", vol, home, frozenset({"volunteer"}), 0, volunteer_id=vol
    )


# -- the catalogue -------------------------------------------------------------------
def test_a_countys_course_is_used_by_its_street_and_not_by_a_neighbour(
    kit: Kit,
) -> None:
    course = kit.course()
    street = who(STREET, "tenant_admin")
    sid = kit.session(course, by=street)
    (row,) = kit.store.of(m.TrainingSession)
    assert (row.id, row.division_code, row.course_id) == (sid, STREET, course.id)
    with pytest.raises(NotFound) as err:
        kit.session(course, by=who(SIBLING, "tenant_admin"))
    assert err.value.field == "course_id"
    assert len(kit.store.of(m.TrainingSession)) == 1


def test_a_street_cannot_hold_a_session_of_its_own_course_above_itself(
    kit: Kit,
) -> None:
    # The street's course is not the county's menu: the county cannot use it.
    course = kit.course(who(STREET, "tenant_admin"))
    with pytest.raises(NotFound):
        kit.session(course, by=ADMIN)
    assert kit.store.of(m.TrainingSession) == []


def test_only_admins_add_courses_inside_their_scope(kit: Kit) -> None:
    with pytest.raises(PermissionDenied):
        kit.course(who(COUNTY, "org_leader", organisation=ORG))
    with pytest.raises(PermissionDenied):
        kit.course(node=SIBLING)
    assert kit.store.of(m.Course) == []


# -- attendance and training hours -----------------------------------------------------
def test_attendance_takes_the_sessions_length_or_less_never_twice(kit: Kit) -> None:
    sid = kit.session(kit.course())
    row = kit.app.training.record(ADMIN, sid, "v1", 0)
    assert (row.hours, row.volunteer_number) == (Decimal("2.00"), "N-v1")
    assert kit.app.training.record(ADMIN, sid, "v2", 1.5).hours == Decimal("1.50")
    with pytest.raises(InvalidArgument) as err:
        kit.app.training.record(ADMIN, sid, "v3", 2.5)
    assert (err.value.field, err.value.rule) == ("hours", "hours.range")
    with pytest.raises(AlreadyExists):
        kit.app.training.record(ADMIN, sid, "v1", 1)
    with pytest.raises(NotFound) as nf:
        kit.app.training.record(ADMIN, sid, "v-beilin", 1)
    assert nf.value.field == "volunteer_id"
    assert len(kit.store.of(m.TrainingAttendance)) == 2
    # Training hours are not service hours: no event for the hours service.
    assert kit.uow.events == [] and kit.uow.bumps == {}


@pytest.mark.parametrize(
    ("session", "vol", "hours", "field", "rule"),
    [
        ("", "v1", 1, "training_session_id", "training_session_id.required"),
        ("x", "v1", 1, "training_session_id", "training_session_id.format"),
        (None, " ", 1, "volunteer_id", "volunteer_id.required"),
        (None, "v1", -1, "hours", "hours.range"),
    ],
)
def test_bad_attendance_names_the_field(
    kit: Kit, session: str | None, vol: str, hours: float, field: str, rule: str
) -> None:
    sid = kit.session(kit.course()) if session is None else session
    with pytest.raises(InvalidArgument) as err:
        kit.app.training.record(ADMIN, sid, vol, hours)
    assert (err.value.field, err.value.rule) == (field, rule)
    assert kit.store.of(m.TrainingAttendance) == []


@pytest.mark.parametrize(
    ("over", "field", "rule"),
    [
        ({"title": ""}, "title", "title.required"),
        ({"title": "课" * 101}, "title", "title.max_length"),
    ],
)
def test_bad_course_names_the_field(
    kit: Kit, over: dict[str, str], field: str, rule: str
) -> None:
    with pytest.raises(InvalidArgument) as err:
        kit.app.training.create_course(ADMIN, "", over["title"], "")
    assert (err.value.field, err.value.rule) == (field, rule)
    assert kit.store.of(m.Course) == []


def test_a_session_ending_before_it_starts_is_refused(kit: Kit) -> None:
    course = kit.course()
    with pytest.raises(InvalidArgument) as err:
        kit.app.training.create_session(
            ADMIN, course.id, "", "某地", LESSON[1], LESSON[0]
        )
    assert (err.value.field, err.value.rule) == ("ends_at", "ends_at.after_start")


# -- a project's required course -------------------------------------------------------
def test_the_required_course_is_enforced_on_both_sign_up_paths(kit: Kit) -> None:
    course = kit.course()
    session = kit.recruiting(course)
    kit.at(10)
    with pytest.raises(FailedPrecondition) as err:
        kit.app.signups.sign_up(ADMIN, session, "v1")
    assert (err.value.field, err.value.rule) == (
        "required_course_id",
        "eligibility.course",
    )
    assert "应急救护培训" in err.value.message_zh
    assert "应急救护培训" in err.value.message_en
    with pytest.raises(FailedPrecondition) as own:
        kit.app.own.sign_up(me("v2"), session)
    assert own.value.field == "required_course_id"
    assert kit.store.of(m.SignUp) == []
    # Trained at the street's session of the county's course: both may join.
    sid = kit.session(course, by=who(STREET, "tenant_admin"))
    for vol in ("v1", "v2"):
        kit.app.training.record(who(STREET, "tenant_admin"), sid, vol, 0)
    assert kit.app.signups.sign_up(ADMIN, session, "v1").status == "confirmed"
    row, _ = kit.app.own.sign_up(me("v2"), session)
    assert row.status == "confirmed"


def test_a_project_may_require_only_a_course_of_its_own_menu(kit: Kit) -> None:
    street_course = kit.course(who(STREET, "tenant_admin"))
    with pytest.raises(NotFound) as err:
        kit.recruiting(street_course)
    assert err.value.field == "required_course_id"
    with pytest.raises(InvalidArgument) as bad:
        kit.app.projects.create_project(
            ADMIN, ORG, raw(MAY, required_course_id="not-a-uuid")
        )
    assert bad.value.field == "required_course_id"
    assert kit.store.of(m.Project) == []
