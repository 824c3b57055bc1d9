// The tasker-core orchestration server (tasker-devenv orchestration), on a
// free loopback port; it exits by itself if we die (its stdin closes).
import { spawn } from 'node:child_process';

import { devenvBinary } from './paths.mjs';
import { freePort, run, stopChild, waitForOutput } from './processes.mjs';

/** Creates the role and database of `databaseUrl`, the pgmq extension, and applies tasker's migrations. */
export async function setupDatabase(adminUrl, databaseUrl) {
  await run(devenvBinary(), ['setup-db', '--admin-url', adminUrl, '--database-url', databaseUrl]);
}

/**
 * Starts the orchestration server; resolves to { url, grpcUrl, stop(), logs() }.
 * `grpc: true` also serves gRPC; `apiKeys: [{ key, permissions }]` requires one of them.
 */
export async function startOrchestration(databaseUrl, { log = () => {}, logLevel = 'warn', grpc = false, apiKeys = [] } = {}) {
  const port = await freePort();
  const bind = `127.0.0.1:${port}`;
  const args = ['orchestration', '--database-url', databaseUrl, '--bind', bind, '--log-level', logLevel];
  const grpcBind = grpc ? `127.0.0.1:${await freePort()}` : undefined;
  if (grpcBind) args.push('--grpc-bind', grpcBind);
  for (const { key, permissions } of apiKeys) args.push('--api-key', `${key}=${permissions.join(',')}`);
  const child = spawn(devenvBinary(), args, { stdio: ['pipe', 'pipe', 'pipe'] });
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
  log(`orchestration server at ${url}${grpcBind ? ` (gRPC at ${grpcBind})` : ''}`);
  return { url, grpcUrl: grpcBind && `http://${grpcBind}`, stop, logs: () => recent };
}

/** The rows of a SQL query on `databaseUrl`, as objects (for tests). */
export async function query(databaseUrl, sql) {
  const out = await run(devenvBinary(), ['query', '--database-url', databaseUrl, '--sql', sql]);
  return out.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
}
