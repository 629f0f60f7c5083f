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
    path = Path(fed.downstreams_file)
    known = (
        json.loads(path.read_text(encoding="utf-8") or "[]") if path.exists() else []
    )
    known = [d for d in known if d["name"] != name]
    known.append({"name": name, "subtree": subtree, "username": user})
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
