// Child processes of the environment: started as an unprivileged user when
// we are root (PostgreSQL refuses root), tracked so everything we start is
// stopped, and watched by a detached sentinel that cleans up if we are killed.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';

export const UNPRIVILEGED = { uid: 65534, gid: 65534 };

export const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** The command line that runs `cmd` as the unprivileged user when we are root. */
export function asUnprivileged(cmd, args) {
  if (!isRoot()) return [cmd, args];
  return ['setpriv', [`--reuid=${UNPRIVILEGED.uid}`, `--regid=${UNPRIVILEGED.gid}`, '--clear-groups', '--', cmd, ...args]];
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Runs a command to completion, failing with its output when it fails. */
export function run(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(output);
      else reject(new Error(`${cmd} ${args.join(' ')} failed (exit ${code}):\n${output.slice(-4000)}`));
    });
  });
}

/** Resolves when `pattern` shows up in the child's output, rejects if it exits first or time runs out. */
export function waitForOutput(child, pattern, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (d) => {
      seen = (seen + d).slice(-20000);
      if (pattern.test(seen)) finish(null);
    };
    const onExit = (code) => finish(new Error(`${what} exited (code ${code}) before it was ready:\n${seen.slice(-4000)}`));
    const timer = setTimeout(() => finish(new Error(`${what} was not ready within ${timeoutMs / 1000} s:\n${seen.slice(-4000)}`)), timeoutMs);
    function finish(err) {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      err ? reject(err) : resolve();
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Stops a child: `signal` first, SIGKILL after `graceMs`. */
export function stopChild(child, signal = 'SIGTERM', graceMs = 15000) {
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
 * Starts a detached sentinel that, should this process die without cleaning
 * up, stops `pid` and removes `dirs`. Returns a function that dismisses it.
 */
export function guardAgainstAbandonment(pid, dirs, signal = 'SIGINT') {
  const script = fileURLToPath(new URL('./sentinel.mjs', import.meta.url));
  const args = [script, String(process.pid), String(pid), signal, ...dirs];
  // Under Deno (tests run by `deno test`) a bare `deno script` has no permissions.
  const sentinel = spawn(process.execPath, typeof Deno === 'undefined' ? args : ['run', '--allow-run', '--allow-read', '--allow-write', ...args], {
    detached: true,
    stdio: 'ignore',
  });
  sentinel.unref();
  return () => {
    try {
      process.kill(sentinel.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}
