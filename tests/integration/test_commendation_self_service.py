"""A volunteer's own stars, the way to the next star and honours
(GetMyStars, ``GET /api/v1/me/stars``) against the real services: hours
recorded and approved in hours, the events relayed over RabbitMQ,
commendation's worker rating them, reviewers approving; the star settings
are the home's, as the star rule's are. And a resident's (a volunteer
account's) view of the award rounds of their area: the public notice and the
objection form, through the office routes that already take them.

The tokens are a volunteer's own account's: roles ["volunteer"], the scope
of the home, claim ``vol`` (signed with the test keys)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from zhiyuan.commendation.v1 import commendation_pb2 as pb

from services.common.auth import TokenIssuer
from services.common.config import load
from services.common.rollup import CST
from services.common.testing import PRIVATE_PEM, wait_for
from services.gateway.app import create_app
from tests.helpers import auth, ok
from tests.integration.test_commendation_stars import CITY, COUNTY, TOWN, Kit
from tests.integration.test_commendation_stars import kit as kit  # noqa: F401

pytestmark = pytest.mark.integration

ISSUER = TokenIssuer(PRIVATE_PEM, "zhiyuan", "zhiyuan")
# The county's thresholds (test_commendation_stars.SETTINGS): 2, 4, 6, 8, 10 h.
OWN_TOWN = "610122108"  # 普化镇: thresholds of its own, in this module only
OWN_RULE = [1, 3, 5, 7, 9]
FAR_TOWN = "610204001"  # a street of 耀州区, in the neighbouring city


def own_token(vid: str, home: str = TOWN, issuer: TokenIssuer = ISSUER) -> str:
    """The token of volunteer ``vid``'s own account."""
    value, _ = issuer.issue(
        subject=f"acct-{vid}", username=f"V{vid[:8]}", scope_code=home,
        roles=["volunteer"], volunteer_id=vid,
    )  # fmt: skip
    return value


def mine(kit: Kit, vid: str, home: str = TOWN) -> pb.GetMyStarsResponse:
    return kit.com.GetMyStars(
        pb.GetMyStarsRequest(), metadata=auth(own_token(vid, home))
    )


def wait_hours(kit: Kit, vid: str, hours: float, home: str = TOWN) -> None:
    wait_for(
        lambda: mine(kit, vid, home).hours_counted == pytest.approx(hours),
        timeout=30, what="commendation to follow the hours",
    )  # fmt: skip


def approve_pending(kit: Kit, vid: str, stars: int, tok: str = "") -> None:
    req = kit.wait_stars(vid, lambda s: s.pending.stars == stars).pending
    kit.com.ApproveStarRequest(
        pb.ApproveStarRequestRequest(id=req.id), metadata=auth(tok or kit.county)
    )


def way(got: pb.GetMyStarsResponse) -> tuple[Any, ...]:
    return (
        got.stars, got.hours_counted, got.next_star, got.next_star_hours,
        got.hours_to_next, got.progress, got.pending_request, got.pending_stars,
    )  # fmt: skip


# -- stars and the way to the next -----------------------------------------------------


def test_a_volunteer_with_no_rating_yet_sees_the_first_star_ahead(kit: Kit) -> None:
    vid = kit.volunteer()  # verified, no hours: commendation has no rating
    got = mine(kit, vid)
    assert way(got) == (0, 0.0, 1, 2.0, 2.0, 0.0, False, 0)
    assert list(got.honours) == []


def test_zero_stars_with_hours_below_the_first(kit: Kit) -> None:
    vid = kit.volunteer()
    kit.approved_hours(vid, 1.5)
    wait_hours(kit, vid, 1.5)
    assert way(mine(kit, vid)) == (0, 1.5, 1, 2.0, 0.5, 0.75, False, 0)


def test_a_pending_request_shows_and_the_way_is_complete(kit: Kit) -> None:
    vid = kit.volunteer()
    kit.approved_hours(vid, 2.5)  # one star's tier: the county must approve
    kit.wait_stars(vid, lambda s: s.pending.stars == 1)
    assert way(mine(kit, vid)) == (0, 2.5, 1, 2.0, 0.0, 1.0, True, 1)


