"""Use cases for pairing (结对帮扶): service recipients, volunteer ↔ recipient
pairs ("one helps one" or "many help one") and visit logs.

A recipient's name, phone and address are personal information (PIPL):
recorded only with the household's consent, stored encrypted, shown masked.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from services.activity import domain, validation
from services.activity import models as m
from services.activity.campaigns import local_day
from services.activity.usecases.base import Context, bump
from services.activity.usecases.campaigns import tagged
from services.activity.usecases.signups import required
from services.common.auth import Principal
from services.common.db import KeyTaken
from services.common.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from services.common.pii import mask_name, mask_phone, validate_phone
from services.common.roles import require_organisation
from services.common.tenancy import validate_code

MODES = ("one_to_one", "many_to_one")
# A visit may be logged a little ahead of the server's clock, never later.
CLOCK_SKEW = timedelta(minutes=5)


class PairingCases:
    """Recipients, their pairs with volunteers and the visits logged."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def create_recipient(
        self,
        p: Principal,
        division_code: str,
        name: str,
        phone: str,
        address: str,
        mode: str,
        needs: str,
        consent: bool,
    ) -> m.Recipient:
        """Record a household in the caller's scope; refused without consent."""
        p.require_any(*domain.MANAGERS)
        code = p.scope.require(validate_code(required(division_code, "division_code")))
        name = validation.text(name, "name", 50)
        phone = validate_phone(phone, "phone") if (phone or "").strip() else ""
        address = validation.text(address, "address", 200)
        if not mode:
            raise InvalidArgument.required("pairing_mode")
        if mode not in MODES:
            raise InvalidArgument(
                "pairing_mode",
                "pairing_mode.known",
                "unknown pairing mode",
                "未知的结对方式",
            )
        needs = validation.text(needs, "needs", 500, required=False)
        if not consent:
            raise InvalidArgument(
                "consent",
                "consent.required",
                "the household must consent to being recorded",
                "须取得帮扶对象本人同意后方可登记",
            )
        now = self.ctx.clock()
        with self.ctx.uow(p.scope) as work:
            repo = self.ctx.repo(work)
            row = m.Recipient(
                id=str(uuid.uuid4()),
                division_code=code,
                name_enc=self.ctx.cipher.encrypt(name, context="recipient.name"),
                name_masked=mask_name(name),
                phone_enc=self.ctx.cipher.encrypt(phone, context="recipient.phone")
                if phone
                else None,
                phone_masked=mask_phone(phone) if phone else "",
                address_enc=self.ctx.cipher.encrypt(
                    address, context="recipient.address"
                ),
                address_masked=validation.mask_address(address),
                pairing_mode=mode,
                needs=needs,
                consent_at=now,
                consent_recorded_by=p.username,
                created_at=now,
            )
            repo.add(row)
            repo.flush()
            bump(work, code, now, recipients=1)
            return row

    def create_pair(
        self, p: Principal, recipient_id: str, volunteer_id: str, organisation_id: str
    ) -> m.Pair:
        """Pair a verified volunteer with a recipient, for an organisation
        whose division covers the recipient."""
        p.require_any(*domain.MANAGERS)
        rid = required(recipient_id, "recipient_id")
        vid = required(volunteer_id, "volunteer_id")
        oid = required(organisation_id, "organisation_id")
        # An org_leader pairs for its own organisation only.
        require_organisation(p, oid, "organisation_id")
        try:
            with self.ctx.uow(p.scope) as work:
                repo = self.ctx.repo(work)
                recipient = repo.recipient(rid)  # locked: one-to-one is checked once
                volunteer = repo.volunteer(vid)
                org = repo.organisation(oid, "organisation_id")
                if volunteer.status != "verified":
                    raise FailedPrecondition(
                        "only verified volunteers can be paired",
                        "只有已审核通过的志愿者才能结对",
                        field="volunteer_id",
                        rule="eligibility.verified",
                    )
                if not recipient.division_code.startswith(org.division_code):
                    raise InvalidArgument(
                        "organisation_id",
                        "organisation_id.covers_recipient",
                        "the organisation's division must contain the recipient's",
                        "帮扶对象须在该组织所在区划内",
                    )
                taken = repo.pair_count(rid)
                if recipient.pairing_mode == "one_to_one" and taken:
                    raise FailedPrecondition(
                        "this recipient is paired one-to-one and has a volunteer",
                        "该帮扶对象为一帮一结对，已有结对志愿者",
                        field="volunteer_id",
                        rule="pairing.one_to_one",
                    )
                now = self.ctx.clock()
                pair = m.Pair(
                    id=str(uuid.uuid4()),
                    recipient_id=rid,
                    volunteer_id=vid,
                    volunteer_number=volunteer.volunteer_number,
                    organisation_id=org.id,
                    organisation_name=org.name,
                    division_code=recipient.division_code,
                    created_by=p.username,
                    created_at=now,
                )
                repo.add_unique(pair)
                bump(work, recipient.division_code, now, pairs=1)
                return pair
        except KeyTaken as exc:
            raise AlreadyExists(
                "the volunteer is already paired with this recipient",
                "该志愿者已与此帮扶对象结对",
                field="volunteer_id",
                rule="pair.unique",
            ) from exc

    def log_visit(
        self,
        p: Principal,
        pair_id: str,
        started_at: str,
        ended_at: str,
        note: str,
        campaign_id: str = "",
    ) -> m.Visit:
        """Record a visit of a pair, tagged to a campaign when ``campaign_id``
        names one (see :func:`tagged`); announces ``activity.visit.logged``."""
        p.require_any(*domain.MANAGERS)
        pid = required(pair_id, "pair_id")
        start = validation.utc_moment(started_at, "started_at")
        end = validation.utc_moment(ended_at, "ended_at")
        validation.check_order(start, end, "ended_at", validation.MAX_VISIT)
        now = self.ctx.clock()
        if end > now + CLOCK_SKEW:
            raise InvalidArgument(
                "ended_at",
                "ended_at.not_future",
                "must not lie in the future",
                "不能晚于当前时间",
            )
        note = validation.text(note, "note", 1000, required=False)
        with self.ctx.uow(p.scope) as work:
            repo = self.ctx.repo(work)
            pair = repo.pair(pid)
            require_organisation(p, pair.organisation_id, "organisation_id")
            campaign = tagged(repo, campaign_id, pair.division_code, [local_day(start)])
            visit = m.Visit(
                id=str(uuid.uuid4()),
                pair_id=pair.id,
                recipient_id=pair.recipient_id,
                volunteer_id=pair.volunteer_id,
                volunteer_number=pair.volunteer_number,
                division_code=pair.division_code,
                started_at=start,
                ended_at=end,
                note=note,
                logged_by=p.username,
                created_at=now,
                campaign_id=campaign,
            )
            repo.add(visit)
            repo.flush()
            bump(work, pair.division_code, start, visits=1)
            work.record(
                "activity.visit.logged",
                pair.division_code,
                {
                    "visit_id": visit.id,
                    "pair_id": pair.id,
                    "volunteer_id": pair.volunteer_id,
                    "volunteer_number": pair.volunteer_number,
                    "organisation_id": pair.organisation_id,
                    "organisation_name": pair.organisation_name,
                    "division_code": pair.division_code,
                    "service_field": "poverty_relief",
                    "started_at": start.isoformat(),
                    "ended_at": end.isoformat(),
                    "note": note,
                    "campaign_id": campaign or "",
                },
            )
            return visit
