"""What activity asks registration over gRPC, as the caller: the real name
and masked ID number of a covered volunteer for the insurer's list. The
kernel's channel forwards the caller's token, so registration applies the
caller's scope and writes every reveal to its personal-data access log with
the purpose; the full ID number never leaves registration."""

from __future__ import annotations

import grpc
from zhiyuan.registration.v1 import registration_pb2 as reg
from zhiyuan.registration.v1 import registration_pb2_grpc as reg_grpc

from services.activity.insurance import RosterRow
from services.common.remote import Remote


class Registration:
    """A lazily opened channel to registration's api role.

    Example::

        client = Registration(cfg.service("registration").grpc_address, 10.0)
        row = client.identity("0b6c…", "ZY6101…", "insurance")
    """

    def __init__(self, address: str, deadline: float):
        self.remote = Remote(
            address, deadline, reg_grpc.RegistrationServiceStub,
            "registration", "注册登记服务",
        )  # fmt: skip

    def close(self) -> None:
        self.remote.close()

    def identity(self, volunteer_id: str, number: str, purpose: str) -> RosterRow:
        """The volunteer's name, ID type and masked number (the reveal is
        logged by registration); a volunteer outside the caller's scope in
        registration comes back with those left empty."""
        try:
            got = self.remote.stub().GetVolunteerIdentity(
                reg.GetVolunteerIdentityRequest(id=volunteer_id, purpose=purpose)
            )
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.NOT_FOUND:
                return RosterRow("", "", "", number)
            raise self.remote.translate(
                err, "volunteer_id", volunteer_id, ("volunteer", "志愿者")
            ) from None
        return RosterRow(
            got.name, got.id_type, got.id_number_masked, got.volunteer_number
        )

    def position(self, position_id: str) -> str:
        """The division of a service position the caller may see; any other
        (a neighbour's, an ancestor's, an unknown one) is NOT_FOUND alike,
        naming ``position_id``."""
        try:
            got = self.remote.stub().GetPosition(reg.GetPositionRequest(id=position_id))
        except grpc.RpcError as err:
            raise self.remote.translate(
                err, "position_id", position_id, ("service position", "服务阵地")
            ) from None
        return str(got.position.division_code)
