"""The platform error hierarchy: codes, messages, helpers, pickling."""

import pickle
import re

import pytest

from services.common.errors import (
    ERRORS_BY_CODE,
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    ZhiyuanError,
)

CJK = re.compile(r"[\u4e00-\u9fff]")

HELPER_ERRORS = [
    InvalidArgument.required("name"),
    InvalidArgument.too_long("name", 50),
    NotFound.entity("volunteer", "志愿者", "V0001"),
    AlreadyExists.entity("team", "队伍", "T7", field="name"),
    FailedPrecondition.transition("hours record", "时长记录", "approved", "draft"),
    PermissionDenied.outside_scope("division_code", "6102", "6101"),
    PermissionDenied.no_scope(),
    PermissionDenied.missing_role("reviewer"),
    Unauthenticated.missing_token(),
    Unauthenticated.invalid_token(),
]


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (InvalidArgument, "INVALID_ARGUMENT"),
        (NotFound, "NOT_FOUND"),
        (AlreadyExists, "ALREADY_EXISTS"),
        (FailedPrecondition, "FAILED_PRECONDITION"),
        (PermissionDenied, "PERMISSION_DENIED"),
        (Unauthenticated, "UNAUTHENTICATED"),
    ],
)
def test_each_class_has_its_code_and_is_registered(cls, code):
    assert cls.code == code
    assert issubclass(cls, ZhiyuanError)
    assert ERRORS_BY_CODE[code] is cls


def test_registry_holds_exactly_the_seven_codes():
    assert set(ERRORS_BY_CODE) == {
        "INVALID_ARGUMENT",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "FAILED_PRECONDITION",
        "PERMISSION_DENIED",
        "UNAUTHENTICATED",
        "RESOURCE_EXHAUSTED",
    }


def test_str_names_field_then_both_languages():
    err = InvalidArgument("phone", "phone.format", "must be 11 digits", "应为 11 位")
    assert str(err) == "phone: must be 11 digits / 应为 11 位"
    assert (err.field, err.rule) == ("phone", "phone.format")
    assert err.code == "INVALID_ARGUMENT"


def test_str_without_field_has_no_prefix():
    err = NotFound("activity 'A1' was not found", "未找到活动“A1”")
    assert str(err) == "activity 'A1' was not found / 未找到活动“A1”"
    assert err.field is None and err.rule is None


def test_errors_are_raisable_and_catchable_by_base():
    with pytest.raises(ZhiyuanError) as caught:
        raise PermissionDenied.no_scope()
    assert caught.value.code == "PERMISSION_DENIED"
    assert caught.value.rule == "scope.required"


@pytest.mark.parametrize("err", HELPER_ERRORS, ids=lambda e: f"{type(e).__name__}")
def test_helpers_give_real_chinese_and_english(err):
    assert CJK.search(err.message_zh), err.message_zh
    assert not CJK.search(err.message_en), err.message_en
    assert err.message_en and err.message_en != err.message_zh


@pytest.mark.parametrize("err", HELPER_ERRORS, ids=lambda e: f"{type(e).__name__}")
def test_pickle_round_trip_keeps_type_and_fields(err):
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is type(err)
    assert copy.to_dict() == err.to_dict()
    assert str(copy) == str(err)


def test_required_and_too_long_rules_name_the_field():
    assert InvalidArgument.required("name").rule == "name.required"
    assert InvalidArgument.required("name").message_zh == "此项为必填项"
    too_long = InvalidArgument.too_long("team.name", 50)
    assert too_long.rule == "team.name.max_length"
    assert "50" in too_long.message_en and "50" in too_long.message_zh


def test_not_found_and_already_exists_messages():
    err = NotFound.entity("volunteer", "志愿者", "V0001")
    assert err.message_en == "volunteer 'V0001' was not found"
    assert err.message_zh == "未找到志愿者“V0001”"
    dup = AlreadyExists.entity("team", "队伍", "T7", field="name")
    assert (dup.field, dup.rule) == ("name", "name.unique")
    assert dup.message_zh == "队伍“T7”已存在"
    assert AlreadyExists.entity("team", "队伍", "T7").rule is None


def test_transition_names_both_states():
    err = FailedPrecondition.transition("nomination", "推选申报", "awarded", "draft")
    assert "awarded" in err.message_en and "draft" in err.message_en
    assert err.message_zh == "推选申报当前状态为 awarded，不能变更为 draft"
    assert err.rule == "state.transition"


def test_outside_scope_names_field_code_and_scope():
    err = PermissionDenied.outside_scope("team.division_code", "6102", "6101")
    assert err.field == "team.division_code"
    assert str(err).startswith("team.division_code: 6102 ")
    assert "6101" in err.message_zh


def test_to_dict_omits_absent_field_and_rule():
    assert Unauthenticated.missing_token().to_dict() == {
        "code": "UNAUTHENTICATED",
        "message_en": "authentication is required",
        "message_zh": "请先登录",
    }
    body = InvalidArgument.required("name").to_dict()
    assert body["field"] == "name" and body["rule"] == "name.required"


def test_invalid_token_does_not_say_which_check_failed():
    assert Unauthenticated.invalid_token().rule is None
    assert "expired" in Unauthenticated.invalid_token().message_en
