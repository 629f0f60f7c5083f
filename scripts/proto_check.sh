#!/usr/bin/env bash
# buf lint on proto/, and a breaking-change check against the previous commit
# of main when the history is there (a shallow clone has none: said, not failed).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUF="${BUF:-$ROOT/.tools/npm/node_modules/.bin/buf}"
cd "$ROOT"
[[ -x "$BUF" ]] || { echo "buf is missing: run 'make tools'" >&2; exit 1; }

echo "[proto] buf lint ($("$BUF" --version))"
"$BUF" lint proto

base=""
if git rev-parse --verify -q main >/dev/null && [[ "$(git rev-parse HEAD)" != "$(git rev-parse main)" ]]; then
  base="main"
elif git rev-parse --verify -q HEAD~1 >/dev/null; then
  base="HEAD~1"
fi
if [[ -n "$base" ]] && git cat-file -e "$base:proto/buf.yaml" 2>/dev/null; then
  echo "[proto] buf breaking against $base"
  "$BUF" breaking proto --against ".git#ref=$base,subdir=proto"
else
  echo "[proto] no earlier proto/ in the history: breaking check has nothing to compare"
fi
