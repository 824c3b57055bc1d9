// The tasker-core orchestration server (tasker-devenv orchestration), on a
// free loopback port; it exits by itself if we die (its stdin closes).
import { spawn } from 'node:child_process';

import { devenvBinary } from './paths.mjs';
import { freePort, run, stopChild, waitForOutput } from './processes.mjs';

/** Creates the role and database of `databaseUrl`, the pgmq extension, and applies tasker's migrations. */
export async function setupDatabase(adminUrl, databaseUrl) {
  await run(devenvBinary(), ['setup-db', '--admin-url', adminUrl, '--database-url', databaseUrl]);
}

/** Starts the orchestration server; resolves to { url, stop(), logs() }. */
export async function startOrchestration(databaseUrl, { log = () => {}, logLevel = 'warn' } = {}) {
  const port = await freePort();
  const bind = `127.0.0.1:${port}`;
  const child = spawn(
    devenvBinary(),
    ['orchestration', '--database-url', databaseUrl, '--bind', bind, '--log-level', logLevel],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let recent = '';
  const remember = (d) => (recent = (recent + d).slice(-20000));
  child.stdout.on('data', remember);
  child.stderr.on('data', remember);
  const stop = () => stopChild(child, 'SIGTERM', 15000);
  try {
    await waitForOutput(child, /READY /, 180000, 'the orchestration server');
  } catch (e) {
    await stop();
    throw e;
  }
  const url = `http://${bind}`;
  log(`orchestration server at ${url}`);
  return { url, stop, logs: () => recent };
}
