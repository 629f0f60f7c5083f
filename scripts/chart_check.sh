#!/usr/bin/env bash
# `make chart-check`: prove charts/zhiyuan lints, renders every ci/ values
# permutation into objects the Kubernetes API schemas accept (strict: unknown
# fields fail, and so does a kind with no schema), and that its own
# values.schema.json and cross-field validation reject bad values.
#
# The optional operator kinds (CloudNativePG Cluster, RabbitmqCluster, KEDA
# ScaledObject and TriggerAuthentication) render only when the cluster serves
# their CRDs: every permutation is rendered with --api-versions for them, and
# negative cases prove the chart fails without. kubernetes-validate knows no
# CRD, so those objects are split off and checked against the closed schemas
# in split_crds below (the subset of each CRD the chart writes: required
# fields, types, enums; an unknown field or an unknown operator kind fails).
# Core kinds stay strictly validated by kubernetes-validate.
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
# The operators' kinds the chart may render (see the note at the top).
CRD_APIS=(postgresql.cnpg.io/v1/Cluster rabbitmq.com/v1beta1/RabbitmqCluster
  keda.sh/v1alpha1/ScaledObject keda.sh/v1alpha1/TriggerAuthentication)
api_flags=()
for api in "${CRD_APIS[@]}"; do api_flags+=(--api-versions "$api"); done

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

# split_crds MANIFEST CORE_OUT: write the core objects to CORE_OUT and check
# the operator objects against closed schemas; prints "<n> operator objects"
# or the problems (and exits 1).
split_crds() {
  "$PYTHON" - "$1" "$2" <<'PY'
import sys

import jsonschema
import yaml

manifest, core_out = sys.argv[1:]
S = {"type": "string"}
B = {"type": "boolean"}
COUNT = {"type": "integer", "minimum": 0}
STR_MAP = {"type": "object", "additionalProperties": S}
QTY = {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string",
       "pattern": r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$"}]}
NAME = {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63}
PG_NAME = {"type": "string", "pattern": r"^[a-z_][a-z0-9_]{0,62}$"}
NUMBER_TEXT = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$"}


def closed(props, required=()):
    return {"type": "object", "additionalProperties": False,
            "properties": props, "required": list(required)}


RESOURCE_LIST = closed({"cpu": QTY, "memory": QTY, "ephemeral-storage": QTY})
RESOURCES = closed({"requests": RESOURCE_LIST, "limits": RESOURCE_LIST})
METADATA = closed({"name": NAME, "namespace": NAME, "labels": STR_MAP,
                   "annotations": STR_MAP}, ["name", "namespace"])


def kind(api, name, spec, required=()):
    return closed({"apiVersion": {"const": api}, "kind": {"const": name},
                   "metadata": METADATA, "spec": closed(spec, required)},
                  ["apiVersion", "kind", "metadata", "spec"])


CLUSTER = kind("postgresql.cnpg.io/v1", "Cluster", {
    "instances": {"type": "integer", "minimum": 1},
    "imageName": S,
    "storage": closed({"size": QTY, "storageClass": S}, ["size"]),
    "resources": RESOURCES,
    "postgresql": closed({"parameters": STR_MAP}),
    "bootstrap": closed({"initdb": closed(
        {"database": PG_NAME, "owner": PG_NAME}, ["database", "owner"])}, ["initdb"]),
    "managed": closed({"roles": {"type": "array", "items": closed({
        "name": PG_NAME, "ensure": {"enum": ["present", "absent"]},
        "login": B, "inherit": B, "inRoles": {"type": "array", "items": PG_NAME},
        "passwordSecret": closed({"name": NAME}, ["name"]),
    }, ["name"])}}),
}, ["instances", "storage"])
RABBITMQ_CLUSTER = kind("rabbitmq.com/v1beta1", "RabbitmqCluster", {
    "replicas": {"type": "integer", "minimum": 1},
    "image": S,
    "resources": RESOURCES,
    "persistence": closed({"storage": QTY, "storageClassName": S}),
    "rabbitmq": closed({
        "additionalPlugins": {"type": "array", "uniqueItems": True, "items": {
            "type": "string", "pattern": "^rabbitmq_[a-z0-9_]+$"}},
        "additionalConfig": S,
    }),
})
SCALED_OBJECT = kind("keda.sh/v1alpha1", "ScaledObject", {
    "scaleTargetRef": closed({"apiVersion": {"const": "apps/v1"},
                              "kind": {"const": "Deployment"}, "name": NAME}, ["name"]),
    "minReplicaCount": COUNT, "maxReplicaCount": {"type": "integer", "minimum": 1},
    "pollingInterval": {"type": "integer", "minimum": 1}, "cooldownPeriod": COUNT,
    "triggers": {"type": "array", "minItems": 1, "items": closed({
        "type": {"const": "rabbitmq"},
        # KEDA's trigger metadata is map[string]string: numbers must be quoted.
        # http mode only: the management API counts unacknowledged messages.
        "metadata": closed({
            "protocol": {"const": "http"},
            "host": {"type": "string", "pattern": "^https?://[^@]+$"},
            "vhostName": S, "mode": {"enum": ["QueueLength", "MessageRate"]},
            "value": NUMBER_TEXT, "activationValue": NUMBER_TEXT,
            "queueName": {"type": "string", "minLength": 1},
            "useRegex": {"enum": ["true", "false"]},
            "operation": {"enum": ["sum", "max", "avg"]},
        }, ["protocol", "host", "mode", "value", "queueName"]),
        "authenticationRef": closed({"name": NAME}, ["name"]),
    }, ["type", "metadata"])},
}, ["scaleTargetRef", "triggers"])
TRIGGER_AUTHENTICATION = kind("keda.sh/v1alpha1", "TriggerAuthentication", {
    "env": {"type": "array", "items": closed({
        "parameter": {"enum": ["host", "username", "password"]},
        "name": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
        "containerName": S}, ["parameter", "name"])},
    "secretTargetRef": {"type": "array", "items": closed(
        {"parameter": S, "name": NAME, "key": S}, ["parameter", "name", "key"])},
})
SCHEMAS = {(s["properties"]["apiVersion"]["const"], s["properties"]["kind"]["const"]): s
           for s in (CLUSTER, RABBITMQ_CLUSTER, SCALED_OBJECT, TRIGGER_AUTHENTICATION)}
OPERATOR_GROUPS = ("postgresql.cnpg.io/", "rabbitmq.com/", "keda.sh/")

core, problems, checked = [], [], 0
for doc in yaml.safe_load_all(open(manifest)):
    if not doc:
        continue
    api, name = doc.get("apiVersion", ""), doc.get("kind", "")
    if not api.startswith(OPERATOR_GROUPS):
        core.append(doc)
        continue
    where = f"{name} {doc.get('metadata', {}).get('name')}"
    schema = SCHEMAS.get((api, name))
    if schema is None:
        problems.append(f"{where}: chart_check.sh has no schema for {api} {name}")
        continue
    for e in sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc), key=str):
        problems.append(f"{where}: /{'/'.join(map(str, e.absolute_path))}: {e.message}")
    checked += 1
