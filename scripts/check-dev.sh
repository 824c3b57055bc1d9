#!/usr/bin/env bash
# The README's "Try it", as a new user runs it: the packed main, platform and
# orchestration packages installed into a fresh project, then
#   npx tasker-worker dev --handlers ./handlers --templates ./templates
# with the README's example handler and template: the local tasker comes up,
# the example task completes, Ctrl-C stops everything and leaves no process.
# No Rust toolchain, Docker or clone is used by the project itself.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
platform=linux-x64-gnu
work=$(mktemp -d)
# As root, PostgreSQL runs as nobody, who must reach the project's .tasker folder.
chmod 755 "$work"
dev_pgid=
cleanup() {
  [ -n "$dev_pgid" ] && kill -KILL -- "-$dev_pgid" 2>/dev/null || true
  rm -rf "$work"
  rm -f "npm/$platform/tasker-worker.$platform.node"
  rm -rf "orchestration/npm/$platform/bin"
}
trap cleanup EXIT

TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
[ -f "tasker-worker.$platform.node" ] && [ -x "target/$TRIPLE/debug/tasker-devenv" ] || { echo "build first: bash scripts/build.sh" >&2; exit 1; }
node scripts/sync-versions.mjs --check

echo "== pack the main, platform and orchestration packages"
cp "tasker-worker.$platform.node" "npm/$platform/"
strip --strip-debug "npm/$platform/tasker-worker.$platform.node"
mkdir -p "orchestration/npm/$platform/bin"
cp "target/$TRIPLE/debug/tasker-devenv" "orchestration/npm/$platform/bin/"
strip --strip-debug "orchestration/npm/$platform/bin/tasker-devenv"
mkdir "$work/stage" "$work/stage-orchestration"
cp -r package.json README.md LICENSE index.cjs index.d.ts dist "$work/stage/"
node scripts/sync-versions.mjs --optional-deps "$work/stage/package.json" >/dev/null
cp orchestration/package.json orchestration/README.md "$work/stage-orchestration/"
node scripts/sync-versions.mjs --orchestration-deps "$work/stage-orchestration/package.json" >/dev/null
pack() { npm pack --silent --pack-destination "$work" "$1" | tail -1; }
main_tgz=$(pack "$work/stage")
platform_tgz=$(pack "./npm/$platform")
orchestration_tgz=$(pack "$work/stage-orchestration")
orchestration_platform_tgz=$(pack "./orchestration/npm/$platform")
for tgz in "$main_tgz" "$orchestration_tgz" "$orchestration_platform_tgz"; do
  echo "  $tgz: $(du -k "$work/$tgz" | cut -f1) KiB packed"
done
if tar tzf "$work/$main_tgz" | grep -q 'tasker-devenv'; then
  echo "the main package carries the orchestration server; it belongs in @tasker-systems/orchestration-*" >&2
  exit 1
fi

echo "== Try it: npm install, then npx tasker-worker dev (the README's commands)"
app="$work/try-it"
mkdir "$app"
chmod 755 "$app"
cp -r examples/try-it/handlers examples/try-it/templates "$app/"
(cd "$app" && npm init -y >/dev/null &&
  npm install --no-audit --no-fund "$work/$main_tgz" "$work/$platform_tgz" >/dev/null &&
  npm install --no-audit --no-fund --save-dev "$work/$orchestration_tgz" "$work/$orchestration_platform_tgz" >/dev/null)
echo "  installed: $(cd "$app" && du -sh node_modules | cut -f1) in node_modules"
# A terminal's Ctrl-C signals the whole process group (npx and the command):
# run it in a group of its own and signal that.
started=$(date +%s%N)
(cd "$app" && exec setsid npx --no-install tasker-worker dev --handlers ./handlers --templates ./templates --json >"$work/dev.out" 2>"$work/dev.err") &
for _ in $(seq 1 300); do
  grep -q '^{' "$work/dev.out" 2>/dev/null && break
  sleep 0.1
done
grep -q '^{' "$work/dev.out" || { echo "dev did not come up:" >&2; cat "$work/dev.out" "$work/dev.err" >&2; exit 1; }
ready_ms=$(( ($(date +%s%N) - started) / 1000000 ))
info=$(grep -m1 '^{' "$work/dev.out")
dev_pid=$(node -p "JSON.parse(process.argv[1]).pid" "$info")
dev_pgid=$(ps -o pgid= -p "$dev_pid" | tr -d ' ')
orchestration=$(node -p "JSON.parse(process.argv[1]).orchestrationUrl" "$info")
ui=$(node -p "JSON.parse(process.argv[1]).uiUrl" "$info")
echo "  dev ready in ${ready_ms} ms (first start: a new database): page $ui, orchestration $orchestration"
curl -sf "$ui" | grep -qi '<html' || { echo "the page did not answer at $ui" >&2; exit 1; }

# The README's example task.
task=$(curl -sf -X POST "$orchestration/v1/tasks" -H 'content-type: application/json' \
  -d '{"name":"hello","namespace":"try_it","version":"1.0.0","context":{"name":"Ada"},"initiator":"me","source_system":"readme","reason":"trying it"}' |
  node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).task_uuid')
state=
for _ in $(seq 1 200); do
  state=$(curl -sf "$orchestration/v1/tasks/$task" | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).status')
  [ "$state" = complete ] && break
  sleep 0.1
done
[ "$state" = complete ] || { echo "the example task is $state, not complete" >&2; cat "$work/dev.out" "$work/dev.err" >&2; exit 1; }
loud=$(curl -sf "$orchestration/v1/tasks/$task/workflow_steps" | node -p '
  const steps = JSON.parse(require("fs").readFileSync(0, "utf8"));
  (Array.isArray(steps) ? steps : steps.steps).find((s) => s.name === "shout").results.result.loud')
[ "$loud" = "HELLO, ADA!" ] || { echo "the shout step gave '$loud'" >&2; exit 1; }
echo "  the example task completed: $loud"

# Ctrl-C: everything stops within 10 s, and nothing is left running.
stop_started=$(date +%s%N)
kill -INT -- "-$dev_pgid"
for _ in $(seq 1 100); do
  kill -0 "$dev_pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$dev_pid" 2>/dev/null; then echo "dev still runs 10 s after Ctrl-C" >&2; exit 1; fi
stop_ms=$(( ($(date +%s%N) - stop_started) / 1000000 ))
sleep 1
left=$(pgrep -a -f "$app" || true)
[ -z "$left" ] || { echo "processes left after Ctrl-C:" >&2; echo "$left" >&2; exit 1; }
dev_pgid=
[ -d "$app/.tasker/postgres" ] && [ ! -e "$app/.tasker/dev.lock" ] || { echo "the data folder is not kept, or still locked" >&2; exit 1; }
echo "try-it check passed: ready in ${ready_ms} ms, the example task completed, Ctrl-C stopped everything in ${stop_ms} ms, data kept in .tasker"
