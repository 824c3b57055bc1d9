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
  // Deno's process.report is a stub (it always names glibc, and asks for
  // --allow-sys): the libc Deno was built for is the one the addon must match.
  const deno = (globalThis as { Deno?: { build?: { target?: string } } }).Deno;
  if (deno?.build?.target) return deno.build.target.endsWith('-musl');
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

/** The platforms with a prebuilt package (npm/<platform>/); the README's platform table. */
const PREBUILT = ['linux-x64-gnu', 'linux-arm64-gnu', 'linux-x64-musl', 'linux-arm64-musl', 'darwin-x64', 'darwin-arm64'];

export interface LoadOptions {
  /** Path of a `.node` file to load instead of the usual places. */
  modulePath?: string;
}

/**
 * Where the loader looks, in order, on the platform `triple` (this machine's
 * unless a test names another): the platform package only where one exists.
 */
export function candidates(options: LoadOptions = {}, triple = platformTriple()): string[] {
  const explicit = explicitPath(options);
  if (explicit) return [explicit];
  const local = join(__dirname, '..', `${BINARY_NAME}.${triple}.node`);
  return PREBUILT.includes(triple) ? [local, `${PACKAGE_NAME}-${triple}`] : [local];
}

function explicitPath(options: LoadOptions): string | undefined {
  return options.modulePath ?? process.env.TASKER_FFI_MODULE_PATH;
}

/** The Deno permissions loading the addon takes (reading the variable, finding and opening the file). */
const DENO_PERMISSIONS = '--allow-ffi --allow-read --allow-env';

/** Deno refuses what its permissions do not grant with a NotCapable error, where Node would go on. */
function isPermissionDenied(error: unknown): boolean {
  return error instanceof Error && (error.name === 'NotCapable' || /run again with the --allow-\w+ flag/.test(error.message));
}

/** Loads the addon; `triple` is for tests of another platform's choices. */
export function loadNative(options: LoadOptions = {}, triple = platformTriple()): NativeBinding {
  const attempts: string[] = [];
  let denied = false;
  const failed = (what: string, error: unknown) => {
    denied ||= isPermissionDenied(error);
    attempts.push(`${what}: ${String((error as Error)?.message ?? error).split('\n')[0]}`);
  };
  let explicit: string | undefined;
  let places: string[] = [];
  try {
    explicit = explicitPath(options);
    places = candidates(options, triple);
  } catch (error) {
    if (!isPermissionDenied(error)) throw error;
    failed('TASKER_FFI_MODULE_PATH', error);
  }
  for (const candidate of places) {
    try {
      if (candidate.endsWith('.node') && !existsSync(candidate)) {
        attempts.push(`${candidate}: no such file`);
        continue;
      }
      return require(candidate) as NativeBinding;
    } catch (error) {
      failed(candidate, error);
    }
  }
  const fix = denied
    ? `give Deno the permissions the worker needs: ${DENO_PERMISSIONS} (the README's runtime table explains each)`
    : explicit
      ? 'check that the path points at a tasker-worker .node file built for this platform'
      : !PREBUILT.includes(triple)
        ? `${triple} is not a supported platform: there is no ${PACKAGE_NAME}-${triple} package (prebuilt for ${PREBUILT.join(', ')}; ` +
          `${triple.startsWith('win32-') ? 'on Windows, run it under WSL 2 as linux-x64-gnu' : 'see the README\'s platform table'})`
        : `install the optional dependency ${PACKAGE_NAME}-${triple} (reinstall without --no-optional / --omit=optional), ` +
          `build locally with \`npm run build:native\`, or set TASKER_FFI_MODULE_PATH`;
  throw new FfiLibraryError(
    `the tasker-worker native module could not be loaded for ${triple}. Tried:\n  ${attempts.join('\n  ')}\nTo fix: ${fix}`,
    attempts,
    triple,
  );
}
