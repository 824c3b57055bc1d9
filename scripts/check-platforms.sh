#!/usr/bin/env bash
# Platform check: builds the addon for the five targets besides this machine's
# (linux-x64-gnu is scripts/build.sh's), puts each binary, stripped, in its
# npm/<platform>/ package and checks them all the same way
# (scripts/platforms/inspect.mjs). Then, for each linux target, it installs the
# packed tarballs into a fresh project as npm does on that platform (from a
# loopback registry, with --os/--cpu/--libc) and has each of that platform's
# runtimes load the package through its own loader and complete a real step
# against a local environment (PostgreSQL and orchestration stay x64, on
# loopback); in that platform's Node, the addon's surface tests and a short
# fuzz pass. arm64 runs under qemu-user, musl through Debian trixie's loader;
# darwin binaries are linked here (zig compiles the C code, LLVM's lld links
# against text stubs of the SDK) and checked, not run.
#
#   bash scripts/check-platforms.sh               every target
#   bash scripts/check-platforms.sh --ci          what .ci/run runs (CI_PLATFORMS below)
#   bash scripts/check-platforms.sh --only linux-x64-musl,darwin-arm64 [--build-only]
#   PROFILE=release bash scripts/check-platforms.sh --only linux-x64-gnu,... --build-only   (size figures)
#
# It installs what it needs (Debian packages when root, rustup targets, zig from
# PyPI, the runtimes from npm and PyPI, trixie's musl) into target/platform-tools/.
# One cargo build at a time; tasker-devenv is built beside each linux addon.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export TOOLS="$root/target/platform-tools" SQLX_OFFLINE=true
# Per-target flags go in CARGO_TARGET_<TRIPLE>_RUSTFLAGS, which RUSTFLAGS would override.
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS
. scripts/platforms/tools.sh
. scripts/platforms/runtimes.sh

ALL_PLATFORMS=(linux-arm64-gnu linux-x64-musl linux-arm64-musl darwin-arm64 darwin-x64)
# Measured in a fresh clone: arm64-gnu and x64-musl built and run 10 min,
# darwin-arm64 linked and checked 4 min; arm64-musl (8.5 min) and darwin-x64
# (4 min) would take .ci/run near its 60-minute limit.
CI_PLATFORMS=(linux-arm64-gnu linux-x64-musl darwin-arm64)
profile=${PROFILE:-debug}
selected=("${ALL_PLATFORMS[@]}")
build_only=false
while [ $# -gt 0 ]; do
  case $1 in
    --ci) selected=("${CI_PLATFORMS[@]}") ;;
    --only) IFS=, read -ra selected <<<"$2"; shift ;;
    --build-only) build_only=true ;;
    *) echo "usage: $0 [--ci | --only p1,p2] [--build-only]" >&2; exit 2 ;;
  esac
  shift
done

triple_of() {
  case $1 in
    linux-x64-gnu) echo x86_64-unknown-linux-gnu ;;
    linux-arm64-gnu) echo aarch64-unknown-linux-gnu ;;
    linux-x64-musl) echo x86_64-unknown-linux-musl ;;
    linux-arm64-musl) echo aarch64-unknown-linux-musl ;;
    darwin-x64) echo x86_64-apple-darwin ;;
    darwin-arm64) echo aarch64-apple-darwin ;;
    *) echo "unknown platform $1" >&2; exit 2 ;;
  esac
}

report="$root/target/platform-check"
mkdir -p "$report"
timings=()
timed() { # timed LABEL CMD...: runs CMD, records its duration
  local label=$1 start=$SECONDS; shift
  "$@"
  timings+=("$label: $((SECONDS - start)) s")
}

# --- tools
triples=()
for p in "${selected[@]}"; do triples+=("$(triple_of "$p")"); done
tools() {
  ensure_apt
  ensure_rust "${triples[@]}"
  ensure_zig
}
timed tools tools
export LLVM_BIN

