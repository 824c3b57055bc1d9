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

import { resolveOptions, ExitCode, USAGE, UsageError, type CliOptions } from './cli-options';
import { createLogger, createWorker, startFailureCode, startWorker, type Log } from './cli-worker';
import { runDev } from './dev/command';
import { describeMissing } from './validation';
import type { Worker } from './worker';

// The command's helpers, also for tests (they import them from here).
export { createLogger } from './cli-worker';

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Runs the command; resolves to the exit code (the process keeps running while a worker serves). */
export async function main(argv: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  if (argv[0] === 'dev') return runDev(argv.slice(1), env);
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
  const worker = createWorker(options, log);
  if (typeof worker === 'number') return worker;
  if (options.check) return check(worker, options, log);
  const failed = await startWorker(worker, options, log);
  return failed ?? serve(worker, log);
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
