/**
 * Loads the native addon: an explicit path (option or TASKER_FFI_MODULE_PATH),
 * a local build next to the package (development), or the prebuilt platform
 * package (@tasker-systems/worker-<platform>). When none loads, one
 * FfiLibraryError lists every attempt and how to fix it.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import type * as NativeModule from '../index';
import { FfiLibraryError } from './errors';

export type NativeBinding = typeof NativeModule;

const BINARY_NAME = 'tasker-worker';
const PACKAGE_NAME = '@tasker-systems/worker';

function isMusl(): boolean {
  const report = (process as { report?: { getReport?: () => unknown } }).report?.getReport?.() as
    | { header?: { glibcVersionRuntime?: string } }
    | undefined;
  if (report?.header) return !report.header.glibcVersionRuntime;
  try {
    return readdirSync('/lib').some((f) => f.startsWith('ld-musl-'));
  } catch {
    return false;
  }
}

/** The napi-rs platform name of this machine, e.g. linux-x64-gnu, darwin-arm64. */
export function platformTriple(platform: string = process.platform, arch: string = process.arch, musl = isMusl()): string {
  if (platform === 'linux') return `linux-${arch}-${musl ? 'musl' : 'gnu'}`;
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

export interface LoadOptions {
  /** Path of a `.node` file to load instead of the usual places. */
  modulePath?: string;
}

/** Where the loader looks, in order. */
export function candidates(options: LoadOptions = {}): string[] {
  const triple = platformTriple();
  const explicit = options.modulePath ?? process.env.TASKER_FFI_MODULE_PATH;
  if (explicit) return [explicit];
  const packageRoot = join(__dirname, '..');
  return [join(packageRoot, `${BINARY_NAME}.${triple}.node`), `${PACKAGE_NAME}-${triple}`];
}

export function loadNative(options: LoadOptions = {}): NativeBinding {
  const triple = platformTriple();
  const attempts: string[] = [];
  for (const candidate of candidates(options)) {
    const isFile = candidate.endsWith('.node');
    if (isFile && !existsSync(candidate)) {
      attempts.push(`${candidate}: no such file`);
      continue;
    }
    try {
      return require(candidate) as NativeBinding;
    } catch (error) {
      attempts.push(`${candidate}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  const explicit = options.modulePath ?? process.env.TASKER_FFI_MODULE_PATH;
  const fix = explicit
    ? 'check that the path points at a tasker-worker .node file built for this platform'
    : `install the optional dependency ${PACKAGE_NAME}-${triple} (reinstall without --no-optional / --omit=optional), ` +
      `build locally with \`npm run build:native\`, or set TASKER_FFI_MODULE_PATH; ` +
      `if ${triple} is not among the supported platforms, see the README's platform table`;
  throw new FfiLibraryError(
    `the tasker-worker native module could not be loaded for ${triple}. Tried:\n  ${attempts.join('\n  ')}\nTo fix: ${fix}`,
    attempts,
    triple,
  );
}
