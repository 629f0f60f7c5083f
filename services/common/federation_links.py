"""Setting up a federation link through RabbitMQ's management HTTP API
(``zhiyuan federation link`` and ``register``; see
:mod:`services.common.federation`).

- ``register`` (upstream): a broker user for the downstream that may only
  write to its own exchange ``zhiyuan.federation.in.<name>`` (configure and
  read: nothing), the exchange, the service queues and their DLQs, and the
  downstream's entry in the downstreams file the upstream's workers read.
- ``link`` (downstream): the local exchange and queue, and a dynamic shovel
  (RabbitMQ's shovel plugin) from that queue to the upstream's exchange,
  connecting with the downstream's own credentials, acking a message only
  once the upstream confirmed it (``on-confirm``). The shovel stamps each
  message's ``user_id`` with that user, which the upstream broker checks
  against the connection and the upstream's worker against the registration.

Example::

    password = register(fed, "county", "610113", amqp_uri, ["hours"])
    link(fed, amqp_uri, "amqp://federation-county:<password>@province:5672/")
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx
from kombu import Connection

from services.common.errors import InvalidArgument
from services.common.federation import (
    FederationConfig,
    declare_in,
    declare_out,
    in_exchange,
    in_queue,
    username,
)
from services.common.tenancy import validate_code

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def _check_name(name: str) -> None:
    if not NAME.match(name):
        raise InvalidArgument(
            "federation.name", "pattern",
            "a downstream's name is 1-63 lower-case letters, digits, - or _",
            "下级部署名称须为 1-63 位小写字母、数字、- 或 _",
        )  # fmt: skip


class Management:
    """A small client of RabbitMQ's management HTTP API (credentials in the
    URL, e.g. ``http://guest:guest@127.0.0.1:15672``)."""

    def __init__(self, url: str, timeout: float = 15):
        parts = urlsplit(url)
        auth = (unquote(parts.username or "guest"), unquote(parts.password or ""))
        base = f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}"
        self.client = httpx.Client(base_url=base, auth=auth, timeout=timeout)

    def put(self, path: str, body: dict[str, Any]) -> None:
        got = self.client.put(path, json=body)
        if got.status_code >= 300:
            raise RuntimeError(f"PUT {path}: {got.status_code} {got.text[:300]}")

    def get(self, path: str) -> Any:
        got = self.client.get(path)
        got.raise_for_status()
        return got.json()

    def delete(self, path: str) -> bool:
        """DELETE ``path``; False when it was not there (404)."""
        got = self.client.delete(path)
        if got.status_code == 404:
            return False
        if got.status_code >= 300:
            raise RuntimeError(f"DELETE {path}: {got.status_code} {got.text[:300]}")
        return True

    def close(self) -> None:
        self.client.close()


def vhost_of(amqp_uri: str) -> str:
    path = urlsplit(amqp_uri).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def register(
    fed: FederationConfig, name: str, subtree: str, amqp_uri: str,
    services: list[str], password: str = "",
) -> str:  # fmt: skip
    """On the upstream: admit downstream ``name`` for ``subtree``; returns
    the password of its broker user (generated unless given)."""
    _check_name(name)
    subtree = validate_code(subtree, "federation.subtree")
    password = password or secrets.token_urlsafe(24)
    user, vhost = username(name), quote(vhost_of(amqp_uri), safe="")
    api = Management(fed.management_url)
    try:
        api.put(f"/api/users/{user}", {"password": password, "tags": ""})
        api.put(
            f"/api/permissions/{vhost}/{user}",
            {
                "configure": "^$",
                "write": "^" + re.escape(in_exchange(name)) + "$",
                "read": "^$",
            },
        )
    finally:
        api.close()
    with Connection(amqp_uri, connect_timeout=5) as conn:
        for service in services:
            declare_in(conn.default_channel, name, service)
    _remember(fed, name, subtree, user)
    return password


def _remember(fed: FederationConfig, name: str, subtree: str, user: str) -> None:
    if not fed.downstreams_file:
        raise InvalidArgument(
            "federation.downstreams_file", "required",
            "set FEDERATION_DOWNSTREAMS_FILE on the upstream",
            "上级部署须设置 FEDERATION_DOWNSTREAMS_FILE（下级部署登记文件）",
        )  # fmt: skip
    known = [d for d in _known(fed) if d["name"] != name]
    known.append({"name": name, "subtree": subtree, "username": user})
    _write_known(fed, known)


