// The Worker's domain event API over a scripted runtime: listeners attach at
// start and detach at stop, a failing listener is logged and isolated,
// removal and bad input behave. Real events are in __test__/e2e/domain-events.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { fakeWorker, tick } from '../helpers/fake-worker.mjs';

const config = { databaseUrl: 'postgresql://u:p@127.0.0.1:1/d', templatePath: '/tmp' };
const event = (name, taskUuid = 't-1') => ({ eventId: `e-${name}`, name, version: '1.0.0', payload: { name }, stepSucceeded: true, metadata: { taskUuid, namespace: 'ns' } });

function setup() {
  const { runtime, worker } = fakeWorker(config);
  worker.register('test.handler', () => 1);
  return { runtime, worker };
}

describe('Worker domain events', () => {
  test('listeners added before start subscribe at start, with their patterns and buffer, and close at stop', async () => {
    const { runtime, worker } = setup();
    const got = [];
    worker.onDomainEvent('payment.*', (e) => got.push(e.name), { bufferSize: 5 });
    worker.onDomainEvent(['order.shipped', 'order.placed'], (e) => got.push(`order:${e.name}`));
    assert.equal(runtime.domainSubscriptions.length, 0, 'nothing subscribes before the worker runs');

    await worker.start();
    assert.deepEqual(
      runtime.domainSubscriptions.map((s) => s.options),
      [
        { patterns: ['payment.*'], bufferSize: 5 },
        { patterns: ['order.shipped', 'order.placed'], bufferSize: undefined },
      ],
    );
    runtime.domainSubscriptions[0].callback(event('payment.captured'));
    runtime.domainSubscriptions[1].callback(event('order.shipped'));
    assert.deepEqual(got, ['payment.captured', 'order:order.shipped']);

    // Listeners stay attached until the core has stopped: the drain's events still arrive.
    let openAtCoreStop;
    const stopWorker = runtime.stopWorker.bind(runtime);
    runtime.stopWorker = () => {
      openAtCoreStop = runtime.domainSubscriptions.filter((s) => !s.closed).length;
      return stopWorker();
    };
    await worker.stop();
    assert.equal(openAtCoreStop, 2);
    assert.ok(runtime.domainSubscriptions.every((s) => s.closed), 'stop closes every subscription');
  });

  test('a listener added while running subscribes at once; its remover closes it, twice is harmless', async () => {
    const { runtime, worker } = setup();
    const other = [];
    worker.onDomainEvent('*', (e) => other.push(e.name));
    await worker.start();
    const got = [];
    const remove = worker.onDomainEvent('*', (e) => got.push(e.name));
    assert.equal(runtime.domainSubscriptions.length, 2);
    runtime.emitDomainEvent(event('a.b'));
    remove();
    remove();
    runtime.emitDomainEvent(event('c.d'));
    assert.deepEqual(got, ['a.b']);
    assert.deepEqual(other, ['a.b', 'c.d'], 'removing one listener twice left the other in place');
    assert.equal(worker.domainEventStats().listeners.length, 1);
    await worker.stop();
  });

  test('a throwing or rejecting listener is logged with the event and does not stop the others', async () => {
    const { runtime, worker } = setup();
    const got = [];
    worker.onDomainEvent('*', () => {
      throw new Error('sync boom');
    });
    worker.onDomainEvent('*', async () => {
      throw new Error('async boom');
    });
    worker.onDomainEvent('*', (e) => got.push(e.name));
    await worker.start();
    runtime.emitDomainEvent(event('payment.captured', 'task-9'));
    await tick(5);
    assert.deepEqual(got, ['payment.captured']);
    const warnings = runtime.logs.filter(([level]) => level === 'warn');
    assert.equal(warnings.length, 2);
    assert.deepEqual(
      warnings.map(([, , fields]) => fields.error).sort(),
      ['async boom', 'sync boom'],
    );
    for (const [, message, fields] of warnings) {
      assert.match(message, /domain event listener failed/);
      assert.equal(fields.event, 'payment.captured');
      assert.equal(fields.task_uuid, 'task-9');
    }
    await worker.stop();
  });

  test('stats per listener, and the worker counters while running', async () => {
    const { runtime, worker } = setup();
    worker.onDomainEvent('payment.*', () => {});
    assert.deepEqual(worker.domainEventStats(), { listeners: [{ patterns: ['payment.*'], delivered: 0, dropped: 0 }] });
    await worker.start();
    runtime.emitDomainEvent(event('payment.captured'));
    runtime.domainSubscriptions[0].dropped = 3;
    const stats = worker.domainEventStats();
    assert.deepEqual(stats.listeners, [{ patterns: ['payment.*'], delivered: 1, dropped: 3 }]);
    assert.deepEqual(stats.worker, { inProcessBus: { totalEventsDispatched: 0 } });
    await worker.stop();
  });

  test('publishers are registered with the runtime and may be async or sync', async () => {
    const { runtime, worker } = setup();
    assert.equal(worker.registerEventPublisher('shaper', (ctx) => ({ amount: ctx.payload.amount })), worker);
    const publish = runtime.publishers.get('shaper');
    assert.deepEqual(await publish({ payload: { amount: 7, secret: 'x' } }), { amount: 7 });
    worker.registerEventPublisher('async_shaper', async () => null);
    assert.equal(await runtime.publishers.get('async_shaper')({ payload: {} }), null);
  });

  test('bad input is refused with an error that says what to give', () => {
    const { worker } = setup();
    assert.throws(() => worker.onDomainEvent('', () => {}), /event name or pattern/);
    assert.throws(() => worker.onDomainEvent([], () => {}), /event name or pattern/);
    assert.throws(() => worker.onDomainEvent([42], () => {}), /event name or pattern/);
    assert.throws(() => worker.onDomainEvent(undefined, () => {}), /event name or pattern/);
    assert.throws(() => worker.onDomainEvent('*', 'nope'), /listener must be a function/);
    assert.throws(() => worker.onDomainEvent('*', () => {}, { bufferSize: 0 }), /bufferSize must be an integer from 1 to 100000/);
    assert.throws(() => worker.onDomainEvent('*', () => {}, { bufferSize: 1.5 }), /bufferSize/);
    assert.throws(() => worker.registerEventPublisher('x', null), /publisher must be a function/);
  });
});
