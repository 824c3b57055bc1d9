#!/usr/bin/env node
/**
 * `tasker-worker`: runs handler modules as a tasker-core worker without a
 * bootstrap program. Loads handlers from folders or modules and templates
 * from a folder, takes its configuration from flags, the environment and an
 * optional JSON file, can serve tasker's worker web API (health, metrics),
 * drains on SIGTERM/SIGINT, and with `--check` only validates.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { WorkerConfig } from '../index';
import { FfiCallError, FfiLibraryError } from './errors';
import { EventNames } from './events';
import { resolveOptions, ExitCode, USAGE, UsageError, type CliOptions, type LogLevel } from './cli-options';
import { HandlerValidationError, describeMissing } from './validation';
import { Worker } from './worker';

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3, trace: 4 };

type Fields = Record<string, unknown>;
type Log = (level: LogLevel, message: string, fields?: Fields, lifecycle?: boolean) => void;

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

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function workerConfig(options: CliOptions): WorkerConfig {
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
  set('webBindAddress', options.web);
  return config;
}

/** Which exit code a failure to start means. */
function startFailureCode(error: unknown): number {
  if (error instanceof HandlerValidationError) return ExitCode.INVALID_SETUP;
  if (error instanceof FfiCallError) return error.code === 'INVALID_ARGUMENT' ? ExitCode.INVALID_SETUP : ExitCode.START_FAILED;
  if (error instanceof FfiLibraryError) return ExitCode.START_FAILED;
  // Handler modules that do not load, a duplicate callable, a resolver's prepare().
  return ExitCode.INVALID_SETUP;
}

/** Runs the command; resolves to the exit code (the process keeps running while a worker serves). */
export async function main(argv: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  let options: CliOptions;
  try {
    options = resolveOptions(argv, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`tasker-worker: ${error.message}\nRun tasker-worker --help for the options.\n`);
    return ExitCode.USAGE;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return ExitCode.OK;
  }
  if (options.version) {
    process.stdout.write(`${packageVersion()}\n`);
    return ExitCode.OK;
  }
  const missing = [options.handlers.length === 0 && '--handlers (or TASKER_HANDLERS)', !options.templates && '--templates (or TASKER_TEMPLATE_PATH)'].filter(Boolean);
  if (missing.length > 0) {
    process.stderr.write(`tasker-worker: give ${missing.join(' and ')}\nRun tasker-worker --help for the options.\n`);
    return ExitCode.USAGE;
  }
  const log = createLogger(options.logFormat, options.cliLogLevel);

  let worker: Worker;
  try {
    worker = new Worker({
      config: workerConfig(options),
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

  if (options.check) return check(worker, options, log);

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
  } catch (error) {
    const code = startFailureCode(error);
    if (error instanceof HandlerValidationError) log('error', `cannot start: ${error.message}`);
    else log('error', 'cannot start', { error });
    await worker.stop().catch(() => undefined);
    return code;
  }
  return serve(worker, log);
}

async function check(worker: Worker, options: CliOptions, log: Log): Promise<number> {
  try {
    const report = await worker.validate();
    for (const note of report.notes) log(note.level, note.message, { template: note.template, step: note.step, file: note.file });
    if (report.missing.length > 0) {
      log('error', `check failed: ${describeMissing(report.missing)}`);
      return ExitCode.INVALID_SETUP;
    }
    log('info', 'check passed: every template step has a handler', {
      templates: report.templates.length,
      steps: report.steps,
      namespaces: report.namespaces.length > 0 ? report.namespaces.join(',') : [...new Set(report.templates.map((t) => t.namespace))].join(','),
      handlers: options.handlers.join(','),
    }, true);
    if (report.templates.length === 0) {
      log('warn', 'no template of the served namespaces was found', { templates: options.templates });
      return ExitCode.INVALID_SETUP;
    }
    return ExitCode.OK;
  } catch (error) {
    log('error', 'check failed', { error });
    return startFailureCode(error);
  }
}

/** Serves until SIGTERM/SIGINT (drains, exit 0) or a failure (exit 1); a second signal exits at once. */
function serve(worker: Worker, log: Log): Promise<number> {
  return new Promise((resolve) => {
    let draining = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (draining) {
        log('warn', `${signal} again: exiting without finishing the drain`, { inFlight: worker.inFlight });
        resolve(128 + (signal === 'SIGINT' ? 2 : 15));
        return;
      }
      draining = true;
      log('info', `${signal}: draining`, { inFlight: worker.inFlight }, true);
      worker.stop().then(
        (summary) => {
          log('info', 'worker stopped', { ...summary }, true);
          resolve(ExitCode.OK);
        },
        (error: unknown) => {
          log('error', 'stopping failed', { error });
          resolve(ExitCode.FAILURE);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    const fail = (what: string) => (error: unknown) => {
      log('error', what, { error });
      if (draining) return;
      draining = true;
      void worker.stop().finally(() => resolve(ExitCode.FAILURE));
    };
    process.on('uncaughtException', fail('uncaught exception'));
    process.on('unhandledRejection', fail('unhandled rejection'));
  });
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`tasker-worker: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(ExitCode.FAILURE);
    },
  );
}
