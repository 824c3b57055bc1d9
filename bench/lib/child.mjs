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

/** This process idling for `seconds`: its CPU time (all threads) and its RSS at the end. */
export async function idleWindow(seconds) {
  const before = process.cpuUsage();
  const started = process.hrtime.bigint();
  await sleep(seconds * 1000);
  const used = process.cpuUsage(before);
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuMs = (used.user + used.system) / 1000;
  return { seconds: wall, cpuMs: Math.round(cpuMs), cpuPercentOfCore: Math.round((cpuMs / 10 / wall) * 100) / 100, rssBytes: process.memoryUsage().rss };
}

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
