"""A volunteer's own account: the ``vol`` claim round-trips through a
signed token, is optional, and ``own_volunteer`` answers it only for a
volunteer's account, naming the field otherwise."""

from __future__ import annotations

import pytest

from services.common.auth import Principal, TokenIssuer, TokenVerifier
from services.common.errors import PermissionDenied
from services.common.roles import own_volunteer
from services.common.testing import PRIVATE_PEM, PUBLIC_PEM

VOL = "5b0e6c1e-2f3a-4f7e-9d7b-0c1d2e3f4a5b"


def test_vol_claim_round_trips_and_is_optional() -> None:
    issuer = TokenIssuer(PRIVATE_PEM, "zhiyuan", "zhiyuan")
    verifier = TokenVerifier(PUBLIC_PEM, "zhiyuan", "zhiyuan")
    own, _ = issuer.issue(
        subject="a1", username="V6101130000001", scope_code="610113001",
        roles=["volunteer"], volunteer_id=VOL,
    )  # fmt: skip
    plain, _ = issuer.issue(
        subject="a2", username="clerk", scope_code="610113", roles=["tenant_admin"]
    )
    assert verifier.verify(own).volunteer_id == VOL
    assert verifier.verify(plain).volunteer_id == ""


def who(roles: tuple[str, ...], vol: str = "") -> Principal:
    return Principal("s", "u", "610113", frozenset(roles), 0, volunteer_id=vol)


def test_own_volunteer_is_the_token_s_never_another() -> None:
    assert own_volunteer(who(("volunteer",), VOL)) == VOL


@pytest.mark.parametrize(
    "principal",
    [
        who(("volunteer",)),  # a volunteer-role account bound to nobody
        who(("tenant_admin",), VOL),  # a claim without the role
        who(("tenant_admin", "reviewer")),
    ],
)
def test_an_account_that_is_no_volunteer_s_is_refused(principal: Principal) -> None:
    with pytest.raises(PermissionDenied) as err:
        own_volunteer(principal, "me")
    body = err.value.to_dict()
    assert body["field"] == "me"
    assert body["rule"] == "volunteer.own"
