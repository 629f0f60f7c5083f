"""What hours asks activity and commendation over gRPC for a certificate's
training and awards lines, as the caller (the kernel's channel forwards the
caller's token, so each service applies the caller's scope, and sets a
deadline), in the same way :mod:`.registration_client` asks registration.

A service that does not answer (down, or past the deadline) is refused
with UNAVAILABLE, in both languages, saying that no certificate was issued:
a certificate is never printed with a section the volunteer asked for
silently missing. A volunteer the service does not show the caller is
NOT_FOUND naming ``volunteer_id``, as registration's answer is.

Example::

    lines = RecordLines.from_config(cfg)
    training = lines.training("0b6c…", ("2026-01", "2026-12"))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import grpc
from zhiyuan.activity.v1 import activity_pb2 as act
from zhiyuan.activity.v1 import activity_pb2_grpc as act_grpc
from zhiyuan.commendation.v1 import commendation_pb2 as com
from zhiyuan.commendation.v1 import commendation_pb2_grpc as com_grpc
from zhiyuan.common.v1 import common_pb2 as common

from services.common import rpc
from services.common.config import Config
from services.common.errors import Unavailable, ZhiyuanError
from services.common.remote import Remote

Period = tuple[str, str]


@dataclass(frozen=True)
class TrainingLine:
    course_title: str
    starts_at: str  # RFC 3339
    hours: float


@dataclass(frozen=True)
class AwardLine:
    kind: str  # star_rating | honour
    awarded_on: str  # YYYY-MM-DD, China time
    stars: int
    round_title: str
    category: str
    division_name: str


class LineSource(Protocol):
    """Where a certificate's training and awards lines come from."""

    def training(self, volunteer_id: str, period: Period) -> list[TrainingLine]: ...

    def awards(self, volunteer_id: str, period: Period) -> list[AwardLine]: ...


class RecordLines:
    """Lazily opened channels to activity's and commendation's api roles."""

    def __init__(self, activity: Remote, commendation: Remote):
        self.activity, self.commendation = activity, commendation

    @classmethod
    def from_config(cls, cfg: Config) -> RecordLines:
        deadline = float(cfg["grpc.deadline_seconds"])
        return cls(
            Remote(
                cfg.service("activity").grpc_address, deadline,
                act_grpc.ActivityServiceStub, "activity", "活动服务",
            ),
            Remote(
                cfg.service("commendation").grpc_address, deadline,
                com_grpc.CommendationServiceStub, "commendation", "表彰服务",
            ),
        )  # fmt: skip

    def close(self) -> None:
        self.activity.close()
        self.commendation.close()

    def training(self, volunteer_id: str, period: Period) -> list[TrainingLine]:
        """The volunteer's training sessions in the period, oldest first."""
        req = act.ListTrainingOfRequest(
            volunteer_id=volunteer_id, period=_period(period)
        )
        try:
            got = self.activity.stub().ListTrainingOf(req)
        except grpc.RpcError as err:
            raise _refused(
                self.activity, err, volunteer_id, "培训记录", "training"
            ) from None
        return [
            TrainingLine(x.course_title, x.starts_at, x.hours) for x in got.attendances
        ]

    def awards(self, volunteer_id: str, period: Period) -> list[AwardLine]:
        """The volunteer's awards in the period, oldest first."""
        req = com.ListAwardsOfRequest(volunteer_id=volunteer_id, period=_period(period))
        try:
            got = self.commendation.stub().ListAwardsOf(req)
        except grpc.RpcError as err:
            raise _refused(
                self.commendation, err, volunteer_id, "表彰记录", "awards"
            ) from None
        return [
            AwardLine(
                com.AwardKind.Name(a.kind).removeprefix("AWARD_KIND_").lower(),
                a.awarded_on,
                a.stars,
                a.round_title,
                a.category,
                a.division_name,
            )  # fmt: skip
            for a in got.awards
        ]


def _period(period: Period) -> common.Period:
    return common.Period(start_month=period[0], end_month=period[1])


def _refused(
    remote: Remote, err: grpc.RpcError, volunteer_id: str, what_zh: str, what: str
) -> ZhiyuanError:
    code = rpc.error_details(err)["code"]
    if code in ("UNAVAILABLE", "DEADLINE_EXCEEDED"):
        return Unavailable(
            f"the {remote.name_en} service did not answer, so the {what} lines "
            "could not be read; no certificate was issued, try again later",
            f"{remote.name_zh}暂时无响应，无法读取{what_zh}，证明未出具，请稍后重试",
        )
    return remote.translate(err, "volunteer_id", volunteer_id, ("volunteer", "志愿者"))
