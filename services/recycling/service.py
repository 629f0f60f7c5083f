"""Recycling's api role: the gRPC servicer (entrypoints only: parse, call the
application, serialise) and the process entry ``serve()``."""

from __future__ import annotations

import logging
import threading

import grpc
from zhiyuan.recycling.v1 import recycling_pb2 as pb
from zhiyuan.recycling.v1 import recycling_pb2_grpc as pb_grpc

from services.common import keys, references, rpc
from services.common.auth import current_principal as me
from services.common.config import Config
from services.common.db import Database
from services.common.federation_read import federated_response
from services.common.remote import Remote
from services.recycling import convert as cv
from services.recycling.activity_client import DEADLINE_SECONDS, Activity
from services.recycling.application import RecyclingApp
from services.recycling.queries import RecyclingQueries

log = logging.getLogger(__name__)
SERVICE = "zhiyuan.recycling.v1.RecyclingService"


class RecyclingServicer(pb_grpc.RecyclingServiceServicer):
    def __init__(self, app: RecyclingApp, queries: RecyclingQueries):
        self.app, self.q = app, queries

    # -- bins ----------------------------------------------------------------------
    def CreateBin(  # noqa: N802
        self, req: pb.CreateBinRequest, ctx: grpc.ServicerContext
    ) -> pb.CreateBinResponse:
        draft = self.app.bins.check_bin(
            me(), req.code, req.division_code, *cv.place(req.place), req.deployed_on
        )
        return pb.CreateBinResponse(bin=cv.bin_(self.app.bins.create_bin(me(), draft)))

    def ListBins(  # noqa: N802
        self, req: pb.ListBinsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListBinsResponse:
        status = cv.enum_value(cv.BIN_STATUS, req.status, "status")
        page = self.q.bins(
            me(), req.division_code, status, req.page.page_size, req.page.page_token
        )
        return pb.ListBinsResponse(
            bins=[cv.bin_(b) for b in page.items], page=cv.page(page)
        )

    def GetBin(  # noqa: N802
        self, req: pb.GetBinRequest, ctx: grpc.ServicerContext
    ) -> pb.GetBinResponse:
        row, history = self.q.bin(me(), req.id)
        return pb.GetBinResponse(
            bin=cv.bin_(row), history=[cv.change(c) for c in history]
        )

    def ChangeBinStatus(  # noqa: N802
        self, req: pb.ChangeBinStatusRequest, ctx: grpc.ServicerContext
    ) -> pb.ChangeBinStatusResponse:
        status = cv.enum_value(cv.BIN_STATUS, req.status, "status")
        row = self.app.bins.change_bin_status(
            me(), req.id, status, req.changed_on, req.reason
        )
        return pb.ChangeBinStatusResponse(bin=cv.bin_(row))

    # -- collections -----------------------------------------------------------------
    def RecordCollection(  # noqa: N802
        self, req: pb.RecordCollectionRequest, ctx: grpc.ServicerContext
    ) -> pb.RecordCollectionResponse:
        draft = self.app.collections.check_collection(
            me(), req.division_code, req.organisation_id, req.organisation_name,
            req.collected_on, list(req.bin_codes), cv.weights(req.weights),
            req.activity_project_id, req.activity_session_id, req.note,
        )  # fmt: skip
        row, bins = self.app.collections.record_collection(me(), draft)
        return pb.RecordCollectionResponse(
            collection=cv.collection(row, draft.bin_codes),
            bins=[cv.bin_(b) for b in bins],
        )

    def ListCollections(  # noqa: N802
        self, req: pb.ListCollectionsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListCollectionsResponse:
        page = self.q.collections(
            me(), req.division_code, req.page.page_size, req.page.page_token
        )
        return pb.ListCollectionsResponse(
            collections=[cv.collection(c, codes) for c, codes in page.items],
            page=cv.page(page),
        )

    def GetCollection(  # noqa: N802
        self, req: pb.GetCollectionRequest, ctx: grpc.ServicerContext
    ) -> pb.GetCollectionResponse:
        row, codes = self.q.collection(me(), req.id)
        return pb.GetCollectionResponse(collection=cv.collection(row, codes))

    # -- drives ----------------------------------------------------------------------
    def RecordDrive(  # noqa: N802
        self, req: pb.RecordDriveRequest, ctx: grpc.ServicerContext
    ) -> pb.RecordDriveResponse:
        draft = self.app.drives.check_drive(
            me(), req.division_code, req.organisation_id, req.organisation_name,
            req.title, req.held_on, cv.items(req.items), req.recipient_households,
            req.campaign_id,
        )  # fmt: skip
        (view,) = self.app.drives.record_drives(me(), [draft])
        return pb.RecordDriveResponse(drive=cv.drive(view))

    def RecordDistribution(  # noqa: N802
        self, req: pb.RecordDistributionRequest, ctx: grpc.ServicerContext
    ) -> pb.RecordDistributionResponse:
        draft = self.app.drives.check_handout(
            me(), req.drive_id, req.distributed_on, req.households,
            cv.items(req.items), req.note,
        )  # fmt: skip
        ((row, view),) = self.app.drives.record_distributions(me(), [draft])
        return pb.RecordDistributionResponse(
            distribution=cv.distribution(row), drive=cv.drive(view)
        )

    def ListDrives(  # noqa: N802
        self, req: pb.ListDrivesRequest, ctx: grpc.ServicerContext
    ) -> pb.ListDrivesResponse:
        page = self.q.drives(
            me(), req.division_code, req.page.page_size, req.page.page_token
        )
        return pb.ListDrivesResponse(
            drives=[cv.drive(d) for d in page.items], page=cv.page(page)
        )

    def GetDrive(  # noqa: N802
        self, req: pb.GetDriveRequest, ctx: grpc.ServicerContext
    ) -> pb.GetDriveResponse:
        view = self.q.drive(me(), req.id)
        return pb.GetDriveResponse(
            drive=cv.drive(view),
            distributions=[cv.distribution(x) for x in view.distributions],
        )

    # -- bookings --------------------------------------------------------------------
    def CreateBooking(  # noqa: N802
        self, req: pb.CreateBookingRequest, ctx: grpc.ServicerContext
    ) -> pb.CreateBookingResponse:
        row, created = self.app.bookings.create_booking(
            me(), req.request_id, req.division_code, req.contact_name,
            req.contact_phone, req.address, req.window_start, req.window_end,
            req.note,
        )  # fmt: skip
        return pb.CreateBookingResponse(booking=cv.booking(row), created=created)

    def ListBookings(  # noqa: N802
        self, req: pb.ListBookingsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListBookingsResponse:
        status = cv.enum_value(cv.BOOKING_STATUS, req.status, "status")
        page = self.q.bookings(
            me(), req.division_code, status, req.page.page_size, req.page.page_token
        )
        return pb.ListBookingsResponse(
            bookings=[cv.booking(b) for b in page.items], page=cv.page(page)
        )

    def AssignBooking(  # noqa: N802
        self, req: pb.AssignBookingRequest, ctx: grpc.ServicerContext
    ) -> pb.AssignBookingResponse:
        row = self.app.bookings.assign_booking(
            me(), req.id, req.organisation_id, req.organisation_name
        )
        return pb.AssignBookingResponse(booking=cv.booking(row))

    def CollectBooking(  # noqa: N802
        self, req: pb.CollectBookingRequest, ctx: grpc.ServicerContext
    ) -> pb.CollectBookingResponse:
        row = self.app.bookings.collect_booking(
            me(), req.id, cv.weights(req.weights), req.collected_on, req.campaign_id
        )
        return pb.CollectBookingResponse(booking=cv.booking(row))

    def CancelBooking(  # noqa: N802
        self, req: pb.CancelBookingRequest, ctx: grpc.ServicerContext
    ) -> pb.CancelBookingResponse:
        row = self.app.bookings.cancel_booking(me(), req.id, req.reason)
        return pb.CancelBookingResponse(booking=cv.booking(row))

    def CreateMyBooking(  # noqa: N802
        self, req: pb.CreateMyBookingRequest, ctx: grpc.ServicerContext
    ) -> pb.CreateMyBookingResponse:
        row, created = self.app.bookings.create_my_booking(
            me(), req.request_id, (req.contact_name, req.contact_phone, req.address),
            (req.window_start, req.window_end), req.items, req.estimated_kg,
        )  # fmt: skip
        return pb.CreateMyBookingResponse(booking=cv.booking(row), created=created)

    def ListMyBookings(  # noqa: N802
        self, req: pb.ListMyBookingsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListMyBookingsResponse:
        page = self.q.my_bookings(me(), req.page.page_size, req.page.page_token)
        return pb.ListMyBookingsResponse(
            bookings=[cv.booking(b) for b in page.items], page=cv.page(page)
        )

    def GetMyBooking(  # noqa: N802
        self, req: pb.GetMyBookingRequest, ctx: grpc.ServicerContext
    ) -> pb.GetMyBookingResponse:
        return pb.GetMyBookingResponse(
            booking=cv.booking(self.q.my_booking(me(), req.id))
        )

    # -- statistics ------------------------------------------------------------------
    def Summarize(  # noqa: N802
        self, req: pb.SummarizeRequest, ctx: grpc.ServicerContext
    ) -> pb.SummarizeResponse:
        q = req.query
        level = cv.enum_value(cv.LEVELS, q.group_by, "query.group_by")
        result = self.q.summarize(
            me(), q.division_code, level, q.period.start_month,
            q.period.end_month, q.by_month,
        )  # fmt: skip
        return pb.SummarizeResponse(rollup=cv.rollup(result))

    def SummarizeFederated(  # noqa: N802
        self, req: pb.SummarizeFederatedRequest, ctx: grpc.ServicerContext
    ) -> pb.SummarizeFederatedResponse:
        """What downstream releases forwarded (services/common/federation.py)."""
        return federated_response(pb, me(), req.query, self.q.summarize_federated)


def build(cfg: Config) -> tuple[RecyclingServicer, Database, list[Remote]]:
    db = Database(cfg.service("recycling"))
    deadline = min(float(cfg["grpc.deadline_seconds"]), DEADLINE_SECONDS)
    activity = Activity(cfg.service("activity").grpc_address, deadline)
    registration = references.registration(
        cfg.service("registration").grpc_address, deadline
    )
    app = RecyclingApp(db, keys.pii_cipher(cfg), activity, registration=registration)
    servicer = RecyclingServicer(app, RecyclingQueries(db))
    return servicer, db, [activity, registration]


def serve(cfg: Config, stop: threading.Event | None = None) -> None:
    """Run the api role until SIGTERM/SIGINT (or ``stop`` is set).

    Example::

        serve(load())  # zhiyuan run recycling api
    """
    servicer, db, clients = build(cfg)
    rpc.serve_api(
        cfg,
        "recycling",
        servicer,
        pb_grpc.add_RecyclingServiceServicer_to_server,
        on_stop=[*(c.close for c in clients), db.dispose],
        stop=stop,
    )
