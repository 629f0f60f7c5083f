"""The process supervisor behind ``zhiyuan up``: it starts every process of
the platform, prefixes their output with their name, and restarts one that
exits, with growing delays, while the others keep running.

- A crashed process is restarted after 1 s, then 2, 4, 8 … capped at
  ``max_delay`` (30 s); once it has stayed up ``stable_after`` seconds (60)
  its next crash starts again from 1 s.
- Every start, exit and restart is one line on stdout, prefixed
  ``supervisor |``, naming the process, its pid and the exit code.
- SIGINT (Ctrl-C) or SIGTERM stops everything: each child gets SIGTERM by
  its pid, then SIGKILL if it is still there after ``grace`` seconds.
- Given ``ready`` probes (name → callable), a thread polls them after the
  start and says ``on_ready(seconds)`` once all of them pass; until then,
  every ``remind_every`` seconds, it names the processes still awaited.

Example::

    sup = Supervisor({"gateway": ["zhiyuan", "run", "gateway"]})
    sys.exit(sup.run())  # until SIGINT/SIGTERM
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO


@dataclass
class Child:
    """One supervised process and its restart state."""

    name: str
    argv: list[str]
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    failures: int = 0  # consecutive short-lived runs
    restart_at: float | None = None
    readers: list[threading.Thread] = field(default_factory=list)


class Supervisor:
    """Runs ``processes`` (name → argv) until stopped; see the module doc."""

    def __init__(
        self,
        processes: Mapping[str, Sequence[str]],
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        first_delay: float = 1.0,
        max_delay: float = 30.0,
        stable_after: float = 60.0,
        grace: float = 10.0,
        out: IO[str] | None = None,
        ready: Mapping[str, Callable[[], bool]] | None = None,
        on_ready: Callable[[float], str] | None = None,
        remind_every: float = 30.0,
    ):
        self.children = {n: Child(n, list(argv)) for n, argv in processes.items()}
        self.cwd, self.env = cwd, dict(env) if env is not None else None
        self.first_delay, self.max_delay = first_delay, max_delay
        self.stable_after, self.grace = stable_after, grace
        self.out = out or sys.stdout
        self.stopping = threading.Event()
        self._write_lock = threading.Lock()
        self._width = max((len(n) for n in self.children), default=10)
        self.ready = dict(ready or {})
        self.on_ready = on_ready or (lambda s: f"ready / 已就绪 ({s:.0f}s)")
        self.remind_every = remind_every

    # -- output ---------------------------------------------------------------

    def say(self, message: str, name: str = "supervisor") -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        with self._write_lock:
            for line in message.splitlines() or [""]:
                self.out.write(f"{stamp} {name:<{self._width}} | {line}\n")
            self.out.flush()

    def _pump(self, child: Child, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            self.say(raw.decode("utf-8", "replace").rstrip("\n"), child.name)
        stream.close()

    # -- lifecycle ------------------------------------------------------------

    def start(self, child: Child) -> None:
        proc = subprocess.Popen(  # noqa: S603 - our own commands
            child.argv,
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        child.proc, child.started_at, child.restart_at = proc, time.monotonic(), None
        assert proc.stdout is not None
        reader = threading.Thread(
            target=self._pump, args=(child, proc.stdout), daemon=True
        )
        reader.start()
        child.readers = [reader]
        self.say(f"started {child.name} (pid {proc.pid})")

    def delay(self, child: Child) -> float:
        """Seconds before the next restart: 1, 2, 4 … capped."""
        return float(min(self.max_delay, self.first_delay * 2 ** (child.failures - 1)))

    def _reap(self, child: Child, now: float) -> None:
        assert child.proc is not None
        code = child.proc.returncode
        uptime = now - child.started_at
        if uptime >= self.stable_after:
            child.failures = 0  # it had recovered: start the backoff again
        child.failures += 1
        wait = self.delay(child)
        child.restart_at = now + wait
        how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
        self.say(
            f"{child.name} (pid {child.proc.pid}) exited ({how}) after "
            f"{uptime:.1f}s; restart #{child.failures} in {wait:g}s / "
            f"进程退出，{wait:g} 秒后重启"
        )
        child.proc = None

    def tick(self) -> None:
        """Notice exits and start what is due; called a few times a second."""
        now = time.monotonic()
        for child in self.children.values():
            if child.proc is not None and child.proc.poll() is not None:
                self._reap(child, now)
            due = child.restart_at is not None and now >= child.restart_at
            if child.proc is None and due and not self.stopping.is_set():
                self.say(f"restarting {child.name}")
                self.start(child)

    def await_ready(self, poll: float = 1.0) -> bool:
        """Poll the ``ready`` probes until all pass (then say ``on_ready``
        once and return True) or the supervisor stops (False)."""
        started = time.monotonic()
        waiting = dict(self.ready)
        remind_at = started + self.remind_every
        while waiting:
            for name, probe in list(waiting.items()):
                try:
                    answered = probe()
                except Exception:  # noqa: BLE001 - any failure means "not yet"
                    answered = False
                if answered:
                    del waiting[name]
            now = time.monotonic()
            if waiting and now >= remind_at:
                self.say(
                    f"waiting for {', '.join(waiting)} ({now - started:.0f}s) / "
                    "仍在等待这些进程就绪"
                )
                remind_at = now + self.remind_every
            if waiting and self.stopping.wait(poll):
                return False
        if self.stopping.is_set():
            return False
        self.say(self.on_ready(time.monotonic() - started))
        return True

    def stop_all(self) -> None:
        """SIGTERM every child by pid, SIGKILL what is left after the grace."""
        running = [c for c in self.children.values() if c.proc is not None]
        for child in running:
            assert child.proc is not None
            if child.proc.poll() is None:
                self.say(f"stopping {child.name} (pid {child.proc.pid})")
                child.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for child in running:
            assert child.proc is not None
            try:
                child.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(f"{child.name} (pid {child.proc.pid}) did not stop: SIGKILL")
                child.proc.kill()
                child.proc.wait()
        for child in running:
            for reader in child.readers:
                reader.join(timeout=2)
        self.say("all processes stopped / 所有进程已停止")

    def run(self, poll: float = 0.2) -> int:
        """Start everything and supervise until SIGINT/SIGTERM; returns 0."""
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: self.stopping.set())
        try:
            for child in self.children.values():
                self.start(child)
            if self.ready:
                threading.Thread(target=self.await_ready, daemon=True).start()
            while not self.stopping.wait(poll):
                self.tick()
        finally:
            self.stopping.set()
            self.stop_all()
        return 0


def platform_processes(
    services: Sequence[str], only: Sequence[str] = ()
) -> dict[str, list[str]]:
    """name → argv of every process ``zhiyuan up`` runs (or the ``only`` ones)."""
    zhiyuan = [sys.executable, "-m", "services.cli"]
    procs = {
        f"{s}-{role}": [*zhiyuan, "run", s, role]
        for s in services
        for role in ("api", "worker")
    }
    procs["gateway"] = [*zhiyuan, "run", "gateway"]
    unknown = sorted(set(only) - set(procs))
    if unknown:
        raise SystemExit(
            f"unknown process {', '.join(unknown)}; known: {', '.join(procs)} / "
            "未知的进程名"
        )
    return {n: a for n, a in procs.items() if not only or n in only}
