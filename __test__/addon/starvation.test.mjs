// Starvation is reported promptly in both delivery modes: with the JS event
// loop blocked for 15 s, a claimed step older than the threshold (in a
// handler, or waiting in the channel for JS to take it) produces one warning
// line with counts and the oldest age, within about a second of crossing the
// threshold; the metrics show it too.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';

import { eventually, suiteTemplates, useEnvironment } from '../helpers/environment.mjs';
import { scriptCommand } from '../helpers/runtime.mjs';

const THRESHOLD_MS = 2000;
const BLOCK_MS = 15_000;
const script = new URL('../helpers/starving-worker.mjs', import.meta.url).pathname;
let env;
let templates;
const children = new Set();

function runWorker(delivery) {
  const child = spawn(...scriptCommand(script), {
    env: {
      ...process.env,
      DATABASE_URL: env.databaseUrl,
      TEMPLATE_PATH: templates.path,
      NAMESPACE: templates.namespace,
      DELIVERY: delivery,
      THRESHOLD_MS: String(THRESHOLD_MS),
      BLOCK_MS: String(BLOCK_MS),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.output = '';
  child.log = '';
  child.stdout.on('data', (d) => (child.output += d));
  child.stderr.on('data', (d) => (child.log += d));
  child.exited = new Promise((resolve) => child.once('exit', (code) => {
    children.delete(child);
    resolve(code);
  }));
  return child;
}

/** Warning lines about starvation, with their time (from the log's timestamp). */
function starvationWarnings(log) {
  return log
    .replace(/\x1b\[[0-9;]*m/g, '')
    .split('\n')
    .filter((line) => /WARN/.test(line) && /older than the starvation threshold/.test(line))
    .map((line) => ({ at: Date.parse(`${line.slice(0, 23)}Z`), line })); // RFC 3339 to the millisecond
}

describe('starvation reports', { timeout: 300_000 }, () => {
  before(async () => {
    env = await useEnvironment();
    templates = suiteTemplates('starve');
  });

  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    templates?.remove();
    await env?.release();
  });

  for (const delivery of ['push', 'poll']) {
    test(`${delivery}: a 15 s blocked event loop is flagged within about a second of the threshold`, async () => {
      const child = runWorker(delivery);
      await eventually(() => child.output.includes('READY') || child.exitCode !== null, { timeoutMs: 60_000, what: 'the worker' });
      assert.equal(child.exitCode, null, child.log);
      const tasks = await Promise.all([1, 2, 3].map((i) => env.client.createTask({ name: 'single', namespace: templates.namespace, context: { starve: delivery, i } }).then((t) => t.taskUuid)));
      await eventually(() => child.output.includes('DONE') || child.exitCode !== null, { timeoutMs: BLOCK_MS + 60_000, what: 'the worker to finish' });
      assert.equal(await child.exited, 0, child.log);

      const blockedAt = Number(/BLOCK (\d+)/.exec(child.output)[1]);
      const warnings = starvationWarnings(child.log).filter((w) => w.at >= blockedAt && w.at <= blockedAt + BLOCK_MS);
      assert.equal(warnings.length, 1, `one warning line while blocked, not one per tick:\n${warnings.map((w) => w.line).join('\n')}`);
      const [warning] = warnings;
      const lateMs = warning.at - blockedAt - THRESHOLD_MS;
      assert.ok(lateMs <= 1200, `flagged ${lateMs} ms after the threshold`);
      assert.match(warning.line, /\d+ claimed step\(s\) .*\d+ in handlers .*\d+ waiting .*oldest \d+ ms/);
      if (delivery === 'poll') assert.match(warning.line, /[1-9]\d* waiting for JS/, 'steps waiting in the channel count in poll mode');

      const metrics = JSON.parse(/METRICS (.*)/.exec(child.output)[1]);
      assert.equal(metrics.starvationDetected, true);
      assert.ok(metrics.starvingEventCount >= 1);
      assert.ok(metrics.oldestPendingAgeMs >= BLOCK_MS - 500, String(metrics.oldestPendingAgeMs));
      console.log(`starvation (${delivery}): warned ${lateMs} ms after the ${THRESHOLD_MS} ms threshold; ${warning.line.slice(warning.line.indexOf('tasker_worker_js'))}`);
      for (const uuid of tasks) assert.equal((await env.client.waitForTask(uuid)).status, 'complete');
    });
  }
});
