"""Evaluations and complaints through hours' use cases, in memory (the
fakes of ``hours_fakes``; tests/integration/test_hours_evaluation.py,
test_hours_complaints.py and the security tier prove the same on
PostgreSQL through gRPC): who may rate a record and replace the rating,
what the event publishes for commendation, a complaint's path from filing
through the volunteer's reply to the outcome, and every refusal writing
nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.common.auth import Principal
from services.common.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from services.hours.models import Complaint, Evaluation
from tests.unit.test_hours_usecases import (
    COUNTY,
    MORNING,
    NOW,
    ORG,
    OTHER_ORG,
    TOWN,
    VID,
    VID2,
    Kit,
    approved,
    draft,
    kit,
    who,
)

__all__ = ["kit"]  # the fixture, used by name


def me(vid: str = VID, home: str = "610113002") -> Principal:
    return Principal(f"a-{vid}", f"N-{vid}", home, frozenset({"volunteer"}), 0,
                     volunteer_id=vid)  # fmt: skip


# -- evaluations -------------------------------------------------------------------


def test_an_approved_record_is_rated_and_the_event_carries_the_policy(
    kit: Kit,
) -> None:
    record = approved(kit)
    found = kit.app.evaluations.evaluate(who(), record.id, "4", " 认真负责 ")
    assert (found.score, found.comment, found.poor, found.replaced) == (
        4, "认真负责", False, 0,
    )  # fmt: skip
    assert (found.division_code, found.evaluator_scope) == (TOWN, COUNTY)
    kind, code, data = kit.uow.events[-1]
    assert (kind, code) == ("hours.record.evaluated", TOWN)
    assert data["score"] == 4 and data["grade"] == "良"
    assert data["previous_score"] is None and data["poor_blocks"] == []
    assert data["poor"] is False and data["poor_max_score"] == 2


def test_a_replacement_supersedes_and_counts_what_it_replaced(kit: Kit) -> None:
    record = approved(kit)
    first = kit.app.evaluations.evaluate(who(), record.id, "5", "优秀")
    second = kit.app.evaluations.evaluate(who("6101"), record.id, "2", "复核")
    assert first.superseded_at == NOW and second.superseded_at is None
    assert second.replaced == 1 and second.poor
    current = [e for e in kit.store.of(Evaluation) if e.superseded_at is None]
    assert current == [second]
    assert kit.uow.events[-1][2]["previous_score"] == 5


def test_an_office_below_or_beside_the_rater_cannot_replace_it(kit: Kit) -> None:
    record = approved(kit)
    first = kit.app.evaluations.evaluate(who(), record.id, "4", "良好")
    with pytest.raises(PermissionDenied) as err:
        kit.app.evaluations.evaluate(who(TOWN), record.id, "1", "差")
    assert err.value.rule == "evaluation.same_office"
    assert kit.store.of(Evaluation) == [first] and first.superseded_at is None


def test_the_tenant_policy_makes_a_score_poor_and_names_what_it_blocks(
    kit: Kit,
) -> None:
    kit.store.set_policy(
        COUNTY,
        **{"evaluation.poor_max_score": 3, "evaluation.poor_blocks": ["stars"]},
    )
    record = approved(kit)
    found = kit.app.evaluations.evaluate(who(), record.id, "3", "一般")
    assert found.poor
    data = kit.uow.events[-1][2]
    assert data["poor"] is True and data["poor_blocks"] == ["stars"]


def test_only_an_approved_record_in_scope_is_rated(kit: Kit) -> None:
    pending = kit.ingest(draft(MORNING + timedelta(hours=5)))
    assert pending is not None
    with pytest.raises(FailedPrecondition) as err:
        kit.app.evaluations.evaluate(who(), pending.id, "3", "一般")
    assert err.value.rule == "evaluation.approved_only"
    record = approved(kit)
    with pytest.raises(NotFound):
        kit.app.evaluations.evaluate(who("610103"), record.id, "3", "一般")
    with pytest.raises(PermissionDenied):  # another organisation's leader
        kit.app.evaluations.evaluate(
            who(COUNTY, "org_leader", org=OTHER_ORG), record.id, "3", "一般"
        )
    assert kit.store.of(Evaluation) == []
    leader = who(COUNTY, "org_leader", org=ORG)
    assert kit.app.evaluations.evaluate(leader, record.id, "5", "好").score == 5


@pytest.mark.parametrize("score", ["0", "6", "５", "4.5", "", "优"])
def test_a_bad_score_is_refused_before_anything_is_read(kit: Kit, score: str) -> None:
    record = approved(kit)
    events = len(kit.uow.events)
    with pytest.raises(InvalidArgument) as err:
        kit.app.evaluations.evaluate(who(), record.id, score, "x")
    assert err.value.field == "score"
    assert kit.store.of(Evaluation) == [] and len(kit.uow.events) == events


# -- complaints --------------------------------------------------------------------


def test_filed_replied_and_decided(kit: Kit) -> None:
    record = approved(kit)
    filed = kit.app.complaints.file(who(), "", VID, record.id, "中途离开")
    assert (filed.division_code, filed.status, filed.record_id) == (
        COUNTY, "open", record.id,
    )  # fmt: skip
    assert filed.volunteer_number == f"N-{VID}" and filed.organisation_id == ""
    assert kit.uow.events[-1][:2] == ("hours.complaint.filed", COUNTY)
    assert "text" not in kit.uow.events[-1][2]
    answered = kit.app.complaints.reply(me(), filed.id, "已请假")
    assert (answered.status, answered.reply, answered.replied_at) == (
        "replied", "已请假", NOW,
    )  # fmt: skip
    with pytest.raises(FailedPrecondition):
        kit.app.complaints.reply(me(), filed.id, "再说一次")
    done = kit.app.complaints.decide(who(), filed.id, "Dismissed", "属实请假")
    assert (done.status, done.decided_by, done.decided_at) == (
        "dismissed", f"u-{COUNTY}", NOW,
    )  # fmt: skip
    assert [t for t, _, _ in kit.uow.events][-3:] == [
        "hours.complaint.filed",
        "hours.complaint.replied",
        "hours.complaint.decided",
    ]
    with pytest.raises(FailedPrecondition):
        kit.app.complaints.decide(who(), filed.id, "upheld", "改判")


def test_a_volunteer_replies_to_its_own_complaint_only(kit: Kit) -> None:
    approved(kit)
    filed = kit.app.complaints.file(who(), "", VID, "", "迟到")
    with pytest.raises(NotFound) as err:
        kit.app.complaints.reply(me(VID2), filed.id, "不是我")
    assert err.value.field == "id"
    with pytest.raises(PermissionDenied):  # an office account is no volunteer
        kit.app.complaints.reply(who(), filed.id, "x")
    assert filed.status == "open" and filed.reply == ""


def test_a_complaint_needs_service_in_the_offices_subtree(kit: Kit) -> None:
    record = approved(kit)
    for code, volunteer in ((COUNTY, VID2), ("610103", VID)):
        with pytest.raises((NotFound, PermissionDenied)):
            kit.app.complaints.file(who(code), "", volunteer, "", "x")
    with pytest.raises(NotFound) as err:  # a record outside the node
        kit.app.complaints.file(who("61"), "610103", VID, record.id, "x")
    assert err.value.field == "record_id"
    other = kit.ingest(draft(MORNING + timedelta(hours=6), vid=VID2))
    assert other is not None
    with pytest.raises(InvalidArgument) as bad:
        kit.app.complaints.file(who(), "", VID, other.id, "x")
    assert bad.value.rule == "record_id.volunteer"
    assert kit.store.of(Complaint) == []


def test_an_organisation_leader_files_and_decides_for_its_own_only(kit: Kit) -> None:
    record = approved(kit)
    ours, theirs = (
        who(COUNTY, "org_leader", org=ORG),
        who(COUNTY, "org_leader", org=OTHER_ORG),
    )
    filed = kit.app.complaints.file(ours, "", VID, "", "未穿马甲")
    assert filed.organisation_id == ORG
    with pytest.raises(NotFound):
        kit.app.complaints.file(theirs, "", VID, "", "x")
    with pytest.raises(PermissionDenied):
        kit.app.complaints.file(theirs, "", VID, record.id, "x")
    with pytest.raises(PermissionDenied):
        kit.app.complaints.decide(theirs, filed.id, "upheld", "x")
    office = kit.app.complaints.file(who(), "", VID, "", "办公室登记")
    with pytest.raises(PermissionDenied):
        kit.app.complaints.decide(ours, office.id, "upheld", "x")
    assert kit.app.complaints.decide(ours, filed.id, "upheld", "属实").status == (
        "upheld"
    )


def test_a_bad_outcome_or_text_writes_nothing(kit: Kit) -> None:
    approved(kit)
    filed = kit.app.complaints.file(who(), "", VID, "", "迟到")
    for call, rule in (
        (lambda: kit.app.complaints.decide(who(), filed.id, "maybe", "x"),
         "outcome.choice"),
        (lambda: kit.app.complaints.decide(who(), filed.id, "upheld", "a\rb"),
         "note.characters"),
        (lambda: kit.app.complaints.reply(me(), filed.id, "长" * 1001),
         "reply.max_length"),
        (lambda: kit.app.complaints.file(who(), "", VID, "", "a\rb"),
         "text.characters"),
    ):  # fmt: skip
        with pytest.raises(InvalidArgument) as err:
            call()
        assert err.value.rule == rule
    assert kit.store.of(Complaint) == [filed] and filed.status == "open"
