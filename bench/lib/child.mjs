// Helpers for a benchmark case running in its own process: which runtime it
// is, how to read its parameters and how to report its result.

export const runtimeName = typeof globalThis.Bun !== 'undefined' ? 'bun' : typeof globalThis.Deno !== 'undefined' ? 'deno' : 'node';

/** The case's parameters, passed by the runner as JSON in BENCH_PARAMS. */
export function params() {
  return JSON.parse(process.env.BENCH_PARAMS ?? '{}');
}

/** Prints the result where the runner looks for it (the last stdout line). */
export function report(result) {
  process.stdout.write(`BENCH_RESULT ${JSON.stringify({ runtime: runtimeName, ...result })}\n`);
}

/** Full garbage collection, in Bun, and in Node and Deno started with --expose-gc. */
export function collectGarbage() {
  if (globalThis.Bun) globalThis.Bun.gc(true);
  else if (typeof globalThis.gc === 'function') globalThis.gc();
  else throw new Error('run Node with --expose-gc (Deno with --v8-flags=--expose-gc)');
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `main` and exits, reporting a failure on stderr with a non-zero code. */
export function runCase(main) {
  main().then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`${error?.stack ?? error}\n`);
      process.exit(1);
    },
  );
}
