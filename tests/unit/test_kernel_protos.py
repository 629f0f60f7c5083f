"""The one place that knows where a service's generated gRPC code lives."""

from __future__ import annotations

import grpc
from zhiyuan.hours.v1 import hours_pb2, hours_pb2_grpc

from services.catalog import SERVICES
from services.common import protos


def test_names_types_and_stubs_of_every_service() -> None:
    assert protos.service_name("hours") == "zhiyuan.hours.v1.HoursService"
    assert protos.messages("hours") is hours_pb2
    assert protos.method_types("hours", "GetRecord") == (
        hours_pb2.GetRecordRequest,
        hours_pb2.GetRecordResponse,
    )
    with grpc.insecure_channel("127.0.0.1:1") as channel:
        assert isinstance(
            protos.stub("hours", channel), hours_pb2_grpc.HoursServiceStub
        )
        for name in SERVICES:
            full = protos.service_name(name)
            assert (
                protos.messages(name)
                .DESCRIPTOR.services_by_name[full.rsplit(".", 1)[1]]
                .full_name
                == full
            )
            assert protos.stub(name, channel) is not None
