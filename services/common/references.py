"""An organisation named in a request, checked the one way every service
checks it: it must be one the caller may see, or the request is refused
exactly as for an id that exists nowhere.

Registration owns organisations and scopes every read by the caller's
subtree (its own requests already refuse a foreign parent, team or
org_leader organisation that way; activity does the same against its
replica). A service without a replica asks registration *as the caller*
(:class:`Remote` forwards the caller's token): a neighbour's organisation,
an ancestor's (a township naming its county's) and an unknown id all come
back NOT_FOUND, turned into the same NOT_FOUND about the caller's own field
(rule ``<field>.exists``), so the answer is no existence oracle. Check before
the transaction opens, so a refused request writes nothing.

Example::

    registration = references.registration(cfg.service("registration")
                                           .grpc_address, 10.0)
    org = references.organisation(registration, req.organisation_id,
                                  "organisation_id")
    name = org.name if org else ""
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from zhiyuan.registration.v1 import registration_pb2 as reg
from zhiyuan.registration.v1 import registration_pb2_grpc as reg_grpc

from services.common.remote import Remote

ORGANISATION = ("organisation", "组织")


@dataclass(frozen=True)
class Organisation:
    """What a service keeps of an organisation it was named."""

    id: str
    name: str
    division_code: str


def registration(address: str, deadline: float) -> Remote:
    """A lazily opened channel to registration's api role."""
    return Remote(
        address, deadline, reg_grpc.RegistrationServiceStub,
        "registration", "注册登记服务",
    )  # fmt: skip


def organisation(remote: Remote, organisation_id: str, field: str) -> Organisation:
    """The organisation (or team) ``organisation_id`` as the caller sees it;
    NOT_FOUND naming ``field`` when it lies outside the caller's subtree or
    does not exist. ``organisation_id`` is a checked, non-empty UUID."""
    try:
        got = (
            remote.stub()
            .GetOrganisation(reg.GetOrganisationRequest(id=organisation_id))
            .organisation
        )
    except grpc.RpcError as err:
        raise remote.translate(err, field, organisation_id, ORGANISATION) from None
    return Organisation(got.id, got.name, got.division_code)


def optional_organisation(
    remote: Remote | None, organisation_id: str, field: str
) -> Organisation | None:
    """:func:`organisation` when an id is given, ``None`` when it is empty.
    A service built without registration's client cannot accept one."""
    if not organisation_id:
        return None
    if remote is None:
        raise RuntimeError("naming an organisation needs registration's client")
    return organisation(remote, organisation_id, field)
