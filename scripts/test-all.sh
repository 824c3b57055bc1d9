#!/usr/bin/env bash
# The whole test suite: Rust unit tests, then every JS test file under Node
# (node --test), under Bun (bun test) and under Deno (deno test), against one
# real environment (PostgreSQL + tasker-core orchestration) started here and
# stopped at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
export SQLX_OFFLINE=true
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== cargo test"
# With the bench feature, so the benchmark code's unit tests run too. Any
# compiler warning fails the run.
cargo test --workspace --target "$TRIPLE" --features tasker-worker-napi/bench 2>&1 | tee "$work/cargo-test.out"
if grep -Eq '^warning\b' "$work/cargo-test.out"; then
  echo "cargo test printed compiler warnings (see above); fix them" >&2
  exit 1
fi

node devenv/cli.mjs up --json "$work/env.json" >"$work/env.out" 2>"$work/env.log" &
env_pid=$!
cleanup() {
  kill -TERM "$env_pid" 2>/dev/null || true
  wait "$env_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 300); do
  [ -s "$work/env.json" ] && break
  if ! kill -0 "$env_pid" 2>/dev/null; then
    echo "the test environment did not start:" >&2
    cat "$work/env.log" >&2
    exit 1
  fi
  sleep 1
done
[ -s "$work/env.json" ] || { echo "the test environment did not start in time" >&2; cat "$work/env.log" >&2; exit 1; }
export TASKER_TEST_DATABASE_URL=$(node -p "require('$work/env.json').databaseUrl")
export TASKER_TEST_ORCHESTRATION_URL=$(node -p "require('$work/env.json').orchestrationUrl")
echo "== environment: $TASKER_TEST_ORCHESTRATION_URL"

mapfile -t files < <(find __test__ -name '*.test.mjs' | sort)

echo "== node --test (${#files[@]} files)"
node_rc=0
node --test --test-concurrency=1 --test-timeout=600000 "${files[@]}" 2>&1 | tee "$work/node.out" || node_rc=$?
node_summary=$(grep -E '^# (tests|pass|fail)' "$work/node.out" | tr '\n' ' ')

echo "== bun test (${#files[@]} files)"
bun_rc=0
node_modules/.bin/bun test --timeout 600000 "${files[@]/#/./}" 2>&1 | tee "$work/bun.out" || bun_rc=$?
bun_summary=$(grep -E '^ *[0-9]+ (pass|fail)$|^Ran ' "$work/bun.out" | tr -s ' \n' ' ')

# Deno runs the node:test files itself. -A: the tests start child processes,
# load the addon and reach the environment; the package's own needs are
# narrower (the README's runtime table; the packaging check runs with those).
echo "== deno test (${#files[@]} files)"
deno_rc=0
NO_COLOR=1 node_modules/.bin/deno test -A --no-check "${files[@]}" 2>&1 | tee "$work/deno.out" || deno_rc=$?
deno_summary=$(grep -E '^(ok|FAILED) \| ' "$work/deno.out" | tail -1)

# The shared environment must hold no unfinished task once the suites are
# done: each file cancels what it left in its namespaces (no worker serves
# them any more; a long-lived environment would dead-letter them).
leftovers=$(node -e '
  import("./devenv/orchestration.mjs").then(async ({ query }) => {
    const rows = await query(process.env.TASKER_TEST_DATABASE_URL, "SELECT t.name AS ns, count(*)::int AS n FROM tasker.tasks k JOIN tasker.task_transitions tt ON tt.task_uuid = k.task_uuid AND tt.most_recent JOIN tasker.named_tasks nt ON nt.named_task_uuid = k.named_task_uuid JOIN tasker.task_namespaces t ON t.task_namespace_uuid = nt.task_namespace_uuid WHERE tt.to_state NOT IN ($$complete$$, $$cancelled$$, $$error$$, $$resolved_manually$$) GROUP BY 1");
    console.log(rows.map((r) => `${r.ns}: ${r.n}`).join(", "));
  });
')
leftover_rc=0
if [ -n "$leftovers" ]; then
  echo "unfinished tasks left in the shared environment (cancel them in the test that made them): $leftovers" >&2
  leftover_rc=1
fi

echo
echo "== summary"
echo "node: $node_summary(exit $node_rc)"
echo "bun: $bun_summary(exit $bun_rc)"
echo "deno: $deno_summary (exit $deno_rc)"
echo "unfinished tasks left: ${leftovers:-none}"
[ "$node_rc" = 0 ] && [ "$bun_rc" = 0 ] && [ "$deno_rc" = 0 ] && [ "$leftover_rc" = 0 ]
