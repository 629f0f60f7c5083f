"""Questions hours asks registration over gRPC, as the caller: the kernel's
channel forwards the caller's token (so registration applies the caller's
scope, never a blanket service identity) and sets a deadline. A refusal
comes back as the same platform error, naming hours' own field."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from zhiyuan.registration.v1 import registration_pb2 as reg
from zhiyuan.registration.v1 import registration_pb2_grpc as reg_grpc

from services.common import remote
from services.common.errors import ZhiyuanError
from services.common.remote import Remote


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
        self.remote = Remote(
            address, deadline, reg_grpc.RegistrationServiceStub,
            "registration", "注册登记服务",
        )  # fmt: skip

    def close(self) -> None:
        self.remote.close()

    def volunteer(self, volunteer_id: str) -> tuple[str, str]:
        """(volunteer number, status) of a volunteer the caller may see."""
        try:
            got = self.remote.stub().GetVolunteer(
                reg.GetVolunteerRequest(id=volunteer_id)
            )
        except grpc.RpcError as err:
            raise translate(err, "volunteer_id", volunteer_id) from None
        status = reg.VolunteerStatus.Name(got.volunteer.status)
        return got.volunteer.volunteer_number, status.removeprefix(
            "VOLUNTEER_STATUS_"
        ).lower()

    def organisation(self, organisation_id: str) -> str:
        """The name of an organisation (or team) the caller may see; any
        other is NOT_FOUND, naming ``organisation_id``."""
        try:
            got = self.remote.stub().GetOrganisation(
                reg.GetOrganisationRequest(id=organisation_id)
            )
        except grpc.RpcError as err:
            raise remote.translate(
                err, ("registration", "注册登记服务"), "organisation_id",
                organisation_id, ("organisation", "组织"),
            ) from None  # fmt: skip
        return str(got.organisation.name)

    def position(self, position_id: str) -> str:
        """The division of a service position the caller may see; any other
        (a neighbour's, an ancestor's, an unknown one) is NOT_FOUND alike,
        naming ``position_id``."""
        try:
            got = self.remote.stub().GetPosition(reg.GetPositionRequest(id=position_id))
        except grpc.RpcError as err:
            raise remote.translate(
                err, ("registration", "注册登记服务"), "position_id",
                position_id, ("service position", "服务阵地"),
            ) from None  # fmt: skip
        return str(got.position.division_code)

    def identity(self, volunteer_id: str, purpose: str) -> Identity:
        """The real name and masked ID number (registration logs the reveal)."""
        try:
            got = self.remote.stub().GetVolunteerIdentity(
                reg.GetVolunteerIdentityRequest(id=volunteer_id, purpose=purpose)
            )
        except grpc.RpcError as err:
            raise translate(err, "volunteer_id", volunteer_id) from None
        return Identity(
            got.volunteer_number, got.name, got.id_type, got.id_number_masked
        )


def translate(err: grpc.RpcError, field: str, key: str) -> ZhiyuanError:
    """The platform error registration reported, about hours' ``field``."""
    return remote.translate(
        err, ("registration", "注册登记服务"), field, key, ("volunteer", "志愿者")
    )
