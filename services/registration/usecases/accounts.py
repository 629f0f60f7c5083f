"""Use cases for login and accounts."""

from __future__ import annotations

import json
import re
import secrets
import time
import unicodedata
import uuid
from functools import cache
from typing import Any

from services.common.auth import Principal, check_password, hash_password
from services.common.errors import (
    AlreadyExists,
    InvalidArgument,
    NotFound,
    Unauthenticated,
)
from services.common.pii import PiiCipher
from services.common.roles import own_volunteer
from services.common.tenancy import Scope, is_within
from services.registration import domain
from services.registration.login_guard import LoginPolicy
from services.registration.models import (
    Account,
    Organisation,
)
from services.registration.repository import Repository, Taken
from services.registration.usecases.base import Context

# ASCII only: look-alike letters from other scripts make spoofable names.
USERNAME = re.compile(r"[A-Za-z0-9._-]+")
# What a volunteer may type to sign in besides a username: a mainland mobile
# number (blanks, hyphens, +86 allowed) or a volunteer number in any case.
PHONE_LOGIN = re.compile(r"(?:\+?86)?1[3-9]\d{9}")
NUMBER_LOGIN = re.compile(r"ZY\d{12}", re.IGNORECASE)
PASSWORD_MIN = 10


def check_password_rule(password: str) -> str:
    """A new account's password: at least ``PASSWORD_MIN`` characters."""
    if len(password) < PASSWORD_MIN:
        raise InvalidArgument(
            "password",
            "password.min_length",
            f"must be at least {PASSWORD_MIN} characters",
            f"密码至少{PASSWORD_MIN}个字符",
        )
    return password


def check_new_login(username: str, password: str, display: str) -> tuple[str, str]:
    """A new account's username (letters, digits, '.', '-', '_'), password
    and display name (the username when blank): (username, display)."""
    username = domain.check_text(username, "username", 64)
    if not USERNAME.fullmatch(username):
        raise InvalidArgument(
            "username",
            "username.charset",
            "use letters, digits, '.', '-' and '_'",
            "只能使用字母、数字、“.”、“-”和“_”",
        )
    check_password_rule(password)
    return username, domain.check_text(display or username, "display_name", 100)


def phone_index(cipher: PiiCipher, phone: str) -> str:
    """The keyed hash an account's sign-in phone is found by."""
    return cipher.blind_index(phone, context="account.phone")


def sign_in_name(username: str) -> tuple[str, str]:
    """What a login names: ("phone", 11 digits), ("username", a volunteer
    number in upper case) or ("username", the name as typed, trimmed).
    Full-width digits and letters count as their ASCII forms."""
    plain = unicodedata.normalize("NFKC", username).strip()
    compact = re.sub(r"[\s-]", "", plain)
    if PHONE_LOGIN.fullmatch(compact):
        return "phone", compact[-11:]
    if NUMBER_LOGIN.fullmatch(plain):
        return "username", plain.upper()
    return "username", username.strip()


