#!/usr/bin/env bash
# The whole test suite: Rust unit tests, then every JS test file under Node
# (node --test), under Bun (bun test) and under Deno (deno test), against real
# environments started here and stopped at exit: PostgreSQL + the tasker-core
# orchestration on PGMQ for every file, then on RabbitMQ (a real broker) for
# __test__/rabbitmq/ in the three runtimes and the workflow, crash, outage,
# drain and command suites under Node.
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

env_pids=()
cleanup() {
  for pid in "${env_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${env_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Starts a shared environment (`$1`: pgmq or rabbitmq) and exports what the
# tests read: TASKER_TEST_DATABASE_URL, TASKER_TEST_ORCHESTRATION_URL, and on
# RabbitMQ TASKER_MESSAGING_BACKEND and RABBITMQ_URL, which every worker reads.
start_env() {
  local json="$work/env-$1.json"
  node devenv/cli.mjs up --messaging "$1" --json "$json" >"$work/env-$1.out" 2>"$work/env-$1.log" &
  env_pids+=($!)
  for _ in $(seq 1 300); do
    [ -s "$json" ] && break
    if ! kill -0 "${env_pids[-1]}" 2>/dev/null; then
      echo "the $1 test environment did not start:" >&2
      cat "$work/env-$1.log" >&2
      exit 1
    fi
    sleep 1
  done
  [ -s "$json" ] || { echo "the $1 test environment did not start in time" >&2; cat "$work/env-$1.log" >&2; exit 1; }
  export TASKER_TEST_DATABASE_URL=$(node -p "require('$json').databaseUrl")
  export TASKER_TEST_ORCHESTRATION_URL=$(node -p "require('$json').orchestrationUrl")
  if [ "$1" = rabbitmq ]; then
    export TASKER_MESSAGING_BACKEND=rabbitmq RABBITMQ_URL=$(node -p "require('$json').rabbitmqUrl")
  fi
  echo "== $1 environment: $TASKER_TEST_ORCHESTRATION_URL"
}

# Runs `files` under node, bun and deno (`$1`: a label, then the runtimes, then --, then the files).
# Each runtime's summary goes to $work/summary.
run_files() {
  local label=$1; shift
  local runtimes=()
  while [ "$1" != -- ]; do runtimes+=("$1"); shift; done
  shift
  local files=("$@") rc=0 out
  for runtime in "${runtimes[@]}"; do
    out="$work/$label-$runtime.out"
    echo "== $label: $runtime (${#files[@]} files)"
    rc=0
    case $runtime in
      node) node --test --test-concurrency=1 --test-timeout=600000 "${files[@]}" 2>&1 | tee "$out" || rc=$?
        echo "$label node: $(grep -E '^# (tests|pass|fail)' "$out" | tr '\n' ' ')(exit $rc)" >>"$work/summary" ;;
      bun) node_modules/.bin/bun test --timeout 600000 "${files[@]/#/./}" 2>&1 | tee "$out" || rc=$?
        echo "$label bun: $(grep -E '^ *[0-9]+ (pass|fail)$|^Ran ' "$out" | tr -s ' \n' ' ')(exit $rc)" >>"$work/summary" ;;
      # Deno runs the node:test files itself. -A: the tests start child
      # processes, load the addon and reach the environment; the package's
      # own needs are narrower (the README's runtime table; the packaging
      # check runs with those).
      deno) NO_COLOR=1 node_modules/.bin/deno test -A --no-check "${files[@]}" 2>&1 | tee "$out" || rc=$?
        echo "$label deno: $(grep -E '^(ok|FAILED) \| ' "$out" | tail -1) (exit $rc)" >>"$work/summary" ;;
    esac
    if [ "$rc" != 0 ]; then
      failed=1
      # CI keeps only part of the output: the summary names what failed and why.
      # (-A1: node's YAML puts a multi-line error's text on the next line.)
      grep -E -A1 '^\s*not ok |^\(fail\) | => \./|^\s*error:' "$out" | grep -v -E '^--$|^\s*---$|error: \|-$' | awk '!seen[$0]++' | head -16 | cut -c1-400 | sed 's/^/  /' >>"$work/summary" || true
    fi
  done
}

# The shared environment must hold no unfinished task once the suites are
# done: each file cancels what it left in its namespaces (no worker serves
# them any more; a long-lived environment would dead-letter them).
check_leftovers() {
  local leftovers
  leftovers=$(node -e '
    import("./devenv/orchestration.mjs").then(async ({ query }) => {
      const rows = await query(process.env.TASKER_TEST_DATABASE_URL, "SELECT t.name AS ns, count(*)::int AS n FROM tasker.tasks k JOIN tasker.task_transitions tt ON tt.task_uuid = k.task_uuid AND tt.most_recent JOIN tasker.named_tasks nt ON nt.named_task_uuid = k.named_task_uuid JOIN tasker.task_namespaces t ON t.task_namespace_uuid = nt.task_namespace_uuid WHERE tt.to_state NOT IN ($$complete$$, $$cancelled$$, $$error$$, $$resolved_manually$$) GROUP BY 1");
      console.log(rows.map((r) => `${r.ns}: ${r.n}`).join(", "));
    });
  ')
  echo "$1 unfinished tasks left: ${leftovers:-none}" >>"$work/summary"
  if [ -n "$leftovers" ]; then
    echo "unfinished tasks left in the $1 environment (cancel them in the test that made them): $leftovers" >&2
    failed=1
  fi
}

failed=0
: >"$work/summary"

start_env pgmq
mapfile -t files < <(find __test__ -name '*.test.mjs' -not -path '__test__/rabbitmq/*' | sort)
run_files pgmq node bun deno -- "${files[@]}"
check_leftovers pgmq

start_env rabbitmq
mapfile -t rabbit_files < <(find __test__/rabbitmq -name '*.test.mjs' | sort)
run_files rabbitmq node bun deno -- "${rabbit_files[@]}"
# The suites that exercise the messaging path, again on the broker (Node).
run_files rabbitmq-suites node -- __test__/e2e/workflows.test.mjs __test__/e2e/guide.test.mjs __test__/e2e/conformance.test.mjs \
  __test__/e2e/crash-recovery.test.mjs __test__/e2e/database-outage.test.mjs __test__/e2e/worker-behaviour.test.mjs \
  __test__/e2e/cli.test.mjs __test__/e2e/cancellation.test.mjs
check_leftovers rabbitmq

echo
echo "== summary"
cat "$work/summary"
[ "$failed" = 0 ]
