"""``zhiyuan``: the operator's and office's command line.

`zhiyuan --help` lists the commands (root.OVERVIEW); `zhiyuan COMMAND
--help` explains one, with examples.

One module per command group (provision, admin, processes, reports,
commendation, import_, dlq), each with an ``add_commands(sub)``; root.py
builds the parser from them and maps errors to exit codes; help.py gives
every command the same --help shape; remote.py is what the commands that ask
a running service share. The processes ``zhiyuan up`` and ``zhiyuan run``
start live here too: up.py, supervisor.py and worker.py (a worker process).

This package's own module imports nothing, on purpose: ``python -m
services.cli.worker`` imports it first, and eventlet must patch the standard
library before anything else is imported (../shared/STACK_NOTES.md).

Example::

    python -m services.cli rollup hours --division 6101
"""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    """Run ``zhiyuan`` with ``argv`` (default: the command line); the exit code.

    Example::

        main(["token", "--username", "ops", "--scope", "61", "--roles", "operator"])
    """
    from services.cli.root import run

    return run(argv)
