"""The one question recycling asks activity over gRPC, as the caller: is
this a service project's session the caller may see? The kernel's
:class:`Remote` forwards the caller's token (activity applies the caller's
own scope, never a blanket service identity) with a short deadline, and
turns a refusal into a platform error naming recycling's own field.

A collection names the session so that the volunteers' sorting and
transport shifts earn hours the normal way (check-in/out → hours); a
donation project's sessions earn none, so they are refused here.
"""

from __future__ import annotations

from datetime import date

import grpc
from zhiyuan.activity.v1 import activity_pb2 as act
from zhiyuan.activity.v1 import activity_pb2_grpc as act_grpc

from services.common.errors import FailedPrecondition, InvalidArgument, NotFound
from services.common.remote import Remote

# A lookup while the caller waits: a few seconds, not the platform default.
DEADLINE_SECONDS = 3.0


class Activity(Remote):
    """A lazily opened channel to activity's api role.

    Example::

        client = Activity(cfg.service("activity").grpc_address)
        client.check_service_session(project_id, session_id)
    """

    def __init__(self, address: str, deadline: float = DEADLINE_SECONDS):
        super().__init__(
            address, deadline, act_grpc.ActivityServiceStub, "activity", "活动服务"
        )

    def check_service_session(self, project_id: str, session_id: str) -> None:
        """Refuse unless the project is visible to the caller, is of kind
        service and has the session."""
        try:
            got = self.stub().GetProject(act.GetProjectRequest(id=project_id))
        except grpc.RpcError as err:
            kind = ("activity project", "活动项目")
            raise self.translate(err, "activity_project_id", project_id, kind) from None
        project = got.project
        if project.kind != act.PROJECT_KIND_SERVICE:
            raise FailedPrecondition(
                "only a service project's session earns hours; this is a donation",
                "只有志愿服务类项目的场次可以关联（捐赠类项目不计服务时长）",
                field="activity_project_id",
                rule="activity_project.kind_service",
            )
        if session_id not in {s.id for s in project.sessions}:
            gone = NotFound.entity("activity session", "活动场次", session_id)
            gone.field, gone.rule = "activity_session_id", "activity_session_id.exists"
            raise gone

    def check_campaign(self, campaign_id: str, code: str, day: date) -> None:
        """Refuse, naming ``campaign_id``, unless the campaign is visible to
        the caller, covers ``code`` and its window holds ``day``."""
        try:
            got = self.stub().GetCampaign(act.GetCampaignRequest(id=campaign_id))
        except grpc.RpcError as err:
            kind = ("campaign", "专项行动")
            raise self.translate(err, "campaign_id", campaign_id, kind) from None
        c = got.campaign
        if not code.startswith(c.division_code):
            raise InvalidArgument(
                "campaign_id",
                "campaign_id.covers",
                f"the campaign of {c.division_code} does not cover {code}",
                f"该专项行动（{c.division_code}）不覆盖 {code}",
            )
        if not c.starts_on <= day.isoformat() <= c.ends_on:
            raise InvalidArgument(
                "campaign_id",
                "campaign_id.window",
                f"{day.isoformat()} lies outside the campaign's window "
                f"{c.starts_on} to {c.ends_on}",
                f"{day.isoformat()} 不在专项行动期间（{c.starts_on} 至 {c.ends_on}）内",
            )
