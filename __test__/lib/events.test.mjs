// The emitter: Node's EventEmitter API typed per event, the earlier
// subscribe/publish names as aliases, and listeners that cannot disturb the
// worker.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { pkg } from '../helpers/package.mjs';

const { TaskerEventEmitter, EventNames } = pkg;

const quiet = () => new TaskerEventEmitter({ onDropped: () => {}, onListenerError: () => {} });

test('event names are the documented strings', () => {
  assert.deepEqual(Object.values(EventNames).sort(), [
    'handler.error', 'handler.registered', 'poller.error', 'poller.metrics',
    'step.cancelled', 'step.completion.sent', 'step.execution.received', 'worker.started', 'worker.stopped', 'worker.stopping',
  ]);
});

test('on / once / off / emit / listenerCount follow EventEmitter', () => {
  const emitter = quiet();
  emitter.start();
  const got = [];
  const a = (p) => got.push(`a:${p.callable}`);
  const b = (p) => got.push(`b:${p.callable}`);
  assert.equal(emitter.on(EventNames.HANDLER_REGISTERED, a), emitter, 'on chains');
  emitter.once(EventNames.HANDLER_REGISTERED, b);
  assert.equal(emitter.listenerCount(EventNames.HANDLER_REGISTERED), 2);
  assert.deepEqual(emitter.eventNames(), ['handler.registered']);
  assert.equal(emitter.emit(EventNames.HANDLER_REGISTERED, { callable: 'x' }), true);
  assert.equal(emitter.emit(EventNames.HANDLER_REGISTERED, { callable: 'y' }), true);
  assert.deepEqual(got, ['a:x', 'b:x', 'a:y'], 'once runs once, in registration order');
  emitter.off(EventNames.HANDLER_REGISTERED, a);
  assert.equal(emitter.listenerCount(EventNames.HANDLER_REGISTERED), 0);
  assert.equal(emitter.emit(EventNames.HANDLER_REGISTERED, { callable: 'z' }), false, 'no listener: false');
  emitter.addListener(EventNames.WORKER_STARTED, a).on(EventNames.WORKER_STOPPED, a);
  assert.deepEqual(emitter.listeners(EventNames.WORKER_STARTED), [a]);
  emitter.removeListener(EventNames.WORKER_STARTED, a);
  emitter.removeAllListeners();
  assert.equal(emitter.listenerCount(EventNames.WORKER_STOPPED), 0);
});

test('watchListeners reports the listener count now and on every change, until unwatched', () => {
  const emitter = quiet();
  emitter.start();
  const counts = [];
  const a = () => {};
  emitter.on(EventNames.POLLER_METRICS, a);
  const unwatch = emitter.watchListeners(EventNames.POLLER_METRICS, (n) => counts.push(n));
  emitter.once(EventNames.POLLER_METRICS, a);
  emitter.on(EventNames.WORKER_STARTED, a); // another event: not reported
  emitter.emit(EventNames.POLLER_METRICS, { mode: 'push', ticks: 0, eventsReceived: 0 }); // the once listener leaves
  emitter.off(EventNames.POLLER_METRICS, a);
  emitter.on(EventNames.POLLER_METRICS, a);
  emitter.removeAllListeners();
  assert.deepEqual(counts, [1, 2, 1, 0, 1, 0]);
  unwatch();
  emitter.on(EventNames.POLLER_METRICS, a);
  assert.deepEqual(counts, [1, 2, 1, 0, 1, 0], 'nothing after unwatch');
});

test('the same listener added twice runs twice; off removes one registration', () => {
  const emitter = quiet();
  emitter.start();
  let n = 0;
  const f = () => n++;
  emitter.on(EventNames.POLLER_ERROR, f).on(EventNames.POLLER_ERROR, f);
  emitter.emit(EventNames.POLLER_ERROR, { error: new Error('x') });
  emitter.off(EventNames.POLLER_ERROR, f);
  emitter.emit(EventNames.POLLER_ERROR, { error: new Error('x') });
  assert.equal(n, 3);
});

