/**
 * Which JavaScript runtime hosts the worker. Bun and Node.js load the native
 * addon through Node-API; Deno is not supported (see assertSupportedRuntime).
 */
export type RuntimeName = 'bun' | 'node' | 'deno' | 'unknown';

export const SUPPORTED_RUNTIMES: readonly RuntimeName[] = ['node', 'bun'];

/** Globals the detection reads; injectable for tests. */
export interface RuntimeGlobals {
  Bun?: unknown;
  Deno?: unknown;
  process?: { versions?: Record<string, string | undefined> };
}

export function detectRuntime(globals: RuntimeGlobals = globalThis as RuntimeGlobals): RuntimeName {
  if (globals.Bun !== undefined || globals.process?.versions?.bun) return 'bun';
  if (globals.Deno !== undefined) return 'deno';
  if (globals.process?.versions?.node) return 'node';
  return 'unknown';
}

export function isRuntimeSupported(runtime: RuntimeName = detectRuntime()): boolean {
  return SUPPORTED_RUNTIMES.includes(runtime);
}

/** Throws a clear error when the current runtime cannot run the worker. */
export function assertSupportedRuntime(runtime: RuntimeName = detectRuntime()): void {
  if (isRuntimeSupported(runtime)) return;
  const why =
    runtime === 'deno'
      ? 'Deno is not supported: the worker is a Node-API addon that owns threads and a ThreadsafeFunction, which this package does not test under Deno'
      : 'this JavaScript runtime was not recognised';
  throw new Error(`@tasker-systems/worker cannot run here (${runtime}): ${why}. Supported runtimes: Node.js >= 20 and Bun >= 1.1.`);
}
