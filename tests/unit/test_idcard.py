"""Resident ID numbers (GB 11643-1999): each rule separately, then properties."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import InvalidArgument
from services.registration.idcard import (
    PROVINCE_CODES,
    ResidentId,
    check_character,
    make_id_number,
    parse_id_number,
)

TODAY = date(2024, 6, 1)
VALID = "11010519491231002X"


def with_check(first17: str) -> str:
    """A number with a correct check character, to isolate later rules."""
    return first17 + check_character(first17)


def rule_of(value: str, **kwargs) -> str:
    with pytest.raises(InvalidArgument) as caught:
        parse_id_number(value, today=TODAY, **kwargs)
    return caught.value.rule


def test_the_standard_example_is_valid():
    rid = parse_id_number(VALID, today=TODAY)
    assert rid.number == VALID
    assert rid.address_code == "110105"
    assert rid.birth_date == date(1949, 12, 31)
    assert rid.sex == "female"
    assert rid.age_on(TODAY) == 74


@pytest.mark.parametrize(
    "raw",
    [
        " 11010519491231002x ",
        "11010519491231002x\n",
        "１１０１０５１９４９１２３１００２ｘ",
    ],
)
def test_input_is_normalised(raw):
    assert parse_id_number(raw, today=TODAY).number == VALID


def test_check_character_of_the_example():
    assert check_character("11010519491231002") == "X"
    with pytest.raises(ValueError):
        check_character("1101051949123100")
    with pytest.raises(ValueError):
        check_character("1101051949123100A")


def test_sex_follows_the_sequence_parity():
    male = parse_id_number(make_id_number("610113", date(1990, 5, 6), 1), today=TODAY)
    female = parse_id_number(make_id_number("610113", date(1990, 5, 6), 2), today=TODAY)
    assert (male.sex, female.sex) == ("male", "female")


@pytest.mark.parametrize("raw", ["", "   "])
def test_empty_is_required(raw):
    assert rule_of(raw) == "id_number.required"


@pytest.mark.parametrize("raw", [VALID[:17], VALID + "1", "110105194912310", "1"])
def test_bad_length(raw):
    assert rule_of(raw) == "id_number.length"


@pytest.mark.parametrize(
    "raw",
    [
        "1101051949123100AX",
        "11010519491231002Y",
        "X1010519491231002X",
        "1101+519491231002X",
    ],
)
def test_non_digit(raw):
    assert rule_of(raw) == "id_number.format"


@pytest.mark.parametrize("last", [c for c in "0123456789X" if c != "X"])
def test_bad_checksum(last):
    assert rule_of(VALID[:17] + last) == "id_number.checksum"


@pytest.mark.parametrize(
    "birth", ["19490230", "19491301", "19490001", "19490100", "19000229"]
)
def test_impossible_birth_date(birth):
    assert rule_of(with_check(f"110105{birth}002")) == "id_number.birth_date"


def test_leap_day_birth_is_valid():
    rid = parse_id_number(with_check("11010520000229002"), today=TODAY)
    assert rid.birth_date == date(2000, 2, 29)
    assert rid.age_on(date(2001, 2, 28)) == 0
    assert rid.age_on(date(2001, 3, 1)) == 1


def test_future_birth_date():
    tomorrow = TODAY + timedelta(days=1)
    assert (
        rule_of(make_id_number("110105", tomorrow, 2)) == "id_number.birth_date_range"
    )
    assert parse_id_number(make_id_number("110105", TODAY, 2), today=TODAY)


def test_birth_before_1900():
    assert rule_of(with_check("11010518991231002")) == "id_number.birth_date_range"
    assert parse_id_number(with_check("11010519000101002"), today=TODAY)


@pytest.mark.parametrize("province", ["00", "10", "20", "66", "70", "83", "99"])
def test_unknown_province(province):
    assert rule_of(with_check(f"{province}010519491231002")) == "id_number.address_code"


def test_known_address_code_callback_is_consulted():
    seen: list[str] = []

    def known(code: str) -> bool:
        seen.append(code)
        return code.startswith("6101")

    assert rule_of(VALID, known_address_code=known) == "id_number.address_code"
    assert seen == ["110105"]
    ok = make_id_number("610113", date(1980, 1, 1), 7)
    assert parse_id_number(ok, today=TODAY, known_address_code=known).number == ok


def test_errors_name_the_field_and_never_echo_the_number():
    bad = VALID[:17] + "1"
    with pytest.raises(InvalidArgument) as caught:
        parse_id_number(bad, today=TODAY, field="guardian.id_number")
    err = caught.value
    assert err.field == "guardian.id_number"
    assert bad not in str(err) and "110105" not in str(err)
    assert err.message_zh == "校验位不正确，请检查号码是否输入有误"


def test_repr_is_masked():
    rid = parse_id_number(VALID, today=TODAY)
    assert repr(rid) == "ResidentId('1101**********002X')"
    assert VALID not in repr(rid) and VALID not in str(rid)


def test_age_and_guardian_consent_boundary():
    rid = parse_id_number(make_id_number("610113", date(2010, 6, 2), 3), today=TODAY)
    assert rid.age_on(date(2024, 6, 1)) == 13
    assert rid.requires_guardian_consent(date(2024, 6, 1))
    assert not rid.requires_guardian_consent(date(2024, 6, 2))
    with pytest.raises(ValueError):
        rid.age_on(date(2010, 6, 1))


@pytest.mark.parametrize(
    ("address", "sequence"),
    [("11010", 1), ("1101a5", 1), ("990105", 1), ("110105", 1000)],
)
def test_make_id_number_rejects_bad_parts(address, sequence):
    with pytest.raises(ValueError):
        make_id_number(address, date(1990, 1, 1), sequence)


def test_make_id_number_reproduces_the_example():
    assert make_id_number("110105", date(1949, 12, 31), 2) == VALID


address_codes = st.builds(
    lambda p, rest: p + rest,
    st.sampled_from(sorted(PROVINCE_CODES)),
    st.text(alphabet="0123456789", min_size=4, max_size=4),
)
birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)


@given(address_codes, birth_dates, st.integers(min_value=0, max_value=999))
def test_make_id_number_parses_back(address, born, sequence):
    rid = parse_id_number(make_id_number(address, born, sequence), today=TODAY)
    assert isinstance(rid, ResidentId)
    assert rid.address_code == address
    assert rid.birth_date == born
    assert rid.sex == ("male" if sequence % 2 else "female")


@given(
    address_codes,
    birth_dates,
    st.integers(min_value=0, max_value=999),
    st.integers(min_value=0, max_value=16),
    st.integers(min_value=1, max_value=9),
)
def test_any_single_digit_change_fails_the_checksum(address, born, seq, pos, delta):
    number = make_id_number(address, born, seq)
    changed = str((int(number[pos]) + delta) % 10)
    typo = number[:pos] + changed + number[pos + 1 :]
    # Every weight is non-zero modulo 11, so a one-digit typo always shows.
    assert check_character(typo[:17]) != typo[17]
    with pytest.raises(InvalidArgument):
        parse_id_number(typo, today=TODAY)
