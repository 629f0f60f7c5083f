"""Service positions (志愿服务阵地, issue 14): where service happens.

Four kinds, each at the divisions it can sit at:

- ``guidance_centre``: the county's 新时代文明实践中心 / 志愿服务指导中心, at a
  county (6 digits);
- ``street_centre``: a street's or town's centre, at a township (9 digits);
- ``station``: a village's or community's 学雷锋志愿服务站, at a township or
  a village (9 or 12 digits; a community station can be registered at its
  street while the community has no code of its own);
- ``base``: a service base (基地) with the level it was recognised at
  (district, city, province, national), at any division from the county
  down for a district base, from the city down for a city base, and so on.

The division lies inside the caller's scope and is active; a name is unique
within its division. Positions are counted by kind in
``registration_position_rollup`` in the month they were created (at every
ancestor), so the all-time row is how many there are; changing a position's
kind or division moves its count in the same transaction.
"""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.common import checks
from services.common.auth import Principal
from services.common.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from services.common.rollup import month_of
from services.common.tenancy import Level, level_of, validate_code
from services.common.unit_of_work import Work
from services.registration import domain
from services.registration.models import POSITION_KINDS, POSITION_ROLLUP, Position
from services.registration.repository import Taken
from services.registration.usecases.base import Context

# Where each kind sits: the division levels allowed.
KIND_LEVELS: dict[str, tuple[Level, ...]] = {
    "guidance_centre": (Level.COUNTY,),
    "street_centre": (Level.TOWNSHIP,),
    "station": (Level.TOWNSHIP, Level.VILLAGE),
}
# A base sits at the division that recognised it or below.
BASE_LEVELS: dict[str, Level] = {
    "district": Level.COUNTY,
    "city": Level.CITY,
    "province": Level.PROVINCE,
    "national": Level.PROVINCE,
}
KIND_ZH = {
    "guidance_centre": "志愿服务指导中心",
    "street_centre": "街道（乡镇）志愿服务中心",
    "station": "学雷锋志愿服务站",
    "base": "志愿服务基地",
}
LEVEL_ZH = {
    Level.PROVINCE: "省",
    Level.CITY: "市",
    Level.COUNTY: "县（区）",
    Level.TOWNSHIP: "乡镇（街道）",
    Level.VILLAGE: "村（社区）",
}
NAME_MAX, ADDRESS_MAX, HOURS_MAX = 100, 200, 100


def check_position(
    name: str,
    kind: str,
    base_level: str,
    code: str,
    address: str,
    opening_hours: str,
) -> tuple[str, str, str | None, str, str, str]:
    """The checked fields of a position (no I/O; scope is the caller's).

    Example:
        >>> check_position(" 曲江站 ", "station", "", "610113002", "", "")[:4]
        ('曲江站', 'station', None, '610113002')
    """
    name = domain.check_name(name, "name", NAME_MAX)
    if kind not in POSITION_KINDS:
        raise InvalidArgument(
            "kind",
            "kind.known",
            "kind must be GUIDANCE_CENTRE, STREET_CENTRE, STATION or BASE",
            "类型须为指导中心、街道（乡镇）中心、服务站或基地",
        )
    level = _base_level(kind, base_level)
    code = validate_code(checks.text(code, "division_code", 12), "division_code")
    _check_level(kind, level, code)
    address = domain.check_name(address, "address", ADDRESS_MAX, required=False)
    opening_hours = domain.check_name(
        opening_hours, "opening_hours", HOURS_MAX, required=False
    )
    return name, kind, level, code, address, opening_hours


def _base_level(kind: str, base_level: str) -> str | None:
    if kind != "base":
        if base_level:
            raise InvalidArgument(
                "base_level",
                "base_level.only_bases",
                "only a base has a level",
                "仅志愿服务基地设级别",
            )
        return None
    if base_level not in BASE_LEVELS:
        raise InvalidArgument(
            "base_level",
            "base_level.required",
            "a base needs its level: DISTRICT, CITY, PROVINCE or NATIONAL",
            "基地须注明级别：区级、市级、省级或国家级",
        )
    return base_level


