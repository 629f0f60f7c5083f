"""Registration's api role: the gRPC servicer (entrypoints only: parse, call
the application, serialise) and the process entry ``serve()``."""

from __future__ import annotations

import logging
import threading
from typing import Any

import grpc
from zhiyuan.common.v1 import common_pb2 as common
from zhiyuan.registration.v1 import registration_pb2 as pb
from zhiyuan.registration.v1 import registration_pb2_grpc as pb_grpc

from services.common import keys, rpc
from services.common.auth import current_principal as me
from services.common.config import Config
from services.common.db import Database
from services.common.federation_read import federated_response
from services.common.rpc import CLIENT_ADDRESS_KEY
from services.common.tenancy import Level
from services.registration import convert as cv
from services.registration import inbox
from services.registration.application import Guardian, RegistrationApp
from services.registration.login_guard import LoginPolicy
from services.registration.queries import RegistrationQueries
from services.registration.usecases.selfservice import (
    SelfRegistration,
    register_policy,
)
from services.registration.usecases.transfers import CONSENT_TEXT

log = logging.getLogger(__name__)
PUBLIC_METHODS = {
    f"/zhiyuan.registration.v1.RegistrationService/{name}"
    for name in ("Login", "SelfRegister", "ListPublicDivisions")
}
KINDS = {
    pb.ORGANISATION_KIND_ORGANISATION: "organisation",
    pb.ORGANISATION_KIND_TEAM: "team",
}
STATUSES = {
    pb.VOLUNTEER_STATUS_PENDING: "pending",
    pb.VOLUNTEER_STATUS_VERIFIED: "verified",
    pb.VOLUNTEER_STATUS_REJECTED: "rejected",
}
TRANSFER_STATUSES = {v: k for k, v in cv.TRANSFER_STATUS.items()}


