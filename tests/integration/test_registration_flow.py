"""Real gRPC calls to registration's api role, on the real PostgreSQL."""

from __future__ import annotations

import grpc
import pytest
from sqlalchemy import create_engine, text
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.registration.v1 import registration_pb2 as pb

from tests.helpers import auth, new_id_number, new_phone

pytestmark = pytest.mark.integration


def register(stub, tok, county="610113", **over):  # type: ignore[no-untyped-def]
    req = dict(
        name="王小明",
        id_number=new_id_number(county),
        phone=new_phone(),
        home_division_code=county + "001" if len(county) == 6 else county,
        service_fields=["elderly_care"],
    )
    req.update(over)
    return stub.RegisterVolunteer(
        pb.RegisterVolunteerRequest(**req), metadata=auth(tok)
    ).volunteer


def summary(stub, tok, code, **kw):  # type: ignore[no-untyped-def]
    q = common.RollupQuery(division_code=code, **kw)
    return stub.Summarize(pb.SummarizeRequest(query=q), metadata=auth(tok)).rollup


def test_register_verify_and_rollup_at_every_level(stub, token):
    province, county = token("61", "province_admin"), token("610113")
    before = {
        code: summary(stub, province, code).total.metrics["volunteers_verified"]
        for code in ("61", "6101", "610113", "610113001")
    }
    vol = register(stub, county)
    assert vol.status == pb.VOLUNTEER_STATUS_PENDING
    assert vol.volunteer_number.startswith("ZY61")
    assert "*" in vol.id_number and "*" in vol.phone and vol.name == "王**"
    verified = stub.VerifyVolunteer(
        pb.VerifyVolunteerRequest(id=vol.id), metadata=auth(county)
    )
    assert verified.volunteer.status == pb.VOLUNTEER_STATUS_VERIFIED
    for code, old in before.items():
        assert (
            summary(stub, province, code).total.metrics["volunteers_verified"]
            == old + 1
        )
    # The city's row in the provincial rollup equals the city's own total.
    rows = {r.division.code: r for r in summary(stub, province, "61").rows}
    assert rows["6101"].division.name == "西安市"
    assert (
        rows["6101"].metrics["volunteers_verified"]
        == summary(stub, province, "6101").total.metrics["volunteers_verified"]
    )


