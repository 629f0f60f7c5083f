"""A volunteer's own registration, record and sign-in, through the use cases
in memory (the fakes of ``registration_fakes``). The same rules run through
gRPC and PostgreSQL in tests/integration/test_self_registration.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from services.common.auth import Principal
from services.common.errors import (
    AlreadyExists,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from services.registration.application import Guardian
from services.registration.idcard import make_id_number
from services.registration.models import Account, Volunteer
from services.registration.usecases.accounts import sign_in_name
from services.registration.usecases.selfservice import SelfRegistration
from tests.unit.test_registration_usecases import (
    ADMIN,
    ADULT,
    COUNTY,
    TOWN,
    Kit,
    make_kit,
)

PHONE = "13800138000"
SECRET = "my-own-password"  # noqa: S105 - a test volunteer's password
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


@pytest.fixture
def kit(monkeypatch: pytest.MonkeyPatch) -> Iterator[Kit]:
    yield from make_kit(monkeypatch)


def form(**kw: Any) -> SelfRegistration:
    values: dict[str, Any] = {
        "name": "王小明",
        "id_number": ADULT,
        "phone": PHONE,
        "home_division_code": TOWN,
        "service_fields": ["elderly_care"],
        "skills": ["急救", "驾驶"],
        "password": SECRET,
    }
    values.update(kw)
    return SelfRegistration(**values)


def nothing_written(kit: Kit) -> None:
    assert kit.store.of(Volunteer) == [] and kit.store.of(Account) == []
    assert kit.uow.events == [] and kit.uow.bumps == {}
    assert kit.store.serials.get("volunteer_number", 0) == 0


def test_a_self_registration_is_pending_with_an_account_bound_to_it(kit: Kit) -> None:
    vol, acc = kit.app.self_service.self_register(form(), "203.0.113.5")
    assert (vol.status, vol.registered_by, vol.skills) == (
        "pending", "self", ["急救", "驾驶"],
    )  # fmt: skip
    assert (acc.username, acc.roles, acc.scope_code, acc.volunteer_id) == (
        vol.volunteer_number, ["volunteer"], TOWN, vol.id,
    )  # fmt: skip
    assert acc.display_name == "王**" and PHONE not in (acc.phone_hash or "")
    assert [t for t, _, _ in kit.uow.events] == ["registration.volunteer.registered"]
    assert kit.guard.failures == [["register:203.0.113.5"]]  # every attempt counts
    # The office's queue sees it like any registration.
    assert kit.app.people.get_volunteer(ADMIN, vol.id)[0].status == "pending"


@pytest.mark.parametrize(
    "typed",
    ["number", "number-lower", PHONE, "+86 138-0013-8000", PHONE.translate(FULL_WIDTH)],
)
def test_a_volunteer_signs_in_by_number_or_phone_with_the_vol_claim(
    kit: Kit, typed: str
) -> None:
    vol, acc = kit.app.self_service.self_register(form())
    name = {
        "number": vol.volunteer_number,
        "number-lower": vol.volunteer_number.lower(),
    }
    token, _exp, got = kit.app.accounts.login(name.get(typed, typed), SECRET, "c")
    claims = kit.verifier.verify(token)
    assert (claims.volunteer_id, claims.subject, claims.username) == (
        vol.id, acc.id, vol.volunteer_number,
    )  # fmt: skip
    assert got.volunteer_id == vol.id
    # Failures of a phone count against the account it names.
    kit.guard.failures.clear()
    with pytest.raises(Exception, match="wrong username or password"):
        kit.app.accounts.login(PHONE, "not-the-password", "c")
    assert kit.guard.failures == [
        [f"account:{vol.volunteer_number.lower()}", "client:c"]
    ]


def test_sign_in_names_are_read_as_the_existing_checks_read_them() -> None:
    assert sign_in_name("１３８００１３８０００") == ("phone", PHONE)
    assert sign_in_name(" zy610000000001 ") == ("username", "ZY610000000001")
    assert sign_in_name("yanta-admin") == ("username", "yanta-admin")
    assert sign_in_name("1380013800") == ("username", "1380013800")  # 10 digits


def test_a_registered_id_number_is_refused_without_saying_where(kit: Kit) -> None:
    kit.app.people.register_volunteer(
        ADMIN, "王小明", ADULT, "13900139000", TOWN, [], None, ""
    )
    before = (len(kit.store.rows), list(kit.uow.events), dict(kit.store.serials))
    with pytest.raises(AlreadyExists) as err:
        kit.app.self_service.self_register(
            form(id_number=ADULT.translate(FULL_WIDTH), home_division_code=TOWN)
        )
    assert (err.value.field, err.value.rule) == ("id_number", "id_number.unique")
    assert err.value.message_en == "already registered; sign in or ask your office"
    assert (
        err.value.message_zh == "该身份证号已注册，请直接登录或联系所在地志愿服务组织"
    )
    assert TOWN not in str(err.value) and COUNTY not in str(err.value)
    assert (len(kit.store.rows), kit.uow.events, kit.store.serials) == before


def test_a_phone_signs_in_to_one_account_only(kit: Kit) -> None:
    kit.app.self_service.self_register(form())
    other = make_id_number(COUNTY, date(1992, 2, 2), 33)
    with pytest.raises(AlreadyExists) as err:
        kit.app.self_service.self_register(form(id_number=other))
    assert (err.value.field, err.value.rule) == ("phone", "phone.unique")
    assert len(kit.store.of(Volunteer)) == len(kit.store.of(Account)) == 1


CHILD = make_id_number(COUNTY, date(2014, 6, 1), 44)


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"id_number": ADULT[:17] + "0"}, "id_number", "id_number.checksum"),
        ({"home_division_code": COUNTY}, "home_division_code",
         "home_division_code.level"),
        ({"home_division_code": "610113999"}, "home_division_code",
         "home_division_code.exists"),
        ({"home_division_code": "61011300"}, "home_division_code", None),
        ({"name": "\r"}, "name", "name.required"),
        ({"name": "王\r小明"}, "name", "name.characters"),
        ({"password": "short"}, "password", "password.min_length"),
        ({"id_number": CHILD}, "guardian", "guardian.required_under_14"),
        ({"skills": ["x" * 21]}, "skills", "skills.max_length"),
        ({"skills": [f"s{n}" for n in range(11)]}, "skills", "skills.max_items"),
        ({"service_fields": ["juggling"]}, "service_fields", None),
        ({"phone": "1234"}, "phone", "phone.format"),
    ],
)  # fmt: skip
def test_bad_input_names_the_field_and_writes_nothing(
    kit: Kit, change: dict[str, Any], field: str, rule: str | None
) -> None:
    with pytest.raises(InvalidArgument) as err:
        kit.app.self_service.self_register(form(**change))
    assert err.value.field == field
    if rule is not None:
        assert err.value.rule == rule
    assert err.value.message_zh and err.value.message_en
    nothing_written(kit)


def test_a_child_registers_with_a_guardians_consent(kit: Kit) -> None:
    g = Guardian("王大明", "13900139001", "父亲", consent=True)
    vol, _acc = kit.app.self_service.self_register(form(id_number=CHILD, guardian=g))
    assert vol.guardian_enc is not None


def test_a_repeated_request_answers_only_to_the_same_person(kit: Kit) -> None:
    first, acc = kit.app.self_service.self_register(form(request_id="r-1"))
    again, same = kit.app.self_service.self_register(form(request_id="r-1"))
    assert (again.id, same.id) == (first.id, acc.id)
    with pytest.raises(AlreadyExists):  # the same key without the password
        kit.app.self_service.self_register(form(request_id="r-1", password="x" * 12))
    assert len(kit.store.of(Volunteer)) == 1 and len(kit.uow.events) == 1


def test_me_is_the_callers_own_record_only(kit: Kit) -> None:
    vol, acc = kit.app.self_service.self_register(form())
    p = Principal(
        acc.id, acc.username, TOWN, frozenset({"volunteer"}), 0, volunteer_id=vol.id
    )
    got, teams, account = kit.app.self_service.me(p)
    assert (got.id, teams, account.id) == (vol.id, [], acc.id)
    with pytest.raises(PermissionDenied):  # an office account is no volunteer
        kit.app.self_service.me(ADMIN)


def test_public_divisions_are_the_active_children(kit: Kit) -> None:
    assert [d.code for d in kit.app.self_service.public_divisions("")] == ["61"]
    assert [d.code for d in kit.app.self_service.public_divisions(COUNTY)] == [TOWN]
    with pytest.raises(NotFound):
        kit.app.self_service.public_divisions("62")
    with pytest.raises(InvalidArgument) as err:
        kit.app.self_service.public_divisions("6x")
    assert err.value.field == "parent_code"
