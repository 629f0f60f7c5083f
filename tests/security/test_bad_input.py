"""Bad input on the real api role: INVALID_ARGUMENT naming the field
(``zhiyuan-field``) and the rule (``zhiyuan-rule``), no stack trace, and
nothing written by the rejected request."""

from __future__ import annotations

import base64
import uuid
from datetime import date
from typing import Any

import grpc
import pytest
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.registration.v1 import registration_pb2 as pb

from services.registration.idcard import check_character
from tests.helpers import assert_field, auth, new_id_number, new_phone, rejected

pytestmark = pytest.mark.integration

COUNTY, TOWN = "610113", "610113004"
INVALID = grpc.StatusCode.INVALID_ARGUMENT


def with_check(first17: str) -> str:
    return first17 + check_character(first17)


def flip_check(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


# -- RegisterVolunteer --------------------------------------------------------


def child_id() -> str:
    return new_id_number(COUNTY, date(2016, 3, 1))


def guardian(consent: bool, phone: str = "") -> pb.Guardian:
    return pb.Guardian(
        name="王大明", phone=phone or new_phone(), relation="father", consent=consent
    )


# (id, overrides, field, rule, the ID number is valid: re-register it after)
REGISTER_CASES = [
    ("empty-name", dict(name=""), "name", "name.required", True),
    ("blank-name", dict(name="   "), "name", "name.required", True),
    ("51-char-name", dict(name="张" * 51), "name", "name.max_length", True),
    (
        "id-17-chars",
        dict(id_number=lambda: new_id_number()[:17]),
        "id_number",
        "id_number.length",
        False,
    ),
    (
        "id-19-chars",
        dict(id_number=lambda: new_id_number() + "1"),
        "id_number",
        "id_number.length",
        False,
    ),
    ("id-empty", dict(id_number=""), "id_number", "id_number.required", False),
    (
        "id-non-digit",
        dict(id_number=lambda: (n := new_id_number())[:8] + "AB" + n[10:]),
        "id_number",
        "id_number.format",
        False,
    ),
    (
        "id-x-in-body",
        dict(id_number=lambda: "X" + new_id_number()[1:]),
        "id_number",
        "id_number.format",
        False,
    ),
    (
        "id-bad-checksum",
        dict(id_number=lambda: flip_check(new_id_number())),
        "id_number",
        "id_number.checksum",
        False,
    ),
    (
        "id-feb-30",
        dict(id_number=with_check("61011320000230123")),
        "id_number",
        "id_number.birth_date",
        False,
    ),
    (
        "id-month-13",
        dict(id_number=with_check("61011319901301123")),
        "id_number",
        "id_number.birth_date",
        False,
    ),
    (
        "id-future-birth",
        dict(id_number=with_check("61011320990101123")),
        "id_number",
        "id_number.birth_date_range",
        False,
    ),
    (
        "id-born-1899",
        dict(id_number=with_check("61011318991231123")),
        "id_number",
        "id_number.birth_date_range",
        False,
    ),
    (
        "id-unknown-province",
        dict(id_number=with_check("99011319900101123")),
        "id_number",
        "id_number.address_code",
        False,
    ),
    ("phone-landline", dict(phone="02988886666"), "phone", "phone.format", True),
    ("phone-12-digits", dict(phone="139123456789"), "phone", "phone.format", True),
    ("phone-empty", dict(phone=""), "phone", "phone.required", True),
    (
        "home-5-digits",
        dict(home_division_code="61011"),
        "home_division_code",
        "division_code.width",
        True,
    ),
    (
        "home-letters",
        dict(home_division_code="abc"),
        "home_division_code",
        "division_code.format",
        True,
    ),
    (
        "home-full-width",
        dict(home_division_code="６１０１１３００４"),
        "home_division_code",
        "division_code.format",
        True,
    ),
    (
        "unknown-service-field",
        dict(service_fields=["elderly_care", "knitting"]),
        "service_fields",
        "service_fields.known",
        True,
    ),
    (
        "under-14-without-guardian",
        dict(id_number=child_id),
        "guardian",
        "guardian.required_under_14",
        True,
    ),
    (
        "under-14-guardian-without-consent",
        dict(id_number=child_id, guardian=lambda: guardian(False)),
        "guardian.consent",
        "guardian.consent",
        True,
    ),
    (
        "under-14-guardian-bad-phone",
        dict(id_number=child_id, guardian=lambda: guardian(True, "12345")),
        "guardian.phone",
        "phone.format",
        True,
    ),
]


def registration(**over: Any) -> dict[str, Any]:
    req: dict[str, Any] = dict(
        name="周志愿",
        id_number=new_id_number(COUNTY),
        phone=new_phone(),
        home_division_code=TOWN,
        service_fields=["elderly_care"],
    )
    req.update({k: v() if callable(v) else v for k, v in over.items()})
    return req


def footprint(stub, province: str) -> tuple[int, dict[str, float], dict[str, float]]:  # type: ignore[no-untyped-def]
    total = stub.ListVolunteers(
        pb.ListVolunteersRequest(division_code=TOWN), metadata=auth(province)
    ).page.total_size

    def metrics(code: str) -> dict[str, float]:
        q = common.RollupQuery(division_code=code)
        rollup = stub.Summarize(pb.SummarizeRequest(query=q), metadata=auth(province))
        return dict(rollup.rollup.total.metrics)

    return total, metrics(TOWN), metrics(COUNTY)


@pytest.mark.parametrize(
    ("over", "field", "rule", "valid_id"),
    [pytest.param(o, f, r, v, id=i) for i, o, f, r, v in REGISTER_CASES],
)
def test_register_volunteer_rejects_bad_field(stub, token, over, field, rule, valid_id):  # type: ignore[no-untyped-def]
    county, province = token(COUNTY), token("61", "province_admin")
    req = registration(**over)
    before = footprint(stub, province)
    trailers = rejected(
        lambda: stub.RegisterVolunteer(
            pb.RegisterVolunteerRequest(**req), metadata=auth(county)
        )
    )
    assert_field(trailers, field, rule)
    assert footprint(stub, province) == before
    if valid_id:  # nothing was stored under the ID number: it registers now
        fixed = registration(id_number=req["id_number"])
        if field.startswith("guardian"):  # the under-14 cases, now with consent
            fixed["guardian"] = guardian(True)
        vol = stub.RegisterVolunteer(
            pb.RegisterVolunteerRequest(**fixed), metadata=auth(county)
        ).volunteer
        assert vol.home_division_code == TOWN


# -- CreateOrganisation -------------------------------------------------------


def org_names(stub, tok: str) -> set[str]:  # type: ignore[no-untyped-def]
    orgs = stub.ListOrganisations(
        pb.ListOrganisationsRequest(
            division_code=COUNTY, page=common.PageRequest(page_size=500)
        ),
        metadata=auth(tok),
    ).organisations
    return {o.name for o in orgs}


ORG_CASES = [
    (
        "kind-unspecified",
        dict(kind=pb.ORGANISATION_KIND_UNSPECIFIED),
        "kind",
        "kind.known",
    ),
    ("kind-unknown-number", dict(kind=7), "kind", "kind.known"),
    ("empty-name", dict(name=""), "name", "name.required"),
    ("201-char-name", dict(name="队" * 201), "name", "name.max_length"),
    (
        "division-letters",
        dict(division_code="abc"),
        "division_code",
        "division_code.format",
    ),
    (
        "unknown-service-field",
        dict(service_fields=["knitting"]),
        "service_fields",
        "service_fields.known",
    ),
    (
        "contact-phone-landline",
        dict(contact_phone="029-8888-6666"),
        "contact_phone",
        "phone.format",
    ),
]


def org_request(**over: Any) -> pb.CreateOrganisationRequest:
    req: dict[str, Any] = dict(
        name=f"坏输入组织-{uuid.uuid4().hex[:8]}",
        kind=pb.ORGANISATION_KIND_ORGANISATION,
        division_code=COUNTY,
    )
    req.update(over)
    return pb.CreateOrganisationRequest(**req)


@pytest.mark.parametrize(
    ("over", "field", "rule"), [pytest.param(o, f, r, id=i) for i, o, f, r in ORG_CASES]
)
def test_create_organisation_rejects_bad_field(stub, token, over, field, rule):  # type: ignore[no-untyped-def]
    county = token(COUNTY)
    req = org_request(**over)
    before = org_names(stub, county)
    assert_field(
        rejected(lambda: stub.CreateOrganisation(req, metadata=auth(county))),
        field,
        rule,
    )
    assert org_names(stub, county) == before


PARENTS = ["not-a-uuid", str(uuid.uuid4())]


@pytest.mark.parametrize("parent", PARENTS, ids=["malformed", "unknown"])
def test_create_organisation_with_bad_parent_is_refused_and_stores_nothing(
    stub, token, parent
):  # type: ignore[no-untyped-def]
    county = token(COUNTY)
    req = org_request(kind=pb.ORGANISATION_KIND_TEAM, parent_id=parent)
    with pytest.raises(grpc.RpcError) as err:
        stub.CreateOrganisation(req, metadata=auth(county))
    assert err.value.code() in (INVALID, grpc.StatusCode.NOT_FOUND)
    assert req.name not in org_names(stub, county)


@pytest.mark.parametrize("parent", PARENTS, ids=["malformed", "unknown"])
def test_create_organisation_bad_parent_names_the_field(stub, token, parent):  # type: ignore[no-untyped-def]
    req = org_request(kind=pb.ORGANISATION_KIND_TEAM, parent_id=parent)
    with pytest.raises(grpc.RpcError) as err:
        stub.CreateOrganisation(req, metadata=auth(token(COUNTY)))
    assert dict(err.value.trailing_metadata()).get("zhiyuan-field") == "parent_id"


# -- CreateAccount -----------------------------------------------------------

ACCOUNT_CASES = [
    ("short-password", dict(password="short-pw"), "password", "password.min_length"),
    ("space-in-username", dict(username="bad name"), "username", "username.charset"),
    ("bang-in-username", dict(username="bad!name"), "username", "username.charset"),
    ("slash-in-username", dict(username="a/../b"), "username", "username.charset"),
    ("empty-username", dict(username=""), "username", "username.required"),
    ("65-char-username", dict(username="a" * 65), "username", "username.max_length"),
    ("unknown-role", dict(roles=["superuser"]), "roles", "roles.known"),
    ("no-role", dict(roles=[]), "roles", "roles.required"),
    ("scope-bad-width", dict(scope_code="61011"), "scope_code", "division_code.width"),
]


def account_request(**over: Any) -> dict[str, Any]:
    req: dict[str, Any] = dict(
        username=f"bad-input-{uuid.uuid4().hex[:8]}",
        password="a-long-password",
        scope_code=COUNTY,
        roles=["reviewer"],
    )
    req.update(over)
    return req


def login_fails(stub, username: str, password: str) -> bool:  # type: ignore[no-untyped-def]
    if not username.strip() or not password:
        return True
    try:
        stub.Login(pb.LoginRequest(username=username, password=password))
    except grpc.RpcError as err:
        return err.code() == grpc.StatusCode.UNAUTHENTICATED
    return False


@pytest.mark.parametrize(
    ("over", "field", "rule"),
    [pytest.param(o, f, r, id=i) for i, o, f, r in ACCOUNT_CASES],
)
def test_create_account_rejects_bad_field(stub, token, over, field, rule):  # type: ignore[no-untyped-def]
    req = account_request(**over)
    trailers = rejected(
        lambda: stub.CreateAccount(
            pb.CreateAccountRequest(**req), metadata=auth(token(COUNTY))
        )
    )
    assert_field(trailers, field, rule)
    assert login_fails(stub, req["username"], req["password"])


def test_create_account_refuses_look_alike_username(stub, token):  # type: ignore[no-untyped-def]
    req = account_request(username=f"аdmin-{uuid.uuid4().hex[:6]}")  # Cyrillic а
    trailers = rejected(
        lambda: stub.CreateAccount(
            pb.CreateAccountRequest(**req), metadata=auth(token(COUNTY))
        )
    )
    assert_field(trailers, "username", "username.charset")


# An org_leader (without an admin role) runs one organisation or team.
LEADER_CASES = [
    ("no-organisation", "", "organisation_id.required"),
    ("blank-organisation", "   ", "organisation_id.required"),
    ("unknown-organisation", str(uuid.uuid4()), "organisation_id.exists"),
    ("over-long-organisation", "x" * 300, "organisation_id.exists"),
]


@pytest.mark.parametrize(
    ("organisation_id", "rule"),
    [pytest.param(o, r, id=i) for i, o, r in LEADER_CASES],
)
def test_create_org_leader_account_needs_its_organisation(  # type: ignore[no-untyped-def]
    stub, token, organisation_id, rule
):
    req = account_request(roles=["org_leader"], organisation_id=organisation_id)
    trailers = rejected(
        lambda: stub.CreateAccount(
            pb.CreateAccountRequest(**req), metadata=auth(token(COUNTY))
        )
    )
    assert_field(trailers, "organisation_id", rule)
    assert login_fails(stub, req["username"], req["password"])


def test_admin_granted_org_leader_needs_no_organisation(stub, token):  # type: ignore[no-untyped-def]
    req = account_request(roles=["tenant_admin", "org_leader"])
    acc = stub.CreateAccount(
        pb.CreateAccountRequest(**req), metadata=auth(token(COUNTY))
    ).account
    assert acc.organisation_id == ""


# -- UpdateTenantSettings -------------------------------------------------------

SETTINGS_NODE = TOWN
SETTINGS_CASES = [
    (
        "unknown-key",
        dict(set_json={"stars.colour": '"gold"'}),
        "set_json.stars.colour",
        "settings.known_key",
    ),
    (
        "not-json",
        dict(set_json={"hours.daily_cap": "ten"}),
        "set_json.hours.daily_cap",
        "settings.json",
    ),
    (
        "thresholds-not-increasing",
        dict(set_json={"stars.thresholds_hours": "[100,300,200,1000,1500]"}),
        "set_json.stars.thresholds_hours",
        "settings.stars.thresholds_hours",
    ),
    (
        "thresholds-four",
        dict(set_json={"stars.thresholds_hours": "[100,300,600,1000]"}),
        "set_json.stars.thresholds_hours",
        "settings.stars.thresholds_hours",
    ),
    (
        "notice-days-3",
        dict(set_json={"awards.notice_working_days": "3"}),
        "set_json.awards.notice_working_days",
        "settings.awards.notice_working_days",
    ),
    (
        "notice-days-bool",
        dict(set_json={"awards.notice_working_days": "true"}),
        "set_json.awards.notice_working_days",
        "settings.awards.notice_working_days",
    ),
    (
        "daily-cap-nan",
        dict(set_json={"hours.daily_cap": "NaN"}),
        "set_json.hours.daily_cap",
        "settings.hours.daily_cap",
    ),
    (
        "rounding-unknown",
        dict(set_json={"hours.rounding": '"up"'}),
        "set_json.hours.rounding",
        "settings.hours.rounding",
    ),
    ("clear-unknown-key", dict(clear=["stars.colour"]), "clear", "settings.known_key"),
    (
        "one-good-one-bad",
        dict(set_json={"hours.daily_cap": "8", "awards.notice_working_days": "3"}),
        "set_json.awards.notice_working_days",
        "settings.awards.notice_working_days",
    ),
    (
        "division-bad-width",
        dict(division_code="61011"),
        "division_code",
        "division_code.width",
    ),
]


def effective(stub, tok: str) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    rows = stub.GetEffectiveSettings(
        pb.GetEffectiveSettingsRequest(division_code=SETTINGS_NODE), metadata=auth(tok)
    ).settings
    return [(s.key, s.value_json, s.source_code) for s in rows]


@pytest.mark.parametrize(
    ("over", "field", "rule"),
    [pytest.param(o, f, r, id=i) for i, o, f, r in SETTINGS_CASES],
)
def test_update_settings_rejects_bad_value(stub, token, over, field, rule):  # type: ignore[no-untyped-def]
    county = token(COUNTY)
    req = pb.UpdateTenantSettingsRequest(**{"division_code": SETTINGS_NODE, **over})
    before = effective(stub, county)
    assert_field(
        rejected(lambda: stub.UpdateTenantSettings(req, metadata=auth(county))),
        field,
        rule,
    )
    assert effective(stub, county) == before


# -- Summarize ------------------------------------------------------------------

L = common
SUMMARIZE_CASES = [
    (
        "start-month-13",
        dict(division_code=COUNTY, period=L.Period(start_month="2026-13")),
        "query.period.start_month",
        "period.month_format",
    ),
    (
        "end-month-one-digit",
        dict(division_code=COUNTY, period=L.Period(end_month="2026-1")),
        "query.period.end_month",
        "period.month_format",
    ),
    (
        "month-as-date",
        dict(division_code=COUNTY, period=L.Period(start_month="2026-01-01")),
        "query.period.start_month",
        "period.month_format",
    ),
    (
        "group-by-city-at-county",
        dict(division_code=COUNTY, group_by=L.DIVISION_LEVEL_CITY),
        "query.group_by",
        "group_by.below_node",
    ),
    (
        "group-by-own-level",
        dict(division_code=COUNTY, group_by=L.DIVISION_LEVEL_COUNTY),
        "query.group_by",
        "group_by.below_node",
    ),
    (
        "village-has-no-children",
        dict(division_code="610113004001"),
        "query.group_by",
        "group_by.below_node",
    ),
    (
        "division-letters",
        dict(division_code="6101a3"),
        "query.division_code",
        "division_code.format",
    ),
]


@pytest.mark.parametrize(
    ("query", "field", "rule"),
    [pytest.param(q, f, r, id=i) for i, q, f, r in SUMMARIZE_CASES],
)
def test_summarize_rejects_bad_query(stub, token, query, field, rule):  # type: ignore[no-untyped-def]
    req = pb.SummarizeRequest(query=common.RollupQuery(**query))
    assert_field(
        rejected(lambda: stub.Summarize(req, metadata=auth(token(COUNTY)))), field, rule
    )


def test_summarize_unknown_group_by_value_is_invalid(stub, token):  # type: ignore[no-untyped-def]
    req = pb.SummarizeRequest(
        query=common.RollupQuery(division_code=COUNTY, group_by=9)
    )
    trailers = rejected(lambda: stub.Summarize(req, metadata=auth(token(COUNTY))))
    assert trailers.get("zhiyuan-field") == "query.group_by"


# Federated figures are kept for stored periods only: a range of months or
# by month is refused, beside every refusal of Summarize's query.
FEDERATED_CASES = [
    *SUMMARIZE_CASES,
    (
        "range-of-months",
        dict(
            division_code=COUNTY,
            period=L.Period(start_month="2026-03", end_month="2026-05"),
        ),
        "query.period",
        "period.stored",
    ),
    ("by-month", dict(division_code=COUNTY, by_month=True), "query.period",
     "period.stored"),
    ("group-by-unknown", dict(division_code=COUNTY, group_by=9), "query.group_by",
     "query.group_by.known"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("query", "field", "rule"),
    [pytest.param(q, f, r, id=i) for i, q, f, r in FEDERATED_CASES],
)
def test_summarize_federated_rejects_bad_query(stub, token, query, field, rule):  # type: ignore[no-untyped-def]
    req = pb.SummarizeFederatedRequest(query=common.RollupQuery(**query))
    assert_field(
        rejected(lambda: stub.SummarizeFederated(req, metadata=auth(token(COUNTY)))),
        field,
        rule,
    )


# -- ListVolunteers ----------------------------------------------------------------


def token_for(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


PAGE_TOKENS = [
    ("not-base64", "!!!"),
    ("bad-padding", "MTA"),
    ("not-a-number", token_for("abc")),
    ("not-utf8", base64.urlsafe_b64encode(b"\xff\xfe").decode()),
    ("float", token_for("1.5")),
]


@pytest.mark.parametrize(
    "page_token",
    [pytest.param(p, id=i) for i, p in PAGE_TOKENS]
    + [pytest.param(token_for("9" * 20), id="beyond-bigint")],
)
def test_list_volunteers_rejects_bad_page_token(stub, token, page_token):  # type: ignore[no-untyped-def]
    req = pb.ListVolunteersRequest(
        division_code=COUNTY, page=common.PageRequest(page_token=page_token)
    )
    assert_field(
        rejected(lambda: stub.ListVolunteers(req, metadata=auth(token(COUNTY)))),
        "page.page_token",
        "page.token",
    )


def test_list_volunteers_rejects_malformed_division_code(stub, token):  # type: ignore[no-untyped-def]
    req = pb.ListVolunteersRequest(division_code="6101130")
    assert_field(
        rejected(lambda: stub.ListVolunteers(req, metadata=auth(token(COUNTY)))),
        "division_code",
        "division_code.width",
    )


def test_list_volunteers_unknown_status_is_invalid(stub, token):  # type: ignore[no-untyped-def]
    req = pb.ListVolunteersRequest(division_code=COUNTY, status=9)
    trailers = rejected(lambda: stub.ListVolunteers(req, metadata=auth(token(COUNTY))))
    assert trailers.get("zhiyuan-field") == "status"
