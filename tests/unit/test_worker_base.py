"""One worker base (``OutboxWorker``) and a kernel that names no service.

Every service's worker inherits the relay timer, the hourly purge and the
dependencies, bound to its own name; the kernel (``services/common``)
imports no service module, and the event topology is declared by the
composition root (``services.catalog``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from services import catalog
from services.common import worker
from services.common.worker import (
    DatabaseDependency,
    Heartbeat,
    OutboxTimer,
    OutboxWorker,
    RelayDependency,
)

KERNEL = Path(worker.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_kernel_imports_no_service() -> None:
    offenders = {
        f"{path.relative_to(KERNEL.parent.parent)}: {module}"
        for path in KERNEL.rglob("*.py")
        for module in _imported_modules(path)
        if module.startswith("services.") and not module.startswith("services.common")
    }
    assert offenders == set()


def test_the_check_sees_an_import_of_a_service(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from services.catalog import SERVICES\n")
    assert "services.catalog" in _imported_modules(bad)


@pytest.mark.parametrize("name", catalog.SERVICES)
def test_every_worker_is_an_outbox_worker_named_as_its_service(name: str) -> None:
    cls = catalog.worker_class(name)
    assert issubclass(cls, OutboxWorker)
    assert cls.name == name
    assert cls.processed.name == "processed_events"
    # The inherited entrypoints and dependencies, not copies of them.
    assert cls.relay_outbox is OutboxWorker.relay_outbox
    assert cls.purge_outbox is OutboxWorker.purge_outbox
    (entry,) = getattr(cls.relay_outbox, ENTRYPOINT_EXTENSIONS_ATTR)
    assert isinstance(entry, OutboxTimer)
    assert isinstance(cls.db, DatabaseDependency) and cls.db.service is None
    assert isinstance(cls.relay, RelayDependency)
    assert isinstance(cls.heartbeat, Heartbeat)


def test_handler_queues_need_a_topology_from_the_composition_root() -> None:
    saved = list(worker._TOPOLOGY)
    try:
        worker.register_topology([])
        with pytest.raises(RuntimeError, match="register_topology"):
            worker.handler_queues()
        catalog.install_topology()
        registered = {q.name for q in worker.handler_queues()}
        given = {q.name for q in worker.handler_queues(catalog.worker_classes())}
        assert registered == given
        assert any(n.endswith("--commendation.on_record_approved") for n in registered)
    finally:
        worker.register_topology(saved)
