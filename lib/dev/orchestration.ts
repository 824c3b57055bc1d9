/**
 * The tasker-core orchestration server (`tasker-devenv orchestration`) on a
 * loopback port, and the database setup it needs. It exits by itself if
 * this process dies (its stdin closes). On RabbitMQ it exits with code 75
 * when it loses the broker (tasker-orchestration 0.1.8 never reconnects), and
 * is started again here on the same port, once the broker answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';

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
  /** Its messaging backend (default pgmq); rabbitmq needs `rabbitmqUrl`. */
  messaging?: 'pgmq' | 'rabbitmq';
  rabbitmqUrl?: string;
}

export interface Orchestration {
  url: string;
  grpcUrl?: string;
  /** The process id of the server now running (a restart changes it). */
  readonly pid: number;
  /** How many times it was restarted after losing the broker. */
  readonly restarts: number;
  stop(): Promise<void>;
  /** Its recent output (for a failing test's report). */
  logs(): string;
}

/** tasker-devenv's exit code when the broker is unavailable: start it again. */
export const EXIT_BROKER_UNAVAILABLE = 75;
/** Restart delays after a broker loss: doubling from the first, capped. */
const RESTART_DELAY_MS = { first: 250, max: 5000 };
/** How long a restarted orchestration waits for the broker before it exits with 75 again. */
const BROKER_WAIT_SECONDS = 30;

export async function startOrchestration(databaseUrl: string, options: OrchestrationOptions = {}): Promise<Orchestration> {
  const { log = () => {}, logLevel = 'warn', grpc = false, apiKeys = [], messaging = 'pgmq', rabbitmqUrl } = options;
  if (messaging === 'rabbitmq' && !rabbitmqUrl) throw new Error("messaging 'rabbitmq' needs rabbitmqUrl");
  const bind = `127.0.0.1:${options.port ?? (await freePort())}`;
  const args = ['orchestration', '--database-url', databaseUrl, '--bind', bind, '--log-level', logLevel];
  const grpcBind = grpc === false ? undefined : `127.0.0.1:${grpc === true ? await freePort() : grpc}`;
  if (grpcBind) args.push('--grpc-bind', grpcBind);
  for (const { key, permissions } of apiKeys) args.push('--api-key', `${key}=${permissions.join(',')}`);
  if (messaging === 'rabbitmq') args.push('--messaging', 'rabbitmq', '--rabbitmq-url', rabbitmqUrl!);
  let recent = '';
  const remember = (d: Buffer | string) => (recent = (recent + d).slice(-20000));
  const launch = (extra: string[] = []) => {
    const started = spawn(devenvBinary(), [...args, ...extra], { stdio: ['pipe', 'pipe', 'pipe'], env: toolEnv() });
    started.stdout.on('data', remember);
    started.stderr.on('data', remember);
    return started;
  };

  let child: ChildProcess = launch();
  let stopping = false;
  let restarts = 0;
  let delay = RESTART_DELAY_MS.first;
  let pending: NodeJS.Timeout | undefined;
  const stop = async () => {
    stopping = true;
    clearTimeout(pending);
    await stopChild(child, 'SIGTERM', 15000);
  };
  try {
    await waitForOutput(child, /READY /, 180000, 'the orchestration server');
  } catch (e) {
    await stop();
    if (/Address already in use|address in use/i.test(String((e as Error).message))) throw new Error(`port of ${bind} is taken: choose another or leave it out for a free one`);
    throw e;
  }

  // Only an orchestration that lost its broker (75) is started again: any
  // other exit is left as it is, as on PGMQ.
  const supervise = (running: ChildProcess) => {
    running.once('exit', (code, signal) => {
      if (stopping) return;
      if (code !== EXIT_BROKER_UNAVAILABLE) {
        log(`the orchestration exited (${signal ?? `code ${code}`}); it is not restarted`);
        return;
      }
      const lostAt = Date.now();
      remember(`\n[local tasker] the orchestration exited with ${code} (broker unavailable): restarting it in ${delay} ms\n`);
      log(`the orchestration lost RabbitMQ (exit ${code}): restarting it in ${delay} ms`);
      pending = setTimeout(() => {
        if (stopping) return;
        restarts++;
        // Same port and options; it waits for the broker before it starts.
        child = launch(['--broker-wait-seconds', String(BROKER_WAIT_SECONDS)]);
        supervise(child);
        waitForOutput(child, /READY /, 180000, 'the restarted orchestration server').then(
          () => {
            delay = RESTART_DELAY_MS.first;
            log(`orchestration server back at http://${bind} (restart ${restarts}, ${Date.now() - lostAt} ms after it exited)`);
          },
          // An exit is handled by supervise; a server that hangs is reported.
          (e: Error) => {
            if (!stopping && /was not ready within/.test(e.message)) log(`the orchestration did not come back: ${e.message}`);
          },
        );
      }, delay);
      delay = Math.min(delay * 2, RESTART_DELAY_MS.max);
    });
  };
  if (messaging === 'rabbitmq') supervise(child);

  const url = `http://${bind}`;
  log(`orchestration server at ${url}${grpcBind ? ` (gRPC at ${grpcBind})` : ''}${messaging === 'rabbitmq' ? ' on RabbitMQ' : ''}`);
  return {
    url,
    grpcUrl: grpcBind && `http://${grpcBind}`,
    get pid() {
      return child.pid ?? 0;
    },
    get restarts() {
      return restarts;
    },
    stop,
    logs: () => recent,
  };
}

/** The rows of a SQL statement on `databaseUrl`, as objects (tests read tables and queues with it). */
export async function query(databaseUrl: string, sql: string): Promise<Record<string, unknown>[]> {
  const out = await run(devenvBinary(), ['query', '--database-url', databaseUrl, '--sql', sql]);
  return out
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
