// Detached watcher of a local tasker (see processes.ts): when the process
// that started it is gone without dismissing it, signal what it left running
// (SIGKILL after 15 s) and remove its folders. Plain ESM, shipped as is, so
// Node, Bun and Deno run it without a build.
import { readFileSync, rmSync } from 'node:fs';

const [parentPid, spec] = process.argv.slice(2);
const { kill: named = [], remove = [] } = JSON.parse(spec);
// A pid file names whatever runs then; a missing one, nothing.
const pidOf = ({ pid, pidFile }) => {
  if (pid) return pid;
  try {
    const read = Number(readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(read) && read > 0 ? read : 0;
  } catch {
    return 0;
  }
};
// A zombie (exited, not yet reaped by init) counts as gone.
const alive = (pid) => {
  try {
    process.kill(Number(pid), 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z /s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
};

const timer = setInterval(() => {
  if (alive(parentPid)) return;
  clearInterval(timer);
  const kill = named.map((entry) => ({ pid: pidOf(entry), signal: entry.signal })).filter(({ pid }) => pid > 0);
  for (const { pid, signal } of kill) if (alive(pid)) process.kill(pid, signal);
  const deadline = Date.now() + 15000;
  const finish = setInterval(() => {
    const left = kill.filter(({ pid }) => alive(pid));
    if (left.length > 0 && Date.now() < deadline) return;
    for (const { pid } of left) process.kill(pid, 'SIGKILL');
    clearInterval(finish);
    for (const path of remove) rmSync(path, { recursive: true, force: true });
    process.exit(0);
  }, 200);
}, 500);
