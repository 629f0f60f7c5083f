"""The shared harness of the per-service isolation matrices.

Each ``test_*_isolation.py`` file (and registration's
``test_isolation_matrix.py``) builds a *world* for one service (the owner's
data, the neighbours' data, tokens) and one :class:`Spec` per RPC: what each
kind of caller must get, how to call the RPC, and what to check afterwards.
This module holds what those files share, as plain functions:

* :func:`outcome` runs a call and returns ``(OK, response)`` or
  ``(status code, RpcError)``;
* :class:`Spec` and :func:`params` describe the matrix and parametrize it;
* :func:`rpc_names` lists a service's RPCs for the guard test that every RPC
  is in the matrix;
* :func:`caller_token` and :func:`no_scope_token` issue the callers' tokens;
* :func:`check_isolation` is the body of ``test_isolation(rpc, who)``;
* :func:`check_needs_a_token` and :func:`check_indistinguishable` are the
  bodies of two tests most files repeat beyond the matrix.

What differs between services stays in their files and is passed in
explicitly: the callers and their scopes, the expectation rows, which
strings a NOT_FOUND refusal must not reveal, how a caller's token is made
(registration gives some calls extra roles), and which RPCs need no token.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import grpc
import pytest

from services.common.auth import TokenIssuer
from services.common.testing import PRIVATE_PEM

# The outcomes a matrix expects: success, or the status of the refusal.
OK = "OK"
PD = grpc.StatusCode.PERMISSION_DENIED
NF = grpc.StatusCode.NOT_FOUND

_ISSUER = TokenIssuer(PRIVATE_PEM, "zhiyuan", "zhiyuan")


def outcome(fn: Callable[[], Any]) -> tuple[Any, Any]:
    """(OK, response) or (status code, the RpcError)."""
    try:
        return OK, fn()
    except grpc.RpcError as err:
        return err.code(), err


def strict_trailers(err: grpc.RpcError) -> dict[str, Any]:
    """The trailing metadata of a refusal (an error if there is none)."""
    return dict(err.trailing_metadata())


# -- callers -----------------------------------------------------------------------


def no_scope_token(*roles: str) -> str:
    """A valid token without a scope claim (default deny); tenant_admin
    unless other roles are given."""
    value, _ = _ISSUER.issue(
        subject="no-scope",
        username="no-scope",
        scope_code="",
        roles=list(roles or ("tenant_admin",)),
    )
    return value


def national_token(*roles: str) -> str:
    """A valid token of the nation (scope ``CN``, the ministry or the
    national federation): province_admin unless other roles are given."""
    value, _ = _ISSUER.issue(
        subject="national",
        username="cn-admin",
        scope_code="CN",
        roles=list(roles or ("province_admin",)),
    )
    return value


def caller_token(
    token: Callable[..., str],
    scopes: Mapping[str, str],
    who: str,
    roles: tuple[str, ...] = (),
) -> str:
    """The token of the caller kind ``who``: ``noscope`` gets
    :func:`no_scope_token`, ``national`` :func:`national_token`, any other
    kind ``token(scopes[who], *roles)``, where the roles default to
    province_admin for ``province`` and tenant_admin for everyone else."""
    if who == "noscope":
        return no_scope_token(*roles)
    if who == "national":
        return national_token(*roles)
    if not roles:
        roles = ("province_admin",) if who == "province" else ("tenant_admin",)
    return token(scopes[who], *roles)


# -- the matrix --------------------------------------------------------------------


def none(*_: Any) -> None:
    """The default of :attr:`Spec.prepare` and :attr:`Spec.succeeded`."""
    return None


@dataclass(frozen=True)
class Spec:
    """How one RPC is tested by every caller kind.

    ``expect`` maps each caller kind to OK or the refusal status. ``prepare``
    makes the target of one call from the world (None by default); ``act``
    calls the RPC as ``act(world, target, token)``; after a success
    ``succeeded(world, target, response)`` checks its effect, after a
    refusal ``unchanged(world, target)`` (if given) checks that nothing
    changed.
    """

    expect: dict[str, Any]
    act: Callable[[Any, Any, str], Any]
    prepare: Callable[[Any], Any] = none
    succeeded: Callable[[Any, Any, Any], None] = none
    unchanged: Callable[[Any, Any], None] | None = None


# What the nation may call: the rollups and the division tree. Written out
# here, not taken from the code under test, so that a method added to the
# code's list by mistake fails the matrices.
NATION_READS = frozenset(
    {"Summarize", "SummarizeFederated", "GetDivision", "ListDivisions"}
)


def federated_read(owner: str, metric: str) -> Callable[[Any, Any, Any], None]:
    """The ``succeeded`` check of a service's SummarizeFederated asked for
    ``owner``: the answer is the node's (its total labelled ``owner``), in the
    service's own rollup's metrics (``metric`` among them), and every row and
    every reporting downstream's subtree lies under ``owner``."""

    def check(_: Any, __: Any, resp: Any) -> None:
        rollup = resp.rollup
        assert rollup.total.division.code == owner
        assert metric in rollup.metric_names, list(rollup.metric_names)
        assert all(r.division.code.startswith(owner) for r in rollup.rows)
        assert all(link.subtree.startswith(owner) for link in resp.links)

    return check


