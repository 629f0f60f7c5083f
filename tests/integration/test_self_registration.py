"""A volunteer registers themselves and signs in (issue 13): real gRPC calls
to registration's api role and real HTTP calls to the gateway, on the real
PostgreSQL. Every refusal names its field and leaves nothing written."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from zhiyuan.registration.v1 import registration_pb2 as pb

from services.common.auth import TokenVerifier
from services.common.config import load
from services.common.rpc import CLIENT_ADDRESS_KEY
from services.common.testing import PUBLIC_PEM
from services.gateway.app import create_app
from services.registration.usecases.selfservice import register_policy
from tests.helpers import assert_field, auth, new_id_number, new_phone, ok, rejected

pytestmark = pytest.mark.integration

COUNTY, TOWN = "610113", "610113001"
SECRET = "my-own-password"  # noqa: S105 - a test volunteer's password
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
DUPLICATE_EN = "already registered; sign in or ask your office"
DUPLICATE_ZH = "该身份证号已注册，请直接登录或联系所在地志愿服务组织"


def address() -> str:
    """A client address of the test's own, so no two tests share a limit."""
    return f"198.18.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


def body(**over: Any) -> dict[str, Any]:
    values: dict[str, Any] = dict(
        name="王自助",
        id_number=new_id_number(COUNTY),
        phone=new_phone(),
        home_division_code=TOWN,
        service_fields=["elderly_care"],
        skills=["急救"],
        password=SECRET,
    )
    values.update(over)
    return values


def self_register(stub: Any, client: str = "", **over: Any) -> Any:
    md = [(CLIENT_ADDRESS_KEY, client or address())]
    return stub.SelfRegister(pb.SelfRegisterRequest(**body(**over)), metadata=md)


@pytest.fixture
def written(migrated: dict[str, str]) -> Iterator[Any]:
    """written() → the number of volunteers, accounts and outbox events (the
    owner's view, across every tenant)."""
    engine = create_engine(migrated["REGISTRATION_DATABASE_URL"])

    def count() -> tuple[int, ...]:
        with engine.connect() as conn:
            return tuple(
                conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()  # noqa: S608
                for t in ("volunteers", "accounts", "outbox")
            )

    yield count
    engine.dispose()


def claims(token: str) -> Any:
    return TokenVerifier(PUBLIC_PEM, "zhiyuan", "zhiyuan").verify(token)


def test_a_self_registration_is_pending_in_the_office_queue_and_signs_in(
    stub, token, migrated
):
    got = self_register(stub)
    vol = got.volunteer
    assert vol.status == pb.VOLUNTEER_STATUS_PENDING
    assert got.volunteer_number == vol.volunteer_number.strip() != ""
    assert (vol.name, list(vol.skills)) == ("王**", ["急救"])
    assert "*" in vol.id_number and "*" in vol.phone
    assert (got.account.username, list(got.account.roles)) == (
        vol.volunteer_number, ["volunteer"],
    )  # fmt: skip
    assert got.account.scope_code == TOWN
    # The county office's existing verification queue shows it.
    office = token(COUNTY)
    queue = stub.ListVolunteers(
        pb.ListVolunteersRequest(
            division_code=TOWN,
            status=pb.VOLUNTEER_STATUS_PENDING,
            query=vol.volunteer_number,
        ),
        metadata=auth(office),
    ).volunteers
    assert [v.id for v in queue] == [vol.id]
    engine = create_engine(migrated["REGISTRATION_DATABASE_URL"])
    with engine.connect() as conn:
        by = conn.execute(
            text("SELECT registered_by FROM volunteers WHERE id = :v"), {"v": vol.id}
        ).scalar_one()
    engine.dispose()
    assert by == "self"
    # Sign in by volunteer number: the token names the volunteer (claim vol).
    login = stub.Login(pb.LoginRequest(username=vol.volunteer_number, password=SECRET))
    assert claims(login.access_token).volunteer_id == vol.id
    assert (login.account.id, login.account.username) == (
        got.account.id, vol.volunteer_number,
    )  # fmt: skip
    me = stub.GetMe(pb.GetMeRequest(), metadata=auth(login.access_token))
    assert (me.volunteer.id, me.account.id) == (vol.id, got.account.id)
    # Verified by the office as any registration.
    done = stub.VerifyVolunteer(
        pb.VerifyVolunteerRequest(id=vol.id), metadata=auth(office)
    )
    assert done.volunteer.status == pb.VOLUNTEER_STATUS_VERIFIED