def unregister(
    fed: FederationConfig, name: str, amqp_uri: str, services: list[str],
    purge: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """On the upstream: end downstream ``name``'s link. Its entry leaves the
    downstreams file (the workers stop taking its queues and refuse what it
    still sends), its broker user is deleted and its open connections (the
    shovel's) are closed, so its credentials no longer work. With ``purge``
    its exchange, queues and DLQs go too (deltas still waiting in them are
    dropped); the figures it sent are removed from the databases by
    :func:`purge_figures`. What was done, as a dict."""
    _check_name(name)
    known = _known(fed)
    if not any(d["name"] == name for d in known):
        raise InvalidArgument(
            "federation.name", "registered",
            f"no downstream named {name!r} is registered here"
            " (zhiyuan federation status lists them)",
            f"本部署未登记名为 {name!r} 的下级部署（zhiyuan federation status 可列出）",
        )  # fmt: skip
    _write_known(fed, [d for d in known if d["name"] != name])
    user, vhost = username(name), quote(vhost_of(amqp_uri), safe="")
    api = Management(fed.management_url)
    closed, queues = 0, []
    try:
        for conn in api.get("/api/connections"):
            if conn.get("user") == user:
                closed += api.delete(f"/api/connections/{quote(conn['name'], safe='')}")
        user_deleted = api.delete(f"/api/users/{quote(user, safe='')}")
        if purge:
            for service in services:
                for queue in (
                    in_queue(name, service),
                    f"{in_queue(name, service)}.dlq",
                ):
                    if api.delete(f"/api/queues/{vhost}/{quote(queue, safe='')}"):
                        queues.append(queue)
            api.delete(f"/api/exchanges/{vhost}/{quote(in_exchange(name), safe='')}")
    finally:
        api.close()
    return {
        "name": name, "username": user, "user_deleted": user_deleted,
        "connections_closed": closed, "queues_deleted": queues,
    }  # fmt: skip


def purge_figures(engine: Any, rollup: str, name: str) -> int:
    """Remove what downstream ``name`` forwarded (and, through it, the
    releases below it: ``name/…``) from ``federated_<rollup>``, and its
    links' record; the rows removed. On a relay the removals are forwarded
    upstream like a re-sync's (its delete trigger)."""
    from sqlalchemy import text

    from services.common.federation_schema import federated_table

    below = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "/%"
    with engine.begin() as conn:
        gone = conn.execute(
            text(
                f"DELETE FROM {federated_table(rollup)}"
                " WHERE downstream = :n OR downstream LIKE :below"
            ),
            {"n": name, "below": below},
        ).rowcount
        conn.execute(
            text("DELETE FROM federation_links WHERE downstream = :n"
                 " OR downstream LIKE :below"),
            {"n": name, "below": below},
        )  # fmt: skip
    return int(gone or 0)


def _known(fed: FederationConfig) -> list[dict[str, Any]]:
    path = Path(fed.downstreams_file) if fed.downstreams_file else None
    if path is None or not path.exists():
        return []
    return list(json.loads(path.read_text(encoding="utf-8") or "[]"))


def _write_known(fed: FederationConfig, known: list[dict[str, Any]]) -> None:
    path = Path(fed.downstreams_file)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(known, indent=2), encoding="utf-8")
    tmp.replace(path)


def shovel_name(fed: FederationConfig) -> str:
    return f"zhiyuan-federation-{fed.name}"


def link(fed: FederationConfig, amqp_uri: str) -> dict[str, Any]:
    """On the downstream: the local queue and the shovel to the upstream;
    the shovel's definition (password masked)."""
    _check_name(fed.name)
    if not fed.forwards or not fed.upstream_uri:
        raise InvalidArgument(
            "federation.upstream_uri", "required",
            "a link is made by a downstream or relay release: set FEDERATION_ROLE="
            "downstream (or relay) and FEDERATION_UPSTREAM_URI",
            "只有下级或中继部署可建立联邦链路：请设置 FEDERATION_ROLE=downstream"
            "（或 relay）和 FEDERATION_UPSTREAM_URI",
        )  # fmt: skip
    with Connection(amqp_uri, connect_timeout=5) as conn:
        declare_out(conn.default_channel)
    dest = fed.upstream_uri
    if urlsplit(dest).path == "/":
        # kombu reads a bare "/" as the default vhost, the shovel as "".
        dest = dest[:-1]
    value = {
        "src-protocol": "amqp091",
        "src-uri": "amqp://",
        "src-queue": "zhiyuan.federation.out",
        "dest-protocol": "amqp091",
        "dest-uri": dest,
        "dest-exchange": in_exchange(fed.name),
        "dest-publish-properties": {
            "delivery_mode": 2,
            "user_id": unquote(urlsplit(fed.upstream_uri).username or ""),
        },
        "ack-mode": "on-confirm",
        "reconnect-delay": 1,
    }
    api = Management(fed.management_url)
    try:
        vhost = quote(vhost_of(amqp_uri), safe="")
        api.put(
            f"/api/parameters/shovel/{vhost}/{shovel_name(fed)}",
            {"value": value},
        )
    finally:
        api.close()
    shown = dict(value)
    parts = urlsplit(fed.upstream_uri)
    if parts.password:
        shown["dest-uri"] = dest.replace(parts.password, "***", 1)
    return shown


def shovel_state(fed: FederationConfig, amqp_uri: str) -> str:
    """The shovel's state as the management API reports it ('running',
    'starting', 'terminated', or '' when it is not there)."""
    api = Management(fed.management_url)
    try:
        vhost = quote(vhost_of(amqp_uri), safe="")
        for shovel in api.get(f"/api/shovels/{vhost}"):
            if shovel.get("name") == shovel_name(fed):
                return str(shovel.get("state") or "")
        return ""
    finally:
        api.close()
