import assert from 'node:assert/strict';
import { test } from 'node:test';

import { pkg } from '../helpers/package.mjs';
import { runtimeName } from '../helpers/runtime.mjs';

const { NativeTaskerRuntime, FfiCallError, FfiError, getTaskerRuntime, resetTaskerRuntime } = pkg;

function failing(code) {
  const error = new Error('no worker is running in this process: call bootstrapWorker(config) first');
  error.code = code;
  return error;
}

test('native failures surface as FfiCallError with the native code', async () => {
  const binding = {
    pollStepEvents: () => {
      throw failing('NOT_BOOTSTRAPPED');
    },
    tryCompleteStepEvent: () => {
      throw failing('UNKNOWN_EVENT');
    },
    getVersion: () => '1.2.3',
  };
  const runtime = new NativeTaskerRuntime(binding);
  assert.equal(runtime.getVersion(), '1.2.3');
  assert.throws(() => runtime.pollStepEvents(1), FfiCallError);
  try {
    runtime.pollStepEvents(1);
  } catch (e) {
    assert.ok(e instanceof FfiCallError && e instanceof FfiError);
    assert.equal(e.code, 'NOT_BOOTSTRAPPED');
    assert.equal(e.call, 'pollStepEvents');
    assert.match(e.message, /^pollStepEvents: no worker is running/);
    assert.equal(e.cause.code, 'NOT_BOOTSTRAPPED');
  }
  await assert.rejects(runtime.completeStepEvent('x', {}), (e) => e instanceof FfiCallError && e.code === 'UNKNOWN_EVENT');
});

test('every TaskerRuntime call maps to the addon', async () => {
  const seen = [];
  const binding = new Proxy({}, { get: (_, name) => (...args) => (seen.push(name), name.endsWith('Async') || name === 'checkpointYieldStepEvent' ? Promise.resolve({}) : name === 'tryCompleteStepEvent' ? false : {}) });
  const runtime = new NativeTaskerRuntime(binding);
  await runtime.bootstrapWorker({});
  runtime.getWorkerStatus();
  await runtime.transitionToGracefulShutdown();
  await runtime.stopWorker();
  runtime.pollStepEvents(2);
  await runtime.completeStepEvent('e', {});
  await runtime.checkpointYieldStepEvent('e', { cursor: 1, itemsProcessed: 1 });
  runtime.subscribeStepEvents(() => {}, {});
  runtime.subscribeStepEventBatches(() => {}, {});
  runtime.getFfiDispatchMetrics();
  runtime.checkStarvationWarnings();
  runtime.cleanupTimeouts();
  for (const level of ['logError', 'logWarn', 'logInfo', 'logDebug', 'logTrace']) runtime[level]('m', { a: 1 });
  runtime.healthCheck();
  runtime.loadTaskTemplates('/templates');
  assert.deepEqual(seen, [
    'bootstrapWorkerAsync', 'getWorkerStatus', 'transitionToGracefulShutdownAsync', 'stopWorkerAsync', 'pollStepEvents',
    'tryCompleteStepEvent', 'completeStepEventAsync', 'checkpointYieldStepEvent', 'subscribeStepEvents', 'subscribeStepEventBatches',
    'getFfiDispatchMetrics', 'checkStarvationWarnings', 'cleanupTimeouts', 'logError', 'logWarn', 'logInfo', 'logDebug', 'logTrace', 'healthCheck',
    'loadTaskTemplates',
  ]);
});

test('completions take the synchronous path when the channel has room, else the Promise one', async () => {
  const calls = [];
  let room = true;
  const binding = {
    tryCompleteStepEvent: (id) => (calls.push(['try', id]), room),
    completeStepEventAsync: async (id) => {
      calls.push(['async', id]);
    },
  };
  const runtime = new NativeTaskerRuntime(binding);
  await runtime.completeStepEvent('a', {});
  room = false;
  await runtime.completeStepEvent('b', {});
  assert.deepEqual(calls, [['try', 'a'], ['try', 'b'], ['async', 'b']]);
  binding.completeStepEventAsync = async () => {
    throw failing('CHANNEL_CLOSED');
  };
  await assert.rejects(runtime.completeStepEvent('c', {}), (e) => e instanceof FfiCallError && e.code === 'CHANNEL_CLOSED');
});

test('one process-wide runtime, reset for tests', () => {
  resetTaskerRuntime();
  const a = getTaskerRuntime();
  assert.equal(getTaskerRuntime(), a);
  resetTaskerRuntime();
  assert.notEqual(getTaskerRuntime(), a);
  assert.equal(a.runtime, runtimeName);
});
