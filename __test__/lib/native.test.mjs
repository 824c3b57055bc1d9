import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';

import { pkg } from '../helpers/package.mjs';

const { loadNative, platformTriple, FfiLibraryError, FfiError } = pkg;

test('platform triples follow the prebuilt package names', () => {
  assert.equal(platformTriple('linux', 'x64', false), 'linux-x64-gnu');
  assert.equal(platformTriple('linux', 'arm64', true), 'linux-arm64-musl');
  assert.equal(platformTriple('darwin', 'arm64', false), 'darwin-arm64');
  assert.equal(platformTriple('win32', 'x64', false), 'win32-x64-msvc');
});

test('an explicit path that does not load gives one error listing the attempt and the fix', () => {
  assert.throws(() => loadNative({ modulePath: '/nowhere/tasker-worker.node' }), FfiLibraryError);
  try {
    loadNative({ modulePath: '/nowhere/tasker-worker.node' });
  } catch (e) {
    assert.ok(e instanceof FfiLibraryError && e instanceof FfiError);
    assert.equal(e.platform, platformTriple());
    assert.deepEqual(e.attempts, ['/nowhere/tasker-worker.node: no such file']);
    assert.match(e.message, new RegExp(`could not be loaded for ${platformTriple()}`));
    assert.match(e.message, /To fix: check that the path/);
  }
});

test('TASKER_FFI_MODULE_PATH is honoured, and a broken library is reported', () => {
  const saved = process.env.TASKER_FFI_MODULE_PATH;
  const broken = join(mkdtempSync(join(tmpdir(), 'tw-native-')), 'broken.node');
  writeFileSync(broken, 'this is not a shared library');
  process.env.TASKER_FFI_MODULE_PATH = broken;
  try {
    assert.throws(
      () => loadNative(),
      (e) => e instanceof FfiLibraryError && e.attempts.length === 1 && e.attempts[0].startsWith(`${broken}: `) && !e.attempts[0].endsWith('no such file'),
    );
  } finally {
    rmSync(dirname(broken), { recursive: true, force: true });
    if (saved === undefined) delete process.env.TASKER_FFI_MODULE_PATH;
    else process.env.TASKER_FFI_MODULE_PATH = saved;
  }
});

test('the local build loads and answers', () => {
  const native = loadNative();
  assert.equal(typeof native.bootstrapWorker, 'function');
  assert.match(native.getVersion(), /^\d+\.\d+\.\d+/);
});
