"""The kernel's unit of work: one way to name the caller, and the in-memory
fake a use case that only records events, bumps rollups and reads the clock
runs on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.commendation.models import OUTBOX
from services.commendation.star_batch import _KeptEvents
from services.common.auth import Principal
from services.common.rollup import month_of
from services.common.tenancy import Scope
from services.common.unit_of_work import FakeUnitOfWork, UnitOfWork, scope_of

P = Principal("u1", "alice", "110101", frozenset({"division_admin"}), 0)


def test_the_caller_is_a_principal_a_scope_or_the_system() -> None:
    assert scope_of(P) == Scope.from_claim("110101")
    assert scope_of(Scope.from_claim("11")) == Scope.from_claim("11")
    assert scope_of(None) is None
    with pytest.raises(TypeError):
        scope_of("110101")  # type: ignore[arg-type]


class _Rollup:
    table_name = "rollup_test"


def _open_round(uow, p: Principal, code: str) -> str:  # type: ignore[no-untyped-def]
    """A use case shaped as the kernel wants them: it only records, bumps
    and reads the clock of the unit of work it is given."""
    with uow(p) as work:
        month = month_of(work.clock())
        work.bump(_Rollup(), code, month, rounds=1)
        return work.record("test.round.opened", code, {"month": month})


def test_the_fake_keeps_what_a_committed_unit_recorded_and_bumped() -> None:
    uow = FakeUnitOfWork(datetime(2026, 3, 31, 15, 0, tzinfo=UTC))
    _open_round(uow, P, "110101")
    uow.set_clock(datetime(2026, 4, 1, 1, 0, tzinfo=UTC))
    _open_round(uow, P, "110101")
    assert uow.committed
    assert uow.scopes == [P.scope, P.scope]
    months = [data["month"] for _, _, data in uow.events]
    assert [t for t, _, _ in uow.events] == ["test.round.opened"] * 2
    assert months == ["2026-03", "2026-04"]  # China time
    assert uow.bumps == {
        ("rollup_test", "110101", "2026-03", "rounds"): 1,
        ("rollup_test", "110101", "2026-04", "rounds"): 1,
    }


def test_a_unit_that_raises_leaves_nothing_behind() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(RuntimeError), uow(None) as work:
        work.record("test.x", "11", {})
        work.bump(_Rollup(), "11", "2026-01", rounds=1)
        raise RuntimeError("boom")
    assert not uow.committed
    assert uow.events == [] and uow.bumps == {}


def test_the_fake_refuses_the_session() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(RuntimeError, match="session"), uow(P) as work:
        work.session  # noqa: B018


def test_a_star_batch_keeps_its_events_for_one_write() -> None:
    """Commendation's batch overrides where events go, not how a use case
    records them: no database is touched by ``record``."""
    kept: list[tuple[str, str, dict[str, object]]] = []
    uow = _KeptEvents(None, kept)  # type: ignore[arg-type]
    assert isinstance(uow, UnitOfWork) and uow.outbox_table is OUTBOX
    uow.record(None, "commendation.stars.raised", "110101", {"to_stars": 2})  # type: ignore[arg-type]
    assert kept == [("commendation.stars.raised", "110101", {"to_stars": 2})]
