// Detached watcher: when the process that started the environment is gone,
// stop the service it left and remove its folders. Dismissed (SIGTERM) by a
// normal teardown.
import { rmSync } from 'node:fs';

const [parentPid, childPid, signal, ...dirs] = process.argv.slice(2);
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
  if (alive(childPid)) process.kill(Number(childPid), signal);
  const deadline = Date.now() + 15000;
  const finish = setInterval(() => {
    if (alive(childPid) && Date.now() < deadline) return;
    if (alive(childPid)) process.kill(Number(childPid), 'SIGKILL');
    clearInterval(finish);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  }, 200);
}, 500);
