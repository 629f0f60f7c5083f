"""Insurance cover of projects through the real api roles, the real worker
(the settings replica) and registration (names for the insurer's list, each
reveal in its personal-data access log).

The default tenant policy insures emergency and large-event projects; a
county's override, made in registration, reaches activity by its event."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from sqlalchemy import create_engine, text
from zhiyuan.activity.v1 import activity_pb2 as pb
from zhiyuan.registration.v1 import registration_pb2 as rpb

from services.common.testing import wait_for
from tests.helpers import auth
from tests.integration.test_activity_flow import Kit, raw_rows, refused, rule, when

pytestmark = pytest.mark.integration
COUNTY, TOWN = "610113", "610113002"
# A county no other test sets policy for: its override is this module's.
LANTIAN = "610122"
KEY = "insurance.required_fields"


@pytest.fixture(scope="module")
def kit(stub, stubs, token, worker, migrated) -> Kit:  # type: ignore[no-untyped-def]
    return Kit(stub, stubs("activity"), token, migrated)


def _publish(kit: Kit, p: pb.Project, tok: str) -> pb.Project:
    return kit.act.PublishProject(
        pb.PublishProjectRequest(id=p.id), metadata=auth(tok)
    ).project


def _cover(kit: Kit, p: pb.Project, tok: str, start: str, end: str) -> Any:
    return kit.act.SetInsuranceCover(
        pb.SetInsuranceCoverRequest(
            project_id=p.id,
            insurer="中国人民财产保险股份有限公司西安市分公司",
            policy_number="PEAC202661010000001",
            starts_on=start,
            ends_on=end,
        ),
        metadata=auth(tok),
    )


def _status(kit: Kit, p: pb.Project, tok: str) -> pb.InsuranceStatus:
    return kit.act.GetInsuranceCover(
        pb.GetInsuranceCoverRequest(project_id=p.id), metadata=auth(tok)
    ).status


def _day(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).date().isoformat()


def test_insurance_required_refuses_recruiting_without_cover(kit: Kit) -> None:
    org = kit.org(COUNTY)
    leader = kit.publisher(org)
    p = kit.approved(org, service_field="emergency")
    assert _status(kit, p, leader) == pb.InsuranceStatus(required=True)
    err = refused(lambda: _publish(kit, p, leader))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    trailers = dict(err.trailing_metadata() or ())
    assert (trailers["zhiyuan-field"], rule(err)) == ("insurance", "insurance.required")
    assert "保险" in trailers["zhiyuan-message-zh-bin"].decode()
    assert kit.get(p.id, leader).status == pb.PROJECT_STATUS_APPROVED
    # With a cover holding the session, recruiting opens.
    got = _cover(kit, p, leader, _day(-1), _day(30))
    assert (got.status.required, got.status.covers_sessions) == (True, True)
    assert _publish(kit, p, leader).status == pb.PROJECT_STATUS_RECRUITING


def test_a_cover_that_ends_before_a_session_is_refused(kit: Kit) -> None:
    org = kit.org(COUNTY)
    leader = kit.publisher(org)
    later = pb.SessionSpec(
        starts_at=when(3 * 1440), ends_at=when(3 * 1440 + 120), capacity=5
    )
    p = kit.approved(org, service_field="large_events", sessions=[later])
    got = _cover(kit, p, leader, _day(-1), _day(1))
    assert (got.status.required, got.status.covers_sessions) == (True, False)
    err = refused(lambda: _publish(kit, p, leader))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert rule(err) == "insurance.period"
    assert dict(err.trailing_metadata())["zhiyuan-field"] == "insurance"
    assert kit.get(p.id, leader).status == pb.PROJECT_STATUS_APPROVED
    # Replaced by one that holds it; the first stays as history.
    _cover(kit, p, leader, _day(-1), _day(5))
    assert _publish(kit, p, leader).status == pb.PROJECT_STATUS_RECRUITING
    rows = raw_rows(
        kit.env,
        "SELECT ends_on, replaced_at IS NULL FROM insurance_covers "
        "WHERE project_id = :p ORDER BY created_at",
        p=p.id,
    )
    assert [(str(a), b) for a, b in rows] == [(_day(1), False), (_day(5), True)]


def test_a_field_outside_the_policy_recruits_without_cover(kit: Kit) -> None:
    org = kit.org(COUNTY)
    p = kit.approved(org, service_field="elderly_care")
    leader = kit.publisher(org)
    assert _status(kit, p, leader).required is False
    assert _publish(kit, p, leader).status == pb.PROJECT_STATUS_RECRUITING


def test_a_countys_policy_reaches_activity_and_is_cleared(kit: Kit) -> None:
    admin = kit.token(LANTIAN)
    org = kit.org(LANTIAN)
    leader = kit.publisher(org)
    p = kit.approved(org, service_field="civilisation")

    def settings(**change: Any) -> None:
        kit.reg.UpdateTenantSettings(
            rpb.UpdateTenantSettingsRequest(division_code=LANTIAN, **change),
            metadata=auth(admin),
        )

    settings(set_json={KEY: '["civilisation"]'})
    try:
        wait_for(
            lambda: _status(kit, p, leader).required,
            timeout=30,
            what="the county's insurance policy in activity's replica",
        )
        err = refused(lambda: _publish(kit, p, leader))
        assert rule(err) == "insurance.required"
    finally:
        settings(clear=[KEY])
    wait_for(
        lambda: not _status(kit, p, leader).required,
        timeout=30,
        what="the cleared policy in activity's replica",
    )
    assert _publish(kit, p, leader).status == pb.PROJECT_STATUS_RECRUITING


def test_the_insurers_csv_names_the_confirmed_volunteers(kit: Kit) -> None:
    org = kit.org(COUNTY)
    leader, admin = kit.publisher(org), kit.token(COUNTY)
    vols = kit.volunteers(TOWN, 3)
    one = pb.SessionSpec(starts_at=when(-10), ends_at=when(120), capacity=2)
    p = kit.published(org, service_field="emergency", sessions=[one])
    for vol in vols:  # the third waits: not covered
        kit.sign_up(p.sessions[0].id, vol.id, admin)
    listed = kit.act.ListInsuredVolunteers(
        pb.ListInsuredVolunteersRequest(project_id=p.id), metadata=auth(leader)
    )
    numbers = sorted(v.volunteer_number for v in vols[:2])
    assert [x.volunteer_number for x in listed.volunteers] == numbers
    assert listed.page.total_size == 2
    body = kit.act.ExportInsuredVolunteers(
        pb.ExportInsuredVolunteersRequest(project_id=p.id), metadata=auth(leader)
    ).csv
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:4] == ["姓名", "证件类型", "证件号码", "志愿者编号"]
    assert [r[3] for r in rows[1:]] == numbers
    for r in rows[1:]:
        assert r[0] == "李志愿" and r[1] == "居民身份证"
        assert "*" in r[2] and len(r[2]) == 18  # masked, never the full number
        assert r[4] == p.title
    # Every name revealed is in registration's personal-data access log.
    engine = create_engine(kit.env["REGISTRATION_DATABASE_URL"])
    try:
        with engine.connect() as c:
            logged = c.execute(
                text(
                    "SELECT volunteer_id FROM pii_access_log "
                    "WHERE purpose = 'insurance' AND volunteer_id = ANY(:ids)"
                ),
                {"ids": [v.id for v in vols]},
            ).scalars()
            assert sorted(logged) == sorted(v.id for v in vols[:2])
    finally:
        engine.dispose()


def test_a_neighbours_project_is_not_found_and_nothing_is_written(kit: Kit) -> None:
    theirs = kit.approved(kit.org("610103"), service_field="emergency")
    for tok in (kit.token(COUNTY), kit.token("610113001")):
        err = refused(lambda t=tok: _cover(kit, theirs, t, _day(-1), _day(30)))
        assert err.code() == grpc.StatusCode.NOT_FOUND
        assert dict(err.trailing_metadata())["zhiyuan-field"] == "project_id"
    rows = raw_rows(
        kit.env, "SELECT count(*) FROM insurance_covers WHERE project_id = :p",
        p=theirs.id,
    )  # fmt: skip
    assert rows[0][0] == 0
