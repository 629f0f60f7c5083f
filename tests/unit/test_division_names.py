"""Rollup rows of every service carry the division's name, not just its code."""

from __future__ import annotations

from services.activity import convert as activity_convert
from services.common.divisions import name_of
from services.common.rollup_query import RollupResult
from services.hours import convert as hours_convert
from services.registration import convert as registration_convert


def test_names_come_from_the_reference_tree():
    assert name_of("61") == "陕西省"
    assert name_of("6101") == "西安市"
    assert name_of("610113") == "雁塔区"
    assert name_of("999999") == ""


def test_activity_and_hours_label_their_rollup_rows():
    result = RollupResult([("610116", "", {"m": 1.0})], {"m": 1.0}, "6101", ["m"])
    for convert in (activity_convert, hours_convert):
        message = convert.rollup(result)
        assert message.rows[0].division.name == "长安区"
        assert message.total.division.name == "西安市"


def test_live_names_win_over_the_shipped_tree():
    result = RollupResult([], {}, "610113", [], names={"610113": "新雁塔区"})
    assert registration_convert.rollup(result).total.division.name == "新雁塔区"
