"""Complaints (投诉) about a volunteer (the 2012 Measures keep them with the
reply and the outcome): an office, or an organisation's leader for its own
organisation, files one about a volunteer who served inside its subtree
(optionally naming the record); the volunteer replies from its own account
(the row lies under the office's division, outside the volunteer's scope:
migration 0006's function writes only the volunteer's own); the office
decides, upheld or dismissed, with a note. Events as objections have them:
hours.complaint.filed, .replied and .decided."""

from __future__ import annotations

import uuid
from typing import Any

from services.common.auth import Principal
from services.common.errors import FailedPrecondition, InvalidArgument
from services.common.roles import ADMINS, own_volunteer, require_organisation
from services.hours import domain
from services.hours import validation as v
from services.hours.models import Complaint, HourRecord
from services.hours.repository import Repository, missing
from services.hours.usecases.base import Context

OUTCOMES = ("upheld", "dismissed")
OPEN = ("open", "replied")


class ComplaintCases:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def file(
        self, p: Principal, code: str, volunteer_id: str, record_id: str, text: str
    ) -> Complaint:
        """A complaint kept at ``code`` (the caller's scope when empty)
        about ``volunteer_id``, who must have a record inside it (of the
        leader's organisation, for an organisation leader); ``record_id``
        optionally names that record. An unknown volunteer, and one who
        served nowhere here, are NOT_FOUND alike."""
        p.require_any(*domain.WRITERS)
        node = p.scope.require(code or p.scope.code, "division_code")
        volunteer_id = v.ident(volunteer_id, "volunteer_id")
        record_id = v.ident(record_id, "record_id", required=False)
        text = v.prose(text, "text", 1000)
        org = "" if p.has_any(*ADMINS) else p.organisation_id
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            served = (
                _record(repo, node, volunteer_id, record_id)
                if record_id
                else repo.served_in(volunteer_id, node, org)
            )
            if served is None:
                raise missing("volunteer_id", "volunteer", "志愿者", volunteer_id)
            require_organisation(p, served.organisation_id, "volunteer_id")
            found = Complaint(
                id=str(uuid.uuid4()), division_code=node,
                volunteer_id=volunteer_id, volunteer_number=served.volunteer_number,
                record_id=record_id, organisation_id=org, text=text,
                status="open", filed_by=p.username, filed_at=self.ctx.clock(),
                reply="", replied_at=None, decision_note="", decided_by=None,
                decided_at=None,
            )  # fmt: skip
            repo.add(found)
            repo.flush()
            work.record("hours.complaint.filed", node, _event(found))
            return found

    def reply(self, p: Principal, ident: str, reply: str) -> Complaint:
        """The caller's reply to an open complaint about it; another's
        complaint is NOT_FOUND exactly like an unknown one."""
        volunteer_id = own_volunteer(p)
        ident = v.ident(ident, "id")
        reply = v.prose(reply, "reply", 1000)
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            mine = {c.id: c for c in repo.own_complaints(volunteer_id)}
            if ident not in mine:
                raise missing("id", "complaint", "投诉", ident)
            if mine[ident].status != "open":
                raise FailedPrecondition.transition(
                    "complaint", "投诉", mine[ident].status, "replied"
                )
            found = repo.reply_to_complaint(
                ident, volunteer_id, reply, self.ctx.clock()
            )
            if found is None:  # decided or answered since it was read
                raise FailedPrecondition.transition(
                    "complaint", "投诉", "decided", "replied"
                )
            work.record("hours.complaint.replied", found.division_code, _event(found))
            return found

    def decide(self, p: Principal, ident: str, outcome: str, note: str) -> Complaint:
        """Close an open or answered complaint in the caller's scope:
        ``upheld`` or ``dismissed``, with a note. An organisation's
        complaint is decided by its leader or an office; an office's, by an
        office only."""
        p.require_any(*domain.WRITERS)
        ident = v.ident(ident, "id")
        outcome = (outcome or "").strip().lower()
        if outcome not in OUTCOMES:
            raise InvalidArgument(
                "outcome",
                "outcome.choice",
                "outcome is upheld or dismissed",
                "处理结果须为 upheld（投诉成立）或 dismissed（投诉不成立）",
            )
        note = v.prose(note, "note", 500)
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            found = repo.complaint(ident, lock=True)
            require_organisation(p, found.organisation_id, "id")
            if found.status not in OPEN:
                raise FailedPrecondition.transition(
                    "complaint", "投诉", found.status, outcome
                )
            found.status, found.decision_note = outcome, note
            found.decided_by, found.decided_at = p.username, self.ctx.clock()
            work.record("hours.complaint.decided", found.division_code, _event(found))
            return found


def _record(
    repo: Repository, node: str, volunteer_id: str, record_id: str
) -> HourRecord:
    """The volunteer's record ``record_id`` inside ``node``."""
    record = repo.record(record_id, "record_id")
    if not record.division_code.startswith(node):
        raise missing("record_id", "hour record", "时长记录", record_id)
    if record.volunteer_id != volunteer_id:
        raise InvalidArgument(
            "record_id",
            "record_id.volunteer",
            "the record is another volunteer's",
            "该时长记录不属于所投诉的志愿者",
        )
    return record


def _event(c: Complaint) -> dict[str, Any]:
    # The texts stay in hours: an event names what happened, not what was said.
    return {
        "complaint_id": c.id,
        "volunteer_id": c.volunteer_id,
        "volunteer_number": c.volunteer_number,
        "division_code": c.division_code,
        "record_id": c.record_id,
        "organisation_id": c.organisation_id,
        "status": c.status,
    }
