"""Request checks for commendation: each raises INVALID_ARGUMENT naming the
field and the rule, before anything is read or written."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from services.common import checks
from services.common.errors import InvalidArgument
from services.common.tenancy import validate_code

_CATEGORY = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
DECISIONS = ("approve", "reject", "return")


def categories(values: list[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        value = (value or "").strip()
        if not _CATEGORY.match(value):
            raise InvalidArgument(
                "categories",
                "categories.format",
                "categories are lower-case names such as individual, collective",
                "类别须为小写英文名称，如 individual、collective",
            )
        if value not in out:
            out.append(value)
    if not out:
        raise InvalidArgument.required("categories")
    return out


@dataclass(frozen=True)
class NominationInput:
    round_id: str
    category: str
    unit_division_code: str
    unit_organisation_id: str
    nominee_volunteer_id: str
    nominee_name: str
    nominee_division_code: str
    statement: str
    request_id: str

    @classmethod
    def parse(
        cls, round_id: str, category: str, unit: str, organisation_id: str,
        volunteer_id: str, nominee_name: str, nominee_code: str, statement: str,
        request_id: str,
    ) -> NominationInput:  # fmt: skip
        category = checks.text(category, "category", 40)
        individual = category == "individual"
        if individual:
            volunteer_id = checks.ident(volunteer_id, "nominee_volunteer_id")
            nominee_name, nominee_code = "", ""
        else:
            if volunteer_id:
                raise InvalidArgument(
                    "nominee_volunteer_id",
                    "nominee_volunteer_id.individual_only",
                    "only individual nominations name a volunteer",
                    "仅个人类推荐可指定志愿者",
                )
            nominee_name = checks.text(nominee_name, "nominee_name", 200)
            nominee_code = validate_code(nominee_code, "nominee_division_code")
        return cls(
            round_id=checks.ident(round_id, "round_id"),
            category=category,
            unit_division_code=validate_code(unit, "unit_division_code"),
            unit_organisation_id=checks.ident(
                organisation_id, "unit_organisation_id", required=False
            ),
            nominee_volunteer_id=volunteer_id,
            nominee_name=nominee_name,
            nominee_division_code=nominee_code,
            statement=checks.text(statement, "statement", 4000),
            request_id=checks.text(request_id, "request_id", 100, required=False)
            or str(uuid.uuid4()),
        )
