"""Names of the national division tree (province to township) from the
reference files every service ships, for labelling rollup rows. The tree
itself, with run-time changes, is registration's; a rename made at run time
shows here only after the next release of the reference files.

Example::

    name_of("610113")   # '雁塔区'
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

REFERENCE = Path(__file__).parent / "reference"
FILES = ("provinces.csv", "cities.csv", "areas.csv", "streets.csv")


@cache
def _names() -> dict[str, str]:
    names: dict[str, str] = {}
    for filename in FILES:
        with open(REFERENCE / filename, encoding="utf-8") as fh:
            names.update((row["code"], row["name"]) for row in csv.DictReader(fh))
    return names


def name_of(code: str) -> str:
    """The division's name, or '' for a code the reference does not know."""
    return _names().get(code, "")


@cache
def province_codes() -> tuple[str, ...]:
    """The provinces of the shipped tree, by code: the children of the
    nation that a national rollup read visits in turn.

    Example::

        "61" in province_codes()   # True
    """
    with open(REFERENCE / "provinces.csv", encoding="utf-8") as fh:
        return tuple(sorted(row["code"] for row in csv.DictReader(fh)))
