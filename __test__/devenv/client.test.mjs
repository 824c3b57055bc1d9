// The test environment's client: cancelUnfinished leaves nothing unfinished
// in a namespace with more tasks than one page of tasker's task list (the
// test script fails a run that leaves tasks behind; a fuzz run once left 34
// when only the first page was read), and a second call finds nothing to do.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { devenvBinary, run } from '../../dist/dev/index.mjs';
import { suiteTemplates, useEnvironment } from '../helpers/environment.mjs';

const TASKS = 130; // more than a page (tasker answers at most 100 per page)

describe('DevTaskerClient.cancelUnfinished', { timeout: 180000 }, () => {
  let env;
  let templates;

  before(async () => {
    env = await useEnvironment();
    templates = suiteTemplates('cancel_unfinished', ['single']);
    // No worker serves this namespace: its tasks stay unfinished.
    await run(devenvBinary(), ['register-templates', '--database-url', env.databaseUrl, '--template-path', templates.path]);
  });

  after(async () => {
    templates?.remove();
    await env?.release();
  });

  test(`cancels all ${TASKS} unfinished tasks of a namespace, beyond the first page`, async () => {
    const ns = templates.namespace;
    const made = [];
    for (let i = 0; i < TASKS; i += 10) {
      const batch = Array.from({ length: Math.min(10, TASKS - i) }, (_, k) => env.client.createTask({ name: 'single', namespace: ns, context: { n: i + k } }));
      made.push(...(await Promise.all(batch)).map((t) => t.taskUuid));
    }
    const states = async () => new Set(await Promise.all(made.map(async (uuid) => (await env.client.getTask(uuid)).status)));
    assert.ok(!(await states()).has('cancelled'), 'no task cancelled before the cleanup');
    assert.equal((await env.client.notCompleted(ns)).length, TASKS);

    assert.equal(await env.client.cancelUnfinished([ns]), TASKS);
    assert.deepEqual([...(await states())], ['cancelled']);
    // Cancelled tasks are still listed as not completed; asking again cancels none.
    assert.equal(await env.client.cancelUnfinished([ns]), 0);
  });
});
