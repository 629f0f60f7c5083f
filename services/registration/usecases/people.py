"""Use cases for organisations, teams and volunteers."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date

from services.common.auth import Principal
from services.common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
)
from services.common.pii import (
    mask_id_number,
    mask_name,
    mask_phone,
    validate_phone,
)
from services.common.roles import require_organisation
from services.common.rollup import CST
from services.common.unit_of_work import Work
from services.registration import domain
from services.registration.idcard import ResidentId, parse_id_number
from services.registration.models import (
    Organisation,
    PiiAccess,
    TeamMembership,
    Volunteer,
)
from services.registration.repository import Repository, Taken
from services.registration.usecases.base import Context, bump


@dataclass
class Guardian:
    name: str
    phone: str
    relation: str
    consent: bool


@dataclass(frozen=True)
class Applicant:
    """A person's checked registration details; ``guardian`` is the
    encrypted consent record, if one was given."""

    name: str
    rid: ResidentId
    phone: str
    fields: list[str]
    guardian: bytes | None


class PeopleCases:
    """Organisations, teams, volunteers and their memberships."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def create_organisation(
        self,
        p: Principal,
        name: str,
        kind: str,
        code: str,
        parent_id: str,
        fields: list[str],
        contact: str,
        phone: str,
    ) -> Organisation:
        p.require_any(*domain.ADMINS)
        name = domain.check_text(name, "name", 200)
        if kind not in ("organisation", "team"):
            raise InvalidArgument(
                "kind",
                "kind.known",
                "kind must be ORGANISATION or TEAM",
                "类型须为组织或服务队",
            )
        code = p.scope.require(code, "division_code")
        fields = domain.check_service_fields(fields)
        contact = domain.check_text(contact, "contact_name", 100, required=False)
        phone = validate_phone(phone, "contact_phone") if phone else ""
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            if repo.division(code, "division_code").status != "active":
                raise FailedPrecondition(
                    "the division is retired", "该行政区划已撤销", field="division_code"
                )
            if parent_id:
                parent = repo.organisation(parent_id, "parent_id")
                if not code.startswith(parent.division_code):
                    raise InvalidArgument(
                        "division_code",
                        "division_code.within_parent",
                        "a sub-team must sit at its parent's division or below",
                        "下级队伍须位于上级组织所在区划或其下级",
                    )
            org = Organisation(
                id=str(uuid.uuid4()),
                name=name,
                kind=kind,
                division_code=code,
                parent_id=parent_id or None,
                service_fields=fields,
                contact_name=contact,
                contact_phone_enc=self.ctx.cipher.encrypt(
                    phone, context="organisation.phone"
                )
                if phone
                else None,
                contact_phone_masked=mask_phone(phone) if phone else "",
                created_at=self.ctx.clock(),
            )
            repo.add(org)
            repo.flush()
            metric = "teams" if kind == "team" else "organisations"
            bump(work, code, org.created_at, **{metric: 1})
            work.record(
                "registration.organisation.created",
                code,
                {
                    "organisation_id": org.id,
                    "kind": kind,
                    "name": name,
                    "parent_id": parent_id or "",
                },
            )
            return org

    # -- volunteers -------------------------------------------------------------
    def _address_code_known(self, code: str) -> bool:
        with self.ctx.uow(None) as work:
            return self.ctx.repo(work).address_code_known(code)

    def applicant(
        self,
        name: str,
        id_number: str,
        phone: str,
        fields: list[str],
        guardian: Guardian | None,
    ) -> Applicant:
        """The checks every registration makes of the person, office or self:
        the name, the GB 11643 ID number (known address code), the phone,
        the service fields and a guardian's consent under 14."""
        name = domain.check_name(name, "name", 50)
        today = self.ctx.clock().astimezone(CST).date()
        rid = parse_id_number(
            id_number, today=today, known_address_code=self._address_code_known
        )
        phone = validate_phone(phone, "phone")
        fields = domain.check_service_fields(fields)
        blob = self._guardian(rid.requires_guardian_consent(today), guardian)
        return Applicant(name, rid, phone, fields, blob)

    def enroll(
        self,
        work: Work,
        repo: Repository,
        a: Applicant,
        home: str,
        key: str | None,
        registered_by: str,
        skills: list[str] | None = None,
    ) -> Volunteer:
        """Write a pending volunteer at ``home`` (an active division) in the
        unit of work, count it and announce it. A broken unique key raises
        :class:`Taken` (``"request_id"`` or ``""`` for the ID number)."""
        if repo.division(home, "home_division_code").status != "active":
            raise FailedPrecondition(
                "the division is retired",
                "该行政区划已撤销",
                field="home_division_code",
            )
        serial = repo.next_serial("volunteer_number")
        now = self.ctx.clock()
        cipher = self.ctx.cipher
        vol = Volunteer(
            id=str(uuid.uuid4()),
            volunteer_number=domain.volunteer_number(home[:2], serial),
            name_enc=cipher.encrypt(a.name, context="volunteer.name"),
            name_masked=mask_name(a.name),
            id_number_enc=cipher.encrypt(a.rid.number, context="volunteer.id_number"),
            id_number_masked=mask_id_number(a.rid.number),
            id_hash=self.id_hash(a.rid.number),
            phone_enc=cipher.encrypt(a.phone, context="volunteer.phone"),
            phone_masked=mask_phone(a.phone),
            sex=a.rid.sex,
            birth_date=a.rid.birth_date,
            home_division_code=home,
            service_fields=a.fields,
            skills=list(skills or []),
            status="pending",
            guardian_enc=a.guardian,
            request_id=key,
            registered_by=registered_by,
            registered_at=now,
        )
        repo.insert(vol, keys=("request_id",))
        bump(work, home, now, volunteers_registered=1)
        work.record("registration.volunteer.registered", home, _volunteer_event(vol))
        return vol

    def id_hash(self, number: str) -> str:
        """The keyed hash duplicates of an ID number are found by."""
        return self.ctx.cipher.blind_index(number, context="volunteer.id_number")

    def register_volunteer(
        self,
        p: Principal,
        name: str,
        id_number: str,
        phone: str,
        home: str,
        fields: list[str],
        guardian: Guardian | None,
        request_id: str,
    ) -> Volunteer:
        p.require_any(*domain.ADMINS, "org_leader")
        home = p.scope.require(home, "home_division_code")
        a = self.applicant(name, id_number, phone, fields, guardian)
        request_id = domain.check_text(request_id, "request_id", 64, required=False)
        # An idempotency key belongs to the client that chose it: two clients
        # (or tenants) picking the same key never meet.
        key = f"{p.subject}/{request_id}" if request_id else None
        earlier = self._earlier(p, key)
        if earlier is not None:
            return earlier
        try:
            with self.ctx.uow(p) as work:
                return self.enroll(work, self.ctx.repo(work), a, home, key, p.username)
        except Taken as exc:
            if key and exc.key == "request_id":
                # The same client raced itself: answer with the winner.
                earlier = self._earlier(p, key)
                if earlier is not None:
                    return earlier
                raise AlreadyExists(
                    "this request_id was already used",
                    "该请求编号已被使用",
                    field="request_id",
                    rule="request_id.unique",
                ) from exc
            raise AlreadyExists(
                "a volunteer with this ID number is already registered on the platform",
                "该身份证号已在平台注册",
                field="id_number",
                rule="id_number.unique",
            ) from exc

    def _earlier(self, p: Principal, key: str | None) -> Volunteer | None:
        if not key:
            return None
        with self.ctx.uow(p) as work:
            return self.ctx.repo(work).volunteer_by_request(key)

    def _guardian(self, required: bool, g: Guardian | None) -> bytes | None:
        if g is None or not (g.name or g.phone or g.consent):
            if required:
                raise InvalidArgument(
                    "guardian",
                    "guardian.required_under_14",
                    "volunteers under 14 need a guardian's consent",
                    "未满14周岁的志愿者须经监护人同意",
                )
            return None
        name = domain.check_name(g.name, "guardian.name", 50)
        phone = validate_phone(g.phone, "guardian.phone")
        relation = domain.check_name(g.relation, "guardian.relation", 30)
        if not g.consent:
            raise InvalidArgument(
                "guardian.consent",
                "guardian.consent",
                "the guardian must consent",
                "须取得监护人同意",
            )
        blob = json.dumps(
            {
                "name": name,
                "phone": phone,
                "relation": relation,
                "consent_at": self.ctx.clock().isoformat(),
            },
            ensure_ascii=False,
        )
        return self.ctx.cipher.encrypt(blob, context="volunteer.guardian")

    def volunteer_identity(
        self, p: Principal, ident: str, purpose: str
    ) -> tuple[Volunteer, str]:
        """The volunteer with the real name decrypted; the reveal is logged
        in the same transaction (no log, no name). A volunteer's own account
        may ask for itself only (its own certificate carries the name)."""
        if not ("volunteer" in p.roles and p.volunteer_id == ident != ""):
            p.require_any(*domain.ADMINS, "org_leader")
        purpose = domain.check_text(purpose, "purpose", 200)
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            vol = repo.volunteer(ident)
            repo.add(
                PiiAccess(
                    actor=p.username,
                    actor_scope=p.scope.code,
                    volunteer_id=vol.id,
                    division_code=vol.home_division_code,
                    fields="name",
                    purpose=purpose,
                    accessed_at=self.ctx.clock(),
                )
            )
            return vol, self.ctx.cipher.decrypt(vol.name_enc, context="volunteer.name")

    def get_volunteer(self, p: Principal, ident: str) -> tuple[Volunteer, list[str]]:
        p.require_any(*domain.READERS)
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            vol = repo.volunteer(ident)
            return vol, repo.team_ids([vol.id]).get(vol.id, [])

    def review_volunteer(
        self, p: Principal, ident: str, verify: bool, reason: str
    ) -> Volunteer:
        p.require_any(*domain.ADMINS)
        if not verify:
            reason = domain.check_text(reason, "reason", 500)
        with self.ctx.uow(p) as work:
            vol = self.ctx.repo(work).volunteer(ident, for_update=True)
            target = "verified" if verify else "rejected"
            if vol.status != "pending":
                raise FailedPrecondition.transition(
                    "volunteer", "志愿者", vol.status, target
                )
            vol.status, vol.reviewed_by, vol.reviewed_at = (
                target,
                p.username,
                self.ctx.clock(),
            )
            vol.rejection_reason = "" if verify else reason
            bump(
                work,
                vol.home_division_code,
                vol.reviewed_at,
                **{f"volunteers_{target}": 1},
            )
            work.record(
                f"registration.volunteer.{target}",
                vol.home_division_code,
                _volunteer_event(vol),
            )
            return vol

    def add_membership(
        self, p: Principal, vid: str, oid: str, role: str
    ) -> tuple[Volunteer, list[str]]:
        p.require_any(*domain.ADMINS, "org_leader")
        # An org_leader adds members to its own organisation (or team) only;
        # decided before any look-up, so it reveals nothing of other teams.
        require_organisation(p, (oid or "").strip(), "organisation_id")
        if role not in ("member", "leader"):
            raise InvalidArgument(
                "role",
                "role.known",
                "role must be member or leader",
                "角色须为 member 或 leader",
            )
        try:
            with self.ctx.uow(p) as work:
                repo = self.ctx.repo(work)
                vol = repo.volunteer(vid, field="volunteer_id")
                org = repo.organisation(oid, "organisation_id")
                if vol.status != "verified":
                    raise FailedPrecondition(
                        "only verified volunteers can join a team",
                        "只有已审核的志愿者才能加入队伍",
                        field="volunteer_id",
                    )
                repo.insert(
                    TeamMembership(
                        volunteer_id=vid,
                        organisation_id=oid,
                        role=role,
                        division_code=org.division_code,
                        created_at=self.ctx.clock(),
                    )
                )
                return vol, repo.team_ids([vid]).get(vid, [])
        except Taken as exc:
            raise AlreadyExists(
                "the volunteer is already in this team",
                "该志愿者已在此队伍中",
                field="organisation_id",
            ) from exc


def _volunteer_event(vol: Volunteer) -> dict:
    # Events carry what consumers need and no personal data beyond masked forms.
    return {
        "volunteer_id": vol.id,
        "volunteer_number": vol.volunteer_number,
        "home_division_code": vol.home_division_code,
        "status": vol.status,
        "birth_date": vol.birth_date.isoformat()
        if isinstance(vol.birth_date, date)
        else "",
        "service_fields": list(vol.service_fields),
    }
