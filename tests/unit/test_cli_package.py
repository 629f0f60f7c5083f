"""The shape of services/cli: its package module imports nothing (a worker
process imports it before eventlet patches the standard library), and no
module of it uses another's private names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CLI = Path(__file__).resolve().parents[2] / "services" / "cli"
MODULES = sorted(CLI.glob("*.py"))


def test_the_package_module_imports_nothing_at_import_time() -> None:
    tree = ast.parse((CLI / "__init__.py").read_text(encoding="utf-8"))
    imports = [
        ast.unparse(node)
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
        and not (isinstance(node, ast.ImportFrom) and node.module == "__future__")
    ]
    assert imports == []


def test_the_worker_patches_before_it_imports_the_platform() -> None:
    tree = ast.parse((CLI / "worker.py").read_text(encoding="utf-8"))
    before: list[str] = []
    for node in tree.body:
        if ast.unparse(node) == "eventlet.monkey_patch()":
            break
        if isinstance(node, ast.Import):
            before += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            before.append(node.module or "")
    else:
        pytest.fail("worker.py never calls eventlet.monkey_patch()")
    assert set(before) == {"os", "warnings", "eventlet"}


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_no_module_imports_private_names(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    private = [
        f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and (node.module or "").startswith("services")
        for alias in node.names
        if alias.name.startswith("_")
    ]
    assert private == []
