"""Shaanxi demo data for activity (idempotent): projects in Xi'an's Chang'an
(610116) and Yanta (610113) districts with sessions in the recent past,
volunteers signed up, checked in and out, a recruiting project with a
waitlist, one awaiting review, and pairs of volunteers with households and
their visits. Everything goes through the use cases (a simulated clock walks
the timeline), so rollups and events are real.

Activity never reads registration's tables, and the replica that its worker
keeps from registration's events is empty until the workers run. So the seed
asks registration's gRPC API for the organisations and volunteers (as a
provincial admin), and writes the replica rows itself. When no registration
api is listening at the configured address (``make seed`` runs before
``make run``), it serves one from this process for the duration. Registration
exposes only the birth year: the replica gets 31 December of that year (the
youngest the volunteer can be) until registration's events bring the date.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import grpc
from sqlalchemy import select
from zhiyuan.registration.v1 import registration_pb2 as rpb
from zhiyuan.registration.v1 import registration_pb2_grpc as rpb_grpc

from services.activity import replica
from services.activity.models import Project
from services.catalog import api_entry
from services.common import keys, rpc
from services.common.config import Config
from services.common.db import Database
from services.common.tenancy import Scope
from services.seed.activity_demo import MARKER, Demo

DEMO_PROVINCE = "61"
KINDS = {
    rpb.ORGANISATION_KIND_ORGANISATION: "organisation",
    rpb.ORGANISATION_KIND_TEAM: "team",
}
STATUSES = {
    rpb.VOLUNTEER_STATUS_PENDING: "pending",
    rpb.VOLUNTEER_STATUS_VERIFIED: "verified",
    rpb.VOLUNTEER_STATUS_REJECTED: "rejected",
}


def seed(cfg: Config, province: str = "61", volunteers: int = 300) -> None:
    """Load the activity demo on top of registration's (``volunteers`` is
    registration's count; this seed uses whoever registration holds)."""
    if province != DEMO_PROVINCE:
        print(f"activity demo data is for Shaanxi (61), not {province}: skipped")
        return
    db = Database(cfg.service("activity"))
    try:
        with db.session(Scope(province)) as s:
            done = s.execute(select(Project.id).where(Project.title == MARKER)).first()
        if done:
            print("activity demo data already present / 活动演示数据已存在")
            return
        try:
            orgs, vols = fetch_registration(cfg, province)
        except grpc.RpcError as err:
            print(
                "activity demo data skipped: registration's api answered "
                f"{err.code().name} / 未能读取注册数据，跳过活动演示数据"
            )
            return
        write_replica(db, province, orgs, vols)
        Demo(db, keys.pii_cipher(cfg), province, orgs, vols).run()
        print("activity demo data ready / 活动演示数据已就绪")
    finally:
        db.dispose()


def fetch_registration(cfg: Config, province: str) -> tuple[list[Any], list[Any]]:
    """Every organisation and volunteer of the province, through the API."""
    token, _ = keys.issuer(cfg).issue(
        subject="activity-seed",
        username="activity-seed",
        scope_code=province,
        roles=["province_admin"],
        ttl=600,
    )
    with registration_api(cfg, token) as stub:
        orgs = _all(
            stub.ListOrganisations, rpb.ListOrganisationsRequest, "organisations"
        )
        vols = _all(stub.ListVolunteers, rpb.ListVolunteersRequest, "volunteers")
    return orgs, vols


def _all(call: Any, request: Any, field: str) -> list[Any]:
    out: list[Any] = []
    token = ""
    while True:
        page = {"page_size": 500, "page_token": token}
        reply = call(request(page=page))
        out.extend(getattr(reply, field))
        token = reply.page.next_page_token
        if not token:
            return out


@contextmanager
def registration_api(cfg: Config, token: str) -> Iterator[Any]:
    """A stub of registration's api at its configured address, serving one
    from this process if none answers there."""
    address = cfg.service("registration").grpc_address
    stop = threading.Event()
    if not _listening(address):
        thread = threading.Thread(
            target=api_entry("registration"), args=(cfg, stop), daemon=True
        )
        thread.start()
        if not _listening(address, timeout=20):
            raise RuntimeError(f"registration's api did not start on {address}")
    channel = rpc.channel(address, deadline=30, token=lambda: token)
    try:
        yield rpb_grpc.RegistrationServiceStub(channel)
    finally:
        channel.close()
        stop.set()


def _listening(address: str, timeout: float = 1.0) -> bool:
    with grpc.insecure_channel(address) as probe:
        try:
            grpc.channel_ready_future(probe).result(timeout=timeout)
            return True
        except grpc.FutureTimeoutError:
            return False


def write_replica(
    db: Database, province: str, orgs: list[Any], vols: list[Any]
) -> None:
    with db.session(Scope(province)) as s:
        for org in orgs:
            replica.upsert_organisation(
                s,
                org.id,
                org.name,
                KINDS.get(org.kind, "organisation"),
                org.division_code,
                org.parent_id,
            )
        for vol in vols:
            replica.upsert_volunteer(
                s,
                vol.id,
                vol.volunteer_number,
                vol.home_division_code,
                STATUSES.get(vol.status, "pending"),
                date(vol.birth_year, 12, 31) if vol.birth_year else None,
                list(vol.service_fields),
            )