class RegistrationServicer(pb_grpc.RegistrationServiceServicer):
    def __init__(self, app: RegistrationApp, queries: RegistrationQueries):
        self.app, self.q = app, queries

    def Login(  # noqa: N802
        self, req: pb.LoginRequest, ctx: grpc.ServicerContext
    ) -> pb.LoginResponse:
        token, exp, acc = self.app.accounts.login(
            req.username, req.password, client=client_address(ctx)
        )
        return pb.LoginResponse(
            access_token=token, expires_at=exp, account=cv.account(acc)
        )

    def SelfRegister(  # noqa: N802
        self, req: pb.SelfRegisterRequest, ctx: grpc.ServicerContext
    ) -> pb.SelfRegisterResponse:
        g = req.guardian if req.HasField("guardian") else None
        vol, acc = self.app.self_service.self_register(
            SelfRegistration(
                req.name,
                req.id_number,
                req.phone,
                req.home_division_code,
                list(req.service_fields),
                list(req.skills),
                req.password,
                Guardian(g.name, g.phone, g.relation, g.consent) if g else None,
                req.request_id,
            ),
            client=client_address(ctx),
        )
        return pb.SelfRegisterResponse(
            volunteer=cv.volunteer(vol, []),
            volunteer_number=vol.volunteer_number,
            account=cv.account(acc),
        )

    def GetMe(  # noqa: N802
        self, req: pb.GetMeRequest, ctx: grpc.ServicerContext
    ) -> pb.GetMeResponse:
        vol, teams, acc = self.app.self_service.me(me())
        return pb.GetMeResponse(
            volunteer=cv.volunteer(vol, teams), account=cv.account(acc)
        )

    def RefreshMyToken(  # noqa: N802
        self, req: pb.RefreshMyTokenRequest, ctx: grpc.ServicerContext
    ) -> pb.RefreshMyTokenResponse:
        token, exp, acc = self.app.accounts.refresh(me())
        return pb.RefreshMyTokenResponse(
            access_token=token, expires_at=exp, account=cv.account(acc)
        )

    def ListMyNotifications(  # noqa: N802
        self, req: pb.ListMyNotificationsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListMyNotificationsResponse:
        page = inbox.list_own(
            self.q.db, me(), req.unread, req.page.page_size, req.page.page_token
        )
        return pb.ListMyNotificationsResponse(
            notifications=[cv.notification(n) for n in page.items],
            page=cv.page(page),
            unread_count=page.extra["unread_count"],
        )

    def MarkNotificationRead(  # noqa: N802
        self, req: pb.MarkNotificationReadRequest, ctx: grpc.ServicerContext
    ) -> pb.MarkNotificationReadResponse:
        row = inbox.mark_read(self.q.db, me(), req.notification_id)
        return pb.MarkNotificationReadResponse(notification=cv.notification(row))

    def MarkAllNotificationsRead(  # noqa: N802
        self, req: pb.MarkAllNotificationsReadRequest, ctx: grpc.ServicerContext
    ) -> pb.MarkAllNotificationsReadResponse:
        return pb.MarkAllNotificationsReadResponse(
            marked=inbox.mark_all_read(self.q.db, me())
        )

    def ListPublicDivisions(  # noqa: N802
        self, req: pb.ListPublicDivisionsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListPublicDivisionsResponse:
        rows = self.app.self_service.public_divisions(req.parent_code)
        return pb.ListPublicDivisionsResponse(
            divisions=[cv.division_ref(d) for d in rows]
        )

    def GetDivision(  # noqa: N802
        self, req: pb.GetDivisionRequest, ctx: grpc.ServicerContext
    ) -> pb.GetDivisionResponse:
        div, chain = self.app.directory.get_division(me(), req.code)
        return pb.GetDivisionResponse(
            division=cv.division(div), ancestors=[cv.division_ref(d) for d in chain]
        )

    def ListDivisions(  # noqa: N802
        self, req: pb.ListDivisionsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListDivisionsResponse:
        from services.common.paging import next_token, page_bounds

        size, offset = page_bounds(req.page.page_size, req.page.page_token)
        rows, total = self.app.directory.list_divisions(
            me(), req.parent_code, req.include_retired, size, offset
        )
        return pb.ListDivisionsResponse(
            divisions=[cv.division(d) for d in rows],
            page=common.PageInfo(
                next_page_token=next_token(offset, size, total), total_size=total
            ),
        )

    def CreateDivision(  # noqa: N802
        self, req: pb.CreateDivisionRequest, ctx: grpc.ServicerContext
    ) -> pb.CreateDivisionResponse:
        div = self.app.directory.create_division(me(), req.code, req.name, req.reason)
        return pb.CreateDivisionResponse(division=cv.division(div))

    def RenameDivision(  # noqa: N802
        self, req: pb.RenameDivisionRequest, ctx: grpc.ServicerContext
    ) -> pb.RenameDivisionResponse:
        div = self.app.directory.rename_division(me(), req.code, req.name, req.reason)
        return pb.RenameDivisionResponse(division=cv.division(div))

    def RetireDivision(  # noqa: N802
        self, req: pb.RetireDivisionRequest, ctx: grpc.ServicerContext
    ) -> pb.RetireDivisionResponse:
        div = self.app.directory.retire_division(
            me(), req.code, req.successor_code, req.reason
        )
        return pb.RetireDivisionResponse(division=cv.division(div))

    def ListDivisionHistory(  # noqa: N802
        self, req: pb.ListDivisionHistoryRequest, ctx: grpc.ServicerContext
    ) -> pb.ListDivisionHistoryResponse:
        changes = self.app.directory.division_history(me(), req.code)
        return pb.ListDivisionHistoryResponse(changes=[cv.change(c) for c in changes])

    def GetEffectiveSettings(  # noqa: N802
        self, req: pb.GetEffectiveSettingsRequest, ctx: grpc.ServicerContext
    ) -> pb.GetEffectiveSettingsResponse:
        rows = self.app.directory.effective_settings(me(), req.division_code)
        return pb.GetEffectiveSettingsResponse(settings=cv.settings(rows))

    def UpdateTenantSettings(  # noqa: N802
        self, req: pb.UpdateTenantSettingsRequest, ctx: grpc.ServicerContext
    ) -> pb.UpdateTenantSettingsResponse:
        rows = self.app.directory.update_settings(
            me(), req.division_code, dict(req.set_json), list(req.clear)
        )
        return pb.UpdateTenantSettingsResponse(settings=cv.settings(rows))

    def CreateAccount(  # noqa: N802
        self, req: pb.CreateAccountRequest, ctx: grpc.ServicerContext
    ) -> pb.CreateAccountResponse:
        acc = self.app.accounts.create_account(
            me(),
            req.username,
            req.password,
            req.display_name,
            req.scope_code,
            list(req.roles),
            req.organisation_id,
        )
        return pb.CreateAccountResponse(account=cv.account(acc))

    def ListAccounts(  # noqa: N802
        self, req: pb.ListAccountsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListAccountsResponse:
        page = self.q.accounts(
            me(), req.scope_code, req.page.page_size, req.page.page_token
        )
        return pb.ListAccountsResponse(
            accounts=[cv.account(a) for a in page.items], page=cv.page(page)
        )

    def CreateOrganisation(  # noqa: N802
        self, req: pb.CreateOrganisationRequest, ctx: grpc.ServicerContext
    ) -> pb.CreateOrganisationResponse:
        org = self.app.people.create_organisation(
            me(),
            req.name,
            KINDS.get(req.kind, ""),
            req.division_code,
            req.parent_id,
            list(req.service_fields),
            req.contact_name,
            req.contact_phone,
        )
        return pb.CreateOrganisationResponse(organisation=cv.organisation(org))

    def GetOrganisation(  # noqa: N802
        self, req: pb.GetOrganisationRequest, ctx: grpc.ServicerContext
    ) -> pb.GetOrganisationResponse:
        org, children = self.q.organisation(me(), req.id)
        return pb.GetOrganisationResponse(
            organisation=cv.organisation(org),
            children=[cv.organisation(c) for c in children],
        )

    def ListOrganisations(  # noqa: N802
        self, req: pb.ListOrganisationsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListOrganisationsResponse:
        page = self.q.organisations(
            me(),
            req.division_code,
            req.parent_id,
            req.page.page_size,
            req.page.page_token,
        )
        return pb.ListOrganisationsResponse(
            organisations=[cv.organisation(o) for o in page.items], page=cv.page(page)
        )

    def RegisterVolunteer(  # noqa: N802
        self, req: pb.RegisterVolunteerRequest, ctx: grpc.ServicerContext
    ) -> pb.RegisterVolunteerResponse:
        g = req.guardian if req.HasField("guardian") else None
        vol = self.app.people.register_volunteer(
            me(),
            req.name,
            req.id_number,
            req.phone,
            req.home_division_code,
            list(req.service_fields),
            Guardian(g.name, g.phone, g.relation, g.consent) if g else None,
            req.request_id,
        )
        return pb.RegisterVolunteerResponse(volunteer=cv.volunteer(vol, []))

    def GetVolunteer(  # noqa: N802
        self, req: pb.GetVolunteerRequest, ctx: grpc.ServicerContext
    ) -> pb.GetVolunteerResponse:
        vol, teams = self.app.people.get_volunteer(me(), req.id)
        return pb.GetVolunteerResponse(volunteer=cv.volunteer(vol, teams))

    def ListVolunteers(  # noqa: N802
        self, req: pb.ListVolunteersRequest, ctx: grpc.ServicerContext
    ) -> pb.ListVolunteersResponse:
        page = self.q.volunteers(
            me(),
            req.division_code,
            cv.enum_value(STATUSES, req.status, "status"),
            req.page.page_size,
            req.page.page_token,
            req.query,
            list(req.ids),
        )
        teams = page.extra["teams"]
        return pb.ListVolunteersResponse(
            volunteers=[cv.volunteer(v, teams.get(v.id, [])) for v in page.items],
            page=cv.page(page),
        )

    def VerifyVolunteer(  # noqa: N802
        self, req: pb.VerifyVolunteerRequest, ctx: grpc.ServicerContext
    ) -> pb.VerifyVolunteerResponse:
        vol = self.app.people.review_volunteer(me(), req.id, True, "")
        return pb.VerifyVolunteerResponse(volunteer=cv.volunteer(vol, []))

    def RejectVolunteer(  # noqa: N802
        self, req: pb.RejectVolunteerRequest, ctx: grpc.ServicerContext
    ) -> pb.RejectVolunteerResponse:
        vol = self.app.people.review_volunteer(me(), req.id, False, req.reason)
        return pb.RejectVolunteerResponse(volunteer=cv.volunteer(vol, []))

    def AddTeamMembership(  # noqa: N802
        self, req: pb.AddTeamMembershipRequest, ctx: grpc.ServicerContext
    ) -> pb.AddTeamMembershipResponse:
        vol, teams = self.app.people.add_membership(
            me(), req.volunteer_id, req.organisation_id, req.role or "member"
        )
        return pb.AddTeamMembershipResponse(volunteer=cv.volunteer(vol, teams))

    def GetVolunteerIdentity(  # noqa: N802
        self, req: pb.GetVolunteerIdentityRequest, ctx: grpc.ServicerContext
    ) -> pb.GetVolunteerIdentityResponse:
        vol, name = self.app.people.volunteer_identity(me(), req.id, req.purpose)
        return pb.GetVolunteerIdentityResponse(
            id=vol.id,
            volunteer_number=vol.volunteer_number,
            name=name,
            id_type="resident_id",
            id_number_masked=vol.id_number_masked,
            home_division_code=vol.home_division_code,
            national_volunteer_number=vol.national_volunteer_number or "",
        )

    def Summarize(  # noqa: N802
        self, req: pb.SummarizeRequest, ctx: grpc.ServicerContext
    ) -> pb.SummarizeResponse:
        q = req.query
        level = cv.enum_value(cv.LEVELS, q.group_by, "query.group_by")
        result = self.q.summarize(
            me(),
            q.division_code,
            level,
            q.period.start_month,
            q.period.end_month,
            q.by_month,
        )
        return pb.SummarizeResponse(rollup=cv.rollup(result))

    def SummarizeFederated(  # noqa: N802
        self, req: pb.SummarizeFederatedRequest, ctx: grpc.ServicerContext
    ) -> pb.SummarizeFederatedResponse:
        """What downstream releases forwarded (services/common/federation.py)."""
        return federated_response(pb, me(), req.query, self.q.summarize_federated)

    def ListActivityFeed(  # noqa: N802
        self, req: pb.ListActivityFeedRequest, ctx: grpc.ServicerContext
    ) -> pb.ListActivityFeedResponse:
        page = self.q.feed(
            me(), req.division_code, req.page.page_size, req.page.page_token
        )
        return pb.ListActivityFeedResponse(
            items=[cv.feed(i) for i in page.items], page=cv.page(page)
        )

    # -- transfers between regions ----------------------------------------------
    def _transfer(self, t: Any) -> pb.Transfer:
        return cv.transfer(t, self.app.transfers.division_names([t]))

    def RequestTransfer(  # noqa: N802
        self, req: pb.RequestTransferRequest, ctx: grpc.ServicerContext
    ) -> pb.RequestTransferResponse:
        t = self.app.transfers.request(
            me(), req.volunteer_id, req.to_division_code, req.consent, req.consent_note
        )
        return pb.RequestTransferResponse(transfer=self._transfer(t))

    def RequestMyTransfer(  # noqa: N802
        self, req: pb.RequestMyTransferRequest, ctx: grpc.ServicerContext
    ) -> pb.RequestMyTransferResponse:
        t = self.app.transfers.request_mine(me(), req.to_division_code, req.consent)
        return pb.RequestMyTransferResponse(transfer=self._transfer(t))

    def ListTransfers(  # noqa: N802
        self, req: pb.ListTransfersRequest, ctx: grpc.ServicerContext
    ) -> pb.ListTransfersResponse:
        page = self.q.transfers(
            me(),
            cv.enum_value(cv.TRANSFER_DIRECTION, req.direction, "direction") or "",
            cv.enum_value(TRANSFER_STATUSES, req.status, "status"),
            req.page.page_size,
            req.page.page_token,
        )
        names = page.extra["names"]
        return pb.ListTransfersResponse(
            transfers=[cv.transfer(t, names) for t in page.items], page=cv.page(page)
        )

    def ListMyTransfers(  # noqa: N802
        self, req: pb.ListMyTransfersRequest, ctx: grpc.ServicerContext
    ) -> pb.ListMyTransfersResponse:
        rows = self.app.transfers.mine(me())
        names = self.app.transfers.division_names(rows)
        return pb.ListMyTransfersResponse(
            transfers=[cv.transfer(t, names) for t in rows],
            consent_text=CONSENT_TEXT,
        )

    def AcceptTransfer(  # noqa: N802
        self, req: pb.AcceptTransferRequest, ctx: grpc.ServicerContext
    ) -> pb.AcceptTransferResponse:
        t = self.app.transfers.accept(me(), req.id)
        return pb.AcceptTransferResponse(transfer=self._transfer(t))

    def RefuseTransfer(  # noqa: N802
        self, req: pb.RefuseTransferRequest, ctx: grpc.ServicerContext
    ) -> pb.RefuseTransferResponse:
        t = self.app.transfers.refuse(me(), req.id, req.reason)
        return pb.RefuseTransferResponse(transfer=self._transfer(t))

    def CancelTransfer(  # noqa: N802
        self, req: pb.CancelTransferRequest, ctx: grpc.ServicerContext
    ) -> pb.CancelTransferResponse:
        t = self.app.transfers.cancel(me(), req.id)
        return pb.CancelTransferResponse(transfer=self._transfer(t))

    # -- duplicate registrations merged ---------------------------------------------
    def MergeVolunteers(  # noqa: N802
        self, req: pb.MergeVolunteersRequest, ctx: grpc.ServicerContext
    ) -> pb.MergeVolunteersResponse:
        row = self.app.merges.merge(me(), req.survivor_id, req.merged_id, req.reason)
        return pb.MergeVolunteersResponse(merge=cv.merge(row))

    def RevertMerge(  # noqa: N802
        self, req: pb.RevertMergeRequest, ctx: grpc.ServicerContext
    ) -> pb.RevertMergeResponse:
        row = self.app.merges.revert(me(), req.id, req.reason)
        return pb.RevertMergeResponse(merge=cv.merge(row))

    def ListMerges(  # noqa: N802
        self, req: pb.ListMergesRequest, ctx: grpc.ServicerContext
    ) -> pb.ListMergesResponse:
        page = self.app.merges.history(
            me(), req.volunteer_id, req.page.page_size, req.page.page_token
        )
        return pb.ListMergesResponse(
            merges=[cv.merge(r) for r in page.items], page=cv.page(page)
        )

    # -- service positions --------------------------------------------------------
    def _position_fields(self, req: Any) -> tuple[str, str, str, str, str, str]:
        kind = cv.enum_value(cv.POSITION_KIND, req.kind, "kind") or ""
        level = cv.enum_value(cv.BASE_LEVEL, req.base_level, "base_level") or ""
        return (
            req.name, kind, level, req.division_code, req.address, req.opening_hours
        )  # fmt: skip

    def _position(self, row: Any) -> pb.Position:
        return cv.position(row, self.app.positions.division_names([row]))

    def CreatePosition(  # noqa: N802
        self, req: pb.CreatePositionRequest, ctx: grpc.ServicerContext
    ) -> pb.CreatePositionResponse:
        row = self.app.positions.create(me(), *self._position_fields(req))
        return pb.CreatePositionResponse(position=self._position(row))

    def UpdatePosition(  # noqa: N802
        self, req: pb.UpdatePositionRequest, ctx: grpc.ServicerContext
    ) -> pb.UpdatePositionResponse:
        row = self.app.positions.update(me(), req.id, *self._position_fields(req))
        return pb.UpdatePositionResponse(position=self._position(row))

    def GetPosition(  # noqa: N802
        self, req: pb.GetPositionRequest, ctx: grpc.ServicerContext
    ) -> pb.GetPositionResponse:
        row = self.app.positions.get(me(), req.id)
        return pb.GetPositionResponse(position=self._position(row))

    def ListPositions(  # noqa: N802
        self, req: pb.ListPositionsRequest, ctx: grpc.ServicerContext
    ) -> pb.ListPositionsResponse:
        page = self.q.positions(
            me(),
            req.division_code,
            cv.enum_value(cv.POSITION_KIND, req.kind, "kind"),
            req.page.page_size,
            req.page.page_token,
        )
        names = page.extra["names"]
        return pb.ListPositionsResponse(
            positions=[cv.position(r, names) for r in page.items], page=cv.page(page)
        )


def client_address(ctx: grpc.ServicerContext) -> str:
    """The end client's address: as the gateway forwards it in metadata
    (``zhiyuan-client-address``), else the gRPC peer's host."""
    forwarded = dict(ctx.invocation_metadata() or ()).get(CLIENT_ADDRESS_KEY, "")
    if forwarded:
        return str(forwarded)[:100]
    peer = ctx.peer() or ""  # "ipv4:127.0.0.1:5555", "ipv6:[::1]:5555"
    host = peer.split(":", 1)[-1].rsplit(":", 1)[0]
    return host.strip("[]")


def build(cfg: Config) -> tuple[RegistrationServicer, Database]:
    db = Database(cfg.service("registration"))
    cipher = keys.pii_cipher(cfg)
    app = RegistrationApp(db, cipher, keys.issuer(cfg))
    app.accounts.login_policy = LoginPolicy.from_config(cfg)
    app.self_service.policy = register_policy(cfg)
    return RegistrationServicer(app, RegistrationQueries(db, cipher)), db


def serve(cfg: Config, stop: threading.Event | None = None) -> None:
    """Run the api role until SIGTERM/SIGINT (or ``stop`` is set)."""
    servicer, db = build(cfg)
    rpc.serve_api(
        cfg,
        "registration",
        servicer,
        pb_grpc.add_RegistrationServiceServicer_to_server,
        public_methods=PUBLIC_METHODS,
        on_stop=[db.dispose],
        stop=stop,
    )


__all__ = ["Level", "RegistrationServicer", "build", "serve"]
