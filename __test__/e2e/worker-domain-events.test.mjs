// Domain events through the Worker's own API on real tasks: listeners added
// before start() get every fast event once, a publisher registered on the
// Worker shapes the payload, and a listener that blocks the event loop loses
// only the events beyond its buffer — each one counted — while every step
// still completes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { eventually, suiteTemplates, useEnvironment } from '../helpers/environment.mjs';
import { pkg } from '../helpers/package.mjs';

let env;
let templates;
let worker;
let client;
const early = [];

const ofTasks = (events, tasks) => {
  const uuids = new Set(tasks.map((t) => t.taskUuid));
  return events.filter((e) => uuids.has(e.metadata.taskUuid));
};

describe('Worker domain events', { timeout: 240_000 }, () => {
  before(async () => {
    env = await useEnvironment();
    templates = suiteTemplates('events', ['events']);
    client = env.client;
    worker = new pkg.Worker({
      config: { databaseUrl: env.databaseUrl, templatePath: templates.path, namespace: templates.namespace, environment: 'test', logLevel: 'error' },
      concurrency: 10,
    });
    worker.register('events.charge', (ctx) => ({ amount: ctx.taskContext.amount }));
    worker.register('events.ship', () => ({ carrier: 'ups' }));
    // A synchronous publisher: the Worker adapts it to the addon's async contract.
    worker.registerEventPublisher('payment_shaper', (ctx) => ({ amount: ctx.payload.amount, currency: 'EUR' }));
    worker.onDomainEvent('*', (event) => early.push(event));
    await worker.start();
  });

  after(async () => {
    await worker?.stop();
    templates?.remove();
    await env?.release();
  });

  // tasker 0.1.8 identifies a task by template and context: each gets its own amount.
  let amount = 10;
  const createTasks = (n) =>
    Promise.all(Array.from({ length: n }, () => client.createTask({ name: 'events', namespace: templates.namespace, context: { amount: amount++ } })));
  const waitComplete = async (tasks) => {
    for (const task of tasks) assert.equal((await client.waitForTask(task.taskUuid, { timeoutMs: 120_000 })).status, 'complete');
  };

  test('a listener added before start gets each fast event once, shaped by the Worker publisher', async () => {
    const tasks = await createTasks(2);
    await waitComplete(tasks);
    await eventually(() => ofTasks(early, tasks).length === 4, { what: 'two fast events per task' });
    await new Promise((r) => setTimeout(r, 200)); // a duplicate would arrive by now
    const events = ofTasks(early, tasks);
    assert.equal(events.length, 4);
    for (const task of tasks) {
      const mine = events.filter((e) => e.metadata.taskUuid === task.taskUuid);
      assert.deepEqual(mine.map((e) => e.name).sort(), ['order.shipped', 'payment.captured']);
      const payment = mine.find((e) => e.name === 'payment.captured');
      assert.equal(payment.payload.currency, 'EUR');
      assert.equal(typeof payment.payload.amount, 'number');
      assert.equal(payment.metadata.firedBy, 'payment_shaper');
    }
    const stats = worker.domainEventStats();
    assert.equal(stats.listeners[0].dropped, 0);
    assert.equal(stats.listeners[0].delivered, early.length);
    assert.equal(stats.worker.inProcessBus.ffiChannelDrops, 0, JSON.stringify(stats.worker));
  });

  test('a listener that blocks the event loop drops what exceeds its buffer, counted exactly; no step suffers', async () => {
    const all = [];
    const slow = [];
    const removeAll = worker.onDomainEvent('*', (event) => all.push(event));
    // Blocks JS 100 ms per event for its first 30 events, with room for one waiting event.
    const removeSlow = worker.onDomainEvent(
      '*',
      (event) => {
        slow.push(event);
        if (slow.length > 30) return;
        const until = Date.now() + 100;
        while (Date.now() < until);
      },
      { bufferSize: 1 },
    );
    try {
      const tasks = await createTasks(20);
      await waitComplete(tasks);
      await eventually(() => ofTasks(all, tasks).length === 40, { what: 'every fast event at the unbuffered-enough listener', timeoutMs: 60_000 });
      const [, allStats, slowStats] = worker.domainEventStats().listeners;
      assert.equal(allStats.dropped, 0, 'the listener with the default buffer lost nothing');
      assert.ok(slowStats.dropped > 0, `the blocking listener lost events (${JSON.stringify(slowStats)})`);
      assert.equal(slowStats.delivered, slow.length);
      assert.equal(slowStats.delivered + slowStats.dropped, 40, 'every event was either delivered or counted as dropped');
      assert.equal(new Set(slow.map((e) => e.eventId)).size, slow.length, 'nothing delivered twice');
    } finally {
      removeSlow();
      removeAll();
    }
    assert.equal(worker.domainEventStats().listeners.length, 1, 'removed listeners are gone from the stats');
  });
});
