"""Validation at the edge for a table route marked ``strict``, derived from
the request message itself: FastAPI checks the query string or the JSON body
against a pydantic model built from the proto's fields, so a bad request is a
400 naming the field and the rule (``id_number.required``, ``age.unknown``,
``status.known``, ``page_size.range``) before any gRPC call, and the
OpenAPI document shows each field. What the proto cannot say is a
:class:`Rule` on the route: required fields, lower-case choices for an enum
or a string, a query name, a length limit.

Example::

    Route("POST", "/volunteers/{id}/reject", R, "RejectVolunteer", "…", "volunteers",
          strict=True, body="RejectBody", rules={"reason": REQUIRED})
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Body, Header, Path, Query
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from pydantic import BaseModel, ConfigDict, Field, create_model

from services.gateway.params import PageSize, PageToken

F = FieldDescriptor
_TYPES: dict[int, type] = {
    F.CPPTYPE_BOOL: bool,
    F.CPPTYPE_STRING: str,
    F.CPPTYPE_INT32: int,
    F.CPPTYPE_INT64: int,
    F.CPPTYPE_UINT32: int,
    F.CPPTYPE_UINT64: int,
    F.CPPTYPE_DOUBLE: float,
    F.CPPTYPE_FLOAT: float,
}
CAMPAIGN_DOCS = {
    "title": "Campaign title, e.g. 寒冬送温暖 / 专项行动名称",
    "starts_on": "First day, YYYY-MM-DD / 开始日期",
    "ends_on": "Last day, YYYY-MM-DD, not before starts_on / 结束日期",
    "target_groups": "Target groups: dibao (低保户), flood_affected (受灾户), "
    "sick_disabled (病残), left_behind_children (留守儿童), elderly_alone "
    "(独居老人), disabled_children (残疾儿童), veterans (退役军人) / 帮扶对象",
}
# Descriptions by ``Message.field`` or field name, in the OpenAPI document.
DOCS = {
    "RegisterVolunteerRequest.name": "Real name / 真实姓名",
    "Guardian.name": "Guardian's name / 监护人姓名",
    "Guardian.phone": "Guardian's mobile number / 监护人手机号",
    "CreateOrganisationRequest.division_code": "Division it belongs to / 所属区划代码",
    "CreateAccountRequest.password": "Initial password / 初始密码",
    "CreateAccountRequest.organisation_id": "Organisation or team an org_leader "
    "runs, inside scope_code / 组织负责人所属组织或队伍（须在管辖区划内）",
    "RequestTransferRequest.consent": "The volunteer consented to the transfer "
    "/ 志愿者本人同意转移",
    "RequestMyTransferRequest.consent": "I consent to the transfer text / 本人同意转移",
    "consent_note": "Where the evidence of consent is kept / 同意书存放说明",
    "MergeVolunteersRequest.merged_id": "The duplicate merged into the volunteer "
    "in the path / 被合并的重复注册志愿者编号",
    "MergeVolunteersRequest.reason": "Why they are one person (evidence seen) "
    "/ 合并理由（核实依据）",
    "ListMergesRequest.volunteer_id": "Only this volunteer's merges "
    "/ 仅显示该志愿者的合并记录",
    "to_division_code": "The new home: a township or village code / 新居住地区划代码",
    "CreatePositionRequest.kind": "guidance_centre (指导中心), street_centre "
    "(街道/乡镇中心), station (村/社区服务站) or base (基地)",
    "UpdatePositionRequest.kind": "guidance_centre (指导中心), street_centre "
    "(街道/乡镇中心), station (村/社区服务站) or base (基地)",
    "ListPositionsRequest.kind": "Only this kind of position / 阵地类型",
    "base_level": "A base's level: district, city, province or national "
    "/ 基地级别：区级、市级、省级、国家级",
    "CreatePositionRequest.division_code": "Where the position sits, inside your "
    "scope / 阵地所在区划代码",
    "UpdatePositionRequest.division_code": "Where the position sits, inside your "
    "scope / 阵地所在区划代码",
    **{
        f"{m}Request.{f}": doc
        for m in ("CreateCampaign", "UpdateCampaign")
        for f, doc in CAMPAIGN_DOCS.items()
    },
    "GetCampaignSummaryRequest.by": "child (by child unit, default) or week (by "
    "ISO week) / 按下级单位或按周汇总",
    "GetCampaignSummaryRequest.division_code": "A node of the campaign's area in "
    "your scope (default: the campaign's node or your scope) / 统计的区划",
    "TagProjectRequest.campaign_id": "A campaign you see whose area and window hold "
    "the project; empty removes the tag / 关联的专项行动（留空取消关联）",
    "address": "Street address / 地址",
    "opening_hours": "Opening hours, free text / 开放时间",
    "name": "Name / 名称",
    "id_number": "18-digit resident ID number / 身份证号",
    "phone": "Mobile number / 手机号",
    "home_division_code": "Division code of the home village or community "
    "/ 所属区划代码",
    "service_fields": "Service areas / 服务类别",
    "guardian": "Required under 14 / 未满14周岁时必填",
    "relation": "e.g. father, mother, legal guardian / 与志愿者关系",
    "consent": "The guardian agreed to the registration / 监护人是否同意",
    "request_id": "Idempotency key (or the Idempotency-Key header) / 幂等键",
    "reason": "Reason shown to the applicant / 驳回原因",
    "organisation_id": "The team or organisation / 队伍编号",
    "role": "member or leader / 队员或队长",
    "kind": "organisation (组织) or team (队伍)",
    "division_code": "At this node or below (default: your scope) / 区划代码",
    "parent_id": "Parent organisation, empty at top level / 上级组织",
    "parent_code": "Parent node / 上级区划",
    "include_retired": "Include retired divisions / 含已撤销区划",
    "contact_name": "Contact person / 联系人",
    "contact_phone": "Contact phone / 联系电话",
    "username": "Account name / 账号",
    "password": "Password / 密码",
    "display_name": "Display name / 显示名称",
    "scope_code": "Jurisdiction division code / 管辖区划代码",
    "roles": "Roles, only those the caller holds / 角色（不超过创建者权限）",
    "status": "Review status / 审核状态",
    "query": "A volunteer number (ZY…) or a whole ID number / 志愿者编号或完整身份证号",
    "ids": "Only these volunteers, the parameter once per id, at most 100; those"
    " outside your scope are left out / 仅列出这些志愿者（每个编号一项，最多 100 个）",
}


@dataclass(frozen=True)
class Rule:
    """What the HTTP API asks of one request field beyond its proto type."""

    required: bool = False
    # HTTP value → proto value (an enum number, or the same string).
    choices: Mapping[str, Any] | None = None
    alias: str = ""  # its name in a query string, when not the field's
    max_length: int | None = None
    default: Any = None  # a choice taken when the field is left out


REQUIRED = Rule(required=True)
Rules = Mapping[str, Rule]


def _scalar(field: FieldDescriptor, rule: Rule | None, rules: Rules, at: str) -> Any:
    if rule and rule.choices:
        return Literal[tuple(rule.choices)]
    if field.cpp_type == F.CPPTYPE_MESSAGE:
        return body_model(field.message_type, rules, at=at)
    if field.cpp_type == F.CPPTYPE_ENUM:
        return Literal[tuple(v.name for v in field.enum_type.values)]
    return _TYPES[field.cpp_type]


def body_model(
    descriptor: Descriptor,
    rules: Rules,
    name: str = "",
    at: str = "",
    skip: frozenset[str] = frozenset(),
) -> type[BaseModel]:
    """A pydantic model of a message as a JSON body: unknown fields refused,
    required ones as the rules say, nested messages as models of their own."""
    fields: dict[str, Any] = {}
    for field in descriptor.fields:
        if field.name in skip:
            continue
        path = f"{at}{field.name}"
        rule = rules.get(path)
        kind = _scalar(field, rule, rules, f"{path}.")
        doc = DOCS.get(f"{descriptor.name}.{field.name}") or DOCS.get(field.name)
        if field.is_repeated:
            kind = list[kind]  # type: ignore[valid-type]
        if rule and rule.required:
            fields[field.name] = (kind, Field(description=doc))
        elif field.is_repeated:
            fields[field.name] = (kind, Field(default_factory=list, description=doc))
        elif rule and rule.default is not None:
            fields[field.name] = (kind, Field(default=rule.default, description=doc))
        elif field.cpp_type == F.CPPTYPE_MESSAGE or (rule and rule.choices):
            fields[field.name] = (kind | None, Field(default=None, description=doc))
        else:
            zero = _TYPES[field.cpp_type]() if field.cpp_type in _TYPES else None
            fields[field.name] = (kind, Field(default=zero, description=doc))
    return create_model(
        name or f"{descriptor.name}Body",
        __config__=ConfigDict(extra="forbid"),
        **fields,
    )


def signature(
    method: str,
    path_names: list[str],
    descriptor: Descriptor,
    rules: Rules,
    body: str,
    header: tuple[str, str] | None,
) -> list[inspect.Parameter]:
    """The endpoint's parameters, for FastAPI to validate and document."""
    kw = inspect.Parameter.KEYWORD_ONLY
    params = [
        inspect.Parameter(n, kw, annotation=Annotated[str, Path()]) for n in path_names
    ]
    if method != "GET":
        skip = frozenset(path_names)
        if any(f.name not in skip for f in descriptor.fields):  # else no body
            model: Any = body_model(descriptor, rules, body, skip=skip)
            params.append(
                inspect.Parameter("body", kw, annotation=Annotated[model, Body()])
            )
        if header:
            given = Header(alias=header[0], description=DOCS[header[1]])
            params.append(
                inspect.Parameter(
                    "header", kw, annotation=Annotated[str | None, given], default=None
                )
            )
        return params
    for field in descriptor.fields:
        if field.name in path_names:
            continue
        if field.cpp_type == F.CPPTYPE_MESSAGE:
            if field.name == "page":
                params += [
                    inspect.Parameter("page_size", kw, annotation=PageSize, default=0),
                    inspect.Parameter(
                        "page_token", kw, annotation=PageToken, default=""
                    ),
                ]
            continue
        rule = rules.get(field.name, Rule())
        kind = _scalar(field, rule, rules, "")
        if field.is_repeated:  # given once per value: ?ids=a&ids=b
            listed = Query(description=DOCS.get(field.name))
            many: Any = Annotated[list[kind] | None, listed]  # type: ignore[valid-type]
            name = rule.alias or field.name
            params.append(inspect.Parameter(name, kw, annotation=many, default=None))
            continue
        zero = _TYPES.get(field.cpp_type, type(None))()
        if rule.choices or field.cpp_type == F.CPPTYPE_ENUM:
            kind, zero = kind | None, None
        doc = DOCS.get(f"{descriptor.name}.{field.name}") or DOCS.get(field.name)
        query = Query(description=doc, max_length=rule.max_length)
        name = rule.alias or field.name
        hint: Any = Annotated[kind, query]
        params.append(inspect.Parameter(name, kw, annotation=hint, default=zero))
    return params


