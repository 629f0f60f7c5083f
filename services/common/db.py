"""Database access for every service: engines, scoped sessions, RLS.

Each service owns one database. In PostgreSQL every transaction switches to
the service's application role (which owns nothing and cannot bypass
row-level security) and sets ``zhiyuan.scope`` to the caller's division
prefix; the policies written by :func:`enable_rls` filter on it. With no
scope set, tenant tables return nothing (default deny).

SQLite is the embedded mode for a laptop (`make run` without a database URL):
the same repository filters apply, RLS does not exist there.

Example::

    db = Database(cfg.service("registration"))
    with db.session(Scope("6101")) as s:
        s.execute(select(Volunteer))
"""

from __future__ import annotations

import re
import select
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from services.common.config import ServiceConfig
from services.common.tenancy import Scope

_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# Pooled connections are replaced after this long, before idle timeouts of
# servers, proxies or firewalls (commonly 30 min and up) close them under us.
RECYCLE_SECONDS = 600


def make_engine(url: str, pool_size: int = 4, max_overflow: int = 2) -> Engine:
    """An engine with sane settings for the dialect; connects lazily. A
    PostgreSQL process keeps up to ``pool_size`` connections and opens up to
    ``max_overflow`` more under a burst (so replicas × processes ×
    (pool_size + max_overflow) must stay under ``max_connections``).

    No pre-ping (it is a round trip on every checkout): connections are
    recycled before servers or proxies drop idle ones, a :class:`Database`
    swaps one the server has closed at checkout (a look at its socket), and
    :meth:`Database.session` retries once on a connection found dead."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=RECYCLE_SECONDS,
    )


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


class Database:
    """Engine and session factory of one service's database."""

    def __init__(self, service: ServiceConfig, engine: Engine | None = None):
        if not _ROLE.match(service.database_app_role):
            raise ValueError(f"bad database role name {service.database_app_role!r}")
        self.service = service
        self.engine = engine or make_engine(
            service.database_url,
            service.database_pool_size,
            service.database_max_overflow,
        )
        self.app_role = service.database_app_role
        self._factory = sessionmaker(self.engine, expire_on_commit=False)
        if is_postgres(self.engine) and not event.contains(
            self.engine, "checkout", _alive_at_checkout
        ):
            event.listen(self.engine, "checkout", _alive_at_checkout)

    @contextmanager
    def session(self, scope: Scope | None) -> Iterator[Session]:
        """One transaction under ``scope``; commits on success.

        ``scope=None`` is the system context (outbox relay, idempotency
        records): it sees no tenant rows at all under RLS.
        """
        if scope is not None and not isinstance(scope, Scope):
            # A NationalScope (or anything else) has no tenant rows to see:
            # refuse it rather than set a scope nothing was written under.
            raise TypeError(f"a database session needs a Scope or None, not {scope!r}")
        with self._factory() as session:
            transaction = session.begin()
            if is_postgres(self.engine):
                transaction = self._enter(session, scope.code if scope else "")
            with transaction:
                yield session

    def _enter(self, session: Session, scope: str) -> SessionTransaction:
        """Open the transaction, switch to the application role and set the
        scope, local to the transaction: ``BEGIN`` and both settings are one
        simple-protocol string, so one round trip and one C call (a libpq
        pipeline took two round trips, since psycopg syncs after its own
        ``BEGIN``, and far more Python). psycopg reads the transaction status
        from libpq, so it adds no ``BEGIN`` of its own and commits as usual.
        A connection the server has already closed is swapped at checkout
        (:func:`_alive_at_checkout`); one found dead here is replaced once."""
        import psycopg

        for attempt in (1, 2):
            transaction = session.get_transaction() or session.begin()
            conn = session.connection()
            raw: psycopg.Connection[Any] = conn.connection.driver_connection  # type: ignore[assignment]
            try:
                _begin_scoped(raw, self.app_role, scope)
                return transaction
            except psycopg.OperationalError:
                if attempt == 2 or not (raw.broken or raw.closed):
                    raise
                conn.invalidate()
                session.rollback()
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        self.engine.dispose()


def _begin_scoped(raw: Any, role: str, scope: str) -> None:
    """``BEGIN`` plus the role and scope settings as one simple query, sent
    and awaited through psycopg's own wait function (so a green worker waits
    cooperatively). The role is a checked identifier (:data:`_ROLE`); the
    scope is quoted by libpq."""
    import psycopg
    from psycopg import generators, pq

    pgconn = raw.pgconn
    with raw.lock:
        if pgconn.transaction_status != pq.TransactionStatus.IDLE:
            raise psycopg.ProgrammingError("a scoped session needs an idle connection")
        literal = pq.Escaping(pgconn).escape_literal(scope.encode())
        pgconn.send_query(
            b"BEGIN; SELECT set_config('role', '"
            + role.encode()
            + b"', true), set_config('zhiyuan.scope', "
            + literal
            + b", true)"
        )
        results = raw.wait(generators.execute(pgconn))
        failed = [r for r in results if r.status == pq.ExecStatus.FATAL_ERROR]
        if failed and pgconn.transaction_status != pq.TransactionStatus.IDLE:
            pgconn.send_query(b"ROLLBACK")
            raw.wait(generators.execute(pgconn))
    if failed:
        raise psycopg.errors.error_from_result(failed[0], encoding=raw.info.encoding)


