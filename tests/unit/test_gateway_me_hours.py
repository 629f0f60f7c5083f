"""The gateway's hours routes of a volunteer's own pages and the office's
objection queue: each names a real RPC and its path fields, no request of a
/me route can name a volunteer, a body naming one is refused at the edge,
and the certificate goes out as a PDF (fake stubs, no network; the real
chain is in tests/integration/test_hours_self_service.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from zhiyuan.hours.v1 import hours_pb2 as pb

from services.common.auth import TokenIssuer, TokenVerifier, generate_keypair
from services.common.config import Config
from services.gateway.app import create_app
from services.gateway.backend import Backend
from services.gateway.me.hours import ROUTES
from services.gateway.transcode import messages
from tests.unit.test_gateway_errors import FakeStub

OWN_RPCS = {
    "ListMyRecords",
    "GetMyTotals",
    "FileObjection",
    "ListMyObjections",
    "ListMyCertificates",
    "RequestMyCertificate",
    "GetMyCertificatePdf",
    "ListMyComplaints",
    "ReplyToComplaint",
}
OFFICE_RPCS = {
    "ListObjections",
    "ResolveObjection",
    "EvaluateRecord",
    "ListComplaints",
    "FileComplaint",
    "DecideComplaint",
    "UploadSeal",
    "GetSeal",
}
RECORD = "0b6c4a8e-0000-4000-8000-000000000001"


def test_every_route_names_a_real_rpc_and_its_path_fields() -> None:
    for route in ROUTES:
        request, _ = messages(route)
        for name in re.findall(r"{(\w+)}", route.path):
            assert name in request.DESCRIPTOR.fields_by_name, (route.path, name)
    assert {r.rpc for r in ROUTES if r.path.startswith("/me/")} == OWN_RPCS
    assert {r.rpc for r in ROUTES} == OWN_RPCS | OFFICE_RPCS


def test_no_own_request_can_name_a_volunteer() -> None:
    for route in ROUTES:
        if route.path.startswith("/me/"):
            request, _ = messages(route)
            names = set(request.DESCRIPTOR.fields_by_name)
            assert not {n for n in names if "volunteer" in n}, (route.rpc, names)


@pytest.fixture
def client_and_stub() -> Iterator[tuple[TestClient, Any, dict[str, str]]]:
    private, public = generate_keypair()
    issuer = TokenIssuer(private, "zhiyuan", "zhiyuan")
    stub = FakeStub()
    backend = Backend(
        registration=FakeStub(),
        health=FakeStub(),
        deadline=5,
        others={"hours": (stub, FakeStub())},
    )
    app = create_app(
        Config({}),
        backend=backend,
        verifier=TokenVerifier(public, "zhiyuan", "zhiyuan"),
    )
    token, _ = issuer.issue(
        subject="acct-1",
        username="ZY610113000001",
        scope_code="610113003",
        roles=["volunteer"],
        volunteer_id=RECORD,
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, stub, {"Authorization": f"Bearer {token}"}


def test_an_objection_body_fills_the_record_and_reason_and_nothing_else(
    client_and_stub: Any,
) -> None:
    client, stub, headers = client_and_stub
    stub.replies["FileObjection"] = pb.FileObjectionResponse(
        objection=pb.Objection(id="o-1", record_id=RECORD)
    )
    url = f"/api/v1/me/records/{RECORD}/objections"
    got = client.post(url, json={"reason": "少计了"}, headers=headers)
    assert got.status_code == 201, got.text
    assert got.json()["objection"]["id"] == "o-1"
    ((method, request, _, _),) = stub.calls
    assert (method, request.record_id, request.reason) == (
        "FileObjection",
        RECORD,
        "少计了",
    )
    got = client.post(
        url, json={"reason": "x", "volunteer_id": "someone-else"}, headers=headers
    )
    assert got.status_code == 400 and got.json()["error"]["field"] == "volunteer_id"
    assert len(stub.calls) == 1  # refused at the edge, never sent


def test_my_certificate_goes_out_as_a_pdf(client_and_stub: Any) -> None:
    client, stub, headers = client_and_stub
    stub.replies["GetMyCertificatePdf"] = pb.GetMyCertificatePdfResponse(
        number="ZYC-61-2026-000001-ABCD", filename="x.pdf", pdf=b"%PDF-1.4 ..."
    )
    got = client.get(
        "/api/v1/me/certificates/ZYC-61-2026-000001-ABCD/pdf", headers=headers
    )
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/pdf"
    assert got.content == b"%PDF-1.4 ..."
    ((method, request, _, _),) = stub.calls
    assert (method, request.number) == (
        "GetMyCertificatePdf",
        "ZYC-61-2026-000001-ABCD",
    )


def test_a_resolution_carries_outcome_note_and_change(client_and_stub: Any) -> None:
    client, stub, headers = client_and_stub
    stub.replies["ResolveObjection"] = pb.ResolveObjectionResponse(
        objection=pb.Objection(id="o-1", status=pb.OBJECTION_STATUS_CORRECTED)
    )
    got = client.post(
        "/api/v1/objections/o-1/resolve",
        json={"outcome": "corrected", "note": "核实", "new_hours": 1.5},
        headers=headers,
    )
    assert got.status_code == 200, got.text
    assert got.json()["objection"]["status"] == "OBJECTION_STATUS_CORRECTED"
    ((_, request, _, _),) = stub.calls
    assert (request.id, request.outcome, request.note) == ("o-1", "corrected", "核实")
    assert request.WhichOneof("change") == "new_hours" and request.new_hours == 1.5


def test_a_reply_fills_the_complaint_and_reply_and_nothing_else(
    client_and_stub: Any,
) -> None:
    client, stub, headers = client_and_stub
    stub.replies["ReplyToComplaint"] = pb.ReplyToComplaintResponse(
        complaint=pb.Complaint(id="c-1", status=pb.COMPLAINT_STATUS_REPLIED)
    )
    got = client.post(
        "/api/v1/me/complaints/c-1/reply", json={"reply": "当天我在场"}, headers=headers
    )
    assert got.status_code == 200, got.text
    assert got.json()["complaint"]["status"] == "COMPLAINT_STATUS_REPLIED"
    ((method, request, _, _),) = stub.calls
    assert (method, request.id, request.reply) == (
        "ReplyToComplaint",
        "c-1",
        "当天我在场",
    )
    got = client.post(
        "/api/v1/me/complaints/c-1/reply",
        json={"reply": "x", "volunteer_id": "someone-else"},
        headers=headers,
    )
    assert got.status_code == 400 and got.json()["error"]["field"] == "volunteer_id"
    assert len(stub.calls) == 1


def test_an_evaluation_keeps_its_score_as_written(client_and_stub: Any) -> None:
    """The score travels as text, so the service sees a full-width "５" as
    typed (and refuses it) instead of JSON parsing reading it as 5."""
    client, stub, headers = client_and_stub
    stub.replies["EvaluateRecord"] = pb.EvaluateRecordResponse(
        evaluation=pb.Evaluation(id="e-1", score=4)
    )
    url = f"/api/v1/hours/records/{RECORD}/evaluation"
    for score in ("4", "５"):
        got = client.post(
            url, json={"score": score, "comment": "认真"}, headers=headers
        )
        assert got.status_code == 200, got.text
    assert [(c[0], c[1].record_id, c[1].score) for c in stub.calls] == [
        ("EvaluateRecord", RECORD, "4"),
        ("EvaluateRecord", RECORD, "５"),
    ]


def test_a_seal_travels_as_base64_both_ways(client_and_stub: Any) -> None:
    client, stub, headers = client_and_stub
    stub.replies["UploadSeal"] = pb.UploadSealResponse(
        seal=pb.Seal(division_code="610113", media_type="image/png")
    )
    got = client.post(
        "/api/v1/hours/seals",
        json={"division_code": "610113", "image": "iVBORw0KGgo="},
        headers=headers,
    )
    assert got.status_code == 200, got.text
    ((method, request, _, _),) = stub.calls
    assert (method, request.image) == ("UploadSeal", b"\x89PNG\r\n\x1a\n")
    stub.replies["GetSeal"] = pb.GetSealResponse(image=b"\x89PNG")
    got = client.get("/api/v1/hours/seals?division_code=610113", headers=headers)
    assert got.status_code == 200 and got.json()["image"] == "iVBORw=="
