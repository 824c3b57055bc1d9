// The readable summary of a run: one table, ratios against each baseline.
import { ratio } from './stats.mjs';

const us = (v) => (v >= 1000 ? `${(v / 1000).toFixed(2)} ms` : `${v.toFixed(0)} µs`);
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

export function table(results) {
  const rows = [['Benchmark', 'Runtime', 'Measured', 'Baseline', 'Ratio']];
  const byRuntime = (list, rt) => list.filter((r) => r.runtime === rt);
  for (const rt of ['node', 'bun', 'deno']) {
    const lat = byRuntime(results.latency ?? [], rt);
    const push = lat.find((r) => r.delivery === 'push');
    const poll = lat.find((r) => r.delivery === 'poll');
    if (push && poll) {
      for (const p of ['p50', 'p99']) {
        rows.push([`delivery latency ${p} (push vs 10 ms poll)`, rt, us(push.latencyUs[p]), us(poll.latencyUs[p]), ratio(push.latencyUs[p], poll.latencyUs[p])]);
      }
    }
    const raw = lat.find((r) => r.delivery === 'callback');
    if (raw && push) {
      rows.push(['  of which the addon alone (callback vs Worker push), p50', rt, us(raw.latencyUs.p50), us(push.latencyUs.p50), ratio(raw.latencyUs.p50, push.latencyUs.p50)]);
    }
    for (const [delivery, label] of [['floor', 'the floor: a bare ThreadsafeFunction call'], ['floor-event', 'the floor carrying the event (parsed)']]) {
      const floor = lat.find((r) => r.delivery === delivery);
      if (!floor || !push) continue;
      for (const p of ['p50', 'p99']) {
        rows.push([`  ${label}, ${p} (vs Worker push)`, rt, us(floor.latencyUs[p]), us(push.latencyUs[p]), ratio(floor.latencyUs[p], push.latencyUs[p])]);
      }
    }
    const trip = byRuntime(results.throughput ?? [], rt);
    for (const [mode, label] of [['worker', 'the Worker'], ['addon', 'the addon alone']]) {
      const batched = trip.find((r) => r.mode === mode);
      const single = trip.find((r) => r.mode === `${mode}-single`);
      if (batched && single) {
        rows.push([`round trip through ${label}, maxInFlight ${batched.maxInFlight} (batched vs one per call)`, rt, `${batched.eventsPerSecond}/s`, `${single.eventsPerSecond}/s`, ratio(batched.eventsPerSecond, single.eventsPerSecond)]);
      }
    }
    const tripFloor = trip.find((r) => r.mode === 'floor');
    const single = trip.find((r) => r.mode === 'worker-single');
    if (tripFloor && single) {
      rows.push(['  through the Worker, one per call (vs the floor: a bare ThreadsafeFunction round trip carrying the event)', rt, `${single.eventsPerSecond}/s`, `${tripFloor.eventsPerSecond}/s`, ratio(single.eventsPerSecond, tripFloor.eventsPerSecond)]);
      rows.push(['  the floor carrying the event (vs the same without it)', rt, `${tripFloor.eventsPerSecond}/s`, `${tripFloor.bareEventsPerSecond}/s`, ratio(tripFloor.eventsPerSecond, tripFloor.bareEventsPerSecond)]);
    }
    const bridge = byRuntime(results.bridge ?? [], rt)[0];
    if (bridge) {
      const m = bridge.medianNs;
      rows.push([`step event to JS (typed vs JSON, ${(bridge.eventBytes / 1024).toFixed(1)} KB)`, rt, `${(m.eventTyped / 1000).toFixed(1)} µs`, `${(m.eventJson / 1000).toFixed(1)} µs`, ratio(m.eventTyped, m.eventJson)]);
      rows.push(['completion to Rust (typed vs JSON)', rt, `${(m.completionTyped / 1000).toFixed(1)} µs`, `${(m.completionJson / 1000).toFixed(1)} µs`, ratio(m.completionTyped, m.completionJson)]);
    }
    const idle = byRuntime(results.idle ?? [], rt);
    const idlePush = idle.find((r) => r.delivery === 'push');
    const idlePoll = idle.find((r) => r.delivery === 'poll');
    if (idlePush && idlePoll) {
      rows.push([`idle CPU over ${Math.round(idlePush.seconds)} s (push vs poll)`, rt, `${idlePush.cpuPercentOfCore}% core`, `${idlePoll.cpuPercentOfCore}% core`, ratio(idlePush.cpuMs, idlePoll.cpuMs)]);
      if (idlePush.rssBytes && idlePoll.rssBytes) rows.push(['  RSS of the idle worker (push vs poll)', rt, mb(idlePush.rssBytes), mb(idlePoll.rssBytes), ratio(idlePush.rssBytes, idlePoll.rssBytes)]);
      if (idlePush.loadedRssBytes) rows.push(['  the floor: RSS with the package loaded, before the worker starts (vs the idle worker)', rt, mb(idlePush.loadedRssBytes), mb(idlePush.rssBytes), ratio(idlePush.loadedRssBytes, idlePush.rssBytes)]);
      const bare = idle.find((r) => r.delivery === 'bare');
      if (bare) {
        rows.push([`  the floor: the bare runtime's CPU over ${Math.round(bare.seconds)} s (vs the push worker)`, rt, `${bare.cpuPercentOfCore}% core`, `${idlePush.cpuPercentOfCore}% core`, ratio(bare.cpuMs, idlePush.cpuMs)]);
        rows.push(['  the floor: RSS of the bare runtime (vs the idle worker)', rt, mb(bare.rssBytes), mb(idlePush.rssBytes), ratio(bare.rssBytes, idlePush.rssBytes)]);
      }
    }
    const mem = byRuntime(results.memory ?? [], rt)[0];
    if (mem) {
      rows.push([`memory growth per 10k events (${mem.events / 1000}k events)`, rt, `RSS ${kb(mem.growthPer10kBytes.rss)}, heap ${kb(mem.growthPer10kBytes.heapUsed)}`, '', '']);
      rows.push(['  same, slope over the second half', rt, `RSS ${kb(mem.secondHalfSlopePer10kBytes.rss)}, heap ${kb(mem.secondHalfSlopePer10kBytes.heapUsed)}`, '', '']);
      rows.push(['synthetic events through the Worker (push)', rt, `${mem.eventsPerSecond}/s`, '', '']);
      rows.push(['  RSS after the last events (vs after warm-up)', rt, mb(mem.after.rssBytes), mb(mem.before.rssBytes), ratio(mem.after.rssBytes, mem.before.rssBytes)]);
    }
  }
  for (const run of results.e2e ?? []) {
    if (run.kind === 'native') continue;
    const native = (results.e2e ?? []).find((r) => r.kind === 'native' && r.concurrency === run.concurrency);
    if (!native) continue;
    rows.push([`end-to-end steps/s, maxInFlight ${run.concurrency} (TS vs native)`, run.kind, `${run.stepsPerSecond}`, `${native.stepsPerSecond}`, ratio(run.stepsPerSecond, native.stepsPerSecond)]);
    rows.push([`task completion p50, maxInFlight ${run.concurrency} (TS vs native)`, run.kind, `${run.taskLatencyMs.p50.toFixed(0)} ms`, `${native.taskLatencyMs.p50.toFixed(0)} ms`, ratio(run.taskLatencyMs.p50, native.taskLatencyMs.p50)]);
  }
  rows.push(...taskLatencyRows(results.taskLatency ?? []));
  rows.push(...retryRows(results.retry ?? []));
  rows.push(...scaleRows(results.scale ?? []));
  rows.push(...backendRows(results.backends ?? []));
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) => `| ${r.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

const ms = (v) => `${v.toFixed(0)} ms`;

/** Lone 4-step linear task: each TypeScript worker against the native one. */
function taskLatencyRows(list) {
  const native = list.find((r) => r.kind === 'native');
  if (!native) return [];
  return list
    .filter((r) => r.kind !== 'native')
    .flatMap((r) =>
      ['p50', 'p95'].map((p) => [`lone 4-step linear task, ${p} (TS vs native, ${r.tasks} tasks)`, r.kind, ms(r.taskLatencyMs[p]), ms(native.taskLatencyMs[p]), ratio(r.taskLatencyMs[p], native.taskLatencyMs[p])]),
    );
}

/** Retries: what the handler asked for against what happened. */
function retryRows(list) {
  return list.flatMap((r) => [
    [`retry: re-run after a failure, p50 (observed vs backoff asked, ${r.tasks} tasks)`, r.runtime, ms(r.rerunAfterFailureMs.p50), ms(r.backoffRequestedMs), ratio(r.rerunAfterFailureMs.p50, r.backoffRequestedMs)],
    ['  attempt start to next attempt start, p50', r.runtime, ms(r.attemptGapMs.p50), ms(r.backoffRequestedMs), ratio(r.attemptGapMs.p50, r.backoffRequestedMs)],
    [`retry: 3 attempts to final error, p50 (vs the backoffs' sum)`, r.runtime, ms(r.finalError.p50Ms), ms(2 * r.backoffRequestedMs), ratio(r.finalError.p50Ms, 2 * r.backoffRequestedMs)],
  ]);
}

