"""org_leader accounts act only for their own organisation: the token's
``org`` claim and the kernel's ``require_organisation``."""

from __future__ import annotations

import jwt
import pytest

from services.common.auth import Principal, TokenIssuer, TokenVerifier, generate_keypair
from services.common.errors import PermissionDenied
from services.common.roles import ADMINS, require_organisation

PRIVATE, PUBLIC = generate_keypair()
ORG_A, ORG_B = "org-a", "org-b"


def who(*roles: str, org: str = "") -> Principal:
    return Principal("s", "u", "610113", frozenset(roles), 0, organisation_id=org)


def test_org_claim_round_trips_and_is_optional():
    issuer = TokenIssuer(PRIVATE, "zhiyuan", "zhiyuan")
    verifier = TokenVerifier(PUBLIC, "zhiyuan", "zhiyuan")
    bound, _ = issuer.issue(
        subject="a",
        username="u",
        scope_code="610113",
        roles=["org_leader"],
        organisation_id=ORG_A,
    )
    assert jwt.decode(bound, options={"verify_signature": False})["org"] == ORG_A
    assert verifier.verify(bound).organisation_id == ORG_A
    plain, _ = issuer.issue(subject="a", username="u", scope_code="61", roles=[])
    assert "org" not in jwt.decode(plain, options={"verify_signature": False})
    assert verifier.verify(plain).organisation_id == ""


@pytest.mark.parametrize("role", ADMINS)
def test_admins_act_for_any_organisation_in_scope(role):
    require_organisation(who(role), ORG_B, "organisation_id")
    require_organisation(who(role, "org_leader", org=ORG_A), ORG_B, "organisation_id")


def test_org_leader_acts_for_its_own_organisation_only():
    leader = who("org_leader", org=ORG_A)
    require_organisation(leader, ORG_A, "organisation_id")
    for other in (ORG_B, "", "ORG-A", "org-a "):
        with pytest.raises(PermissionDenied) as err:
            require_organisation(leader, other, "unit_organisation_id")
        assert (err.value.field, err.value.rule) == (
            "unit_organisation_id",
            "organisation.own",
        )
        assert err.value.message_zh


def test_org_leader_token_without_org_is_refused():
    with pytest.raises(PermissionDenied) as err:
        require_organisation(who("org_leader"), ORG_A, "organisation_id")
    assert (err.value.field, err.value.rule) == (
        "organisation_id",
        "organisation.bound",
    )
    assert err.value.message_en and err.value.message_zh


def test_also_lets_reviewers_pass_where_reviewing_is_the_action():
    require_organisation(who("reviewer"), ORG_B, "organisation_id", also=("reviewer",))
    with pytest.raises(PermissionDenied):
        require_organisation(who("reviewer"), ORG_B, "organisation_id")
    with pytest.raises(PermissionDenied):
        require_organisation(who("volunteer"), ORG_A, "organisation_id")
