// Every export of the addon exists, and misuse without a running worker or
// with bad input gives a coded error (never a crash). No database needed.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { expectCode, native } from '../helpers/native.mjs';
import { freePort } from '../../devenv/processes.mjs';

const EXPORTS = [
  'bootstrapWorker', 'bootstrapWorkerAsync', 'getWorkerStatus', 'isWorkerRunning', 'stopWorker', 'stopWorkerAsync',
  'transitionToGracefulShutdown', 'transitionToGracefulShutdownAsync', 'pollStepEvents', 'completeStepEvent',
  'completeStepEventAsync', 'tryCompleteStepEvent', 'checkpointYieldStepEvent', 'subscribeStepEvents', 'subscribeStepEventBatches', 'getFfiDispatchMetrics',
  'checkStarvationWarnings', 'cleanupTimeouts', 'logError', 'logWarn', 'logInfo', 'logDebug', 'logTrace',
  'setLogLevel', 'getVersion', 'healthCheck', 'loadTaskTemplates',
];
const EVENT_ID = '0190a3b2-0000-7000-8000-00000000000a';

describe('addon surface', () => {
  test('every export is a function', () => {
    for (const name of EXPORTS) assert.equal(typeof native[name], 'function', name);
  });

  test('version is the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    assert.equal(native.getVersion(), pkg.version);
  });

  test('health and status without a worker', () => {
    assert.equal(native.isWorkerRunning(), false);
    const health = native.healthCheck();
    assert.equal(health.healthy, true);
    assert.equal(health.workerRunning, false);
    assert.equal(health.workerCoreStatus, 'not_running');
    const status = native.getWorkerStatus();
    assert.equal(status.running, false);
    assert.equal(status.workerCoreStatus, 'not_running');
    assert.deepEqual(status.namespaces, []);
  });

  test('calls that need a worker say so', async () => {
    const result = { outcome: 'success', result: {} };
    const calls = [
      () => native.pollStepEvents(),
      () => native.completeStepEvent(EVENT_ID, result),
      () => native.completeStepEventAsync(EVENT_ID, result),
      () => native.tryCompleteStepEvent(EVENT_ID, result),
      () => native.checkpointYieldStepEvent(EVENT_ID, { cursor: 1, itemsProcessed: 1 }),
      () => native.subscribeStepEvents(() => {}),
      () => native.subscribeStepEventBatches(() => {}),
      () => native.getFfiDispatchMetrics(),
      () => native.checkStarvationWarnings(),
      () => native.cleanupTimeouts(),
      () => native.transitionToGracefulShutdown(),
      () => native.transitionToGracefulShutdownAsync(),
    ];
    for (const call of calls) await expectCode(call, 'NOT_BOOTSTRAPPED', /bootstrapWorker/);
  });

  test('stopping without a worker is a no-op', async () => {
    assert.equal(native.stopWorker().status, 'not_running');
    assert.equal((await native.stopWorkerAsync()).status, 'not_running');
  });

  test('bad configuration names the field', async () => {
    const templatePath = new URL('../../devenv/templates', import.meta.url).pathname;
    const good = { databaseUrl: 'postgresql://tasker:pw@127.0.0.1:5/tasker', templatePath };
    const cases = [
      [{ ...good, databaseUrl: 'mysql://x:y@h/d' }, /^databaseUrl/],
      [{ ...good, databaseUrl: 'postgresql://h/d' }, /^databaseUrl: must include user:password@/],
      [{ ...good, templatePath: '/no/such/dir' }, /^templatePath/],
      [{ ...good, environment: 'staging' }, /^environment/],
      [{ ...good, logLevel: 'loud' }, /^logLevel/],
      [{ ...good, webBindAddress: 'nowhere' }, /^webBindAddress/],
      [{ ...good, namespace: 'has space' }, /^namespace/],
      [{ ...good, dispatch: { completionTimeoutMs: 1 } }, /^dispatch\.completionTimeoutMs/],
      [{ ...good, configPath: '/no/such.toml' }, /^configPath/],
    ];
    for (const [config, pattern] of cases) {
      await expectCode(() => native.bootstrapWorker(config), 'INVALID_ARGUMENT', pattern);
      await expectCode(() => native.bootstrapWorkerAsync(config), 'INVALID_ARGUMENT', pattern);
    }
  });

  test('template mistakes fail fast, naming the file, the YAML problem or the namespace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tasker-templates-'));
    try {
      const templatePath = new URL('../../devenv/templates/single.yaml', import.meta.url).pathname;
      writeFileSync(join(dir, 'good.yaml'), readFileSync(templatePath, 'utf8').replaceAll('{{namespace}}', 'shop'));
      // An unreachable database: nothing may get that far.
      const config = { databaseUrl: 'postgresql://tasker:pw@127.0.0.1:1/tasker', templatePath: dir };

      let started = performance.now();
      await expectCode(() => native.bootstrapWorkerAsync({ ...config, namespace: 'billing' }), 'INVALID_ARGUMENT', /^namespace: \["billing"\] has no task template .*"shop"/);
      const unknownNamespaceMs = performance.now() - started;
      assert.ok(unknownNamespaceMs < 1000, `an unknown namespace fails before the boot (${unknownNamespaceMs.toFixed(0)} ms)`);

      writeFileSync(join(dir, 'broken.yaml'), 'name: broken\nnamespace_name: shop\nsteps:\n  - name: [unclosed\n');
      started = performance.now();
      const error = await expectCode(() => native.bootstrapWorkerAsync({ ...config, namespace: 'shop' }), 'INVALID_ARGUMENT', /^templatePath: .*broken\.yaml is not a valid task template: .*line 4 column/);
      assert.ok(performance.now() - started < 1000, 'broken YAML fails before the boot');
      assert.doesNotMatch(error.message, /good\.yaml/);

      await expectCode(() => native.loadTaskTemplates(dir), 'INVALID_ARGUMENT', /broken\.yaml/);
      rmSync(join(dir, 'broken.yaml'));
      const [only] = native.loadTaskTemplates(dir);
      assert.equal(only.namespace, 'shop');
      assert.deepEqual(only.steps.map((s) => s.callable), ['single.step']);
      console.log(`unknown namespace rejected in ${unknownNamespaceMs.toFixed(1)} ms`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('wrong types are invalid arguments, not crashes', async () => {
    await expectCode(() => native.bootstrapWorker({ namespace: 5 }), 'INVALID_ARGUMENT');
    await expectCode(() => native.bootstrapWorker('postgres'), 'INVALID_ARGUMENT');
    await expectCode(() => native.pollStepEvents('ten'), 'INVALID_ARGUMENT');
    await expectCode(() => native.completeStepEvent(42, {}), 'INVALID_ARGUMENT');
    await expectCode(() => native.subscribeStepEvents('not a function'), 'INVALID_ARGUMENT');
    await expectCode(() => native.logInfo(undefined), 'INVALID_ARGUMENT');
  });

  test('counts and durations that are not whole numbers are refused by their value, never wrapped or cut', async () => {
    // napi reads a u32 by wrapping -1 to 4294967295 and cutting 2.5 to 2; the
    // worker would then have polled 2 events or named a number nobody wrote.
    const templatePath = new URL('../../devenv/templates', import.meta.url).pathname;
    const good = { databaseUrl: 'postgresql://tasker:pw@127.0.0.1:5/tasker', templatePath };
    const notWhole = (value) => new RegExp(`${value} is not a whole number from 0 to 4294967295`);
    for (const value of [-1, 2.5, NaN, Infinity, 2 ** 32]) {
      const shown = String(value).replace('.', '\\.');
      await expectCode(() => native.pollStepEvents(value), 'INVALID_ARGUMENT', new RegExp(`^max: ${notWhole(shown).source}`));
      await expectCode(() => native.subscribeStepEvents(() => {}, { maxInFlight: value }), 'INVALID_ARGUMENT', new RegExp(`^options: ${notWhole(shown).source} on SubscribeOptions\\.maxInFlight`));
      for (const [config, field] of [
        [{ ...good, maxClaimedSteps: value }, 'WorkerConfig.maxClaimedSteps'],
        [{ ...good, databaseMaxConnections: value }, 'WorkerConfig.databaseMaxConnections'],
        [{ ...good, recovery: { staleAfterMs: value } }, 'RecoveryOptions.staleAfterMs'],
        [{ ...good, dispatch: { completionTimeoutMs: value } }, 'DispatchTuning.completionTimeoutMs'],
      ]) {
        await expectCode(() => native.bootstrapWorkerAsync(config), 'INVALID_ARGUMENT', new RegExp(`^config: ${notWhole(shown).source} on ${field.replace('.', '\\.')}\\b`));
      }
      await expectCode(() => native.createTaskerClient({ timeoutMs: value }), 'INVALID_ARGUMENT', new RegExp(`${notWhole(shown).source} on ClientOptions\\.timeoutMs`));
    }
    await expectCode(() => native.bootstrapWorkerAsync({ ...good, maxClaimedSteps: '10' }), 'INVALID_ARGUMENT', /^config: expected a whole number, got string on WorkerConfig\.maxClaimedSteps$/);
    // A whole number in range still reaches the range check, as written.
    await expectCode(() => native.bootstrapWorkerAsync({ ...good, maxClaimedSteps: 20000 }), 'INVALID_ARGUMENT', /^maxClaimedSteps: 20000 is outside 1\.\.=10000/);
    await expectCode(() => native.pollStepEvents(0), 'INVALID_ARGUMENT', /^max: 0 is outside 1\.\.=1000/);
  });

  test('an unreachable database is reported as such', async () => {
    const port = await freePort();
    const templatePath = new URL('../../devenv/templates', import.meta.url).pathname;
    const started = Date.now();
    await expectCode(
      () => native.bootstrapWorkerAsync({ databaseUrl: `postgresql://tasker:pw@127.0.0.1:${port}/tasker`, templatePath }),
      'DATABASE_UNAVAILABLE',
      /is PostgreSQL running|check the host/,
    );
    assert.ok(Date.now() - started < 15000, 'fails fast');
    assert.equal(native.isWorkerRunning(), false);
  });

  test('logging takes structured fields and rejects bad ones', async () => {
    native.setLogLevel('error');
    for (const level of ['logError', 'logWarn', 'logInfo', 'logDebug', 'logTrace']) {
      native[level]('message from the surface test', { step: 'x', attempt: 2, ok: true, ctx: { a: 1 } });
      native[level]('no fields');
    }
    await expectCode(() => native.logInfo('x', { 'bad key': 1 }), 'INVALID_ARGUMENT', /^fields/);
    await expectCode(() => native.setLogLevel('=='), 'INVALID_ARGUMENT', /^level/);
  });
});
