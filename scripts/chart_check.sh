#!/usr/bin/env bash
# `make chart-check`: prove charts/zhiyuan lints, renders every ci/ values
# permutation into objects the Kubernetes API schemas accept (strict: unknown
# fields fail, and so does a kind with no schema), and that its own
# values.schema.json and cross-field validation reject bad values.
#
# Tools come from the environment, defaults are the project-local ones:
#   HELM=.tools/bin/helm  KUBERNETES_VALIDATE=.venv/bin/kubernetes-validate
#   PYTHON=.venv/bin/python (with PyYAML)
#   KUBE_VERSIONS="1.30.0 1.34.0"   (kubernetes-validate 1.37.0 ships 1.25..1.37)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
HELM="${HELM:-.tools/bin/helm}"
KUBERNETES_VALIDATE="${KUBERNETES_VALIDATE:-.venv/bin/kubernetes-validate}"
CHART="${CHART:-charts/zhiyuan}"
KUBE_VERSIONS="${KUBE_VERSIONS:-1.30.0 1.34.0}"
PYTHON="${PYTHON:-.venv/bin/python}"
RELEASE=zhiyuan
NAMESPACE=zhiyuan

for tool in "$HELM" "$KUBERNETES_VALIDATE" "$PYTHON"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "chart-check: $tool not found (run 'make tools' and 'make venv', or set HELM / KUBERNETES_VALIDATE / PYTHON)" >&2
    exit 2
  fi
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# Keep helm away from the user's config and caches.
export HELM_CACHE_HOME="$tmp/helm/cache" HELM_CONFIG_HOME="$tmp/helm/config" HELM_DATA_HOME="$tmp/helm/data"

failures=0
step() { printf '\n==> %s\n' "$*"; }
pass() { printf '    ok    %s\n' "$*"; }
fail() { printf '    FAIL  %s\n' "$*"; failures=$((failures + 1)); }
indent() { sed 's/^/          /'; }

