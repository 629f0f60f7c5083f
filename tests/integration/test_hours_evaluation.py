"""Evaluations (评价, issue 14) on the real servers: the office rates an
approved record 1 (差) to 5 (优) with a comment; the record's detail and the
volunteer's own record list show it; a replacement keeps the old one,
superseded, and says how many it replaced; only an approved record is
rated; only the office that rated (or one above it) replaces the rating;
an organisation leader rates its own organisation's records only; and the
tenant policy (``evaluation.poor_max_score``, ``evaluation.poor_blocks``)
decides what is poor and is published in hours.record.evaluated for
commendation."""

from __future__ import annotations

import json
import os
from typing import Any

import grpc
import pytest
from sqlalchemy import create_engine, text
from zhiyuan.hours.v1 import hours_pb2 as pb
from zhiyuan.registration.v1 import registration_pb2 as reg

from services.common.testing import wait_for
from tests.helpers import assert_field, auth, rejected
from tests.integration import test_hours_flow as flow
from tests.integration.test_hours_flow import (
    COUNTY,
    TOWN,
    approve,
    arrived,
    attendance,
    pin_policy,
    publish,
    slot,
    verified_volunteer,
)
from tests.integration.test_hours_self_service import volunteer_token

pytestmark = pytest.mark.integration
hours, listen = flow.hours, flow.listen  # the flow tests' fixtures
policy = flow.policy  # the default hour policy pinned at TOWN
# A township whose evaluation policy only this file sets.
POLICY_TOWN = "610113010"


