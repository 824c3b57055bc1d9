// The tasker-worker command as a child process of a test: its log lines
// (JSON, one per line) collected, waits on them, and a stop that never
// leaves the process behind.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

export const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;

/** A loopback port nobody listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The messaging backend the suite runs on (scripts/test-all.sh's RabbitMQ pass sets it). */
function messagingEnv() {
  const pass = ['TASKER_MESSAGING_BACKEND', 'RABBITMQ_URL'].filter((name) => process.env[name]);
  return Object.fromEntries(pass.map((name) => [name, process.env[name]]));
}

/**
 * Starts `command args` (default: this runtime running dist/cli.js) with a
 * clean environment plus `env`. Returns { child, entries, output, waitFor,
 * exited, stop }.
 */
export function startCli(args, { env = {}, command = process.execPath, prefix = [CLI] } = {}) {
  const child = spawn(command, [...prefix, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...messagingEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const entries = [];
  let output = '';
  let buffered = '';
  const waiters = new Set();
  const check = () => {
    for (const waiter of waiters) {
      const found = entries.find(waiter.match);
      if (found) {
        waiters.delete(waiter);
        waiter.resolve(found);
      }
    }
  };
  child.stdout.on('data', (chunk) => {
    output += chunk;
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop();
    for (const line of lines) {
      try {
        entries.push(JSON.parse(line));
      } catch {
        entries.push({ text: line });
      }
    }
    check();
  });
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  exited.then(() => {
    for (const waiter of waiters) waiter.reject(new Error(`the worker exited before logging what was awaited; output:\n${output.slice(-4000)}`));
    waiters.clear();
  });
  return {
    child,
    entries,
    get output() {
      return output;
    },
    exited,
    /** Resolves with the first log entry `match` accepts. */
    waitFor(match, timeoutMs = 60000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for a log entry; output:\n${output.slice(-4000)}`));
        }, timeoutMs);
        const waiter = {
          match,
          resolve: (v) => (clearTimeout(timer), resolve(v)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        };
        waiters.add(waiter);
        check();
      });
    },
    /**
     * The worker's own process id, from its 'worker started' line: under npx
     * the command is a child of npm, which does not pass SIGTERM on.
     */
    get workerPid() {
      return entries.find((e) => e.msg === 'worker started')?.pid;
    },
    /** Sends `signal` to the worker, waits for the exit; SIGKILL (to npm too, if between) after `graceMs`. */
    async stop(signal = 'SIGTERM', graceMs = 30000) {
      const all = [...new Set([this.workerPid, child.pid].filter(Boolean))];
      const kill = (sig, pids = all) => pids.forEach((pid) => {
        try {
          process.kill(pid, sig);
        } catch {
          // already gone
        }
      });
      if (child.exitCode !== null || child.signalCode !== null) {
        if (this.workerPid) kill('SIGKILL');
        return exited;
      }
      // The worker gets the signal; npm, if between, stays to pass on its exit code.
      kill(signal, [this.workerPid ?? child.pid]);
      const timer = setTimeout(() => kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}