# --- builds, one at a time
build() {
  local p=$1 t cmd=(cargo build) pkgs=(-p tasker-worker-napi) envs=() T ext=so
  t=$(triple_of "$p")
  T=$(tr a-z- A-Z_ <<<"$t")
  case $p in
    linux-arm64-gnu) envs+=("CARGO_TARGET_${T}_LINKER=aarch64-linux-gnu-gcc") ;;
    # zig links musl (cc would silently link glibc); a cdylib needs -crt-static.
    linux-*-musl) cmd=(cargo zigbuild) envs+=("CARGO_TARGET_${T}_RUSTFLAGS=-C target-feature=-crt-static") ;;
    darwin-*)
      # No Apple SDK here: zig compiles the C code, LLVM's Mach-O linker links
      # against text stubs (scripts/platforms/ld64-lld and macos-sdk.mjs say why).
      local sdk="$TOOLS/macos-sdk"
      node scripts/platforms/macos-sdk.mjs "$sdk" "$("$TOOLS/venv/bin/python" -c 'import ziglang, os; print(os.path.join(os.path.dirname(ziglang.__file__), "lib"))')"
      cmd=(cargo zigbuild) ext=dylib
      # rustc's own minimum macOS for each CPU, for the C code too.
      envs+=("MACOSX_DEPLOYMENT_TARGET=$([ "$p" = darwin-arm64 ] && echo 11.0 || echo 10.12)" "RUST_LLD=$LLVM_BIN/rust-lld"
        "CARGO_TARGET_${T}_RUSTFLAGS=-L framework=$sdk/Frameworks -L native=$sdk/usr/lib -C linker=$root/scripts/platforms/ld64-lld -C linker-flavor=ld64.lld -C link-arg=-install_name -C link-arg=@rpath/tasker-worker.node") ;;
  esac
  # The orchestration server, for the packages that will carry it.
  [[ $p == linux-* ]] && pkgs+=(-p tasker-devenv)
  local flags=() dir=$profile
  [ "$profile" = release ] && flags=(--release)
  say "build $p ($t, $profile)"
  if ! env "${envs[@]}" "${cmd[@]}" "${flags[@]}" --target "$t" "${pkgs[@]}" >"$report/build-$p.log" 2>&1; then
    tail -40 "$report/build-$p.log" >&2
    echo "the $p build failed (whole log: $report/build-$p.log)" >&2
    return 1
  fi
  local built="target/$t/$dir/libtasker_worker_napi.$ext" shipped="npm/$p/tasker-worker.$p.node"
  # A new file, not the old one rewritten: a process may have it mapped.
  rm -f "$shipped"
  if [ "$ext" = so ]; then
    "$LLVM_BIN/llvm-strip" --strip-all -o "$shipped" "$built"
  else
    # Locals and debug info only: the exported and imported symbols stay (llvm-strip re-signs arm64).
    "$LLVM_BIN/llvm-strip" -x -S -o "$shipped" "$built"
  fi
  node scripts/platforms/inspect.mjs "$p" "$built" "$shipped" >"$report/$p.json"
  if [[ $p == linux-* ]]; then
    local devenv="target/$t/$dir/tasker-devenv"
    "$LLVM_BIN/llvm-strip" --strip-all -o "$report/tasker-devenv.$p" "$devenv"
    node -e 'const f=require(process.argv[1]); const {statSync:s}=require("fs"); f.devenvBytes=s(process.argv[2]).size; f.devenvStrippedBytes=s(process.argv[3]).size; require("fs").writeFileSync(process.argv[1], JSON.stringify(f))' \
      "$report/$p.json" "$devenv" "$report/tasker-devenv.$p"
    rm -f "$report/tasker-devenv.$p"
  fi
  say "$p: $(cat "$report/$p.json")"
}
for p in "${selected[@]}"; do timed "build $p" build "$p"; done

# This machine's own platform is scripts/check-package.sh's.
linux=()
for p in "${selected[@]}"; do [[ $p == linux-* && $p != linux-x64-gnu ]] && linux+=("$p"); done
if $build_only || [ ${#linux[@]} = 0 ]; then
  printf '%s\n' "${timings[@]}"
  exit 0
fi
. scripts/platforms/runs.sh
