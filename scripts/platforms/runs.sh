# Sourced by scripts/check-platforms.sh once the binaries are in npm/<platform>/:
# installs and runs the linux platforms in $linux (see that script's header).
[ -f tasker-worker.linux-x64-gnu.node ] && [ -f dist/index.js ] || { echo "build this machine's addon first: bash scripts/build.sh" >&2; exit 1; }
node scripts/sync-versions.mjs --check >/dev/null
version=$(node -p 'require("./package.json").version')
work=$(mktemp -d)
env_pid=
registry_pid=
cleanup() {
  [ -n "$env_pid" ] && { kill -TERM "$env_pid" 2>/dev/null || true; wait "$env_pid" 2>/dev/null || true; }
  [ -n "$registry_pid" ] && { kill -TERM "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT

# Every runtime fetched before the clock of the runs starts.
fetch_runtimes() {
  local p rt
  for p in "${linux[@]}"; do
    for rt in $(runtimes_of "$p"); do runtime_cmd "$p" "$rt"; done
  done
}
timed tools-runtimes fetch_runtimes

# --- the tarballs, served as the registry would: the main package lists the six
# platform packages as optional dependencies; npm picks by os, cpu and libc.
pack() {
  mkdir "$work/stage" "$work/tarballs"
  cp -r package.json README.md LICENSE index.cjs index.d.ts dist "$work/stage/"
  node scripts/sync-versions.mjs --optional-deps "$work/stage/package.json" >/dev/null
  (cd "$work/stage" && npm pack --silent --pack-destination "$work/tarballs" >/dev/null)
  for dir in npm/*/; do npm pack --silent --pack-destination "$work/tarballs" "./$dir" >/dev/null; done
  node __test__/package/registry.mjs "$work/registry.port" "$work"/tarballs/*.tgz 2>"$work/registry.log" &
  registry_pid=$!
  for _ in $(seq 1 50); do [ -s "$work/registry.port" ] && break; sleep 0.1; done
  [ -s "$work/registry.port" ] || { cat "$work/registry.log" >&2; return 1; }
}
timed pack pack

environment() {
  node devenv/cli.mjs up --json "$work/env.json" >"$work/env.out" 2>"$work/env.log" &
  env_pid=$!
  for _ in $(seq 1 300); do
    [ -s "$work/env.json" ] && break
    kill -0 "$env_pid" 2>/dev/null || { cat "$work/env.log" >&2; return 1; }
    sleep 1
  done
  [ -s "$work/env.json" ] || { echo "the environment did not start in time" >&2; cat "$work/env.log" >&2; return 1; }
  DATABASE_URL=$(node -p "require('$work/env.json').databaseUrl")
  ORCHESTRATION_URL=$(node -p "require('$work/env.json').orchestrationUrl")
  export DATABASE_URL ORCHESTRATION_URL
}
timed environment environment

# A fresh project with @tasker-systems/worker installed as npm installs it on $1.
install_for() {
  local p=$1 app="$work/app-$1" os cpu libc installed
  IFS=- read -r os cpu libc <<<"$p"
  mkdir "$app"
  cp __test__/package/consumers/* "$app/"
  printf '@tasker-systems:registry=http://127.0.0.1:%s/\n' "$(cat "$work/registry.port")" >"$app/.npmrc"
  (cd "$app" && npm init -y >/dev/null &&
    npm install --no-audit --no-fund --cache "$work/npm-cache" --os "$os" --cpu "$cpu" --libc "${libc/gnu/glibc}" "@tasker-systems/worker@$version" >/dev/null)
  installed=$(cd "$app/node_modules/@tasker-systems" && echo *)
  [ "$installed" = "worker worker-$p" ] || { echo "npm installed $installed for $p, not worker and worker-$p" >&2; return 1; }
  say "$p: npm installed @tasker-systems/worker and only @tasker-systems/worker-$p"
}

# consumer PLATFORM LABEL CMD...: one real step through the installed package.
consumer() {
  local p=$1 label=$2; shift 2
  export NAMESPACE="plat_${label//-/_}_$RANDOM" TEMPLATE_DIR="$work/templates-$p-$label"
  mkdir -p "$TEMPLATE_DIR"
  sed "s/{{namespace}}/$NAMESPACE/" devenv/templates/single.yaml >"$TEMPLATE_DIR/single.yaml"
  (cd "$work/app-$p" && "$@")
}

run_runtime() {
  local p=$1 rt=$2 app="$work/app-$1"
  runtime_cmd "$p" "$rt"
  case $rt in
    node)
      "${RT[@]}" scripts/platforms/exports.mjs print "$app" "$p" "$work/exports-$p.json"
      node scripts/platforms/exports.mjs compare "$work/exports-$p.json"
      consumer "$p" node "${RT[@]}" esm.mjs ;;
    bun) consumer "$p" bun "${RT[@]}" bun.ts ;;
    deno)
      # From node_modules, with only the permissions the README lists.
      echo '{ "nodeModulesDir": "manual" }' >"$app/deno.json"
      DENO_DIR="$work/deno-cache" DENO_NO_UPDATE_CHECK=1 NO_COLOR=1 DENO_IMPORT_FROM="$app/node_modules/" CONSUMER_LABEL=deno \
        consumer "$p" deno "${RT[@]}" run --allow-ffi --allow-read --allow-env deno.ts ;;
  esac
}

# The addon's surface tests and the fuzz test (12,000 calls over its unbooted,
# lifecycle and running phases; the bench variant is not built for other
# platforms; a smaller FUZZ_SCALE leaves exports uncalled, which fails it) in
# the platform's Node, on the installed binary.
addon_tests() {
  local p=$1 binary="$work/app-$1/node_modules/@tasker-systems/worker-$1/tasker-worker.$1.node"
  runtime_cmd "$p" node
  # Under qemu-user a call runs several times slower: give a Promise 30 s, not 5 s, to settle.
  local settle=5000
  [[ ${RT[0]} == qemu-* ]] && settle=30000
  local env=(FUZZ_SETTLE_MS="${FUZZ_SETTLE_MS:-$settle}" NAPI_RS_NATIVE_LIBRARY_PATH="$binary" TASKER_FFI_MODULE_PATH="$binary"
    TASKER_TEST_RUNTIME_COMMAND="$(node -e 'console.log(JSON.stringify(process.argv.slice(1)))' "${RT[@]}")"
    TASKER_TEST_DATABASE_URL="$DATABASE_URL" TASKER_TEST_ORCHESTRATION_URL="$ORCHESTRATION_URL")
  # Test files run directly: `node --test` would start each in a child by process.execPath.
  env "${env[@]}" "${RT[@]}" __test__/addon/surface.test.mjs >"$work/surface-$p.out" 2>&1 || { cat "$work/surface-$p.out" >&2; return 1; }
  env "${env[@]}" "${RT[@]}" --test-name-pattern='benchmark code' __test__/addon/generated.test.mjs >>"$work/surface-$p.out" 2>&1 || { cat "$work/surface-$p.out" >&2; return 1; }
  env "${env[@]}" FUZZ_SCALE=${FUZZ_SCALE:-1} "${RT[@]}" --test-skip-pattern='bench variant' __test__/addon/fuzz.test.mjs >"$work/fuzz-$p.out" 2>&1 || { cat "$work/fuzz-$p.out" >&2; return 1; }
  echo "surface tests in $p Node: $(grep -E '^# (pass|fail)' "$work/surface-$p.out" | tr '\n' ' ')" >&2
  grep -E '^\[fuzz' "$work/fuzz-$p.out" >&2
}

for p in "${linux[@]}"; do
  timed "install $p" install_for "$p"
  for rt in $(runtimes_of "$p"); do timed "run $p $rt" run_runtime "$p" "$rt"; done
  timed "addon tests $p" addon_tests "$p"
done

echo
echo "== platform check: timings"
printf '  %s\n' "${timings[@]}"
echo "== binaries"
for p in "${selected[@]}"; do echo "  $(cat "$report/$p.json")"; done
echo "platform check passed: ${selected[*]} built and checked; ${linux[*]} installed with npm and completed a real step in $(for p in "${linux[@]}"; do echo -n "$p ($(runtimes_of "$p" | tr ' ' ,)) "; done)"
