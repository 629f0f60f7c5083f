"""Service fields (服务领域) named in the reports, as stable codes shared by
every service: volunteers' interests, projects' fields, hours rollups."""

from __future__ import annotations

from collections.abc import Iterable

from services.common.errors import InvalidArgument

# Service fields named in the reports (DOMAIN.md), as stable codes.
SERVICE_FIELDS: dict[str, str] = {
    "elderly_care": "养老助老",
    "minors": "未成年人保护",
    "medical": "医疗卫生",
    "mental_health": "心理健康",
    "emergency": "应急救援",
    "legal_aid": "法律援助",
    "poverty_relief": "帮扶救助",
    "environment": "生态环保与垃圾分类",
    "civilisation": "文明创建",
    "culture_education": "文化教育",
    "large_events": "大型活动服务",
    "recycling": "爱为宝回收",
}

# Their English names, for the console and the exports.
SERVICE_FIELDS_EN: dict[str, str] = {
    "elderly_care": "Elderly care",
    "minors": "Minors",
    "medical": "Medical",
    "mental_health": "Mental health",
    "emergency": "Emergency",
    "legal_aid": "Legal aid",
    "poverty_relief": "Poverty relief",
    "environment": "Environment",
    "civilisation": "Civilisation",
    "culture_education": "Culture and education",
    "large_events": "Large events",
    "recycling": "Recycling",
}


def check_service_fields(
    values: Iterable[str], field: str = "service_fields"
) -> list[str]:
    values = list(dict.fromkeys(values))
    for value in values:
        if value not in SERVICE_FIELDS:
            raise InvalidArgument(
                field,
                f"{field}.known",
                f"unknown service field {value!r}; known: {', '.join(SERVICE_FIELDS)}",
                f"未知的服务领域“{value}”",
            )
    return values
