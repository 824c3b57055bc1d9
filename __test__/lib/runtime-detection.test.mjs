import assert from 'node:assert/strict';
import { test } from 'node:test';

import { pkg } from '../helpers/package.mjs';

const { detectRuntime, isRuntimeSupported, assertSupportedRuntime } = pkg;

test('detects the runtime this test runs in', () => {
  assert.equal(detectRuntime(), typeof Bun !== 'undefined' ? 'bun' : 'node');
  assert.equal(isRuntimeSupported(), true);
  assert.doesNotThrow(() => assertSupportedRuntime());
});

test('detects each runtime from its globals', () => {
  assert.equal(detectRuntime({ Bun: {}, process: { versions: { node: '22' } } }), 'bun');
  assert.equal(detectRuntime({ process: { versions: { node: '20.1.0', bun: '1.4.5' } } }), 'bun');
  assert.equal(detectRuntime({ Deno: {}, process: { versions: { node: '20' } } }), 'deno');
  assert.equal(detectRuntime({ process: { versions: { node: '20.1.0' } } }), 'node');
  assert.equal(detectRuntime({}), 'unknown');
});

test('Deno and unknown runtimes get a clear error', () => {
  assert.equal(isRuntimeSupported('deno'), false);
  assert.throws(() => assertSupportedRuntime('deno'), /cannot run here \(deno\): Deno is not supported.*Supported runtimes: Node\.js >= 20 and Bun/);
  assert.throws(() => assertSupportedRuntime('unknown'), /cannot run here \(unknown\)/);
});