def test_verify_twice_is_a_failed_precondition(stub, token):
    county = token("610113")
    vol = register(stub, county)
    stub.VerifyVolunteer(pb.VerifyVolunteerRequest(id=vol.id), metadata=auth(county))
    with pytest.raises(grpc.RpcError) as err:
        stub.RejectVolunteer(
            pb.RejectVolunteerRequest(id=vol.id, reason="x"), metadata=auth(county)
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_duplicate_id_number_found_platform_wide_without_saying_where(stub, token):
    number = new_id_number("610602")
    register(stub, token("610602"), county="610602", id_number=number)
    with pytest.raises(grpc.RpcError) as err:
        register(stub, token("610113"), id_number=number)
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert "610602" not in err.value.details()
    assert number not in err.value.details()


def test_same_request_id_registers_once(stub, token):
    county = token("610113")
    first = register(stub, county, request_id="form-42")
    again = register(stub, county, request_id="form-42")
    assert again.id == first.id


def test_under_14_needs_guardian_consent(stub, token):
    from datetime import date

    county = token("610113")
    child_id = new_id_number("610113", date(2016, 3, 1))
    with pytest.raises(grpc.RpcError) as err:
        register(stub, county, id_number=child_id)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert dict(err.value.trailing_metadata())["zhiyuan-field"] == "guardian"
    vol = register(
        stub,
        county,
        id_number=child_id,
        guardian=pb.Guardian(
            name="王大明", phone=new_phone(), relation="father", consent=True
        ),
    )
    assert vol.has_guardian


def test_organisations_nest_in_teams(stub, token):
    admin = token("610116")
    root = stub.CreateOrganisation(
        pb.CreateOrganisationRequest(
            name="长安区志愿服务总队",
            kind=pb.ORGANISATION_KIND_ORGANISATION,
            division_code="610116",
        ),
        metadata=auth(admin),
    ).organisation
    sub = stub.CreateOrganisation(
        pb.CreateOrganisationRequest(
            name="韦曲街道服务队",
            kind=pb.ORGANISATION_KIND_TEAM,
            division_code="610116001",
            parent_id=root.id,
        ),
        metadata=auth(admin),
    ).organisation
    got = stub.GetOrganisation(
        pb.GetOrganisationRequest(id=root.id), metadata=auth(admin)
    )
    assert [c.id for c in got.children] == [sub.id]
    with pytest.raises(grpc.RpcError) as err:  # a sub-team outside its parent's area
        stub.CreateOrganisation(
            pb.CreateOrganisationRequest(
                name="错位服务队",
                kind=pb.ORGANISATION_KIND_TEAM,
                division_code="610113001",
                parent_id=sub.id,
            ),
            metadata=auth(token("6101")),
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_login_and_delegated_administration(stub, token):
    province = token("61", "province_admin", username="sx")
    stub.CreateAccount(
        pb.CreateAccountRequest(
            username="beilin-admin",
            password="a-long-password",
            scope_code="610103",
            roles=["tenant_admin"],
        ),
        metadata=auth(province),
    )
    login = stub.Login(
        pb.LoginRequest(username="beilin-admin", password="a-long-password")
    )
    assert login.account.scope_code == "610103"
    county = login.access_token
    with pytest.raises(grpc.RpcError) as err:  # cannot grant a role it lacks
        stub.CreateAccount(
            pb.CreateAccountRequest(
                username="x1",
                password="a-long-password",
                scope_code="610103001",
                roles=["province_admin"],
            ),
            metadata=auth(county),
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as err:  # nor outside its subtree
        stub.CreateAccount(
            pb.CreateAccountRequest(
                username="x2",
                password="a-long-password",
                scope_code="610104",
                roles=["tenant_admin"],
            ),
            metadata=auth(county),
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as err:
        stub.Login(pb.LoginRequest(username="beilin-admin", password="wrong-password"))
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_settings_inherit_and_override(stub, token):
    province, county = token("61", "province_admin"), token("610113")
    stub.UpdateTenantSettings(
        pb.UpdateTenantSettingsRequest(
            division_code="61", set_json={"hours.daily_cap": "10"}
        ),
        metadata=auth(province),
    )
    stub.UpdateTenantSettings(
        pb.UpdateTenantSettingsRequest(
            division_code="610113", set_json={"hours.rounding": '"chongqing"'}
        ),
        metadata=auth(county),
    )
    got = stub.GetEffectiveSettings(
        pb.GetEffectiveSettingsRequest(division_code="610113001"), metadata=auth(county)
    ).settings
    by_key = {s.key: (s.value_json, s.source_code) for s in got}
    assert by_key["hours.daily_cap"] == ("10", "61")
    assert by_key["hours.rounding"] == ('"chongqing"', "610113")
    assert by_key["stars.thresholds_hours"][1] == ""


def test_division_rename_and_retire_keep_history(stub, token):
    province = token("61", "province_admin")
    stub.CreateDivision(
        pb.CreateDivisionRequest(code="610113999", name="测试街道", reason="新设"),
        metadata=auth(province),
    )
    stub.RenameDivision(
        pb.RenameDivisionRequest(code="610113999", name="新测试街道", reason="更名"),
        metadata=auth(province),
    )
    stub.RetireDivision(
        pb.RetireDivisionRequest(
            code="610113999", successor_code="610113001", reason="合并"
        ),
        metadata=auth(province),
    )
    history = stub.ListDivisionHistory(
        pb.ListDivisionHistoryRequest(code="610113999"), metadata=auth(province)
    ).changes
    assert [c.kind for c in history] == ["created", "renamed", "retired"]
    with pytest.raises(grpc.RpcError) as err:  # nobody registers into a retired node
        register(stub, token("610113"), home_division_code="610113999")
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def _as_app(conn, scope: str | None) -> None:  # type: ignore[no-untyped-def]
    conn.execute(text("SET LOCAL ROLE zhiyuan_registration_app"))
    if scope is not None:
        conn.execute(text("SELECT set_config('zhiyuan.scope', :s, true)"), {"s": scope})


def test_row_level_security_under_the_application_role(stub, token, migrated):
    register(stub, token("610602"), county="610602")
    register(stub, token("610113"))
    engine = create_engine(migrated["REGISTRATION_DATABASE_URL"])
    volunteers = text("SELECT DISTINCT home_division_code FROM volunteers")
    with engine.begin() as conn:
        _as_app(conn, "6106")
        codes = conn.execute(volunteers).scalars().all()
        assert codes and all(c.startswith("6106") for c in codes)
        # Another tenant's rows cannot be changed: they are not even there.
        changed = conn.execute(
            text(
                "UPDATE volunteers SET status = 'verified'"
                " WHERE home_division_code LIKE '6101%' RETURNING id"
            )
        ).all()
        assert changed == []
    with engine.begin() as conn, pytest.raises(Exception, match="row-level security"):
        _as_app(conn, "6106")
        conn.execute(
            text(
                "INSERT INTO activity_feed (event_id, event_type, division_code,"
                " summary, occurred_at) VALUES ('x', 'x', '610113', 'x', now())"
            )
        )
    with engine.begin() as conn:
        _as_app(conn, None)  # no scope at all: default deny
        assert conn.execute(text("SELECT count(*) FROM volunteers")).scalar_one() == 0
    with engine.begin() as conn:  # the migration owner still sees everything
        assert {c[:4] for c in conn.execute(volunteers).scalars()} >= {"6101", "6106"}
    engine.dispose()


def test_every_session_runs_as_the_app_role_under_its_scope(migrated):
    from services.common.config import load
    from services.common.db import Database
    from services.common.tenancy import Scope

    db = Database(load().service("registration"))
    probe = text("SELECT current_user, current_setting('zhiyuan.scope', true)")
    with db.session(Scope("610113")) as s:
        assert tuple(s.execute(probe).one()) == ("zhiyuan_registration_app", "610113")
    with db.session(None) as s:
        assert tuple(s.execute(probe).one()) == ("zhiyuan_registration_app", "")
    with db.engine.connect() as conn:  # settings do not leak into the pool
        assert conn.execute(probe).one()[0] != "zhiyuan_registration_app"
    db.dispose()


@pytest.mark.parametrize(
    "group_by", [common.DIVISION_LEVEL_CITY, common.DIVISION_LEVEL_COUNTY]
)
def test_rollups_equal_the_raw_facts_in_every_subtree(stub, token, migrated, group_by):
    county = token("610602")
    for _ in range(2):
        vol = register(stub, county, county="610602")
        stub.VerifyVolunteer(
            pb.VerifyVolunteerRequest(id=vol.id), metadata=auth(county)
        )
    rollup = summary(stub, token("61", "province_admin"), "61", group_by=group_by)
    engine = create_engine(migrated["REGISTRATION_DATABASE_URL"])
    with engine.connect() as conn:  # the owner reads the raw rows
        raw = conn.execute(
            text(
                "SELECT home_division_code, status FROM volunteers"
                " WHERE home_division_code LIKE '61%'"
            )
        ).all()
    engine.dispose()
    assert rollup.rows
    for row in rollup.rows:
        mine = [status for code, status in raw if code.startswith(row.division.code)]
        assert row.metrics["volunteers_registered"] == len(mine)
        assert row.metrics["volunteers_verified"] == mine.count("verified")
    assert rollup.total.metrics["volunteers_registered"] == len(raw)


def test_revealing_a_name_is_logged_and_refusals_log_nothing(stub, token, migrated):
    county = token("610113", username="yanta-office")
    vol = register(stub, county, name="欧阳修远")

    def log_rows() -> list:
        engine = create_engine(migrated["REGISTRATION_DATABASE_URL"])
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT actor, purpose, fields FROM pii_access_log"
                    " WHERE volunteer_id = :v"
                ),
                {"v": vol.id},
            ).all()
        engine.dispose()
        return [tuple(r) for r in rows]

    got = stub.GetVolunteerIdentity(
        pb.GetVolunteerIdentityRequest(id=vol.id, purpose="certificate"),
        metadata=auth(county),
    )
    assert got.name == "欧阳修远" and got.id_number_masked.count("*") == 10
    assert log_rows() == [("yanta-office", "certificate", "name")]
    with pytest.raises(grpc.RpcError):  # a sibling county: refused, not logged
        stub.GetVolunteerIdentity(
            pb.GetVolunteerIdentityRequest(id=vol.id, purpose="curiosity"),
            metadata=auth(token("610103")),
        )
    with pytest.raises(grpc.RpcError) as err:  # a purpose is required
        stub.GetVolunteerIdentity(
            pb.GetVolunteerIdentityRequest(id=vol.id), metadata=auth(county)
        )
    assert dict(err.value.trailing_metadata())["zhiyuan-field"] == "purpose"
    assert len(log_rows()) == 1
