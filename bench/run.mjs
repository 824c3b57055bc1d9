#!/usr/bin/env node
// Runs the benchmarks and prints one table; writes every figure as JSON.
//
//   npm run bench                  full run (several minutes after the release build)
//   npm run bench -- --quick       fewer events and shorter windows: about 5 minutes
//   options: --only bridge,delivery,memory,idle,e2e   --runtimes node,bun,deno
//            --debug (measure the debug build as is)   --out FILE (default bench/results/latest.json)
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { prepareTemplates, startEnvironment, uniqueNamespace } from '../devenv/environment.mjs';
import { prepareBuild } from './lib/build.mjs';
import { benchDir, repoRoot, runCase } from './lib/children.mjs';
import { throughputRun } from './lib/e2e.mjs';
import { median } from './lib/stats.mjs';
import { table } from './lib/table.mjs';

const ALL = ['bridge', 'delivery', 'memory', 'idle', 'e2e'];
const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    debug: { type: 'boolean', default: false },
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
  ? { bridge: { rounds: 5, perRound: 1000 }, delivery: { events: 500 }, memory: { events: 30_000, warmup: 20_000, every: 5_000 }, idle: { seconds: 5 }, e2e: { tasks: 20, repeats: 1 } }
  : { bridge: { rounds: 15, perRound: 3000 }, delivery: { events: 3000 }, memory: { events: 100_000, warmup: 10_000 }, idle: { seconds: 30 }, e2e: { tasks: 100, repeats: 3 } };

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

async function withEnvironment(build, fn) {
  process.env.TASKER_DEVENV_BIN = build.devenvBinary;
  log('starting the environment (PostgreSQL + orchestration)');
  const environment = await startEnvironment();
  try {
    return await fn(environment);
  } finally {
    await environment.stop();
  }
}

async function main() {
  const build = prepareBuild({ debug: options.debug });
  const results = { mode: quick ? 'quick' : 'full', profile: build.profile, machine: machine(), startedAt: new Date().toISOString() };
  const inChild = (runtime, name, params) => runCase(runtime, name, params, { env: build.env });

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
    }
  }
  if (only.includes('memory')) {
    results.memory = [];
    for (const rt of runtimes) {
      log(`memory over ${sizes.memory.events} events, ${rt}`);
      results.memory.push(await inChild(rt, 'memory', sizes.memory));
    }
  }
  if (only.includes('idle') || only.includes('e2e')) {
    await withEnvironment(build, async (environment) => {
      if (only.includes('idle')) {
        results.idle = [];
        for (const rt of runtimes) {
          for (const delivery of ['push', 'poll']) {
            log(`idle CPU over ${sizes.idle.seconds} s, ${rt}, ${delivery}`);
            const namespace = uniqueNamespace('idle');
            const templates = prepareTemplates(namespace, new URL('./templates/', import.meta.url));
            try {
              results.idle.push(await inChild(rt, 'idle', { delivery, databaseUrl: environment.databaseUrl, templatePath: templates.path, namespace, ...sizes.idle }));
            } finally {
              templates.remove();
            }
          }
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
    });
  }
  results.finishedAt = new Date().toISOString();
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\n${results.mode} run, ${build.profile} build, ${results.machine.cpu} (${results.machine.cores} cores), node ${results.machine.node}, bun ${results.machine.bun}, deno ${results.machine.deno}, commit ${results.machine.commit}\n`);
  console.log(table(results));
  console.log(`\nAll figures: ${options.out}`);
}

/** Medians over the repeats of each (kind, concurrency). */
function summarizeRuns(runs) {
  const groups = new Map();
  for (const run of runs) {
    const key = `${run.kind}/${run.concurrency}`;
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  return [...groups.values()].map((group) => ({
    kind: group[0].kind,
    concurrency: group[0].concurrency,
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
