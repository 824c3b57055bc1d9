/**
 * Running a Worker from the command's options, shared by `tasker-worker`
 * and `tasker-worker dev`: the log lines, the Worker they describe, its
 * start, and which exit code a failure means.
 */
import type { WorkerConfig } from '../index';
import { FfiCallError, FfiLibraryError } from './errors';
import { EventNames } from './events';
import { ExitCode, type CliOptions, type LogLevel } from './cli-options';
import { HandlerValidationError } from './validation';
import { Worker } from './worker';

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3, trace: 4 };

type Fields = Record<string, unknown>;
export type Log = (level: LogLevel, message: string, fields?: Fields, lifecycle?: boolean) => void;

/**
 * One line per entry on stdout: readable text, or JSON objects. Lifecycle
 * lines (started, draining, stopped, check passed) are shown at every
 * threshold but `error`, so a quiet `--log-level warn` still says when the
 * worker is up and when it has stopped.
 */
export function createLogger(format: 'text' | 'json', threshold: LogLevel, write: (line: string) => void = (l) => process.stdout.write(l)): Log {
  return (level, message, fields = {}, lifecycle = false) => {
    const limit = lifecycle && threshold !== 'error' ? Math.max(RANK[threshold], RANK.info) : RANK[threshold];
    if (RANK[level] > limit) return;
    const time = new Date().toISOString();
    if (format === 'json') {
      write(`${JSON.stringify({ time, level, msg: message, ...serializable(fields) })}\n`);
      return;
    }
    const pairs = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(serializableValue(v))}`);
    write(`${time} ${level.toUpperCase().padEnd(5)} ${message}${pairs.length ? `  ${pairs.join(' ')}` : ''}\n`);
  };
}

function serializableValue(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, ...(value instanceof FfiCallError ? { code: value.code } : {}) };
  return value;
}

function serializable(fields: Fields): Fields {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, serializableValue(v)]));
}

export function workerConfig(options: CliOptions): WorkerConfig {
  const config: WorkerConfig = { ...options.worker };
  const set = <K extends keyof WorkerConfig>(key: K, value: WorkerConfig[K] | undefined) => {
    if (value !== undefined) config[key] = value;
  };
  set('databaseUrl', options.databaseUrl);
  set('templatePath', options.templates);
  if (options.namespaces.length > 0) config.namespaces = options.namespaces;
  set('environment', options.environment);
  set('logLevel', options.logLevel);
  set('workerId', options.workerId);
  set('messagingBackend', options.messaging);
  set('rabbitmqUrl', options.rabbitmqUrl);
  set('webBindAddress', options.web);
  return config;
}

/** Which exit code a failure to start means. */
export function startFailureCode(error: unknown): number {
  if (error instanceof HandlerValidationError) return ExitCode.INVALID_SETUP;
  if (error instanceof FfiCallError) return error.code === 'INVALID_ARGUMENT' ? ExitCode.INVALID_SETUP : ExitCode.START_FAILED;
  if (error instanceof FfiLibraryError) return ExitCode.START_FAILED;
  // Handler modules that do not load, a duplicate callable, a resolver's prepare().
  return ExitCode.INVALID_SETUP;
}

/** The Worker the options describe, not started (or the exit code of why there is none). */
export function createWorker(options: CliOptions, log: Log, config: WorkerConfig = workerConfig(options)): Worker | number {
  try {
    return new Worker({
      config,
      handlers: options.handlers,
      concurrency: options.concurrency,
      delivery: options.delivery,
      drainTimeoutMs: options.drainTimeoutMs,
      validateHandlers: options.validate,
      stepLog: (level, message, fields) => log(level, message, fields),
    });
  } catch (error) {
    log('error', 'cannot create the worker', { error });
    return startFailureCode(error);
  }
}

/** Starts the worker and logs its start line; answers the exit code when it cannot start. */
export async function startWorker(worker: Worker, options: CliOptions, log: Log): Promise<number | undefined> {
  worker.events.on(EventNames.HANDLER_ERROR, ({ error, callable, stepUuid }) => log('warn', 'step failed', { callable, step: stepUuid, error }));
  worker.events.on(EventNames.POLLER_ERROR, ({ error }) => log('error', 'taking steps failed', { error }));
  worker.events.on(EventNames.STEP_COMPLETION_SENT, (p) =>
    log('debug', 'step done', { step: p.stepName, callable: p.callable, outcome: p.outcome, ms: Math.round(p.durationMs) }),
  );
  // The namespaces the worker really serves (from its start), not those asked for.
  let served: string[] = [];
  worker.events.on(EventNames.WORKER_STARTED, ({ namespaces }) => (served = namespaces));
  try {
    const started = await worker.start();
    log('info', 'worker started', {
      workerId: started.workerId,
      pid: process.pid,
      namespaces: served.join(','),
      delivery: options.delivery ?? 'push',
      concurrency: worker.concurrency,
      handlers: options.handlers.join(','),
      ...(options.web && options.web !== 'off' ? { health: `http://${options.web}/health`, metrics: `http://${options.web}/metrics` } : {}),
    }, true);
    return undefined;
  } catch (error) {
    const code = startFailureCode(error);
    if (error instanceof HandlerValidationError) log('error', `cannot start: ${error.message}`);
    else log('error', 'cannot start', { error });
    await worker.stop().catch(() => undefined);
    return code;
  }
}

