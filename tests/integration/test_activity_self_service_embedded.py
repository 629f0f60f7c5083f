"""A volunteer's own activity in embedded mode (SQLite, no row security): the
same migrations, use cases and read side find the projects open to the
volunteer, sign them up, list their sign-ups with the waitlist's position
and check them in by the code, keeping another volunteer's and a neighbour
county's rows out by the explicit filters alone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.activity import models as m
from services.activity.application import ActivityApp
from services.activity.own_queries import OwnQueries, ProjectFilter
from services.common.auth import Principal
from services.common.config import ServiceConfig
from services.common.db import Database
from services.common.errors import NotFound
from services.common.migrations import upgrade
from services.common.pii import PiiCipher
from services.common.tenancy import Scope

pytestmark = pytest.mark.integration
HOME, COUNTY, AWAY = "610113002", "610113", "610103"
NOW = datetime(2026, 5, 6, 2, 0, tzinfo=UTC)


def office(scope: str, subject: str = "office") -> Principal:
    return Principal(subject, f"u-{subject}", scope, frozenset({"tenant_admin"}), 0)


def volunteer(vid: str) -> Principal:
    return Principal(
        "a", f"N-{vid}", HOME, frozenset({"volunteer"}), 0, volunteer_id=vid
    )


def at(minutes: int) -> str:
    return (NOW + timedelta(minutes=minutes)).isoformat()


def raw(capacity: int) -> dict[str, Any]:
    return {
        "title": f"敬老探访-{uuid.uuid4().hex[:6]}", "description": "",
        "place": "大雁塔街道", "service_field": "elderly_care", "kind": "service",
        "sessions": [(at(60), at(180), capacity)],
        "recruit_starts_at": at(-60), "recruit_ends_at": at(30),
        "min_age": 0, "required_skills": [], "leader_approval": False,
        "emergency": False,
    }  # fmt: skip


@pytest.fixture
def embedded(tmp_path):  # type: ignore[no-untyped-def]
    service = ServiceConfig(
        "activity",
        f"sqlite:///{tmp_path}/activity.db",
        "zhiyuan_act_app",
        "",
        "",
        "",
        1,
    )
    upgrade(service)
    db = Database(service)
    clock = {"now": NOW}
    app = ActivityApp(db, PiiCipher(bytes(32)), lambda: clock["now"])
    with db.session(Scope("61")) as s:
        for ident, code in (("org-yanta", COUNTY), ("org-beilin", AWAY)):
            s.add(m.OrganisationReplica(
                id=ident, name=ident, kind="organisation", division_code=code,
                parent_id=None, updated_at=NOW,
            ))  # fmt: skip
        for ident in ("mine", "theirs"):
            s.add(m.VolunteerReplica(
                id=ident, volunteer_number=f"N-{ident}", home_division_code=HOME,
                status="verified", birth_date=None, service_fields=[], updated_at=NOW,
            ))  # fmt: skip
    yield db, app, clock
    db.dispose()


def published(app: ActivityApp, scope: str, org: str, capacity: int = 1) -> str:
    ident = app.projects.create_project(office(scope), org, raw(capacity)).project.id
    app.projects.submit_project(office(scope), ident)
    app.projects.approve_project(office(scope, "reviewer"), ident)
    app.projects.publish_project(office(scope), ident)
    return ident


def test_own_activity_on_sqlite(embedded) -> None:  # type: ignore[no-untyped-def]
    db, app, clock = embedded
    ours = published(app, COUNTY, "org-yanta")
    beilin = published(app, AWAY, "org-beilin")
    reads = OwnQueries(db, lambda: clock["now"])
    page = reads.projects(volunteer("mine"), ProjectFilter.of("", "", HOME), 50, "")
    assert [v.project.id for v in page.items] == [ours]
    (session,) = page.items[0].sessions
    theirs, _ = app.own.sign_up(volunteer("theirs"), session.id)
    mine, place = app.own.sign_up(volunteer("mine"), session.id)
    assert (mine.status, place) == ("waitlisted", 1)
    (listed,) = reads.sign_ups(volunteer("mine"), 50, "").items
    assert (listed.row.id, listed.waitlist_position) == (mine.id, 1)
    assert listed.project_title == page.items[0].project.title
    with pytest.raises(NotFound):
        app.own.withdraw(volunteer("mine"), theirs.id)
    beilin_session = reads_session(db, beilin)
    with pytest.raises(NotFound):
        app.own.sign_up(volunteer("mine"), beilin_session)

    app.projects.start_project(office(COUNTY), ours)
    clock["now"] = NOW + timedelta(minutes=55)
    code, _, _ = app.attendance.checkin_code(office(COUNTY), session.id)
    came = app.own.check_in(volunteer("theirs"), code, "")
    assert (came.session_id, came.volunteer_id) == (session.id, "theirs")


def reads_session(db: Database, project_id: str) -> str:
    with db.session(Scope("61")) as s:
        (row,) = s.query(m.ProjectSession).filter_by(project_id=project_id).all()
        return row.id