class AccountCases:
    """Login and delegated administration of accounts."""

    # Failed-login limits; the api role sets them from the config file.
    login_policy: LoginPolicy = LoginPolicy()

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def login(
        self, username: str, password: str, client: str = ""
    ) -> tuple[str, int, Account]:
        """Check a password and issue a token. ``client`` is the caller's
        address (the gateway's client, or the gRPC peer) for failure counting.

        Too many failures for the username or from the client: 429-style
        ResourceExhausted, right password or not. An unknown username costs
        the same password-hashing work as a known one, so the time an answer
        takes does not tell which accounts exist.
        """
        if not username.strip():
            raise InvalidArgument.required("username")
        if not password:
            raise InvalidArgument.required("password")
        guard = self.ctx.login_guard(self.login_policy)
        row = self._lookup(username)
        # A phone and a volunteer number of one account count as that
        # account; an unknown name counts as itself.
        keys = guard.keys(row["username"] if row else username, client)
        recorded = guard.check(keys)
        # Always one KDF verification, against a dummy hash when the account
        # is unknown; the same answer for unknown user and wrong password.
        matches = check_password(
            row["password_hash"] if row else _dummy_hash(), password
        )
        if not (row and row["active"] and matches):
            guard.failed(keys)
            raise Unauthenticated("wrong username or password", "用户名或密码错误")
        if keys[0] in recorded:  # most logins have no failures to forget
            guard.succeeded(keys)
        return self._issue(row, row.get("username") or username.strip())

    def refresh(self, p: Principal) -> tuple[str, int, Account]:
        """A new token for the caller's own account (a volunteer's token),
        with the account's scope as it is now: after a transfer is accepted
        the account's scope is the new home while the old token still
        carries the old one.

        Only for the same account still bound to the same volunteer: an
        account deactivated, renamed or moved to another volunteer (merged
        away) is UNAUTHENTICATED (sign in again), as is a volunteer merged
        into another record; a token that is not a volunteer's own is
        PERMISSION_DENIED. The signature was checked by the interceptor.

        Example::

            token, expires_at, account = app.accounts.refresh(principal)
        """
        vid = own_volunteer(p, "volunteer_id")
        with self.ctx.uow(None) as work:
            row = self.ctx.repo(work).login_lookup(p.username)
        if not (
            row
            and row["active"]
            and row["id"] == p.subject
            and (row.get("volunteer_id") or "") == vid
        ):
            raise _sign_in_again()
        try:
            with self.ctx.uow(Scope.from_claim(row["scope_code"])) as work:
                status = self.ctx.repo(work).volunteer(vid).status
        except NotFound:
            raise _sign_in_again() from None
        if status == "merged":
            raise _sign_in_again()
        # The same expiry: a refresh moves the scope, it does not lengthen a
        # sign-in (a stolen token could otherwise be kept alive for ever).
        return self._issue(row, p.username, expires_at=p.expires_at)

    def _issue(
        self, row: dict[str, Any], username: str, expires_at: int | None = None
    ) -> tuple[str, int, Account]:
        """A token and the account for a looked-up account row (expiring
        after the issuer's lifetime, or at ``expires_at``)."""
        assert self.ctx.issuer is not None, "this process has no signing key"
        roles = (
            row["roles"] if isinstance(row["roles"], list) else json.loads(row["roles"])
        )
        now = int(time.time())
        token, exp = self.ctx.issuer.issue(
            subject=row["id"],
            username=username,
            scope_code=row["scope_code"],
            roles=roles,
            organisation_id=row.get("organisation_id") or "",
            volunteer_id=row.get("volunteer_id") or "",
            now=now,
            ttl=None if expires_at is None else max(0, expires_at - now),
        )
        acc = Account(
            id=row["id"],
            username=username,
            display_name=row["display_name"],
            scope_code=row["scope_code"],
            roles=roles,
            active=True,
            organisation_id=row.get("organisation_id") or None,
            volunteer_id=row.get("volunteer_id") or None,
        )
        return token, exp, acc

    def _lookup(self, username: str) -> dict[str, Any] | None:
        kind, name = sign_in_name(username)
        with self.ctx.uow(None) as work:
            repo = self.ctx.repo(work)
            if kind == "phone":
                row = repo.login_lookup_phone(phone_index(self.ctx.cipher, name))
                # An account whose own username is all digits still signs in.
                return row or repo.login_lookup(username.strip())
            return repo.login_lookup(name)

    def create_account(
        self,
        p: Principal,
        username: str,
        password: str,
        display: str,
        scope_code: str,
        roles: list[str],
        organisation_id: str = "",
    ) -> Account:
        p.require_any(*domain.ADMINS)
        username, display = check_new_login(username, password, display)
        scope_code = p.scope.require(scope_code, "scope_code")
        roles = domain.check_grant(p.roles, roles)
        organisation_id = (organisation_id or "").strip()
        if (
            "org_leader" in roles
            and not set(roles) & set(domain.ADMINS)
            and not organisation_id
        ):
            # An organisation leader runs one organisation (or team).
            raise InvalidArgument.required("organisation_id")
        acc = Account(
            id=str(uuid.uuid4()),
            username=username,
            password_hash=hash_password(password),
            display_name=display,
            scope_code=scope_code,
            roles=roles,
            active=True,
            created_by=p.username,
            created_at=self.ctx.clock(),
            organisation_id=organisation_id or None,
        )
        try:
            with self.ctx.uow(p) as work:
                repo = self.ctx.repo(work)
                repo.division(scope_code, "scope_code")
                if organisation_id:
                    check_organisation(repo, organisation_id, scope_code)
                repo.insert(acc)
        except Taken as exc:
            raise AlreadyExists.entity(
                "account", "账号", username, field="username"
            ) from exc
        return acc


def check_organisation(repo: Repository, ident: str, scope_code: str) -> None:
    """The account's organisation exists in the caller's scope and lies
    inside the new account's own scope; else INVALID_ARGUMENT."""
    try:
        org: Organisation = repo.organisation(ident, "organisation_id")
    except NotFound as exc:
        # Another tenant's organisation and none at all: the same answer.
        raise InvalidArgument(
            "organisation_id",
            "organisation_id.exists",
            f"no organisation {ident!r} in your jurisdiction",
            f"管辖范围内没有组织“{ident}”",
        ) from exc
    if not is_within(org.division_code, scope_code):
        raise InvalidArgument(
            "organisation_id",
            "scope.contains",
            f"the organisation lies outside the account's jurisdiction {scope_code}",
            f"该组织不在账号的管辖范围（{scope_code}）内",
        )


@cache
def _dummy_hash() -> str:
    """A hash of a random password, made with the live KDF parameters, for
    unknown usernames to be checked against (once per process)."""
    return hash_password(secrets.token_urlsafe(16))


def _sign_in_again() -> Unauthenticated:
    return Unauthenticated(
        "this sign-in is no longer valid for the account: sign in again",
        "登录状态已失效，请重新登录",
    )
