import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { pkg } from '../helpers/package.mjs';
import { runtimeName } from '../helpers/runtime.mjs';

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

test('under Deno, missing permissions are named in the error', { skip: runtimeName !== 'deno' && 'not running in Deno' }, () => {
  const script = fileURLToPath(new URL('../helpers/load-native.mjs', import.meta.url));
  const load = (...permissions) => JSON.parse(execFileSync(process.execPath, ['run', ...permissions, script], { encoding: 'utf8' }));
  for (const permissions of [['--allow-read'], ['--allow-read', '--allow-env']]) {
    const outcome = load(...permissions);
    assert.equal(outcome.loaded, false, permissions.join(' '));
    assert.equal(outcome.name, 'FfiLibraryError');
    assert.match(outcome.message, /To fix: give Deno the permissions the worker needs: --allow-ffi --allow-read --allow-env/);
  }
  assert.deepEqual(load('--allow-read', '--allow-env', '--allow-ffi'), { loaded: true });
});
