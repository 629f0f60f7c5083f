"""Identity: signed JWTs (EdDSA, Ed25519), principals and password hashing.

Registration signs tokens for its own accounts with the private key; every
service verifies with the public key only. A principal is the token's
subject, its scope (one division-code prefix) and its roles.

Example::

    issuer = TokenIssuer(private_pem, issuer="zhiyuan", audience="zhiyuan")
    token = issuer.issue(subject="a1", username="sx-admin", scope_code="61",
                         roles=["province_admin"])
    principal = TokenVerifier(public_pem, "zhiyuan", "zhiyuan").verify(token)
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from services.common.errors import PermissionDenied, Unauthenticated
from services.common.tenancy import (
    NationalScope,
    Scope,
    is_national,
    national_refusal,
    rollup_scope_from_claim,
)


def algorithm_for(key: object) -> str:
    """EdDSA for Ed25519 keys (the default), RS256 for RSA keys (an external
    issuer's); any other key type is refused rather than guessed."""
    if isinstance(key, Ed25519PrivateKey | Ed25519PublicKey):
        return "EdDSA"
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return "RS256"
    raise ValueError(f"unsupported JWT key type {type(key).__name__}")


# Roles and what they imply are the registration domain's (domain.IMPLIES).

# The only gRPC methods a national (``CN``) principal may call, by name in any
# service: the rollups (its own and the federated ones, issue 15) and the
# division tree. Every other method, present or added later, refuses it at
# the edge (see :meth:`Principal.check_method`).
NATIONAL_METHODS = frozenset(
    {"Summarize", "SummarizeFederated", "GetDivision", "ListDivisions"}
)

_current: ContextVar[Principal | None] = ContextVar("zhiyuan_principal", default=None)


@dataclass(frozen=True)
class Principal:
    """Who is calling: subject, scope and roles, plus the raw token to forward."""

    subject: str
    username: str
    scope_code: str
    roles: frozenset[str]
    expires_at: int
    token: str = field(repr=False, default="")
    # The organisation (or team) an org_leader account runs; "" for others.
    organisation_id: str = ""
    # The volunteer a volunteer's own account is (claim ``vol``): the
    # volunteer's own pages act for this volunteer only; "" for others.
    volunteer_id: str = ""

    @property
    def scope(self) -> Scope:
        """The tenant scope; a national principal is refused here (every
        list, detail, write and database session asks for this)."""
        return Scope.from_claim(self.scope_code)

    @property
    def national(self) -> bool:
        """Whether the principal is the nation (scope claim exactly ``CN``)."""
        return is_national(self.scope_code)

    @property
    def rollup_scope(self) -> Scope | NationalScope:
        """The scope of a rollup read: the nation or the tenant scope. Only
        Summarize, the dashboard and the division tree ask for it."""
        return rollup_scope_from_claim(self.scope_code)

    def check_method(self, method: str) -> None:
        """Refuse a national principal any gRPC method (full name, e.g.
        ``/zhiyuan.hours.v1.HoursService/ListRecords``) not in
        :data:`NATIONAL_METHODS`: new routes are closed to it by default."""
        if self.national and method.rsplit("/", 1)[-1] not in NATIONAL_METHODS:
            raise national_refusal()

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def require_any(self, *roles: str) -> None:
        if not self.has_any(*roles):
            raise PermissionDenied(
                f"this needs one of the roles {', '.join(roles)}",
                f"此操作需要以下角色之一：{'、'.join(roles)}",
            )


def current_principal() -> Principal:
    """The principal of the request being served (set by the interceptor)."""
    principal = _current.get()
    if principal is None:
        raise Unauthenticated("no credentials were presented", "未提供身份凭证")
    return principal


def set_current_principal(principal: Principal | None) -> object:
    return _current.set(principal)


def reset_current_principal(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


class TokenIssuer:
    def __init__(
        self, private_key_pem: str, issuer: str, audience: str, ttl: int = 28800
    ):
        self._key = serialization.load_pem_private_key(private_key_pem.encode(), None)
        self.algorithm = algorithm_for(self._key)
        self.issuer, self.audience, self.ttl = issuer, audience, ttl

    def issue(
        self,
        *,
        subject: str,
        username: str,
        scope_code: str,
        roles: list[str],
        ttl: int | None = None,
        now: int | None = None,
        organisation_id: str = "",
        volunteer_id: str = "",
    ) -> tuple[str, int]:
        """Sign a token; returns it with its expiry (seconds since the epoch)."""
        now = int(time.time()) if now is None else now
        exp = now + (self.ttl if ttl is None else ttl)
        claims = {
            "sub": subject,
            "name": username,
            "scope": scope_code,
            "roles": sorted(roles),
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "exp": exp,
        }
        if organisation_id:
            claims["org"] = organisation_id
        if volunteer_id:
            claims["vol"] = volunteer_id
        return jwt.encode(claims, self._key, algorithm=self.algorithm), exp  # type: ignore[arg-type]


class TokenVerifier:
    """Verifies tokens with the public key, and remembers the ones it verified.

    A verified token is cached (a bounded LRU keyed by the token's exact text)
    until it expires, so a caller presenting the same token again costs a
    dictionary lookup, not an Ed25519 verification. Only successes are cached;
    a cached entry is dropped the moment its ``exp`` has passed, and the
    token then goes through the full check again (which refuses it).
    """

    def __init__(
        self,
        public_key_pem: str,
        issuer: str,
        audience: str,
        *,
        cache_size: int = 4096,
        clock: Callable[[], float] = time.time,
    ):
        self._key = serialization.load_pem_public_key(public_key_pem.encode())
        # Only the algorithm of the configured key: no algorithm confusion.
        self.algorithm = algorithm_for(self._key)
        self.issuer, self.audience = issuer, audience
        self._cache: OrderedDict[str, Principal] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._clock = clock

    def verify(self, token: str) -> Principal:
        """Check signature, expiry, issuer and audience; raise Unauthenticated."""
        now = self._clock()
        with self._lock:
            hit = self._cache.get(token)
            if hit is not None:
                if now < hit.expires_at:
                    self._cache.move_to_end(token)
                    return hit
                del self._cache[token]
        principal = self._verify(token)
        if self._cache_size > 0 and now < principal.expires_at:
            with self._lock:
                self._cache[token] = principal
                self._cache.move_to_end(token)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return principal

    def _verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._key,  # type: ignore[arg-type]
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            # One answer for every failed check (expiry included): telling
            # the caller which check failed helps a forger more than a user.
            raise Unauthenticated.invalid_token() from exc
        return Principal(
            subject=str(claims["sub"]),
            username=str(claims.get("name", "")),
            scope_code=_scope_claim(claims.get("scope")),
            roles=frozenset(claims.get("roles") or ()),
            expires_at=int(claims["exp"]),
            token=token,
            organisation_id=_text_claim(claims.get("org")),
            volunteer_id=_text_claim(claims.get("vol")),
        )


def _scope_claim(value: object) -> str:
    """The scope claim as text: absent stays empty (no scope); any other
    non-text value becomes a placeholder that Scope.from_claim refuses as
    malformed, never a number quietly turned into a division code."""
    if value is None:
        return ""
    return value if isinstance(value, str) else "malformed"


def _text_claim(value: object) -> str:
    """An optional text claim: absent or not text reads as empty."""
    return value if isinstance(value, str) else ""


def bearer(metadata_value: str | None) -> str:
    """The token of an ``authorization: Bearer <token>`` header."""
    if not metadata_value:
        raise Unauthenticated.missing_token()
    scheme, _, token = metadata_value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "the authorization header must be 'Bearer <token>'",
            "authorization 头格式应为 “Bearer <令牌>”",
        )
    return token.strip()


# Memory-hard password hashing (Argon2id; RFC 9106 second recommended profile).
_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=2)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def generate_keypair() -> tuple[str, str]:
    """A new Ed25519 key pair as (private PEM, public PEM)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        .decode()
    )
    return private, public


def ensure_dev_keys(key_dir: Path) -> None:
    """Create dev JWT and personal-data keys under ``key_dir`` if missing."""
    import base64
    import os

    key_dir.mkdir(parents=True, exist_ok=True)
    private, public = key_dir / "jwt-private.pem", key_dir / "jwt-public.pem"
    if not private.exists():
        priv, pub = generate_keypair()
        private.write_text(priv)
        public.write_text(pub)
        private.chmod(0o600)
    pii = key_dir / "pii.key"
    if not pii.exists():
        pii.write_text(base64.b64encode(os.urandom(32)).decode())
        pii.chmod(0o600)
