// lib/deadlines.ts: the Worker's step timeouts on one timer.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { scriptCommand } from '../helpers/runtime.mjs';

const require = createRequire(import.meta.url);
const deadlinesModule = require.resolve('../../dist/deadlines.js');
const { Deadlines } = require(deadlinesModule);
const noError = (error) => assert.fail(`an expiry threw: ${error}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test('deadlines expire in order, each once, and not before their time', async () => {
  const deadlines = new Deadlines(noError);
  const started = performance.now();
  const expired = [];
  deadlines.add('late', 60, () => expired.push(['late', performance.now() - started]));
  deadlines.add('early', 20, () => expired.push(['early', performance.now() - started]));
  await sleep(120);
  assert.deepEqual(expired.map(([key]) => key), ['early', 'late']);
  assert.ok(expired[0][1] >= 20 && expired[1][1] >= 60, `expired at ${expired.map(([, at]) => at.toFixed(1)).join(', ')} ms`);
  assert.equal(deadlines.size, 0);
});

test('a removed deadline never expires; the others still do', async () => {
  const deadlines = new Deadlines(noError);
  const expired = [];
  deadlines.add('done', 15, () => expired.push('done'));
  deadlines.add('slow', 30, () => expired.push('slow'));
  deadlines.remove('done');
  await sleep(80);
  assert.deepEqual(expired, ['slow']);
});

test('a shorter deadline added later expires first', async () => {
  const deadlines = new Deadlines(noError);
  const expired = [];
  deadlines.add('long', 200, () => expired.push('long'));
  deadlines.add('short', 10, () => expired.push('short'));
  await sleep(60);
  assert.deepEqual(expired, ['short'], 'the timer was re-armed for the shorter deadline');
  deadlines.clear();
});

test('clear() forgets every deadline and leaves no timer behind', async () => {
  const deadlines = new Deadlines(noError);
  let expired = 0;
  deadlines.add('a', 10, () => expired++);
  deadlines.add('b', 20, () => expired++);
  deadlines.clear();
  await sleep(50);
  assert.equal(expired, 0);
  assert.equal(deadlines.size, 0);
});

test('an expiry may add a deadline, and a throwing one goes to onError without stopping the rest', async () => {
  const errors = [];
  const deadlines = new Deadlines((error) => errors.push(error.message));
  const expired = [];
  deadlines.add('throws', 10, () => {
    throw new Error('expiry broke');
  });
  deadlines.add('chains', 10, () => {
    expired.push('chains');
    deadlines.add('next', 10, () => expired.push('next'));
  });
  await sleep(80);
  assert.deepEqual(expired, ['chains', 'next']);
  assert.deepEqual(errors, ['expiry broke']);
});

/** Runs `source` in a new process of this runtime; resolves with its stdout and how long it lived. */
function runScript(source) {
  const dir = mkdtempSync(join(tmpdir(), 'deadlines-'));
  const script = join(dir, 'script.cjs');
  writeFileSync(script, `const { Deadlines } = require(${JSON.stringify(deadlinesModule)});\n${source}`);
  const [command, args] = scriptCommand(script);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 20_000 }, (error, stdout) => {
      rmSync(dir, { recursive: true, force: true });
      if (error) reject(error);
      else resolve({ stdout: stdout.trim(), ms: performance.now() - started });
    });
  });
}

test('a pending deadline keeps the process alive; with none left the armed timer does not', async () => {
  const pending = await runScript(`new Deadlines(console.error).add('step', 400, () => console.log('expired'));`);
  assert.equal(pending.stdout, 'expired');
  const done = await runScript(`
    const deadlines = new Deadlines(console.error);
    deadlines.add('step', 60_000, () => console.log('expired'));
    setTimeout(() => { deadlines.remove('step'); console.log('removed'); }, 10);`);
  assert.equal(done.stdout, 'removed');
  assert.ok(done.ms < 10_000, `the process lived ${done.ms.toFixed(0)} ms after its last deadline went`);
});

test('a deadline beyond the longest timer waits, neither expiring nor spinning', async () => {
  const warnings = [];
  const onWarning = (warning) => warnings.push(warning.name);
  process.on('warning', onWarning);
  const deadlines = new Deadlines(noError);
  let expired = false;
  try {
    deadlines.add('month', 30 * 24 * 3600 * 1000, () => (expired = true));
    await sleep(50);
  } finally {
    deadlines.clear();
    process.off('warning', onWarning);
  }
  assert.equal(expired, false);
  assert.deepEqual(warnings, [], 'no TimeoutOverflowWarning: the timer was never asked for more than it takes');
});
