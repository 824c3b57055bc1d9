#!/usr/bin/env bash
# The demo: builds what is needed, then runs a real order through tasker-core
# with TypeScript handlers on an embedded environment (see examples/demo.mts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh >/dev/null
exec node examples/dist/demo.mjs
