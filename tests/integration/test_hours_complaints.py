"""Complaints (投诉, issue 14) on the real servers: an office records a
complaint about a volunteer who served in its subtree (optionally about one
record); the volunteer sees it in its own list and replies once; the office
decides, upheld or dismissed, with a note, which the volunteer then sees;
each step is an event (hours.complaint.filed, .replied, .decided). An
organisation leader files and decides its own organisation's complaints
only; a complaint about a volunteer who never served here is NOT_FOUND."""

from __future__ import annotations

import os
import uuid
from typing import Any

import grpc
import pytest
from sqlalchemy import create_engine, text
from zhiyuan.hours.v1 import hours_pb2 as pb

from tests.helpers import assert_field, auth, rejected
from tests.integration import test_hours_flow as flow
from tests.integration.test_hours_flow import (
    COUNTY,
    TOWN,
    approve,
    arrived,
    attendance,
    publish,
    slot,
    verified_volunteer,
)
from tests.integration.test_hours_self_service import volunteer_token

pytestmark = pytest.mark.integration
hours, listen = flow.hours, flow.listen  # the flow tests' fixtures
policy = flow.policy  # the default hour policy pinned at TOWN
ORG = "0b6c4a8e-2222-4000-8000-00000000c001"
OTHER_ORG = "0b6c4a8e-2222-4000-8000-00000000c002"


