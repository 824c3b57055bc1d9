#!/usr/bin/env bash
# Builds everything the tests and the demo use, incrementally: the native
# addon (and its generated index.cjs / index.d.ts), the tasker-devenv and
# tasker-bench binaries, the addon's benchmark variant, the TypeScript layer
# and the examples. All Rust builds share one target folder for the host
# triple. Any compiler warning fails the build: a new one must not drown.
set -euo pipefail
cd "$(dirname "$0")/.."
export SQLX_OFFLINE=true
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Runs a build step; fails when it prints a warning (cargo replays the
# warnings of crates it does not rebuild, so a warning is never hidden).
strict() {
  "$@" 2>&1 | tee "$log"
  if grep -Eq '^(warning|Warning|WARN)\b' "$log"; then
    echo "[build] '$*' printed warnings (see above); fix them" >&2
    exit 1
  fi
}

# One cargo invocation for the whole workspace, so the addon and the binaries
# share dependency builds (separate invocations differ in features and would
# compile tasker-shared and its dependents twice).
echo "[build] Rust workspace ($TRIPLE, debug)"
strict cargo build --quiet --target "$TRIPLE" --workspace
echo "[build] native addon and its generated index.cjs / index.d.ts"
# A new file, not the old one rewritten: processes running tests keep the
# copy they mapped (rewriting it in place can crash them).
rm -f tasker-worker.*.node
strict node_modules/.bin/napi build --platform --target "$TRIPLE" --js index.cjs --dts index.d.ts --no-const-enum </dev/null
# The benchmark variant (cargo feature `bench`) for the benchmarks' own tests;
# only the addon crate differs, and the shipped .node above is not touched.
echo "[build] benchmark variant of the addon (target/bench/debug/tasker-worker.node)"
strict cargo build --quiet --target "$TRIPLE" --workspace --features tasker-worker-napi/bench
mkdir -p target/bench/debug
rm -f target/bench/debug/tasker-worker.node
cp "target/$TRIPLE/debug/libtasker_worker_napi.so" target/bench/debug/tasker-worker.node
echo "[build] TypeScript layer and examples"
strict node scripts/build-ts.mjs
strict node node_modules/typescript/bin/tsc -p examples
