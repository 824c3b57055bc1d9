// The local environment of this repository's tests, benchmarks and demo:
// the package's own local tasker (lib/dev/, as `tasker-worker dev` runs it),
// and the task templates the suites serve, each under a namespace of its own.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { removeDir, startLocalTasker } from '../dist/dev/index.mjs';
import { DevTaskerClient } from './client.mjs';

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
 * A throwaway local tasker (the package's startLocalTasker, lib/dev/) for a
 * test suite, a benchmark or the demo: Ctrl-C and SIGTERM stop it, and its
 * client retries tasker's first-task race (client.mjs). `messaging:
 * 'rabbitmq'` puts tasker's queues on a private RabbitMQ broker. Resolves to
 * { databaseUrl, adminUrl, orchestrationUrl, grpcUrl, client, messaging,
 * rabbitmqUrl, stopDatabase, startDatabase, stopBroker, startBroker,
 * rabbitmqctl, orchestrationLogs, stop }.
 */
export async function startEnvironment({ orchestration = true, log = () => {}, logLevel = 'warn', grpc = false, apiKeys = [], messaging = 'pgmq' } = {}) {
  const onSignal = (signal) => {
    stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let local;
  const stop = async () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await local?.stop();
  };
  try {
    local = await startLocalTasker({ orchestration, log, logLevel, grpc, apiKeys, messaging });
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    ...local,
    // With API keys required, the client carries the first one.
    client: local.orchestrationUrl ? new DevTaskerClient({ baseUrl: local.orchestrationUrl, apiKey: apiKeys[0]?.key }) : undefined,
    stop,
  };
}
