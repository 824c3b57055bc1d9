// A worker process killed with SIGKILL while its handlers run loses no step:
// its claimed steps are failed as retryable by the next worker (the same
// workerId restarted, or another worker only) and every task completes. No
// step runs twice while the worker that first took it is alive, and the
// killed worker held no more steps claimed than it could run.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { eventually, stepsByName, suiteTemplates, useEnvironment } from '../helpers/environment.mjs';
import { scriptCommand } from '../helpers/runtime.mjs';

const CONCURRENCY = 4;
const TASKS = 3 * CONCURRENCY;
const script = new URL('../helpers/crash-worker.mjs', import.meta.url).pathname;

let env;
let templates;
let dir;
const children = new Set();

function startWorker(workerId, holdMs, runsFile) {
  const child = spawn(...scriptCommand(script), {
    env: {
      ...process.env,
      DATABASE_URL: env.databaseUrl,
      TEMPLATE_PATH: templates.path,
      NAMESPACE: templates.namespace,
      WORKER_ID: workerId,
      CONCURRENCY: String(CONCURRENCY),
      HOLD_MS: String(holdMs),
      RUNS_FILE: runsFile,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let errors = '';
  child.output = '';
  child.stdout.on('data', (d) => (child.output += d));
  child.stderr.on('data', (d) => (errors = (errors + d).slice(-4000)));
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    children.delete(child);
    resolve({ code, signal });
  }));
  child.ready = eventually(() => {
    if (child.exitCode !== null) throw new Error(`the worker exited early (${child.exitCode}): ${errors}`);
    return child.output.includes('READY');
  }, { timeoutMs: 60000, what: 'the worker to start' });
  return child;
}

const runs = (file) =>
  existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line)) : [];

async function crashAndRecover(secondWorkerId) {
  const runsFile = join(dir, `runs-${secondWorkerId}.jsonl`);
  const first = startWorker('crash-first', 600_000, runsFile);
  await first.ready;
  const tasks = await Promise.all(Array.from({ length: TASKS }, (_, i) => env.client.createTask({ name: 'long', namespace: templates.namespace, context: { i, run: secondWorkerId } }).then((t) => t.taskUuid)));
  await eventually(() => runs(runsFile).length === CONCURRENCY, { what: `${CONCURRENCY} handlers running` });
  // The killed worker holds only what it runs: the other steps stay in the queue.
  const claimed = async () => {
    const steps = await Promise.all(tasks.map((uuid) => stepsByName(env.client, uuid)));
    return steps.filter((s) => s.long_step.currentState === 'in_progress').length;
  };
  assert.equal(await claimed(), CONCURRENCY, 'steps claimed = handlers running');

  first.kill('SIGKILL');
  await first.exited;
  const killedAt = Date.now();
  const second = startWorker(secondWorkerId, 50, runsFile);
  let recoveredMs;
  try {
    await second.ready;
    for (const uuid of tasks) {
      const task = await env.client.waitForTask(uuid, { timeoutMs: 120_000 });
      assert.equal(task.status, 'complete', `task ${uuid}`);
    }
    recoveredMs = Date.now() - killedAt;

    const all = runs(runsFile);
    const byStep = new Map();
    for (const run of all) byStep.set(run.step, [...(byStep.get(run.step) ?? []), run]);
    assert.equal(byStep.size, TASKS, 'every step ran');
    const interrupted = [...byStep.values()].filter((r) => r.length === 2);
    assert.equal(interrupted.length, CONCURRENCY, 'the killed worker\'s steps ran again, once');
    for (const stepRuns of byStep.values()) {
      assert.ok(stepRuns.length <= 2, `a step ran ${stepRuns.length} times`);
      if (stepRuns.length === 2) {
        const [lost, again] = stepRuns;
        assert.equal(lost.pid, first.pid);
        assert.ok(again.at >= killedAt, 'no second run while the first worker was alive');
        assert.equal(again.attempt, 1, 'the lost attempt counts');
      }
    }
    const runsOfFirst = all.filter((r) => r.pid === first.pid).length;
    console.log(`recovery (${secondWorkerId}): ${TASKS} tasks complete ${recoveredMs} ms after the kill; ${runsOfFirst} steps were running in the killed worker and ran again once, the others once`);
  } finally {
    second.kill('SIGTERM');
    await second.exited;
  }
  // handleSignals: SIGTERM stopped the worker gracefully. (Not checked from the
  // exit status: a Deno parent reports a child it signalled as killed by it.)
  assert.match(second.output, /^STOPPED$/m, 'SIGTERM stopped the worker gracefully');
  return recoveredMs;
}

describe('crash recovery', { timeout: 600_000 }, () => {
  before(async () => {
    env = await useEnvironment();
    templates = suiteTemplates('crash', ['long']);
    dir = mkdtempSync(join(tmpdir(), 'tasker-crash-'));
  });

  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    templates?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await env?.release();
  });

  test('kill -9, then the same workerId restarts: every task completes', async () => {
    const ms = await crashAndRecover('crash-first');
    assert.ok(ms < 60_000, `recovered in ${ms} ms`);
  });

  test('kill -9, and only another worker runs: every task completes', async () => {
    const ms = await crashAndRecover('crash-other');
    assert.ok(ms < 60_000, `recovered in ${ms} ms`);
  });
});