def rows(sql: str, **params: Any) -> list[Any]:
    """The hours database as its owner (no row security)."""
    engine = create_engine(os.environ["HOURS_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params))
    finally:
        engine.dispose()


def served(
    hours: Any, amqp: str, tok: str, vol_id: str, code: str = TOWN, **over: Any
) -> pb.HourRecord:
    body = attendance(vol_id, slot(), 90, code=code, **over)
    publish(amqp, "attendance.checked_out", body)
    return arrived(hours, tok, body)


def evaluate(hours: Any, tok: str, record_id: str, score: str, comment: str) -> Any:
    return hours.EvaluateRecord(
        pb.EvaluateRecordRequest(record_id=record_id, score=score, comment=comment),
        metadata=auth(tok),
    ).evaluation


@pytest.fixture(scope="module")
def vol(stub, token):  # type: ignore[no-untyped-def]
    return verified_volunteer(stub, token(COUNTY))


def test_an_evaluation_shows_in_the_record_and_the_volunteers_list(
    hours, token, vol, amqp_uri, listen
):
    county = token(COUNTY, username="yanta-office")
    events = listen("record.evaluated")
    record = approve(
        hours,
        county,
        served(
            hours, amqp_uri, county, vol.id, volunteer_number=vol.volunteer_number
        ).id,
    )
    got = evaluate(hours, county, record.id, "4", "服务认真，\n按时到岗")
    assert (got.score, got.grade, got.comment) == (4, "良", "服务认真，\n按时到岗")
    assert got.evaluated_by == "yanta-office" and got.replaced == 0
    assert not got.poor  # the default: at most 2 is poor
    detail = hours.GetRecord(pb.GetRecordRequest(id=record.id), metadata=auth(county))
    assert detail.evaluation.id == got.id and detail.evaluation.score == 4
    mine = hours.ListMyRecords(
        pb.ListMyRecordsRequest(), metadata=auth(volunteer_token(vol))
    )
    assert record.id in {r.id for r in mine.records}
    assert {e.record_id: e.score for e in mine.evaluations}[record.id] == 4
    event = events.next(lambda b: b["data"]["record_id"] == record.id)
    assert event["event_type"] == "hours.record.evaluated"
    data = event["data"]
    assert (data["score"], data["previous_score"], data["poor"]) == (4, None, False)
    assert data["volunteer_id"] == vol.id and data["division_code"] == TOWN


def test_a_replacement_keeps_the_old_evaluation_superseded(
    hours, token, vol, amqp_uri, listen
):
    county = token(COUNTY)
    events = listen("record.evaluated")
    record = approve(hours, county, served(hours, amqp_uri, county, vol.id).id)
    first = evaluate(hours, county, record.id, "5", "表现突出")
    second = evaluate(hours, county, record.id, "2", "复核：多次迟到")
    assert second.id != first.id and second.replaced == 1 and second.poor
    kept = rows(
        "SELECT id, score, superseded_at IS NOT NULL FROM hour_evaluations"
        " WHERE record_id = :r ORDER BY evaluated_at",
        r=record.id,
    )
    assert [(r[0], r[1], r[2]) for r in kept] == [
        (first.id, 5, True),
        (second.id, 2, False),
    ]
    detail = hours.GetRecord(pb.GetRecordRequest(id=record.id), metadata=auth(county))
    assert detail.evaluation.id == second.id
    event = events.next(
        lambda b: b["data"]["record_id"] == record.id and b["data"]["replaced"] == 1
    )
    assert (event["data"]["score"], event["data"]["previous_score"]) == (2, 5)


def test_only_an_approved_record_is_evaluated(hours, token, vol, amqp_uri):
    county = token(COUNTY)
    pending = served(hours, amqp_uri, county, vol.id)
    before = rows("SELECT count(*) FROM hour_evaluations")
    trailers = rejected(
        lambda: evaluate(hours, county, pending.id, "3", "一般"),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert_field(trailers, "record_id", "evaluation.approved_only")
    assert rows("SELECT count(*) FROM hour_evaluations") == before


def test_only_the_office_that_rated_or_one_above_replaces_it(
    hours, token, vol, amqp_uri
):
    county = token(COUNTY)
    record = approve(hours, county, served(hours, amqp_uri, county, vol.id).id)
    first = evaluate(hours, county, record.id, "4", "良好")
    # The record's own township sees the record but did not rate it.
    trailers = rejected(
        lambda: evaluate(hours, token(TOWN), record.id, "1", "差"),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    assert_field(trailers, "record_id", "evaluation.same_office")
    detail = hours.GetRecord(pb.GetRecordRequest(id=record.id), metadata=auth(county))
    assert detail.evaluation.id == first.id
    # The city above the county may.
    again = evaluate(hours, token(flow.CITY), record.id, "3", "市级复核")
    assert again.replaced == 1 and again.score == 3


def test_an_organisation_leader_rates_only_its_own_records(hours, token, vol, amqp_uri):
    county = token(COUNTY)
    ours = "0b6c4a8e-1111-4000-8000-00000000e001"
    theirs = "0b6c4a8e-1111-4000-8000-00000000e002"
    own = approve(
        hours, county, served(hours, amqp_uri, county, vol.id, organisation_id=ours).id
    )
    other = approve(
        hours,
        county,
        served(hours, amqp_uri, county, vol.id, organisation_id=theirs).id,
    )
    leader = token(COUNTY, "org_leader", org=ours)
    assert evaluate(hours, leader, own.id, "5", "优秀").score == 5
    trailers = rejected(
        lambda: evaluate(hours, leader, other.id, "5", "优秀"),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    assert_field(trailers, "organisation_id", "organisation.own")
    assert rows(
        "SELECT count(*) FROM hour_evaluations WHERE record_id = :r", r=other.id
    ) == [(0,)]


def test_the_tenant_policy_decides_poor_and_what_it_blocks(
    hours, stub, token, vol, amqp_uri, listen
):
    county = token(COUNTY)
    pin_policy(stub, hours, county, POLICY_TOWN)
    stub.UpdateTenantSettings(
        reg.UpdateTenantSettingsRequest(
            division_code=POLICY_TOWN,
            set_json={
                "evaluation.poor_max_score": "3",
                "evaluation.poor_blocks": json.dumps(["stars", "nominations"]),
            },
        ),
        metadata=auth(county),
    )

    def replicated() -> bool:
        got = hours.GetHourPolicy(
            pb.GetHourPolicyRequest(division_code=POLICY_TOWN), metadata=auth(county)
        )
        return got.poor_evaluation_max_score == 3 and list(
            got.poor_evaluation_blocks
        ) == ["nominations", "stars"]

    wait_for(replicated, timeout=30, what="the evaluation policy replicated")
    events = listen("record.evaluated")
    record = approve(
        hours, county, served(hours, amqp_uri, county, vol.id, code=POLICY_TOWN).id
    )
    got = evaluate(hours, county, record.id, "3", "一般")
    assert got.poor  # 3 is poor here, not under the default
    data = events.next(lambda b: b["data"]["record_id"] == record.id)["data"]
    assert data["poor"] is True and data["poor_max_score"] == 3
    assert data["poor_blocks"] == ["nominations", "stars"]
    # Elsewhere the default holds: 3 is not poor, nothing is blocked.
    here = approve(hours, county, served(hours, amqp_uri, county, vol.id).id)
    assert not evaluate(hours, county, here.id, "3", "一般").poor
    default = hours.GetHourPolicy(
        pb.GetHourPolicyRequest(division_code=TOWN), metadata=auth(county)
    )
    assert default.poor_evaluation_max_score == 2
    assert list(default.poor_evaluation_blocks) == []