def _alive_at_checkout(dbapi_conn: Any, record: Any, proxy: Any) -> None:
    """Refuse a pooled connection the server has already closed (restart,
    idle timeout, terminated backend), so the pool opens a new one. An idle
    connection between transactions has nothing to read; one the server
    dropped has its farewell or EOF waiting. Anything unread at all is
    treated alike (the platform uses no LISTEN): a rare needless reconnect
    beats a failed call. No round trip, unlike a pre-ping. A probe that
    cannot look (a descriptor past select()'s limit) lets the connection by.
    A connection still in pipeline mode or not idle is refused too."""
    if dbapi_conn.closed:
        raise exc.DisconnectionError("the database connection is closed")
    from psycopg import pq

    pgconn = dbapi_conn.pgconn
    # One left in pipeline mode or mid-transaction (an error while a batch
    # pipelined, a reset that failed) would block or refuse the next session.
    if (
        pgconn.pipeline_status != pq.PipelineStatus.OFF
        or pgconn.transaction_status != pq.TransactionStatus.IDLE
    ):
        raise exc.DisconnectionError("a pooled connection was not left idle")
    try:
        fd = dbapi_conn.fileno()
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(fd, select.POLLIN | select.POLLPRI)
            readable = bool(poller.poll(0))
        else:  # eventlet's green select has no poll()
            readable = bool(select.select([fd], [], [], 0)[0])
    except OSError:
        readable = True  # a bad descriptor: gone
    except ValueError:
        readable = False  # past FD_SETSIZE: cannot tell, keep it
    if readable:
        raise exc.DisconnectionError("the database closed this pooled connection")


def scope_policy_sql(
    table: str, column: str, *, read_ancestors: bool = False
) -> list[str]:
    """Row-level security for a tenant table keyed by a division-code column.

    A row is visible and writable when its code lies inside the transaction's
    scope. ``read_ancestors`` also lets a node *read* rows of its ancestors
    (inherited settings), never write them. An empty scope matches nothing.
    """
    # A range, not LIKE: a LIKE pattern that is not a constant can never use
    # an index, while a range against the (STABLE) setting can, on a column
    # or index in C order; '~' sorts after every digit there.
    inside = (
        "coalesce(current_setting('zhiyuan.scope', true), '') <> '' AND "
        f"{column} COLLATE \"C\" >= current_setting('zhiyuan.scope', true) AND "
        f"{column} COLLATE \"C\" < current_setting('zhiyuan.scope', true) || '~'"
    )
    read = inside
    if read_ancestors:
        read = (
            f"({inside}) OR (coalesce(current_setting('zhiyuan.scope', true), '') "
            f"<> '' AND current_setting('zhiyuan.scope', true) LIKE {column} || '%')"
        )
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"CREATE POLICY {table}_read ON {table} FOR SELECT USING ({read})",
        f"CREATE POLICY {table}_insert ON {table} FOR INSERT WITH CHECK ({inside})",
        f"CREATE POLICY {table}_update ON {table} FOR UPDATE USING ({inside}) "
        f"WITH CHECK ({inside})",
        f"CREATE POLICY {table}_delete ON {table} FOR DELETE USING ({inside})",
    ]


def app_role_sql(role: str) -> list[str]:
    """Create the application role (no login, no bypass) if it is missing."""
    if not _ROLE.match(role):
        raise ValueError(f"bad database role name {role!r}")
    return [
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = "
        f"'{role}') THEN CREATE ROLE {role} NOLOGIN NOBYPASSRLS; END IF; END $$",
        f"GRANT USAGE ON SCHEMA public TO {role}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public "
        f"TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {role}",
    ]


def upsertable_insert(session: Session, table: Any) -> Any:
    """INSERT with ON CONFLICT support (PostgreSQL or SQLite, whichever the
    session is bound to), for a table or a mapped class.

    Example::

        s.execute(upsertable_insert(s, Model).values(row).on_conflict_do_nothing())
    """
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


class KeyTaken(Exception):
    """A new row's unique key is already held, perhaps by a concurrent
    transaction's row or one the caller's scope cannot see."""


def add_unique(session: Session, row: Any) -> None:
    """Write ``row`` now; :class:`KeyTaken` when a unique index refuses it
    (the transaction is then spoilt: let it roll back)."""
    session.add(row)
    try:
        session.flush()
    except exc.IntegrityError:
        raise KeyTaken(type(row).__name__) from None


S = TypeVar("S", bound=Scope | None)


class SessionRepository(Generic[S]):
    """What every service's repository shares: the unit of work's session
    (``s``), the scope its tenant reads filter by (``scope``; ``None`` in a
    system unit where the service has one) and the writes, which go with
    the transaction."""

    def __init__(self, session: Session, scope: S):
        self.s = session
        self.scope = scope

    def add(self, row: Any) -> None:
        """Write ``row`` with the transaction (at the next flush)."""
        self.s.add(row)

    def flush(self) -> None:
        """Send the pending writes now, so a broken rule fails here."""
        self.s.flush()

    def add_unique(self, row: Any) -> None:
        """Write ``row`` now (:class:`KeyTaken` when its unique key is held)."""
        add_unique(self.s, row)
