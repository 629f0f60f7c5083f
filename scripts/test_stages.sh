#!/usr/bin/env bash
# `make test` after its set-up: three stages at once, since none of them
# keeps two cores busy alone (the suite waits on servers and processes most
# of its time):
#   1. the static checks: `make lint proto-lint chart-check compose-check`,
#      then the unit tier (tests/unit: no servers, no session fixtures);
#   2. the fault tier (tests/faults: private PostgreSQL clusters and RabbitMQ
#      nodes that it kills, its own processes and databases);
#   3. the rest of the suite, in the foreground: the longest stage, so the
#      unit tier runs beside it rather than in it.
# They share nothing but the machine's PostgreSQL and RabbitMQ, where each
# has its own databases and vhosts (the unit tier uses neither: the shared
# PostgreSQL's 100 connections are why the rest is not split further).
# Stages 1 and 2 are logged to test-artifacts/ and printed whole after stage
# 3. Extra arguments go to every pytest run. The exit code is non-zero if any
# stage failed.
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

unit_log="test-artifacts/pytest-unit.log"
static_rc="test-artifacts/static-checks.rc"
rm -f "$static_rc"
# Stage 1: the static checks, then the unit tier (one core's worth of work
# beside the other two stages).
(
  "$MAKE" --no-print-directory "${STATIC[@]}" >"$static_log" 2>&1
  echo $? >"$static_rc"
  exec "$PY" -m pytest tests/unit -q --durations=10 "$@" >"$unit_log" 2>&1
) &
stage1_pid=$!
"$PY" -m pytest tests/faults -q --durations=10 "$@" >"$faults_log" 2>&1 &
faults_pid=$!
# Interrupted: stop the background stages too (each stops what it started).
trap 'kill "$stage1_pid" "$faults_pid" 2>/dev/null; wait 2>/dev/null; exit 130' INT TERM

"$PY" -m pytest tests -q --durations=10 --ignore=tests/faults --ignore=tests/unit "$@"
rest=$?
echo "==> rest of the suite: exit $rest after $((SECONDS - started)) s"
wait "$stage1_pid"
unit=$?
static=$(cat "$static_rc" 2>/dev/null || echo 1)
echo "==> static checks (lint, proto-lint, chart-check, compose-check): exit $static"
cat "$static_log"
echo "==> unit tier (tests/unit): exit $unit after $((SECONDS - started)) s"
cat "$unit_log"
wait "$faults_pid"
faults=$?
echo "==> fault tier (tests/faults): exit $faults after $((SECONDS - started)) s"
cat "$faults_log"
if ((rest != 0 || static != 0 || unit != 0 || faults != 0)); then
  echo "make test: FAILED (rest $rest, static checks $static, unit tier $unit, fault tier $faults)"
  exit 1
fi
echo "make test: every stage passed in $((SECONDS - started)) s"
