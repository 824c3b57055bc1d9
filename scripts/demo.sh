#!/usr/bin/env bash
# The demo: builds what is needed, then runs a real order through tasker-core
# with TypeScript handlers on an embedded environment (see examples/demo.mts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
log=$(mktemp)
echo "Building (the first build of the Rust side takes several minutes)..."
if ! bash scripts/build.sh >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
exec node examples/demo.mjs
