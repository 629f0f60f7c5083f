"""Request bodies of the HTTP API, one pydantic model per write call.

Field names are the proto's; unknown fields are refused (400 naming the
field) so a typo never silently drops a value. Business rules (ID-number
checksums, scope, guardian age rules) stay in the services.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginBody(Body):
    """Username and password of a platform account."""

    username: str = Field(description="Account name / 账号")
    password: str = Field(description="Password / 密码")


class GuardianBody(Body):
    """Guardian of a volunteer under 14 (PIPL Art. 31)."""

    name: str = Field(description="Guardian's name / 监护人姓名")
    phone: str = Field(description="Guardian's mobile number / 监护人手机号")
    relation: str = Field(
        description="e.g. father, mother, legal guardian / 与志愿者关系"
    )
    consent: bool = Field(
        description="The guardian agreed to the registration / 监护人是否同意"
    )


class VolunteerBody(Body):
    """Real-name registration of a volunteer (注册志愿者)."""

    name: str = Field(description="Real name / 真实姓名")
    id_number: str = Field(description="18-digit resident ID number / 身份证号")
    phone: str = Field(description="Mobile number / 手机号")
    home_division_code: str = Field(
        description="Division code of the home village or community / 所属区划代码"
    )
    service_fields: list[str] = Field(
        default_factory=list, description="Service areas / 服务类别"
    )
    guardian: GuardianBody | None = Field(
        default=None, description="Required under 14 / 未满14周岁时必填"
    )
    request_id: str = Field(
        default="",
        description="Idempotency key (or the Idempotency-Key header) / 幂等键",
    )


class RejectBody(Body):
    """Why a registration is rejected (驳回原因)."""

    reason: str = Field(description="Reason shown to the applicant / 驳回原因")


class MembershipBody(Body):
    """Add a volunteer to a team (加入队伍)."""

    organisation_id: str = Field(description="The team or organisation / 队伍编号")
    role: Literal["member", "leader"] = Field(
        default="member", description="member or leader / 队员或队长"
    )


class OrganisationBody(Body):
    """A volunteer organisation or team (志愿服务组织 / 志愿服务队)."""

    name: str = Field(description="Name / 名称")
    kind: Literal["organisation", "team"] = Field(
        description="organisation (组织) or team (队伍)"
    )
    division_code: str = Field(description="Division it belongs to / 所属区划代码")
    parent_id: str = Field(
        default="", description="Parent organisation, empty at top level / 上级组织"
    )
    service_fields: list[str] = Field(
        default_factory=list, description="Service areas / 服务类别"
    )
    contact_name: str = Field(default="", description="Contact person / 联系人")
    contact_phone: str = Field(default="", description="Contact phone / 联系电话")


class AccountBody(Body):
    """A platform account, created inside the caller's subtree (委托管理)."""

    username: str = Field(description="Account name / 账号")
    password: str = Field(description="Initial password / 初始密码")
    display_name: str = Field(default="", description="Display name / 显示名称")
    scope_code: str = Field(description="Jurisdiction division code / 管辖区划代码")
    roles: list[str] = Field(
        default_factory=list,
        description="Roles, only those the caller holds / 角色（不超过创建者权限）",
    )
    organisation_id: str = Field(
        default="",
        description=(
            "Organisation or team an org_leader runs, inside scope_code"
            " / 组织负责人所属组织或队伍（须在管辖区划内）"
        ),
    )


class ErrorDetail(BaseModel):
    """One platform error, in English and Chinese."""

    code: str = Field(description="gRPC-style status name, e.g. INVALID_ARGUMENT")
    message_en: str
    message_zh: str
    field: str | None = Field(default=None, description="The field at fault")
    rule: str | None = Field(default=None, description="The rule it broke")


class ErrorBody(BaseModel):
    """Every non-2xx answer of the API."""

    error: ErrorDetail
