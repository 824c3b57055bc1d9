// The floor of push delivery: a bare ThreadsafeFunction call from a runtime
// thread to JS, at the delivery benchmark's pace, carrying only its send
// time (bench/addon/floor.rs). No worker, no event: what push delivery takes
// above this is the bridge's.
import { native } from '../lib/package.mjs';
import { params, report, runCase } from '../lib/child.mjs';
import { distribution } from '../lib/stats.mjs';

runCase(async () => {
  const { events = 3000, meanGapUs = 2000, warmup = 300 } = params();
  const latencies = [];
  await new Promise((resolve) => {
    let seen = 0;
    native.bench.pingFloor((sentNs) => {
      const us = (native.bench.monotonicNs() - sentNs) / 1000;
      if (seen++ >= warmup) latencies.push(us);
      if (seen === warmup + events) resolve();
    }, warmup + events, meanGapUs);
  });
  report({ delivery: 'floor', events, meanGapUs, latencyUs: distribution(latencies) });
});
