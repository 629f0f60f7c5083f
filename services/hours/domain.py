"""Hours' pure rules: rounding, daily caps, overlapping intervals, the hour
policy inherited down the tree, the time-bank ledger and certificate numbers.
No I/O, no framework imports: the worker, the use cases and the property
tests all run these same functions.

Example:
    >>> round_hours(50 * 60, "chongqing"), round_hours(50 * 60, "exact")
    (Decimal('1.00'), Decimal('0.83'))
    >>> apply_cap(Decimal("7"), Decimal("3"), Decimal("8"))
    (Decimal('1'), Decimal('2'))
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from services.common.errors import FailedPrecondition
from services.common.roles import ADMINS as ADMINS
from services.common.roles import MANAGERS
from services.common.roles import READERS as READERS
from services.common.rollup import CST
from services.common.settings import value

# Who may do what in hours. Role names are the platform's (registration
# issues them); which of them may review hours is this service's decision.
WRITERS = MANAGERS  # record, review, correct, certify, exchange

CENT = Decimal("0.01")
ROUNDINGS = ("exact", "half_hour", "chongqing")


def hours(value: Decimal | float | int | str) -> Decimal:
    """A number of hours to two places (half up), the unit everything stores."""
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


# -- rounding ----------------------------------------------------------------


def round_hours(seconds: int, rounding: str) -> Decimal:
    """Hours credited for ``seconds`` of actual service under a policy.

    * ``exact``: to 0.01 h;
    * ``half_hour``: to the nearest 0.5 h (a quarter hour rounds up);
    * ``chongqing``: whole hours, and of the last started hour a remainder of
      at most 15 min counts 0, up to 45 min 0.5 h, more than 45 min 1 h.

    Example:
        >>> [str(round_hours(m * 60, "chongqing")) for m in (15, 16, 45, 46)]
        ['0.00', '0.50', '0.50', '1.00']
    """
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    if rounding == "exact":
        return hours(Decimal(seconds) / 3600)
    if rounding == "half_hour":
        halves = (Decimal(seconds) / 1800).quantize(Decimal(1), ROUND_HALF_UP)
        return hours(halves / 2)
    if rounding == "chongqing":
        full, rest = divmod(seconds, 3600)
        part = (
            Decimal(0)
            if rest <= 900
            else Decimal("0.5")
            if rest <= 2700
            else Decimal(1)
        )
        return hours(full + part)
    raise ValueError(f"unknown rounding {rounding!r}")


def apply_cap(
    day_total: Decimal, rounded: Decimal, cap: Decimal
) -> tuple[Decimal, Decimal]:
    """(credited, capped): what fits under the day's cap after ``day_total``
    hours already credited that day, and what the cap removed."""
    room = max(Decimal(0), cap - day_total)
    credited = min(rounded, room)
    return credited, rounded - credited


# -- intervals ---------------------------------------------------------------


class Interval(NamedTuple):
    """A half-open interval [start, end): touching intervals do not overlap."""

    start: Any
    end: Any

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end


def counted_interval(
    checked_in: datetime,
    checked_out: datetime,
    session_start: datetime | None,
    session_end: datetime | None,
) -> Interval | None:
    """The service time of a check-in/out, clipped to its session (arriving
    early or leaving late is not service); ``None`` when nothing is left."""
    start = max(checked_in, session_start) if session_start else checked_in
    end = min(checked_out, session_end) if session_end else checked_out
    return Interval(start, end) if end > start else None


def service_day(moment: datetime) -> date:
    """The China-time day a record counts towards (the day it started)."""
    return moment.astimezone(CST).date()


# -- the hour policy -------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """The hour settings in force at a node (see ``services.common.settings``)."""

    rounding: str = "exact"
    daily_cap: Decimal = Decimal(12)
    excluded_kinds: frozenset[str] = frozenset({"donation"})
    deposit_ratio: Decimal = Decimal(1)
    sources: dict[str, str] = field(default_factory=dict)
    # An evaluation scoring at most this is poor (0: none is), and what a
    # poor one blocks (commendation's to enforce).
    poor_max_score: int = 2
    poor_blocks: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, rows: list[tuple[str, str, str]]) -> Policy:
        """From :func:`services.common.settings.effective_settings` rows."""
        # The hour settings' sources (the evaluation policy's are not
        # listed: GetHourPolicy's sources describe the hour policy).
        keys = ("hours.rounding", "hours.daily_cap", "hours.excluded_kinds")
        return cls(
            rounding=value(rows, "hours.rounding"),
            daily_cap=hours(value(rows, "hours.daily_cap")),
            excluded_kinds=frozenset(value(rows, "hours.excluded_kinds")),
            deposit_ratio=Decimal(str(value(rows, "timebank.deposit_ratio"))),
            sources={
                k: s for k, _, s in rows if k in (*keys, "timebank.deposit_ratio")
            },
            poor_max_score=int(value(rows, "evaluation.poor_max_score")),
            poor_blocks=frozenset(value(rows, "evaluation.poor_blocks")),
        )

    def poor(self, score: int) -> bool:
        """Whether an evaluation of ``score`` is poor under this policy."""
        return score <= self.poor_max_score


# -- evaluations ----------------------------------------------------------------

# The evaluation scale (评价): five grades, as township assessment plans
# (考核) grade service quality; the number is what policy compares.
GRADES: dict[int, str] = {5: "优", 4: "良", 3: "中", 2: "较差", 1: "差"}


def bank_code(division_code: str) -> str:
    """The time bank a record's deposit goes to: its county (a node above
    county level banks for itself). Counties run the bank, as they run the
    tenant that reviews the hours."""
    return division_code[:6]


# -- the time-bank ledger ------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One leg of a transaction: positive credits the account, negative debits."""

    account: str
    amount: Decimal


