"""What the commands that ask a running service over gRPC share: the
--scope/--role options naming the caller, a short-lived token for that
caller, and a stub to the service's api at <SERVICE>_GRPC_ADDRESS.

Example::

    caller_options(parser)  # then, in the command:
    reply = stub("hours", caller_token(args)).ListRecords(request)
"""

from __future__ import annotations

import argparse
from typing import Any

from services.common import keys, protos, rpc
from services.common.config import load


def caller_options(p: argparse.ArgumentParser) -> None:
    """--scope and --role: whom the command asks as (default the province's
    administrator)."""
    p.add_argument(
        "--scope", default="61",
        help="the caller's division code (default 61) / 调用者的管辖区划",
    )  # fmt: skip
    p.add_argument(
        "--role", default="province_admin",
        help="the caller's role (default province_admin) / 调用者的角色",
    )  # fmt: skip


def caller_token(args: argparse.Namespace) -> str:
    """A five-minute token for ``args.scope`` and ``args.role``, signed with
    the configured private key (JWT_PRIVATE_KEY or .run/keys)."""
    value, _ = keys.issuer(load()).issue(
        subject="cli", username="cli", scope_code=args.scope, roles=[args.role], ttl=300
    )
    return value


def stub(service: str, token: str | None) -> Any:
    """A stub of ``service``'s gRPC api sending ``token`` (none: anonymous),
    with the configured deadline."""
    cfg = load()
    channel = rpc.channel(
        cfg.service(service).grpc_address,
        deadline=float(cfg["grpc.deadline_seconds"]),
        token=lambda: token,
    )
    return protos.stub(service, channel)
