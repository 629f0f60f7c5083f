"""Where a service's generated gRPC code lives, said once: its messages module,
its stub class, its full gRPC service name (for health checks) and the
request/reply types of one of its methods. Every proto package follows
``zhiyuan.<name>.v1`` with one ``<Name>Service``.

Example::

    service_name("hours")                    # "zhiyuan.hours.v1.HoursService"
    stub("hours", channel).GetRecord(...)
    method_types("hours", "GetRecord")       # (GetRecordRequest, GetRecordResponse)
    messages("hours").SummarizeRequest(...)
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from google.protobuf.message import Message


def service_name(name: str) -> str:
    """The full gRPC service name, e.g. ``zhiyuan.hours.v1.HoursService``."""
    return f"zhiyuan.{name}.v1.{name.title()}Service"


def messages(name: str) -> ModuleType:
    """The service's generated messages module (``<name>_pb2``)."""
    return importlib.import_module(f"zhiyuan.{name}.v1.{name}_pb2")


def stub(name: str, channel: Any) -> Any:
    """The service's client stub over ``channel`` (sync or ``grpc.aio``)."""
    module = importlib.import_module(f"zhiyuan.{name}.v1.{name}_pb2_grpc")
    return getattr(module, f"{name.title()}ServiceStub")(channel)


def method_types(name: str, rpc: str) -> tuple[type[Message], type[Message]]:
    """The request and reply message classes of one method of the service."""
    module = messages(name)
    service = module.DESCRIPTOR.services_by_name[f"{name.title()}Service"]
    method = service.methods_by_name[rpc]
    return (
        getattr(module, method.input_type.name),
        getattr(module, method.output_type.name),
    )
