// A Worker over the scripted FakeRuntime (10 ms-free poll delivery), and the
// waits the TS layer's unit tests share.
import { FakeRuntime } from './fake-runtime.mjs';
import { pkg } from './package.mjs';

export const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(check, ms = 3000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await tick(2);
  }
}

/** A Worker polling every 1 ms from a fresh FakeRuntime. */
export function fakeWorker(config, options = {}) {
  const runtime = new FakeRuntime();
  const worker = new pkg.Worker({ config, runtime, delivery: 'poll', pollIntervalMs: 1, ...options });
  return { runtime, worker };
}

/** The completion the runtime received for `event`. */
export const resultOf = (runtime, event) => runtime.completions.find((c) => c.eventId === event.eventId)?.result;
