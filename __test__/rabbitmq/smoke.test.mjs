// A real workflow on RabbitMQ, in each runtime: a Worker configured for the
// broker serves a diamond task (four steps, a fan-out and a fan-in) to
// completion, with the results each step saw, and reports the backend it
// runs on. The full suites run on RabbitMQ under Node in scripts/test-all.sh.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { DevTaskerClient } from '../../devenv/client.mjs';
import { prepareTemplates, startEnvironment, uniqueNamespace } from '../../devenv/environment.mjs';
import { runtimeName, stepsByName } from '../helpers/environment.mjs';
import { pkg } from '../helpers/package.mjs';

let env;
let own;
let templates;
let worker;

describe(`a workflow on RabbitMQ (${runtimeName})`, { timeout: 180_000 }, () => {
  before(async () => {
    const { TASKER_MESSAGING_BACKEND, RABBITMQ_URL, TASKER_TEST_DATABASE_URL, TASKER_TEST_ORCHESTRATION_URL } = process.env;
    if (TASKER_MESSAGING_BACKEND === 'rabbitmq' && RABBITMQ_URL && TASKER_TEST_DATABASE_URL && TASKER_TEST_ORCHESTRATION_URL) {
      env = { databaseUrl: TASKER_TEST_DATABASE_URL, rabbitmqUrl: RABBITMQ_URL, client: new DevTaskerClient({ baseUrl: TASKER_TEST_ORCHESTRATION_URL }) };
    } else {
      own = await startEnvironment({ messaging: 'rabbitmq' });
      env = own;
    }
    templates = prepareTemplates(uniqueNamespace(`rmq_smoke_${runtimeName}`), undefined, { only: ['diamond'] });
    worker = new pkg.Worker({
      config: {
        databaseUrl: env.databaseUrl,
        messagingBackend: 'rabbitmq',
        rabbitmqUrl: env.rabbitmqUrl,
        templatePath: templates.path,
        namespace: templates.namespace,
        environment: 'test',
        logLevel: 'error',
      },
    });
    worker.register({
      'diamond.start': (ctx) => ctx.taskContext.n * 2,
      'diamond.left': (ctx) => ctx.requireDependency('start') + 1,
      'diamond.right': (ctx) => ctx.requireDependency('start') * 10,
      'diamond.join': (ctx) => ctx.requireDependency('left') + ctx.requireDependency('right'),
    });
    await worker.start();
  });

  after(async () => {
    await worker?.stop();
    templates?.remove();
    await own?.stop();
  });

  test('a diamond task completes, each step seeing its dependencies’ results', async () => {
    const health = pkg.getTaskerRuntime().healthCheck();
    assert.equal(health.messaging, 'rabbitmq');
    assert.equal(health.brokerReachable, true);
    const { taskUuid } = await env.client.createTask({ name: 'diamond', namespace: templates.namespace, context: { n: 3, run: `${runtimeName}-${Date.now()}` } });
    const task = await env.client.waitForTask(taskUuid, { timeoutMs: 60_000 });
    assert.equal(task.status, 'complete');
    const steps = await stepsByName(env.client, taskUuid);
    const result = (name) => steps[name].results.result;
    assert.deepEqual([result('start'), result('left'), result('right'), result('join')], [6, 7, 60, 67]);
  });
});
