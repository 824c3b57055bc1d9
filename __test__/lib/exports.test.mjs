// The package root exports the documented API, the same objects through
// `import` (ESM entry) and `require` (CommonJS build).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';

import * as esm from '../../dist/index.mjs';

const cjs = createRequire(import.meta.url)('../../dist/index.js');

const REQUIRED = [
  'detectRuntime', 'isRuntimeSupported', 'assertSupportedRuntime', 'getTaskerRuntime', 'resetTaskerRuntime',
  'FfiError', 'FfiLibraryError', 'FfiCallError', 'TaskerEventEmitter', 'EventNames', 'EventPoller', 'Worker',
  'PushDelivery', 'RetryableError', 'PermanentError', 'StepCancelledError', 'storedResult', 'success', 'decision', 'batches', 'checkpoint',
];

test('ESM and CommonJS expose the same API', () => {
  for (const name of REQUIRED) {
    assert.ok(name in cjs, `require: ${name}`);
    assert.ok(name in esm, `import: ${name}`);
    assert.equal(esm[name], cjs[name], `${name} is one object, not two copies`);
  }
  assert.deepEqual(Object.keys(esm).filter((k) => k !== 'default').sort(), Object.keys(cjs).sort());
});

test('the type definitions are shipped for both entries', async () => {
  const { readFileSync } = await import('node:fs');
  const dts = readFileSync(new URL('../../dist/index.d.ts', import.meta.url), 'utf8');
  for (const name of ['Worker', 'TaskerRuntime', 'StepContext', 'getTaskerRuntime']) assert.match(dts, new RegExp(`\\b${name}\\b`));
  assert.equal(readFileSync(new URL('../../dist/index.d.mts', import.meta.url), 'utf8').trim(), "export * from './index.js';");
});
