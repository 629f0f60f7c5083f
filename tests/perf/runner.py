"""The benchmark runner's building blocks: a registry, settings, call-rate
measurement and reporting.

A benchmark is a module ``tests/perf/bench_<name>.py`` that defines
``BENCHMARK = Benchmark(name, summary, run)``; ``python -m tests.perf`` finds
it by itself. ``run(settings)`` measures its subject *and* its baseline in the
same run and returns a :class:`Report` (a table for people, a dict for JSON).

Rules every benchmark keeps: ratios against a baseline measured in the same
run, never a timed assert; loops bounded by a call count (and a time cap as a
safety net); loopback traffic only; everything it creates is removed, also on
Ctrl-C or an error.
"""

from __future__ import annotations

import contextlib
import json
import math
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "test-artifacts" / "bench"


class Interrupted(Exception):
    """Raised in a measurement when the run is being stopped (Ctrl-C)."""


@dataclass(frozen=True)
class Settings:
    quick: bool = False
    out_dir: Path = DEFAULT_OUT
    # Set by the runner on Ctrl-C/SIGTERM so caller threads stop promptly.
    abort: threading.Event = field(default_factory=threading.Event)

    def pick(self, full: int, quick: int) -> int:
        return quick if self.quick else full


@dataclass
class Report:
    title: str
    columns: list[str]
    rows: list[list[Any]]
    data: dict[str, Any]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Benchmark:
    name: str
    summary: str
    run: Callable[[Settings], Report]


# --- interruption ----------------------------------------------------------

_shielded = 0
_deferred = False


@contextlib.contextmanager
def uninterruptible() -> Iterator[None]:
    """Hold a Ctrl-C back across a step that creates something until its
    clean-up is registered (``create + stack.callback(remove)``)."""
    global _shielded
    _shielded += 1
    try:
        yield
    finally:
        _shielded -= 1
    if _deferred and not _shielded:
        raise KeyboardInterrupt


def install_signals(settings: Settings) -> None:
    """First Ctrl-C/SIGTERM: stop measuring and clean up. Later ones are
    ignored so the clean-up (server, database, vhost) can finish."""

    def handler(signum: int, frame: FrameType | None) -> None:
        global _deferred
        if settings.abort.is_set():
            print("\n  still cleaning up, please wait…", file=sys.stderr, flush=True)
            return
        settings.abort.set()
        print("\n  interrupted: cleaning up…", file=sys.stderr, flush=True)
        if _shielded:
            _deferred = True
            return
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


# --- measuring ------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """``callers`` threads each make ``calls`` calls after ``warmup`` calls;
    a caller also stops at ``cap_seconds`` (reported, never silently)."""

    callers: int
    calls: int
    warmup: int
    cap_seconds: float = 20.0

    @property
    def label(self) -> str:
        return f"{self.callers}x{self.calls}"


@dataclass(frozen=True)
class Sample:
    callers: int
    calls: int
    seconds: float
    calls_per_s: float
    p50_ms: float
    p99_ms: float
    capped: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "callers": self.callers,
            "calls": self.calls,
            "seconds": round(self.seconds, 4),
            "calls_per_s": round(self.calls_per_s, 1),
            "p50_ms": round(self.p50_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "capped_by_time": self.capped,
        }


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def measure(
    make_caller: Callable[[], tuple[Callable[[], object], Callable[[], None]]],
    load: Load,
    abort: threading.Event,
) -> Sample:
    """Run ``load`` and return the calls/s over the timed calls and their latency.

    ``make_caller()`` returns ``(call, close)`` for one caller thread: ``call``
    makes one request (raising on failure), ``close`` releases the caller's
    resources. Each caller warms up, then all start timing together.
    """
    latencies: list[list[float]] = [[] for _ in range(load.callers)]
    errors: list[BaseException] = []
    ready = threading.Barrier(load.callers + 1)
    go = threading.Event()
    capped = threading.Event()

    def caller(slot: list[float]) -> None:
        call, close = make_caller()
        try:
            for _ in range(load.warmup):
                if abort.is_set():
                    break
                call()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
            abort.set()
        try:
            ready.wait(timeout=load.cap_seconds)
            go.wait(timeout=load.cap_seconds)
            deadline = time.monotonic() + load.cap_seconds
            clock = time.perf_counter
            for _ in range(load.calls):
                if abort.is_set():
                    break
                if time.monotonic() > deadline:
                    capped.set()
                    break
                started = clock()
                call()
                slot.append(clock() - started)
        except threading.BrokenBarrierError:
            pass
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
            abort.set()
        finally:
            close()

    threads = [
        threading.Thread(target=caller, args=(latencies[i],), daemon=True)
        for i in range(load.callers)
    ]
    for t in threads:
        t.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        ready.wait(timeout=load.cap_seconds + 30)
    started = time.perf_counter()
    go.set()
    try:
        for t in threads:
            while t.is_alive():
                t.join(timeout=0.2)
    except BaseException:
        abort.set()
        ready.abort()
        for t in threads:
            t.join(timeout=5)
        raise
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    if abort.is_set():
        raise Interrupted("stopped")
    values = sorted(v for slot in latencies for v in slot)
    return Sample(
        callers=load.callers,
        calls=len(values),
        seconds=elapsed,
        calls_per_s=len(values) / elapsed if elapsed > 0 else math.nan,
        p50_ms=percentile(values, 50) * 1000,
        p99_ms=percentile(values, 99) * 1000,
        capped=capped.is_set(),
    )


def ratio(subject: float, baseline: float) -> float:
    return subject / baseline if baseline else math.nan


# --- reporting ------------------------------------------------------------


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render(report: Report) -> str:
    cells = [[_cell(v) for v in row] for row in report.rows]
    widths = [len(c) for c in report.columns]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]

    def line(values: Sequence[str]) -> str:
        first, *rest = values
        parts = [first.ljust(widths[0])]
        parts += [v.rjust(w) for v, w in zip(rest, widths[1:], strict=True)]
        return "  ".join(parts).rstrip()

    out = [report.title, "=" * len(report.title), line(report.columns)]
    out.append("  ".join("-" * w for w in widths))
    out += [line(row) for row in cells]
    if report.notes:
        out.append("")
        out += [f"* {note}" for note in report.notes]
    return "\n".join(out)


def write_json(report: Report, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report.data, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(path)
    return path
