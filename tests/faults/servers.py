"""Private PostgreSQL and RabbitMQ servers for the fault tier: each test run
starts its own cluster and node in a temporary directory, on free ports, so it
can kill them without touching the machine's shared servers (5432, 5672).

Both are stopped by the PIDs they were started with, never by name.

Example::

    pg = PrivatePostgres.create()
    pg.start(); pg.url("zy_hours"); pg.stop_immediate(); pg.start()
    rabbit = PrivateRabbit.create(); rabbit.start(); rabbit.kill9(); rabbit.start()
    shovel = PrivateRabbit.create(plugins=("rabbitmq_shovel",))
    cluster = RabbitCluster.create(3); cluster.start()  # tests/faults/cluster.py
    ...; rabbit.destroy(); pg.destroy()
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from services.common.testing import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
RABBIT_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")


class ServerError(RuntimeError):
    """A private server could not be set up: the tier fails, it never skips."""


def _run(argv: list[str], timeout: float = 60, **kw) -> str:  # type: ignore[no-untyped-def]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    if done.returncode != 0:
        raise ServerError(f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _poll(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception as exc:  # noqa: BLE001 - report the last one
            last = exc
        time.sleep(0.1)
    raise ServerError(f"timed out after {timeout}s waiting for {what}: {last!r}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@dataclass
class PrivatePostgres:
    """A PostgreSQL 15 cluster of its own (trust auth, 127.0.0.1 and a unix
    socket in its directory). initdb refuses to run as root, so as root the
    cluster belongs to the ``postgres`` OS user and its tools run through
    ``runuser``."""

    root: Path
    port: int
    user_prefix: list[str] = field(default_factory=list)

    @classmethod
    def create(cls, max_connections: int = 60) -> PrivatePostgres:
        if not (PG_BIN / "initdb").exists():
            raise ServerError(f"PostgreSQL 15 server binaries missing in {PG_BIN}")
        root = Path(tempfile.mkdtemp(prefix="zy-faults-pg-"))
        prefix: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(root, owner.pw_uid, owner.pw_gid)
            prefix = ["runuser", "-u", "postgres", "--"]
        pg = cls(root=root, port=free_port(), user_prefix=prefix)
        _run(
            [*prefix, str(PG_BIN / "initdb"), "-D", str(pg.data), "-U", "postgres",
             "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"],
            timeout=120,
        )  # fmt: skip
        with open(pg.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(
                f"\nport = {pg.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{root}'\n"
                f"max_connections = {max_connections}\n"
                # fsync off is safe here: an immediate stop is not an OS
                # crash. synchronous_commit stays on: off, an immediate stop
                # loses commits already answered (seen: acked events unapplied).
                "fsync = off\nfull_page_writes = off\n"
                "shared_buffers = 32MB\n"
            )
        return pg

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _ctl(self, *args: str, timeout: float = 60) -> str:
        return _run(
            [*self.user_prefix, str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args],
            timeout=timeout,
        )

    def start(self) -> None:
        self._ctl("-l", str(self.root / "server.log"), "-w", "-t", "60", "start")

    def pid(self) -> int | None:
        pidfile = self.data / "postmaster.pid"
        if not pidfile.exists():
            return None
        return int(pidfile.read_text().split("\n", 1)[0])

    def stop_immediate(self) -> None:
        """The crash-like stop: no checkpoint, clients cut off at once."""
        self._ctl("-m", "immediate", "-w", "stop")

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def destroy(self) -> None:
        pid = self.pid()
        if pid is not None and _alive(pid):
            with contextlib.suppress(Exception):
                self.stop_immediate()
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class PrivateRabbit:
    """A RabbitMQ node of its own: node name ``zyfault<port>@localhost``, its
    own AMQP and distribution ports, data, logs, config and (no) plugins.
    It registers with the machine's epmd like any other node; nothing of the
    shared node (``rabbit@localhost``, 5672) is read or changed."""

    root: Path
    port: int
    dist_port: int
    proc: subprocess.Popen[bytes] | None = None
    erl_args: str = ""

    @classmethod
    def create(
        cls,
        plugins: tuple[str, ...] = (),
        cookie: str | None = None,
        erl_args: str = "",
        conf: str = "",
    ) -> PrivateRabbit:
        """A node in a new directory, not started. ``plugins`` go into its
        own enabled-plugins file (e.g. ``("rabbitmq_shovel",)``); ``cookie``
        is the Erlang cookie nodes of one cluster share (else the node makes
        its own); ``erl_args`` are extra VM flags (``+S 1:1``); ``conf`` is
        appended to its rabbitmq.conf."""
        if not RABBIT_SERVER.exists():
            raise ServerError(f"rabbitmq-server missing at {RABBIT_SERVER}")
        root = Path(tempfile.mkdtemp(prefix="zy-faults-mq-"))
        for sub in ("mnesia", "log", "home"):
            (root / sub).mkdir()
        (root / "enabled_plugins").write_text(f"[{','.join(plugins)}].\n")
        (root / "rabbitmq.conf").write_text(
            "disk_free_limit.absolute = 10MB\n"
            # Eleven processes open ~100 connections at once when they start;
            # the default backlog (128) and 10 acceptors reset some of them
            # on a busy host.
            "tcp_listen_options.backlog = 1024\nnum_acceptors.tcp = 32\n" + conf
        )
        (root / "rabbitmq-env.conf").write_text("")
        if cookie is not None:
            path = root / "home" / ".erlang.cookie"
            path.write_text(cookie)
            path.chmod(0o400)
        return cls(
            root=root, port=free_port(), dist_port=free_port(), erl_args=erl_args
        )

    @property
    def nodename(self) -> str:
        return f"zyfault{self.port}@localhost"

    @property
    def uri(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def env(self) -> dict[str, str]:
        root = self.root
        return {
            **os.environ,
            # The cookie lives in HOME: this node's own, not root's or the
            # shared node's.
            "HOME": str(root / "home"),
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_BASE": str(root),
            "RABBITMQ_MNESIA_BASE": str(root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(root / "log"),
            "RABBITMQ_CONFIG_FILE": str(root / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(root / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(root / "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(root / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(root / "node.pid"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_FLAGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": self.erl_args,
        }

    def start(self, timeout: float = 90) -> None:
        """Start in the foreground (a child of this process) and wait until
        an AMQP client gets in."""
        from kombu import Connection

        (self.root / "node.pid").unlink(missing_ok=True)
        self.proc = subprocess.Popen(  # noqa: S603 - fixed local binary
            [str(RABBIT_SERVER)],
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=open(self.root / "server.out", "ab"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def ready() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise ServerError(
                    f"rabbitmq-server exited ({self.proc.returncode}):\n"
                    + self.log()[-3000:]
                )
            with Connection(self.uri, connect_timeout=1) as conn:
                conn.connect()
                return True

        _poll(ready, timeout, f"the private RabbitMQ node on {self.port}")

    def beam_pid(self) -> int:
        """The Erlang VM's PID (the foreground script's child)."""
        path = self.root / "node.pid"
        _poll(lambda: path.exists() and path.read_text().strip(), 30, "node.pid")
        return int(path.read_text().strip())

    def kill9(self) -> None:
        """kill -9 the broker VM, then reap the script that ran it."""
        pid = self.beam_pid()
        os.kill(pid, signal.SIGKILL)
        assert self.proc is not None
        self.proc.wait(timeout=30)
        _poll(lambda: not _alive(pid), 30, f"beam {pid} to exit")
        self._kill_group()

    def _kill_group(self) -> None:
        # Helpers the VM spawned (erl_child_setup, inet_gethost) share the
        # session this Popen started; its id is the script's PID.
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)

    def log(self) -> str:
        out = []
        for path in [
            self.root / "server.out",
            *sorted((self.root / "log").glob("*.log")),
        ]:
            if path.exists():
                out.append(path.read_text(errors="replace"))
        return "\n".join(out)

    def destroy(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(Exception):
                os.kill(self.beam_pid(), signal.SIGKILL)
            self.proc.kill()
            with contextlib.suppress(Exception):
                self.proc.wait(timeout=30)
        self._kill_group()
        shutil.rmtree(self.root, ignore_errors=True)


def queue_depths(amqp_uri: str, names: list[str]) -> dict[str, int]:
    """Queue → messages in it, by passive declares over AMQP (the
    rabbitmqctl escript took over a minute on a busy host); a queue not
    declared (yet) holds nothing and is left out."""
    from kombu import Connection, Queue

    out: dict[str, int] = {}
    with Connection(amqp_uri, connect_timeout=5) as conn:
        for name in names:
            channel = conn.channel()
            try:
                got = Queue(name, durable=True)(channel).queue_declare(passive=True)
                out[name] = int(got.message_count)
            except conn.channel_errors:
                pass  # not declared (yet): holds nothing
            finally:
                with contextlib.suppress(Exception):
                    channel.close()
    return out
