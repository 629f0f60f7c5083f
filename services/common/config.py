"""One configuration file of ``${ENV:default}`` entries, read once per process.

The file is ``deploy/config.yaml`` unless ``ZHIYUAN_CONFIG`` names another.
This module is the only place that reads the environment: service code asks
the :class:`Config` it was handed.

Example::

    cfg = load()
    cfg.service("registration").database_url
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PATH = ROOT / "deploy" / "config.yaml"
_VAR = re.compile(r"\$\{([A-Z0-9_]+)(?::([^}]*))?\}")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def expand(text: str, env: Mapping[str, str]) -> str:
    """Replace ``${NAME:default}`` by the variable's value or the default."""

    def sub(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is None:
            raise KeyError(f"configuration needs the environment variable {name}")
        return default

    return _VAR.sub(sub, text)


def _scalar(value: Any) -> Any:
    # YAML typed the text before expansion; re-type numbers written as text.
    if isinstance(value, str):
        if re.fullmatch(r"-?\d+", value):
            return int(value)
        if re.fullmatch(r"-?\d+\.\d+", value):
            return float(value)
    return value


@dataclass(frozen=True)
class ServiceConfig:
    name: str
    database_url: str
    database_app_role: str
    grpc_address: str
    grpc_listen: str
    heartbeat_file: str
    outbox_interval_seconds: float
    # Connections kept per process, and how many more a burst may open:
    # replicas × processes × (both) must stay under PostgreSQL's
    # max_connections (100 by default).
    database_pool_size: int = 4
    database_max_overflow: int = 2


class Config:
    """The expanded configuration, read-only."""

    def __init__(self, data: dict[str, Any]):
        self.data = data

    def __getitem__(self, key: str) -> Any:
        node: Any = self.data
        for part in key.split("."):
            node = node[part]
        return _scalar(node)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except (KeyError, TypeError):
            return default

    def flag(self, key: str, default: bool = False) -> bool:
        """A yes/no entry (``true``/``false``, ``1``/``0``, ``yes``/``no``,
        ``on``/``off``; empty or absent: ``default``).

        Example::

            cfg.flag("broker.quorum_queues")  # False unless BROKER_QUORUM_QUEUES=true
        """
        value = self.get(key)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(
            f"configuration {key}: true or false, not {value!r}"
            f" / 配置项 {key} 只能是 true 或 false，而不是 {value!r}"
        )

    @property
    def data_dir(self) -> Path:
        return Path(self["data_dir"])

    def service_names(self) -> list[str]:
        return list(self.data["services"])

    def service(self, name: str) -> ServiceConfig:
        raw = self.data["services"][name]
        url = raw["database_url"] or f"sqlite:///{self.data_dir}/data/{name}.db"
        return ServiceConfig(
            name=name,
            database_url=url,
            database_app_role=raw["database_app_role"],
            grpc_address=raw["grpc_address"],
            grpc_listen=raw["grpc_listen"],
            heartbeat_file=raw["heartbeat_file"],
            outbox_interval_seconds=float(raw["outbox_interval_seconds"]),
            database_pool_size=int(self.get("database.pool_size", 4) or 4),
            database_max_overflow=int(self.get("database.max_overflow", 2) or 0),
        )


def load(
    path: str | Path | None = None, env: Mapping[str, str] | None = None
) -> Config:
    """Read and expand the config file (``ZHIYUAN_CONFIG`` or the default)."""
    env = os.environ if env is None else env
    path = Path(path or env.get("ZHIYUAN_CONFIG") or DEFAULT_PATH)
    # Expand after parsing, so values (multi-line PEM keys) need no quoting.
    return Config(_expand_tree(yaml.safe_load(path.read_text(encoding="utf-8")), env))


def variable(
    key: str, path: str | Path | None = None, env: Mapping[str, str] | None = None
) -> str | None:
    """The environment variable behind a dotted key of the config file, for
    messages that tell an operator what to change.

    Example::

        variable("gateway.listen")  # "GATEWAY_LISTEN"
    """
    env = os.environ if env is None else env
    path = Path(path or env.get("ZHIYUAN_CONFIG") or DEFAULT_PATH)
    node: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    found = _VAR.search(node) if isinstance(node, str) else None
    return found.group(1) if found else None


def _expand_tree(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        return {k: _expand_tree(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [_expand_tree(v, env) for v in node]
    if isinstance(node, str):
        return expand(node, env)
    return node
