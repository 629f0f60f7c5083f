"""Volunteers found by full ID number, for a record file imported into hours
(:mod:`services.hours.record_import`): the keyed hash registration keeps
duplicates by, in the caller's scope. An operator path beside
:func:`services.registration.bulk.directory`; nothing leaves but volunteer
numbers.

Example::

    find, close = directory()
    find(Scope("610113"), ["11010519491231002X"])  # {"1101…002X": "ZY61…"}
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import select

from services.common.db import Database
from services.common.pii import PiiCipher
from services.common.tenancy import Scope
from services.registration.models import Volunteer

Find = Callable[[Scope, Sequence[str]], dict[str, str]]


def by_id_number(
    db: Database, cipher: PiiCipher, scope: Scope, numbers: Sequence[str]
) -> dict[str, str]:
    """ID number → volunteer number, for volunteers whose home lies in
    ``scope``; a number of no one there is simply absent."""
    if not numbers:
        return {}
    hashes = cipher.blind_index_many(list(numbers), context="volunteer.id_number")
    by_hash = dict(zip(hashes, numbers, strict=True))
    with db.session(scope) as s:
        q = select(Volunteer.id_hash, Volunteer.volunteer_number).where(
            Volunteer.id_hash.in_(hashes),
            Volunteer.home_division_code.like(scope.like_pattern),
        )
        return {by_hash[h]: n for h, n in s.execute(q).tuples()}


def directory(
    db: Database | None = None, cipher: PiiCipher | None = None
) -> tuple[Find, Callable[[], None]]:
    """(find, close) over registration's database and the personal-data key
    (from the configuration unless given)."""
    from services.common.config import load

    own = db is None
    cfg = load()
    if db is None:
        db = Database(cfg.service("registration"))
    if cipher is None:
        from services.common.keys import pii_cipher

        cipher = pii_cipher(cfg)
    reg, key = db, cipher

    def close() -> None:
        if own:
            reg.dispose()

    return (lambda scope, numbers: by_id_number(reg, key, scope, numbers)), close