def with_national(specs: Mapping[str, Spec]) -> dict[str, Spec]:
    """``specs`` with the ``national`` caller (scope ``CN``) in every row: OK
    for the rollups and the tree (:data:`NATION_READS`) and for the public
    RPCs (those a caller without any scope may call, which check no token);
    PERMISSION_DENIED, with the row's own checks that nothing changed, on
    every other RPC: lists, details, personal data and any write."""
    out = {}
    for rpc, spec in specs.items():
        allowed = rpc in NATION_READS or spec.expect.get("noscope") == OK
        expect = {**spec.expect, "national": OK if allowed else PD}
        out[rpc] = replace(spec, expect=expect)
    return out


def row(base: Mapping[str, Any], **over: Any) -> dict[str, Any]:
    """An expectation row: ``base`` with some callers' outcomes replaced
    (a caller kind ``base`` does not know is an error, not a new row)."""
    unknown = set(over) - set(base)
    if unknown:
        raise KeyError(f"not a caller kind: {sorted(unknown)}")
    return {**base, **over}


def params(specs: Mapping[str, Spec], callers: Iterable[str]) -> list[Any]:
    """One ``pytest.param(rpc, who, id="Rpc-who")`` per RPC and caller kind,
    RPCs in the order of ``specs``, callers in the order given. Every spec
    must name an outcome for exactly these callers."""
    callers = tuple(callers)
    for rpc, spec in specs.items():
        if set(spec.expect) != set(callers):
            raise ValueError(f"{rpc}: expectations for {sorted(spec.expect)}")
    return [
        pytest.param(rpc, who, id=f"{rpc}-{who}") for rpc in specs for who in callers
    ]


def rpc_names(module: Any, service: str) -> set[str]:
    """The RPCs of ``service`` as the generated ``*_pb2`` module declares them."""
    return set(module.DESCRIPTOR.services_by_name[service].methods_by_name)


def check_isolation(
    world: Any,
    spec: Spec,
    rpc: str,
    who: str,
    *,
    caller: Callable[[str], str],
    not_revealed: Iterable[str],
) -> None:
    """One cell of the matrix: prepare the target, call ``rpc`` as ``who``
    (with the token ``caller(who)``) and compare the status with
    ``spec.expect[who]``. On success, ``spec.succeeded`` checks the effect;
    on a refusal the details carry no traceback, a NOT_FOUND names none of
    ``not_revealed`` (where the entity lives), and ``spec.unchanged``
    checks that nothing changed."""
    hidden = tuple(not_revealed)
    assert hidden, "a NOT_FOUND refusal must be checked for what it hides"
    expected = spec.expect[who]
    target = spec.prepare(world)
    status, result = outcome(lambda: spec.act(world, target, caller(who)))
    if status != expected:
        detail = "" if status == OK else f": {result.details()}"
        pytest.fail(f"{rpc} by {who}: expected {expected}, got {status}{detail}")
    if expected == OK:
        spec.succeeded(world, target, result)
        return
    assert "Traceback" not in result.details()
    if expected == NF:
        for secret in hidden:
            assert secret not in result.details(), (rpc, who, secret)
    if spec.unchanged is not None:
        spec.unchanged(world, target)


# -- beyond the matrix -------------------------------------------------------------


def check_needs_a_token(stub: Any, module: Any, rpc: str) -> None:
    """``rpc`` called with an empty request and no token is UNAUTHENTICATED,
    without a traceback in the details."""
    request = getattr(module, f"{rpc}Request")()
    status, err = outcome(lambda: getattr(stub, rpc)(request))
    assert status == grpc.StatusCode.UNAUTHENTICATED, rpc
    assert "Traceback" not in err.details()


def check_indistinguishable(
    call: Callable[[str], Any],
    real: str,
    missing: str,
    trailers: Callable[[grpc.RpcError], dict[str, Any]] = strict_trailers,
) -> None:
    """``call(real)`` (another tenant's entity) and ``call(missing)`` (an id
    that exists nowhere) are both NOT_FOUND, with the same details but for
    the id and the same trailing metadata but for binary entries."""
    (s1, e1), (s2, e2) = outcome(lambda: call(real)), outcome(lambda: call(missing))
    assert s1 == s2 == NF
    assert e1.details().replace(real, "ID") == e2.details().replace(missing, "ID")
    t1, t2 = trailers(e1), trailers(e2)
    assert {k: v for k, v in t1.items() if not k.endswith("-bin")} == {
        k: v for k, v in t2.items() if not k.endswith("-bin")
    }
