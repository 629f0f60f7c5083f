"""Rollup rows of every service carry the division's name, not just its code."""

from __future__ import annotations

from services.activity import convert as activity_convert
from services.common.divisions import name_of
from services.hours import convert as hours_convert


def test_names_come_from_the_reference_tree():
    assert name_of("61") == "陕西省"
    assert name_of("6101") == "西安市"
    assert name_of("610113") == "雁塔区"
    assert name_of("999999") == ""


def test_activity_and_hours_label_their_rollup_rows():
    for convert in (activity_convert, hours_convert):
        ref = convert._ref("610116")
        assert (ref.code, ref.name) == ("610116", "长安区")
