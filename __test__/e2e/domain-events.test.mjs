// Domain events of real tasks reach JS: each fast (in-process) event exactly
// once per subscriber with its payload, filtered by pattern; a custom JS
// publisher shapes a payload or decides not to publish; a throwing
// subscriber breaks nothing; durable events land in their queue; with a
// subscriber attached the worker counts no FFI drops.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { query } from '../../devenv/orchestration.mjs';
import { freePort } from '../../devenv/processes.mjs';
import { eventually, suiteTemplates, useEnvironment } from '../helpers/environment.mjs';
import { pkg } from '../helpers/package.mjs';

let env;
let templates;
let worker;
let webUrl;
const native = pkg.loadNative();

describe('domain events', { timeout: 240_000 }, () => {
  before(async () => {
    env = await useEnvironment();
    templates = suiteTemplates('events', ['events']);
    webUrl = `127.0.0.1:${await freePort()}`;
    native.registerDomainEventPublisher('payment_shaper', async (ctx) =>
      ctx.payload.amount > 1000 ? null : { amount: ctx.payload.amount, currency: 'EUR', shapedBy: 'js', event: ctx.eventName, mode: ctx.deliveryMode },
    );
    worker = new pkg.Worker({
      config: {
        databaseUrl: env.databaseUrl,
        templatePath: templates.path,
        namespace: templates.namespace,
        environment: 'test',
        logLevel: 'error',
        webBindAddress: webUrl,
      },
    });
    worker.register('events.charge', (ctx) => ({ amount: ctx.taskContext.amount }));
    worker.register('events.ship', () => ({ carrier: 'ups' }));
    await worker.start();
  });

  after(async () => {
    await worker?.stop();
    templates?.remove();
    await env?.release();
  });

  test('subscribers get each fast event once, shaped by the JS publisher, filtered by pattern', async () => {
    const all = [];
    const payments = [];
    const everything = native.subscribeDomainEvents((e) => all.push(e));
    const onlyPayments = native.subscribeDomainEvents((e) => payments.push(e), { patterns: ['payment.*'] });
    const thrower = native.subscribeDomainEvents(() => {
      throw new Error('a buggy subscriber');
    });
    const client = new pkg.TaskerClient({ baseUrl: env.orchestrationUrl, workerUrl: `http://${webUrl}` });
    try {
      const small = await client.createTask({ name: 'events', namespace: templates.namespace, context: { amount: 42 } });
      const large = await client.createTask({ name: 'events', namespace: templates.namespace, context: { amount: 5000 } });
      for (const task of [small, large]) assert.equal((await client.waitForTask(task.taskUuid)).status, 'complete');
      const of = (events, task) => events.filter((e) => e.metadata.taskUuid === task.taskUuid).map((e) => e.name).sort();
      await eventually(() => of(all, small).length === 2 && of(all, large).length === 1, { what: 'the fast events' });

      assert.deepEqual(of(all, small), ['order.shipped', 'payment.captured']);
      // The publisher chose not to publish the large payment.
      assert.deepEqual(of(all, large), ['order.shipped']);
      assert.deepEqual(of(payments, small), ['payment.captured']);
      assert.deepEqual(of(payments, large), []);
      const captured = all.find((e) => e.name === 'payment.captured');
      assert.deepEqual(captured.payload, { amount: 42, currency: 'EUR', shapedBy: 'js', event: 'payment.captured', mode: 'fast' });
      assert.equal(captured.metadata.namespace, templates.namespace);
      assert.equal(captured.metadata.stepName, 'charge');
      assert.equal(captured.metadata.firedBy, 'payment_shaper');
      assert.equal(captured.stepSucceeded, true);
      const shipped = all.find((e) => e.name === 'order.shipped' && e.metadata.taskUuid === small.taskUuid);
      assert.deepEqual(shipped.payload, { carrier: 'ups' }, "tasker's default publisher: the step's result");
      assert.equal(thrower.delivered, 3, 'the throwing subscriber was called for each event');
      assert.equal(everything.dropped, 0);

      // Durable events are in their queue, as tasker publishes them.
      const queued = await query(env.databaseUrl, `SELECT message FROM pgmq.q_${templates.namespace}_domain_events`);
      const audited = queued.map((r) => r.message).filter((m) => m.metadata.task_uuid === small.taskUuid);
      assert.equal(audited.length, 1);
      assert.equal(audited[0].event_name, 'payment.audited');
      assert.equal(audited[0].payload.payload.amount, 42);

      // With subscribers attached, no fast event was dropped for want of one.
      const stats = await client.getDomainEventStats();
      assert.equal(stats.inProcessBus.ffiChannelDrops, 0, JSON.stringify(stats));
      assert.ok(stats.inProcessBus.ffiChannelDispatches >= 3);
      assert.equal(native.getDomainEventStats().inProcessBus.ffiChannelDrops, 0);
    } finally {
      for (const s of [everything, onlyPayments, thrower]) s.close();
    }
    assert.equal(everything.closed, true);
  });

  test('bad subscriptions are coded errors', () => {
    const codes = [];
    for (const call of [
      () => native.subscribeDomainEvents('not a function'),
      () => native.subscribeDomainEvents(() => {}, { patterns: [] }),
      () => native.subscribeDomainEvents(() => {}, { bufferSize: 0 }),
      () => native.registerDomainEventPublisher('', async () => null),
    ]) {
      try {
        call();
        codes.push('none');
      } catch (e) {
        codes.push(e.code);
      }
    }
    assert.deepEqual(codes, ['INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT']);
  });
});
