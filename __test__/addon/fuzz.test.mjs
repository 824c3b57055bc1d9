// Fuzzing the addon's whole exported surface: randomised calls to every export
// and class, with values of every kind, in four phases, each in a child
// process (__test__/helpers/fuzz-child.mjs) so that a crash is caught and
// reported with the call that caused it:
//   unbooted   no worker; everything random (no config can reach a database)
//   lifecycle  random orders of bootstrap / stop / graceful shutdown / status /
//              subscribe, interleaved with event calls; bootstraps must fail
//   running    a real worker on the test environment, with real step events
//   bench      the benchmark variant's `bench` namespace and its Harness
// A phase passes only if every call returned as documented or threw (or
// rejected with) an Error whose `code` is one of the README's codes other than
// INTERNAL (a caught panic), every returned Promise settled within 5 s, and no
// process died. When a child dies, the phase goes on in a new child (another
// seed) so the rest of the surface is still covered, and the death is reported
// with the call it was making.
//
// FUZZ_SEED=<n> changes the seed (printed with every report); FUZZ_SCALE=<x>
// multiplies the number of calls; FUZZ_KEEP_LOGS=1 keeps the call logs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { removeDir } from '../../devenv/processes.mjs';
import { runtimeName, sleep, suiteTemplates, useEnvironment } from '../helpers/environment.mjs';
import { scriptCommand } from '../helpers/runtime.mjs';

const CHILD = fileURLToPath(new URL('../helpers/fuzz-child.mjs', import.meta.url));
const BENCH_ADDON = process.env.TASKER_BENCH_ADDON ?? fileURLToPath(new URL('../../target/bench/debug/tasker-worker.node', import.meta.url));
const SEED = Number(process.env.FUZZ_SEED ?? 7001);
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const CALLS = { unbooted: 5000, lifecycle: 3000, running: 4000, bench: 2000 };
const SEED_OFFSET = { unbooted: 0, lifecycle: 1000, running: 2000, bench: 3000 };
const MAX_PROCESSES = 8; // per phase: the first child and up to 7 replacements after deaths
const CHILD_TIMEOUT_MS = 120_000; // a child still running after this is killed and reported as hung
const KINDS = ['internal', 'uncoded', 'nonError', 'undocumentedCode', 'pending', 'badReturn', 'uncaught'];
const KIND_TEXT = {
  internal: 'INTERNAL (a caught panic)',
  uncoded: 'Error without a string code',
  nonError: 'threw a non-Error',
  undocumentedCode: 'code not in the README list',
  pending: 'Promise never settled (5 s)',
  badReturn: 'returned something other than documented',
  uncaught: 'uncaught exception / unhandled rejection',
};
// Environment fallbacks of WorkerConfig: a child must not inherit a usable database.
const FALLBACKS = ['DATABASE_URL', 'TASKER_TEMPLATE_PATH', 'TASKER_ENV', 'RUST_LOG', 'TASKER_WORKER_ID', 'TASKER_API_KEY', 'TASKER_AUTH_TOKEN', 'TASKER_ORCHESTRATION_AUTH_TOKEN'];
// TaskerClient's fallbacks: servers that refuse at once.
const CLIENT_FALLBACKS = { TASKER_ORCHESTRATION_URL: 'http://127.0.0.1:1', TASKER_ORCHESTRATION_GRPC_URL: 'http://127.0.0.1:1', TASKER_WORKER_URL: 'http://127.0.0.1:1' };
// Deno 2.9's V8 takes time quadratic in what JSON.stringify has already
// written to report a cycle (10 000 array items before it: ~12 s; Node and
// Bun: milliseconds), and the fuzz's cyclic 100 000-item results would hang a
// child. Its fast path off, V8 reports the cycle at once; the README's Deno
// notes give users the same flag.
const DENO_FLAGS = ['--v8-flags=--no-json-stringify-fast-path'];

// The children's call logs; FUZZ_KEEP_LOGS=1 keeps them (the path is printed with each report).
const workDir = mkdtempSync(join(tmpdir(), 'tasker-fuzz-'));
after(() => {
  if (!process.env.FUZZ_KEEP_LOGS) removeDir(workDir);
});

const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');
const clip = (s, n) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

/** Runs one child to its end (or kills it after CHILD_TIMEOUT_MS). */
function runChild(phase, seed, calls, logPath, extraEnv) {
  const env = { ...process.env, RUST_BACKTRACE: '0', FUZZ_LOG: logPath, TASKER_BENCH_ADDON: BENCH_ADDON, ...extraEnv };
  for (const name of FALLBACKS) delete env[name];
  Object.assign(env, CLIENT_FALLBACKS);
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(...scriptCommand(CHILD, [phase, String(seed), String(calls)], { denoFlags: DENO_FLAGS }), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d) => (stdout += d));
    // Only the end of stderr is kept: the worker's log lines can be long.
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-64 * 1024);
      // FUZZ_STDERR_FILE=<path> keeps the children's whole stderr (the worker's log) for debugging.
      if (process.env.FUZZ_STDERR_FILE) appendFileSync(process.env.FUZZ_STDERR_FILE, d);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, CHILD_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut, ms: Date.now() - started });
    });
  });
}

