/**
 * `tasker-worker dev`: a whole local tasker for a project that installed the
 * package — PostgreSQL (data kept in .tasker/), pgmq and tasker's schema,
 * the orchestration server, a page to watch it, and with --handlers and
 * --templates the project's own worker — until Ctrl-C.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { ExitCode, resolveOptions, UsageError, type CliOptions } from '../cli-options';
import { createLogger, createWorker, startWorker, workerConfig, type Log } from '../cli-worker';
import type { Worker } from '../worker';
import { startLocalTasker, type LocalTasker } from './environment';
import { startDevServer, type DevServer } from './server';
import { SqlClient } from './sql';

export const DEV_USAGE = `Usage: tasker-worker dev [options] [--handlers <path> --templates <folder> ...]

A whole local tasker on this machine, no Docker: PostgreSQL (data kept between runs),
the pgmq extension and tasker's schema, the tasker-core orchestration server, a page
to watch tasks run, and with --handlers and --templates your worker serving them.
Needs @tasker-systems/orchestration (npm install --save-dev @tasker-systems/orchestration).

  --data <folder>      where the data lives (default: .tasker in this folder)
  --ephemeral          a throwaway database, removed when dev stops
  --port <n>           the orchestration's REST port (default: a free one)
  --ui-port <n>        the page's port (default: a free one)
  --pg-port <n>        PostgreSQL's port (default: a free one)
  --grpc               also serve the orchestration's gRPC API (--grpc-port <n> to fix its port)
  --no-ui              no page
  --json               print one JSON line when ready (databaseUrl, orchestrationUrl, uiUrl, ...)
  --handlers, --templates, --namespace, --concurrency, --delivery, --log-level, ...
                       run the worker as \`tasker-worker\` does (tasker-worker --help)

Ctrl-C or SIGTERM stops everything (the worker drains up to 5 s).`;

interface DevFlags {
  data?: string;
  ephemeral: boolean;
  port?: number;
  uiPort?: number;
  pgPort?: number;
  grpc: boolean;
  grpcPort?: number;
  ui: boolean;
  json: boolean;
  help: boolean;
}

const DEV_OPTIONS = {
  data: { type: 'string' },
  ephemeral: { type: 'boolean' },
  port: { type: 'string' },
  'ui-port': { type: 'string' },
  'pg-port': { type: 'string' },
  grpc: { type: 'boolean' },
  'grpc-port': { type: 'string' },
  'no-ui': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function port(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`${flag} must be a port number (1-65535), got '${value}'`);
  return n;
}

/** Splits the command line into dev's own flags and the worker's. */
export function parseDevFlags(argv: string[]): { flags: DevFlags; rest: string[] } {
  const own = new Set(Object.keys(DEV_OPTIONS).map((k) => `--${k}`));
  const takesValue = new Set(Object.entries(DEV_OPTIONS).filter(([, o]) => o.type === 'string').map(([k]) => `--${k}`));
  const mine: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = arg.split('=')[0]!;
    if (!own.has(name) && arg !== '-h') {
      rest.push(arg);
      continue;
    }
    mine.push(arg);
    if (takesValue.has(name) && !arg.includes('=') && i + 1 < argv.length) mine.push(argv[++i]!);
  }
  let values;
  try {
    values = parseArgs({ args: mine, options: DEV_OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.data !== undefined && values.ephemeral) throw new UsageError('give --data or --ephemeral, not both');
  return {
    flags: {
      data: values.data,
      ephemeral: values.ephemeral ?? false,
      port: port('--port', values.port),
      uiPort: port('--ui-port', values['ui-port']),
      pgPort: port('--pg-port', values['pg-port']),
      grpc: (values.grpc ?? false) || values['grpc-port'] !== undefined,
      grpcPort: port('--grpc-port', values['grpc-port']),
      ui: !values['no-ui'],
      json: values.json ?? false,
      help: values.help ?? false,
    },
    rest,
  };
}

/** What runs, stopped in reverse order. */
class Running {
  local?: LocalTasker;
  sql?: SqlClient;
  server?: DevServer;
  worker?: Worker;

  async stop(log: Log): Promise<void> {
    const step = async (what: string, fn: (() => Promise<unknown>) | undefined) => {
      try {
        await fn?.();
      } catch (error) {
        log('warn', `stopping ${what} failed`, { error });
      }
    };
    await step('the worker', this.worker && (() => this.worker!.stop()));
    await step('the page', this.server && (() => this.server!.close()));
    await step('the query process', this.sql && (() => this.sql!.close()));
    await step('the local tasker', this.local && (() => this.local!.stop()));
  }
}

/** Runs `tasker-worker dev`; resolves to the exit code once it has stopped. */
export async function runDev(argv: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  let flags: DevFlags;
  let options: CliOptions;
  try {
    const parsed = parseDevFlags(argv);
    flags = parsed.flags;
    // dev makes the database: a DATABASE_URL of the shell must not redirect the worker.
    options = resolveOptions(parsed.rest, { ...env, DATABASE_URL: undefined });
    if (options.databaseUrl !== undefined) throw new UsageError('dev brings its own database: --database-url does not apply');
    if ((options.handlers.length > 0) !== (options.templates !== undefined)) {
      throw new UsageError('give --handlers and --templates together (or neither, for the local tasker alone)');
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`tasker-worker dev: ${error.message}\nRun tasker-worker dev --help for the options.\n`);
    return ExitCode.USAGE;
  }
  if (flags.help) {
    process.stdout.write(`${DEV_USAGE}\n`);
    return ExitCode.OK;
  }
  const log = createLogger(options.logFormat, options.cliLogLevel);
  const running = new Running();
  const dataDir = flags.ephemeral ? undefined : (flags.data ?? join(process.cwd(), '.tasker'));
  let stopping: Promise<number> | undefined;
  const stopAll = (code: number) => (stopping ??= running.stop(log).then(() => code));
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log('warn', `${signal} again: exiting now (PostgreSQL is stopped by its sentinel)`);
      process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    }
    log('info', `${signal}: stopping the local tasker`, {}, true);
    void stopAll(ExitCode.OK).then((code) => process.exit(code));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    running.local = await startLocalTasker({
      dataDir,
      ports: { postgres: flags.pgPort, orchestration: flags.port },
      messaging: options.messaging,
      rabbitmqUrl: options.rabbitmqUrl,
      grpc: flags.grpc ? (flags.grpcPort ?? true) : false,
      log: (message) => log('debug', message),
    });
    const local = running.local;
    if (flags.ui) {
      running.sql = await SqlClient.start(local.databaseUrl);
      running.server = await startDevServer({ client: local.client!, sql: running.sql, port: flags.uiPort });
    }
    if (options.handlers.length > 0) {
      const config = {
        ...workerConfig(options),
        databaseUrl: local.databaseUrl,
        messagingBackend: local.messaging,
        rabbitmqUrl: local.rabbitmqUrl,
        environment: options.environment ?? 'development',
      };
      const worker = createWorker({ ...options, drainTimeoutMs: Math.min(options.drainTimeoutMs ?? 5000, 5000) }, log, config);
      if (typeof worker === 'number') return await stopAll(worker);
      running.worker = worker;
      const failed = await startWorker(worker, options, log);
      if (failed !== undefined) {
        running.worker = undefined;
        return await stopAll(failed);
      }
    }
    announce(flags, options, running, log);
  } catch (error) {
    // What went wrong and what to do is in the message; a stack would bury it.
    log('error', `cannot start the local tasker: ${error instanceof Error ? error.message : String(error)}`);
    return stopAll(ExitCode.START_FAILED);
  }
  return new Promise<number>(() => {
    // Runs until a signal (onSignal exits the process).
  });
}

