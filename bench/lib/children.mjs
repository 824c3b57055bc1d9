// Child processes of the runner: benchmark cases in Node, Bun or Deno, and
// long-running workers. Every child started here is stopped here.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDir = fileURLToPath(new URL('..', import.meta.url));
export const repoRoot = join(benchDir, '..');
const bunBinary = join(repoRoot, 'node_modules', '.bin', 'bun');
const denoBinary = join(repoRoot, 'node_modules', '.bin', 'deno');
const live = new Set();

process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Command and arguments that run `script` in `runtime`. */
export function runtimeCommand(runtime, script) {
  if (runtime === 'node') return [process.execPath, ['--expose-gc', script]];
  if (runtime === 'bun') return [bunBinary, [script]];
  // -A: the cases read files and the environment, load the addon and reach the database's port.
  if (runtime === 'deno') return [denoBinary, ['run', '-A', '--v8-flags=--expose-gc', script]];
  throw new Error(`unknown runtime ${runtime}: use node, bun or deno`);
}

/** Starts a child; it is killed if the runner exits first. */
export function start(command, args, options = {}) {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.output = '';
  child.errors = '';
  child.stdout.on('data', (d) => { child.output += d; });
  child.stderr.on('data', (d) => { child.errors = (child.errors + d).slice(-8000); });
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return child;
}

/** Runs a case script in `runtime` with `params`; resolves to its reported result. */
export async function runCase(runtime, caseName, params, { env = {}, timeoutMs = 600_000 } = {}) {
  const [command, args] = runtimeCommand(runtime, join(benchDir, 'cases', `${caseName}.mjs`));
  const child = start(command, args, { env: { ...process.env, ...env, BENCH_PARAMS: JSON.stringify(params) }, stdio: ['ignore', 'pipe', 'pipe'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const { code, signal } = await child.exited;
  clearTimeout(timer);
  const line = child.output.split('\n').reverse().find((l) => l.startsWith('BENCH_RESULT '));
  if (code !== 0 || !line) {
    throw new Error(`${caseName} in ${runtime} failed (exit ${code ?? signal}):\n${child.errors.trim()}`);
  }
  return JSON.parse(line.slice('BENCH_RESULT '.length));
}

/** Resolves once `child` prints a line equal to `marker`. */
export function waitForLine(child, marker, timeoutMs = 120_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${marker} within ${timeoutMs} ms:\n${child.errors}`)), timeoutMs);
    const check = () => {
      if (child.output.split('\n').includes(marker)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before ${marker}:\n${child.errors}`));
    });
    check();
  });
}

/** Closes stdin (the children's stop signal), then kills after `graceMs`. */
export async function stop(child, graceMs = 30_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.stdin?.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}
