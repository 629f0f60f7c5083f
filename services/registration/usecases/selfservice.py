"""Use cases a volunteer runs for themselves (issue 13): registering online
with an account of their own, reading their own record, and the public
division picker of the registration form.

Self-registration is public, so it is rate-limited per client address with
the failed-login counter's table (its own key prefix and policy), and it
writes under the scope of the home division the applicant picked: the
volunteer and the account in one transaction, or nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from services.common.auth import Principal, check_password, hash_password
from services.common.config import Config
from services.common.errors import (
    AlreadyExists,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
)
from services.common.roles import own_volunteer
from services.common.tenancy import Level, Scope, level_of, validate_code
from services.registration import domain
from services.registration.login_guard import LoginPolicy
from services.registration.models import Account, Division, Volunteer
from services.registration.repository import Repository, Taken
from services.registration.usecases.accounts import check_password_rule, phone_index
from services.registration.usecases.base import Context
from services.registration.usecases.people import Guardian, PeopleCases

HOME_LEVELS = (Level.TOWNSHIP, Level.VILLAGE)


def register_policy(cfg: Config | None = None) -> LoginPolicy:
    """The self-registration limit per client address: ``login.register_*``
    of the config file (every attempt counts, accepted or not: a duplicate
    answer tells whether an ID number is registered, so guesses are slowed)."""
    get = cfg.get if cfg is not None else (lambda _key: None)
    return LoginPolicy(
        client_max_failures=int(get("login.register_max_per_client") or 20),
        window_seconds=float(get("login.register_window_seconds") or 3600),
        lockout_seconds=float(get("login.register_lockout_seconds") or 600),
        max_lockout_seconds=float(get("login.register_max_lockout_seconds") or 3600),
    )


@dataclass(frozen=True)
class SelfRegistration:
    name: str
    id_number: str
    phone: str
    home_division_code: str
    service_fields: list[str]
    skills: list[str]
    password: str
    guardian: Guardian | None = None
    request_id: str = ""


def already_registered() -> AlreadyExists:
    """The one answer to a registered ID number: never where, nor by whom."""
    return AlreadyExists(
        "already registered; sign in or ask your office",
        "该身份证号已注册，请直接登录或联系所在地志愿服务组织",
        field="id_number",
        rule="id_number.unique",
    )


class SelfServiceCases:
    """A volunteer's own registration and record."""

    # The per-address limit; the api role sets it from the config file.
    policy: LoginPolicy = register_policy()

    def __init__(self, ctx: Context, people: PeopleCases):
        self.ctx, self.people = ctx, people

    def self_register(
        self, r: SelfRegistration, client: str = ""
    ) -> tuple[Volunteer, Account]:
        """Register the applicant as a pending volunteer of their home
        division, with an account (username: the volunteer number, role
        ``volunteer``, scope: the home division, bound to the volunteer) that
        signs in by number or phone."""
        self._count(client)
        home = self._home_code(r.home_division_code)
        a = self.people.applicant(
            r.name, r.id_number, r.phone, r.service_fields, r.guardian
        )
        skills = domain.check_skills(r.skills)
        check_password_rule(r.password)
        request_id = domain.check_name(r.request_id, "request_id", 64, required=False)
        # A key never meets another person's: it is bound to the ID number.
        id_hash = self.people.id_hash(a.rid.number)
        key = f"self/{id_hash}/{request_id}" if request_id else None
        scope = Scope(home)
        earlier = self._replay(scope, key, r.password)
        if earlier is not None:
            return earlier
        password_hash = hash_password(r.password)
        try:
            with self.ctx.uow(scope) as work:
                repo = self.ctx.repo(work)
                _home_division(repo, home)
                vol = self.people.enroll(work, repo, a, home, key, "self", skills)
                acc = Account(
                    id=str(uuid.uuid4()),
                    username=vol.volunteer_number,
                    password_hash=password_hash,
                    display_name=vol.name_masked,
                    scope_code=home,
                    roles=["volunteer"],
                    active=True,
                    created_by="self",
                    created_at=vol.registered_at,
                    organisation_id=None,
                    volunteer_id=vol.id,
                    phone_hash=phone_index(self.ctx.cipher, a.phone),
                )
                repo.insert(acc, keys=("phone_hash",))
                return vol, acc
        except Taken as exc:
            if exc.key == "phone_hash":
                raise AlreadyExists(
                    "this phone number already signs in to a volunteer account; "
                    "use another number or sign in",
                    "该手机号已用于登录其他志愿者账号，请更换手机号或直接登录",
                    field="phone",
                    rule="phone.unique",
                ) from exc
            # The same client raced itself: answer with the winner.
            earlier = self._replay(scope, key, r.password)
            if earlier is not None:
                return earlier
            raise already_registered() from exc

    def _count(self, client: str) -> None:
        """Count the attempt against the client address; refuse (429 with
        Retry-After) while it is over the limit."""
        guard = self.ctx.login_guard(self.policy)
        keys = [f"register:{client or 'unknown'}"[:200]]
        try:
            guard.check(keys)
        except ResourceExhausted as exc:
            wait = exc.retry_after
            err = ResourceExhausted(
                f"too many registrations from this address; try again in {wait} s",
                f"该网络地址注册次数过多，请 {wait} 秒后再试",
                rule="register.rate_limited",
            )
            err.retry_after = wait
            raise err from None
        guard.failed(keys)

    def _home_code(self, code: str) -> str:
        code = validate_code(code, "home_division_code")
        if level_of(code) not in HOME_LEVELS:
            raise InvalidArgument(
                "home_division_code",
                "home_division_code.level",
                "pick the township (street) or village (community) you live in",
                "请选择所在的乡镇（街道）或村（社区）",
            )
        return code

    def _replay(
        self, scope: Scope, key: str | None, password: str
    ) -> tuple[Volunteer, Account] | None:
        """The first result of a repeated request: only to the holder of the
        same ID number (the key) and password."""
        if not key:
            return None
        with self.ctx.uow(scope) as work:
            repo = self.ctx.repo(work)
            vol = repo.volunteer_by_request(key)
            acc = repo.account_of_volunteer(vol.id) if vol else None
        if vol and acc and check_password(acc.password_hash, password):
            return vol, acc
        return None

    def me(self, p: Principal) -> tuple[Volunteer, list[str], Account]:
        """The caller's own volunteer (with team ids) and account."""
        vid = own_volunteer(p, "volunteer_id")
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            vol = repo.volunteer(vid, field="volunteer_id")
            acc = repo.account(p.subject, "account_id")
            return vol, repo.team_ids([vid]).get(vid, []), acc

    def public_divisions(self, parent: str) -> list[Division]:
        """The active children of ``parent`` ('': the provinces)."""
        parent = (parent or "").strip()
        if parent:
            parent = validate_code(parent, "parent_code")
        with self.ctx.uow(None) as work:
            repo = self.ctx.repo(work)
            if parent:
                repo.division(parent, "parent_code")
            return repo.public_children(parent)


def _home_division(repo: Repository, code: str) -> None:
    """An unknown home division is a bad form value, not a missing entity."""
    try:
        repo.division(code, "home_division_code")
    except NotFound as exc:
        raise InvalidArgument(
            "home_division_code",
            "home_division_code.exists",
            f"there is no division {code}; pick one from the list",
            f"不存在行政区划“{code}”，请从列表中选择",
        ) from exc