def bank_account(code: str) -> str:
    return f"bank:{code}"


def volunteer_account(volunteer_id: str) -> str:
    return f"volunteer:{volunteer_id}"


def check_balanced(entries: Sequence[Entry]) -> None:
    """Double entry: every transaction's legs sum to exactly zero."""
    if len(entries) < 2 or sum((e.amount for e in entries), Decimal(0)) != 0:
        raise ValueError("a transaction's entries must sum to zero")


def deposit_amount(credited: Decimal, ratio: Decimal) -> Decimal:
    """Time-bank hours for ``credited`` service hours at ``ratio``."""
    return hours(credited * ratio)


def deposit(bank: str, volunteer_id: str, amount: Decimal) -> list[Entry]:
    """The bank issues ``amount`` hours to the volunteer."""
    if amount <= 0:
        raise ValueError("a deposit must be positive")
    return [
        Entry(bank_account(bank), -amount),
        Entry(volunteer_account(volunteer_id), amount),
    ]


def withdrawal(
    bank: str, volunteer_id: str, amount: Decimal, balance: Decimal
) -> list[Entry]:
    """The volunteer spends ``amount`` hours; never more than the balance."""
    if amount <= 0:
        raise ValueError("a withdrawal must be positive")
    if amount > balance:
        raise FailedPrecondition(
            f"the balance is {balance} h, less than the {amount} h asked for",
            f"时间银行余额 {balance} 小时，不足 {amount} 小时",
            field="hours",
            rule="timebank.balance",
        )
    return [
        Entry(volunteer_account(volunteer_id), -amount),
        Entry(bank_account(bank), amount),
    ]


def clawback(
    bank: str, volunteer_id: str, wanted: Decimal, balance: Decimal
) -> tuple[list[Entry], Decimal]:
    """Take back up to ``wanted`` hours after a downward correction; what was
    already exchanged stays spent (returned as the shortfall), since a
    balance never goes negative."""
    taken = min(wanted, max(balance, Decimal(0)))
    entries = withdrawal(bank, volunteer_id, taken, balance) if taken > 0 else []
    return entries, wanted - taken


class Ledger:
    """An in-memory ledger: the reference model the tests drive at random."""

    def __init__(self) -> None:
        self.balances: dict[str, Decimal] = {}
        self.transactions: list[list[Entry]] = []

    def balance(self, account: str) -> Decimal:
        return self.balances.get(account, Decimal(0))

    def post(self, entries: Iterable[Entry]) -> None:
        legs = list(entries)
        check_balanced(legs)
        after = {e.account: self.balance(e.account) for e in legs}
        for e in legs:
            after[e.account] += e.amount
        if any(a.startswith("volunteer:") and v < 0 for a, v in after.items()):
            raise ValueError("a volunteer's balance cannot go negative")
        self.balances.update(after)
        self.transactions.append(legs)


# -- certificate numbers ---------------------------------------------------------

_CHECK_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def certificate_number(province: str, year: int, serial: int) -> str:
    """'ZYC-<province>-<year>-<serial>-<check>'. The random check code keeps
    the public verification from being walked serial by serial.

    Example:
        >>> certificate_number("61", 2026, 42)[:19]
        'ZYC-61-2026-000042-'
    """
    check = "".join(secrets.choice(_CHECK_ALPHABET) for _ in range(4))
    return f"ZYC-{province}-{year}-{serial:06d}-{check}"
