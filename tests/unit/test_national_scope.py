"""The national scope's rules (no I/O): exactly ``CN`` is the nation; it is
no tenant Scope, so whatever asks for one refuses it by rule
``scope.national``; rollup queries opt in and may name ``CN`` or any node;
gRPC methods other than the rollups and the tree refuse it at the edge."""

from __future__ import annotations

import pytest

from services.common.auth import Principal
from services.common.errors import InvalidArgument, PermissionDenied
from services.common.rollup_query import check_query, division_ref
from services.common.tenancy import (
    Level,
    NationalScope,
    Scope,
    is_national,
    rollup_scope_from_claim,
)

NATION = Principal("cn", "cn-admin", "CN", frozenset({"province_admin"}), 2**40)


def test_the_nation_is_no_tenant_scope() -> None:
    with pytest.raises(PermissionDenied) as err:
        Scope.from_claim("CN")
    assert err.value.rule == "scope.national"
    assert err.value.message_zh and err.value.message_en
    with pytest.raises(PermissionDenied):
        NATION.scope  # noqa: B018
    with pytest.raises(InvalidArgument):
        Scope("CN")  # not a division code either


@pytest.mark.parametrize("claim", ["cn", "CN ", " CN", "ＣＮ", "C N", "CN61", "CHN"])
def test_only_exactly_cn_is_the_nation(claim: str) -> None:
    assert not is_national(claim)
    with pytest.raises(PermissionDenied) as err:
        rollup_scope_from_claim(claim)
    assert err.value.rule == "scope.malformed"
    p = Principal("x", "x", claim, frozenset({"province_admin"}), 2**40)
    assert not p.national
    with pytest.raises(PermissionDenied):
        p.rollup_scope  # noqa: B018


def test_rollup_scope_is_the_nation_or_the_tenant() -> None:
    assert NATION.national and NATION.rollup_scope == NationalScope()
    assert rollup_scope_from_claim("61") == Scope("61")
    for claim in ("", None, "   "):
        with pytest.raises(PermissionDenied) as err:
            rollup_scope_from_claim(claim)
        assert err.value.rule == "scope.required"


def test_a_national_query_names_the_nation_or_any_node() -> None:
    nation = NationalScope()
    assert check_query(nation, "", None) == ("CN", None, Level.PROVINCE)
    assert check_query(nation, "CN", Level.CITY) == ("CN", None, Level.CITY)
    assert check_query(nation, "62", None) == ("62", Level.PROVINCE, Level.CITY)
    assert check_query(nation, "610113", Level.VILLAGE)[0] == "610113"
    with pytest.raises(InvalidArgument) as bad:
        check_query(nation, "6x", None)
    assert bad.value.field == "query.division_code"
    with pytest.raises(InvalidArgument) as up:
        check_query(nation, "61", Level.PROVINCE)
    assert up.value.field == "query.group_by"


def test_a_tenant_query_cannot_name_the_nation() -> None:
    with pytest.raises(PermissionDenied) as err:
        check_query(Scope("61"), "CN", None)
    assert (err.value.rule, err.value.field) == (
        "scope.contains",
        "query.division_code",
    )
    with pytest.raises(PermissionDenied):
        check_query(Scope("61"), "62", None)


def test_the_nation_has_a_reference_of_its_own() -> None:
    ref = division_ref("CN")
    assert (ref.code, ref.name, ref.level) == ("CN", "全国", 0)


@pytest.mark.parametrize(
    "method",
    [
        "/zhiyuan.registration.v1.RegistrationService/Summarize",
        "/zhiyuan.hours.v1.HoursService/Summarize",
        "/zhiyuan.registration.v1.RegistrationService/GetDivision",
        "/zhiyuan.registration.v1.RegistrationService/ListDivisions",
    ],
)
def test_the_nation_may_call_the_rollups_and_the_tree(method: str) -> None:
    NATION.check_method(method)


@pytest.mark.parametrize(
    "method",
    [
        "/zhiyuan.registration.v1.RegistrationService/ListVolunteers",
        "/zhiyuan.registration.v1.RegistrationService/CreateAccount",
        "/zhiyuan.hours.v1.HoursService/ListRecords",
        "/zhiyuan.hours.v1.HoursService/IssueCertificate",
        "/zhiyuan.registration.v1.RegistrationService/ListDivisionHistory",
        "/zhiyuan.registration.v1.RegistrationService/SummarizeVolunteers",
        "/zhiyuan.future.v1.FutureService/AnythingNew",
    ],
)
def test_every_other_method_refuses_the_nation(method: str) -> None:
    with pytest.raises(PermissionDenied) as err:
        NATION.check_method(method)
    assert err.value.rule == "scope.national"
    # A tenant is not stopped here (its scope is checked by the call).
    Principal("t", "t", "61", frozenset({"province_admin"}), 2**40).check_method(method)
