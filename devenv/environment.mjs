// The whole local environment in one call: PostgreSQL with pgmq and tasker's
// schema, and the orchestration server. Everything it starts, stop() stops;
// Ctrl-C and SIGTERM stop it too, and a sentinel cleans up after a kill.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DevTaskerClient } from './client.mjs';
import { setupDatabase, startOrchestration } from './orchestration.mjs';
import { startPostgres } from './postgres.mjs';
import { removeDir } from './processes.mjs';

export const TEMPLATES_DIR = new URL('./templates/', import.meta.url);

/** Namespaces `prepareTemplates` made in this process: what a test run leaves tasks in. */
export const preparedNamespaces = new Set();

/**
 * Copies the task templates into a fresh folder with their namespace set to
 * `namespace`, so each suite (and each runtime) has queues of its own.
 * `only` lists the files to copy (names without .yaml); default: all.
 */
export function prepareTemplates(namespace, source = TEMPLATES_DIR, { only } = {}) {
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(namespace)) throw new Error(`'${namespace}' is not a namespace (a-z, 0-9, _)`);
  const files = readdirSync(source).filter((name) => name.endsWith('.yaml'));
  for (const name of only ?? []) {
    if (!files.includes(`${name}.yaml`)) throw new Error(`no template file ${name}.yaml in ${source}`);
  }
  preparedNamespaces.add(namespace);
  const dir = mkdtempSync(join(tmpdir(), 'tasker-env-templates-'));
  for (const name of files) {
    if (only && !only.includes(name.slice(0, -'.yaml'.length))) continue;
    const text = readFileSync(new URL(name, source), 'utf8').replaceAll('{{namespace}}', namespace);
    writeFileSync(join(dir, name), text);
  }
  return { path: dir, namespace, remove: () => removeDir(dir) };
}

/** A namespace no earlier run used: `<prefix>_<random>`. */
export function uniqueNamespace(prefix) {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/**
 * Starts PostgreSQL (and, unless `orchestration: false`, the orchestration
 * server). Resolves to { databaseUrl, adminUrl, orchestrationUrl, client,
 * stopDatabase, startDatabase, stop }.
 */
export async function startEnvironment({ orchestration = true, log = () => {}, logLevel = 'warn', grpc = false, apiKeys = [] } = {}) {
  const started = [];
  const stop = async () => {
    while (started.length) await started.pop()();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  const onSignal = (signal) => {
    stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const pg = await startPostgres({ log });
    started.push(pg.stop);
    const password = randomBytes(12).toString('hex');
    const databaseUrl = `postgresql://tasker:${password}@127.0.0.1:${pg.port}/tasker`;
    await setupDatabase(pg.adminUrl, databaseUrl);
    log('database ready: pgmq installed, tasker migrations applied');
    let orchestrationUrl;
    let grpcUrl;
    let orchestrationLogs = () => '';
    if (orchestration) {
      const orch = await startOrchestration(databaseUrl, { log, logLevel, grpc, apiKeys });
      started.push(orch.stop);
      orchestrationUrl = orch.url;
      grpcUrl = orch.grpcUrl;
      orchestrationLogs = orch.logs;
    }
    return {
      databaseUrl,
      adminUrl: pg.adminUrl,
      // Stop and start the database server (same port and data): outage tests.
      stopDatabase: pg.stopServer,
      startDatabase: pg.startServer,
      orchestrationUrl,
      grpcUrl,
      // With API keys required, the client carries the first one.
      client: orchestrationUrl ? new DevTaskerClient({ baseUrl: orchestrationUrl, apiKey: apiKeys[0]?.key }) : undefined,
      orchestrationLogs,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
