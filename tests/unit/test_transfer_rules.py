"""Transfers between regions (issue 14), without I/O: the checks a request's
new home and consent pass before any database, the event commendation
follows, the audit record as the API shows it, and the HTTP routes (a fake
registration stub records what reaches the service)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from zhiyuan.registration.v1 import registration_pb2 as pb

from services.commendation import events
from services.common.auth import TokenIssuer, TokenVerifier, generate_keypair
from services.common.config import Config
from services.common.errors import InvalidArgument
from services.common.outbox import Envelope
from services.gateway.app import create_app
from services.gateway.backend import Backend
from services.registration import convert as cv
from services.registration.models import Transfer
from services.registration.usecases import transfers as tr
from tests.unit.test_gateway_errors import FakeStub


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("", "to_division_code.required"),
        ("   ", "to_division_code.required"),
        ("6101160", "division_code.width"),
        ("61011600a", "division_code.format"),
        ("６１０１１６００２", "division_code.format"),  # full-width digits
        ("610116", "to_division_code.level"),
        ("6101", "to_division_code.level"),
    ],
)
def test_a_bad_new_home_is_refused_naming_the_field(code: str, rule: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        tr._new_home_code(code)
    assert (err.value.field, err.value.rule) == ("to_division_code", rule)
    assert err.value.message_zh


@pytest.mark.parametrize("code", ["610116002", " 610116002001 "])
def test_a_township_or_village_is_a_home(code: str) -> None:
    assert tr._new_home_code(code) == code.strip()


def test_consent_must_be_given() -> None:
    with pytest.raises(InvalidArgument) as err:
        tr._consented(False)
    assert (err.value.field, err.value.rule) == ("consent", "consent.required")
    tr._consented(True)


def test_the_consent_text_says_it_in_both_languages() -> None:
    assert "同意" in tr.CONSENT_TEXT and "agree" in tr.CONSENT_TEXT
    # The promise the rules make: past hours stay where they were done.
    assert "原服务地" in tr.CONSENT_TEXT


def _event(**data: Any) -> Envelope:
    body = {
        "event_id": "e1",
        "event_type": "registration.volunteer.transferred",
        "occurred_at": "2026-12-06T08:00:00+00:00",
        "division_code": "610116002",
        "data": {
            "volunteer_id": "v1",
            "volunteer_number": "ZY610000000001",
            "home_division_code": "610116002",
            "status": "verified",
            "from_division_code": "610114001",
            "to_division_code": "610116002",
            **data,
        },
    }
    return Envelope.from_body(body)


def test_commendation_reads_the_transfer_event() -> None:
    move = events.transfer(_event())
    assert (move.from_code, move.to_code) == ("610114001", "610116002")
    assert (move.volunteer_id, move.status) == ("v1", "verified")
    assert move.occurred_at == datetime(2026, 12, 6, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    "bad",
    [
        {"to_division_code": "６１０１１６００２"},
        {"from_division_code": ""},
        {"volunteer_id": 7},
    ],
)
def test_a_malformed_transfer_event_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises((ValueError, InvalidArgument)):
        events.transfer(_event(**bad))


def test_the_audit_record_as_the_api_shows_it() -> None:
    at = datetime(2026, 12, 1, 2, tzinfo=UTC)
    row = Transfer(
        id="t1", volunteer_id="v1", volunteer_number="ZY610000000001",
        name_masked="李**", from_division_code="610114001",
        to_division_code="610116002", status="accepted", requested_by="v-number",
        requested_at=at, consent_channel="app", consent_text=tr.CONSENT_TEXT,
        consented_at=at, consent_note="", decided_by="changan-admin",
        decided_at=at, reason="",
    )  # fmt: skip
    msg = cv.transfer(row, {"610116002": "韦曲街道"})
    assert msg.status == pb.TRANSFER_STATUS_ACCEPTED
    assert msg.to_division_name == "韦曲街道" and msg.from_division_name == ""
    assert msg.consent_text == tr.CONSENT_TEXT and msg.consent_channel == "app"
    assert msg.decided_by == "changan-admin" and msg.decided_at
    assert msg.volunteer_name == "李**"


# -- the HTTP routes ---------------------------------------------------------------


@pytest.fixture(scope="module")
def keys() -> tuple[TokenIssuer, TokenVerifier]:
    private, public = generate_keypair()
    return TokenIssuer(private, "zhiyuan", "zhiyuan"), TokenVerifier(
        public, "zhiyuan", "zhiyuan"
    )


@pytest.fixture
def stub() -> FakeStub:
    return FakeStub()


@pytest.fixture
def client(keys, stub):  # type: ignore[no-untyped-def]
    backend = Backend(registration=stub, health=FakeStub(), deadline=5.0)
    app = create_app(Config({}), backend=backend, verifier=keys[1])
    token, _ = keys[0].issue(
        subject="a1", username="yanta-admin", scope_code="610113",
        roles=["tenant_admin"],
    )  # fmt: skip
    with TestClient(app, raise_server_exceptions=False) as test_client:
        test_client.headers["Authorization"] = f"Bearer {token}"
        yield test_client


def test_an_office_files_a_transfer_with_consent(client, stub) -> None:  # type: ignore[no-untyped-def]
    stub.replies["RequestTransfer"] = pb.RequestTransferResponse()
    body = {"to_division_code": "610116002", "consent": True, "consent_note": "存档"}
    response = client.post("/api/v1/volunteers/V1/transfers", json=body)
    assert response.status_code == 201, response.text
    request = stub.calls[0][1]
    assert (request.volunteer_id, request.to_division_code) == ("V1", "610116002")
    assert request.consent is True and request.consent_note == "存档"


@pytest.mark.parametrize("missing", ["to_division_code", "consent", "consent_note"])
def test_a_transfer_without_its_fields_is_refused_at_the_edge(  # type: ignore[no-untyped-def]
    client, stub, missing
) -> None:
    body = {"to_division_code": "610116002", "consent": True, "consent_note": "存档"}
    del body[missing]
    response = client.post("/api/v1/volunteers/V1/transfers", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == missing
    assert stub.calls == []


def test_lists_take_direction_and_status_by_name(client, stub) -> None:  # type: ignore[no-untyped-def]
    stub.replies["ListTransfers"] = pb.ListTransfersResponse()
    response = client.get("/api/v1/transfers?direction=incoming&status=pending")
    assert response.status_code == 200, response.text
    request = stub.calls[0][1]
    assert request.direction == pb.TRANSFER_DIRECTION_INCOMING
    assert request.status == pb.TRANSFER_STATUS_PENDING
    assert client.get("/api/v1/transfers?direction=sideways").status_code == 400


def test_decisions_and_the_volunteers_own_routes(client, stub) -> None:  # type: ignore[no-untyped-def]
    for rpc in ("AcceptTransfer", "RefuseTransfer", "CancelTransfer"):
        stub.replies[rpc] = getattr(pb, f"{rpc}Response")()
    stub.replies["RequestMyTransfer"] = pb.RequestMyTransferResponse()
    stub.replies["ListMyTransfers"] = pb.ListMyTransfersResponse()
    assert client.post("/api/v1/transfers/T1/accept").status_code == 200
    refuse = client.post("/api/v1/transfers/T1/refuse", json={"reason": "无法核实"})
    assert refuse.status_code == 200
    assert client.post("/api/v1/transfers/T1/refuse", json={}).status_code == 400
    assert client.post("/api/v1/transfers/T1/cancel").status_code == 200
    assert client.post("/api/v1/me/transfers/T1/cancel").status_code == 200
    mine = client.post(
        "/api/v1/me/transfers", json={"to_division_code": "610116002", "consent": True}
    )
    assert mine.status_code == 201, mine.text
    assert client.get("/api/v1/me/transfers").status_code == 200
    called = [(rpc, getattr(req, "id", "")) for rpc, req, *_ in stub.calls]
    assert called[:3] == [
        ("AcceptTransfer", "T1"),
        ("RefuseTransfer", "T1"),
        ("CancelTransfer", "T1"),
    ]
    assert stub.calls[4][1].to_division_code == "610116002"
