"""Questions hours asks registration over gRPC, as the caller: the kernel's
channel forwards the caller's token (so registration applies the caller's
scope, never a blanket service identity) and sets a deadline. A refusal
comes back as the same platform error, naming hours' own field."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import grpc
from zhiyuan.registration.v1 import registration_pb2 as reg
from zhiyuan.registration.v1 import registration_pb2_grpc as reg_grpc

from services.common import rpc
from services.common.errors import ERRORS_BY_CODE, NotFound, Unavailable, ZhiyuanError


@dataclass(frozen=True)
class Identity:
    volunteer_number: str
    name: str
    id_type: str
    id_number_masked: str


class Registration:
    """A lazily opened channel to registration's api role.

    Example::

        client = Registration(cfg.service("registration").grpc_address, 10.0)
        number, status = client.volunteer("0b6c…")
    """

    def __init__(self, address: str, deadline: float):
        self.address, self.deadline = address, deadline
        self._stub: Any = None
        self._channel: grpc.Channel | None = None
        self._lock = threading.Lock()

    def _registration(self) -> Any:
        with self._lock:
            if self._stub is None:
                self._channel = rpc.channel(self.address, deadline=self.deadline)
                self._stub = reg_grpc.RegistrationServiceStub(self._channel)
            return self._stub

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()

    def volunteer(self, volunteer_id: str) -> tuple[str, str]:
        """(volunteer number, status) of a volunteer the caller may see."""
        try:
            got = self._registration().GetVolunteer(
                reg.GetVolunteerRequest(id=volunteer_id)
            )
        except grpc.RpcError as err:
            raise translate(err, "volunteer_id", volunteer_id) from None
        status = reg.VolunteerStatus.Name(got.volunteer.status)
        return got.volunteer.volunteer_number, status.removeprefix(
            "VOLUNTEER_STATUS_"
        ).lower()

    def identity(self, volunteer_id: str, purpose: str) -> Identity:
        """The real name and masked ID number (registration logs the reveal)."""
        try:
            got = self._registration().GetVolunteerIdentity(
                reg.GetVolunteerIdentityRequest(id=volunteer_id, purpose=purpose)
            )
        except grpc.RpcError as err:
            raise translate(err, "volunteer_id", volunteer_id) from None
        return Identity(
            got.volunteer_number, got.name, got.id_type, got.id_number_masked
        )


def translate(err: grpc.RpcError, field: str, key: str) -> ZhiyuanError:
    """The platform error registration reported, about hours' ``field``."""
    details = rpc.error_details(err)
    code = details["code"]
    if code == "NOT_FOUND":
        # Not in the caller's jurisdiction looks exactly like not existing.
        out: ZhiyuanError = NotFound.entity("volunteer", "志愿者", key)
        out.field, out.rule = field, f"{field}.exists"
        return out
    cls = ERRORS_BY_CODE.get(code)
    if cls is None or code == "INVALID_ARGUMENT":
        if code in ("UNAVAILABLE", "DEADLINE_EXCEEDED"):
            return Unavailable(
                "registration did not answer in time; try again",
                "注册登记服务暂时无响应，请稍后重试",
            )
        return Unavailable(
            f"registration refused the lookup ({code})",
            f"注册登记服务拒绝了查询（{code}）",
        )
    rebuilt = ZhiyuanError.__new__(cls)
    ZhiyuanError.__init__(
        rebuilt,
        details.get("message_en", ""),
        details.get("message_zh", ""),
        field=field,
        rule=details.get("rule"),
    )
    return rebuilt
