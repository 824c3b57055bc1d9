#!/usr/bin/env node
// Runs the benchmarks and prints one table; writes every figure as JSON.
//
//   npm run bench                  full run (several minutes after the release build)
//   npm run bench -- --quick       fewer events and shorter windows: about 5 minutes
//   options: --only bridge,delivery,throughput,memory,idle,e2e,latency,retry,scale,backends   --runtimes node,bun,deno
//            --debug (measure the debug build as is)   --out FILE (default bench/results/latest.json)
//            --prebuilt (no cargo build: use the artifacts already in target/)
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { prepareTemplates, startEnvironment, uniqueNamespace } from '../devenv/environment.mjs';
import { prepareBuild } from './lib/build.mjs';
import { benchDir, repoRoot, runCase } from './lib/children.mjs';
import { throughputRun } from './lib/e2e.mjs';
import { loneTaskLatency } from './lib/latency.mjs';
import { retryTurnaround } from './lib/retry.mjs';
import { median } from './lib/stats.mjs';
import { table } from './lib/table.mjs';

const ALL = ['bridge', 'delivery', 'throughput', 'memory', 'idle', 'e2e', 'latency', 'retry', 'scale', 'backends'];
const NEEDS_ENVIRONMENT = ['idle', 'e2e', 'latency', 'retry', 'scale'];
const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    debug: { type: 'boolean', default: false },
    prebuilt: { type: 'boolean', default: false },
    only: { type: 'string', default: ALL.join(',') },
    runtimes: { type: 'string', default: 'node,bun,deno' },
    out: { type: 'string', default: join(benchDir, 'results', 'latest.json') },
  },
});
const only = options.only.split(',').filter(Boolean);
const unknown = only.filter((name) => !ALL.includes(name));
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(', ')}; choose from ${ALL.join(', ')}`);
  process.exit(2);
}
const runtimes = options.runtimes.split(',').filter(Boolean);
const quick = options.quick;
const sizes = quick
  ? { bridge: { rounds: 5, perRound: 1000 }, delivery: { events: 500 }, throughput: { events: 5_000, warmup: 1_000, rounds: 3 }, memory: { events: 30_000, warmup: 20_000, every: 5_000 }, idle: { seconds: 5 }, e2e: { tasks: 20, repeats: 1 },
      latency: { tasks: 8 }, retry: { recovering: 3, exhausted: 1 }, scale: { tasks: 30, repeats: 1 } }
  : { bridge: { rounds: 15, perRound: 3000 }, delivery: { events: 3000 }, throughput: { events: 50_000, warmup: 5_000, rounds: 3 }, memory: { events: 100_000, warmup: 10_000 }, idle: { seconds: 30 }, e2e: { tasks: 100, repeats: 3 },
      latency: { tasks: 30 }, retry: { recovering: 8, exhausted: 3 }, scale: { tasks: 100, repeats: 3 } };
// PGMQ against RabbitMQ: end-to-end at this many handlers at once, and the lone task.
const BACKENDS = ['pgmq', 'rabbitmq'];
const BACKEND_CONCURRENCY = 8;
// Scale-out: this many TypeScript worker processes (Node) on one namespace.
const SCALE_WORKERS = [1, 2, 4];
const SCALE_CONCURRENCY = 8;

const log = (message) => console.error(`[bench] ${message}`);

function machine() {
  const version = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', cwd: repoRoot }).trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    bun: version(join(repoRoot, 'node_modules', '.bin', 'bun'), ['--version']),
    deno: version(join(repoRoot, 'node_modules', '.bin', 'deno'), ['--version']).split('\n')[0].replace(/^deno /, ''),
    commit: version('git', ['rev-parse', '--short', 'HEAD']),
  };
}

async function withEnvironment(build, fn, { messaging = 'pgmq' } = {}) {
  process.env.TASKER_DEVENV_BIN = build.devenvBinary;
  // The environment's client runs in this process: the build's addon (the
  // shipped one plus the bench exports) serves it when no other is chosen,
  // so a machine with only the release build can run every case.
  process.env.TASKER_FFI_MODULE_PATH ??= build.addon;
  log(`starting the environment (PostgreSQL + orchestration${messaging === 'rabbitmq' ? ' + RabbitMQ' : ''})`);
  const environment = await startEnvironment({ messaging });
  try {
    return await fn(environment);
  } finally {
    await environment.stop();
  }
}

async function main() {
  const build = prepareBuild({ debug: options.debug, prebuilt: options.prebuilt });
  const results = { mode: quick ? 'quick' : 'full', profile: build.profile, machine: machine(), startedAt: new Date().toISOString() };
  // The figures so far are saved before each case: a failing case late in a
  // long run does not lose the earlier ones.
  const save = () => {
    mkdirSync(dirname(options.out), { recursive: true });
    writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
  };
  const inChild = (runtime, name, params) => {
    save();
    return runCase(runtime, name, params, { env: build.env });
  };

  if (only.includes('bridge')) {
    results.bridge = [];
    for (const rt of runtimes) {
      log(`bridge cost, ${rt}`);
      results.bridge.push(await inChild(rt, 'bridge', sizes.bridge));
    }
  }
  if (only.includes('delivery')) {
    results.latency = [];
    for (const rt of runtimes) {
      for (const delivery of ['push', 'poll', 'callback']) {
        log(`delivery latency, ${rt}, ${delivery}`);
        results.latency.push(await inChild(rt, 'delivery', { delivery, ...sizes.delivery }));
      }
      log(`the floor: a bare ThreadsafeFunction call, ${rt}`);
      results.latency.push(await inChild(rt, 'floor', sizes.delivery));
      log(`the floor carrying the event: a ThreadsafeFunction call with the step event parsed, ${rt}`);
      results.latency.push(await inChild(rt, 'floor', { ...sizes.delivery, withEvent: true }));
    }
  }
  if (only.includes('throughput')) {
    results.throughput = [];
    for (const rt of runtimes) {
      for (const mode of ['worker', 'worker-single', 'addon', 'addon-single']) {
        log(`bridge round trip, ${rt}, ${mode}`);
        results.throughput.push(await inChild(rt, 'throughput', { mode, ...sizes.throughput }));
      }
      log(`the floor: a bare ThreadsafeFunction round trip, ${rt}`);
      results.throughput.push(await inChild(rt, 'round-trip-floor', sizes.throughput));
    }
  }
  if (only.includes('memory')) {
    results.memory = [];
    for (const rt of runtimes) {
      log(`memory over ${sizes.memory.events} events, ${rt}`);
      results.memory.push(await inChild(rt, 'memory', sizes.memory));
    }
  }
  if (only.some((name) => NEEDS_ENVIRONMENT.includes(name))) {
    await withEnvironment(build, async (environment) => {
      if (only.includes('idle')) {
        results.idle = [];
        for (const rt of runtimes) {
          for (const delivery of ['push', 'poll']) {
            log(`idle CPU over ${sizes.idle.seconds} s, ${rt}, ${delivery}`);
            const namespace = uniqueNamespace('idle');
            // Only the template its handler serves: the Worker checks every step has one.
            const templates = prepareTemplates(namespace, new URL('./templates/', import.meta.url), { only: ['diamond'] });
            try {
              results.idle.push(await inChild(rt, 'idle', { delivery, databaseUrl: environment.databaseUrl, templatePath: templates.path, namespace, ...sizes.idle }));
            } finally {
              templates.remove();
            }
          }
          log(`the floor: a bare runtime idle over ${sizes.idle.seconds} s, ${rt}`);
          results.idle.push(await inChild(rt, 'bare-runtime', sizes.idle));
        }
      }
      if (only.includes('e2e')) {
        const runs = [];
        for (let repeat = 0; repeat < sizes.e2e.repeats; repeat++) {
          for (const concurrency of [1, 8, 64]) {
            for (const kind of ['native', ...runtimes]) {
              log(`end-to-end, ${kind}, maxInFlight ${concurrency}, ${sizes.e2e.tasks} tasks (repeat ${repeat + 1}/${sizes.e2e.repeats})`);
              runs.push(await throughputRun(environment, kind, concurrency, sizes.e2e.tasks, build));
            }
          }
        }
        results.e2eRuns = runs;
        results.e2e = summarizeRuns(runs);
      }
      if (only.includes('latency')) {
        log(`lone 4-step linear task, one at a time, ${sizes.latency.tasks} tasks each: ${['native', ...runtimes].join(', ')}`);
        results.taskLatency = await loneTaskLatency(environment, ['native', ...runtimes], sizes.latency.tasks, build);
      }
      if (only.includes('retry')) {
        results.retry = [];
        for (const rt of runtimes) {
          log(`retry turnaround, ${rt}: ${sizes.retry.recovering} tasks failing once, ${sizes.retry.exhausted} failing 3 times, 1 s backoffs`);
          results.retry.push(await retryTurnaround(environment, rt, sizes.retry, build));
        }
      }
      if (only.includes('scale')) {
        const runs = [];
        for (let repeat = 0; repeat < sizes.scale.repeats; repeat++) {
          for (const workers of SCALE_WORKERS) {
            log(`scale-out, ${workers} node worker process(es), ${sizes.scale.tasks} tasks (repeat ${repeat + 1}/${sizes.scale.repeats})`);
            runs.push(await throughputRun(environment, 'node', SCALE_CONCURRENCY, sizes.scale.tasks, build, { workers }));
          }
        }
        results.scaleRuns = runs;
        results.scale = summarizeRuns(runs);
      }
    });
  }
  if (only.includes('backends')) {
    // One environment per backend, one after the other: the same workers,
    // tasks and machine, only the queues differ.
    results.backends = [];
    for (const messaging of BACKENDS) {
      await withEnvironment(build, async (environment) => {
        const runs = [];
        for (let repeat = 0; repeat < sizes.e2e.repeats; repeat++) {
          for (const kind of ['native', ...runtimes]) {
            log(`${messaging}: end-to-end, ${kind}, maxInFlight ${BACKEND_CONCURRENCY}, ${sizes.e2e.tasks} tasks (repeat ${repeat + 1}/${sizes.e2e.repeats})`);
            runs.push(await throughputRun(environment, kind, BACKEND_CONCURRENCY, sizes.e2e.tasks, build));
          }
        }
        log(`${messaging}: lone 4-step linear task, ${sizes.latency.tasks} tasks each: ${['native', ...runtimes].join(', ')}`);
        const latency = await loneTaskLatency(environment, ['native', ...runtimes], sizes.latency.tasks, build);
        results.backends.push({ messaging, e2eRuns: runs, e2e: summarizeRuns(runs), taskLatency: latency });
        save();
      }, { messaging });
    }
  }
  results.finishedAt = new Date().toISOString();
  save();
  console.log(`\n${results.mode} run, ${build.profile} build, ${results.machine.cpu} (${results.machine.cores} cores), node ${results.machine.node}, bun ${results.machine.bun}, deno ${results.machine.deno}, commit ${results.machine.commit}\n`);
  console.log(table(results));
  console.log(`\nAll figures: ${options.out}`);
}

/** Medians over the repeats of each (kind, concurrency, worker processes). */
function summarizeRuns(runs) {
  const groups = new Map();
  for (const run of runs) {
    const key = `${run.kind}/${run.concurrency}/${run.workers}`;
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  return [...groups.values()].map((group) => ({
    kind: group[0].kind,
    concurrency: group[0].concurrency,
    workers: group[0].workers,
    repeats: group.length,
    tasks: group[0].tasks,
    stepsPerSecond: median(group.map((r) => r.stepsPerSecond)),
    taskLatencyMs: { p50: median(group.map((r) => r.taskLatencyMs.p50)), p99: median(group.map((r) => r.taskLatencyMs.p99)) },
  }));
}

main().catch((error) => {
  console.error(error?.stack ?? error);
  process.exit(1);
});