test('a throwing listener is reported and the others still run', () => {
  const reported = [];
  const emitter = new TaskerEventEmitter({ onListenerError: (error, name) => reported.push([error.message, name]) });
  emitter.start();
  const got = [];
  emitter.on(EventNames.HANDLER_ERROR, () => {
    throw new Error('listener bug');
  });
  emitter.on(EventNames.HANDLER_ERROR, (p) => got.push(p.error.message));
  assert.doesNotThrow(() => emitter.emit(EventNames.HANDLER_ERROR, { error: new Error('boom') }));
  assert.deepEqual(got, ['boom']);
  assert.deepEqual(reported, [['listener bug', 'handler.error']]);
});

test('listeners added or removed while emitting do not disturb that emit', () => {
  const emitter = quiet();
  emitter.start();
  const got = [];
  const late = () => got.push('late');
  emitter.on(EventNames.WORKER_STARTED, () => {
    got.push('first');
    emitter.on(EventNames.WORKER_STARTED, late);
  });
  emitter.emit(EventNames.WORKER_STARTED, { workerId: 'w', delivery: 'push', namespaces: [] });
  assert.deepEqual(got, ['first']);
  emitter.emit(EventNames.WORKER_STARTED, { workerId: 'w', delivery: 'push', namespaces: [] });
  assert.deepEqual(got, ['first', 'first', 'late']);
});

test('bad listeners and unknown events are clear errors', () => {
  const emitter = quiet();
  assert.throws(() => emitter.on(EventNames.WORKER_STARTED, 'nope'), /listener of 'worker.started' must be a function, got string/);
  assert.throws(() => emitter.on('worker.exploded', () => {}), /'worker.exploded' is not an event \(step\.execution\.received/);
});

test('subscribe / unsubscribe / publish still work (aliases)', () => {
  const emitter = quiet();
  const got = [];
  const off = emitter.subscribe(EventNames.HANDLER_REGISTERED, (p) => got.push(p.callable));
  emitter.start();
  assert.equal(emitter.isActive(), true);
  assert.equal(emitter.publish(EventNames.HANDLER_REGISTERED, { callable: 'a' }), true);
  off();
  assert.equal(emitter.listenerCount(EventNames.HANDLER_REGISTERED), 0);
  emitter.publish(EventNames.HANDLER_REGISTERED, { callable: 'b' });
  const listener = (p) => got.push(p.callable);
  emitter.subscribe(EventNames.HANDLER_REGISTERED, listener);
  emitter.unsubscribe(EventNames.HANDLER_REGISTERED, listener);
  emitter.publish(EventNames.HANDLER_REGISTERED, { callable: 'c' });
  assert.deepEqual(got, ['a']);
});

test('emitting while stopped is reported, not silent', () => {
  const dropped = [];
  const emitter = new TaskerEventEmitter({ onDropped: (name) => dropped.push(name) });
  const got = [];
  emitter.on(EventNames.WORKER_STARTED, (p) => got.push(p));
  assert.equal(emitter.emit(EventNames.WORKER_STARTED, { workerId: 'w', delivery: 'push', namespaces: [] }), false);
  emitter.start();
  emitter.stop();
  emitter.publish(EventNames.WORKER_STOPPED, { workerId: 'w', completed: 0, abandoned: 0, handedBack: 0 });
  assert.deepEqual(got, []);
  assert.deepEqual(dropped, ['worker.started', 'worker.stopped']);
  assert.equal(emitter.dropped, 2);
});

test("a worker's events: worker.events.on works and a throwing listener does not strand a step", async () => {
  const { FakeRuntime, makeEvent } = await import('../helpers/fake-runtime.mjs');
  const runtime = new FakeRuntime();
  const events = new TaskerEventEmitter({ onListenerError: () => {} });
  const worker = new pkg.Worker({ config: { templatePath: '/tmp' }, runtime, delivery: 'poll', pollIntervalMs: 1, events });
  const seen = [];
  worker.events.on(EventNames.STEP_EXECUTION_RECEIVED, () => {
    throw new Error('listener bug');
  });
  worker.events.on(EventNames.STEP_COMPLETION_SENT, (p) => seen.push([p.outcome, p.callable, p.stepName]));
  worker.events.on(EventNames.WORKER_STOPPING, (p) => seen.push(['stopping', p.inFlight]));
  worker.register('test.handler', () => 1);
  await worker.start();
  const event = makeEvent();
  runtime.queue.push(event);
  const deadline = Date.now() + 3000;
  while (runtime.completions.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  await worker.stop();
  assert.deepEqual(seen, [['success', 'test.handler', event.workflowStep.name], ['stopping', 0]]);
});
