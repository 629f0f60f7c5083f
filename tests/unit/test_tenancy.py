"""Division codes and the tenant scope: prefix rules and default deny."""

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import InvalidArgument, PermissionDenied
from services.common.tenancy import (
    Level,
    Scope,
    ancestors,
    child_level,
    is_within,
    level_of,
    parent_of,
    truncate,
    validate_code,
)

codes = st.sampled_from([2, 4, 6, 9, 12]).flatmap(
    lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n)
)


@st.composite
def code_pairs(draw):
    """A code and a candidate ancestor: half the time a real one."""
    code = draw(codes)
    if draw(st.booleans()):
        level = draw(st.sampled_from([lv for lv in Level if lv.width <= len(code)]))
        return code, truncate(code, level)
    return code, draw(codes)


def test_levels_have_widths_ranks_and_labels():
    assert [lv.width for lv in Level] == [2, 4, 6, 9, 12]
    assert [lv.rank for lv in Level] == [1, 2, 3, 4, 5]
    assert Level(9) is Level.TOWNSHIP
    assert Level.PROVINCE.label_zh == "省" and Level.PROVINCE.label_en == "province"
    assert Level.TOWNSHIP.label_zh == "乡镇（街道）"
    assert Level.VILLAGE.label_en == "village"


@pytest.mark.parametrize("code", ["61", "6101", "610113", "610113001", "610113001002"])
def test_validate_code_accepts_each_width(code):
    assert validate_code(code) == code


def test_validate_code_strips_blanks():
    assert validate_code(" 6101\n") == "6101"


@pytest.mark.parametrize("code", ["6", "610", "61011", "6101130", "61011300", "1" * 13])
def test_validate_code_rejects_wrong_width(code):
    with pytest.raises(InvalidArgument) as caught:
        validate_code(code)
    assert caught.value.rule == "division_code.width"
    assert caught.value.field == "division_code"


@pytest.mark.parametrize("code", ["", "61a1", "61-01", "６１", "61 01"])
def test_validate_code_rejects_non_digits(code):
    with pytest.raises(InvalidArgument) as caught:
        validate_code(code, field="team.division_code")
    assert caught.value.rule == "division_code.format"
    assert caught.value.field == "team.division_code"


def test_validate_code_rejects_non_strings():
    with pytest.raises(InvalidArgument):
        validate_code(61)  # type: ignore[arg-type]


def test_level_parent_and_ancestors():
    assert level_of("610113001") is Level.TOWNSHIP
    assert parent_of("610113001002") == "610113001"
    assert parent_of("6101") == "61"
    assert parent_of("61") is None
    assert ancestors("610113001002") == [
        "61",
        "6101",
        "610113",
        "610113001",
        "610113001002",
    ]
    assert ancestors("61", include_self=False) == []


def test_is_within():
    assert is_within("610113", "61")
    assert is_within("610113", "610113")
    assert not is_within("61", "6101")
    assert not is_within("620113", "61")
    with pytest.raises(InvalidArgument):
        is_within("610113", "610")


def test_child_level():
    assert child_level(Level.PROVINCE) is Level.CITY
    assert child_level(Level.COUNTY) is Level.TOWNSHIP
    assert child_level(Level.VILLAGE) is None


def test_truncate():
    assert truncate("610113001002", Level.CITY) == "6101"
    assert truncate("6101", Level.CITY) == "6101"
    with pytest.raises(InvalidArgument) as caught:
        truncate("6101", Level.COUNTY)
    assert caught.value.rule == "division_code.level"


def test_scope_contains_its_subtree_only():
    scope = Scope("6101")
    assert scope.contains("6101")
    assert scope.contains("610113001002")
    assert not scope.contains("61")
    assert not scope.contains("6102")
    assert scope.level is Level.CITY
    assert str(scope) == "6101" and scope.like_pattern == "6101%"


def test_scope_validates_and_normalises():
    assert Scope(" 61 ").code == "61"
    with pytest.raises(InvalidArgument) as caught:
        Scope("610")
    assert caught.value.field == "scope"


def test_scope_is_frozen_and_hashable():
    scope = Scope("61")
    with pytest.raises(dataclasses.FrozenInstanceError):
        scope.code = "62"  # type: ignore[misc]
    assert {Scope("61"), Scope("61")} == {scope}


def test_require_returns_code_inside_and_denies_outside():
    scope = Scope("610113")
    assert scope.require("610113001", "activity.division_code") == "610113001"
    with pytest.raises(PermissionDenied) as caught:
        scope.require("610114001", "activity.division_code")
    assert caught.value.field == "activity.division_code"
    assert caught.value.rule == "scope.contains"


def test_require_reports_malformed_code_as_invalid_argument():
    with pytest.raises(InvalidArgument) as caught:
        Scope("61").require("61x", "team.division_code")
    assert caught.value.field == "team.division_code"


def test_narrow():
    assert Scope("61").narrow("610113") == Scope("610113")
    with pytest.raises(PermissionDenied):
        Scope("6101").narrow("6102")


@pytest.mark.parametrize("claim", [None, "", "   "])
def test_from_claim_denies_missing_scope(claim):
    with pytest.raises(PermissionDenied) as caught:
        Scope.from_claim(claim)
    assert caught.value.rule == "scope.required"


@pytest.mark.parametrize("claim", ["610", "all", "*", 61])
def test_from_claim_denies_malformed_scope(claim):
    with pytest.raises(PermissionDenied) as caught:
        Scope.from_claim(claim)
    assert caught.value.rule == "scope.malformed"


def test_from_claim_accepts_a_code():
    assert Scope.from_claim("610113") == Scope("610113")


@given(code_pairs())
def test_is_within_agrees_with_ancestors(pair):
    code, ancestor = pair
    assert is_within(code, ancestor) == (ancestor in ancestors(code))
    assert Scope(ancestor).contains(code) == is_within(code, ancestor)


@given(codes)
def test_ancestor_chain_is_consistent(code):
    chain = ancestors(code)
    assert chain[-1] == code
    assert [len(c) for c in chain] == [lv.width for lv in Level][: len(chain)]
    assert parent_of(code) == (chain[-2] if len(chain) > 1 else None)
    assert all(is_within(code, a) for a in chain)
    assert truncate(code, level_of(code)) == code


@given(code_pairs())
def test_narrowed_scope_stays_inside(pair):
    code, ancestor = pair
    outer = Scope(ancestor)
    if outer.contains(code):
        inner = outer.narrow(code)
        assert outer.contains(inner.code)
        assert inner.level.width >= outer.level.width
        assert outer.code in ancestors(inner.code)
    else:
        with pytest.raises(PermissionDenied):
            outer.narrow(code)