if checked or problems:
    with open(core_out, "w") as out:
        yaml.safe_dump_all(core, out, sort_keys=False)
else:  # nothing split off: validate helm's own text, byte for byte
    with open(manifest) as src, open(core_out, "w") as out:
        out.write(src.read())
print("\n".join(problems) or f"{checked} operator objects")
sys.exit(1 if problems else 0)
PY
}

step "helm template | kubernetes-validate --strict, per permutation and Kubernetes version"
for values in "${permutations[@]}"; do
  for kube in $KUBE_VERSIONS; do
    label="$(basename "$values") @ $kube"
    manifest="$tmp/$(basename "$values" .yaml)-$kube.yaml"
    if ! "$HELM" template "$RELEASE" "$CHART" --namespace "$NAMESPACE" \
        --kube-version "$kube" "${api_flags[@]}" -f "$values" >"$tmp/all.yaml" 2>"$tmp/err"; then
      fail "template $label"; indent <"$tmp/err"; continue
    fi
    if ! crds="$(split_crds "$tmp/all.yaml" "$manifest" 2>&1)"; then
      fail "$label: operator objects"; printf '%s\n' "$crds" | indent; continue
    fi
    objects="$(grep -c '^kind:' "$manifest" || true)"
    # Every object must be reported as passed: a failure, a warning (such as
    # "Couldn't find schema", which the tool alone only warns about) or a
    # skipped object fails the check.
    report="$("$KUBERNETES_VALIDATE" --strict -k "$kube" "$manifest" 2>&1)" && rc=0 || rc=$?
    passed="$(grep -c '^INFO .* passed for resource' <<<"$report" || true)"
    problems="$(grep -v '^INFO .* passed for resource' <<<"$report" || true)"
    if ((rc == 0)) && [[ -z "$problems" ]] && ((objects > 0 && passed == objects)); then
      pass "$label: $objects objects valid, $crds checked"
    else
      fail "$label: exit $rc, $passed of $objects objects passed"
      printf '%s\n' "$problems" | indent
    fi
  done
done