def test_sign_in_by_phone_full_width_digits_too(stub):
    phone = new_phone()
    got = self_register(stub, phone=phone.translate(FULL_WIDTH))
    assert got.volunteer.phone == phone[:3] + "****" + phone[-4:]
    for typed in (phone, phone.translate(FULL_WIDTH), f"+86 {phone[:3]}-{phone[3:]}"):
        login = stub.Login(pb.LoginRequest(username=typed, password=SECRET))
        assert claims(login.access_token).volunteer_id == got.volunteer.id
        assert login.account.username == got.volunteer_number
    trailers = rejected(
        lambda: stub.Login(pb.LoginRequest(username=phone, password="wrong-password")),
        grpc.StatusCode.UNAUTHENTICATED,
    )
    assert trailers.get("zhiyuan-message-en-bin", b"") != b""


def test_a_full_width_id_number_is_read_as_its_ascii_form(stub, token):
    number = new_id_number(COUNTY)
    got = self_register(stub, id_number=number.translate(FULL_WIDTH))
    assert got.volunteer.id_number == number[:4] + "*" * 10 + number[-4:]
    found = stub.ListVolunteers(
        pb.ListVolunteersRequest(query=number), metadata=auth(token(COUNTY))
    ).volunteers
    assert [v.id for v in found] == [got.volunteer.id]


def test_a_registered_id_number_is_refused_never_saying_where(stub, token, written):
    number = new_id_number("610602")
    stub.RegisterVolunteer(
        pb.RegisterVolunteerRequest(
            name="王已注册",
            id_number=number,
            phone=new_phone(),
            home_division_code="610602",
            service_fields=["elderly_care"],
        ),
        metadata=auth(token("610602")),
    )
    before = written()
    with pytest.raises(grpc.RpcError) as err:
        self_register(stub, id_number=number)
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
    trailers = dict(err.value.trailing_metadata())
    assert trailers["zhiyuan-message-en-bin"].decode() == DUPLICATE_EN
    assert trailers["zhiyuan-message-zh-bin"].decode() == DUPLICATE_ZH
    assert trailers["zhiyuan-field"] == "id_number"
    for secret in ("610602", "延安", "宝塔", number):
        assert secret not in err.value.details()
    assert written() == before


def thirteen_year_old() -> str:
    born = date.today() - timedelta(days=13 * 365 + 30)
    return new_id_number(COUNTY, born.replace(day=1))


BAD = [
    ("id-checksum", lambda: dict(id_number=(n := new_id_number())[:17]
                                 + ("0" if n[17] != "0" else "1")),
     "id_number", "id_number.checksum"),
    ("id-short", lambda: dict(id_number=new_id_number()[:17]), "id_number",
     "id_number.length"),
    ("county-not-township", lambda: dict(home_division_code=COUNTY),
     "home_division_code", "home_division_code.level"),
    ("unknown-division", lambda: dict(home_division_code="610113987"),
     "home_division_code", "home_division_code.exists"),
    ("other-province-unknown", lambda: dict(home_division_code="990101001"),
     "home_division_code", "home_division_code.exists"),
    ("bare-cr-name", lambda: dict(name="\r"), "name", "name.required"),
    ("cr-inside-name", lambda: dict(name="王\r自助"), "name", "name.characters"),
    ("short-password", lambda: dict(password="short-pw"), "password",
     "password.min_length"),
    ("13-without-guardian", lambda: dict(id_number=thirteen_year_old()), "guardian",
     "guardian.required_under_14"),
    ("guardian-not-consenting", lambda: dict(
        id_number=thirteen_year_old(),
        guardian=pb.Guardian(name="王大明", phone=new_phone(), relation="父亲")),
     "guardian.consent", "guardian.consent"),
    ("long-skill", lambda: dict(skills=["技" * 21]), "skills", "skills.max_length"),
    ("phone", lambda: dict(phone="12345"), "phone", "phone.format"),
]  # fmt: skip


@pytest.mark.parametrize(("over", "field", "rule"), [b[1:] for b in BAD],
                         ids=[b[0] for b in BAD])  # fmt: skip
