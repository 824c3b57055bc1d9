// Bridge cost per event: a realistic step event Rust → JS and a completion
// JS → Rust, as typed objects (the API) and as JSON strings (the baseline).
// Rounds of the four cases interleave, so drift on a noisy machine hits all.
import { native } from '../lib/package.mjs';
import { params, report, runCase } from '../lib/child.mjs';
import { median } from '../lib/stats.mjs';

const { bench } = native;

runCase(async () => {
  const { rounds = 9, perRound = 3000 } = params();
  const event = bench.stepEvent();
  // A handler result of the same size class as the event: its items echoed back.
  const completion = {
    outcome: 'success',
    result: { shipped: true, tracking: 'TRK-000123', items: event.task.context.items, total: 1234.5 },
    executionTimeMs: 3,
    metadata: { carrier: 'ups', attempt: 1 },
  };
  let sink = 0;
  const cases = {
    eventTyped: () => { sink += bench.stepEvent().task.name.length; },
    eventJson: () => { sink += JSON.parse(bench.stepEventJson()).task.name.length; },
    completionTyped: () => { sink += bench.acceptCompletion(completion) ? 1 : 0; },
    completionJson: () => { sink += bench.acceptCompletionJson(JSON.stringify(completion)) ? 1 : 0; },
  };
  const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (const fn of Object.values(cases)) for (let i = 0; i < perRound; i++) fn(); // warm-up
  for (let round = 0; round < rounds; round++) {
    for (const [name, fn] of Object.entries(cases)) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < perRound; i++) fn();
      samples[name].push(Number(process.hrtime.bigint() - start) / perRound);
    }
  }
  if (sink === 0) throw new Error('the cases produced nothing');
  const ns = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, Math.round(median(v))]));
  report({
    eventBytes: bench.stepEventJson().length,
    completionBytes: JSON.stringify(completion).length,
    rounds,
    perRound,
    medianNs: ns,
  });
});
