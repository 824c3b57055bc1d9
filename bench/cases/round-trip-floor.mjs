// The floor of the bridge's round trip: ThreadsafeFunction calls from a
// runtime thread as fast as a window of maxInFlight unanswered calls allows,
// each answered when the JS callback returns (bench/addon/floor.rs). Once
// carrying the bridge benchmark's step event (JSON text parsed on the JS
// thread, as push delivery does), once bare. No worker, no tasker, no
// tracking: what the throughput case takes above this is theirs.
import { native } from '../lib/package.mjs';
import { params, report, runCase } from '../lib/child.mjs';
import { median } from '../lib/stats.mjs';

/** Events per second of `count` calls with a window of `maxInFlight`. */
function rate(count, maxInFlight, withEvent) {
  return new Promise((resolve, reject) => {
    let seen = 0;
    const started = process.hrtime.bigint();
    native.bench.roundTripFloor((event) => {
      // Read a field, as a handler would; a missing event means the case is broken.
      if (withEvent && typeof event?.eventId !== 'string') reject(new Error(`expected a step event, got ${JSON.stringify(event)}`));
      if (++seen === count) resolve(count / (Number(process.hrtime.bigint() - started) / 1e9));
    }, count, maxInFlight, withEvent);
  });
}

runCase(async () => {
  const { events = 50_000, warmup = 5_000, rounds = 3, maxInFlight = 64 } = params();
  const rates = { event: [], bare: [] };
  for (const withEvent of [true, false]) await rate(warmup, maxInFlight, withEvent);
  for (let round = 0; round < rounds; round++) {
    rates.event.push(await rate(events, maxInFlight, true));
    rates.bare.push(await rate(events, maxInFlight, false));
  }
  report({
    mode: 'floor',
    maxInFlight,
    events,
    rounds,
    eventsPerSecond: Math.round(median(rates.event)),
    bareEventsPerSecond: Math.round(median(rates.bare)),
    rates: rates.event.map(Math.round),
    bareRates: rates.bare.map(Math.round),
  });
});
