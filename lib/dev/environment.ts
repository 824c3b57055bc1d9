/**
 * A whole local tasker in one call: PostgreSQL (data kept in a folder, or a
 * throwaway one) with pgmq and tasker's schema, the orchestration server, and
 * with `messaging: 'rabbitmq'` a private RabbitMQ broker (throwaway: its data
 * lives for the run) that tasker's queues are on. Everything it starts,
 * stop() stops; if this process is killed, detached sentinels stop the
 * database and the broker and release the folders (the orchestration exits
 * when its stdin closes).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { TaskerClient } from '../client';
import { setupDatabase, startOrchestration, type Orchestration } from './orchestration';
import { startPostgres, type Postgres } from './postgres';
import { removeDir } from './processes';
import { rabbitmqBin, startRabbitmq, type Rabbitmq } from './rabbitmq';

export type Messaging = 'pgmq' | 'rabbitmq';

export interface LocalTaskerOptions {
  /** Where the data lives (kept between runs); default a throwaway folder. */
  dataDir?: string;
  /** Start the orchestration server (default true). */
  orchestration?: boolean;
  /** tasker's messaging backend (default pgmq: queues in PostgreSQL). */
  messaging?: Messaging;
  /** With rabbitmq: a broker of yours (amqp://user:pass@host:port/vhost); default a private one started here. Ignored with pgmq. */
  rabbitmqUrl?: string;
  /** Fixed ports; default free ones. */
  ports?: { postgres?: number; orchestration?: number; rabbitmq?: number };
  /** Also serve gRPC: true for a free port, or the port. */
  grpc?: boolean | number;
  /** Require one of these API keys (the client carries the first). */
  apiKeys?: { key: string; permissions: string[] }[];
  /** The orchestration's log level (a RUST_LOG filter), default warn. */
  logLevel?: string;
  log?: (message: string) => void;
}

export interface LocalTasker {
  /** postgresql://tasker:…@127.0.0.1:port/tasker: what workers connect with. */
  databaseUrl: string;
  /** The superuser's URL. */
  adminUrl: string;
  orchestrationUrl?: string;
  grpcUrl?: string;
  /** A TaskerClient of the orchestration. */
  client?: TaskerClient;
  dataDir: string;
  /** Whether the data folder is thrown away at stop(). */
  ephemeral: boolean;
  /** Stop and start the database server (same port and data): outage tests. */
  stopDatabase(): Promise<void>;
  startDatabase(): Promise<void>;
  messaging: Messaging;
  /** The broker's URL (messaging rabbitmq). */
  rabbitmqUrl?: string;
  /**
   * Stop and start the private broker (same port and data; durable queues
   * and persistent messages survive): outage tests. The orchestration, which
   * cannot reconnect, is restarted by itself once the broker answers.
   * Rejects without a private broker (pgmq, or a rabbitmqUrl of yours).
   */
  stopBroker(): Promise<void>;
  startBroker(): Promise<void>;
  /** `rabbitmqctl ARGS` against the private broker (e.g. list_queues name messages); its output. */
  rabbitmqctl(args: string[]): Promise<string>;
  /** Process ids of what runs (for whoever watches them). */
  pids(): number[];
  orchestrationLogs(): string;
  stop(): Promise<void>;
}

