"""Quantities of recycling facts: weights (kg, one decimal) and items by
category, their bounds, what a distribution may still hand out, and exact
integer splits of a total (the seed's weights sum exactly to the reported
tonnage). Pure functions, no I/O.

Example:
    >>> kg(12.34), Weights(kg(1), kg(2.5)).total
    (Decimal('12.3'), Decimal('3.5'))
    >>> split_exact(10, [1, 1, 1])
    [4, 3, 3]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from services.common.errors import FailedPrecondition, InvalidArgument

# -- weights and items -----------------------------------------------------------
MAX_KG = Decimal(50_000)  # per category and fact: a few lorry loads at most
MAX_ITEMS = 1_000_000
KG_STEP = Decimal("0.1")
CATEGORIES = ("textiles", "books", "other")
ITEM_CATEGORIES = ("garments", "books", "other")


def kg(value: Decimal | float | int | str) -> Decimal:
    """A weight to one decimal (half up), the unit facts are stored in."""
    return Decimal(str(value)).quantize(KG_STEP, ROUND_HALF_UP)


@dataclass(frozen=True)
class Weights:
    textiles: Decimal = Decimal("0.0")
    books: Decimal = Decimal("0.0")
    other: Decimal = Decimal("0.0")

    @property
    def total(self) -> Decimal:
        return self.textiles + self.books + self.other

    def metrics(self) -> dict[str, float]:
        """Rollup deltas of these weights."""
        return {
            "kg_textiles": float(self.textiles),
            "kg_books": float(self.books),
            "kg_other": float(self.other),
            "kg_total": float(self.total),
        }


def check_weights(w: Weights, field: str = "weights") -> Weights:
    """Each category 0 to 50,000 kg, at least one above 0."""
    for name in CATEGORIES:
        value = getattr(w, name)
        where = f"{field}.{name}_kg"
        if value < 0:
            raise InvalidArgument(
                where, f"{where}.non_negative", "must not be negative", "不能为负数"
            )
        if value > MAX_KG:
            raise InvalidArgument(
                where,
                f"{where}.max",
                f"must be at most {MAX_KG} kg",
                f"不能超过 {MAX_KG} 千克",
            )
    if w.total <= 0:
        raise InvalidArgument(
            field,
            f"{field}.positive",
            "at least one category must weigh more than 0 kg",
            "至少一类物品的重量须大于 0",
        )
    return w


@dataclass(frozen=True)
class Items:
    garments: int = 0
    books: int = 0
    other: int = 0

    @property
    def total(self) -> int:
        return self.garments + self.books + self.other

    def plus(self, other: Items) -> Items:
        return Items(
            self.garments + other.garments,
            self.books + other.books,
            self.other + other.other,
        )


def check_items(items: Items, field: str = "items") -> Items:
    """Each category 0 to a million pieces, at least one piece in all."""
    for name in ITEM_CATEGORIES:
        value = getattr(items, name)
        where = f"{field}.{name}"
        if value < 0:
            raise InvalidArgument(
                where, f"{where}.non_negative", "must not be negative", "不能为负数"
            )
        if value > MAX_ITEMS:
            raise InvalidArgument(
                where,
                f"{where}.max",
                f"must be at most {MAX_ITEMS}",
                f"不能超过 {MAX_ITEMS} 件",
            )
    if items.total <= 0:
        raise InvalidArgument(
            field,
            f"{field}.positive",
            "at least one item is needed",
            "物品数量须大于 0",
        )
    return items


def check_distribution(
    drive: Items, households: int, given: Items, given_households: int, new: Items,
    new_households: int,
) -> None:  # fmt: skip
    """A distribution may not hand out more than the drive has left, by
    category, nor reach more households than the drive was for."""
    after = given.plus(new)
    for name in ITEM_CATEGORIES:
        if getattr(after, name) > getattr(drive, name):
            left = getattr(drive, name) - getattr(given, name)
            raise FailedPrecondition(
                f"only {left} {name} of the drive are left to distribute",
                f"该活动可分发的{_ITEM_ZH[name]}仅剩 {left} 件",
                field=f"items.{name}",
                rule="distribution.within_drive",
            )
    if given_households + new_households > households:
        left = households - given_households
        raise FailedPrecondition(
            f"only {left} of the drive's recipient households are left",
            f"该活动受助户数仅剩 {left} 户",
            field="households",
            rule="distribution.within_drive",
        )


_ITEM_ZH = {"garments": "衣物", "books": "书籍", "other": "其他物品"}


def split_exact(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` units shared in proportion to ``weights`` by the largest
    remainder: every share an integer, their sum exactly ``total``. Ties go
    to the earlier share, so the split is deterministic.

    Example:
        >>> split_exact(7, [0, 2, 1])
        [0, 5, 2]
    """
    if total < 0 or not weights or any(w < 0 for w in weights):
        raise ValueError("a non-negative total over non-negative weights")
    # Exact rationals: float shares could floor to one unit too many.
    parts = [Fraction(w) for w in weights]
    whole = sum(parts)
    if whole <= 0:
        raise ValueError("at least one weight must be positive")
    exact = [total * w / whole for w in parts]
    shares = [math.floor(x) for x in exact]
    short = total - sum(shares)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[:short]:
        shares[i] += 1
    return shares
