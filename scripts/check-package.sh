#!/usr/bin/env bash
# Packaging check: pack the main package and the linux-x64-gnu platform
# package, install both tarballs into a fresh project with npm, and have a
# Node ESM, a Node CommonJS and a Bun consumer each load the package and
# complete one real step against a real environment.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
platform=linux-x64-gnu
work=$(mktemp -d)
env_pid=
cleanup() {
  [ -n "$env_pid" ] && { kill -TERM "$env_pid" 2>/dev/null || true; wait "$env_pid" 2>/dev/null || true; }
  rm -rf "$work"
  rm -f "npm/$platform/tasker-worker.$platform.node"
}
trap cleanup EXIT

[ -f "tasker-worker.$platform.node" ] || { echo "build first: bash scripts/build.sh" >&2; exit 1; }
node scripts/sync-versions.mjs --check
cp "tasker-worker.$platform.node" "npm/$platform/"
strip --strip-debug "npm/$platform/tasker-worker.$platform.node"
# The shipped addon is the product only: no benchmark exports.
node -e '
  const addon = require(process.argv[1]);
  if ("bench" in addon) throw new Error("the platform package carries the bench namespace: build without --features bench");
  console.log(`platform binary: ${Object.keys(addon).length} exports, no bench namespace`);
' "$root/npm/$platform/tasker-worker.$platform.node"

echo "== npm pack"
# Pack a staged copy whose package.json lists the platform packages as
# optionalDependencies, as the published one does.
mkdir "$work/stage"
cp -r package.json README.md LICENSE index.cjs index.d.ts dist "$work/stage/"
node scripts/sync-versions.mjs --optional-deps "$work/stage/package.json"
main_tgz=$(cd "$work/stage" && npm pack --silent --pack-destination "$work" | tail -1)
platform_tgz=$(npm pack --silent --pack-destination "$work" "./npm/$platform" | tail -1)
contents=$(tar tzf "$work/$main_tgz")
if echo "$contents" | grep -Eq '\.rs$|(^|/)(src|target|__test__|bench|devenv|crates|lib)/|\.test\.mjs$|\.node$'; then
  echo "the main package ships files users do not need:" >&2
  echo "$contents" | grep -E '\.rs$|(^|/)(src|target|__test__|bench|devenv|crates|lib)/|\.test\.mjs$|\.node$' >&2
  exit 1
fi
echo "main package: $main_tgz, $(du -k "$work/$main_tgz" | cut -f1) KiB packed, $(echo "$contents" | wc -l) files"
echo "platform package: $platform_tgz, $(du -k "$work/$platform_tgz" | cut -f1) KiB packed"

echo "== install both tarballs into a fresh project"
mkdir "$work/app"
cp __test__/package/consumers/* "$work/app/"
(cd "$work/app" && npm init -y >/dev/null && npm install --no-audit --no-fund "$work/$main_tgz" "$work/$platform_tgz" >/dev/null)
(cd "$work/app" && node -e '
  const main = require("@tasker-systems/worker/package.json");
  const wanted = `@tasker-systems/worker-'"$platform"'`;
  if (main.optionalDependencies?.[wanted] !== main.version) throw new Error(`the installed package does not list ${wanted}@${main.version}`);
  console.log(`installed ${main.name}@${main.version} lists ${Object.keys(main.optionalDependencies).length} platform packages`);
')

echo "== the tasker-worker command, as the installed package's bin"
mkdir -p "$work/cli/handlers" "$work/cli/templates"
echo 'export const step = (ctx) => ({ echoed: ctx.taskContext });' >"$work/cli/handlers/single.mjs"
sed "s/{{namespace}}/pkg_cli/" devenv/templates/single.yaml >"$work/cli/templates/single.yaml"
(cd "$work/app" && npx --no-install tasker-worker --help) | head -1 | grep -q '^Usage: tasker-worker' || { echo "npx tasker-worker --help did not print the usage" >&2; exit 1; }
(cd "$work/app" && npx --no-install tasker-worker --check --handlers "$work/cli/handlers" --templates "$work/cli/templates")

echo "== environment"
node devenv/cli.mjs up --json "$work/env.json" >"$work/env.out" 2>"$work/env.log" &
env_pid=$!
for _ in $(seq 1 300); do
  [ -s "$work/env.json" ] && break
  kill -0 "$env_pid" 2>/dev/null || { cat "$work/env.log" >&2; exit 1; }
  sleep 1
done
export DATABASE_URL=$(node -p "require('$work/env.json').databaseUrl")
export ORCHESTRATION_URL=$(node -p "require('$work/env.json').orchestrationUrl")

consumer() {
  local name=$1; shift
  export NAMESPACE="pkg_${name}_$RANDOM"
  export TEMPLATE_DIR="$work/templates-$name"
  mkdir -p "$TEMPLATE_DIR"
  sed "s/{{namespace}}/$NAMESPACE/" devenv/templates/single.yaml >"$TEMPLATE_DIR/single.yaml"
  (cd "$work/app" && "$@")
}
consumer esm node esm.mjs
consumer cjs node cjs.cjs
consumer bun "$root/node_modules/.bin/bun" bun.ts
echo "packaging check passed: 3 consumers completed a real step from the installed tarballs"
