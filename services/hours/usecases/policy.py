"""The replica of registration's setting overrides that hours' policy is
computed from (``services.common.settings.effective_settings``)."""

from __future__ import annotations

from datetime import datetime

from services.common.tenancy import Scope
from services.hours.usecases.base import Context


class PolicyCases:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def replicate(
        self,
        consumer: str,
        event_id: str,
        code: str,
        overrides: dict[str, str],
        changed_at: datetime,
    ) -> bool:
        """Replace the node's overrides (the event carries all of them);
        False when the event was applied already or is older than the
        replica (two changes can be handled out of order)."""
        with self.ctx.uow(Scope(code)) as work:
            repo = self.ctx.repo(work)
            if not repo.claim(consumer, event_id):
                return False
            return repo.replace_policy(code, overrides, changed_at)
