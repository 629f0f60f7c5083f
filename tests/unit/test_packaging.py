"""The distribution the container image installs carries what is not a
Python module: every service's migrations and the division reference; and
the `zhiyuan` command with the worker entry it execs."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from services.catalog import SERVICES

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_contains_migrations_and_reference_data(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("zhiyuan-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in SERVICES:
        assert f"services/{name}/migrations/env.py" in names
        assert f"services/{name}/migrations/versions/0001_initial.py" in names
    assert "services/common/reference/streets.csv" in names
    # The `zhiyuan` script and the worker entry the chart's commands run.
    assert {"services/cli/__main__.py", "services/cli/worker.py"} <= names
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    scripts = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "zhiyuan = services.cli:main" in scripts