def data_of(
    method: str,
    rules: Rules,
    header: tuple[str, str] | None,
    values: dict[str, Any],
) -> dict[str, Any]:
    """The validated values as the request message's JSON (proto names,
    choices turned into proto values, paging nested)."""
    if method != "GET":
        given = values.get("body")
        body = _choose(given.model_dump(exclude_none=True) if given else {}, rules, "")
        if header and values.get("header") and not body.get(header[1]):
            body[header[1]] = values["header"]
        return body
    by_alias = {r.alias: f for f, r in rules.items() if r.alias}
    data: dict[str, Any] = {}
    for key, value in values.items():
        if value is None or key in ("request", "rpc", "page_size", "page_token"):
            continue
        data[by_alias.get(key, key)] = value
    if "page_size" in values:
        data["page"] = {
            "page_size": values["page_size"],
            "page_token": values["page_token"],
        }
    return _choose(data, rules, "")


def _choose(data: dict[str, Any], rules: Rules, at: str) -> dict[str, Any]:
    for key, value in list(data.items()):
        rule = rules.get(f"{at}{key}")
        if rule and rule.choices and value is not None:
            data[key] = rule.choices[value]
        elif isinstance(value, dict):
            data[key] = _choose(value, rules, f"{at}{key}.")
    return data
