"""The verified-token cache and the reference-data cache of the gRPC hop:
hits skip the work, expiry and invalidation are honoured, failures are never
remembered, memory stays bounded."""

from __future__ import annotations

import time

import pytest

from services.common.auth import TokenIssuer, TokenVerifier
from services.common.errors import Unauthenticated
from services.common.refcache import RefCache
from services.common.testing import PRIVATE_PEM, PUBLIC_PEM

# Tokens are checked against the real clock by PyJWT, so "now" is taken
# afresh for each test (a module-level value goes stale in a long suite).
NOW = int(time.time())


@pytest.fixture(autouse=True)
def _fresh_now() -> None:
    global NOW
    NOW = int(time.time())


class Clock:
    def __init__(self, now: float | None = None):
        self.now = NOW if now is None else now

    def __call__(self) -> float:
        return self.now


def counting(verifier: TokenVerifier) -> list[str]:
    """Count the full verifications (signature checks) the verifier makes."""
    calls: list[str] = []
    inner = verifier._verify

    def spy(token: str):  # type: ignore[no-untyped-def]
        calls.append(token)
        return inner(token)

    verifier._verify = spy  # type: ignore[method-assign]
    return calls


def issue(ttl: int, now: int | None = None, scope: str = "61") -> str:
    now = NOW if now is None else now
    token, _ = TokenIssuer(PRIVATE_PEM, "zhiyuan", "zhiyuan").issue(
        subject="u1", username="u", scope_code=scope, roles=["reviewer"],
        ttl=ttl, now=now,
    )  # fmt: skip
    return token


def test_a_verified_token_is_checked_once_until_it_expires() -> None:
    clock = Clock()
    verifier = TokenVerifier(PUBLIC_PEM, "zhiyuan", "zhiyuan", clock=clock)
    calls = counting(verifier)
    token = issue(ttl=60)
    first = verifier.verify(token)
    assert verifier.verify(token) is first
    assert len(calls) == 1
    clock.now = NOW + 60  # exp reached: the cache no longer answers for it
    verifier.verify(token)
    assert len(calls) == 2


def test_an_expired_token_is_refused_even_after_a_hit() -> None:
    verifier = TokenVerifier(PUBLIC_PEM, "zhiyuan", "zhiyuan")
    expired = issue(ttl=60, now=NOW - 120)
    with pytest.raises(Unauthenticated):
        verifier.verify(expired)
    assert expired not in verifier._cache


def test_a_failure_is_never_cached() -> None:
    verifier = TokenVerifier(PUBLIC_PEM, "zhiyuan", "zhiyuan")
    calls = counting(verifier)
    forged = issue(ttl=3600, now=NOW)[:-4] + "AAAA"
    for _ in range(3):
        with pytest.raises(Unauthenticated):
            verifier.verify(forged)
    assert len(calls) == 3


def test_the_cache_is_bounded_least_recently_used_first() -> None:
    clock = Clock()
    verifier = TokenVerifier(
        PUBLIC_PEM, "zhiyuan", "zhiyuan", cache_size=2, clock=clock
    )
    calls = counting(verifier)
    a, b, c = (issue(ttl=600, scope=s) for s in ("61", "6101", "610113"))
    verifier.verify(a)
    verifier.verify(b)
    verifier.verify(a)  # a is now the most recent
    verifier.verify(c)  # evicts b
    assert len(verifier._cache) == 2
    verifier.verify(a)
    assert len(calls) == 3
    verifier.verify(b)
    assert len(calls) == 4


def test_reference_cache_expires_and_is_cleared() -> None:
    clock = Clock(0.0)
    cache = RefCache(ttl_seconds=60, clock=clock)
    loads: list[int] = []

    def load() -> int:
        loads.append(1)
        return len(loads)

    assert cache.get_or_load("610113", load) == 1
    assert cache.get_or_load("610113", load) == 1
    clock.now = 61.0
    assert cache.get_or_load("610113", load) == 2
    cache.clear()
    assert cache.get_or_load("610113", load) == 3


def test_reference_cache_drops_a_value_loaded_across_a_clear() -> None:
    cache = RefCache(ttl_seconds=60)

    def stale() -> str:
        cache.clear()  # a change committed while this load was reading
        return "old name"

    assert cache.get_or_load("610113", stale) == "old name"
    assert cache.get_or_load("610113", lambda: "new name") == "new name"


def test_reference_cache_never_keeps_an_error() -> None:
    cache = RefCache(ttl_seconds=60)

    def missing() -> str:
        raise LookupError("no such division")

    with pytest.raises(LookupError):
        cache.get_or_load("619999", missing)
    assert cache.get_or_load("619999", lambda: "created since") == "created since"
