// The build the benchmarks measure: release (what the platform packages
// ship) unless --debug, with the addon's `bench` feature (its benchmark-only
// exports) on. It builds incrementally into the same target folder (only the
// addon crate differs from the shipped build); the addon is copied to a .node
// file the loader can require. With `prebuilt` it skips cargo and takes the
// artifacts already in target/ (a machine whose build slot is busy, or a run
// right after a build): they must have been built with the bench feature.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { hostTriple } from '../../devenv/paths.mjs';
import { repoRoot } from './children.mjs';

function cargoBuildArgs({ triple, debug }) {
  const args = ['build', '--quiet', '--target', triple, '--workspace', '--features', 'tasker-worker-napi/bench'];
  if (!debug) args.push('--release');
  return args;
}

export function prepareBuild({ debug, prebuilt = false }) {
  const triple = hostTriple();
  if (!triple) throw new Error('rustc is not installed: run scripts/setup.sh');
  const profile = debug ? 'debug' : 'release';
  const dir = join(repoRoot, 'target', triple, profile);
  const args = cargoBuildArgs({ triple, debug });
  if (prebuilt) {
    console.error(`[bench] --prebuilt: using the ${profile} artifacts in ${dir} as they are (no cargo build)`);
  } else {
    console.error(`[bench] cargo ${args.join(' ')} (the first release build takes a while; later ones are incremental)`);
    execFileSync('cargo', args, { cwd: repoRoot, stdio: 'inherit', env: { ...process.env, SQLX_OFFLINE: 'true' } });
  }
  const library = join(dir, process.platform === 'darwin' ? 'libtasker_worker_napi.dylib' : 'libtasker_worker_napi.so');
  const benchBinary = join(dir, 'tasker-bench');
  const devenvBinary = join(dir, 'tasker-devenv');
  const missing = [library, benchBinary, devenvBinary].filter((file) => !existsSync(file));
  if (missing.length) {
    const how = prebuilt
      ? `--prebuilt needs a ${profile} build with the bench feature: run \`cargo ${args.join(' ')}\` (or drop --prebuilt)`
      : 'run bash scripts/build.sh first';
    throw new Error(`missing: ${missing.join(', ')}; ${how}`);
  }
  const addonDir = join(repoRoot, 'target', 'bench', profile);
  mkdirSync(addonDir, { recursive: true });
  const addon = join(addonDir, 'tasker-worker.node');
  copyFileSync(library, addon);
  return { profile, addon, benchBinary, devenvBinary, env: { TASKER_FFI_MODULE_PATH: addon, TASKER_DEVENV_BIN: devenvBinary } };
}
