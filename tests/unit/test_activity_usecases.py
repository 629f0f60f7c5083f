"""Activity's rules through its use cases, in memory: the kernel's fake unit
of work (events and rollup bumps kept in lists, rows put back when a unit
raises) and an in-memory repository (``activity_fakes``). The same rules are
proven through gRPC and PostgreSQL in the integration tier; here each runs in
milliseconds.

The tree: Shaanxi (61) › Xi'an (6101) › Yanta district (610113) › a street
(610113001); Beilin district (610103) is Yanta's sibling."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.activity import domain
from services.activity import models as m
from services.activity.application import ActivityApp
from services.activity.repository import ProjectView
from services.activity.usecases.attendance import GUESSES
from services.common.auth import Principal
from services.common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from services.common.pii import PiiCipher
from services.common.rollup import month_of
from services.common.unit_of_work import TransactionalFakeUnitOfWork
from tests.unit.activity_fakes import FakeRepository, FakeStore, unit_of_work

NOW = datetime(2026, 5, 6, 2, 0, tzinfo=UTC)
COUNTY, STREET, SIBLING, CITY = "610113", "610113001", "610103", "6101"
ORG, CITY_ORG = "org-yanta", "org-xian"
# One session in May, one in June: published in May, counted where they run.
MAY = ("2026-05-20T01:00:00Z", "2026-05-20T05:00:00Z")
JUNE = ("2026-06-03T01:00:00Z", "2026-06-03T05:00:00Z")


@dataclass
class Kit:
    store: FakeStore
    uow: TransactionalFakeUnitOfWork
    app: ActivityApp

    def types(self) -> list[str]:
        return [t for t, _, _ in self.uow.events]

    def bump(self, code: str, metric: str, month: str = month_of(NOW)) -> float:
        key = (m.ROLLUP.table_name, code, month, metric)
        return float(self.uow.bumps.get(key, 0))

    def at(self, iso: str, minutes: int = 0) -> None:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
        self.uow.set_clock(moment + timedelta(minutes=minutes))


def org(ident: str, code: str) -> m.OrganisationReplica:
    return m.OrganisationReplica(
        id=ident, name=f"{ident} volunteers", kind="organisation",
        division_code=code, parent_id=None, updated_at=NOW,
    )  # fmt: skip


def volunteer(
    ident: str,
    home: str = STREET,
    status: str = "verified",
    birth: date | None = date(1990, 1, 1),
    fields: tuple[str, ...] = ("elderly_care",),
) -> m.VolunteerReplica:
    return m.VolunteerReplica(
        id=ident, volunteer_number=f"N-{ident}", home_division_code=home,
        status=status, birth_date=birth, service_fields=list(fields), updated_at=NOW,
    )  # fmt: skip


@pytest.fixture
def kit() -> Kit:
    store = FakeStore()
    store.put(org(ORG, COUNTY), org(CITY_ORG, CITY))
    store.put(*(volunteer(f"v{i}") for i in range(1, 5)))
    store.put(volunteer("v-beilin", home=SIBLING))
    uow = unit_of_work(store, NOW)
    app = ActivityApp(
        None,  # type: ignore[arg-type]  # no database: the fakes stand in
        PiiCipher(bytes(32)),
        uow.clock,
        uow=uow,
        repository=lambda work: FakeRepository(store, work.scope),  # type: ignore[arg-type,return-value]
    )
    return Kit(store, uow, app)


def who(
    scope: str, *roles: str, subject: str = "", organisation: str = ""
) -> Principal:
    return Principal(
        subject or f"s-{scope}-{'-'.join(roles)}", f"u-{scope}", scope,
        frozenset(roles), 0, organisation_id=organisation,
    )  # fmt: skip


ADMIN = who(COUNTY, "tenant_admin", subject="publisher")
REVIEWER = who(COUNTY, "reviewer", subject="reviewer")


def raw(*sessions: tuple[str, str], capacity: int = 2, **over: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "title": "Visiting elderly neighbours",
        "description": "",
        "place": "Yanta street centre",
        "service_field": "elderly_care",
        "kind": "service",
        "sessions": [(a, b, capacity) for a, b in (sessions or (MAY,))],
        "recruit_starts_at": "2026-05-01T00:00:00Z",
        "recruit_ends_at": "2026-05-19T00:00:00Z",
        "min_age": 0,
        "required_skills": [],
        "leader_approval": False,
        "emergency": False,
    }
    return {**spec, **over}


def recruiting(
    kit: Kit, *sessions: tuple[str, str], by: Principal = ADMIN, **over: Any
) -> ProjectView:
    organisation = over.pop("organisation", ORG)
    view = kit.app.projects.create_project(by, organisation, raw(*sessions, **over))
    ident = view.project.id
    kit.app.projects.submit_project(by, ident)
    kit.app.projects.approve_project(
        who(by.scope_code, "reviewer", subject="rev"), ident
    )
    return kit.app.projects.publish_project(by, ident)


def first_session(view: ProjectView) -> str:
    return view.sessions[0].id


def sign_ups(kit: Kit, session_id: str) -> dict[str, str]:
    return {
        r.volunteer_id: r.status
        for r in kit.store.of(m.SignUp)
        if r.session_id == session_id
    }


# -- the project lifecycle ---------------------------------------------------------
def test_a_draft_is_edited_with_its_sessions_replaced_whole_then_frozen(
    kit: Kit,
) -> None:
    view = kit.app.projects.create_project(ADMIN, ORG, raw(MAY))
    project = view.project
    assert (project.status, project.division_code) == ("draft", COUNTY)
    old = first_session(view)
    edited = kit.app.projects.update_project(
        ADMIN, project.id, raw(MAY, JUNE, capacity=5)
    )
    assert [x.capacity for x in edited.sessions] == [5, 5]
    assert old not in {x.id for x in kit.store.of(m.ProjectSession)}
    kit.app.projects.submit_project(ADMIN, project.id)
    with pytest.raises(FailedPrecondition) as err:
        kit.app.projects.update_project(ADMIN, project.id, raw(MAY))
    assert err.value.rule == "project.editable"
    assert len(kit.store.of(m.ProjectSession)) == 2


def test_steps_follow_the_lifecycle_and_a_skipped_step_is_refused(kit: Kit) -> None:
    ident = kit.app.projects.create_project(ADMIN, ORG, raw(MAY)).project.id
    with pytest.raises(FailedPrecondition):
        kit.app.projects.publish_project(
            ADMIN, ident
        )  # draft → recruiting skips review
    (project,) = kit.store.of(m.Project)
    assert project.status == "draft" and project.published_at is None
    assert kit.uow.events == [] and kit.uow.bumps == {}
    kit.app.projects.submit_project(ADMIN, ident)
    kit.app.projects.return_project(REVIEWER, ident, "say where to meet")
    assert (project.status, project.comment) == ("returned", "say where to meet")
    kit.app.projects.submit_project(ADMIN, ident)
    assert (
        kit.app.projects.approve_project(REVIEWER, ident).project.status == "approved"
    )


def test_nobody_reviews_a_project_they_published(kit: Kit) -> None:
    ident = kit.app.projects.create_project(ADMIN, ORG, raw(MAY)).project.id
    kit.app.projects.submit_project(ADMIN, ident)
    own = who(COUNTY, "tenant_admin", "reviewer", subject=ADMIN.subject)
    with pytest.raises(PermissionDenied) as err:
        kit.app.projects.approve_project(own, ident)
    assert err.value.rule == "review.own_project"
    project = kit.store.of(m.Project)[0]
    assert project.status == "submitted" and project.reviewer_name is None
    assert not kit.uow.committed


def test_publishing_counts_sessions_in_the_month_they_run_and_announces_it(
    kit: Kit,
) -> None:
    view = recruiting(kit, MAY, JUNE)
    assert view.project.status == "recruiting"
    assert view.project.published_at == NOW
    assert kit.bump(COUNTY, "projects_published") == 1
    assert kit.bump(COUNTY, "sessions", "2026-05") == 1
    assert kit.bump(COUNTY, "sessions", "2026-06") == 1
    ((kind, code, data),) = kit.uow.events
    assert (kind, code) == ("activity.project.published", COUNTY)
    assert data["project_id"] == view.project.id and data["organisation_id"] == ORG
    assert data["emergency"] is False


def test_an_org_leader_acts_for_its_own_organisation_only(kit: Kit) -> None:
    other = who(COUNTY, "org_leader", organisation="org-other")
    with pytest.raises(PermissionDenied) as err:
        kit.app.projects.create_project(other, ORG, raw(MAY))
    assert err.value.field == "organisation_id"
    ident = kit.app.projects.create_project(ADMIN, ORG, raw(MAY)).project.id
    with pytest.raises(PermissionDenied):
        kit.app.projects.submit_project(other, ident)
    own = who(COUNTY, "org_leader", organisation=ORG)
    assert kit.app.projects.submit_project(own, ident).project.status == "submitted"


def test_another_tenants_project_is_not_found_as_an_unknown_one(kit: Kit) -> None:
    ident = kit.app.projects.create_project(ADMIN, ORG, raw(MAY)).project.id
    beilin = who(SIBLING, "tenant_admin")
    with pytest.raises(NotFound) as theirs:
        kit.app.projects.submit_project(beilin, ident)
    with pytest.raises(NotFound) as unknown:
        kit.app.projects.submit_project(beilin, str(uuid.uuid4()))
    assert (theirs.value.field, theirs.value.rule) == (
        unknown.value.field,
        unknown.value.rule,
    )
    assert kit.store.of(m.Project)[0].status == "draft"


# -- sign-ups, places and the waitlist -----------------------------------------------
def test_places_fill_in_order_then_the_waitlist_and_each_sign_up_counts(
    kit: Kit,
) -> None:
    sid = first_session(recruiting(kit, MAY, capacity=2))
    rows = [kit.app.signups.sign_up(ADMIN, sid, v) for v in ("v1", "v2", "v3")]
    assert [(r.status, r.queue_number) for r in rows] == [
        ("confirmed", 1),
        ("confirmed", 2),
        ("waitlisted", 3),
    ]
    assert all(r.division_code == COUNTY for r in rows)
    assert rows[0].volunteer_division_code == STREET
    assert kit.bump(COUNTY, "signups") == 3


def test_signing_up_twice_is_refused_and_counted_once(kit: Kit) -> None:
    sid = first_session(recruiting(kit, MAY))
    kit.app.signups.sign_up(ADMIN, sid, "v1")
    with pytest.raises(AlreadyExists) as err:
        kit.app.signups.sign_up(ADMIN, sid, "v1")
    assert err.value.rule == "sign_up.unique"
    assert len(kit.store.of(m.SignUp)) == 1 and kit.bump(COUNTY, "signups") == 1


def test_eligibility_age_is_taken_on_the_sessions_day_in_china_time(
    kit: Kit,
) -> None:
    # 17:00 UTC on 20 May is 01:00 on 21 May in China: the 18th birthday.
    evening = ("2026-05-20T17:00:00Z", "2026-05-20T20:00:00Z")
    sid = first_session(recruiting(kit, evening, min_age=18))
    kit.store.put(
        volunteer("turns-18", birth=date(2008, 5, 21)),
        volunteer("turns-18-later", birth=date(2008, 5, 22)),
        volunteer("unverified", status="pending"),
    )
    assert kit.app.signups.sign_up(ADMIN, sid, "turns-18").status == "confirmed"
    for ident, rule in (
        ("turns-18-later", "eligibility.min_age"),
        ("unverified", "eligibility.verified"),
    ):
        with pytest.raises(FailedPrecondition) as err:
            kit.app.signups.sign_up(ADMIN, sid, ident)
        assert (err.value.rule, err.value.field) == (rule, "volunteer_id")
    assert set(sign_ups(kit, sid)) == {"turns-18"}


def test_sign_up_is_open_only_while_recruiting_and_in_the_window(kit: Kit) -> None:
    draft = kit.app.projects.create_project(ADMIN, ORG, raw(MAY))
    with pytest.raises(FailedPrecondition) as err:
        kit.app.signups.sign_up(ADMIN, first_session(draft), "v1")
    assert err.value.rule == "project.recruiting"
    sid = first_session(recruiting(kit, MAY))
    kit.at("2026-05-19T00:00:00Z", minutes=1)  # recruitment just ended
    with pytest.raises(FailedPrecondition) as err:
        kit.app.signups.sign_up(ADMIN, sid, "v1")
    assert err.value.rule == "project.recruitment_window"
    assert kit.store.of(m.SignUp) == [] and kit.bump(COUNTY, "signups") == 0


def test_a_freed_place_goes_to_the_head_of_the_waitlist(kit: Kit) -> None:
    sid = first_session(recruiting(kit, MAY, capacity=1))
    first, *_ = [kit.app.signups.sign_up(ADMIN, sid, v) for v in ("v1", "v2", "v3")]
    withdrawn, promoted = kit.app.signups.withdraw(ADMIN, first.id)
    assert withdrawn.status == "withdrawn" and withdrawn.decided_at == NOW
    assert [x.volunteer_id for x in promoted] == ["v2"]
    assert sign_ups(kit, sid) == {
        "v1": "withdrawn",
        "v2": "confirmed",
        "v3": "waitlisted",
    }
    with pytest.raises(FailedPrecondition):  # withdrawn is final
        kit.app.signups.withdraw(ADMIN, first.id)
    again = kit.app.signups.sign_up(ADMIN, sid, "v1")  # history does not block
    assert (again.status, again.queue_number) == ("waitlisted", 4)


def test_a_leaders_approval_places_pending_sign_ups_first_come_first_served(
    kit: Kit,
) -> None:
    sid = first_session(recruiting(kit, MAY, capacity=1, leader_approval=True))
    a, b = (kit.app.signups.sign_up(ADMIN, sid, v) for v in ("v1", "v2"))
    assert (a.status, b.status) == ("pending", "pending")
    with pytest.raises(InvalidArgument) as err:
        kit.app.signups.decide(ADMIN, a.id, False, " ")
    assert err.value.field == "reason"
    assert kit.app.signups.decide(ADMIN, b.id, True, "").status == "confirmed"
    approved_late = kit.app.signups.decide(ADMIN, a.id, True, "")
    assert (approved_late.status, approved_late.queue_number) == ("waitlisted", 4)
    with pytest.raises(FailedPrecondition):  # only a pending one is decided
        kit.app.signups.decide(ADMIN, b.id, False, "changed my mind")


def decisions(kit: Kit) -> list[tuple[str, str, str]]:
    return [
        (data["volunteer_id"], data["status"], code)
        for kind, code, data in kit.uow.events
        if kind == "activity.signup.decided"
    ]


def test_each_decided_place_is_announced_to_the_volunteer(kit: Kit) -> None:
    sid = first_session(recruiting(kit, MAY, capacity=1))
    first, second = (kit.app.signups.sign_up(ADMIN, sid, v) for v in ("v1", "v2"))
    kit.app.signups.withdraw(ADMIN, first.id)
    assert decisions(kit) == [
        ("v1", "approved", COUNTY),
        ("v2", "waitlisted", COUNTY),
        ("v2", "promoted", COUNTY),
    ]
    *_, (_, _, data) = kit.uow.events
    assert data == {
        "sign_up_id": second.id,
        "session_id": sid,
        "project_id": second.project_id,
        "project_title": "Visiting elderly neighbours",
        "volunteer_id": "v2",
        "volunteer_number": "N-v2",
        "volunteer_division_code": STREET,
        "division_code": COUNTY,
        "status": "promoted",
    }


def test_a_leaders_decisions_are_announced_and_a_pending_sign_up_is_not(
    kit: Kit,
) -> None:
    sid = first_session(recruiting(kit, MAY, capacity=1, leader_approval=True))
    a, b, c = (kit.app.signups.sign_up(ADMIN, sid, v) for v in ("v1", "v2", "v3"))
    assert decisions(kit) == []
    kit.app.signups.decide(ADMIN, a.id, True, "")
    kit.app.signups.decide(ADMIN, b.id, True, "")
    kit.app.signups.decide(ADMIN, c.id, False, "too many this time")
    assert decisions(kit) == [
        ("v1", "approved", COUNTY),
        ("v2", "waitlisted", COUNTY),
        ("v3", "rejected", COUNTY),
    ]


def test_withdrawing_in_another_tenants_project_is_not_found_even_for_own_volunteers(
    kit: Kit,
) -> None:
    sid = first_session(recruiting(kit, MAY))
    row = kit.app.signups.sign_up(
        ADMIN, sid, "v1"
    )  # the county signs up a street's volunteer
    street = who(STREET, "tenant_admin")
    with pytest.raises(NotFound) as err:
        kit.app.signups.withdraw(street, row.id)
    assert err.value.field == "sign_up_id"
    assert row.status == "confirmed"


# -- emergency campaigns ---------------------------------------------------------------
def test_a_city_emergency_campaign_takes_a_countys_volunteers_not_its_neighbours(
    kit: Kit,
) -> None:
    city = who(CITY, "tenant_admin", subject="city-admin")
    view = recruiting(kit, MAY, by=city, organisation=CITY_ORG, emergency=True)
    sid = first_session(view)
    row = kit.app.signups.sign_up(ADMIN, sid, "v1")  # from below, no approval
    assert (row.status, row.division_code) == ("confirmed", CITY)
    with pytest.raises(NotFound) as err:  # Beilin's volunteer: not Yanta's to sign
        kit.app.signups.sign_up(ADMIN, sid, "v-beilin")
    assert err.value.field == "volunteer_id"
    plain = first_session(recruiting(kit, MAY, by=city, organisation=CITY_ORG))
    with pytest.raises(NotFound) as err:  # not an emergency: invisible below
        kit.app.signups.sign_up(ADMIN, plain, "v2")
    assert err.value.field == "session_id"


def test_from_below_an_emergency_campaign_only_own_volunteers_and_by_code(
    kit: Kit,
) -> None:
    city = who(CITY, "tenant_admin", subject="city-admin")
    beilin = who(SIBLING, "tenant_admin")
    view = recruiting(kit, MAY, by=city, organisation=CITY_ORG, emergency=True)
    sid = first_session(view)
    kit.app.signups.sign_up(ADMIN, sid, "v1")
    kit.app.signups.sign_up(beilin, sid, "v-beilin")
    kit.app.projects.start_project(city, view.project.id)
    kit.at(MAY[0], minutes=5)
    with pytest.raises(PermissionDenied) as err:
        kit.app.attendance.check_in(ADMIN, sid, "v1", "")
    assert err.value.rule == "attendance.leader_scope"
    code, _, _ = kit.app.attendance.checkin_code(city, sid)
    with pytest.raises(NotFound) as err:  # Beilin's volunteer, from Yanta
        kit.app.attendance.check_in(ADMIN, sid, "v-beilin", code)
    assert err.value.field == "volunteer_id"
    assert kit.store.of(m.Attendance) == []
    assert kit.app.attendance.check_in(ADMIN, sid, "v1", code).volunteer_id == "v1"
    assert (
        kit.app.attendance.check_in(beilin, sid, "v-beilin", code).division_code == CITY
    )


# -- attendance ----------------------------------------------------------------------
def running(
    kit: Kit, capacity: int = 2, volunteers: tuple[str, ...] = ("v1",)
) -> tuple[str, str]:
    """A project in progress, its first session five minutes old."""
    view = recruiting(kit, MAY, capacity=capacity)
    sid = first_session(view)
    for v in volunteers:
        kit.app.signups.sign_up(ADMIN, sid, v)
    kit.app.projects.start_project(ADMIN, view.project.id)
    kit.at(MAY[0], minutes=5)
    return view.project.id, sid


def wrong_code(kit: Kit, sid: str) -> str:
    """Six digits that are neither this window's code nor the last one's."""
    (session,) = [x for x in kit.store.of(m.ProjectSession) if x.id == sid]
    window = domain.code_window(kit.uow.now)
    taken = {domain.checkin_code(session.secret, w) for w in (window, window - 1)}
    return next(c for c in ("000000", "000001", "000002") if c not in taken)


def test_check_in_needs_a_confirmed_place_and_happens_once(kit: Kit) -> None:
    _, sid = running(kit, capacity=1, volunteers=("v1", "v2"))  # v2 waits
    v1 = who(COUNTY, "volunteer", subject="v1")
    with pytest.raises(FailedPrecondition) as err:
        kit.app.attendance.check_in(ADMIN, sid, "v2", "")
    assert err.value.rule == "attendance.confirmed_sign_up"
    code, _, _ = kit.app.attendance.checkin_code(ADMIN, sid)
    row = kit.app.attendance.check_in(v1, sid, "v1", code)
    assert row.checked_in_at == kit.uow.now and row.division_code == COUNTY
    with pytest.raises(AlreadyExists) as err:
        kit.app.attendance.check_in(ADMIN, sid, "v1", "")
    assert err.value.rule == "attendance.unique"
    assert len(kit.store.of(m.Attendance)) == 1


def test_wrong_codes_are_refused_then_locked_out_per_volunteer(kit: Kit) -> None:
    _, sid = running(kit, volunteers=("v1", "v2"))
    code, _, _ = kit.app.attendance.checkin_code(ADMIN, sid)
    wrong = wrong_code(kit, sid)
    for _ in range(GUESSES.limit):
        with pytest.raises(InvalidArgument) as err:
            kit.app.attendance.check_in(ADMIN, sid, "v1", wrong)
        assert err.value.rule == "code.mismatch"
    with pytest.raises(FailedPrecondition) as locked:  # even the right code
        kit.app.attendance.check_in(ADMIN, sid, "v1", code)
    assert locked.value.rule == "code.attempts"
    assert kit.app.attendance.check_in(ADMIN, sid, "v2", code).volunteer_id == "v2"
    with pytest.raises(InvalidArgument) as err:
        kit.app.attendance.check_in(ADMIN, sid, "v2", "12ab56")
    assert err.value.rule == "code.format"


def test_checking_out_announces_the_service_and_counts_it(kit: Kit) -> None:
    project_id, sid = running(kit)
    code, _, _ = kit.app.attendance.checkin_code(ADMIN, sid)
    kit.app.attendance.check_in(ADMIN, sid, "v1", code)
    kit.at(MAY[1], minutes=30)  # within the 2 hours after the end
    code, _, _ = kit.app.attendance.checkin_code(ADMIN, sid)
    row = kit.app.attendance.check_out(ADMIN, sid, "v1", code)
    assert (row.closed_by, row.checked_out_at) == ("volunteer", kit.uow.now)
    kind, code_at, data = kit.uow.events[-1]
    assert (kind, code_at) == ("activity.attendance.checked_out", COUNTY)
    assert (data["volunteer_id"], data["project_id"], data["closed_by"]) == (
        "v1",
        project_id,
        "volunteer",
    )
    assert data["checked_out_at"].startswith("2026-05-20T05:30")
    assert kit.bump(COUNTY, "attendances") == 1
    with pytest.raises(FailedPrecondition):  # a second check-out
        kit.app.attendance.check_out(ADMIN, sid, "v1", "")


def test_the_leader_closes_a_forgotten_check_out_within_the_session_only(
    kit: Kit,
) -> None:
    project_id, sid = running(kit)
    kit.app.attendance.check_in(ADMIN, sid, "v1", "")
    kit.at("2026-05-21T09:00:00Z")  # the next day
    with pytest.raises(FailedPrecondition) as open_:
        kit.app.projects.complete_project(ADMIN, project_id)
    assert open_.value.rule == "project.open_attendance"
    with pytest.raises(InvalidArgument) as err:
        kit.app.attendance.close_attendance(ADMIN, sid, "v1", "2026-05-20T06:00:00Z")
    assert err.value.rule == "ended_at.within_session"
    assert kit.types() == ["activity.project.published", "activity.signup.decided"]
    row = kit.app.attendance.close_attendance(ADMIN, sid, "v1", "2026-05-20T04:30:00Z")
    assert row.closed_by == "leader" and row.checked_out_at == datetime(
        2026, 5, 20, 4, 30, tzinfo=UTC
    )
    done = kit.app.projects.complete_project(ADMIN, project_id).project
    assert (done.status, done.closed_at) == ("completed", kit.uow.now)
    assert kit.types()[-2:] == [
        "activity.attendance.checked_out",
        "activity.project.completed",
    ]


def test_cancelling_keeps_the_reason_and_announces_it(kit: Kit) -> None:
    project_id = recruiting(kit, MAY).project.id
    done = kit.app.projects.cancel_project(ADMIN, project_id, "storm warning").project
    assert (done.status, done.comment, done.closed_at) == (
        "cancelled",
        "storm warning",
        NOW,
    )
    assert kit.uow.events[-1] == (
        "activity.project.cancelled",
        COUNTY,
        {"project_id": project_id, "division_code": COUNTY},
    )
    with pytest.raises(FailedPrecondition):
        kit.app.projects.start_project(ADMIN, project_id)


# -- pairing (结对帮扶) ------------------------------------------------------------
def recipient(kit: Kit, mode: str, consent: bool = True) -> m.Recipient:
    return kit.app.pairing.create_recipient(
        ADMIN, STREET, "张桂兰", "13800138000", "雁塔路 12 号 3 单元", mode,
        "weekly visits", consent,
    )  # fmt: skip


def test_a_recipient_is_recorded_only_with_consent_and_stored_masked(
    kit: Kit,
) -> None:
    with pytest.raises(InvalidArgument) as err:
        recipient(kit, "one_to_one", consent=False)
    assert err.value.field == "consent"
    row = recipient(kit, "one_to_one")
    assert row.name_masked != "张桂兰" and b"13800138000" not in (row.phone_enc or b"")
    assert (
        kit.app.pairing.ctx.cipher.decrypt(row.name_enc, context="recipient.name")
        == "张桂兰"
    )
    assert (row.consent_at, row.division_code) == (NOW, STREET)
    assert kit.bump(STREET, "recipients") == 1


def test_one_to_one_takes_one_volunteer_and_a_pair_is_made_once(kit: Kit) -> None:
    single = recipient(kit, "one_to_one")
    kit.app.pairing.create_pair(ADMIN, single.id, "v1", ORG)
    with pytest.raises(FailedPrecondition) as err:
        kit.app.pairing.create_pair(ADMIN, single.id, "v2", ORG)
    assert err.value.rule == "pairing.one_to_one"
    many = recipient(kit, "many_to_one")
    kit.app.pairing.create_pair(ADMIN, many.id, "v1", ORG)
    kit.app.pairing.create_pair(ADMIN, many.id, "v2", ORG)
    with pytest.raises(AlreadyExists) as twice:  # the unique index decides
        kit.app.pairing.create_pair(ADMIN, many.id, "v1", ORG)
    assert (twice.value.field, twice.value.rule) == ("volunteer_id", "pair.unique")
    assert len(kit.store.of(m.Pair)) == 3 and kit.bump(STREET, "pairs") == 3


def test_a_pair_needs_an_organisation_covering_the_recipient(kit: Kit) -> None:
    kit.store.put(org("org-other-street", "610113002"))
    row = recipient(kit, "many_to_one")
    with pytest.raises(InvalidArgument) as err:
        kit.app.pairing.create_pair(ADMIN, row.id, "v1", "org-other-street")
    assert err.value.rule == "organisation_id.covers_recipient"
    kit.store.put(volunteer("v-pending", status="pending"))
    with pytest.raises(FailedPrecondition) as err:
        kit.app.pairing.create_pair(ADMIN, row.id, "v-pending", ORG)
    assert err.value.rule == "eligibility.verified"
    assert kit.store.of(m.Pair) == [] and kit.bump(STREET, "pairs") == 0


def test_a_visit_is_logged_in_its_own_month_never_in_the_future(kit: Kit) -> None:
    pair = kit.app.pairing.create_pair(
        ADMIN, recipient(kit, "one_to_one").id, "v1", ORG
    )
    with pytest.raises(InvalidArgument) as err:
        kit.app.pairing.log_visit(
            ADMIN, pair.id, "2026-05-06T01:00:00Z", "2026-05-06T02:30:00Z", ""
        )
    assert err.value.rule == "ended_at.not_future"
    visit = kit.app.pairing.log_visit(
        ADMIN, pair.id, "2026-04-30T15:00:00Z", "2026-04-30T17:00:00Z", "tea"
    )  # 23:00 on 30 April in China: April's
    assert visit.division_code == STREET
    assert kit.bump(STREET, "visits", "2026-04") == 1
    assert kit.bump(STREET, "visits") == 0
    kind, _, data = kit.uow.events[-1]
    assert kind == "activity.visit.logged"
    assert (data["pair_id"], data["volunteer_id"], data["service_field"]) == (
        pair.id,
        "v1",
        "poverty_relief",
    )
