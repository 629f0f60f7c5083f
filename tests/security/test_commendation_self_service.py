"""A volunteer's own stars (GetMyStars, ``GET /api/v1/me/stars``) answer a
volunteer's own account only, and only about itself: an office account
(however high, with or without a ``vol`` claim), a volunteer-role account
bound to no volunteer, a token whose ``vol`` claim was signed with another
key and no token at all are refused over gRPC and HTTP alike; two
volunteers of one township each get their own answer, and neither can read
the other's stars by id through the office route."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from zhiyuan.commendation.v1 import commendation_pb2 as pb

from services.common.auth import TokenIssuer, generate_keypair
from services.common.config import load
from services.common.testing import PRIVATE_PEM
from services.gateway.app import create_app
from tests.helpers import auth, ok
from tests.integration.test_commendation_self_service import (
    approve_pending,
    own_token,
    wait_hours,
)
from tests.integration.test_commendation_stars import COUNTY, PROVINCE, TOWN, Kit
from tests.integration.test_commendation_stars import kit as kit  # noqa: F401

pytestmark = pytest.mark.integration

PD, UNAUTH = grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED
ISSUER = TokenIssuer(PRIVATE_PEM, "zhiyuan", "zhiyuan")
FORGER = TokenIssuer(generate_keypair()[0], "zhiyuan", "zhiyuan")  # not ours


@pytest.fixture(scope="module")
def pair(kit: Kit) -> tuple[str, str]:
    """Two volunteers of one township: one with a star and a pending request
    for the next, one with an hour and no star."""
    rich, poor = kit.volunteer(), kit.volunteer()
    kit.approved_hours(rich, 2.5)
    approve_pending(kit, rich, 1)
    kit.approved_hours(rich, 2.0)  # 4.5 h: two stars' tier, awaiting the county
    kit.wait_stars(rich, lambda s: s.pending.stars == 2)
    kit.approved_hours(poor, 1.0)
    wait_hours(kit, poor, 1.0)
    return rich, poor


@pytest.fixture(scope="module")
def client(kit: Kit) -> Iterator[TestClient]:
    with TestClient(create_app(load())) as c:
        yield c


def refused_callers(token: Any, rich: str) -> dict[str, tuple[str, Any]]:
    """Caller kind → (token, the gRPC status it gets)."""
    forged, _ = FORGER.issue(
        subject="forged", username="forged", scope_code=TOWN, roles=["volunteer"],
        volunteer_id=rich,
    )  # fmt: skip
    unbound, _ = ISSUER.issue(
        subject="unbound", username="unbound", scope_code=TOWN, roles=["volunteer"]
    )
    admin_with_claim, _ = ISSUER.issue(
        subject="p", username="p", scope_code=PROVINCE, roles=["province_admin"],
        volunteer_id=rich,
    )  # fmt: skip
    return {
        "county office": (token(COUNTY, "tenant_admin"), PD),
        "town reviewer": (token(TOWN, "reviewer"), PD),
        "province admin with a vol claim": (admin_with_claim, PD),
        "volunteer role without vol": (unbound, PD),
        "vol claim signed with another key": (forged, UNAUTH),
    }


CALLERS = [
    "county office",
    "town reviewer",
    "province admin with a vol claim",
    "volunteer role without vol",
    "vol claim signed with another key",
]


@pytest.mark.parametrize("who", CALLERS)
def test_only_a_volunteers_own_account_is_answered(
    kit: Kit, client: TestClient, token: Any, pair: tuple[str, str], who: str
) -> None:
    rich, _ = pair
    tok, status = refused_callers(token, rich)[who]
    with pytest.raises(grpc.RpcError) as err:
        kit.com.GetMyStars(pb.GetMyStarsRequest(), metadata=auth(tok))
    assert err.value.code() == status
    assert "Traceback" not in (err.value.details() or "")
    got = client.get("/api/v1/me/stars", headers={"Authorization": f"Bearer {tok}"})
    assert got.status_code == (403 if status == PD else 401), got.text
    error = got.json()["error"]
    assert rich not in got.text and "4.5" not in got.text
    if status == PD:
        assert (error["field"], error["rule"]) == ("volunteer_id", "volunteer.own")


def test_no_token_is_unauthenticated(kit: Kit, client: TestClient) -> None:
    with pytest.raises(grpc.RpcError) as err:
        kit.com.GetMyStars(pb.GetMyStarsRequest())
    assert err.value.code() == UNAUTH
    assert client.get("/api/v1/me/stars").status_code == 401


def test_each_volunteer_gets_their_own_answer(
    kit: Kit, client: TestClient, pair: tuple[str, str]
) -> None:
    rich, poor = pair
    for vid, expected in [(rich, (1, 4.5, True, 2)), (poor, (0, 1.0, False, 0))]:
        body = ok(
            client.get(
                "/api/v1/me/stars",
                headers={"Authorization": f"Bearer {own_token(vid)}"},
            )
        )
        got = (
            body["stars"], body["hours_counted"], body["pending_request"],
            body["pending_stars"],
        )  # fmt: skip
        assert got == expected


@pytest.mark.parametrize("target", ["neighbour", "parent", "random"])
def test_a_volunteer_cannot_read_anothers_stars_by_id(
    kit: Kit, client: TestClient, pair: tuple[str, str], target: str
) -> None:
    """The office route by id is closed to a volunteer's account: a
    neighbour's real id (same township), a parent's (a volunteer whose home
    is the county above) and a random one get the same refusal."""
    rich, poor = pair
    ident = {
        "neighbour": lambda: rich,
        "parent": lambda: kit.volunteer(home=COUNTY),
        "random": lambda: str(uuid.uuid4()),
    }[target]()
    tok = own_token(poor)
    with pytest.raises(grpc.RpcError) as err:
        kit.com.GetVolunteerStars(
            pb.GetVolunteerStarsRequest(volunteer_id=ident), metadata=auth(tok)
        )
    assert err.value.code() == PD
    got = client.get(
        f"/api/v1/commendation/volunteers/{ident}/stars",
        headers={"Authorization": f"Bearer {tok}"},
    )
    assert got.status_code == 403, got.text
    assert got.json()["error"]["code"] and ident not in got.text
