// Where the local environment's pieces are: the package's own lookup
// (lib/dev/paths.ts), and the Rust host triple for this checkout's builds.
import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export { devenvBinary, postgresHome } from '../dist/dev/index.mjs';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The Rust host triple, as cargo names its target folder. */
export function hostTriple() {
  try {
    return /host: (\S+)/.exec(execFileSync('rustc', ['-vV'], { encoding: 'utf8' }))?.[1];
  } catch {
    return undefined;
  }
}
