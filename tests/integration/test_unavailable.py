"""A database outage reaches clients as gRPC UNAVAILABLE and HTTP 503 with
Retry-After, logged as one line, not INTERNAL/502 with a stack trace. The
registration api runs against a database that does not exist (a real
``OperationalError``); the gateway in front of it is the real app."""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from fastapi.testclient import TestClient
from zhiyuan.registration.v1 import registration_pb2 as pb
from zhiyuan.registration.v1 import registration_pb2_grpc as pb_grpc

from services.catalog import api_entry
from services.common.config import Config, load
from services.common.rpc import RULE_KEY, ZH_KEY
from services.common.testing import pg_admin_url, platform_env
from services.gateway.app import create_app
from tests.helpers import auth

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def down(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Config]:
    """Registration's api serving, its database missing."""
    missing = pg_admin_url().rsplit("/", 1)[0] + f"/zy_missing_{uuid.uuid4().hex[:8]}"
    values = platform_env(
        Path(tmp_path_factory.mktemp("down")),
        {"registration": missing},
        "amqp://guest:guest@127.0.0.1:5672/unused",
    )
    cfg = load(env={**os.environ, **values})
    stop = threading.Event()
    thread = threading.Thread(
        target=api_entry("registration"), args=(cfg, stop), daemon=True
    )
    thread.start()
    with grpc.insecure_channel(cfg.service("registration").grpc_address) as ch:
        grpc.channel_ready_future(ch).result(timeout=20)
    yield cfg
    stop.set()
    thread.join(timeout=10)


def test_grpc_answers_unavailable_with_one_log_line(down, token, caplog):
    address = down.service("registration").grpc_address
    caplog.set_level(logging.WARNING, logger="services.common.rpc")
    with grpc.insecure_channel(address) as channel:
        stub = pb_grpc.RegistrationServiceStub(channel)
        with pytest.raises(grpc.RpcError) as err:
            stub.GetVolunteer(
                pb.GetVolunteerRequest(id=str(uuid.uuid4())),
                metadata=auth(token("610113")),
                timeout=20,
            )
    assert err.value.code() is grpc.StatusCode.UNAVAILABLE
    trailers = dict(err.value.trailing_metadata())
    assert trailers[RULE_KEY] == "database.available"
    assert "数据库暂不可用" in trailers[ZH_KEY].decode()
    lines = [r for r in caplog.records if "GetVolunteer" in r.getMessage()]
    assert len(lines) == 1
    assert lines[0].exc_info is None and lines[0].levelno == logging.WARNING


def test_gateway_answers_503_with_retry_after(down, token):
    with TestClient(create_app(down)) as client:
        response = client.get(
            f"/api/v1/volunteers/{uuid.uuid4()}",
            headers={"Authorization": f"Bearer {token('610113')}"},
        )
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    error = response.json()["error"]
    assert error["code"] == "UNAVAILABLE"
    assert error["rule"] == "database.available"
    assert "数据库暂不可用" in error["message_zh"]
