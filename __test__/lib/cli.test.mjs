// The tasker-worker command without a database: its options (flags over
// environment over config file), its log formats, and as a process: help,
// usage errors, and --check against real templates and handler modules
// (the addon reads the templates; nothing is started).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import { prepareTemplates, uniqueNamespace } from '../../devenv/environment.mjs';
import { runtimeName } from '../helpers/environment.mjs';

const require = createRequire(import.meta.url);
const root = new URL('../../', import.meta.url).pathname;
const { resolveOptions, UsageError, ExitCode } = require('../../dist/cli-options.js');
const { createLogger } = require('../../dist/cli.js');
const CLI = join(root, 'dist/cli.js');
const GUIDE_HANDLERS = join(root, 'examples/guide/handlers');

const cleanup = [];
after(() => cleanup.forEach((f) => f()));
function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'wt-cli-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs the command in this runtime (node or bun), without inheriting DATABASE_URL & co. */
function cli(args, env = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    timeout: 60000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const pick = (options) => [options.messaging, options.rabbitmqUrl];

describe('options', () => {
  test('flags win over the environment, which wins over the config file', () => {
    const dir = tempDir();
    const file = join(dir, 'worker.json');
    writeFileSync(
      file,
      JSON.stringify({ handlers: ['./handlers'], templates: 'tpl', namespace: 'a', namespaces: ['b'], concurrency: 3, delivery: 'poll', web: '127.0.0.1:9000', validate: false, worker: { databaseMaxConnections: 4 } }),
    );
    const fromFile = resolveOptions(['--config', file], {});
    assert.deepEqual(fromFile.handlers, [join(dir, 'handlers')], 'relative to the config file');
    assert.equal(fromFile.templates, join(dir, 'tpl'));
    assert.deepEqual(fromFile.namespaces, ['a', 'b']);
    assert.equal(fromFile.concurrency, 3);
    assert.equal(fromFile.validate, false);
    assert.deepEqual(fromFile.worker, { databaseMaxConnections: 4 });
    const env = { TASKER_WORKER_CONFIG: file, TASKER_CONCURRENCY: '5', TASKER_NAMESPACES: 'x, y', TASKER_LOG_FORMAT: 'json', TASKER_VALIDATE_HANDLERS: 'true' };
    const fromEnv = resolveOptions([], env);
    assert.equal(fromEnv.configFile, file);
    assert.equal(fromEnv.concurrency, 5);
    assert.deepEqual(fromEnv.namespaces, ['x', 'y']);
    assert.equal(fromEnv.logFormat, 'json');
    assert.equal(fromEnv.validate, true);
    assert.equal(fromEnv.delivery, 'poll', 'still from the file');
    const fromFlags = resolveOptions(['--concurrency', '9', '--namespace', 'z', '--handlers', 'h1,h2', '--no-validate', '--web', 'off'], env);
    assert.equal(fromFlags.concurrency, 9);
    assert.deepEqual(fromFlags.namespaces, ['z']);
    assert.deepEqual(fromFlags.handlers, ['h1', 'h2']);
    assert.equal(fromFlags.validate, false);
    assert.equal(fromFlags.web, 'off');
  });

  test('defaults, and the log level shared with the native worker', () => {
    const o = resolveOptions([], {});
    assert.deepEqual([o.handlers, o.namespaces, o.logFormat, o.cliLogLevel, o.validate, o.check, o.logLevel], [[], [], 'text', 'info', true, false, undefined]);
    assert.equal(resolveOptions(['--log-level', 'debug'], {}).cliLogLevel, 'debug');
    const filter = resolveOptions(['--log-level', 'warn,tasker_worker=debug'], {});
    assert.equal(filter.logLevel, 'warn,tasker_worker=debug');
    assert.equal(filter.cliLogLevel, 'warn');
    assert.equal(resolveOptions([], { TASKER_LOG_LEVEL: 'error' }).cliLogLevel, 'error');
    const off = resolveOptions(['--log-level', 'off'], {});
    assert.deepEqual([off.logLevel, off.cliLogLevel], ['off', 'error'], 'the native worker silent, this command only its errors');
  });

  test('the messaging backend: flag, environment or config file', () => {
    assert.equal(resolveOptions([], {}).messaging, undefined, "the addon's default (pgmq) applies");
    const env = { TASKER_MESSAGING_BACKEND: 'rabbitmq', RABBITMQ_URL: 'amqp://g:g@127.0.0.1:1/%2F' };
    assert.deepEqual(pick(resolveOptions([], env)), ['rabbitmq', 'amqp://g:g@127.0.0.1:1/%2F']);
    assert.deepEqual(pick(resolveOptions(['--messaging', 'pgmq'], env)), ['pgmq', 'amqp://g:g@127.0.0.1:1/%2F'], 'the flag wins');
    const file = join(tempDir(), 'worker.json');
    writeFileSync(file, JSON.stringify({ messaging: 'rabbitmq', rabbitmqUrl: 'amqp://h/%2F' }));
    assert.deepEqual(pick(resolveOptions(['--config', file, '--rabbitmq-url', 'amqp://other/%2F'], {})), ['rabbitmq', 'amqp://other/%2F']);
  });

  test('every bad value is a usage error that names it', () => {
    const bad = (argv, env, pattern) => assert.throws(() => resolveOptions(argv, env ?? {}), (e) => e instanceof UsageError && pattern.test(e.message));
    bad(['--nope'], null, /Unknown option '--nope'/);
    bad(['stray'], null, /positional argument/);
    bad(['--concurrency', '0'], null, /--concurrency: "0" is not a whole number from 1 to 10000/);
    bad(['--concurrency', '2.5'], null, /--concurrency/);
    bad(['--delivery', 'carrier-pigeon'], null, /--delivery: "carrier-pigeon" is not one of push, poll/);
    bad(['--web', 'localhost'], null, /--web: "localhost" is not an address such as 127\.0\.0\.1:8081/);
    bad(['--log-level', 'loud'], null, /'loud' is not a level/);
    bad(['--log-format', 'xml'], null, /--log-format: "xml" is not one of text, json/);
    bad(['--drain-timeout', '-1'], null, /--drain-timeout/);
    bad([], { TASKER_CONCURRENCY: 'many' }, /TASKER_CONCURRENCY: "many"/);
    bad([], { TASKER_VALIDATE_HANDLERS: 'yes' }, /TASKER_VALIDATE_HANDLERS: "yes" is not one of true, false/);
    bad(['--messaging', 'kafka'], null, /--messaging: "kafka" is not one of pgmq, rabbitmq/);
    bad([], { TASKER_MESSAGING_BACKEND: 'sqs' }, /TASKER_MESSAGING_BACKEND: "sqs" is not one of pgmq, rabbitmq/);
    const dir = tempDir();
    const write = (text) => {
      const file = join(dir, `c${Math.random()}.json`);
      writeFileSync(file, text);
      return file;
    };
    bad(['--config', join(dir, 'missing.json')], null, /cannot read the config file .*missing\.json/);
    bad(['--config', write('{ nope')], null, /is not JSON/);
    bad(['--config', write('[1]')], null, /must hold a JSON object/);
    bad(['--config', write('{"concurency": 3}')], null, /unknown settings: concurency \(known: handlers, templates/);
    bad(['--config', write('{"validate": "no"}')], null, /validate must be true or false/);
    bad(['--config', write('{"namespaces": "a"}')], null, /namespaces must be an array of names/);
    bad(['--config', write('{"worker": []}')], null, /worker must be an object of WorkerConfig fields/);
  });
});

describe('logs', () => {
  test('text for people, JSON objects when asked, below the threshold nothing', () => {
    const lines = [];
    const text = createLogger('text', 'info', (l) => lines.push(l));
    text('info', 'worker started', { workerId: 'w-1', namespaces: 'a b', n: 3, missing: undefined });
    text('debug', 'hidden');
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^\d{4}-\d\d-\d\dT[\d:.]+Z INFO  worker started {2}workerId=w-1 namespaces="a b" n=3\n$/);
    const json = createLogger('json', 'debug', (l) => lines.push(l));
    json('warn', 'step failed', { error: Object.assign(new Error('boom'), { name: 'RetryableError' }) });
    const entry = JSON.parse(lines[1]);
    assert.equal(entry.level, 'warn');
    assert.equal(entry.msg, 'step failed');
    assert.deepEqual(entry.error, { name: 'RetryableError', message: 'boom' });
    assert.ok(!Number.isNaN(Date.parse(entry.time)));
  });

  test('lifecycle lines show at warn, not at error', () => {
    const lines = [];
    const quiet = createLogger('text', 'warn', (l) => lines.push(l));
    quiet('info', 'worker started', { workerId: 'w-1' }, true);
    quiet('info', 'an ordinary info line');
    assert.equal(lines.length, 1);
    assert.match(lines[0], / INFO  worker started {2}workerId=w-1\n$/);
    const silent = createLogger('text', 'error', (l) => lines.push(l));
    silent('info', 'worker started', {}, true);
    silent('error', 'cannot start');
    assert.equal(lines.length, 2);
    assert.match(lines[1], / ERROR cannot start\n$/);
  });
});

describe('the command', () => {
  test('the package ships it as its bin, executable, with a shebang', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    assert.equal(pkg.bin['tasker-worker'], 'dist/cli.js');
    assert.ok(pkg.files.includes('dist/'), 'dist/ is packed');
    assert.ok(readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n'));
    assert.ok(statSync(CLI).mode & 0o111, 'executable');
  });

  test('--help, --version, and usage errors (exit 2)', () => {
    const help = cli(['--help']);
    assert.equal(help.code, ExitCode.OK);
    assert.match(help.stdout, /Usage: tasker-worker --handlers <folder\|module> --templates <folder>/);
    assert.match(help.stdout, /Exit codes: 0 done/);
    const version = cli(['--version']);
    assert.equal(version.stdout.trim(), JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
    const unknown = cli(['--handler', 'x']);
    assert.equal(unknown.code, ExitCode.USAGE);
    assert.match(unknown.stderr, /Unknown option '--handler'.*\nRun tasker-worker --help/);
    // Empty values: Deno's child_process adds the parent's environment to `env`.
    const nothing = cli([], { TASKER_HANDLERS: '', TASKER_TEMPLATE_PATH: '' });
    assert.equal(nothing.code, ExitCode.USAGE);
    assert.match(nothing.stderr, /give --handlers \(or TASKER_HANDLERS\) and --templates \(or TASKER_TEMPLATE_PATH\)/);
  });

  test('--check: templates against handler modules, exit 0 or 3 with the list', () => {
    const templates = prepareTemplates(uniqueNamespace(`cli_check_${runtimeName}`), undefined, { only: ['guide_checkout', 'guide_shipping', 'guide_inventory', 'guide_rates'] });
    cleanup.push(templates.remove);
    const ok = cli(['--check', '--handlers', GUIDE_HANDLERS, '--templates', templates.path]);
    assert.equal(ok.code, ExitCode.OK, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /INFO {2}check passed: every template step has a handler {2}templates=4 steps=13/);
    const partial = tempDir();
    writeFileSync(join(partial, 'orders.mjs'), 'export const validate = () => 1;\nexport class Other {}\n');
    const missing = cli(['--check', '--handlers', partial, '--templates', templates.path, '--log-format', 'json']);
    assert.equal(missing.code, ExitCode.INVALID_SETUP);
    const entry = JSON.parse(missing.stdout.trim().split('\n').at(-1));
    assert.equal(entry.level, 'error');
    assert.match(entry.msg, /^check failed: 12 template steps have no handler:/);
    assert.match(entry.msg, /step 'price_order' .*no handler for 'orders\.price'/);
    assert.match(entry.msg, /--no-validate/);
    const otherNamespace = cli(['--check', '--handlers', GUIDE_HANDLERS, '--templates', templates.path, '--namespace', 'nobody_here']);
    assert.equal(otherNamespace.code, ExitCode.INVALID_SETUP);
    assert.match(otherNamespace.stdout, /no template of the served namespaces was found/);
  });

  test('--check: a broken template, a handler module that does not load (exit 3)', () => {
    const broken = tempDir();
    writeFileSync(join(broken, 'bad.yaml'), 'name: bad\nnamespace_name: x\nversion: 1.0.0\nsteps:\n  - name: [oops\n');
    const yaml = cli(['--check', '--handlers', GUIDE_HANDLERS, '--templates', broken]);
    assert.equal(yaml.code, ExitCode.INVALID_SETUP);
    assert.match(yaml.stdout, /bad\.yaml is not a valid task template.*line 5/);
    const modules = tempDir();
    writeFileSync(join(modules, 'orders.mjs'), 'export const = ;');
    const load = cli(['--check', '--handlers', modules, '--templates', broken]);
    assert.equal(load.code, ExitCode.INVALID_SETUP);
    assert.match(load.stdout, /cannot load handler module .*orders\.mjs/);
    const nowhere = cli(['--check', '--handlers', join(modules, 'nope'), '--templates', broken]);
    assert.equal(nowhere.code, ExitCode.INVALID_SETUP);
    assert.match(nowhere.stdout, /nope does not exist/);
  });
});
