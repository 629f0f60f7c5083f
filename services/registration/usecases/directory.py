"""Use cases for divisions and tenant settings."""

from __future__ import annotations

import json
from collections.abc import Sequence

from services.common.auth import Principal
from services.common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
)
from services.common.refcache import RefCache
from services.common.tenancy import level_of, parent_of, validate_code
from services.common.unit_of_work import Work
from services.registration import domain
from services.registration.models import (
    Division,
    DivisionChange,
    TenantSetting,
)
from services.registration.repository import Repository
from services.registration.usecases.base import Context, strict_ancestors


class DirectoryCases:
    """Divisions (reference data changed at run time) and tenant settings."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        # Divisions and their ancestor chains, public reference data read on
        # most calls: cleared by this process's changes, 60 s old at most for
        # changes made by another replica.
        self.division_cache = RefCache(60.0)

    def get_division(self, p: Principal, code: str) -> tuple[Division, list[Division]]:
        p.require_any(*domain.READERS)
        # Refuses a missing or malformed scope claim, cached or not; the
        # nation may read the tree (public reference data, no tenant rows).
        caller = reference_reader(p)
        code = validate_code(code, "code")

        def load() -> tuple[Division, list[Division]]:
            with self.ctx.uow(caller) as work:
                repo = self.ctx.repo(work)
                div = repo.division(code)
                return div, repo.divisions(strict_ancestors(div.code))

        return self.division_cache.get_or_load(code, load)

    def list_divisions(
        self, p: Principal, parent: str, include_retired: bool, size: int, offset: int
    ) -> tuple[Sequence[Division], int]:
        p.require_any(*domain.READERS)
        caller = reference_reader(p)
        # The nation's children are the provinces (no parent).
        below = (
            None
            if caller is None and not parent
            else validate_code(parent or p.scope.code, "parent_code")
        )
        with self.ctx.uow(caller) as work:
            return self.ctx.repo(work).children(below, include_retired, size, offset)

    def create_division(
        self, p: Principal, code: str, name: str, reason: str
    ) -> Division:
        p.require_any("operator", "province_admin")
        code = p.scope.require(validate_code(code, "code"), "code")
        name = domain.check_text(name, "name", 100)
        parent = parent_of(code)
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            if parent is not None and repo.division(parent, "code").status != "active":
                raise FailedPrecondition(
                    "the parent division is retired",
                    "上级行政区划已撤销",
                    field="code",
                )
            if repo.division_exists(code):
                raise AlreadyExists.entity("division", "行政区划", code, field="code")
            div = Division(
                code=code,
                name=name,
                level=level_of(code).rank,
                parent_code=parent,
                status="active",
            )
            repo.add(div)
            self._change(work, repo, p, code, "created", None, name, None, reason)
            return div

    def rename_division(
        self, p: Principal, code: str, name: str, reason: str
    ) -> Division:
        p.require_any("operator", "province_admin")
        p.scope.require(code, "code")
        name = domain.check_text(name, "name", 100)
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            div = repo.division(code)
            old, div.name = div.name, name
            self._change(work, repo, p, code, "renamed", old, name, None, reason)
            return div

    def retire_division(
        self, p: Principal, code: str, successor: str, reason: str
    ) -> Division:
        p.require_any("operator", "province_admin")
        p.scope.require(code, "code")
        domain.check_text(reason, "reason", 500)
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            div = repo.division(code)
            if div.status == "retired":
                raise FailedPrecondition.transition(
                    "division", "行政区划", "retired", "retired"
                )
            if successor:
                p.scope.require(successor, "successor_code")
                if (
                    level_of(successor) != level_of(code)
                    or repo.division(successor, "successor_code").status != "active"
                ):
                    raise InvalidArgument(
                        "successor_code",
                        "successor_code.same_level_active",
                        "the successor must be an active division of the same level",
                        "承接单位须为同级、未撤销的行政区划",
                    )
            div.status, div.successor_code = "retired", successor or None
            self._change(
                work, repo, p, code, "retired", div.name, None, successor or None,
                reason,
            )  # fmt: skip
            return div

    def _change(
        self,
        work: Work,
        repo: Repository,
        p: Principal,
        code: str,
        kind: str,
        old: str | None,
        new: str | None,
        successor: str | None,
        reason: str,
    ) -> None:
        repo.clear_after_commit(self.division_cache)
        repo.add(
            DivisionChange(
                code=code,
                kind=kind,
                old_name=old,
                new_name=new,
                successor_code=successor,
                reason=reason or "",
                actor=p.username,
                changed_at=self.ctx.clock(),
            )
        )
        work.record(
            "registration.division.changed",
            code,
            {
                "code": code,
                "kind": kind,
                "name": new or old,
                "successor_code": successor or "",
            },
        )

    def division_history(self, p: Principal, code: str) -> list[DivisionChange]:
        p.require_any(*domain.READERS)
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            repo.division(code)
            return repo.history(code)

    # -- settings ------------------------------------------------------------
    def effective_settings(self, p: Principal, code: str) -> list[tuple[str, str, str]]:
        code = p.scope.require(code or p.scope.code)
        with self.ctx.uow(p) as work:
            chain = strict_ancestors(code) + [code]
            return domain.effective_settings(
                code, self.ctx.repo(work).overrides_for(chain)
            )

    def update_settings(
        self, p: Principal, code: str, set_json: dict[str, str], clear: list[str]
    ) -> list[tuple[str, str, str]]:
        p.require_any(*domain.ADMINS)
        code = p.scope.require(code or p.scope.code)
        parsed = {k: domain.parse_setting(k, v) for k, v in sorted(set_json.items())}
        for key in clear:
            if key not in domain.SETTINGS:
                raise InvalidArgument(
                    "clear",
                    "settings.known_key",
                    f"unknown setting {key!r}",
                    f"未知的设置项“{key}”",
                )
        with self.ctx.uow(p) as work:
            repo = self.ctx.repo(work)
            for key, value in parsed.items():
                repo.put_setting(
                    TenantSetting(
                        division_code=code,
                        key=key,
                        value_json=json.dumps(value, ensure_ascii=False),
                        updated_by=p.username,
                        updated_at=self.ctx.clock(),
                    )
                )
            for key in clear:
                repo.clear_setting(code, key)
            repo.flush()
            chain = strict_ancestors(code) + [code]
            overrides = repo.overrides_for(chain)
            # Other services keep a replica of every node's overrides.
            work.record(
                "registration.settings.changed",
                code,
                {"division_code": code, "overrides": overrides.get(code, {})},
            )
            return domain.effective_settings(code, overrides)


def reference_reader(p: Principal) -> Principal | None:
    """Who reads the division tree: the principal itself (its scope checked
    as on every call), or for the nation the system unit (``None``): the tree
    is public reference data without tenant rows, and a national principal
    has no tenant scope to open a session with."""
    p.rollup_scope  # noqa: B018 - refuses a missing or malformed claim
    return None if p.national else p
