"""Bad input to the transfer RPCs (issue 14): each refusal names the field
and the rule, says why in Chinese, and writes nothing."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from functools import partial
from typing import Any

import grpc
import pytest
from sqlalchemy import create_engine, text
from zhiyuan.registration.v1 import registration_pb2 as pb

from tests.helpers import assert_field, auth, new_id_number, new_phone, rejected

pytestmark = pytest.mark.integration

COUNTY, TOWN, NEW_TOWN = "610113", "610113009", "610116004"


@pytest.fixture(scope="module")
def engine() -> Iterator[Any]:
    url = os.environ["REGISTRATION_DATABASE_URL"]
    e = create_engine(url, pool_size=1, max_overflow=0)
    yield e
    e.dispose()


def count(engine: Any, volunteer_id: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM transfers WHERE volunteer_id = :v"),
                {"v": volunteer_id},
            ).scalar_one()
        )


@pytest.fixture
def vol(stub, token) -> pb.Volunteer:  # type: ignore[no-untyped-def]
    return stub.RegisterVolunteer(
        pb.RegisterVolunteerRequest(
            name="李志愿", id_number=new_id_number(COUNTY), phone=new_phone(),
            home_division_code=TOWN, service_fields=["elderly_care"],
        ),
        metadata=auth(token(COUNTY)),
    ).volunteer  # fmt: skip


def _request(stub: Any, tok: str, **over: Any) -> Any:
    req: dict[str, Any] = dict(
        to_division_code=NEW_TOWN, consent=True, consent_note="签字同意书已存档"
    )
    req.update(over)
    return stub.RequestTransfer(pb.RequestTransferRequest(**req), metadata=auth(tok))


CODES = [
    ("6101160", "division_code.width"),  # no level is 7 digits wide
    ("61011600a", "division_code.format"),
    ("６１０１１６００４", "division_code.format"),  # full-width digits
    ("610116", "to_division_code.level"),  # a county, not a home
    ("610116999", "to_division_code.exists"),  # well formed, in no tree
    (TOWN, "to_division_code.unchanged"),  # the current home
    ("", "to_division_code.required"),
]


@pytest.mark.parametrize(("code", "rule"), CODES)
def test_a_bad_new_home_is_refused_naming_it(stub, token, engine, vol, code, rule):  # type: ignore[no-untyped-def]
    trailers = rejected(
        lambda: _request(
            stub, token(COUNTY), volunteer_id=vol.id, to_division_code=code
        )
    )
    assert_field(trailers, "to_division_code", rule)
    assert count(engine, vol.id) == 0


@pytest.mark.parametrize(
    ("over", "field", "rule"),
    [
        ({"consent": False}, "consent", "consent.required"),
        ({"consent_note": ""}, "consent_note", "consent_note.required"),
        ({"consent_note": "存档\n第3号"}, "consent_note", "consent_note.characters"),
        ({"consent_note": "档" * 201}, "consent_note", None),
    ],
)
def test_consent_is_required_and_recorded_cleanly(  # type: ignore[no-untyped-def]
    stub, token, engine, vol, over, field, rule
):
    trailers = rejected(
        lambda: _request(stub, token(COUNTY), volunteer_id=vol.id, **over)
    )
    assert_field(trailers, field, rule)
    assert count(engine, vol.id) == 0


def test_a_malformed_volunteer_id_is_refused(stub, token) -> None:  # type: ignore[no-untyped-def]
    trailers = rejected(lambda: _request(stub, token(COUNTY), volunteer_id="abc"))
    assert_field(trailers, "volunteer_id", "volunteer_id.format")


def test_a_second_pending_request_is_refused(stub, token, engine, vol) -> None:  # type: ignore[no-untyped-def]
    tok = token(COUNTY)
    _request(stub, tok, volunteer_id=vol.id)
    trailers = rejected(
        lambda: _request(stub, tok, volunteer_id=vol.id, to_division_code="610115001"),
        grpc.StatusCode.ALREADY_EXISTS,
    )
    assert_field(trailers, "volunteer_id", "transfer.one_pending")
    assert count(engine, vol.id) == 1


def test_decisions_check_their_fields(stub, token, engine, vol) -> None:  # type: ignore[no-untyped-def]
    t = _request(stub, token(COUNTY), volunteer_id=vol.id).transfer
    new = token("610116")
    trailers = rejected(
        lambda: stub.RefuseTransfer(
            pb.RefuseTransferRequest(id=t.id, reason="  "), metadata=auth(new)
        )
    )
    assert_field(trailers, "reason", "reason.required")
    for rpc in ("AcceptTransfer", "RefuseTransfer", "CancelTransfer"):
        req = getattr(pb, f"{rpc}Request")(id="not-a-uuid")
        trailers = rejected(partial(getattr(stub, rpc), req, metadata=auth(new)))
        assert_field(trailers, "id", "id.format")
    trailers = rejected(
        lambda: stub.ListTransfers(
            pb.ListTransfersRequest(direction=9), metadata=auth(new)
        )
    )
    assert_field(trailers, "direction", "direction.known")
    with pytest.raises(grpc.RpcError):  # still pending, nothing decided
        stub.RefuseTransfer(
            pb.RefuseTransferRequest(id=str(uuid.uuid4()), reason="x"),
            metadata=auth(new),
        )
    listed = stub.ListTransfers(
        pb.ListTransfersRequest(direction=pb.TRANSFER_DIRECTION_INCOMING),
        metadata=auth(new),
    ).transfers
    (mine,) = [x for x in listed if x.id == t.id]
    assert mine.status == pb.TRANSFER_STATUS_PENDING


def test_a_rejected_registration_cannot_be_transferred(stub, token, engine, vol):  # type: ignore[no-untyped-def]
    tok = token(COUNTY)
    stub.RejectVolunteer(
        pb.RejectVolunteerRequest(id=vol.id, reason="身份信息不符"), metadata=auth(tok)
    )
    trailers = rejected(
        lambda: _request(stub, tok, volunteer_id=vol.id),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert_field(trailers, "volunteer_id", "volunteer.status")
    assert count(engine, vol.id) == 0
