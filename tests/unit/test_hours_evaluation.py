"""Evaluation rules without I/O (issue 14): the score is one ASCII digit
1-5 (full-width digits, fractions, words and blanks refused, naming the
field and the rule in both languages); comments and complaint texts are
cleaned like other prose (a bare CR or NUL refused, one past the bound
refused); the tenant policy's poor threshold and blocks are read from the
settings as inherited, with their rules enforced where they are set."""

from __future__ import annotations

import json

import pytest

from services.common.errors import InvalidArgument
from services.common.settings import effective_settings, parse_setting
from services.hours import domain
from services.hours import validation as v


@pytest.mark.parametrize("raw", ["1", "3", "5", " 4 "])
def test_a_score_is_one_ascii_digit_from_1_to_5(raw: str) -> None:
    assert v.score(raw) == int(raw.strip())


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("", "score.required"),
        ("  ", "score.required"),
        ("0", "score.range"),
        ("6", "score.range"),
        ("５", "score.range"),  # full-width five
        ("٣", "score.range"),  # Arabic-Indic three: int() would read it
        ("4.5", "score.range"),
        ("45", "score.range"),
        ("优", "score.range"),
        ("-1", "score.range"),
    ],
)
def test_a_bad_score_names_the_field_and_the_rule(raw: str, rule: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        v.score(raw)
    assert (err.value.field, err.value.rule) == ("score", rule)
    assert err.value.message_zh and err.value.message_en


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("认真\r负责", "comment.characters"),
        ("认\x00真", "comment.characters"),
        ("长" * 501, "comment.max_length"),
        (" ", "comment.required"),
    ],
)
def test_a_comment_is_cleaned_like_other_prose(raw: str, rule: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        v.prose(raw, "comment", 500)
    assert err.value.rule == rule


def test_a_comment_keeps_its_line_breaks() -> None:
    assert v.prose(" 认真\n负责 ", "comment", 500) == "认真\n负责"


def test_every_score_has_a_grade() -> None:
    assert [domain.GRADES[s] for s in range(1, 6)] == ["差", "较差", "中", "良", "优"]


def _policy(node: str, overrides: dict[str, dict[str, object]]) -> domain.Policy:
    as_json = {
        code: {k: json.dumps(x) for k, x in values.items()}
        for code, values in overrides.items()
    }
    return domain.Policy.from_settings(effective_settings(node, as_json))


def test_by_default_a_score_of_at_most_2_is_poor_and_blocks_nothing() -> None:
    policy = _policy("610113001", {})
    assert [policy.poor(s) for s in range(1, 6)] == [True, True, False, False, False]
    assert policy.poor_blocks == frozenset()


def test_the_policy_is_inherited_and_a_child_may_override_it() -> None:
    overrides: dict[str, dict[str, object]] = {
        "61": {"evaluation.poor_max_score": 3, "evaluation.poor_blocks": ["stars"]},
        "610113": {"evaluation.poor_max_score": 0},
    }
    province = _policy("610103001", overrides)
    assert province.poor(3) and not province.poor(4)
    assert province.poor_blocks == frozenset({"stars"})
    yanta = _policy("610113001", overrides)
    assert not any(yanta.poor(s) for s in range(1, 6))  # 0: none is poor
    assert yanta.poor_blocks == frozenset({"stars"})  # still inherited
    # The hour policy's sources stay the hour settings' own.
    assert "evaluation.poor_max_score" not in yanta.sources


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("evaluation.poor_max_score", "5"),
        ("evaluation.poor_max_score", "-1"),
        ("evaluation.poor_max_score", "2.5"),
        ("evaluation.poor_max_score", "true"),
        ("evaluation.poor_blocks", '["stars", "stars"]'),
        ("evaluation.poor_blocks", '["medals"]'),
        ("evaluation.poor_blocks", '"stars"'),
    ],
)
def test_the_policy_settings_refuse_bad_values(key: str, value: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        parse_setting(key, value)
    assert err.value.field == f"set_json.{key}"
    assert err.value.rule == f"settings.{key}"


def test_the_policy_settings_accept_good_values() -> None:
    assert parse_setting("evaluation.poor_max_score", "0") == 0
    assert parse_setting("evaluation.poor_blocks", '["nominations", "stars"]') == [
        "nominations",
        "stars",
    ]
