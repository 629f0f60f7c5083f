"""Award rounds against the real services: evidence and fraud signals
fetched over gRPC from registration and hours, bars, return and resubmit,
collective nominations, and a barred nominee withdrawn at the award."""

from __future__ import annotations

from datetime import date, timedelta

import grpc
import pytest
import sqlalchemy as sa
from zhiyuan.activity.v1 import activity_pb2 as apb
from zhiyuan.commendation.v1 import commendation_pb2 as pb
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.hours.v1 import hours_pb2 as hpb

from tests.helpers import auth
from tests.integration.test_commendation_stars import CITY, COUNTY, Kit
from tests.integration.test_commendation_stars import kit as kit  # noqa: F401

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def round_id(kit: Kit, token) -> str:  # type: ignore[no-untyped-def]
    city_admin = token(CITY, "tenant_admin", username="xian-office")
    got = kit.com.OpenRound(
        pb.OpenRoundRequest(
            division_code=CITY, title="西安市优秀志愿者推选", year=2026,
            quota_per_child=5,
            deadline=(date.today() + timedelta(days=20)).isoformat(),
        ),
        metadata=auth(city_admin),
    )  # fmt: skip
    return str(got.round.id)


def nominate(kit: Kit, rid: str, vid: str = "", **over) -> pb.Nomination:  # type: ignore[no-untyped-def]
    req = dict(
        round_id=rid, category="individual", unit_division_code=COUNTY,
        nominee_volunteer_id=vid, statement="坚持敬老服务三年。",
    )  # fmt: skip
    req.update(over)
    return kit.com.Nominate(
        pb.NominateRequest(**req), metadata=auth(kit.county)
    ).nomination


def review(kit: Kit, tok: str, nid: str, decision: int, comment: str = ""):  # type: ignore[no-untyped-def]
    return kit.com.ReviewNomination(
        pb.ReviewNominationRequest(id=nid, decision=decision, comment=comment),
        metadata=auth(tok),
    ).nomination


def test_evidence_and_fraud_signals_come_from_the_records(kit: Kit, round_id: str):
    vid = kit.volunteer()
    clean = kit.approved_hours(vid, 3.0)
    amended = kit.approved_hours(vid, 2.0)
    reversed_ = kit.approved_hours(vid, 1.5)
    kit.hours.CorrectRecord(
        hpb.CorrectRecordRequest(record_id=amended, new_hours=1.0, reason="签退有误"),
        metadata=auth(kit.county),
    )
    kit.hours.CorrectRecord(
        hpb.CorrectRecordRequest(record_id=reversed_, reverse=True, reason="重复录入"),
        metadata=auth(kit.county),
    )
    n = nominate(kit, round_id, vid)
    # The county office nominates: its own level is its check; the city reviews.
    assert list(n.stage_codes) == [CITY] and n.current_stage_code == CITY
    assert n.evidence.approved_hours == pytest.approx(4.0)
    assert n.evidence.approved_records == 2
    assert len(n.evidence.activities) == 3 and "敬老院陪护" in n.evidence.activities[0]
    assert {s.code for s in n.signals} == {"hours_corrected", "hours_reversed"}
    assert clean  # the clean record raises no signal of its own


def test_a_barred_nominee_is_flagged_and_never_awarded(kit: Kit, token) -> None:  # type: ignore[no-untyped-def]
    city_admin = token(CITY, "tenant_admin", username="xian-office")
    rid = kit.com.OpenRound(
        pb.OpenRoundRequest(
            division_code=CITY, title="禁评检验", year=2026, quota_per_child=5,
            deadline=(date.today() + timedelta(days=20)).isoformat(),
        ),
        metadata=auth(city_admin),
    ).round.id  # fmt: skip
    vid = kit.volunteer()
    kit.approved_hours(vid, 2.0)
    bar = kit.com.BarVolunteer(
        pb.BarVolunteerRequest(
            volunteer_id=vid, years=2, reason="伙同组织虚报服务时长",
            organisation_name="某志愿服务队",
        ),
        metadata=auth(kit.county),
    ).bar  # fmt: skip
    assert (
        date.fromisoformat(bar.ends_on).year
        == date.fromisoformat(bar.starts_on).year + 2
    )
    listed = kit.com.ListBars(
        pb.ListBarsRequest(active_only=True), metadata=auth(kit.county)
    ).bars
    assert vid in {b.volunteer_id for b in listed}

    n = nominate(kit, rid, vid)
    assert "barred" in {s.code for s in n.signals}
    review(kit, kit.city, n.id, pb.DECISION_APPROVE)
    kit.com.StartNotice(pb.StartNoticeRequest(round_id=rid), metadata=auth(city_admin))
    with kit.engine.begin() as db:
        db.execute(
            sa.text("UPDATE award_rounds SET notice_ends_on=:d WHERE id=:r"),
            {"d": date.today() - timedelta(days=2), "r": rid},
        )
    final = kit.com.FinalizeRound(
        pb.FinalizeRoundRequest(round_id=rid), metadata=auth(city_admin)
    )
    assert (final.awarded, final.withdrawn) == (0, 1)
    got = kit.com.GetNomination(
        pb.GetNominationRequest(id=n.id), metadata=auth(kit.city)
    )
    assert got.nomination.status == pb.NOMINATION_STATUS_WITHDRAWN
    assert "barred" in got.nomination.status_reason


def test_return_resubmit_then_reject(kit: Kit, round_id: str) -> None:
    vid = kit.volunteer()
    n = nominate(kit, round_id, vid)
    with pytest.raises(grpc.RpcError) as err:  # returning needs a reason
        review(kit, kit.city, n.id, pb.DECISION_RETURN)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    back = review(kit, kit.city, n.id, pb.DECISION_RETURN, "请补充服务记录")
    assert back.status == pb.NOMINATION_STATUS_RETURNED and not back.current_stage_code
    again = kit.com.ResubmitNomination(
        pb.ResubmitNominationRequest(id=n.id, statement="补充：2026年服务记录齐全。"),
        metadata=auth(kit.county),
    ).nomination
    assert again.status == pb.NOMINATION_STATUS_IN_REVIEW
    assert again.current_stage_code == CITY
    assert again.statement.startswith("补充")
    no = review(kit, kit.city, n.id, pb.DECISION_REJECT, "事迹不够突出")
    assert no.status == pb.NOMINATION_STATUS_REJECTED
    assert [s.decision for s in no.steps] == [
        pb.DECISION_RETURN, pb.DECISION_REJECT,
    ]  # fmt: skip
    with pytest.raises(grpc.RpcError) as err:
        review(kit, kit.city, n.id, pb.DECISION_APPROVE)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_a_collective_is_nominated_with_its_projects_as_evidence(
    kit: Kit, round_id: str, stubs
) -> None:  # type: ignore[no-untyped-def]
    projects = (
        stubs("activity")
        .ListProjects(
            apb.ListProjectsRequest(
                division_code=COUNTY, page=common.PageRequest(page_size=1)
            ),
            metadata=auth(kit.county),
        )
        .page.total_size
    )
    n = nominate(
        kit, round_id, category="collective", nominee_name="蓝田县助老服务队",
        nominee_division_code=COUNTY,
    )  # fmt: skip
    assert n.nominee_name == "蓝田县助老服务队" and not n.nominee_volunteer_id
    assert n.evidence.projects == projects
    assert not n.signals
