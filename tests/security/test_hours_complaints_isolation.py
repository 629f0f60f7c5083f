"""Evaluations and complaints across tenants (issue 14), with real ids
harvested from other tenants: a neighbour county's (Beilin, 610103) and a
parent's (the city of Xi'an, 6101, serving in Lianhu 610104), next to ids
that exist nowhere. The owner is Yanta (610113).

- A volunteer replies only to a complaint about itself: another
  volunteer's (same home, or another county's) is NOT_FOUND exactly like a
  random id, and nothing is written.
- The owner cannot decide a neighbour's or a parent's complaint, cannot
  file one naming a neighbour's or a parent's volunteer or record, and
  cannot evaluate their records: each NOT_FOUND like a random id, with
  nothing written. Their own offices can (the refusal is no blanket one).

The per-RPC matrix of office callers is in test_hours_isolation.py; the
fields' rows of the reference matrix point here for the ids of complaints.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from zhiyuan.hours.v1 import hours_pb2 as pb

from tests.helpers import auth
from tests.integration.test_hours_flow import (
    approve,
    arrived,
    attendance,
    pin_policy,
    publish,
    slot,
    verified_volunteer,
)
from tests.integration.test_hours_self_service import volunteer_token
from tests.security.matrix import PD, check_indistinguishable, national_token, outcome

pytestmark = pytest.mark.integration

OWNER, TOWN = "610113", "610113007"
NEIGHBOUR, N_TOWN = "610103", "610103005"
PARENT, P_TOWN = "6101", "610104002"


def written() -> tuple[int, ...]:
    """Evaluations and complaints, with replies and decisions, as the
    database's owner sees them (no call shows all of it)."""
    engine = create_engine(os.environ["HOURS_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return tuple(
                int(conn.execute(text(sql)).scalar_one())
                for sql in (
                    "SELECT count(*) FROM hour_evaluations",
                    "SELECT count(*) FROM hour_complaints",
                    "SELECT count(*) FROM hour_complaints WHERE reply <> ''",
                    "SELECT count(*) FROM hour_complaints WHERE status = 'open'",
                )
            )
    finally:
        engine.dispose()


@dataclass
class Party:
    """An office, its volunteer (served and approved at ``town``), the
    volunteer's token and an open complaint of the office about it."""

    office: str
    vol: Any
    me: str
    record: pb.HourRecord
    complaint: pb.Complaint


def party(
    hours: Any, stub: Any, token: Any, amqp: str, office: str, town: str
) -> Party:
    tok = token(office)
    pin_policy(stub, hours, tok, town)
    vol = verified_volunteer(stub, tok, home=town)
    body = attendance(
        vol.id, slot(), 60, code=town, volunteer_number=vol.volunteer_number
    )
    publish(amqp, "attendance.checked_out", body)
    record = approve(hours, tok, arrived(hours, tok, body).id)
    complaint = hours.FileComplaint(
        pb.FileComplaintRequest(volunteer_id=vol.id, text="未按约定到岗"),
        metadata=auth(tok),
    ).complaint
    return Party(office, vol, volunteer_token(vol, town), record, complaint)


@pytest.fixture(scope="module")
def world(stubs, stub, token, worker, amqp_uri):  # type: ignore[no-untyped-def]
    hours = stubs("hours")
    return hours, {
        "owner": party(hours, stub, token, amqp_uri, OWNER, TOWN),
        "housemate": party(hours, stub, token, amqp_uri, OWNER, TOWN),
        "neighbour": party(hours, stub, token, amqp_uri, NEIGHBOUR, N_TOWN),
        "parent": party(hours, stub, token, amqp_uri, PARENT, P_TOWN),
    }


def _reply(hours: Any, tok: str, ident: str) -> Any:
    return hours.ReplyToComplaint(
        pb.ReplyToComplaintRequest(id=ident, reply="不是我"), metadata=auth(tok)
    )


@pytest.mark.parametrize("other", ["housemate", "neighbour", "parent"])
def test_a_volunteer_replies_only_to_a_complaint_about_itself(world, other):
    hours, by = world
    me, them = by["owner"], by[other]
    before = written()
    check_indistinguishable(
        lambda ident: _reply(hours, me.me, ident), them.complaint.id, str(uuid.uuid4())
    )
    assert written() == before
    listed = hours.ListMyComplaints(
        pb.ListMyComplaintsRequest(), metadata=auth(me.me)
    ).complaints
    assert [c.id for c in listed] == [me.complaint.id]


@pytest.mark.parametrize("other", ["neighbour", "parent"])
def test_the_owner_cannot_decide_anothers_complaint(world, token, other):
    hours, by = world
    them = by[other]

    def decide(tok: str, ident: str) -> Any:
        return hours.DecideComplaint(
            pb.DecideComplaintRequest(id=ident, outcome="upheld", note="属实"),
            metadata=auth(tok),
        )

    before = written()
    check_indistinguishable(
        lambda ident: decide(token(OWNER), ident),
        them.complaint.id,
        str(uuid.uuid4()),
    )
    assert written() == before
    listed = hours.ListComplaints(
        pb.ListComplaintsRequest(), metadata=auth(token(OWNER))
    ).complaints
    assert them.complaint.id not in {c.id for c in listed}


@pytest.mark.parametrize("other", ["neighbour", "parent"])
def test_the_owner_cannot_name_anothers_volunteer_or_record(world, token, other):
    hours, by = world
    them, ours = by[other], by["owner"]
    tok = token(OWNER)

    def about_volunteer(ident: str) -> Any:
        return hours.FileComplaint(
            pb.FileComplaintRequest(volunteer_id=ident, text="x"), metadata=auth(tok)
        )

    def about_record(ident: str) -> Any:
        return hours.FileComplaint(
            pb.FileComplaintRequest(
                volunteer_id=ours.vol.id, record_id=ident, text="x"
            ),
            metadata=auth(tok),
        )

    def evaluate(ident: str) -> Any:
        return hours.EvaluateRecord(
            pb.EvaluateRecordRequest(record_id=ident, score="1", comment="差"),
            metadata=auth(tok),
        )

    before = written()
    check_indistinguishable(about_volunteer, them.vol.id, str(uuid.uuid4()))
    check_indistinguishable(about_record, them.record.id, str(uuid.uuid4()))
    check_indistinguishable(evaluate, them.record.id, str(uuid.uuid4()))
    assert written() == before


def test_each_office_acts_on_its_own(world, token):
    """The refusals above are about tenancy: each party's own office
    evaluates its record and decides its complaint; each volunteer answers
    its own."""
    hours, by = world
    for who in ("neighbour", "parent"):
        them = by[who]
        tok = token(them.office)
        rated = hours.EvaluateRecord(
            pb.EvaluateRecordRequest(record_id=them.record.id, score="5", comment="好"),
            metadata=auth(tok),
        ).evaluation
        assert rated.record_id == them.record.id
        answered = _reply(hours, them.me, them.complaint.id).complaint
        assert answered.status == pb.COMPLAINT_STATUS_REPLIED
        done = hours.DecideComplaint(
            pb.DecideComplaintRequest(
                id=them.complaint.id, outcome="dismissed", note="核实无此事"
            ),
            metadata=auth(tok),
        ).complaint
        assert done.status == pb.COMPLAINT_STATUS_DISMISSED


def test_the_nation_decides_files_and_evaluates_nothing(world):
    """The national account (scope CN) is refused every complaint and
    evaluation call on the owner's own entities, by rule scope.national,
    and nothing is written."""
    hours, by = world
    ours, nation = by["owner"], auth(national_token())
    calls = {
        "DecideComplaint": lambda: hours.DecideComplaint(
            pb.DecideComplaintRequest(id=ours.complaint.id, outcome="upheld",
                                      note="属实"), metadata=nation),
        "FileComplaint": lambda: hours.FileComplaint(
            pb.FileComplaintRequest(volunteer_id=ours.vol.id, text="x"),
            metadata=nation),
        "EvaluateRecord": lambda: hours.EvaluateRecord(
            pb.EvaluateRecordRequest(record_id=ours.record.id, score="1",
                                     comment="差"), metadata=nation),
        "ListComplaints": lambda: hours.ListComplaints(
            pb.ListComplaintsRequest(), metadata=nation),
    }  # fmt: skip
    before = written()
    for name, call in calls.items():
        status, err = outcome(call)
        assert status == PD, name
        assert dict(err.trailing_metadata())["zhiyuan-rule"] == "scope.national"
    assert written() == before
