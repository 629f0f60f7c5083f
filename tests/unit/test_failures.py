"""The kernel's failure handling without I/O: which failures are worth a
retry, the retry schedule, and logging an outage once per change of state.
(Real failures on real servers: tests/integration/test_worker_retry.py.)"""

from __future__ import annotations

import doctest
import logging

import grpc
import psycopg
import pytest
import sqlalchemy.exc as sa

from services.common import deadletter, errors
from services.common.deadletter import RetryPolicy, StateLog, clean_headers
from services.common.errors import (
    PERMANENT,
    TRANSIENT,
    UNKNOWN,
    FailedPrecondition,
    InvalidArgument,
    Unavailable,
    failure_kind,
)


@pytest.mark.parametrize("module", [errors, deadletter])
def test_doctests(module):  # type: ignore[no-untyped-def]
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def _db_error(orig: Exception) -> sa.DBAPIError:
    return sa.OperationalError("SELECT 1", {}, orig)


class _Rpc(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode):
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code


def _with_state(cls: type[Exception], state: str) -> Exception:
    err = cls("boom")
    err.sqlstate = state  # type: ignore[attr-defined]
    return err


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (_db_error(psycopg.OperationalError("connection refused")), TRANSIENT),
        (_db_error(_with_state(psycopg.OperationalError, "57P01")), TRANSIENT),
        (_db_error(_with_state(psycopg.OperationalError, "40001")), TRANSIENT),
        (_with_state(psycopg.IntegrityError, "23505"), TRANSIENT),
        (_with_state(psycopg.IntegrityError, "23503"), UNKNOWN),  # a broken FK
        (sa.InterfaceError("x", {}, Exception("closed")), TRANSIENT),
        (ConnectionResetError(104, "reset"), TRANSIENT),
        (_Rpc(grpc.StatusCode.UNAVAILABLE), TRANSIENT),
        (_Rpc(grpc.StatusCode.NOT_FOUND), UNKNOWN),
        (Unavailable.database(), TRANSIENT),
        (InvalidArgument.required("volunteer_id"), PERMANENT),
        (FailedPrecondition.transition("x", "x", "a", "b"), PERMANENT),
        (KeyError("event_id"), UNKNOWN),
    ],
)
def test_failure_kind(exc, kind):  # type: ignore[no-untyped-def]
    assert failure_kind(exc) == kind


def test_a_cause_counts_like_the_error_itself():
    try:
        try:
            raise ConnectionRefusedError(111, "refused")
        except OSError as inner:
            raise RuntimeError("could not load the settings") from inner
    except RuntimeError as outer:
        assert failure_kind(outer) == TRANSIENT
        assert Unavailable.of(outer) is not None


def test_unavailable_names_the_database_or_the_dependency():
    db = Unavailable.of(_db_error(psycopg.OperationalError("refused")))
    assert db is not None and db.rule == "database.available"
    rpc = Unavailable.of(_Rpc(grpc.StatusCode.DEADLINE_EXCEEDED))
    assert rpc is not None and rpc.rule == "service.available"
    assert (
        Unavailable.of(_db_error(_with_state(psycopg.OperationalError, "40P01")))
        is None
    )


def test_the_schedule_grows_and_ends():
    policy = RetryPolicy.from_config(_Cfg({"worker.retry_delays_seconds": "1,2,5"}))
    assert [policy.delay(a, TRANSIENT) for a in range(1, 5)] == [1.0, 2.0, 5.0, None]
    assert policy.delay(3, UNKNOWN) is None and policy.delay(1, PERMANENT) is None
    default = RetryPolicy.from_config(_Cfg({}))
    assert sum(default.delays) >= 300  # rides out a restart or a failover


class _Cfg:
    def __init__(self, values: dict[str, object]):
        self.values = values

    def get(self, key: str, default: object = None) -> object:
        return self.values.get(key, default)


def test_republished_copies_drop_the_brokers_death_records():
    kept = clean_headers(
        {
            "x-death": [{"queue": "zhiyuan.retry.1000"}],
            "x-first-death-queue": "q",
            "x-zhiyuan-error": "old",
            "nameko.call_id_stack": ["a"],
            "x-zhiyuan-attempt": 3,
        }
    )
    assert kept == {"nameko.call_id_stack": ["a"], "x-zhiyuan-attempt": 3}


def test_an_outage_is_logged_once_then_its_end(caplog):
    log = logging.getLogger("test.statelog")
    state = StateLog(log, "hours outbox relay: database", every=3600)
    with caplog.at_level(logging.WARNING, logger="test.statelog"):
        for _ in range(50):
            state.failed(ConnectionRefusedError(111, "refused"))
        state.ok()
        state.ok()
        state.failed(TimeoutError())
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3
    assert lines[0].startswith("hours outbox relay: database unavailable")
    assert "available again" in lines[1]
    assert "unavailable" in lines[2]
    assert all(r.exc_info is None for r in caplog.records)