/** Scale-out: N worker processes on one namespace against one. */
function scaleRows(list) {
  const one = list.find((r) => r.workers === 1);
  if (!one) return [];
  return list
    .filter((r) => r.workers !== 1)
    .flatMap((r) => [
      [`scale-out steps/s, ${r.workers} worker processes (vs 1)`, r.kind, `${r.stepsPerSecond}`, `${one.stepsPerSecond}`, ratio(r.stepsPerSecond, one.stepsPerSecond)],
      [`scale-out task completion p50, ${r.workers} worker processes (vs 1)`, r.kind, ms(r.taskLatencyMs.p50), ms(one.taskLatencyMs.p50), ratio(r.taskLatencyMs.p50, one.taskLatencyMs.p50)],
    ]);
}

/** Each backend: TypeScript against native end to end, and RabbitMQ against PGMQ. */
function backendRows(list) {
  const rows = [];
  const pgmq = list.find((b) => b.messaging === 'pgmq');
  for (const backend of list) {
    const native = backend.e2e.find((r) => r.kind === 'native');
    const nativeLone = backend.taskLatency.find((r) => r.kind === 'native');
    for (const run of backend.e2e) {
      const label = `${backend.messaging}: end-to-end steps/s, maxInFlight ${run.concurrency}`;
      if (run.kind !== 'native' && native) rows.push([`${label} (TS vs native)`, run.kind, `${run.stepsPerSecond}`, `${native.stepsPerSecond}`, ratio(run.stepsPerSecond, native.stepsPerSecond)]);
      const onPgmq = backend !== pgmq && pgmq?.e2e.find((r) => r.kind === run.kind);
      if (onPgmq) rows.push([`${label} (rabbitmq vs pgmq)`, run.kind, `${run.stepsPerSecond}`, `${onPgmq.stepsPerSecond}`, ratio(run.stepsPerSecond, onPgmq.stepsPerSecond)]);
    }
    for (const lone of backend.taskLatency) {
      const label = `${backend.messaging}: lone 4-step linear task, p50`;
      if (lone.kind !== 'native' && nativeLone) rows.push([`${label} (TS vs native)`, lone.kind, ms(lone.taskLatencyMs.p50), ms(nativeLone.taskLatencyMs.p50), ratio(lone.taskLatencyMs.p50, nativeLone.taskLatencyMs.p50)]);
      const onPgmq = backend !== pgmq && pgmq?.taskLatency.find((r) => r.kind === lone.kind);
      if (onPgmq) rows.push([`${label} (rabbitmq vs pgmq)`, lone.kind, ms(lone.taskLatencyMs.p50), ms(onPgmq.taskLatencyMs.p50), ratio(lone.taskLatencyMs.p50, onPgmq.taskLatencyMs.p50)]);
    }
  }
  return rows;
}