function announce(flags: DevFlags, options: CliOptions, running: Running, log: Log): void {
  const local = running.local!;
  const readyMs = Math.round(performance.now());
  const info = {
    databaseUrl: local.databaseUrl,
    messaging: local.messaging,
    rabbitmqUrl: local.rabbitmqUrl,
    orchestrationUrl: local.orchestrationUrl,
    grpcUrl: local.grpcUrl,
    uiUrl: running.server?.url,
    dataDir: local.dataDir,
    ephemeral: local.ephemeral,
    worker: running.worker ? { handlers: options.handlers, templates: options.templates, namespaces: options.namespaces } : undefined,
    pid: process.pid,
    readyMs,
  };
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(info)}\n`);
    return;
  }
  const lines = [
    `tasker-worker dev: a local tasker is up (ready in ${(readyMs / 1000).toFixed(1)} s)`,
    ...(info.uiUrl ? [`  page           ${info.uiUrl}`] : []),
    `  orchestration  ${info.orchestrationUrl}${info.grpcUrl ? `  (gRPC ${info.grpcUrl})` : ''}`,
    `  database       ${info.databaseUrl}`,
    ...(info.rabbitmqUrl ? [`  broker         ${info.rabbitmqUrl} (RabbitMQ)`] : []),
    `  data           ${info.dataDir}${info.ephemeral ? ' (removed at exit)' : ' (kept; --ephemeral for a throwaway one)'}`,
    ...(info.worker ? [`  worker         ${options.handlers.join(', ')} for ${options.templates}`] : ['  worker         none (give --handlers and --templates to run yours here)']),
    'For another shell (a worker, a script using TaskerClient):',
    `  export DATABASE_URL='${info.databaseUrl}'`,
    `  export TASKER_ORCHESTRATION_URL='${info.orchestrationUrl}'`,
    ...(info.rabbitmqUrl ? ['  export TASKER_MESSAGING_BACKEND=rabbitmq', `  export RABBITMQ_URL='${info.rabbitmqUrl}'`] : []),
    'Ctrl-C stops everything.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  log('debug', 'ready', { ...info, worker: undefined });
}
