"""A RabbitMQ cluster of private nodes for the fault tier (issue 15): each
node a :class:`~tests.faults.servers.PrivateRabbit` (own node name, AMQP and
distribution ports, data dir, enabled-plugins file), all sharing one Erlang
cookie, joined with ``rabbitmqctl join_cluster``. Nothing of the machine's
shared node (``rabbit@localhost``, 5672) is read or changed; every node is
stopped by the PID it was started with.

Small settings, for three VMs on two shared cores: one scheduler each
(``+S 1:1``, one dirty CPU scheduler) and a low memory watermark.

Example::

    cluster = RabbitCluster.create(3)
    cluster.start()                      # node 0 first, the others join it
    cluster.uri                          # "amqp://…:p0/;amqp://…:p1/;amqp://…:p2/"
    cluster.queue_types()                # {"evt-…": "quorum", …}
    cluster.nodes[0].kill9(); cluster.restart(0)
    cluster.destroy()
"""

from __future__ import annotations

import contextlib
import re
import secrets
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from tests.faults.servers import PrivateRabbit, ServerError, _poll

RABBITMQCTL = "/usr/lib/rabbitmq/bin/rabbitmqctl"
SMALL_VM = "+S 1:1 +SDcpu 1:1 +SDio 2 +A 4"
SMALL_CONF = "vm_memory_high_watermark.relative = 0.1\n"


def rabbitmqctl(node: PrivateRabbit, *args: str, timeout: float = 120) -> str:
    """``rabbitmqctl -n <node> …`` with the node's own environment (its
    cookie); raises :class:`ServerError` with the output when it fails."""
    done = subprocess.run(  # noqa: S603 - fixed local tool
        [RABBITMQCTL, "-n", node.nodename, *args],
        env=node.env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise ServerError(
            f"rabbitmqctl -n {node.nodename} {' '.join(args)} failed:\n"
            f"{done.stdout}\n{done.stderr}"
        )
    return done.stdout


def queue_types(node: PrivateRabbit, vhost: str = "/") -> dict[str, str]:
    """Queue → its type (``classic``, ``quorum``) as the node reports it."""
    out = rabbitmqctl(node, "list_queues", "-q", "-p", vhost, "name", "type")
    found = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 2 and parts[0] != "name":
            found[parts[0]] = parts[1]
    return found


@dataclass
class RabbitCluster:
    """``size`` private nodes joined into one cluster."""

    nodes: list[PrivateRabbit]

    @classmethod
    def create(cls, size: int = 3, plugins: tuple[str, ...] = ()) -> RabbitCluster:
        cookie = secrets.token_hex(16).upper()
        nodes = [
            PrivateRabbit.create(
                plugins=plugins, cookie=cookie, erl_args=SMALL_VM, conf=SMALL_CONF
            )
            for _ in range(size)
        ]
        return cls(nodes)

    @property
    def uri(self) -> str:
        """Every node's AMQP URI, ``;``-separated: kombu's failover form (a
        client tries them in order and moves on when one is down)."""
        return ";".join(n.uri for n in self.nodes)

    def vhost_uri(self, vhost: str) -> str:
        return ";".join(f"{n.uri}{vhost}" for n in self.nodes)

    def start(self, timeout: float = 120) -> None:
        """Start node 0, then each other node and join it to node 0's
        cluster; return once every node sees all of them running."""
        first, *others = self.nodes
        with ThreadPoolExecutor(len(self.nodes)) as pool:
            # Each VM takes seconds to boot: boot them together.
            list(pool.map(lambda n: n.start(timeout=timeout), self.nodes))
        for node in others:
            rabbitmqctl(node, "stop_app")
            rabbitmqctl(node, "join_cluster", first.nodename)
            rabbitmqctl(node, "start_app")
        self.await_running(len(self.nodes))

    def running(self, via: PrivateRabbit | None = None) -> set[str]:
        """The node names the cluster reports running (asked of ``via``)."""
        node = via or next(n for n in self.nodes if n.proc and n.proc.poll() is None)
        out = rabbitmqctl(node, "eval", "rabbit_nodes:all_running().")
        return {
            name.strip().strip("'")
            for name in out.strip().strip("[]").split(",")
            if name.strip()
        }

    def await_running(self, count: int, timeout: float = 120) -> None:
        _poll(
            lambda: len(self.running()) == count,
            timeout,
            f"{count} running nodes in the cluster",
        )

    def restart(self, index: int, timeout: float = 120) -> None:
        """Start a node again (after :meth:`PrivateRabbit.kill9`): it keeps
        its data dir, so it comes back as a member and its quorum queue
        replicas catch up."""
        self.nodes[index].start(timeout=timeout)
        self.await_running(len(self.nodes), timeout)

    def add_vhost(self, vhost: str) -> None:
        rabbitmqctl(self.nodes[0], "add_vhost", vhost)
        rabbitmqctl(
            self.nodes[0], "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"
        )

    def queue_types(self, vhost: str = "/") -> dict[str, str]:
        node = next(n for n in self.nodes if n.proc and n.proc.poll() is None)
        return queue_types(node, vhost)

    def connections_by_node(self) -> dict[str, int]:
        """Client connections per node (any running node answers for all)."""
        node = next(n for n in self.nodes if n.proc and n.proc.poll() is None)
        out = rabbitmqctl(node, "list_connections", "-q", "pid")
        counts: dict[str, int] = {}
        for line in out.splitlines():
            # a connection's process: <zyfault1234@localhost.1796610686.1659.0>
            found = re.match(r"<?([^@<>\s]+@[^.>\s]+)", line.strip())
            if found:
                counts[found.group(1)] = counts.get(found.group(1), 0) + 1
        return counts

    def log(self) -> str:
        return "\n".join(
            f"----- {n.nodename} -----\n{n.log()[-3000:]}" for n in self.nodes
        )

    def destroy(self) -> None:
        for node in self.nodes:
            with contextlib.suppress(Exception):
                node.destroy()
