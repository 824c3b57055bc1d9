#!/usr/bin/env bash
# Builds everything the tests and the demo use, incrementally: the native
# addon (and its generated index.cjs / index.d.ts), the tasker-devenv binary,
# the TypeScript layer and the examples. All Rust builds share one target
# folder for the host triple.
set -euo pipefail
cd "$(dirname "$0")/.."
export SQLX_OFFLINE=true
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')

# One cargo invocation for the whole workspace, so the addon and tasker-devenv
# share dependency builds (separate invocations differ in features and would
# compile tasker-shared and its dependents twice).
echo "[build] Rust workspace ($TRIPLE, debug)"
cargo build --quiet --target "$TRIPLE" --workspace
echo "[build] native addon and its generated index.cjs / index.d.ts"
node_modules/.bin/napi build --platform --target "$TRIPLE" --js index.cjs --dts index.d.ts --no-const-enum </dev/null
echo "[build] TypeScript layer and examples"
node scripts/build-ts.mjs
node node_modules/typescript/bin/tsc -p examples
