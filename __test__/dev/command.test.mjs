// `tasker-worker dev`, as a child process of this runtime (node, bun or
// deno): it comes up (timed), serves the page and the orchestration, keeps
// its data in a folder across restarts, refuses a second dev on that folder,
// stops everything on SIGTERM within 10 s, leaves no process after SIGKILL,
// and says what is wrong with its options. The README's "Try it" from
// packed tarballs is scripts/check-dev.sh.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startCli } from '../helpers/cli-process.mjs';
import { eventually, runtimeName } from '../helpers/environment.mjs';
import { pkg } from '../helpers/package.mjs';

const TRY_IT_HANDLERS = new URL('../../examples/try-it/handlers', import.meta.url).pathname;
const TRY_IT_TEMPLATES = new URL('../../examples/try-it/templates', import.meta.url).pathname;
let folder;
const started = [];

/** A place nobody (PostgreSQL's user when we are root) can reach. */
function reachableDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

function dev(args) {
  const child = startCli(['dev', '--json', '--log-format', 'json', ...args], { env: { NO_COLOR: '1' } });
  started.push(child);
  return child;
}

/** The ready line (the one JSON line without a level), with the time it took. */
async function ready(child) {
  const at = Date.now();
  const info = await child.waitFor((e) => e.databaseUrl || e.level === 'error', 60000);
  assert.ok(info.databaseUrl, `dev did not come up:\n${child.output}`);
  return { ...info, tookMs: Date.now() - at };
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Processes still running whose command line mentions `needle`. */
async function survivors(needle) {
  const { execFileSync } = await import('node:child_process');
  try {
    return execFileSync('pgrep', ['-a', '-f', needle], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

describe('tasker-worker dev', { timeout: 240000 }, () => {
  before(() => {
    folder = reachableDir('tasker-dev-test-');
  });

  after(async () => {
    await Promise.all(started.map((c) => c.stop('SIGKILL')));
    rmSync(folder, { recursive: true, force: true });
  });

  test('comes up with a kept data folder and a worker, keeps its tasks across a restart, refuses a second dev, stops on SIGTERM', async () => {
    const data = join(folder, 'data');
    const first = dev(['--data', data, '--handlers', TRY_IT_HANDLERS, '--templates', TRY_IT_TEMPLATES]);
    const info = await ready(first);
    console.log(`tasker-worker dev (${runtimeName}): ready in ${info.readyMs} ms of its own process, first start (new data folder)`);
    assert.ok(info.readyMs < 10000, `ready in ${info.readyMs} ms`);
    assert.equal(info.dataDir, data);
    assert.equal(info.ephemeral, false);
    assert.match(info.databaseUrl, /^postgresql:\/\/tasker:[^@]+@127\.0\.0\.1:\d+\/tasker$/);
    assert.match(info.orchestrationUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(info.uiUrl, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(info.uiUrl);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    // The README's example task, run by the worker dev started.
    const client = new pkg.TaskerClient({ baseUrl: info.orchestrationUrl });
    const { taskUuid } = await client.createTask({ name: 'hello', namespace: 'try_it', context: { name: runtimeName } });
    assert.equal((await client.waitForTask(taskUuid, { timeoutMs: 30000 })).status, 'complete');
    const shout = (await client.listSteps(taskUuid)).find((s) => s.name === 'shout');
    assert.equal(shout.results.result.loud, `HELLO, ${runtimeName.toUpperCase()}!`);

    // A second dev on the same folder says who holds it.
    const second = dev(['--data', data]);
    const refused = await second.waitFor((e) => e.level === 'error', 30000);
    assert.match(refused.msg, /another local tasker \(pid \d+, started .*\) uses the data folder .*: stop it first, or give another folder \(--data\) or --ephemeral/);
    assert.equal((await second.exited).code, 4);

    // SIGTERM: everything stops within 10 s; the data stays, unlocked.
    const stopAt = Date.now();
    assert.equal((await first.stop('SIGTERM')).code, 0);
    const stopMs = Date.now() - stopAt;
    console.log(`tasker-worker dev (${runtimeName}): stopped ${stopMs} ms after SIGTERM`);
    assert.ok(stopMs < 10000, `stopped in ${stopMs} ms`);
    assert.equal(await survivors(data), '', 'nothing of it runs');
    assert.ok(existsSync(join(data, 'postgres', 'PG_VERSION')) && !existsSync(join(data, 'dev.lock')));

    // Restarted on the same folder: the same database, with what it held.
    const again = dev(['--data', data]);
    const back = await ready(again);
    console.log(`tasker-worker dev (${runtimeName}): restarted on its data in ${back.readyMs} ms`);
    assert.equal(back.databaseUrl.split('@')[0], info.databaseUrl.split('@')[0], 'the same role and password');
    const kept = await new pkg.TaskerClient({ baseUrl: back.orchestrationUrl }).getTask(taskUuid);
    assert.equal(kept.status, 'complete', 'the task created before the restart is still there');
    await again.stop('SIGTERM');
  });

  test('--ephemeral throws its data away; after SIGKILL no process is left', async () => {
    const child = dev(['--ephemeral', '--no-ui']);
    const info = await ready(child);
    assert.equal(info.ephemeral, true);
    assert.equal(info.uiUrl, undefined);
    assert.ok(existsSync(info.dataDir));
    await child.stop('SIGKILL');
    // The sentinel stops PostgreSQL and removes the throwaway folder; the
    // orchestration and query processes end with their stdin.
    await eventually(async () => !(await survivors(info.dataDir)) && !existsSync(info.dataDir), { timeoutMs: 20000, intervalMs: 200, what: 'nothing left after SIGKILL' });
    assert.equal(alive(info.pid), false);
  });

  test('bad options say what to do and exit 2', async () => {
    for (const [args, pattern] of [
      [['--data', folder, '--ephemeral'], /give --data or --ephemeral, not both/],
      [['--handlers', folder], /give --handlers and --templates together/],
      [['--port', 'seventy'], /--port must be a port number/],
      [['--database-url', 'postgresql://u:p@h:1/d'], /dev brings its own database/],
    ]) {
      const child = dev(args);
      const { code } = await child.exited;
      assert.equal(code, 2, `${args.join(' ')}: ${child.output}`);
      assert.match(child.output, pattern);
    }
  });
});
