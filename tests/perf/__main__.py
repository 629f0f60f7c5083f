"""Zhiyuan's benchmarks: ``python -m tests.perf`` (``make bench``).

Every benchmark measures its subject against a baseline in the same run and
prints ratios; it also writes ``test-artifacts/bench/<name>.json``. Add one
by writing ``tests/perf/bench_<name>.py`` with ``BENCHMARK = Benchmark(...)``
(see ``tests/perf/runner.py``).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
from pathlib import Path

import tests.perf
from tests.perf.runner import (
    DEFAULT_OUT,
    Benchmark,
    Interrupted,
    Settings,
    install_signals,
    render,
)
from tests.perf.runner import write_json as write_report


def discover() -> dict[str, Benchmark]:
    found: dict[str, Benchmark] = {}
    for info in sorted(pkgutil.iter_modules(tests.perf.__path__), key=lambda m: m.name):
        if not info.name.startswith("bench_"):
            continue
        module = importlib.import_module(f"tests.perf.{info.name}")
        bench = getattr(module, "BENCHMARK", None)
        if isinstance(bench, Benchmark):
            found[bench.name] = bench
    return found


def parse(argv: list[str] | None, benches: dict[str, Benchmark]) -> argparse.Namespace:
    listing = "\n".join(f"  {b.name:<14} {b.summary}" for b in benches.values())
    parser = argparse.ArgumentParser(
        prog="python -m tests.perf",
        description=(
            "Run Zhiyuan's benchmarks on the local PostgreSQL and RabbitMQ. Each "
            "prints calls/s and latency as ratios against a baseline measured in "
            "the same run, and writes a JSON file per benchmark."
        ),
        epilog=f"benchmarks:\n{listing}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer iterations (a smoke run, noisier)"
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        choices=sorted(benches),
        help="run only this benchmark (repeatable)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"where the JSON files go (default: {DEFAULT_OUT})",
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    benches = discover()
    args = parse(argv, benches)
    if args.list:
        for bench in benches.values():
            print(f"{bench.name:<14} {bench.summary}")
        return 0
    settings = Settings(quick=args.quick, out_dir=args.out)
    install_signals(settings)
    failed = []
    for name in args.only or list(benches):
        bench = benches[name]
        print(f"running {name}{' (quick)' if args.quick else ''}…", file=sys.stderr)
        started = time.monotonic()
        try:
            report = bench.run(settings)
        except (KeyboardInterrupt, Interrupted):
            print(f"{name}: interrupted, cleaned up", file=sys.stderr)
            return 130
        except BaseException as exc:  # noqa: BLE001 - pytest.fail() is a BaseException
            if isinstance(exc, SystemExit):
                raise
            print(f"{name}: FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
            failed.append(name)
            continue
        path = write_report(report, settings.out_dir / f"{name}.json")
        print(render(report))
        print(f"\n({time.monotonic() - started:.1f} s; JSON: {path})\n", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
