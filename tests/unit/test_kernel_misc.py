"""Config expansion, tokens, rollup months: the kernel's small parts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.common.auth import (
    TokenIssuer,
    TokenVerifier,
    bearer,
    check_password,
    generate_keypair,
    hash_password,
)
from services.common.config import expand, load
from services.common.errors import Unauthenticated
from services.common.rollup import month_of

PRIVATE, PUBLIC = generate_keypair()


def test_expand_uses_env_then_default():
    assert expand("${A:x}/${B:amqp://h:5672/}", {"A": "1"}) == "1/amqp://h:5672/"
    with pytest.raises(KeyError, match="NEEDED"):
        expand("${NEEDED}", {})


def test_load_reads_multiline_pem_from_the_environment():
    cfg = load(env={"JWT_PUBLIC_KEY": PUBLIC, "REGISTRATION_GRPC_LISTEN": "0.0.0.0:1"})
    assert cfg["jwt.public_key"] == PUBLIC
    assert cfg.service("registration").grpc_listen == "0.0.0.0:1"
    assert cfg.service("registration").database_url.startswith("sqlite:///")
    assert cfg["grpc.deadline_seconds"] == 10


def test_token_round_trip_and_rejections():
    issuer = TokenIssuer(PRIVATE, "zhiyuan", "zhiyuan")
    verifier = TokenVerifier(PUBLIC, "zhiyuan", "zhiyuan")
    token, _ = issuer.issue(
        subject="a1", username="u", scope_code="6101", roles=["reviewer"]
    )
    principal = verifier.verify(token)
    assert (principal.scope.code, principal.roles) == ("6101", frozenset({"reviewer"}))
    expired, _ = issuer.issue(
        subject="a", username="u", scope_code="61", roles=[], ttl=-5
    )
    with pytest.raises(Unauthenticated, match="invalid or has expired"):
        verifier.verify(expired)
    other, _ = TokenIssuer(PRIVATE, "zhiyuan", "elsewhere").issue(
        subject="a", username="u", scope_code="61", roles=[]
    )
    with pytest.raises(Unauthenticated, match="invalid or has expired"):
        verifier.verify(other)
    forged, _ = TokenIssuer(generate_keypair()[0], "zhiyuan", "zhiyuan").issue(
        subject="a", username="u", scope_code="61", roles=[]
    )
    with pytest.raises(Unauthenticated):
        verifier.verify(forged)


def test_bearer_header_parsing():
    assert bearer("Bearer abc") == "abc"
    for bad in (None, "", "Basic abc", "Bearer "):
        with pytest.raises(Unauthenticated):
            bearer(bad)


def test_passwords_are_argon2id_and_checked():
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert check_password(stored, "correct horse battery")
    assert not check_password(stored, "wrong")
    assert not check_password("not-a-hash", "wrong")


def test_reporting_month_is_china_time():
    # 2026-01-31 20:00 UTC is already February in Beijing.
    assert month_of(datetime(2026, 1, 31, 20, 0, tzinfo=UTC)) == "2026-02"
    assert month_of(datetime(2026, 1, 31, 15, 0, tzinfo=UTC)) == "2026-01"


def test_rs256_keys_from_an_external_issuer_also_work():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        .decode()
    )
    issuer = TokenIssuer(private, "idp", "zhiyuan")
    assert issuer.algorithm == "RS256"
    token, _ = issuer.issue(subject="s", username="u", scope_code="61", roles=[])
    assert TokenVerifier(public, "idp", "zhiyuan").verify(token).scope_code == "61"
    # An Ed25519 verifier does not accept the RSA-signed token.
    with pytest.raises(Unauthenticated):
        TokenVerifier(PUBLIC, "idp", "zhiyuan").verify(token)
