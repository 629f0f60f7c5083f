"""Entry of a worker process: eventlet must patch the standard library before
anything else is imported, and psycopg must use select-based waiting under
eventlet (../shared/STACK_NOTES.md). Usage: python -m services.cli.worker NAME
"""

import os
import warnings

os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")
# eventlet announces its deprecation on import; it is known and contained here.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import sys  # noqa: E402


def main(name: str) -> None:
    from nameko import config as nameko_config
    from nameko.runners import ServiceRunner

    from services.catalog import install_topology, worker_class
    from services.common import telemetry
    from services.common.config import load
    from services.common.worker import nameko_config as make_config

    cfg = load()
    telemetry.init(f"{name}-worker")
    nameko_config.setup(make_config(cfg))
    install_topology()
    runner = ServiceRunner()
    runner.add_service(worker_class(name))

    def shutdown(*_):  # type: ignore[no-untyped-def]
        eventlet.spawn(runner.stop)

    import signal

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    from services.common.deadletter import QueueMismatch

    try:
        runner.start()
    except QueueMismatch as exc:
        # Nothing was started (it failed in setup): the operator's move
        # (docs/broker.md), not a traceback.
        sys.exit(f"{name} worker: {exc}")
    from services.common import metrics

    metrics.start_worker(cfg, name, runner)
    runner.wait()


if __name__ == "__main__":
    from services.catalog import SERVICES

    if len(sys.argv) != 2 or sys.argv[1] not in SERVICES:
        sys.exit(f"usage: python -m services.cli.worker {{{','.join(SERVICES)}}}")
    main(sys.argv[1])
