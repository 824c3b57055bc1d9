/**
 * Child processes of the local tasker: started as an unprivileged user when
 * we are root (PostgreSQL refuses root), stopped on demand, and watched by a
 * detached sentinel (sentinel.mjs) that stops them if this process is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const UNPRIVILEGED = { uid: 65534, gid: 65534 };

export const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** The command line that runs `cmd` as the unprivileged user when we are root. */
export function asUnprivileged(cmd: string, args: string[]): [string, string[]] {
  if (!isRoot()) return [cmd, args];
  return ['setpriv', [`--reuid=${UNPRIVILEGED.uid}`, `--regid=${UNPRIVILEGED.gid}`, '--clear-groups', '--', cmd, ...args]];
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Whether `port` on 127.0.0.1 can be listened on now. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Output for an error message: the start (where a Rust error says what failed) and the end. */
function excerpt(output: string): string {
  return output.length <= 4000 ? output : `${output.slice(0, 2000)}\n…\n${output.slice(-2000)}`;
}

/** The environment of our own tools: no backtraces (an error's message is what helps). */
export function toolEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, RUST_BACKTRACE: '0', RUST_LIB_BACKTRACE: '0' };
}

/** Runs a command to completion, failing with its output when it fails. */
export function run(cmd: string, args: string[], options: Parameters<typeof spawn>[2] = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: toolEnv(), ...options });
    let output = '';
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(output);
      else reject(new Error(`${cmd} ${args.join(' ')} failed (exit ${code}):\n${excerpt(output)}`));
    });
  });
}

/** Resolves when `pattern` shows up in the child's output; rejects if it exits first or time runs out. */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (d: Buffer | string) => {
      seen = (seen + d).slice(-20000);
      if (pattern.test(seen)) finish(null);
    };
    const onExit = (code: number | null) => finish(new Error(`${what} exited (code ${code}) before it was ready:\n${seen.slice(-4000)}`));
    const timer = setTimeout(() => finish(new Error(`${what} was not ready within ${timeoutMs / 1000} s:\n${seen.slice(-4000)}`)), timeoutMs);
    function finish(err: Error | null) {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve();
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Stops a child: `signal` first, SIGKILL after `graceMs`. */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 15000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

/**
 * What the sentinel does when this process is gone: signal processes, remove
 * paths. A process may be named by a pid file, read only then: one that is
 * restarted, or whose pid is learnt late (a broker writes its own).
 */
export interface Abandonment {
  kill?: ({ pid: number; signal: NodeJS.Signals } | { pidFile: string; signal: NodeJS.Signals })[];
  remove?: string[];
}

/**
 * Starts a detached sentinel that, should this process die without cleaning
 * up (SIGKILL, a crash), does what `abandonment` says. Returns the function
 * that dismisses it (a normal stop does its own cleaning).
 */
export function guardAgainstAbandonment(abandonment: Abandonment): () => void {
  const script = join(__dirname, 'sentinel.mjs');
  const args = [script, String(process.pid), JSON.stringify(abandonment)];
  // Under Deno a bare `deno script` would have no permissions.
  const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined';
  const sentinel = spawn(process.execPath, isDeno ? ['run', '--allow-run', '--allow-read', '--allow-write', ...args] : args, {
    detached: true,
    stdio: 'ignore',
  });
  sentinel.unref();
  return () => {
    try {
      if (sentinel.pid) process.kill(sentinel.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}