def test_bad_input_names_the_field_and_writes_nothing(stub, written, over, field, rule):
    before = written()
    trailers = rejected(lambda: self_register(stub, **over()))
    assert_field(trailers, field, rule)
    assert written() == before


def test_a_child_with_a_consenting_guardian_registers(stub):
    g = pb.Guardian(name="王大明", phone=new_phone(), relation="父亲", consent=True)
    got = self_register(stub, id_number=thirteen_year_old(), guardian=g)
    assert got.volunteer.has_guardian


def test_a_repeated_request_returns_the_first_result(stub, written):
    first = self_register(stub, request_id="form-1", id_number=(n := new_id_number()))
    before = written()
    again = self_register(stub, request_id="form-1", id_number=n)
    assert again.volunteer.id == first.volunteer.id
    assert written() == before


def test_registration_is_rate_limited_per_client_address(stub, written):
    limit = register_policy(load()).client_max_failures
    client = address()
    for _ in range(limit):  # refused attempts count too
        rejected(lambda: self_register(stub, client, password="short"))
    before = written()
    trailers = rejected(
        lambda: self_register(stub, client), grpc.StatusCode.RESOURCE_EXHAUSTED
    )
    assert int(trailers["zhiyuan-retry-after"]) > 0
    assert trailers["zhiyuan-rule"] == "register.rate_limited"
    assert written() == before
    assert self_register(stub).volunteer.id  # another address is not affected


# -- through the gateway ---------------------------------------------------------


@pytest.fixture
def http(apis: dict[str, str]) -> Iterator[TestClient]:
    """The gateway, as one client address of its own."""
    with TestClient(create_app(load()), client=(address(), 50000)) as c:
        yield c


def test_the_gateway_registers_lists_divisions_and_answers_me(http, token):
    towns = ok(http.get("/api/v1/public/divisions", params={"parent_code": COUNTY}))
    assert {"code": TOWN, "name": "小寨路街道", "level": "DIVISION_LEVEL_TOWNSHIP"} in (
        towns["divisions"]
    )
    provinces = ok(http.get("/api/v1/public/divisions"))["divisions"]
    assert {
        "code": "61",
        "name": "陕西省",
        "level": "DIVISION_LEVEL_PROVINCE",
    } in provinces
    missing = http.get("/api/v1/public/divisions", params={"parent_code": "6x"})
    assert (
        missing.status_code == 400 and missing.json()["error"]["field"] == "parent_code"
    )
    got = ok(http.post("/api/v1/me/register", json=body()), 201)
    assert got["volunteer"]["status"] == "VOLUNTEER_STATUS_PENDING"
    number = got["volunteer_number"]
    login = ok(
        http.post("/api/v1/login", json={"username": number, "password": SECRET})
    )
    me = ok(
        http.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {login['access_token']}"}
        )
    )
    assert me["volunteer"]["id"] == got["volunteer"]["id"]
    assert me["account"]["username"] == number and me["roles"] == ["volunteer"]
    # An office account's /me is unchanged: no volunteer of its own.
    office = ok(
        http.get("/api/v1/me", headers={"Authorization": f"Bearer {token(COUNTY)}"})
    )
    assert "volunteer" not in office and office["scope_code"] == COUNTY


def test_the_gateway_refuses_bad_input_and_duplicates_in_both_languages(http, written):
    first = body()
    ok(http.post("/api/v1/me/register", json=first), 201)
    before = written()
    dup = http.post("/api/v1/me/register", json=body(id_number=first["id_number"]))
    assert dup.status_code == 409
    error = dup.json()["error"]
    assert (error["message_en"], error["message_zh"]) == (DUPLICATE_EN, DUPLICATE_ZH)
    missing = http.post("/api/v1/me/register", json=body(password=""))
    assert missing.status_code == 400 and missing.json()["error"]["field"] == "password"
    assert written() == before


def test_the_gateway_answers_429_with_retry_after(http):
    limit = register_policy(load()).client_max_failures
    for _ in range(limit):
        assert http.post("/api/v1/me/register", json=body(name="")).status_code == 400
    got = http.post("/api/v1/me/register", json=body())
    assert got.status_code == 429, got.text
    assert int(got.headers["Retry-After"]) > 0
    assert got.json()["error"]["rule"] == "register.rate_limited"