def test_in_between_two_stars(kit: Kit) -> None:
    vid = kit.volunteer()
    kit.approved_hours(vid, 3.0)
    approve_pending(kit, vid, 1)
    assert way(mine(kit, vid)) == (1, 3.0, 2, 4.0, 1.0, 0.5, False, 0)


def test_at_a_threshold_the_way_to_the_next_starts_at_zero(kit: Kit) -> None:
    vid = kit.volunteer()
    kit.approved_hours(vid, 4.0)  # exactly two stars' threshold
    approve_pending(kit, vid, 2)
    assert way(mine(kit, vid)) == (2, 4.0, 3, 6.0, 2.0, 0.0, False, 0)


def test_at_five_stars_there_is_no_next_star(kit: Kit) -> None:
    vid = kit.volunteer()
    kit.approved_hours(vid, 10.5)  # five stars at once: the province approves
    approve_pending(kit, vid, 5, kit.prov)
    assert way(mine(kit, vid)) == (5, 10.5, 0, 0.0, 0.0, 1.0, False, 0)


def test_the_thresholds_are_the_homes_as_the_star_rule_applies_them(
    kit: Kit,
) -> None:
    kit.set_thresholds(OWN_TOWN, OWN_RULE)
    wait_for(lambda: kit.replicated_thresholds(OWN_TOWN) == OWN_RULE, timeout=30,
             what="commendation's settings replica")  # fmt: skip
    vid = kit.volunteer(home=OWN_TOWN)
    assert mine(kit, vid, OWN_TOWN).next_star_hours == 1.0  # no rating yet
    kit.approved_hours(vid, 2.0, where=OWN_TOWN)
    approve_pending(kit, vid, 1)  # the rule opened one star at 1 h, not 2
    assert way(mine(kit, vid, OWN_TOWN)) == (1, 2.0, 2, 3.0, 1.0, 0.5, False, 0)


# -- honours -------------------------------------------------------------------------


def on_notice(kit: Kit, token: Any, title: str, *vids: str) -> tuple[str, list[str]]:
    """A city round, a county nomination of each of ``vids`` approved by the
    city, on public notice: the round's id and the nominations'."""
    city_admin = token(CITY, "tenant_admin", username="xian-office")
    rid = kit.com.OpenRound(
        pb.OpenRoundRequest(
            division_code=CITY, title=title, year=datetime.now(CST).year,
            quota_per_child=5,
            deadline=(date.today() + timedelta(days=20)).isoformat(),
        ),
        metadata=auth(city_admin),
    ).round.id  # fmt: skip
    nids = []
    for vid in vids:
        n = kit.com.Nominate(
            pb.NominateRequest(
                round_id=rid, category="individual", unit_division_code=COUNTY,
                nominee_volunteer_id=vid, statement="坚持敬老服务三年。",
            ),
            metadata=auth(kit.county),
        ).nomination  # fmt: skip
        kit.com.ReviewNomination(
            pb.ReviewNominationRequest(id=n.id, decision=pb.DECISION_APPROVE),
            metadata=auth(kit.city),
        )
        nids.append(n.id)
    kit.com.StartNotice(pb.StartNoticeRequest(round_id=rid), metadata=auth(city_admin))
    return rid, nids


def test_an_award_of_a_finished_round_is_my_honour_and_only_mine(
    kit: Kit, token: Any
) -> None:
    me, other, bystander = kit.volunteer(), kit.volunteer(), kit.volunteer()
    rid, _ = on_notice(kit, token, "西安市优秀志愿者推选（本人页）", me, other)
    assert list(mine(kit, me).honours) == []  # on notice: not awarded yet
    with kit.engine.begin() as db:
        db.execute(
            sa.text("UPDATE award_rounds SET notice_ends_on=:d WHERE id=:r"),
            {"d": date.today() - timedelta(days=2), "r": rid},
        )
    city_admin = token(CITY, "tenant_admin", username="xian-office")
    final = kit.com.FinalizeRound(
        pb.FinalizeRoundRequest(round_id=rid), metadata=auth(city_admin)
    )
    assert final.awarded == 2
    (honour,) = mine(kit, me).honours
    assert honour.round_title == "西安市优秀志愿者推选（本人页）"
    assert (honour.level, honour.division_code, honour.division_name) == (
        "city", CITY, "西安市",
    )  # fmt: skip
    assert (honour.category, honour.year) == ("individual", datetime.now(CST).year)
    assert honour.unit_name and datetime.fromisoformat(honour.awarded_at).tzinfo
    assert len(mine(kit, other).honours) == 1
    assert list(mine(kit, bystander).honours) == []


