import assert from 'node:assert/strict';
import { test } from 'node:test';

import { pkg } from '../helpers/package.mjs';
import { runtimeName } from '../helpers/runtime.mjs';

const { detectRuntime, isRuntimeSupported, assertSupportedRuntime } = pkg;

test('detects the runtime this test runs in, and supports it', () => {
  assert.equal(detectRuntime(), runtimeName);
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

test('Deno 2 and later are supported; Deno 1 and unknown runtimes get a clear error', () => {
  assert.equal(isRuntimeSupported('deno', '2.0.0'), true);
  assert.equal(isRuntimeSupported('deno', '2.9.6'), true);
  assert.equal(isRuntimeSupported('deno', '10.1.0'), true);
  assert.equal(isRuntimeSupported('deno', '1.46.3'), false);
  assert.doesNotThrow(() => assertSupportedRuntime('deno', '2.1.0'));
  assert.throws(() => assertSupportedRuntime('deno', '1.46.3'), /cannot run here \(deno\): Deno 1\.46\.3 is too old: Deno >= 2 is needed.*Supported runtimes: Node\.js >= 20, Bun >= 1\.1 and Deno >= 2/);
  assert.equal(isRuntimeSupported('unknown'), false);
  assert.throws(() => assertSupportedRuntime('unknown'), /cannot run here \(unknown\): this JavaScript runtime was not recognised/);
});

test('the running Deno version is the default under Deno', { skip: runtimeName !== 'deno' && 'not running in Deno' }, () => {
  assert.equal(isRuntimeSupported('deno'), Number.parseInt(Deno.version.deno, 10) >= 2);
});
