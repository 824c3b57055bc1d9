import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { pkg } from '../helpers/package.mjs';
import { runtimeName } from '../helpers/runtime.mjs';

const { loadNative, platformTriple, FfiLibraryError, FfiError } = pkg;
const { candidates } = createRequire(import.meta.url)('../../dist/native.js');
const npmDir = new URL('../../npm/', import.meta.url);

/** Runs `fn` with TASKER_FFI_MODULE_PATH unset (it would override every choice). */
function withoutOverride(fn) {
  const saved = process.env.TASKER_FFI_MODULE_PATH;
  delete process.env.TASKER_FFI_MODULE_PATH;
  try {
    return fn();
  } finally {
    if (saved !== undefined) process.env.TASKER_FFI_MODULE_PATH = saved;
  }
}

test('platform triples follow the prebuilt package names', () => {
  assert.equal(platformTriple('linux', 'x64', false), 'linux-x64-gnu');
  assert.equal(platformTriple('linux', 'arm64', true), 'linux-arm64-musl');
  assert.equal(platformTriple('darwin', 'arm64', false), 'darwin-arm64');
  assert.equal(platformTriple('win32', 'x64', false), 'win32-x64-msvc');
});

// What Node, Bun and Deno report on each target (process.platform, process.arch,
// the libc), the package the loader asks for there, and the npm fields that make
// npm install that package on that target only.
const TARGETS = [
  { platform: 'linux', arch: 'x64', musl: false, libc: 'glibc', triple: 'linux-x64-gnu' },
  { platform: 'linux', arch: 'arm64', musl: false, libc: 'glibc', triple: 'linux-arm64-gnu' },
  { platform: 'linux', arch: 'x64', musl: true, libc: 'musl', triple: 'linux-x64-musl' },
  { platform: 'linux', arch: 'arm64', musl: true, libc: 'musl', triple: 'linux-arm64-musl' },
  { platform: 'darwin', arch: 'x64', musl: false, triple: 'darwin-x64' },
  { platform: 'darwin', arch: 'arm64', musl: false, triple: 'darwin-arm64' },
];

test('on each of the six targets the loader asks for the package npm installs there', () => {
  assert.deepEqual(readdirSync(npmDir).sort(), TARGETS.map((t) => t.triple).sort(), 'one npm/ package per target');
  for (const t of TARGETS) {
    const triple = platformTriple(t.platform, t.arch, t.musl);
    assert.equal(triple, t.triple);
    const places = withoutOverride(() => candidates({}, triple));
    assert.equal(places.length, 2, triple);
    assert.ok(places[0].endsWith(`tasker-worker.${triple}.node`), `${triple}: a local build first (${places[0]})`);
    assert.equal(places[1], `@tasker-systems/worker-${triple}`);
    const manifest = JSON.parse(readFileSync(new URL(`${triple}/package.json`, npmDir), 'utf8'));
    assert.equal(manifest.name, places[1]);
    assert.equal(manifest.main, `tasker-worker.${triple}.node`);
    assert.deepEqual(manifest.files, [manifest.main]);
    assert.deepEqual([manifest.os, manifest.cpu, manifest.libc], [[t.platform], [t.arch], t.libc && [t.libc]], `${triple}: npm's os/cpu/libc`);
  }
});

test('a prebuilt platform without its package installed: the error says to install it', () => {
  const triple = platformTriple('linux', process.arch === 'arm64' ? 'x64' : 'arm64', true);
  const error = withoutOverride(() => {
    try {
      loadNative({}, triple);
    } catch (e) {
      return e;
    }
  });
  assert.ok(error instanceof FfiLibraryError);
  assert.equal(error.attempts.length, 2);
  assert.match(error.attempts[1], new RegExp(`^@tasker-systems/worker-${triple}: `));
  assert.match(error.message, new RegExp(`To fix: install the optional dependency @tasker-systems/worker-${triple} `));
});

test('Windows and other platforms without a package are refused plainly', () => {
  for (const [platform, arch, advice] of [['win32', 'x64', /on Windows, run it under WSL 2 as linux-x64-gnu/], ['win32', 'arm64', /WSL 2/], ['linux', 'riscv64', /platform table/], ['freebsd', 'x64', /platform table/]]) {
    const triple = platformTriple(platform, arch, false);
    const places = withoutOverride(() => candidates({}, triple));
    assert.equal(places.length, 1, `${triple}: no package to ask for`);
    assert.throws(
      () => withoutOverride(() => loadNative({}, triple)),
      (e) =>
        e instanceof FfiLibraryError &&
        e.platform === triple &&
        e.attempts.length === 1 &&
        e.attempts[0].endsWith(`tasker-worker.${triple}.node: no such file`) &&
        e.message.includes(`To fix: ${triple} is not a supported platform: there is no @tasker-systems/worker-${triple} package (prebuilt for linux-x64-gnu, `) &&
        advice.test(e.message),
      triple,
    );
  }
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
