// The environment a test file runs against: the shared one the test script
// started (TASKER_TEST_DATABASE_URL / TASKER_TEST_ORCHESTRATION_URL), or one
// of its own when the file runs alone. release() stops only what it started.
import { DevTaskerClient } from '../../devenv/client.mjs';
export { stepsByName } from '../../devenv/client.mjs';
import { preparedNamespaces, prepareTemplates, startEnvironment, uniqueNamespace } from '../../devenv/environment.mjs';
import { runtimeName } from './runtime.mjs';

export { runtimeName };

export async function useEnvironment() {
  const databaseUrl = process.env.TASKER_TEST_DATABASE_URL;
  const orchestrationUrl = process.env.TASKER_TEST_ORCHESTRATION_URL;
  if (databaseUrl && orchestrationUrl) {
    const client = new DevTaskerClient({ baseUrl: orchestrationUrl });
    // The shared environment lives on: leave no unfinished task behind in
    // the namespaces this file made (no worker serves them once it ends).
    const release = async () => {
      await client.cancelUnfinished([...preparedNamespaces, ...extraNamespaces]).catch((e) => process.stderr.write(`[env] cleanup: ${e.message}\n`));
    };
    return { databaseUrl, orchestrationUrl, client, release };
  }
  const env = await startEnvironment({ log: (m) => process.stderr.write(`[env] ${m}\n`) });
  return { ...env, release: env.stop };
}

const extraNamespaces = new Set();

/** Namespaces of fixed templates a test serves, cleaned up by release() like suiteTemplates' own. */
export function trackNamespaces(...namespaces) {
  for (const namespace of namespaces) extraNamespaces.add(namespace);
}

/**
 * Templates of this suite under a namespace of its own (per runtime and
 * run): `only` the files it serves (names without .yaml), or all.
 */
export function suiteTemplates(suite, only) {
  return prepareTemplates(uniqueNamespace(`${suite}_${runtimeName}`), undefined, { only });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value; fails after `timeoutMs`. */
export async function eventually(check, { timeoutMs = 30000, intervalMs = 25, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
