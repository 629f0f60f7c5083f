"""Bearer tokens at the edge of the real api role: every forged, expired,
misdirected or malformed credential is UNAUTHENTICATED, never a stack trace;
a valid token with too few roles or no usable scope is PERMISSION_DENIED."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.registration.v1 import registration_pb2 as pb

from services.common.auth import TokenIssuer, generate_keypair
from services.common.testing import PRIVATE_PEM, PUBLIC_PEM
from tests.helpers import auth, new_id_number, new_phone

pytestmark = pytest.mark.integration

ISS = AUD = "zhiyuan"
SCOPE = "610113"
HOME = "610113005"
OTHER_PRIVATE, OTHER_PUBLIC = generate_keypair()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def claims(**over: Any) -> dict[str, Any]:
    now = int(time.time())
    body = {
        "sub": "attacker",
        "name": "attacker",
        "scope": SCOPE,
        "roles": ["tenant_admin"],
        "iss": ISS,
        "aud": AUD,
        "iat": now,
        "exp": now + 600,
    }
    body.update(over)
    return body


def issued(
    private: str = PRIVATE_PEM, iss: str = ISS, aud: str = AUD, **kw: Any
) -> str:
    value, _ = TokenIssuer(private, iss, aud).issue(
        subject="attacker",
        username="attacker",
        scope_code=kw.pop("scope_code", SCOPE),
        roles=kw.pop("roles", ["tenant_admin"]),
        **kw,
    )
    return value


def hs256_with(secret: str) -> str:
    """The classic confusion attack: HMAC keyed with the public key text."""
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims(scope="61", roles=["province_admin"])).encode())
    signing_input = f"{header}.{payload}".encode()
    sig = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(sig)}"


def tampered() -> str:
    """A valid county token whose payload now claims the whole province."""
    header, payload, sig = issued().split(".")
    body = json.loads(unb64(payload))
    body["scope"], body["roles"] = "61", ["province_admin"]
    return f"{header}.{b64(json.dumps(body).encode())}.{sig}"


def embedded_jwk() -> str:
    """Signed with an attacker key that the header offers as its own JWK."""
    public = serialization.load_pem_public_key(OTHER_PUBLIC.encode()).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64(public)}
    return jwt.encode(claims(), OTHER_PRIVATE, algorithm="EdDSA", headers={"jwk": jwk})


def without(claim: str) -> str:
    body = claims()
    del body[claim]
    return jwt.encode(body, PRIVATE_PEM, algorithm="EdDSA")


BAD_TOKENS: dict[str, Callable[[], list[tuple[str, str]]]] = {
    "no-metadata": lambda: [],
    "empty-authorization": lambda: [("authorization", "")],
    "basic-scheme": lambda: [("authorization", "Basic xyz")],
    "bearer-without-token": lambda: [("authorization", "Bearer ")],
    "token-without-scheme": lambda: [("authorization", issued())],
    "garbage": lambda: auth("not.a.jwt"),
    "expired": lambda: auth(issued(ttl=-10)),
    "forged-signature": lambda: auth(issued(private=OTHER_PRIVATE)),
    # The nation's scope under a key that is not the platform's.
    "forged-national": lambda: auth(
        issued(private=OTHER_PRIVATE, scope_code="CN", roles=["province_admin"])
    ),
    "other-audience": lambda: auth(issued(aud="other")),
    "other-issuer": lambda: auth(issued(iss="other")),
    "alg-none": lambda: auth(
        jwt.encode(claims(scope="61", roles=["province_admin"]), None, algorithm="none")
    ),
    "hs256-public-key-secret": lambda: auth(hs256_with(PUBLIC_PEM)),
    "hs256-public-key-secret-stripped": lambda: auth(hs256_with(PUBLIC_PEM.strip())),
    "tampered-payload": lambda: auth(tampered()),
    "embedded-jwk": lambda: auth(embedded_jwk()),
    "missing-exp": lambda: auth(without("exp")),
    "missing-sub": lambda: auth(without("sub")),
    "not-yet-valid": lambda: auth(
        jwt.encode(claims(nbf=int(time.time()) + 3600), PRIVATE_PEM, algorithm="EdDSA")
    ),
}


def list_volunteers(stub, md):  # type: ignore[no-untyped-def]
    return stub.ListVolunteers(
        pb.ListVolunteersRequest(division_code=SCOPE), metadata=md
    ).page.total_size


def get_division(stub, md):  # type: ignore[no-untyped-def]
    return stub.GetDivision(pb.GetDivisionRequest(code=SCOPE), metadata=md)


def summarize(stub, md):  # type: ignore[no-untyped-def]
    return stub.Summarize(
        pb.SummarizeRequest(query=common.RollupQuery(division_code=SCOPE)), metadata=md
    )


READS = {
    "ListVolunteers": list_volunteers,
    "GetDivision": get_division,
    "Summarize": summarize,
}


def refused(fn: Callable[[], Any]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        fn()
    assert "Traceback" not in (err.value.details() or "")
    return err.value


def test_a_valid_token_is_accepted(stub, token) -> None:  # type: ignore[no-untyped-def]
    # The control for everything below: the same calls succeed with a real token.
    for read in READS.values():
        read(stub, auth(issued()))
    assert list_volunteers(stub, [("authorization", f"bearer {token(SCOPE)}")]) >= 0


@pytest.mark.parametrize("rpc", list(READS))
@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_bad_credentials_are_unauthenticated(stub, case: str, rpc: str) -> None:  # type: ignore[no-untyped-def]
    err = refused(lambda: READS[rpc](stub, BAD_TOKENS[case]()))
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED, err.details()


@pytest.mark.parametrize(
    "case", ["no-metadata", "forged-signature", "tampered-payload"]
)
def test_refused_write_stores_nothing(stub, token, case: str) -> None:  # type: ignore[no-untyped-def]
    number = new_id_number(SCOPE)
    county = token(SCOPE)
    before = stub.ListVolunteers(
        pb.ListVolunteersRequest(division_code=HOME), metadata=auth(county)
    ).page.total_size

    def register(md):  # type: ignore[no-untyped-def]
        return stub.RegisterVolunteer(
            pb.RegisterVolunteerRequest(
                name="钱志愿",
                id_number=number,
                phone=new_phone(),
                home_division_code=HOME,
                service_fields=["medical"],
            ),
            metadata=md,
        ).volunteer

    err = refused(lambda: register(BAD_TOKENS[case]()))
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED
    after = stub.ListVolunteers(
        pb.ListVolunteersRequest(division_code=HOME), metadata=auth(county)
    ).page.total_size
    assert after == before
    assert register(auth(county)).home_division_code == HOME  # the number is still free


# -- authenticated, but not allowed --------------------------------------------


@pytest.mark.parametrize("roles", [["volunteer"], ["nobody"], []], ids=str)
def test_without_a_reader_role_listing_volunteers_is_denied(stub, roles) -> None:  # type: ignore[no-untyped-def]
    tok = jwt.encode(claims(roles=roles), PRIVATE_PEM, algorithm="EdDSA")
    err = refused(lambda: list_volunteers(stub, auth(tok)))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED


def test_volunteer_role_cannot_register(stub, token) -> None:  # type: ignore[no-untyped-def]
    vol_token = token(SCOPE, "volunteer")
    err = refused(
        lambda: stub.RegisterVolunteer(
            pb.RegisterVolunteerRequest(
                name="孙志愿",
                id_number=new_id_number(SCOPE),
                phone=new_phone(),
                home_division_code=HOME,
            ),
            metadata=auth(vol_token),
        )
    )
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize(
    ("scope", "rule"),
    [
        pytest.param("", "scope.required", id="empty"),
        pytest.param("   ", "scope.required", id="blank"),
        pytest.param(None, "scope.required", id="null"),
        pytest.param("abc", "scope.malformed", id="letters"),
        pytest.param("61011", "scope.malformed", id="bad-width"),
        pytest.param("６１", "scope.malformed", id="full-width-digits"),
        pytest.param(["61"], "scope.malformed", id="list"),
        # The nation is exactly "CN": no other spelling of it is the nation.
        pytest.param("cn", "scope.malformed", id="national-lower-case"),
        pytest.param("CN ", "scope.malformed", id="national-trailing-blank"),
        pytest.param(" CN", "scope.malformed", id="national-leading-blank"),
        pytest.param("ＣＮ", "scope.malformed", id="national-full-width"),
        pytest.param("CN61", "scope.malformed", id="national-with-digits"),
    ],
)
def test_missing_or_malformed_scope_claim_sees_nothing(stub, scope, rule) -> None:  # type: ignore[no-untyped-def]
    body = claims(scope=scope, roles=["province_admin"])
    tok = jwt.encode(body, PRIVATE_PEM, algorithm="EdDSA")
    for read in (list_volunteers, get_division, summarize):
        err = refused(lambda r=read: r(stub, auth(tok)))
        assert err.code() == grpc.StatusCode.PERMISSION_DENIED
        assert dict(err.trailing_metadata()).get("zhiyuan-rule") == rule


def test_national_scope_reads_rollups_and_divisions_only(stub) -> None:  # type: ignore[no-untyped-def]
    # The control for the national spellings above: exactly "CN", signed
    # by the platform, reads the tree and the rollups and nothing else.
    tok = jwt.encode(claims(scope="CN", roles=["province_admin"]), PRIVATE_PEM,
                     algorithm="EdDSA")  # fmt: skip
    assert get_division(stub, auth(tok)).division.code == SCOPE
    assert summarize(stub, auth(tok)).rollup.total.division.code == SCOPE
    # The nation's children in the tree are the provinces.
    provinces = stub.ListDivisions(
        pb.ListDivisionsRequest(page=common.PageRequest(page_size=100)),
        metadata=auth(tok),
    ).divisions
    codes = [d.code for d in provinces]
    assert "61" in codes and all(len(c) == 2 for c in codes)
    nation = stub.Summarize(pb.SummarizeRequest(), metadata=auth(tok)).rollup
    assert nation.total.division.code == "CN" and nation.total.division.name == "全国"
    assert all(len(r.division.code) == 2 for r in nation.rows)
    err = refused(lambda: list_volunteers(stub, auth(tok)))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    assert dict(err.trailing_metadata()).get("zhiyuan-rule") == "scope.national"


def test_scope_claim_absent_is_denied(stub) -> None:  # type: ignore[no-untyped-def]
    body = claims(roles=["province_admin"])
    del body["scope"]
    tok = jwt.encode(body, PRIVATE_PEM, algorithm="EdDSA")
    err = refused(lambda: list_volunteers(stub, auth(tok)))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED


def test_numeric_scope_claim_is_malformed(stub) -> None:  # type: ignore[no-untyped-def]
    tok = jwt.encode(claims(scope=610113), PRIVATE_PEM, algorithm="EdDSA")
    err = refused(lambda: list_volunteers(stub, auth(tok)))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED


# -- one answer for every bad token ----------------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        "other-issuer",
        "alg-none",
        "hs256-public-key-secret",
        "tampered-payload",
        "embedded-jwk",
        "other-audience",
        "expired",
    ],
)
def test_every_invalid_token_gets_the_same_answer(stub, case: str) -> None:  # type: ignore[no-untyped-def]
    forged = refused(lambda: list_volunteers(stub, BAD_TOKENS["forged-signature"]()))
    other = refused(lambda: list_volunteers(stub, BAD_TOKENS[case]()))
    assert other.code() == forged.code() == grpc.StatusCode.UNAUTHENTICATED
    assert other.details() == forged.details()
    assert dict(other.trailing_metadata()) == dict(forged.trailing_metadata())