step "values.schema.json and the chart's validation reject bad values (helm must FAIL)"
ci="$CHART/ci"
schema_error="values don't meet the specifications of the schema"
# check | name | text the error must contain | base values | values layered on the base
#   schema:   rejected by values.schema.json
#   validate: rejected by templates/_validate.tpl
#   nocrd:    rejected because the operator's CRD is missing (rendered WITHOUT
#             --api-versions; every other check renders with them)
# base "-": the bad values alone (the chart's defaults underneath)
negatives=(
  "schema|unknown key|additional properties 'replcaCount' not allowed|default|services: {registration: {api: {replcaCount: 3}}}"
  "schema|unknown top-level key|additional properties 'databse' not allowed|default|databse: {host: x}"
  "schema|wrong type|got string, want integer|default|rabbitmq: {port: \"5672\"}"
  "schema|role outside the enum|/services/registration/roles/1|default|services: {registration: {roles: [api, cron]}}"
  "schema|bad service name|'Bad-Name' does not match pattern|default|services: {Bad-Name: {enabled: true}}"
  "schema|malformed PII key|/secrets/piiKey|default|secrets: {piiKey: not-base64-of-32-bytes}"
  "schema|public URL without a scheme|/config/publicUrl|default|config: {publicUrl: zhiyuan.example.org}"
  "schema|federation role outside the enum|/federation/role|default|federation: {role: sideways}"
  "schema|quorum switch not a boolean|/broker/quorumQueues|default|broker: {quorumQueues: \"yes\"}"
  "schema|credentials inside upstreamUri|/federation/downstream/upstreamUri|default|federation: {downstream: {upstreamUri: \"amqp://u:p@mq.example.org/\"}}"
  "schema|credentials inside the management URL|/rabbitmq/managementUrl|default|rabbitmq: {managementUrl: \"http://u:p@mq.example.org:15672\"}"
  "schema|unknown CloudNativePG key|additional properties 'instance' not allowed|default|cloudnativepg: {instance: 3}"
  "schema|KEDA scale to zero|/keda/minReplicaCount|default|keda: {minReplicaCount: 0}"
  "validate|no endpoints and no secrets|secrets.existingSecret|-|{}"
  "nocrd|CloudNativePG without its CRD|has no postgresql.cnpg.io/v1/Cluster: install the CloudNativePG operator|cnpg|{}"
  "nocrd|CloudNativePG without its CRD (zh)|集群中没有 postgresql.cnpg.io/v1/Cluster|cnpg|{}"
  "nocrd|RabbitmqCluster without its CRD|has no rabbitmq.com/v1beta1/RabbitmqCluster: install the RabbitMQ Cluster operator|rabbitmq-cluster|{}"
  "nocrd|KEDA without its CRD|has no keda.sh/v1alpha1/ScaledObject: install the KEDA operator|keda|{}"
  "validate|KEDA together with the worker HPA|services.hours.worker.autoscaling.enabled（工作进程自动扩缩 / worker HPA）: keda.enabled scales|default|keda: {enabled: true}"
  "validate|KEDA min above max|keda.minReplicaCount（最少副本数|keda|keda: {minReplicaCount: 9, maxReplicaCount: 3}"
  "validate|CloudNativePG with postgresql.host|so postgresql.host must stay empty|cnpg|postgresql: {host: postgresql.data.svc}"
  "validate|CloudNativePG with a service's database host|services.hours.database.host/port must stay empty|cnpg|services: {hours: {database: {host: pg-hours.data.svc}}}"
  "validate|CloudNativePG with database passwords|secrets.databasePasswords.registration must stay empty|cnpg|secrets: {databasePasswords: {registration: {password: x}}}"
  "validate|RabbitmqCluster with rabbitmq.host|but rabbitmqCluster.enabled makes the chart's own|rabbitmq-cluster|rabbitmq: {host: rabbitmq.data.svc}"
  "validate|downstream without a name|federation.downstream.name（下级名称 / downstream name）: required|federation-downstream|federation: {downstream: {name: \"\"}}"
  "validate|downstream without a subtree|federation.downstream.subtree（登记的区划代码 / registered division code）: required|federation-downstream|federation: {downstream: {subtree: \"\"}}"
  "validate|downstream without the upstream's URI Secret|federation.downstream.credentialsSecret（上级连接凭据 Secret|federation-downstream|federation: {downstream: {credentialsSecret: \"\"}}"
  "validate|downstream without the upstream's address|federation.downstream.upstreamUri（上级地址|federation-downstream|federation: {downstream: {upstreamUri: \"\"}}"
  "validate|downstream with a malformed subtree|\"31011\" is not a division code|federation-downstream|federation: {downstream: {subtree: \"31011\"}}"
  "validate|upstream without downstreams|an upstream needs at least one downstream|federation-upstream|federation: {upstream: {downstreams: []}}"
  "validate|upstream with a malformed code|downstreams[1].subtree（登记的区划代码 / registered division code）: \"3101x5\" is not a division code|federation-upstream|federation: {upstream: {downstreams: [{name: a, subtree: \"310117\", username: a}, {name: b, subtree: \"3101x5\", username: b}]}}"
  "validate|upstream with overlapping subtrees|the subtrees of \"city\" (3101) and \"county\" (310117) overlap|federation-upstream|federation: {upstream: {downstreams: [{name: city, subtree: \"3101\", username: c}, {name: county, subtree: \"310117\", username: d}]}}"
  "validate|upstream with the same subtree twice|overlap|federation-upstream|federation: {upstream: {downstreams: [{name: a, subtree: \"310117\", username: a}, {name: b, subtree: \"310117\", username: b}]}}"
  "validate|upstream with a name twice|\"a\" is registered twice|federation-upstream|federation: {upstream: {downstreams: [{name: a, subtree: \"310117\", username: a}, {name: a, subtree: \"310115\", username: b}]}}"
  "schema|re-sync chunk out of range|/federation/resyncChunk|default|federation: {resyncChunk: 0}"
  "validate|relay without downstreams|a relay needs at least one downstream|federation-relay|federation: {upstream: {downstreams: []}}"
  "validate|relay without the upstream's URI Secret|federation.downstream.credentialsSecret（上级连接凭据 Secret / upstream credentials Secret）: required when federation.role is relay|federation-relay|federation: {downstream: {credentialsSecret: \"\"}}"
  "validate|relay with a downstream outside its subtree|\"620102\" is not inside this relay's own subtree 61|federation-relay|federation: {upstream: {downstreams: [{name: lanzhou, subtree: \"620102\", username: fed-lanzhou}]}}"
  "validate|relay registering its own subtree|\"61\" is not inside this relay's own subtree 61|federation-relay|federation: {upstream: {downstreams: [{name: all, subtree: \"61\", username: fed-all}]}}"
  "validate|upstream with shared credentials|\"same\" is shared with another downstream|federation-upstream|federation: {upstream: {downstreams: [{name: a, subtree: \"310117\", username: same}, {name: b, subtree: \"310115\", username: same}]}}"
)
for case in "${negatives[@]}"; do
  IFS='|' read -r check name expected base yaml <<<"$case"
  bad="$tmp/bad-values.yaml"
  printf '%s\n' "$yaml" >"$bad"
  layers=()
  [[ "$base" == - ]] || layers+=(-f "$ci/$base-values.yaml")
  layers+=(-f "$bad")
  [[ "$check" == nocrd ]] || layers+=("${api_flags[@]}")
  if out="$("$HELM" template "$RELEASE" "$CHART" "${layers[@]}" 2>&1)"; then
    fail "$name: helm rendered it"
  elif [[ "$check" == schema ]] && ! grep -qF -- "$schema_error" <<<"$out"; then
    fail "$name: helm failed, but not on values.schema.json"; printf '%s\n' "$out" | head -5 | indent
  elif [[ "$check" != schema ]] && grep -qF -- "$schema_error" <<<"$out"; then
    fail "$name: rejected by values.schema.json, not by $check"; printf '%s\n' "$out" | head -5 | indent
  elif ! grep -qF -- "$expected" <<<"$out"; then
    fail "$name: helm failed, but without '$expected'"; printf '%s\n' "$out" | head -5 | indent
  else
    pass "$name: rejected by $check ($expected)"
  fi
