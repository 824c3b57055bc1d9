import assert from 'node:assert/strict';
import { test } from 'node:test';

import { pkg } from '../helpers/package.mjs';

const { TaskerEventEmitter, EventNames } = pkg;

test('event names are the documented strings', () => {
  assert.deepEqual(Object.values(EventNames).sort(), [
    'handler.error', 'handler.registered', 'poller.error', 'poller.metrics',
    'step.completion.sent', 'step.execution.received', 'worker.started', 'worker.stopped',
  ]);
});

test('publish reaches subscribers while active; unsubscribe stops it', () => {
  const emitter = new TaskerEventEmitter();
  const got = [];
  const off = emitter.subscribe(EventNames.HANDLER_REGISTERED, (p) => got.push(p.callable));
  emitter.start();
  assert.equal(emitter.isActive(), true);
  assert.equal(emitter.publish(EventNames.HANDLER_REGISTERED, { callable: 'a' }), true);
  off();
  assert.equal(emitter.listenerCount(EventNames.HANDLER_REGISTERED), 0);
  emitter.publish(EventNames.HANDLER_REGISTERED, { callable: 'b' });
  assert.deepEqual(got, ['a']);
});

test('publishing while stopped is reported, not silent', () => {
  const dropped = [];
  const emitter = new TaskerEventEmitter({ onDropped: (name) => dropped.push(name) });
  const got = [];
  emitter.subscribe(EventNames.WORKER_STARTED, (p) => got.push(p));
  assert.equal(emitter.publish(EventNames.WORKER_STARTED, { workerId: 'w', delivery: 'push' }), false);
  emitter.start();
  emitter.stop();
  emitter.publish(EventNames.WORKER_STOPPED, { workerId: 'w', completed: 0, abandoned: 0, handedBack: 0 });
  assert.deepEqual(got, []);
  assert.deepEqual(dropped, ['worker.started', 'worker.stopped']);
  assert.equal(emitter.dropped, 2);
});