def count(sql: str, **params: Any) -> int:
    engine = create_engine(os.environ["HOURS_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql), params).scalar_one())
    finally:
        engine.dispose()


def file(hours: Any, tok: str, **fields: Any) -> pb.Complaint:
    return hours.FileComplaint(
        pb.FileComplaintRequest(**fields), metadata=auth(tok)
    ).complaint


def mine(hours: Any, tok: str, **filters: Any) -> list[pb.Complaint]:
    return list(
        hours.ListMyComplaints(
            pb.ListMyComplaintsRequest(**filters), metadata=auth(tok)
        ).complaints
    )


def reply(hours: Any, tok: str, ident: str, words: str) -> pb.Complaint:
    return hours.ReplyToComplaint(
        pb.ReplyToComplaintRequest(id=ident, reply=words), metadata=auth(tok)
    ).complaint


def decide(hours: Any, tok: str, ident: str, outcome: str, note: str) -> Any:
    return hours.DecideComplaint(
        pb.DecideComplaintRequest(id=ident, outcome=outcome, note=note),
        metadata=auth(tok),
    ).complaint


@pytest.fixture(scope="module")
def served(hours, stub, token, worker, amqp_uri):  # type: ignore[no-untyped-def]
    """A volunteer with an approved record of ORG at TOWN, its token, and
    the record."""
    county = token(COUNTY)
    vol = verified_volunteer(stub, county)
    body = attendance(
        vol.id, slot(), 120, organisation_id=ORG,
        volunteer_number=vol.volunteer_number,
    )  # fmt: skip
    publish(amqp_uri, "attendance.checked_out", body)
    record = approve(hours, county, arrived(hours, county, body).id)
    return vol, volunteer_token(vol), record


def test_filed_replied_decided_and_seen_by_the_volunteer(hours, token, served, listen):
    vol, me, record = served
    county = token(COUNTY, username="yanta-office")
    filed, replied, decided = (
        listen("complaint.filed"),
        listen("complaint.replied"),
        listen("complaint.decided"),
    )
    got = file(
        hours, county, volunteer_id=vol.id, record_id=record.id,
        text="活动中途离开，未完成交接",
    )  # fmt: skip
    assert got.status == pb.COMPLAINT_STATUS_OPEN and got.division_code == COUNTY
    assert (got.volunteer_id, got.record_id) == (vol.id, record.id)
    assert got.volunteer_number == vol.volunteer_number
    assert got.filed_by == "yanta-office" and got.organisation_id == ""
    queue = hours.ListComplaints(
        pb.ListComplaintsRequest(status=pb.COMPLAINT_STATUS_OPEN, volunteer_id=vol.id),
        metadata=auth(county),
    ).complaints
    assert [c.id for c in queue] == [got.id]
    event = filed.next(lambda b: b["data"]["complaint_id"] == got.id)
    assert event["event_type"] == "hours.complaint.filed"
    assert "text" not in event["data"]  # what was said stays in hours

    assert [c.id for c in mine(hours, me)] == [got.id]
    answered = reply(hours, me, got.id, "当天家中有急事，已向队长请假")
    assert answered.status == pb.COMPLAINT_STATUS_REPLIED
    assert answered.reply == "当天家中有急事，已向队长请假" and answered.replied_at
    assert (
        replied.next(lambda b: b["data"]["complaint_id"] == got.id)["data"]["status"]
        == "replied"
    )
    # One reply: the answer stands as given.
    trailers = rejected(
        lambda: reply(hours, me, got.id, "补充说明"),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert trailers.get("zhiyuan-rule") == "state.transition"
    assert mine(hours, me)[0].reply == "当天家中有急事，已向队长请假"

    done = decide(hours, county, got.id, "dismissed", "核实已请假，投诉不成立")
    assert done.status == pb.COMPLAINT_STATUS_DISMISSED
    assert done.decided_by == "yanta-office" and done.decision_note
    assert (
        decided.next(lambda b: b["data"]["complaint_id"] == got.id)["data"]["status"]
        == "dismissed"
    )
    seen = mine(hours, me, status=pb.COMPLAINT_STATUS_DISMISSED)
    assert [(c.id, c.decision_note) for c in seen] == [
        (got.id, "核实已请假，投诉不成立")
    ]
    # Decided once.
    rejected(
        lambda: decide(hours, county, got.id, "upheld", "改判"),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert count("SELECT count(*) FROM hour_complaints WHERE id = :i AND status"
                 " = 'dismissed'", i=got.id) == 1  # fmt: skip


def test_an_unanswered_complaint_may_be_upheld_and_then_not_answered(
    hours, token, served
):
    vol, me, _ = served
    county = token(COUNTY)
    got = file(hours, county, volunteer_id=vol.id, text="服务态度生硬")
    done = decide(hours, county, got.id, "upheld", "经走访核实")
    assert done.status == pb.COMPLAINT_STATUS_UPHELD and done.reply == ""
    rejected(
        lambda: reply(hours, me, got.id, "迟到的解释"),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert count("SELECT count(*) FROM hour_complaints WHERE id = :i AND reply"
                 " = ''", i=got.id) == 1  # fmt: skip


def test_a_volunteer_who_never_served_here_cannot_be_complained_about(
    hours, stub, token, served
):
    county = token(COUNTY)
    stranger = verified_volunteer(stub, county)  # registered here, no service
    before = count("SELECT count(*) FROM hour_complaints")
    for ident in (stranger.id, str(uuid.uuid4())):
        trailers = rejected(
            lambda i=ident: file(hours, county, volunteer_id=i, text="x"),
            grpc.StatusCode.NOT_FOUND,
        )
        assert_field(trailers, "volunteer_id", "volunteer_id.exists")
    assert count("SELECT count(*) FROM hour_complaints") == before


def test_an_organisation_leader_acts_for_its_own_organisation_only(
    hours, token, served
):
    vol, _, record = served
    ours, theirs = (
        token(COUNTY, "org_leader", org=ORG),
        token(COUNTY, "org_leader", org=OTHER_ORG),
    )
    got = file(hours, ours, volunteer_id=vol.id, record_id=record.id, text="未穿马甲")
    assert got.organisation_id == ORG
    before = count("SELECT count(*) FROM hour_complaints")
    # Another organisation's leader: the volunteer never served it here.
    trailers = rejected(
        lambda: file(hours, theirs, volunteer_id=vol.id, text="x"),
        grpc.StatusCode.NOT_FOUND,
    )
    assert_field(trailers, "volunteer_id", "volunteer_id.exists")
    trailers = rejected(
        lambda: file(hours, theirs, volunteer_id=vol.id, record_id=record.id, text="x"),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    assert_field(trailers, "volunteer_id", "organisation.own")
    assert count("SELECT count(*) FROM hour_complaints") == before
    rejected(
        lambda: decide(hours, theirs, got.id, "upheld", "x"),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    office = file(hours, token(COUNTY), volunteer_id=vol.id, text="办公室登记")
    rejected(
        lambda: decide(hours, ours, office.id, "upheld", "x"),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    assert decide(hours, ours, got.id, "upheld", "属实").status == (
        pb.COMPLAINT_STATUS_UPHELD
    )


def test_a_complaint_about_a_record_must_name_the_volunteers_record(
    hours, token, served, amqp_uri
):
    vol, _, _ = served
    county = token(COUNTY)
    body = attendance(str(uuid.uuid4()), slot(), 60, code=TOWN)
    publish(amqp_uri, "attendance.checked_out", body)
    someone_elses = arrived(hours, county, body)
    trailers = rejected(
        lambda: file(
            hours, county, volunteer_id=vol.id, record_id=someone_elses.id, text="x"
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert_field(trailers, "record_id", "record_id.volunteer")
