"""A merge of duplicate registrations end to end (issue 14): the office
merges over gRPC, registration's relay publishes
``registration.volunteer.merged`` on RabbitMQ, hours' worker re-points the
merged volunteer's hours and certificate to the survivor and commendation's worker
re-rates the survivor with both records' hours, activity's marks the
merged record's replica merged; the revert's
``.unmerged`` points them back. Real api servers, workers, PostgreSQL and
RabbitMQ."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from sqlalchemy import create_engine, text
from zhiyuan.commendation.v1 import commendation_pb2 as cpb
from zhiyuan.hours.v1 import hours_pb2 as hpb
from zhiyuan.registration.v1 import registration_pb2 as rpb

from services.common.testing import wait_for
from tests.helpers import auth, new_id_number, new_phone

pytestmark = pytest.mark.integration
OWNER, TOWN = "610122", "610122104"


def _call(stubs: Any, service: str, rpc: str, tok: str, **fields: Any) -> Any:
    module = {"registration": rpb, "hours": hpb, "commendation": cpb}[service]
    request = getattr(module, f"{rpc}Request")(**fields)
    return getattr(stubs(service), rpc)(request, metadata=auth(tok))


def test_hours_and_certificates_follow_a_merge_and_its_revert(
    stubs: Any, token: Any, worker: Any, migrated: dict[str, str]
) -> None:
    tok = token(OWNER)
    activity = create_engine(
        migrated["ACTIVITY_DATABASE_URL"], pool_size=1, max_overflow=0
    )

    def replica_status(vol: str) -> str | None:
        """Activity's replica of the volunteer, as the database's owner."""
        with activity.connect() as conn:
            return conn.execute(
                text("SELECT status FROM volunteers WHERE id = :v"), {"v": vol}
            ).scalar()

    def volunteer() -> str:
        vol = _call(
            stubs, "registration", "RegisterVolunteer", tok, name="王重复",
            id_number=new_id_number(OWNER), phone=new_phone(),
            home_division_code=TOWN, service_fields=["elderly_care"],
        ).volunteer  # fmt: skip
        _call(stubs, "registration", "VerifyVolunteer", tok, id=vol.id)
        return str(vol.id)

    survivor, merged = volunteer(), volunteer()
    org = _call(
        stubs, "registration", "CreateOrganisation", tok,
        kind=rpb.ORGANISATION_KIND_ORGANISATION,
        name=f"合并流程组织-{uuid.uuid4().hex[:6]}", division_code=OWNER,
    ).organisation  # fmt: skip

    def honour(vol: str, days_ago: int) -> None:
        start = (datetime.now(UTC) - timedelta(days=days_ago)).replace(
            hour=1, minute=0, second=0, microsecond=0
        )
        rec = _call(
            stubs, "hours", "RecordHonourHours", tok, volunteer_id=vol,
            division_code=TOWN, organisation_id=org.id,
            organisation_name=org.name, service_field="elderly_care",
            content="敬老院陪护", session_start=start.isoformat(),
            session_end=(start + timedelta(hours=2)).isoformat(), hours=2,
            reason="纸质签到表补录",
        ).record  # fmt: skip
        _call(stubs, "hours", "ApproveRecord", tok, id=rec.id)

    honour(survivor, 3)
    honour(merged, 4)
    honour(merged, 5)
    cert = _call(
        stubs, "hours", "IssueCertificate", tok, volunteer_id=merged,
        division_code=OWNER, organisation_id=org.id, issuer_name=org.name,
        person_in_charge="王主任", handler="李干事", contact="029-88888888",
    ).certificate  # fmt: skip

    def hours_of(vol: str) -> float:
        got = _call(stubs, "hours", "GetVolunteerTotals", tok, volunteer_id=vol)
        return float(got.approved_hours)

    def certificates_of(vol: str) -> set[str]:
        got = _call(stubs, "hours", "ListCertificates", tok, volunteer_id=vol)
        return {c.number for c in got.certificates}

    def rated(vol: str) -> float:
        got = _call(stubs, "commendation", "GetVolunteerStars", tok, volunteer_id=vol)
        return float(got.stars.total_hours)

    def rated_as(want: tuple[float, float]) -> bool:
        try:
            return (rated(survivor), rated(merged)) == want
        except grpc.RpcError:  # no rating yet
            return False

    assert (hours_of(survivor), hours_of(merged)) == (2.0, 4.0)
    # Commendation has counted every approval before the merge.
    wait_for(lambda: rated_as((2.0, 4.0)), timeout=60, what="the ratings")
    wait_for(lambda: replica_status(merged) == "verified", what="the replica")
    done = _call(
        stubs, "registration", "MergeVolunteers", tok, survivor_id=survivor,
        merged_id=merged, reason="同一人两次登记",
    ).merge  # fmt: skip
    wait_for(
        lambda: hours_of(survivor) == 6.0 and hours_of(merged) == 0.0,
        timeout=60,
        what="hours to follow the merge",
    )
    assert certificates_of(survivor) == {cert.number}
    wait_for(lambda: rated(survivor) == 6.0, timeout=60, what="the survivor re-rated")
    public = stubs("hours").VerifyCertificate(
        hpb.VerifyCertificateRequest(number=cert.number)
    )
    assert public.number == cert.number  # still valid by its number
    assert public.status == hpb.CERTIFICATE_STATUS_VALID

    _call(stubs, "registration", "RevertMerge", tok, id=done.id, reason="核实为两人")
    wait_for(
        lambda: hours_of(survivor) == 2.0 and hours_of(merged) == 4.0,
        timeout=60,
        what="hours to follow the revert",
    )
    assert certificates_of(merged) == {cert.number}
    wait_for(lambda: rated(survivor) == 2.0, timeout=60, what="the hours given back")
    assert certificates_of(survivor) == set()
