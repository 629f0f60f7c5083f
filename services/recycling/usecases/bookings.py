"""Use cases for residents' pickup bookings: requested → assigned →
collected, or cancelled. The contact name, phone and address are stored
encrypted (bound to their column) and leave only masked. A double submit
with the same ``request_id`` returns the booking made the first time."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from services.common.auth import Principal
from services.common.db import KeyTaken
from services.common.errors import AlreadyExists, PermissionDenied
from services.common.pii import mask_address, mask_name, mask_phone, validate_phone
from services.common.roles import own_volunteer, require_organisation
from services.common.rollup import CST, month_of
from services.common.times import utc
from services.recycling import domain
from services.recycling import models as m
from services.recycling import validation as v
from services.recycling.quantities import check_weights, kg
from services.recycling.usecases.base import Context

NO_KG = kg(0)


class _Draft(NamedTuple):
    """A booking's checked values, before it is sealed and stored."""

    name: str
    phone: str
    address: str
    start: datetime
    end: datetime
    note: str
    estimated_kg: Decimal


class BookingCases:
    """Residents' pickup bookings, from request to collection."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def create_booking(
        self,
        p: Principal,
        request_id: str,
        division_code: str,
        contact_name: str,
        contact_phone: str,
        address: str,
        window_start: str,
        window_end: str,
        note: str,
    ) -> tuple[m.Booking, bool]:
        """(the booking, whether it is new): +1 booking in the month made.
        Any signed-in person may book inside their own jurisdiction."""
        p.require_any(*domain.BOOKERS)
        key = f"{p.subject}/{v.text(request_id, 'request_id', 64)}"
        code = v.division(p.scope, division_code)
        earlier = self._by_key(p, key)
        if earlier is not None:  # checked first: a late retry still finds it
            return earlier, False
        draft = self._draft(
            (contact_name, contact_phone, address, window_start, window_end),
            ("note", note, False),
            0.0,  # an office's booking carries no estimate
        )
        return self._add(p, request_id, key, code, draft)

    def create_my_booking(
        self,
        p: Principal,
        request_id: str,
        contact: tuple[str, str, str],
        window: tuple[str, str],
        items: str,
        estimated_kg: float,
    ) -> tuple[m.Booking, bool]:
        """A volunteer's or resident's own account books at its home division
        (the token's scope): ``contact`` is (name, phone, address), ``window``
        (start, end); the items and an estimated weight are required."""
        own_volunteer(p)
        key = f"{p.subject}/{v.text(request_id, 'request_id', 64)}"
        code = v.division(p.scope, p.scope.code)
        earlier = self._by_key(p, key)
        if earlier is not None:
            return earlier, False
        draft = self._draft((*contact, *window), ("items", items, True), estimated_kg)
        return self._add(p, request_id, key, code, draft)

    def _draft(
        self,
        fields: tuple[str, str, str, str, str],
        note: tuple[str, str, bool],
        estimated_kg: float,
    ) -> _Draft:
        """Every field checked in the form's order, before anything is written."""
        name, phone, address, window_start, window_end = fields
        checked = (
            v.text(name, "contact_name", 50),
            validate_phone(phone, "contact_phone"),
            v.text(address, "address", 200),
        )
        start = v.utc_moment(window_start, "window_start")
        end = v.utc_moment(window_end, "window_end")
        domain.check_window(start, end, self.ctx.clock())
        field, text, required = note
        said = v.text(text, field, 500, required=required)
        estimate = v.estimate(estimated_kg, "estimated_kg", required=required)
        return _Draft(*checked, start, end, said, estimate)

    def _add(
        self, p: Principal, request_id: str, key: str, code: str, d: _Draft
    ) -> tuple[m.Booking, bool]:
        now = self.ctx.clock()
        seal = self.ctx.require_cipher().encrypt
        booker = p.volunteer_id if "volunteer" in p.roles else ""
        try:
            with self.ctx.uow(p) as work:
                repo = self.ctx.repo(work)
                row = m.Booking(
                    id=str(uuid.uuid4()), division_code=code, request_key=key,
                    created_by=p.subject,
                    contact_name_enc=seal(d.name, context="booking.contact_name"),
                    contact_name_masked=mask_name(d.name),
                    phone_enc=seal(d.phone, context="booking.phone"),
                    phone_masked=mask_phone(d.phone),
                    address_enc=seal(d.address, context="booking.address"),
                    address_masked=mask_address(d.address), window_start=d.start,
                    window_end=d.end, note=d.note, status="requested",
                    organisation_id="", organisation_name="", textiles_kg=NO_KG,
                    books_kg=NO_KG, other_kg=NO_KG, collected_on=None,
                    cancel_reason="", booker_volunteer_id=booker or "",
                    estimated_kg=d.estimated_kg, changed_by=p.username,
                    created_at=now, updated_at=now,
                )  # fmt: skip
                repo.add_unique(row)
                work.bump(m.ROLLUP, code, month_of(now), bookings=1)
                return row, True
        except KeyTaken:
            # The same key submitted twice at once: the other one won.
            earlier = self._by_key(p, key)
            if earlier is None:  # made under a scope the caller no longer has
                raise AlreadyExists.entity(
                    "pickup booking", "预约", request_id.strip(), field="request_id"
                ) from None
            return earlier, False

    def _division(self, p: Principal, ident: str) -> str:
        """The division of a booking the caller sees (read before asking
        activity, outside the writing transaction)."""
        with self.ctx.uow(p) as work:
            return self.ctx.repo(work).booking(ident).division_code

    def _by_key(self, p: Principal, key: str) -> m.Booking | None:
        with self.ctx.uow(p) as work:
            return self.ctx.repo(work).booking_by_key(key)

    def assign_booking(
        self, p: Principal, ident: str, organisation_id: str, organisation_name: str
    ) -> m.Booking:
        """Hand a requested booking to a team or organisation."""
        p.require_any(*domain.MANAGERS)
        org_id = v.ident(organisation_id, "organisation_id", required=False)
        # An org_leader takes bookings for its own organisation only.
        require_organisation(p, org_id, "organisation_id")
        org_name = v.text(organisation_name, "organisation_name", 200)
        ident = v.ident(ident, "id")
        self.ctx.organisation(org_id)
        return self._move(p, ident, "assigned", organisation_id=org_id,
                          organisation_name=org_name)  # fmt: skip

    def collect_booking(
        self,
        p: Principal,
        ident: str,
        weights: tuple[float, float, float],
        collected_on: str,
        campaign_id: str = "",
    ) -> m.Booking:
        """Picked up: +1 booking collected and its kg in the month collected;
        tagged to a campaign (covering the booking's division, the day in its
        window) when ``campaign_id`` names one."""
        p.require_any(*domain.MANAGERS)
        ident = v.ident(ident, "id")
        got = check_weights(v.weights(*weights, field="weights"))
        day = v.day(collected_on, "collected_on", self.ctx.today())
        campaign = v.ident(campaign_id, "campaign_id", required=False)
        if campaign:
            code = self._division(p, ident)
            self.ctx.require_activity().check_campaign(campaign, code, day)
        with self.ctx.uow(p) as work:
            row = self.ctx.repo(work).booking(ident, lock=True)
            require_organisation(p, row.organisation_id, "organisation_id")
            domain.check_booking_transition(row.status, "collected")
            made = utc(row.created_at).astimezone(CST).date()
            v.not_before(day, made, "collected_on", "the booking")
            row.textiles_kg, row.books_kg, row.other_kg = (
                got.textiles,
                got.books,
                got.other,
            )
            row.collected_on = day
            row.campaign_id = campaign
            self._set(row, p, "collected")
            month = domain.month_of_day(day)
            metrics = got.metrics()
            work.bump(
                m.ROLLUP, row.division_code, month, bookings_collected=1, **metrics
            )
            work.record(
                "recycling.booking.collected",
                row.division_code,
                {
                    "booking_id": row.id,
                    "division_code": row.division_code,
                    "organisation_id": row.organisation_id,
                    "organisation_name": row.organisation_name,
                    "collected_on": day.isoformat(),
                    "textiles_kg": metrics["kg_textiles"],
                    "books_kg": metrics["kg_books"],
                    "other_kg": metrics["kg_other"],
                    "total_kg": metrics["kg_total"],
                    "campaign_id": campaign,
                },
            )
            return row

    def cancel_booking(self, p: Principal, ident: str, reason: str) -> m.Booking:
        """Cancel a requested or assigned booking: an office, or the resident
        who made it."""
        p.require_any(*domain.BOOKERS)
        reason = v.text(reason, "reason", 500)
        return self._move(p, ident, "cancelled", own=True, cancel_reason=reason)

    def _move(
        self, p: Principal, ident: str, target: str, own: bool = False, **fields: Any
    ) -> m.Booking:
        ident = v.ident(ident, "id")
        with self.ctx.uow(p) as work:
            row = self.ctx.repo(work).booking(ident, lock=True)
            if not p.has_any(*domain.MANAGERS) and not (
                own and row.created_by == p.subject
            ):
                raise PermissionDenied(
                    "only an office or the resident who booked may do this",
                    "只有管理人员或预约人本人可以操作",
                    rule="booking.owner",
                )
            domain.check_booking_transition(row.status, target)
            for name, value in fields.items():
                setattr(row, name, value)
            self._set(row, p, target)
            return row

    def _set(self, row: m.Booking, p: Principal, status: str) -> None:
        now = self.ctx.clock()
        row.status, row.changed_by, row.updated_at = status, p.username, now
