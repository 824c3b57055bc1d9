// The addon's benchmark variant (cargo feature `bench`), which scripts/build.sh
// builds beside the shipped one: TASKER_BENCH_ADDON, else the debug build.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const path = process.env.TASKER_BENCH_ADDON ?? fileURLToPath(new URL('../../target/bench/debug/tasker-worker.node', import.meta.url));
if (!existsSync(path)) {
  throw new Error(`the benchmark variant of the addon is not built (${path}); run: bash scripts/build.sh`);
}
export const benchAddon = createRequire(import.meta.url)(path);
