// Detached watcher of a local tasker (see processes.ts): when the process
// that started it is gone without dismissing it, signal what it left running
// (SIGKILL after 15 s) and remove its folders. Plain ESM, shipped as is, so
// Node, Bun and Deno run it without a build.
import { rmSync } from 'node:fs';

const [parentPid, spec] = process.argv.slice(2);
const { kill = [], remove = [] } = JSON.parse(spec);
const alive = (pid) => {
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch {
    return false;
  }
};

const timer = setInterval(() => {
  if (alive(parentPid)) return;
  clearInterval(timer);
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
