"""`zhiyuan admin create` goes through the API's use case: the same rules,
the same errors, nothing written when it refuses, and a generated id."""

from __future__ import annotations

import uuid

import grpc
import pytest
from sqlalchemy import func, select
from zhiyuan.registration.v1 import registration_pb2 as pb

from services.common.config import load
from services.common.db import Database
from services.common.tenancy import Scope
from services.registration.models import Account
from services.registration.repository import login_lookup
from tests.helpers import auth
from tests.integration.test_cli import zhiyuan

pytestmark = pytest.mark.integration

COUNTY = "610113"


def admin_create(env: dict[str, str], username: str, password: str) -> str:
    """`zhiyuan admin create` for a county reviewer; its stderr (exit 2)."""
    done = zhiyuan(
        env, "admin", "create", "--username", username, "--password-stdin",
        "--scope", COUNTY, "--roles", "reviewer", stdin=f"{password}\n",
    )  # fmt: skip
    assert done.returncode == 2, done.stdout
    assert "Traceback" not in done.stderr
    return done.stderr.strip()


def api_refusal(stub, token, username: str, password: str) -> grpc.RpcError:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as err:
        stub.CreateAccount(
            pb.CreateAccountRequest(
                username=username,
                password=password,
                scope_code=COUNTY,
                roles=["reviewer"],
            ),
            metadata=auth(token(COUNTY)),
        )
    return err.value


def accounts(db: Database) -> int:
    with db.session(Scope("61")) as s:
        return int(s.execute(select(func.count()).select_from(Account)).scalar_one())


@pytest.fixture
def db(migrated):  # type: ignore[no-untyped-def]
    database = Database(load().service("registration"))
    yield database
    database.dispose()


@pytest.mark.parametrize(
    ("username", "password", "field", "rule"),
    [
        pytest.param("cli-short-pw", "short-pw", "password", "password.min_length",
                     id="short-password"),
        pytest.param("bad name", "long-enough-pw", "username", "username.charset",
                     id="space-in-username"),
        pytest.param("аdmin-cli", "long-enough-pw", "username", "username.charset",
                     id="look-alike-username"),  # Cyrillic а
    ],
)  # fmt: skip
def test_admin_create_refuses_what_the_api_refuses(  # type: ignore[no-untyped-def]
    migrated, stub, token, db, username, password, field, rule
):
    before = accounts(db)
    api = api_refusal(stub, token, username, password)
    assert api.code() == grpc.StatusCode.INVALID_ARGUMENT
    trailers = dict(api.trailing_metadata() or ())
    assert (trailers["zhiyuan-field"], trailers["zhiyuan-rule"]) == (field, rule)

    said = admin_create(migrated, username, password)

    assert said == f"zhiyuan admin: {api.details()}"
    assert said.startswith(f"zhiyuan admin: {field}: ")
    assert accounts(db) == before
    with db.session(None) as s:
        assert login_lookup(s, username) is None


def test_admin_create_gives_the_account_a_generated_id(migrated, stub, db):  # type: ignore[no-untyped-def]
    username = f"cli-{uuid.uuid4().hex[:8]}"
    done = zhiyuan(
        migrated, "admin", "create", "--username", username,
        "--password-stdin", "--scope", COUNTY, "--roles", "reviewer",
        stdin="long-enough-pw\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with db.session(Scope(COUNTY)) as s:
        acc = s.execute(
            select(Account).where(Account.username == username)
        ).scalar_one()
        assert (acc.created_by, acc.scope_code, acc.roles) == (
            "cli",
            COUNTY,
            ["reviewer"],
        )
        assert str(uuid.UUID(acc.id)) == acc.id != username
    reply = stub.Login(pb.LoginRequest(username=username, password="long-enough-pw"))
    assert reply.account.id == acc.id and reply.access_token
