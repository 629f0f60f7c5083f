#!/usr/bin/env bash
# `make test` after its set-up: three stages at once, since none of them
# keeps two cores busy alone (the suite waits on servers and processes most
# of its time):
#   1. the static checks: `make lint proto-lint chart-check compose-check`;
#   2. the fault tier (tests/faults: private PostgreSQL clusters and RabbitMQ
#      nodes that it kills, its own processes and databases);
#   3. the rest of the suite, in the foreground.
# They share nothing but the machine's PostgreSQL and RabbitMQ, where each
# has its own databases and vhosts. Stages 1 and 2 are logged to
# test-artifacts/ and printed whole after stage 3. Extra arguments go to both
# pytest runs. The exit code is non-zero if any stage failed.
#
#   bash scripts/test_stages.sh [pytest args...]
#   ZY_SERIAL=1 bash scripts/test_stages.sh     # one stage after the other
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PY:-.venv/bin/python}"
MAKE="${MAKE:-make}"
STATIC=(lint proto-lint chart-check compose-check)

if [[ "${ZY_SERIAL:-}" == 1 ]]; then
  "$MAKE" --no-print-directory "${STATIC[@]}" || exit 1
  exec "$PY" -m pytest tests -q --durations=10 "$@"
fi

mkdir -p test-artifacts
static_log="test-artifacts/static-checks.log"
faults_log="test-artifacts/pytest-faults.log"
started=$SECONDS

"$MAKE" --no-print-directory "${STATIC[@]}" >"$static_log" 2>&1 &
static_pid=$!
"$PY" -m pytest tests/faults -q --durations=10 "$@" >"$faults_log" 2>&1 &
faults_pid=$!
# Interrupted: stop the background stages too (each stops what it started).
trap 'kill "$static_pid" "$faults_pid" 2>/dev/null; wait 2>/dev/null; exit 130' INT TERM

"$PY" -m pytest tests -q --durations=10 --ignore=tests/faults "$@"
rest=$?
echo "==> rest of the suite: exit $rest after $((SECONDS - started)) s"
wait "$static_pid"
static=$?
echo "==> static checks (lint, proto-lint, chart-check, compose-check): exit $static after $((SECONDS - started)) s"
cat "$static_log"
wait "$faults_pid"
faults=$?
echo "==> fault tier (tests/faults): exit $faults after $((SECONDS - started)) s"
cat "$faults_log"
if ((rest != 0 || static != 0 || faults != 0)); then
  echo "make test: FAILED (rest $rest, static checks $static, fault tier $faults)"
  exit 1
fi
echo "make test: every stage passed in $((SECONDS - started)) s"