# -- through the gateway ------------------------------------------------------------


@pytest.fixture(scope="module")
def client(kit: Kit) -> Iterator[TestClient]:
    with TestClient(create_app(load())) as c:
        yield c


def bearer(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


def test_me_stars_over_http_is_the_callers_own(kit: Kit, client: TestClient) -> None:
    one, two = kit.volunteer(), kit.volunteer()
    kit.approved_hours(one, 1.0)
    kit.approved_hours(two, 3.0)
    approve_pending(kit, two, 1)
    wait_hours(kit, one, 1.0)
    body = ok(client.get("/api/v1/me/stars", headers=bearer(own_token(one))))
    assert body == {
        "stars": 0, "hours_counted": 1.0, "next_star": 1, "next_star_hours": 2.0,
        "hours_to_next": 1.0, "progress": 0.5, "pending_request": False,
        "pending_stars": 0, "honours": [],
    }  # fmt: skip
    body = ok(client.get("/api/v1/me/stars", headers=bearer(own_token(two))))
    assert (body["stars"], body["hours_counted"]) == (1, 3.0)
    # The request has no field to name another volunteer with.
    named = client.get(
        f"/api/v1/me/stars?volunteer_id={two}", headers=bearer(own_token(one))
    )
    assert named.status_code == 400, named.text
    assert named.json()["error"]["field"] == "volunteer_id"


# -- a resident's view of the award rounds of their area ----------------------------


def test_a_volunteer_reads_the_notice_of_their_area_and_objects(
    kit: Kit, client: TestClient, token: Any
) -> None:
    nominee, resident = kit.volunteer(), kit.volunteer()
    rid, (nid,) = on_notice(kit, token, "西安市优秀志愿者推选（公示）", nominee)
    mine_ = bearer(own_token(resident))
    rounds = ok(client.get("/api/v1/commendation/rounds?page_size=500", headers=mine_))
    assert rid in {r["id"] for r in rounds["rounds"]}
    notice = ok(client.get(f"/api/v1/commendation/rounds/{rid}/notice", headers=mine_))
    (entry,) = notice["entries"]
    assert entry["nomination_id"] == nid and entry["nominee_name"].endswith("*")
    assert "evidence" not in entry and "signals" not in entry
    filed = client.post(
        f"/api/v1/commendation/nominations/{nid}/objections",
        headers=mine_, content=json.dumps({"content": "服务时长与实际不符。"}),
    )  # fmt: skip
    objection = ok(filed, 201)["objection"]
    assert objection["status"] == "OBJECTION_STATUS_OPEN"
    got = kit.com.GetNomination(
        pb.GetNominationRequest(id=nid), metadata=auth(kit.city)
    )
    assert [o.id for o in got.objections] == [objection["id"]]

    # A volunteer of the next city: the round is not theirs to see or object to.
    far = bearer(own_token(kit.volunteer(home=FAR_TOWN, tok=kit.prov), FAR_TOWN))
    rounds = ok(client.get("/api/v1/commendation/rounds?page_size=500", headers=far))
    assert rid not in {r["id"] for r in rounds["rounds"]}
    seen = client.get(f"/api/v1/commendation/rounds/{rid}/notice", headers=far)
    assert seen.status_code == 404, seen.text
    refused = client.post(
        f"/api/v1/commendation/nominations/{nid}/objections",
        headers=far, content=json.dumps({"content": "异地异议"}),
    )  # fmt: skip
    assert refused.status_code == 404, refused.text
    got = kit.com.GetNomination(
        pb.GetNominationRequest(id=nid), metadata=auth(kit.city)
    )
    assert len(got.objections) == 1
