"""Evaluations and complaints end to end (issue 14): hours' EvaluateRecord,
FileComplaint and DecideComplaint, their events over RabbitMQ, commendation's
worker keeping them, then its gRPC API: a poor evaluation under a policy
that blocks stars and nominations holds the star request and refuses the
nomination; the re-evaluation lifts both, and the nomination's evidence
shows the evaluation and the complaint."""

from __future__ import annotations

import json
from datetime import date, timedelta

import grpc
import pytest
import sqlalchemy as sa
from zhiyuan.commendation.v1 import commendation_pb2 as pb
from zhiyuan.hours.v1 import hours_pb2 as hpb
from zhiyuan.registration.v1 import registration_pb2 as reg

from services.common.testing import wait_for
from tests.helpers import assert_field, auth, rejected
from tests.integration.test_commendation_stars import CITY, COUNTY, Kit
from tests.integration.test_commendation_stars import kit as kit  # noqa: F401

pytestmark = pytest.mark.integration
PLACE = "610122109"  # 葛牌镇: its own evaluation policy, in this module only
BLOCKS = ["nominations", "stars"]


def _policy(kit: Kit) -> None:
    kit.reg.UpdateTenantSettings(
        reg.UpdateTenantSettingsRequest(
            division_code=PLACE,
            set_json={"evaluation.poor_blocks": json.dumps(BLOCKS)},
        ),
        metadata=auth(kit.prov),
    )

    def replicated() -> bool:
        got = kit.hours.GetHourPolicy(
            hpb.GetHourPolicyRequest(division_code=PLACE), metadata=auth(kit.county)
        )
        return sorted(got.poor_evaluation_blocks) == BLOCKS

    wait_for(replicated, timeout=30, what="hours' evaluation policy replica")


def _evaluate(kit: Kit, record_id: str, score: str) -> None:
    kit.hours.EvaluateRecord(
        hpb.EvaluateRecordRequest(record_id=record_id, score=score, comment="评价"),
        metadata=auth(kit.county),
    )


def _fact(kit: Kit, sql: str, **params: str) -> object:
    with kit.engine.connect() as c:
        return c.execute(sa.text(sql), params).scalar()


def test_a_poor_evaluation_holds_stars_and_nominations_until_re_evaluated(
    kit: Kit,
    token,  # type: ignore[no-untyped-def]
) -> None:
    _policy(kit)
    vid = kit.volunteer()
    poor = kit.approved_hours(vid, 1.0, where=PLACE)
    _evaluate(kit, poor, "1")
    kit.approved_hours(vid, 2.0)  # 3 h: one star at Lantian's 2/4/6/8/10 h
    got = kit.wait_stars(vid, lambda s: s.eligible_stars == 1 and bool(s.held_reason))
    assert not got.pending.id and "evaluation.poor_blocks" in got.held_reason

    complaint = kit.hours.FileComplaint(
        hpb.FileComplaintRequest(
            division_code=COUNTY, volunteer_id=vid, text="服务态度差"
        ),
        metadata=auth(kit.county),
    ).complaint
    kit.hours.DecideComplaint(
        hpb.DecideComplaintRequest(id=complaint.id, outcome="upheld", note="属实"),
        metadata=auth(kit.county),
    )
    wait_for(
        lambda: _fact(
            kit, "SELECT status FROM complaint_facts WHERE complaint_id = :c",
            c=complaint.id,
        ) == "upheld",
        timeout=30, what="commendation to keep the complaint's outcome",
    )  # fmt: skip

    city = token(CITY, "tenant_admin", username="xian-office-conduct")
    rid = kit.com.OpenRound(
        pb.OpenRoundRequest(
            division_code=CITY, title="西安市优秀志愿者（评价）", year=2026,
            quota_per_child=5,
            deadline=(date.today() + timedelta(days=20)).isoformat(),
        ),
        metadata=auth(city),
    ).round.id  # fmt: skip

    def nominate() -> pb.Nomination:
        return kit.com.Nominate(
            pb.NominateRequest(
                round_id=rid, category="individual", unit_division_code=COUNTY,
                nominee_volunteer_id=vid, statement="坚持敬老服务。",
            ),
            metadata=auth(kit.county),
        ).nomination  # fmt: skip

    trailers = rejected(nominate, grpc.StatusCode.FAILED_PRECONDITION)
    assert_field(trailers, "nominee_volunteer_id", "evaluation.poor_blocks")
    listed = kit.com.ListNominations(
        pb.ListNominationsRequest(round_id=rid), metadata=auth(city)
    )
    assert list(listed.nominations) == []  # nothing written

    _evaluate(kit, poor, "4")  # re-evaluated: the evaluation no longer poor
    got = kit.wait_stars(vid, lambda s: s.pending.stars == 1)
    assert got.held_reason == ""
    n = nominate()
    assert (n.evidence.evaluated_records, n.evidence.poor_evaluations) == (1, 0)
    assert n.evidence.average_score == pytest.approx(4.0)
    assert n.evidence.complaints_upheld == 1
    assert (n.evidence.complaints_dismissed, n.evidence.complaints_open) == (0, 0)