def _check_level(kind: str, base_level: str | None, code: str) -> None:
    at = level_of(code)
    if base_level is not None:
        top = BASE_LEVELS[base_level]
        if at.width >= top.width:
            return
        raise InvalidArgument(
            "division_code",
            "division_code.base_level",
            f"a {base_level} base sits at a division of that level or below",
            f"该级别基地须位于{LEVEL_ZH[top]}级或以下行政区划",
        )
    allowed = KIND_LEVELS[kind]
    if at in allowed:
        return
    widths = " or ".join(str(lv.width) for lv in allowed)
    places = "或".join(LEVEL_ZH[lv] for lv in allowed)
    raise InvalidArgument(
        "division_code",
        "division_code.kind_level",
        f"a {kind} sits at a division of {widths} digits",
        f"{KIND_ZH[kind]}须设在{places}",
    )


class PositionCases:
    """Create, update, get and list service positions."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def create(
        self,
        p: Principal,
        name: str,
        kind: str,
        base_level: str,
        code: str,
        address: str,
        opening_hours: str,
    ) -> Position:
        """An office registers a position at a division of its subtree."""
        p.require_any(*domain.ADMINS)
        fields = check_position(name, kind, base_level, code, address, opening_hours)
        name, kind, level, code, address, opening_hours = fields
        code = p.scope.require(code, "division_code")
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            _active(repo, code)
            now = self.ctx.clock()
            row = Position(
                id=str(uuid.uuid4()),
                name=name,
                kind=kind,
                base_level=level,
                division_code=code,
                address=address,
                opening_hours=opening_hours,
                created_by=p.username,
                created_at=now,
                updated_by=p.username,
                updated_at=now,
            )
            _insert(repo, row)
            _count(work, row, 1)
            return row

    def update(
        self,
        p: Principal,
        ident: str,
        name: str,
        kind: str,
        base_level: str,
        code: str,
        address: str,
        opening_hours: str,
    ) -> Position:
        """Replace a position's fields; a new kind or division moves its count."""
        p.require_any(*domain.ADMINS)
        ident = checks.ident(ident, "id")
        fields = check_position(name, kind, base_level, code, address, opening_hours)
        name, kind, level, code, address, opening_hours = fields
        code = p.scope.require(code, "division_code")
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            row = repo.position(ident, for_update=True)
            if code != row.division_code:
                _active(repo, code)
            moved = (row.kind, row.division_code) != (kind, code)
            if moved:
                _count(work, row, -1)
            row.name, row.kind, row.base_level = name, kind, level
            row.division_code, row.address = code, address
            row.opening_hours = opening_hours
            row.updated_by, row.updated_at = p.username, self.ctx.clock()
            try:
                repo.flush()
            except IntegrityError:  # the one unique key: (division, name)
                raise _name_taken(name) from None
            if moved:
                _count(work, row, 1)
            return row

    def get(self, p: Principal, ident: str) -> Position:
        p.require_any(*domain.READERS)
        ident = checks.ident(ident, "id")
        with self.ctx.uow(p) as work:
            return self.ctx.repo(work).position(ident)

    def division_names(self, rows: list[Position]) -> dict[str, str]:
        """The names of the divisions of ``rows`` (public reference data)."""
        codes = sorted({r.division_code for r in rows})
        with self.ctx.uow(None) as work:
            return self.ctx.repo(work).division_names(codes)


def _active(repo: Any, code: str) -> None:
    if repo.division(code, "division_code").status != "active":
        raise FailedPrecondition(
            "the division is retired", "该行政区划已撤销", field="division_code"
        )


def _insert(repo: Any, row: Position) -> None:
    try:
        repo.insert(row, ("ux_positions_name", "positions.division_code"))
    except Taken:
        raise _name_taken(row.name) from None


def _name_taken(name: str) -> AlreadyExists:
    return AlreadyExists.entity("service position", "服务阵地", name, field="name")


def _count(work: Work, row: Position, sign: int) -> None:
    """Count ``row`` in (1) or out of (-1) the positions rollup, in the
    month it was created."""
    created = row.created_at
    if created.tzinfo is None:  # SQLite hands back naive UTC
        created = created.replace(tzinfo=UTC)
    work.bump(
        POSITION_ROLLUP,
        row.division_code,
        month_of(created),
        **{f"positions_{row.kind}": float(sign)},
    )
