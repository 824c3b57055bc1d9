/**
 * The `tasker-worker` command's options: flags, then environment variables,
 * then an optional JSON config file, then defaults. Pure functions, so the
 * precedence and every error message are testable without a process.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import type { WorkerConfig } from '../index';

/** Exit codes of `tasker-worker` (also in its --help and the README). */
export const ExitCode = {
  /** `--check` passed, or the worker drained and stopped after SIGTERM/SIGINT. */
  OK: 0,
  /** The worker failed while running. */
  FAILURE: 1,
  /** Bad command line, environment value or config file. */
  USAGE: 2,
  /** Handlers or templates are wrong: a missing handler, a broken template, a handler module that does not load. */
  INVALID_SETUP: 3,
  /** The worker could not start: database unreachable, bootstrap failed, native module missing. */
  START_FAILED: 4,
} as const;

export type LogFormat = 'text' | 'json';
export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';

export interface CliOptions {
  handlers: string[];
  templates?: string;
  namespaces: string[];
  databaseUrl?: string;
  concurrency?: number;
  delivery?: 'push' | 'poll';
  drainTimeoutMs?: number;
  /** `ip:port` for tasker's worker web API (/health, /metrics, ...). */
  web?: string;
  /** As given: a level or a RUST_LOG-style filter (also the native worker's). */
  logLevel?: string;
  /** The level of this command's own lines. */
  cliLogLevel: LogLevel;
  logFormat: LogFormat;
  workerId?: string;
  environment?: string;
  /** tasker's messaging backend, as the orchestration's. */
  messaging?: 'pgmq' | 'rabbitmq';
  /** The broker, with `messaging: 'rabbitmq'`. */
  rabbitmqUrl?: string;
  validate: boolean;
  check: boolean;
  help: boolean;
  version: boolean;
  /** Further WorkerConfig fields from the config file's `worker` object. */
  worker: WorkerConfig;
  /** The config file read, if any. */
  configFile?: string;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const USAGE = `Usage: tasker-worker --handlers <folder|module> --templates <folder> [options]

Runs TypeScript/JavaScript step handlers as a tasker-core worker.

  --handlers <path>        handler modules: a folder (searched recursively) or a file;
                           callable 'orders.validate' is export 'validate' of orders.js
                           (repeatable; env TASKER_HANDLERS, comma-separated)
  --templates <folder>     task template YAML files (env TASKER_TEMPLATE_PATH)
  --namespace <name>       a namespace to serve (repeatable; env TASKER_NAMESPACES);
                           default: every namespace of the templates
  --database-url <url>     postgresql://user:password@host:port/db (env DATABASE_URL)
  --concurrency <n>        handlers at once, 1-10000 (env TASKER_CONCURRENCY; default 10)
  --delivery push|poll     how steps reach the handlers (env TASKER_DELIVERY; default push)
  --drain-timeout <ms>     on SIGTERM/SIGINT, how long running handlers may finish
                           (env TASKER_DRAIN_TIMEOUT_MS; default 30000)
  --web <ip:port>          serve tasker's worker API: /health, /health/ready, /metrics, ...
                           (env TASKER_WEB_BIND_ADDRESS; default off)
  --log-level <level>      off, error, warn, info, debug, trace, or a RUST_LOG filter
                           (env TASKER_LOG_LEVEL; default info here, warn in the native worker);
                           start, drain and stop lines show at every level but error and off
  --log-format text|json   (env TASKER_LOG_FORMAT; default text)
  --worker-id <id>         (env TASKER_WORKER_ID)
  --messaging pgmq|rabbitmq  tasker's messaging backend, as the orchestration's
                           (env TASKER_MESSAGING_BACKEND; default pgmq)
  --rabbitmq-url <url>     amqp://user:password@host:port/vhost, with rabbitmq (env RABBITMQ_URL)
  --environment <env>      test, development or production (env TASKER_ENV)
  --no-validate            do not check at start that every template step has a handler
                           (env TASKER_VALIDATE_HANDLERS=false); for workers sharing namespaces
  --config <file>          a JSON file with any of these settings (env TASKER_WORKER_CONFIG)
  --check                  check templates against handlers, print the result and exit
  --help, --version

Exit codes: 0 done (check passed, or drained after SIGTERM/SIGINT), 1 failed while running,
2 usage error, 3 handlers or templates wrong, 4 could not start (database, bootstrap).`;

const LEVELS: LogLevel[] = ['error', 'warn', 'info', 'debug', 'trace'];

/** The settings a config file may hold. */
const FILE_KEYS = [
  'handlers', 'templates', 'namespace', 'namespaces', 'databaseUrl', 'concurrency', 'delivery', 'drainTimeoutMs',
  'web', 'logLevel', 'logFormat', 'workerId', 'environment', 'messaging', 'rabbitmqUrl', 'validate', 'worker',
] as const;

type Settings = Partial<Omit<CliOptions, 'cliLogLevel' | 'check' | 'help' | 'version' | 'worker' | 'configFile' | 'handlers' | 'namespaces'>> & {
  handlers?: string[];
  namespaces?: string[];
  config?: string;
  check?: boolean;
  help?: boolean;
  version?: boolean;
  worker?: WorkerConfig;
};

/** The command line's settings. */
export function parseFlags(argv: string[]): Settings {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        handlers: { type: 'string', multiple: true },
        templates: { type: 'string' },
        namespace: { type: 'string', multiple: true },
        'database-url': { type: 'string' },
        concurrency: { type: 'string' },
        delivery: { type: 'string' },
        'drain-timeout': { type: 'string' },
        web: { type: 'string' },
        'log-level': { type: 'string' },
        'log-format': { type: 'string' },
        'worker-id': { type: 'string' },
        messaging: { type: 'string' },
        'rabbitmq-url': { type: 'string' },
        environment: { type: 'string' },
        'no-validate': { type: 'boolean' },
        config: { type: 'string' },
        check: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const v = parsed.values;
  const settings: Settings = {};
  if (v.handlers) settings.handlers = v.handlers.flatMap(splitList);
  if (v.templates !== undefined) settings.templates = v.templates;
  if (v.namespace) settings.namespaces = v.namespace.flatMap(splitList);
  if (v['database-url'] !== undefined) settings.databaseUrl = v['database-url'];
  if (v.concurrency !== undefined) settings.concurrency = integer('--concurrency', v.concurrency, 1, 10000);
  if (v.delivery !== undefined) settings.delivery = oneOf('--delivery', v.delivery, ['push', 'poll'] as const);
  if (v['drain-timeout'] !== undefined) settings.drainTimeoutMs = integer('--drain-timeout', v['drain-timeout'], 0, 86_400_000);
  if (v.web !== undefined) settings.web = address('--web', v.web);
  if (v['log-level'] !== undefined) settings.logLevel = logLevel('--log-level', v['log-level']);
  if (v['log-format'] !== undefined) settings.logFormat = oneOf('--log-format', v['log-format'], ['text', 'json'] as const);
  if (v['worker-id'] !== undefined) settings.workerId = v['worker-id'];
  if (v.messaging !== undefined) settings.messaging = oneOf('--messaging', v.messaging, ['pgmq', 'rabbitmq'] as const);
  if (v['rabbitmq-url'] !== undefined) settings.rabbitmqUrl = v['rabbitmq-url'];
  if (v.environment !== undefined) settings.environment = v.environment;
  if (v['no-validate']) settings.validate = false;
  if (v.config !== undefined) settings.config = v.config;
  if (v.check) settings.check = true;
  if (v.help) settings.help = true;
  if (v.version) settings.version = true;
  return settings;
}

/** The environment's settings. */
export function settingsFromEnv(env: Record<string, string | undefined>): Settings {
  const settings: Settings = {};
  const get = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  let value: string | undefined;
  if ((value = get('TASKER_HANDLERS'))) settings.handlers = splitList(value);
  if ((value = get('TASKER_TEMPLATE_PATH'))) settings.templates = value;
  if ((value = get('TASKER_NAMESPACES'))) settings.namespaces = splitList(value);
  if ((value = get('DATABASE_URL'))) settings.databaseUrl = value;
  if ((value = get('TASKER_CONCURRENCY'))) settings.concurrency = integer('TASKER_CONCURRENCY', value, 1, 10000);
  if ((value = get('TASKER_DELIVERY'))) settings.delivery = oneOf('TASKER_DELIVERY', value, ['push', 'poll'] as const);
  if ((value = get('TASKER_DRAIN_TIMEOUT_MS'))) settings.drainTimeoutMs = integer('TASKER_DRAIN_TIMEOUT_MS', value, 0, 86_400_000);
  if ((value = get('TASKER_WEB_BIND_ADDRESS'))) settings.web = address('TASKER_WEB_BIND_ADDRESS', value);
  if ((value = get('TASKER_LOG_LEVEL'))) settings.logLevel = logLevel('TASKER_LOG_LEVEL', value);
  if ((value = get('TASKER_LOG_FORMAT'))) settings.logFormat = oneOf('TASKER_LOG_FORMAT', value, ['text', 'json'] as const);
  if ((value = get('TASKER_WORKER_ID'))) settings.workerId = value;
  if ((value = get('TASKER_MESSAGING_BACKEND'))) settings.messaging = oneOf('TASKER_MESSAGING_BACKEND', value, ['pgmq', 'rabbitmq'] as const);
  if ((value = get('RABBITMQ_URL'))) settings.rabbitmqUrl = value;
  if ((value = get('TASKER_ENV'))) settings.environment = value;
  if ((value = get('TASKER_VALIDATE_HANDLERS'))) settings.validate = oneOf('TASKER_VALIDATE_HANDLERS', value, ['true', 'false'] as const) === 'true';
  if ((value = get('TASKER_WORKER_CONFIG'))) settings.config = value;
  return settings;
}

/** A config file's settings; relative paths in it are relative to the file. */
export function settingsFromFile(file: string, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): Settings {
  let text: string;
  try {
    text = read(file);
  } catch (error) {
    throw new UsageError(`cannot read the config file ${file}: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`the config file ${file} is not JSON: ${(error as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new UsageError(`the config file ${file} must hold a JSON object`);
  const raw = data as Record<string, unknown>;
  const unknown = Object.keys(raw).filter((k) => !(FILE_KEYS as readonly string[]).includes(k));
  if (unknown.length > 0) throw new UsageError(`the config file ${file} has unknown settings: ${unknown.join(', ')} (known: ${FILE_KEYS.join(', ')})`);
  const at = (key: string) => `${file}: ${key}`;
  const base = dirname(resolve(file));
  const path = (key: string, value: unknown) => resolve(base, text_(at(key), value));
  const settings: Settings = {};
  if (raw.handlers !== undefined) settings.handlers = (Array.isArray(raw.handlers) ? raw.handlers : [raw.handlers]).map((h) => path('handlers', h));
  if (raw.templates !== undefined) settings.templates = path('templates', raw.templates);
  const namespaces = [
    ...(raw.namespace !== undefined ? [text_(at('namespace'), raw.namespace)] : []),
    ...(raw.namespaces !== undefined ? list(at('namespaces'), raw.namespaces) : []),
  ];
  if (namespaces.length > 0) settings.namespaces = namespaces;
  if (raw.databaseUrl !== undefined) settings.databaseUrl = text_(at('databaseUrl'), raw.databaseUrl);
  if (raw.concurrency !== undefined) settings.concurrency = integer(at('concurrency'), raw.concurrency, 1, 10000);
  if (raw.delivery !== undefined) settings.delivery = oneOf(at('delivery'), raw.delivery, ['push', 'poll'] as const);
  if (raw.drainTimeoutMs !== undefined) settings.drainTimeoutMs = integer(at('drainTimeoutMs'), raw.drainTimeoutMs, 0, 86_400_000);
  if (raw.web !== undefined) settings.web = address(at('web'), raw.web);
  if (raw.logLevel !== undefined) settings.logLevel = logLevel(at('logLevel'), raw.logLevel);
  if (raw.logFormat !== undefined) settings.logFormat = oneOf(at('logFormat'), raw.logFormat, ['text', 'json'] as const);
  if (raw.workerId !== undefined) settings.workerId = text_(at('workerId'), raw.workerId);
  if (raw.messaging !== undefined) settings.messaging = oneOf(at('messaging'), raw.messaging, ['pgmq', 'rabbitmq'] as const);
  if (raw.rabbitmqUrl !== undefined) settings.rabbitmqUrl = text_(at('rabbitmqUrl'), raw.rabbitmqUrl);
  if (raw.environment !== undefined) settings.environment = text_(at('environment'), raw.environment);
  if (raw.validate !== undefined) {
    if (typeof raw.validate !== 'boolean') throw new UsageError(`${at('validate')} must be true or false`);
    settings.validate = raw.validate;
  }
  if (raw.worker !== undefined) {
    if (typeof raw.worker !== 'object' || raw.worker === null || Array.isArray(raw.worker)) {
      throw new UsageError(`${at('worker')} must be an object of WorkerConfig fields (databaseMaxConnections, dispatch, recovery, ...)`);
    }
    settings.worker = raw.worker as WorkerConfig;
  }
  return settings;
}

/**
 * Every setting, by precedence: flags, environment, config file (named by
 * `--config` or TASKER_WORKER_CONFIG), defaults.
 */
export function resolveOptions(argv: string[], env: Record<string, string | undefined>, readFile?: (path: string) => string): CliOptions {
  const flags = parseFlags(argv);
  const fromEnv = settingsFromEnv(env);
  const configFile = flags.config ?? fromEnv.config;
  const fromFile = configFile !== undefined ? settingsFromFile(configFile, readFile) : {};
  const pick = <K extends keyof Settings>(key: K): Settings[K] => flags[key] ?? fromEnv[key] ?? fromFile[key];
  const logLevelSetting = pick('logLevel');
  const bare = logLevelSetting?.split(',')[0]?.trim();
  const cliLogLevel = bare === 'off' ? 'error' : LEVELS.includes(bare as LogLevel) ? (bare as LogLevel) : 'info';
  return {
    handlers: pick('handlers') ?? [],
    templates: pick('templates'),
    namespaces: pick('namespaces') ?? [],
    databaseUrl: pick('databaseUrl'),
    concurrency: pick('concurrency'),
    delivery: pick('delivery'),
    drainTimeoutMs: pick('drainTimeoutMs'),
    web: pick('web'),
    logLevel: logLevelSetting,
    cliLogLevel,
    logFormat: pick('logFormat') ?? 'text',
    workerId: pick('workerId'),
    messaging: pick('messaging'),
    rabbitmqUrl: pick('rabbitmqUrl'),
    environment: pick('environment'),
    validate: pick('validate') ?? true,
    check: flags.check ?? false,
    help: flags.help ?? false,
    version: flags.version ?? false,
    worker: fromFile.worker ?? {},
    configFile,
  };
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function text_(where: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`${where} must be a non-empty string`);
  return value;
}

function list(where: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v !== '')) throw new UsageError(`${where} must be an array of names`);
  return value as string[];
}

function integer(where: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${where}: ${JSON.stringify(value)} is not a whole number from ${min} to ${max}`);
  }
  return n;
}

function oneOf<T extends string>(where: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new UsageError(`${where}: ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function address(where: string, value: unknown): string {
  if (typeof value !== 'string' || !(value === 'off' || /^(\[[0-9a-fA-F:.]+\]|[^\s:]+):\d{1,5}$/.test(value))) {
    throw new UsageError(`${where}: ${JSON.stringify(value)} is not an address such as 127.0.0.1:8081 (or 'off')`);
  }
  return value;
}

function logLevel(where: string, value: unknown): string {
  const levels = ['off', ...LEVELS].join(', ');
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`${where}: give a level (${levels}) or a filter such as warn,tasker_worker=info`);
  const isFilter = value.includes('=') || value.includes(',');
  if (!isFilter && value !== 'off' && !LEVELS.includes(value as LogLevel)) {
    throw new UsageError(`${where}: '${value}' is not a level (${levels}) or a filter such as warn,tasker_worker=info`);
  }
  return value;
}
