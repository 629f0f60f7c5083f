"""The recorded facts a nomination rests on, fetched over gRPC as the
nominating caller (their token, their scope, a deadline): the nominee from
registration, hours totals and records from hours, projects from activity.
Commendation keeps what it fetched on the nomination, as evidence."""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
from zhiyuan.activity.v1 import activity_pb2 as act
from zhiyuan.activity.v1 import activity_pb2_grpc as act_grpc
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.hours.v1 import hours_pb2 as hrs
from zhiyuan.hours.v1 import hours_pb2_grpc as hrs_grpc
from zhiyuan.registration.v1 import registration_pb2 as reg
from zhiyuan.registration.v1 import registration_pb2_grpc as reg_grpc

from services.commendation.domain import RecordFacts
from services.common import references
from services.common.config import Config
from services.common.remote import Remote

# Enough records to judge a nominee by; a volunteer with more has the
# totals counted in full and the signals read from the most recent ones.
MAX_RECORDS = 2000
RECENT = 10


@dataclass(frozen=True)
class Nominee:
    volunteer_id: str
    volunteer_number: str
    name_masked: str
    home_division_code: str


@dataclass
class HoursFacts:
    approved_hours: float = 0.0
    approved_records: int = 0
    platform_hours: float = 0.0
    by_field: dict[str, float] = field(default_factory=dict)
    activities: list[str] = field(default_factory=list)
    records: list[RecordFacts] = field(default_factory=list)


class Facts:
    """Example::

    facts = Facts.from_config(cfg)
    nominee = facts.nominee("0b6c…")
    """

    def __init__(self, registration: Remote, hours: Remote, activity: Remote):
        self.registration, self.hours, self.activity = registration, hours, activity

    @classmethod
    def from_config(cls, cfg: Config) -> Facts:
        deadline = float(cfg["grpc.deadline_seconds"])

        def remote(name: str, stub: object, zh: str) -> Remote:
            return Remote(cfg.service(name).grpc_address, deadline, stub, name, zh)

        return cls(
            remote("registration", reg_grpc.RegistrationServiceStub, "注册登记服务"),
            remote("hours", hrs_grpc.HoursServiceStub, "时长服务"),
            remote("activity", act_grpc.ActivityServiceStub, "活动服务"),
        )

    def close(self) -> None:
        for r in (self.registration, self.hours, self.activity):
            r.close()

    def nominee(
        self, volunteer_id: str, field_: str = "nominee_volunteer_id"
    ) -> Nominee:
        try:
            v = (
                self.registration.stub()
                .GetVolunteer(reg.GetVolunteerRequest(id=volunteer_id))
                .volunteer
            )
        except grpc.RpcError as err:
            kind = ("volunteer", "志愿者")
            raise self.registration.translate(err, field_, volunteer_id, kind) from None
        return Nominee(v.id, v.volunteer_number, v.name, v.home_division_code)

    def organisation(
        self, organisation_id: str, field_: str = "unit_organisation_id"
    ) -> tuple[str, str]:
        """(name, division code) of an organisation the caller may see;
        NOT_FOUND naming ``field_`` otherwise, as for an unknown id."""
        o = references.organisation(self.registration, organisation_id, field_)
        return o.name, o.division_code

    def hours_of(self, volunteer_id: str) -> HoursFacts:
        field_, kind = "nominee_volunteer_id", ("volunteer", "志愿者")
        stub = self.hours.stub()
        try:
            t = stub.GetVolunteerTotals(
                hrs.GetVolunteerTotalsRequest(volunteer_id=volunteer_id)
            )
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.NOT_FOUND:
                return HoursFacts()  # no hours recorded in the caller's scope
            raise self.hours.translate(err, field_, volunteer_id, kind) from None
        try:
            out = HoursFacts(
                approved_hours=t.approved_hours,
                approved_records=t.approved_records,
                platform_hours=t.platform_total_hours,
                by_field=dict(t.hours_by_field),
            )
            token = ""
            while len(out.records) < MAX_RECORDS:
                page = stub.ListRecords(
                    hrs.ListRecordsRequest(
                        volunteer_id=volunteer_id,
                        page=common.PageRequest(page_size=500, page_token=token),
                    )
                )
                for r in page.records:
                    self._keep(out, r)
                token = page.page.next_page_token
                if not token:
                    break
        except grpc.RpcError as err:
            raise self.hours.translate(err, field_, volunteer_id, kind) from None
        return out

    @staticmethod
    def _keep(out: HoursFacts, r: hrs.HourRecord) -> None:
        if r.status not in (hrs.RECORD_STATUS_APPROVED, hrs.RECORD_STATUS_REVERSED):
            return
        out.records.append(RecordFacts(r.hours, r.effective_hours, r.duration_seconds))
        if len(out.activities) < RECENT:
            out.activities.append(
                f"{r.started_at[:10]} {r.content} {r.effective_hours:.2f}h"
            )

    def projects_in(self, division_code: str) -> int:
        """Projects at a division (the evidence for collectives and stations)."""
        try:
            got = self.activity.stub().ListProjects(
                act.ListProjectsRequest(
                    division_code=division_code, page=common.PageRequest(page_size=1)
                )
            )
        except grpc.RpcError as err:
            kind = ("division", "区划")
            raise self.activity.translate(
                err, "nominee_division_code", division_code, kind
            ) from None
        return int(got.page.total_size)