done

step "warn-level combinations render, with the warning (helm must SUCCEED)"
# name | text the output must contain | base values | values layered on the base
warnings=(
  "quorum queues on a single-node RabbitmqCluster|WARNING: broker.quorumQueues is on but rabbitmqCluster.replicas is 1|rabbitmq-cluster|rabbitmqCluster: {replicas: 1}"
)
for case in "${warnings[@]}"; do
  IFS='|' read -r name expected base yaml <<<"$case"
  printf '%s\n' "$yaml" >"$tmp/warn-values.yaml"
  if ! out="$("$HELM" template "$RELEASE" "$CHART" "${api_flags[@]}" -f "$ci/$base-values.yaml" -f "$tmp/warn-values.yaml" 2>&1)"; then
    fail "$name: helm refused it"; printf '%s\n' "$out" | head -5 | indent
  elif ! grep -qF -- "$expected" <<<"$out"; then
    fail "$name: rendered without '$expected'"
  else
    pass "$name: rendered with the warning"
  fi
done
# ...and the warning is not given where it does not apply.
if out="$("$HELM" template "$RELEASE" "$CHART" "${api_flags[@]}" -f "$ci/rabbitmq-cluster-values.yaml" 2>&1)" \
    && ! grep -qF "WARNING: broker.quorumQueues" <<<"$out"; then
  pass "no warning for quorum queues on 3 nodes"
else
  fail "quorum queues on 3 nodes: warned or failed"
fi

echo
if ((failures)); then
  echo "chart-check: $failures check(s) FAILED"
  exit 1
fi
echo "chart-check: all checks passed"
