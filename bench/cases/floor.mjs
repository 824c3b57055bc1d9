// The floor of push delivery: a bare ThreadsafeFunction call from a runtime
// thread to JS, at the delivery benchmark's pace, carrying only its send
// time (bench/addon/floor.rs). No worker, no event: what push delivery takes
// above this is the bridge's. With `withEvent`, each call also carries the
// bridge benchmark's step event, parsed on the JS thread as push delivery
// parses it: the floor of handing a step over whole.
import { native } from '../lib/package.mjs';
import { params, report, runCase } from '../lib/child.mjs';
import { distribution } from '../lib/stats.mjs';

runCase(async () => {
  const { events = 3000, meanGapUs = 2000, warmup = 300, withEvent = false } = params();
  const latencies = [];
  await new Promise((resolve, reject) => {
    let seen = 0;
    native.bench.pingFloor((sent) => {
      const us = (native.bench.monotonicNs() - (withEvent ? sent[0] : sent)) / 1000;
      // Read a field, as a handler would; a missing event means the case is broken.
      if (withEvent && typeof sent[1]?.eventId !== 'string') reject(new Error(`expected [sentNs, event], got ${JSON.stringify(sent)}`));
      if (seen++ >= warmup) latencies.push(us);
      if (seen === warmup + events) resolve();
    }, warmup + events, meanGapUs, withEvent);
  });
  report({ delivery: withEvent ? 'floor-event' : 'floor', events, meanGapUs, latencyUs: distribution(latencies) });
});
