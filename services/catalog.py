"""The domain services the platform runs, each with an api role
(``services.<name>.service.serve``) and a worker role
(``services.<name>.worker.WORKER``, a nameko service class), its own database
and its own migrations. Adding a service means adding its name here."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

SERVICES: tuple[str, ...] = (
    "registration",
    "activity",
    "hours",
    "recycling",
    "commendation",
)


def api_entry(name: str) -> Callable[..., None]:
    """The ``serve(cfg, stop=None)`` function of a service's api role."""
    return importlib.import_module(f"services.{name}.service").serve


def worker_class(name: str) -> Any:
    """The nameko service class of a service's worker role."""
    return importlib.import_module(f"services.{name}.worker").WORKER


def worker_classes() -> list[Any]:
    """Every service's worker class: the platform's event topology."""
    return [worker_class(name) for name in SERVICES]


def install_topology() -> None:
    """Tell the kernel's relays which queues make up the platform (the
    composition root's job: the kernel imports no service)."""
    from services.common.worker import register_topology

    register_topology(worker_classes())
