/**
 * Which JavaScript runtime hosts the worker. Node.js, Bun and Deno (2 and
 * later) all load the native addon through Node-API.
 */
export type RuntimeName = 'bun' | 'node' | 'deno' | 'unknown';

export const SUPPORTED_RUNTIMES: readonly RuntimeName[] = ['node', 'bun', 'deno'];

/** The oldest Deno major that runs the worker: Deno 1 lacks the npm and Node-API compatibility it needs. */
export const MINIMUM_DENO_MAJOR = 2;

/** Globals the detection reads; injectable for tests. */
export interface RuntimeGlobals {
  Bun?: unknown;
  Deno?: { version?: { deno?: string } } | unknown;
  process?: { versions?: Record<string, string | undefined> };
}

export function detectRuntime(globals: RuntimeGlobals = globalThis as RuntimeGlobals): RuntimeName {
  if (globals.Bun !== undefined || globals.process?.versions?.bun) return 'bun';
  if (globals.Deno !== undefined) return 'deno';
  if (globals.process?.versions?.node) return 'node';
  return 'unknown';
}

/** The version of Deno running this code, when it is Deno. */
export function denoVersion(globals: RuntimeGlobals = globalThis as RuntimeGlobals): string | undefined {
  return (globals.Deno as { version?: { deno?: string } } | undefined)?.version?.deno;
}

/**
 * Whether `runtime` can run the worker. For Deno the version matters too:
 * `version` defaults to the running Deno's when `runtime` is the one running.
 */
export function isRuntimeSupported(runtime: RuntimeName = detectRuntime(), version?: string): boolean {
  if (!SUPPORTED_RUNTIMES.includes(runtime)) return false;
  if (runtime !== 'deno') return true;
  const v = version ?? (detectRuntime() === 'deno' ? denoVersion() : undefined);
  // An unknown Deno version is given the benefit of the doubt rather than refused.
  return v === undefined || Number.parseInt(v, 10) >= MINIMUM_DENO_MAJOR;
}

/** Throws a clear error when the current runtime cannot run the worker. */
export function assertSupportedRuntime(runtime: RuntimeName = detectRuntime(), version?: string): void {
  if (isRuntimeSupported(runtime, version)) return;
  const why =
    runtime === 'deno'
      ? `Deno ${version ?? denoVersion()} is too old: Deno >= ${MINIMUM_DENO_MAJOR} is needed for its npm and Node-API support`
      : 'this JavaScript runtime was not recognised';
  throw new Error(`@tasker-systems/worker cannot run here (${runtime}): ${why}. Supported runtimes: Node.js >= 20, Bun >= 1.1 and Deno >= 2.`);
}
