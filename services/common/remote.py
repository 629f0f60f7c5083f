"""Calling another service's api role as the caller: a lazily opened
channel (the kernel's :func:`rpc.channel` forwards the caller's token, so the
callee applies the caller's scope, never a blanket service identity, and
sets a deadline), and the callee's refusal turned back into the same
platform error about the caller's own field.

Example::

    hours = Remote(cfg.service("hours").grpc_address, 10.0,
                   hours_grpc.HoursServiceStub, "hours", "时长服务")
    try:
        got = hours.stub().GetVolunteerTotals(req)
    except grpc.RpcError as err:
        raise hours.translate(err, "nominee_volunteer_id", vid,
                              ("volunteer", "志愿者")) from None
"""

from __future__ import annotations

import threading
from typing import Any

import grpc

from services.common import rpc
from services.common.errors import ERRORS_BY_CODE, NotFound, Unavailable, ZhiyuanError


class Remote:
    def __init__(
        self, address: str, deadline: float, stub_class: Any, name_en: str, name_zh: str
    ):
        self.address, self.deadline = address, deadline
        self.stub_class, self.name_en, self.name_zh = stub_class, name_en, name_zh
        self._stub: Any = None
        self._channel: grpc.Channel | None = None
        self._lock = threading.Lock()

    def stub(self) -> Any:
        with self._lock:
            if self._stub is None:
                self._channel = rpc.channel(self.address, deadline=self.deadline)
                self._stub = self.stub_class(self._channel)
            return self._stub

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()

    def translate(
        self, err: grpc.RpcError, field: str, key: str, kind: tuple[str, str]
    ) -> ZhiyuanError:
        """The platform error the callee reported, about the caller's ``field``."""
        return translate(err, (self.name_en, self.name_zh), field, key, kind)


def translate(
    err: grpc.RpcError,
    callee: tuple[str, str],
    field: str,
    key: str,
    kind: tuple[str, str],
) -> ZhiyuanError:
    """The platform error ``callee`` (its English and Chinese names)
    reported, about the caller's ``field``; ``kind`` names what ``key`` is."""
    name_en, name_zh = callee
    details = rpc.error_details(err)
    code = details["code"]
    if code == "NOT_FOUND":
        # Outside the caller's jurisdiction looks exactly like not existing.
        out: ZhiyuanError = NotFound.entity(kind[0], kind[1], key)
        out.field, out.rule = field, f"{field}.exists"
        return out
    cls = ERRORS_BY_CODE.get(code)
    if cls is None or code == "INVALID_ARGUMENT":
        if code in ("UNAVAILABLE", "DEADLINE_EXCEEDED"):
            return Unavailable(
                f"{name_en} did not answer in time; try again",
                f"{name_zh}暂时无响应，请稍后重试",
            )
        return Unavailable(
            f"{name_en} refused the lookup ({code})",
            f"{name_zh}拒绝了查询（{code}）",
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