/** What a child wrote to its call log: every call, every failed check, the names it had to cover. */
function readLog(logPath) {
  const out = { calls: 0, lastCall: undefined, names: new Map(), fails: [], expected: [] };
  if (!existsSync(logPath)) return out;
  for (const line of readFileSync(logPath, 'utf8').split('\n')) {
    if (line.startsWith('CALL ')) {
      out.calls++;
      out.lastCall = line.slice(5).replace(/^(\d+) [^\t]*\t/, '#$1 ');
      const name = /^CALL \d+ ([^\t]*)\t/.exec(line)?.[1];
      out.names.set(name, (out.names.get(name) ?? 0) + 1);
    } else if (line.startsWith('FAIL ')) {
      try {
        out.fails.push(JSON.parse(line.slice(5)));
      } catch {
        out.fails.push({ kind: 'uncaught', sig: 'unreadable FAIL line', call: line.slice(0, 300), detail: '' });
      }
    } else if (line.startsWith('EXPECT ')) {
      out.expected = JSON.parse(line.slice(7));
    }
  }
  return out;
}

/** The end of a dead child's stderr: the panic or fatal error, without the worker's log noise. */
function deathOutput(stderr) {
  const lines = stripAnsi(stderr).split('\n').filter((l) => l.trim() && !/^\d{4}-\d\d-\d\dT.*\b(WARN|INFO|DEBUG|TRACE|ERROR)\b/.test(l));
  const recent = lines.slice(-200);
  const first = recent.findIndex((l) => /panicked at|fatal|abort|segmentation|FATAL ERROR|stack overflow|out of memory|uncaught/i.test(l));
  return (first >= 0 ? recent.slice(first, first + 5) : recent.slice(-5)).map((l) => clip(l, 300));
}

/**
 * Runs a phase: children until `target` calls were made (a death starts a new
 * child with the next seed, at most MAX_PROCESSES), then prints and returns the report.
 */
async function runPhase(phase, { extraEnv = {}, during } = {}) {
  const target = Math.ceil(CALLS[phase] * SCALE);
  const report = {
    phase, runtime: runtimeName, target, calls: 0, ok: 0, coded: {}, failures: Object.fromEntries(KINDS.map((k) => [k, 0])),
    signatures: new Map(), deaths: [], processes: [], names: new Map(), expected: new Set(), lateSettled: 0, sideErrors: [],
  };
  const started = Date.now();
  let seed = SEED + SEED_OFFSET[phase];
  while (report.calls < target && report.processes.length < MAX_PROCESSES) {
    const logPath = join(workDir, `${phase}-${runtimeName}-${report.processes.length}.log`);
    const running = runChild(phase, seed, target - report.calls, logPath, extraEnv);
    let alive = true;
    const sidekick = during?.(() => alive).catch((e) => report.sideErrors.push(String(e?.message ?? e)));
    const result = await running;
    alive = false;
    await sidekick;
    const log = readLog(logPath);
    const line = result.stdout.split('\n').find((l) => l.startsWith('FUZZ-SUMMARY '));
    const summary = line ? JSON.parse(line.slice('FUZZ-SUMMARY '.length)) : undefined;
    report.processes.push({ seed, ms: result.ms, calls: log.calls, exit: result.signal ?? result.code });
    report.calls += log.calls;
    for (const name of log.expected) report.expected.add(name);
    for (const [name, n] of log.names) report.names.set(name, (report.names.get(name) ?? 0) + n);
    for (const f of log.fails) {
      report.failures[f.kind] = (report.failures[f.kind] ?? 0) + 1;
      const known = report.signatures.get(f.sig);
      if (known) known.count++;
      else report.signatures.set(f.sig, { kind: f.kind, count: 1, call: f.call, detail: f.detail });
    }
    if (summary) {
      report.ok += summary.ok;
      report.lateSettled += summary.lateSettled;
      for (const [code, n] of Object.entries(summary.coded)) report.coded[code] = (report.coded[code] ?? 0) + n;
    }
    if (result.timedOut || result.signal || result.code !== 0 || !summary) {
      report.deaths.push({
        seed,
        how: result.timedOut ? `hung: killed after ${CHILD_TIMEOUT_MS / 1000} s` : result.signal ? `killed by ${result.signal}` : `exit code ${result.code}`,
        lastCall: log.lastCall ?? '(no call logged)',
        output: deathOutput(result.stderr),
      });
    }
    seed++;
  }
  report.seconds = (Date.now() - started) / 1000;
  report.missing = [...report.expected].filter((n) => !report.names.get(n));
  printReport(report);
  return report;
}

