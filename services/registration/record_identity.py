"""Volunteers found by full ID number, for a record file imported into hours
(:mod:`services.hours.record_import`): the keyed hash registration keeps
duplicates by, in the caller's scope. An operator path beside
:func:`services.registration.bulk.directory`; nothing leaves but volunteer
numbers, ids and national numbers.

The national unified volunteer number (MZ/T 061, revision 0011) is kept
here too: :func:`people` tells the import each volunteer's id and stored
national number, :func:`set_national` stores a number from the file where
none is stored (never replacing one).

Example::

    find, close = directory()
    find(Scope("610113"), ["11010519491231002X"])  # {"1101…002X": "ZY61…"}
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select, update

from services.common.db import Database
from services.common.pii import PiiCipher
from services.common.tenancy import Scope
from services.registration.models import Volunteer

Find = Callable[[Scope, Sequence[str]], dict[str, str]]
# The national unified volunteer number. Neither DOMAIN.md nor MZ/T 061 as
# quoted in the docs gives its layout: ASCII letters and digits, 6 to 32.
NATIONAL_NUMBER = re.compile(r"^[0-9A-Za-z]{6,32}\Z")


def is_national_number(value: str) -> bool:
    """Whether ``value`` has the (conservative) national number's shape:
    full-width digits, spaces, punctuation and control characters are not."""
    return bool(NATIONAL_NUMBER.match(value))


@dataclass(frozen=True)
class Person:
    """A volunteer as the record import needs it."""

    id: str
    volunteer_number: str
    national_volunteer_number: str  # "" when none is stored


def people(db: Database, scope: Scope, numbers: Sequence[str]) -> dict[str, Person]:
    """Volunteer number → the volunteer, for volunteers at home in
    ``scope``; a number of no one there is simply absent."""
    if not numbers:
        return {}
    v = Volunteer
    with db.session(scope) as s:
        q = select(v.id, v.volunteer_number, v.national_volunteer_number).where(
            v.volunteer_number.in_(sorted(set(numbers))),
            v.home_division_code.like(scope.like_pattern),
        )
        return {n: Person(i, n, nat or "") for i, n, nat in s.execute(q).tuples()}


def set_national(db: Database, scope: Scope, numbers: Mapping[str, str]) -> int:
    """Store ``volunteer id → national number`` for volunteers at home in
    ``scope`` that have none yet (a stored one is never replaced); the
    number of volunteers written."""
    written = 0
    if not numbers:
        return 0
    v = Volunteer
    with db.session(scope) as s:
        for vid, national in sorted(numbers.items()):
            if not is_national_number(national):
                raise ValueError(f"not a national volunteer number: {national!r}")
            got = s.execute(
                update(v)
                .where(
                    v.id == vid,
                    v.home_division_code.like(scope.like_pattern),
                    v.national_volunteer_number.is_(None),
                )
                .values(national_volunteer_number=national)
            )
            written += int(getattr(got, "rowcount", 0) or 0)
    return written


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


@dataclass(frozen=True)
class Directory:
    """:func:`people` and :func:`set_national` over one database (the
    record import's registry)."""

    db: Database

    def people(self, scope: Scope, numbers: Sequence[str]) -> dict[str, Person]:
        return people(self.db, scope, numbers)

    def set_national(self, scope: Scope, numbers: Mapping[str, str]) -> int:
        return set_national(self.db, scope, numbers)


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
