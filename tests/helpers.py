"""Small helpers for tests (not fixtures)."""

from __future__ import annotations

import itertools
from datetime import date

from services.registration.idcard import make_id_number

_serial = itertools.count(1)


def auth(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


def new_id_number(county: str = "610113", born: date = date(1990, 5, 17)) -> str:
    """A valid, never-before-used resident ID number for ``county``."""
    n = next(_serial)
    return make_id_number(county, born.replace(day=1 + n % 28), 1 + (n * 7) % 998)


def new_phone() -> str:
    return f"139{next(_serial):08d}"
