"""What registration needs before anyone can use it: the national division
tree (reference data every scope check and address picker reads) and the
first accounts (``zhiyuan admin create``), made before any administrator
exists to make them through the API.

Example::

    load_divisions(Database(cfg.service("registration")))
    create_account(cfg, "sx-ops", password, "61", ["province_admin"], "省运维")
"""

from __future__ import annotations

import csv
import sys
import uuid
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from services.common.auth import Principal, hash_password
from services.common.config import Config
from services.common.db import Database
from services.common.divisions import REFERENCE
from services.common.errors import AlreadyExists, InvalidArgument
from services.common.tenancy import (
    NATIONAL,
    is_national,
    level_of,
    parent_of,
    validate_code,
)
from services.registration.application import RegistrationApp
from services.registration.models import Account, Division

FILES = ["provinces.csv", "cities.csv", "areas.csv", "streets.csv"]


def progress(label: str, done: int, total: int) -> None:
    """A one-line progress bar on standard output."""
    width = 30
    filled = int(width * done / max(total, 1))
    sys.stdout.write(
        f"\r  {label:<12} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
    )
    if done >= total:
        sys.stdout.write("\n")
    sys.stdout.flush()


def load_divisions(db: Database) -> int:
    """Insert the reference divisions that are missing; returns how many."""
    with db.session(None) as s:
        have = set(s.execute(select(Division.code)).scalars())
    added = 0
    for name in FILES:
        with open(REFERENCE / name, encoding="utf-8") as fh:
            rows = [r for r in csv.DictReader(fh) if r["code"] not in have]
        for start in range(0, len(rows), 2000):
            chunk = rows[start : start + 2000]
            with db.session(None) as s:
                s.execute(
                    insert(Division),
                    [
                        {
                            "code": r["code"],
                            "name": r["name"],
                            "level": level_of(r["code"]).rank,
                            "parent_code": parent_of(r["code"]),
                            "status": "active",
                            "successor_code": None,
                        }
                        for r in chunk
                    ],
                )
            added += len(chunk)
            progress(name.removesuffix(".csv"), start + len(chunk), len(rows))
    return added


def create_account(
    cfg: Config,
    username: str,
    password: str,
    scope: str,
    roles: list[str],
    display: str,
    organisation_id: str = "",
) -> Account:
    """Create an account through the API's own use case, so the same rules
    and errors apply (username, password length, roles, organisation); for
    ``zhiyuan admin create`` and the demo seed, before any admin exists.

    The caller is the system principal: an operator over the new account's
    own division, so it may grant any role there and reach nothing outside.

    Example::

        create_account(load(), "yanta-admin", "long-enough-pw", "610113",
                       ["tenant_admin"], "雁塔区文明办")
    """
    if is_national(scope):
        return create_national_account(cfg, username, password, roles, display)
    code = validate_code(scope, "scope_code")
    system = Principal("system", "cli", code, frozenset({"operator"}), 0)
    db = Database(cfg.service("registration"))
    try:
        # Accounts hold no personal data: no key is needed to create one.
        app = RegistrationApp(db, None, None)  # type: ignore[arg-type]
        return app.accounts.create_account(
            system, username, password, display, code, roles, organisation_id
        )
    finally:
        db.dispose()


# Roles a national account may hold: it reads rollups and the tree only, so
# these only decide that it counts as a reader (the console's dashboard).
NATIONAL_ROLES = frozenset({"operator", "province_admin", "reviewer"})


def create_national_account(
    cfg: Config, username: str, password: str, roles: list[str], display: str
) -> Account:
    """An account at the nation (scope ``CN``), for the ministry or the
    national volunteer federation: only here, never through the API (no
    principal may grant a scope above its own, and the nation creates
    nothing). Written as the database's owner, the way the migrations write:
    no tenant scope contains ``CN``, so the application role cannot.

    Example::

        create_national_account(load(), "cn-admin", pw, ["province_admin"], "民政部")
    """
    from services.registration.usecases.accounts import check_new_login

    username, display = check_new_login(username, password, display)
    granted = sorted(set(roles))
    if not granted:
        raise InvalidArgument.required("roles")
    if not set(granted) <= NATIONAL_ROLES:
        raise InvalidArgument(
            "roles",
            "roles.national",
            f"a national account holds only {', '.join(sorted(NATIONAL_ROLES))}",
            f"全国级账号只能持有以下角色：{'、'.join(sorted(NATIONAL_ROLES))}",
        )
    acc = Account(
        id=str(uuid.uuid4()),
        username=username,
        password_hash=hash_password(password),
        display_name=display,
        scope_code=NATIONAL,
        roles=granted,
        active=True,
        created_by="cli",
        created_at=datetime.now(UTC),
    )
    db = Database(cfg.service("registration"))
    try:
        with Session(db.engine) as s, s.begin():
            taken = s.execute(select(Account.id).where(Account.username == username))
            if taken.first() is not None:
                raise AlreadyExists.entity(
                    "account", "账号", username, field="username"
                )
            s.add(acc)
    finally:
        db.dispose()
    return acc
