"""The division tree and the tenant scope every query and write is checked by.

Division codes are the statistics bureau's codes: 2 digits for a province,
4 for a city, 6 for a county, 9 for a township, 12 for a village. Each level
has a fixed width, so a code's prefixes are its ancestors and "lies in the
subtree of" is a string-prefix test that any service can run on its own,
without asking another service for the tree.

Above the provinces sits the nation, claim ``CN`` (the ministry, the
national volunteer federation): a :class:`NationalScope` that reads rollups
of every province and nothing else. It is no :class:`Scope`, so every query,
write and database session that takes a Scope refuses it; only the rollup
reads (Summarize, the dashboard) and the reference data opt in to it.

Example:
    >>> ancestors("610113")
    ['61', '6101', '610113']
    >>> Scope("6101").contains("610113001")
    True
    >>> rollup_scope_from_claim("CN")
    NationalScope(code='CN')
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from services.common.errors import InvalidArgument, PermissionDenied


class Level(Enum):
    """A level of the division tree; the value is its code width.

    Example:
        >>> Level(6), Level.COUNTY.width, Level.COUNTY.label_zh
        (<Level.COUNTY: 6>, 6, '县（区）')
    """

    PROVINCE = 2
    CITY = 4
    COUNTY = 6
    TOWNSHIP = 9
    VILLAGE = 12

    @property
    def width(self) -> int:
        """Number of digits in a code of this level."""
        return int(self.value)

    @property
    def rank(self) -> int:
        """1 for province down to 5 for village, as in ``common.v1.DivisionLevel``."""
        return _ORDER.index(self) + 1

    @property
    def label_zh(self) -> str:
        """Chinese name of the level, as offices write it."""
        return _LABELS[self][0]

    @property
    def label_en(self) -> str:
        """English name of the level."""
        return _LABELS[self][1]


_ORDER: tuple[Level, ...] = tuple(Level)
_WIDTHS: tuple[int, ...] = tuple(level.width for level in _ORDER)
_LABELS: dict[Level, tuple[str, str]] = {
    Level.PROVINCE: ("省", "province"),
    Level.CITY: ("市", "city"),
    Level.COUNTY: ("县（区）", "county"),
    Level.TOWNSHIP: ("乡镇（街道）", "township"),
    Level.VILLAGE: ("村（社区）", "village"),
}


def validate_code(code: str, field: str = "division_code") -> str:
    """Return ``code`` without surrounding blanks if it is a well-formed code.

    Only the form is checked (ASCII digits, a level's width), not that the
    division exists: divisions merge and split, and history that names a
    retired code must stay readable.

    Example:
        >>> validate_code(" 610113 ")
        '610113'
        >>> validate_code("61011")
        Traceback (most recent call last):
        ...
        services.common.errors.InvalidArgument: division_code: must be 2, 4, 6, 9 or 12 digits long / 行政区划代码应为 2、4、6、9 或 12 位数字
    """  # noqa: E501
    # Claims and JSON bodies can carry numbers where strings belong; treat
    # them as malformed rather than let str() turn 61 into a valid scope.
    if not isinstance(code, str):
        raise InvalidArgument(
            field,
            "division_code.format",
            "must be a string of digits",
            "行政区划代码必须是数字字符串",
        )
    code = code.strip()
    # isdigit() alone would accept full-width and other Unicode digits,
    # which would then never match a stored ASCII prefix.
    if not (code.isascii() and code.isdigit()):
        raise InvalidArgument(
            field,
            "division_code.format",
            "must contain digits only",
            "行政区划代码只能包含数字",
        )
    if len(code) not in _WIDTHS:
        raise InvalidArgument(
            field,
            "division_code.width",
            "must be 2, 4, 6, 9 or 12 digits long",
            "行政区划代码应为 2、4、6、9 或 12 位数字",
        )
    return code


def level_of(code: str) -> Level:
    """The level a code belongs to, from its width.

    Example:
        >>> level_of("610113001")
        <Level.TOWNSHIP: 9>
    """
    return Level(len(validate_code(code)))


def parent_of(code: str) -> str | None:
    """The code one level up, or ``None`` for a province.

    Example:
        >>> parent_of("610113001"), parent_of("61")
        ('610113', None)
    """
    chain = ancestors(code, include_self=False)
    return chain[-1] if chain else None


def ancestors(code: str, include_self: bool = True) -> list[str]:
    """Every ancestor of ``code``, province first.

    Example:
        >>> ancestors("610113001", include_self=False)
        ['61', '6101', '610113']
    """
    code = validate_code(code)
    widths = [w for w in _WIDTHS if w < len(code) or (include_self and w == len(code))]
    return [code[:w] for w in widths]


def is_within(code: str, ancestor: str) -> bool:
    """Whether ``code`` lies in the subtree rooted at ``ancestor`` (itself included).

    Example:
        >>> is_within("610113", "61"), is_within("620113", "61")
        (True, False)
    """
    # Both codes have a level's width, so a prefix is always a whole
    # ancestor, never a partial segment like "61011".
    return validate_code(code).startswith(validate_code(ancestor, "ancestor"))


def child_level(level: Level) -> Level | None:
    """The level directly below ``level``, or ``None`` below a village.

    Example:
        >>> child_level(Level.CITY), child_level(Level.VILLAGE)
        (<Level.COUNTY: 6>, None)
    """
    index = _ORDER.index(level)
    return _ORDER[index + 1] if index + 1 < len(_ORDER) else None


def truncate(code: str, level: Level) -> str:
    """The ancestor of ``code`` at ``level`` (the code itself at its own level).

    Example:
        >>> truncate("610113001002", Level.COUNTY)
        '610113'
    """
    code = validate_code(code)
    if level.width > len(code):
        raise InvalidArgument(
            "division_code",
            "division_code.level",
            f"a {level_of(code).label_en} code has no {level.label_en} ancestor",
            f"{level_of(code).label_zh}级代码没有{level.label_zh}级上级",
        )
    return code[: level.width]


@dataclass(frozen=True)
class Scope:
    """A tenant's view of the tree: one division and everything below it.

    There is deliberately no "everything" scope: a principal without a
    scope is refused (default deny), unlike systems that show the whole
    tree to a user whose scope was never set.

    Example:
        >>> scope = Scope("6101")
        >>> scope.contains("610113"), scope.contains("6102")
        (True, False)
        >>> scope.narrow("610113").level
        <Level.COUNTY: 6>
    """

    code: str

    def __post_init__(self) -> None:
        # Frozen, so normalise through object.__setattr__ once, here.
        object.__setattr__(self, "code", validate_code(self.code, "scope"))

    def __str__(self) -> str:
        return self.code

    @classmethod
    def from_claim(cls, value: str | None) -> Scope:
        """The scope named by a token's claim; no or bad claim means no access.

        Example:
            >>> Scope.from_claim("61")
            Scope(code='61')
        """
        if value is None or (isinstance(value, str) and not value.strip()):
            raise PermissionDenied.no_scope()
        if value == NATIONAL:
            # The nation reads rollups only: whatever asks for a tenant
            # scope (lists, details, writes, a database session) stops here.
            raise national_refusal()
        try:
            return cls(value)
        except InvalidArgument:
            # A malformed claim is the issuer's fault, not the request's:
            # deny instead of reporting a bad argument the caller never sent.
            raise PermissionDenied(
                "the account's jurisdiction is malformed",
                "该账号的管辖范围配置有误",
                rule="scope.malformed",
            ) from None

    @property
    def level(self) -> Level:
        """The level of the scope's root division."""
        return Level(len(self.code))

    @property
    def like_pattern(self) -> str:
        """A SQL ``LIKE`` pattern matching the subtree (codes hold no wildcards).

        Example:
            >>> Scope("6101").like_pattern
            '6101%'
        """
        return f"{self.code}%"

    def contains(self, code: str) -> bool:
        """Whether ``code`` lies in this scope; malformed codes raise.

        Example:
            >>> Scope("61").contains("61")
            True
        """
        return validate_code(code).startswith(self.code)

    def require(self, code: str, field: str = "division_code") -> str:
        """Return the validated ``code``, or refuse if it lies outside the scope.

        Example:
            >>> Scope("6101").require("6102", "team.division_code")
            Traceback (most recent call last):
            ...
            services.common.errors.PermissionDenied: team.division_code: 6102 lies outside your jurisdiction 6101 / 6102 不在您的管辖范围（6101）内
        """  # noqa: E501
        code = validate_code(code, field)
        if not code.startswith(self.code):
            raise PermissionDenied.outside_scope(field, code, self.code)
        return code

    def narrow(self, code: str, field: str = "division_code") -> Scope:
        """A scope for a node inside this one (e.g. a dashboard drill-down).

        Example:
            >>> Scope("61").narrow("6101")
            Scope(code='6101')
        """
        return Scope(self.require(code, field))


# The claim of the national tenant, exactly: "cn", "CN " or a full-width
# "ＣＮ" are malformed claims like any other, never the nation.
NATIONAL = "CN"
NATIONAL_NAME = "全国"


def national_refusal(field: str = "") -> PermissionDenied:
    """What a national account gets on any route but the rollups and the
    reference data (rule ``scope.national``).

    Example:
        >>> national_refusal().rule
        'scope.national'
    """
    return PermissionDenied(
        "a national account reads the provinces' statistics and the division "
        "tree only: no personal data, lists, records or changes",
        "全国级账号只能查看各省汇总统计和行政区划，不能查看个人数据、名单、"
        "记录，也不能进行任何修改",
        field=field,
        rule="scope.national",
    )


def is_national(value: object) -> bool:
    """Whether a scope claim names the nation (exactly ``CN``)."""
    return value == NATIONAL


@dataclass(frozen=True)
class NationalScope:
    """The nation above the provinces: what a ``CN`` claim may read, namely
    rollups of any node (the nation itself, a province, a city, ...).

    It deliberately is not a :class:`Scope`: it has no ``require`` or
    ``like_pattern``, so code written for tenant scopes cannot take it by
    mistake, and a database session refuses it (type and value alike).

    Example:
        >>> NationalScope().node("6101")
        '6101'
        >>> NationalScope().node("")
        'CN'
    """

    code: str = NATIONAL

    def __str__(self) -> str:
        return self.code

    def node(self, code: str, field: str = "query.division_code") -> str:
        """The node a national query names: ``CN`` when empty, else any
        well-formed division code (every province lies below the nation)."""
        if not code or code == NATIONAL:
            return NATIONAL
        return validate_code(code, field)


def rollup_scope_from_claim(value: str | None) -> Scope | NationalScope:
    """The scope a rollup read runs under: the nation for exactly ``CN``,
    else the tenant scope of :meth:`Scope.from_claim` (which refuses no,
    empty and malformed claims)."""
    if is_national(value):
        return NationalScope()
    return Scope.from_claim(value)