/** A data folder this process holds: one local tasker per folder at a time. */
function lockDataDir(dir: string): { file: string; release(): void } {
  const file = join(dir, 'dev.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }), { flag: 'wx' });
      return { file, release: () => rmSync(file, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder: { pid?: number; startedAt?: string } = {};
      try {
        holder = JSON.parse(readFileSync(file, 'utf8')) as typeof holder;
      } catch {
        // an unreadable lock is a stale one
      }
      if (holder.pid && isAlive(holder.pid)) {
        throw new Error(
          `another local tasker (pid ${holder.pid}, started ${holder.startedAt ?? 'earlier'}) uses the data folder ${dir}: ` +
            'stop it first, or give another folder (--data) or --ephemeral',
        );
      }
      rmSync(file, { force: true });
    }
  }
  throw new Error(`could not lock the data folder ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The tasker role's password, kept with the data so the database URL stays valid across runs. */
function taskerPassword(dir: string): string {
  const file = join(dir, 'tasker-password');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    const made = randomBytes(12).toString('hex');
    writeFileSync(file, made, { mode: 0o600 });
    return made;
  }
}

export async function startLocalTasker(options: LocalTaskerOptions = {}): Promise<LocalTasker> {
  const { log = () => {}, logLevel = 'warn', grpc = false, apiKeys = [], messaging = 'pgmq' } = options;
  if (messaging !== 'pgmq' && messaging !== 'rabbitmq') throw new Error(`messaging must be 'pgmq' or 'rabbitmq', got '${String(messaging)}'`);
  const ownBroker = messaging === 'rabbitmq' && options.rabbitmqUrl === undefined;
  // A missing RabbitMQ says so before anything starts.
  if (ownBroker) rabbitmqBin();
  const ephemeral = options.dataDir === undefined;
  const dataDir = ephemeral ? mkdtempSync(join(tmpdir(), 'tasker-local-')) : resolve(options.dataDir!);
  mkdirSync(dataDir, { recursive: true });
  const lock = lockDataDir(dataDir);
  const started: (() => Promise<void> | void)[] = [() => (ephemeral ? removeDir(dataDir) : lock.release())];
  const stop = async () => {
    while (started.length) await started.pop()!();
  };
  try {
    // The broker boots in seconds: it comes up while the database is set up.
    const brokerStarting = ownBroker ? startRabbitmq({ port: options.ports?.rabbitmq, log }) : undefined;
    const databaseReady = (async () => {
      const pg: Postgres = await startPostgres({
        dir: dataDir,
        port: options.ports?.postgres,
        log,
        onAbandon: { remove: ephemeral ? [dataDir] : [lock.file] },
      });
      started.push(pg.stop);
      const databaseUrl = `postgresql://tasker:${taskerPassword(dataDir)}@127.0.0.1:${pg.port}/tasker`;
      await setupDatabase(pg.adminUrl, databaseUrl);
      log('database ready: pgmq installed, tasker migrations applied');
      return { pg, databaseUrl };
    })();
    const [brokerResult, databaseResult] = await Promise.allSettled([brokerStarting, databaseReady]);
    const broker: Rabbitmq | undefined = brokerResult.status === 'fulfilled' ? brokerResult.value : undefined;
    if (broker) started.push(broker.stop);
    if (brokerResult.status === 'rejected') throw brokerResult.reason;
    if (databaseResult.status === 'rejected') throw databaseResult.reason;
    const { pg, databaseUrl } = databaseResult.value;
    const rabbitmqUrl = messaging === 'rabbitmq' ? (broker?.url ?? options.rabbitmqUrl) : undefined;
    let orch: Orchestration | undefined;
    if (options.orchestration !== false) {
      orch = await startOrchestration(databaseUrl, { log, logLevel, grpc, apiKeys, port: options.ports?.orchestration, messaging, rabbitmqUrl });
      started.push(orch.stop);
    }
    const noBroker = () => Promise.reject(new Error(messaging === 'rabbitmq' ? 'the broker is yours (rabbitmqUrl): stop and start it yourself' : "there is no broker: messaging is 'pgmq'"));
    return {
      databaseUrl,
      adminUrl: pg.adminUrl,
      orchestrationUrl: orch?.url,
      grpcUrl: orch?.grpcUrl,
      client: orch ? new TaskerClient({ baseUrl: orch.url, apiKey: apiKeys[0]?.key }) : undefined,
      dataDir,
      ephemeral,
      stopDatabase: pg.stopServer,
      startDatabase: pg.startServer,
      messaging,
      rabbitmqUrl,
      stopBroker: broker ? broker.stopBroker : noBroker,
      startBroker: broker ? broker.startBroker : noBroker,
      rabbitmqctl: broker ? broker.ctl : noBroker,
      pids: () => [...(orch ? [orch.pid] : []), ...(broker?.pids() ?? [])],
      orchestrationLogs: () => orch?.logs() ?? '',
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