function printReport(r) {
  const failed = KINDS.filter((k) => r.failures[k]).map((k) => `${k} ${r.failures[k]}`).join(', ') || 'none';
  const lines = [
    `[fuzz ${r.runtime} ${r.phase}] ${r.calls}/${r.target} calls in ${r.seconds.toFixed(1)} s, ${r.processes.length} process(es) ` +
      `(seeds ${r.processes.map((p) => `${p.seed}: ${p.calls} calls, ${(p.ms / 1000).toFixed(1)} s, exit ${p.exit}`).join('; ')})`,
    `  returned as documented: ${r.ok}; coded errors: ${JSON.stringify(r.coded)}; late settlements: ${r.lateSettled}; call logs: ${workDir}`,
    `  failures: ${failed}; deaths: ${r.deaths.length}${r.missing.length ? `; never called: ${r.missing.join(', ')}` : ''}`,
  ];
  for (const e of r.sideErrors) lines.push(`  (creating tasks failed: ${clip(e, 300)})`);
  for (const d of r.deaths) {
    lines.push(`  DEATH (${d.how}, seed ${d.seed}) during call ${clip(d.lastCall, 1500)}`);
    for (const l of d.output) lines.push(`    | ${l}`);
  }
  const sorted = [...r.signatures.entries()].sort((a, b) => KINDS.indexOf(a[1].kind) - KINDS.indexOf(b[1].kind) || b[1].count - a[1].count);
  for (const [sig, s] of sorted) {
    lines.push(`  ${s.kind} x${s.count}: ${clip(sig.split(' | ').slice(1).join(' | '), 220)}`);
    lines.push(`    e.g. ${clip(s.call, 600)}`);
    lines.push(`    -> ${clip(s.detail, 300)}`);
  }
  console.log(lines.join('\n'));
}

/** Fails unless the phase met every condition; the message lists what went wrong. */
function assertClean(r) {
  const observed = {
    deaths: r.deaths.length,
    ...Object.fromEntries(KINDS.map((k) => [k, r.failures[k]])),
    callsShort: Math.max(0, r.target - r.calls),
    neverCalled: r.missing,
  };
  const expected = { deaths: 0, ...Object.fromEntries(KINDS.map((k) => [k, 0])), callsShort: 0, neverCalled: [] };
  const problems = [
    ...r.deaths.map((d) => `process died (${d.how}) during ${clip(d.lastCall, 400)}${d.output.length ? `: ${d.output.slice(-3).join(' / ')}` : ''}`),
    ...[...r.signatures.entries()].map(([sig, s]) => `${KIND_TEXT[s.kind]} x${s.count}: ${clip(sig, 200)} — e.g. ${clip(s.call, 300)}`),
  ];
  assert.deepEqual(observed, expected, `fuzz ${r.phase} (${r.runtime}, seed ${SEED}) found ${problems.length} problem(s):\n${problems.join('\n')}`);
}

const TIMEOUT = { timeout: 900_000 };

describe('fuzz: the addon surface', TIMEOUT, () => {
  test('unbooted: every export and class with random arguments, no worker', TIMEOUT, async () => {
    assertClean(await runPhase('unbooted'));
  });

  test('lifecycle order: random lifecycle sequences and event calls, bootstraps failing (no database)', TIMEOUT, async () => {
    assertClean(await runPhase('lifecycle'));
  });

  test('bench variant: the bench namespace, Harness (open and closed) and its subscriptions', TIMEOUT, async () => {
    assert.ok(existsSync(BENCH_ADDON), `the benchmark variant of the addon is not built (${BENCH_ADDON}); run: bash scripts/build.sh`);
    assertClean(await runPhase('bench'));
  });
});

describe('fuzz: a running worker', TIMEOUT, () => {
  let env;
  let templates;

  before(async () => {
    env = await useEnvironment();
    templates = suiteTemplates('fuzz');
  });

  after(async () => {
    templates?.remove();
    await env?.release();
  });

  test('running: random calls against a real worker with real step events', TIMEOUT, async () => {
    let created = 0;
    const createTasks = async (alive) => {
      // Steps for the child to poll, receive by push and complete. The
      // template is known once the child's worker has registered it (until
      // then the orchestration answers 404); then a few at once, and one
      // every 250 ms while the child runs.
      let n = 0;
      const create = () => env.client.createTask({ name: 'single', namespace: templates.namespace, context: { fuzz: n++, at: Date.now() } }).then(() => created++);
      for (;;) {
        try {
          await create();
          break;
        } catch (e) {
          if (!alive() || e?.code !== 'NOT_FOUND') throw e;
          await sleep(250);
        }
      }
      await Promise.all(Array.from({ length: 6 }, create));
      while (alive() && created < 200) {
        await sleep(250);
        if (alive()) await create();
      }
    };
    const report = await runPhase('running', {
      extraEnv: { FUZZ_DATABASE_URL: env.databaseUrl, FUZZ_TEMPLATE_PATH: templates.path, FUZZ_NAMESPACE: templates.namespace, FUZZ_ORCHESTRATION_URL: env.orchestrationUrl },
      during: createTasks,
    });
    console.log(`[fuzz ${runtimeName} running] ${created} tasks created for the worker`);
    assertClean(report);
  });
});