shopt -s nullglob
permutations=("$CHART"/ci/*-values.yaml)
if ((${#permutations[@]} == 0)); then
  echo "chart-check: no $CHART/ci/*-values.yaml permutations" >&2
  exit 1
fi

echo "helm $("$HELM" version --short), kubernetes-validate $("$KUBERNETES_VALIDATE" --version), Kubernetes ${KUBE_VERSIONS}"

step "values.yaml documents every value (## @param); values.schema.json is closed"
if out="$("$PYTHON" - "$CHART" <<'PY' 2>&1
import json, re, sys

import yaml

chart = sys.argv[1]
text = open(f"{chart}/values.yaml").read()
params = set(re.findall(r"^\s*## @param (\S+)", text, re.M))
values = yaml.safe_load(text)
problems = []


def undocumented(node, prefix=""):
    for key, value in node.items():
        path = f"{prefix}.{key}" if prefix else key
        if path in params:
            continue
        if isinstance(value, dict) and value:
            undocumented(value, path)
        else:
            problems.append(f"values.yaml: {path} has no ## @param")


def resolves(path):
    node = values
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def open_objects(node, where="#"):
    if isinstance(node, dict):
        if "properties" in node and node.get("additionalProperties") is not False:
            problems.append(f"values.schema.json: {where} lists properties but allows others")
        for key, value in node.items():
            open_objects(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            open_objects(value, f"{where}/{i}")


undocumented(values)
problems += [f"values.yaml: ## @param {p} names no value" for p in sorted(params) if not resolves(p)]
open_objects(json.load(open(f"{chart}/values.schema.json")))
print("\n".join(problems) or f"{len(params)} documented parameters")
sys.exit(1 if problems else 0)
PY
)"; then
  pass "$out"
else
  fail "documentation or schema"; printf '%s\n' "$out" | indent
fi

step "helm lint --strict $CHART (chart defaults, then each ci/ permutation)"
for values in "" "${permutations[@]}"; do
  label="${values:-(defaults)}"
  if out="$("$HELM" lint --strict "$CHART" ${values:+-f "$values"} 2>&1)"; then
    pass "lint $label"
  else
    fail "lint $label"; printf '%s\n' "$out" | indent
  fi
done

step "helm template | kubernetes-validate --strict, per permutation and Kubernetes version"
for values in "${permutations[@]}"; do
  for kube in $KUBE_VERSIONS; do
    label="$(basename "$values") @ $kube"
    manifest="$tmp/$(basename "$values" .yaml)-$kube.yaml"
    if ! "$HELM" template "$RELEASE" "$CHART" --namespace "$NAMESPACE" \
        --kube-version "$kube" -f "$values" >"$manifest" 2>"$tmp/err"; then
      fail "template $label"; indent <"$tmp/err"; continue
    fi
    objects="$(grep -c '^kind:' "$manifest" || true)"
    # Every object must be reported as passed: a failure, a warning (such as
    # "Couldn't find schema", which the tool alone only warns about) or a
    # skipped object fails the check.
    report="$("$KUBERNETES_VALIDATE" --strict -k "$kube" "$manifest" 2>&1)" && rc=0 || rc=$?
    passed="$(grep -c '^INFO .* passed for resource' <<<"$report" || true)"
    problems="$(grep -v '^INFO .* passed for resource' <<<"$report" || true)"
    if ((rc == 0)) && [[ -z "$problems" ]] && ((objects > 0 && passed == objects)); then
      pass "$label: $objects objects valid"
    else
      fail "$label: exit $rc, $passed of $objects objects passed"
      printf '%s\n' "$problems" | indent
    fi
  done
done

step "values.schema.json and the chart's validation reject bad values (helm must FAIL)"
base="$CHART/ci/default-values.yaml"
schema_error="values don't meet the specifications of the schema"
# check | name | text the error must contain | values layered on ci/default-values.yaml
#   schema:   rejected by values.schema.json
#   validate: rejected by templates/_validate.tpl (rendered from the defaults alone)
negatives=(
  "schema|unknown key|additional properties 'replcaCount' not allowed|services: {registration: {api: {replcaCount: 3}}}"
  "schema|unknown top-level key|additional properties 'databse' not allowed|databse: {host: x}"
  "schema|wrong type|got string, want integer|rabbitmq: {port: \"5672\"}"
  "schema|role outside the enum|/services/registration/roles/1|services: {registration: {roles: [api, cron]}}"
  "schema|bad service name|'Bad-Name' does not match pattern|services: {Bad-Name: {enabled: true}}"
  "schema|malformed PII key|/secrets/piiKey|secrets: {piiKey: not-base64-of-32-bytes}"
  "schema|public URL without a scheme|/config/publicUrl|config: {publicUrl: zhiyuan.example.org}"
  "validate|no endpoints and no secrets|secrets.existingSecret|{}"
)
for case in "${negatives[@]}"; do
  IFS='|' read -r check name expected yaml <<<"$case"
  bad="$tmp/bad-values.yaml"
  printf '%s\n' "$yaml" >"$bad"
  if [[ "$check" == schema ]]; then layers=(-f "$base" -f "$bad"); else layers=(-f "$bad"); fi
  if out="$("$HELM" template "$RELEASE" "$CHART" "${layers[@]}" 2>&1)"; then
    fail "$name: helm rendered it"
  elif [[ "$check" == schema ]] && ! grep -qF -- "$schema_error" <<<"$out"; then
    fail "$name: helm failed, but not on values.schema.json"; printf '%s\n' "$out" | head -5 | indent
  elif ! grep -qF -- "$expected" <<<"$out"; then
    fail "$name: helm failed, but without '$expected'"; printf '%s\n' "$out" | head -5 | indent
  else
    pass "$name: rejected by $check ($expected)"
  fi
done

echo
if ((failures)); then
  echo "chart-check: $failures check(s) FAILED"
  exit 1
fi
echo "chart-check: all checks passed"
