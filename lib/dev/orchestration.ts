/**
 * The tasker-core orchestration server (`tasker-devenv orchestration`) on a
 * loopback port, and the database setup it needs. It exits by itself if
 * this process dies (its stdin closes).
 */
import { spawn } from 'node:child_process';

import { devenvBinary } from './paths';
import { freePort, run, stopChild, toolEnv, waitForOutput } from './processes';

/** Creates the role and database of `databaseUrl`, the pgmq extension, and applies tasker's migrations (idempotent). */
export async function setupDatabase(adminUrl: string, databaseUrl: string): Promise<void> {
  await run(devenvBinary(), ['setup-db', '--admin-url', adminUrl, '--database-url', databaseUrl]);
}

export interface OrchestrationOptions {
  log?: (message: string) => void;
  /** The server's log level (a RUST_LOG filter), default warn. */
  logLevel?: string;
  /** A fixed REST port; default a free one. */
  port?: number;
  /** Also serve gRPC: true for a free port, or the port. */
  grpc?: boolean | number;
  /** Require one of these API keys (each with its permissions, e.g. tasks:*). */
  apiKeys?: { key: string; permissions: string[] }[];
}

export interface Orchestration {
  url: string;
  grpcUrl?: string;
  pid: number;
  stop(): Promise<void>;
  /** Its recent output (for a failing test's report). */
  logs(): string;
}

export async function startOrchestration(databaseUrl: string, options: OrchestrationOptions = {}): Promise<Orchestration> {
  const { log = () => {}, logLevel = 'warn', grpc = false, apiKeys = [] } = options;
  const bind = `127.0.0.1:${options.port ?? (await freePort())}`;
  const args = ['orchestration', '--database-url', databaseUrl, '--bind', bind, '--log-level', logLevel];
  const grpcBind = grpc === false ? undefined : `127.0.0.1:${grpc === true ? await freePort() : grpc}`;
  if (grpcBind) args.push('--grpc-bind', grpcBind);
  for (const { key, permissions } of apiKeys) args.push('--api-key', `${key}=${permissions.join(',')}`);
  const child = spawn(devenvBinary(), args, { stdio: ['pipe', 'pipe', 'pipe'], env: toolEnv() });
  let recent = '';
  const remember = (d: Buffer) => (recent = (recent + d).slice(-20000));
  child.stdout.on('data', remember);
  child.stderr.on('data', remember);
  const stop = () => stopChild(child, 'SIGTERM', 15000);
  try {
    await waitForOutput(child, /READY /, 180000, 'the orchestration server');
  } catch (e) {
    await stop();
    if (/Address already in use|address in use/i.test(String((e as Error).message))) throw new Error(`port of ${bind} is taken: choose another or leave it out for a free one`);
    throw e;
  }
  const url = `http://${bind}`;
  log(`orchestration server at ${url}${grpcBind ? ` (gRPC at ${grpcBind})` : ''}`);
  return { url, grpcUrl: grpcBind && `http://${grpcBind}`, pid: child.pid ?? 0, stop, logs: () => recent };
}

/** The rows of a SQL statement on `databaseUrl`, as objects (tests read tables and queues with it). */
export async function query(databaseUrl: string, sql: string): Promise<Record<string, unknown>[]> {
  const out = await run(devenvBinary(), ['query', '--database-url', databaseUrl, '--sql', sql]);
  return out
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
