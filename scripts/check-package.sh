#!/usr/bin/env bash
# Packaging check: pack the main package and the linux-x64-gnu platform
# package, install both tarballs into a fresh project with npm, and have a
# Node ESM, a Node CommonJS, a Bun and a Deno consumer each load the package
# and complete one real step against a real environment. Deno also imports it
# with an `npm:` specifier from a loopback registry serving the tarballs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
platform=linux-x64-gnu
work=$(mktemp -d)
env_pid=
registry_pid=
cleanup() {
  [ -n "$env_pid" ] && { kill -TERM "$env_pid" 2>/dev/null || true; wait "$env_pid" 2>/dev/null || true; }
  [ -n "$registry_pid" ] && { kill -TERM "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; }
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
# The other platform packages, without binaries, for the loopback registry:
# Deno asks the registry about every optional dependency, as the real one
# would answer once they are published.
mkdir "$work/others"
for dir in npm/*/; do
  [ "$dir" = "npm/$platform/" ] || npm pack --silent --pack-destination "$work/others" "./$dir" >/dev/null
done

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
  local name=$1 dir=$2; shift 2
  export NAMESPACE="pkg_${name}_$RANDOM"
  export TEMPLATE_DIR="$work/templates-$name"
  mkdir -p "$TEMPLATE_DIR"
  sed "s/{{namespace}}/$NAMESPACE/" devenv/templates/single.yaml >"$TEMPLATE_DIR/single.yaml"
  (cd "$dir" && "$@")
}
consumer esm "$work/app" node esm.mjs
consumer cjs "$work/app" node cjs.cjs
consumer bun "$work/app" "$root/node_modules/.bin/bun" bun.ts

# Deno, with only the permissions the README lists (no --allow-net, no
# --allow-sys, no -A): the consumer's TaskerClient requests, like the worker's
# database connections, are made by the addon.
deno="$root/node_modules/.bin/deno"
deno_run=(run --allow-ffi --allow-read --allow-env)
export DENO_DIR="$work/deno-cache" DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
# From the npm install above ("nodeModulesDir": "manual"). Not type-checked
# here: Deno checks npm packages against @types/node, which this project does
# not install (the registry run below checks the types).
echo '{ "nodeModulesDir": "manual" }' >"$work/app/deno.json"
DENO_IMPORT_FROM="$work/app/node_modules/" CONSUMER_LABEL=deno-node-modules consumer deno_nm "$work/app" "$deno" "${deno_run[@]}" deno.ts
# From a registry: a loopback one serves the tarballs to Deno, which fetches
# them into its own cache (no node_modules folder) with their dependencies
# from the public registry.
node __test__/package/registry.mjs "$work/registry.port" "$work/$main_tgz" "$work/$platform_tgz" "$work"/others/*.tgz 2>"$work/registry.log" &
registry_pid=$!
for _ in $(seq 1 50); do [ -s "$work/registry.port" ] && break; sleep 0.1; done
[ -s "$work/registry.port" ] || { cat "$work/registry.log" >&2; exit 1; }
mkdir "$work/deno-app"
cp __test__/package/consumers/deno.ts __test__/package/consumers/consumer.cjs "$work/deno-app/"
printf '@tasker-systems:registry=http://127.0.0.1:%s/\n' "$(cat "$work/registry.port")" >"$work/deno-app/.npmrc"
echo '{ "nodeModulesDir": "none" }' >"$work/deno-app/deno.json"
(cd "$work/deno-app" && "$deno" check deno.ts)
DENO_IMPORT_FROM="$DENO_DIR/npm/" CONSUMER_LABEL=deno-npm consumer deno_npm "$work/deno-app" "$deno" "${deno_run[@]}" deno.ts
echo "packaging check passed: 5 consumers (Node ESM, Node CommonJS, Bun, Deno from node_modules, Deno from a registry) completed a real step from the packed tarballs"
