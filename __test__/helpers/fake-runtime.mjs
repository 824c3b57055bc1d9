// A scripted TaskerRuntime for unit tests of the TS layer: events are queued
// by the test, completions and calls are recorded.
let counter = 0;

export function makeEvent({
  callable = 'test.handler',
  method = 'call',
  resolver,
  initialization = { factor: 2 },
  stepType,
  timeoutSeconds = 5,
  context = {},
  attempts = 0,
  deps = {},
  rawDeps = {},
  inputs = null,
  checkpoint = null,
  name,
} = {}) {
  counter++;
  const id = `0190a3b2-0000-7000-8000-${String(counter).padStart(12, '0')}`;
  return {
    eventId: id,
    taskUuid: `task-${counter}`,
    stepUuid: `step-${counter}`,
    correlationId: `corr-${counter}`,
    task: { taskUuid: `task-${counter}`, name: 't', namespace: 'ns', version: '1.0.0', context, createdAt: '', updatedAt: '', requestedAt: '' },
    workflowStep: { workflowStepUuid: `step-${counter}`, name: name ?? `step_${counter}`, attempts, maxAttempts: 3, inputs, checkpoint },
    stepDefinition: {
      name: `step_${counter}`,
      ...(stepType ? { stepType } : {}),
      handlerCallable: callable,
      handlerMethod: method,
      ...(resolver ? { handlerResolver: resolver } : {}),
      handlerInitialization: initialization,
      timeoutSeconds,
      dependencies: [],
      retry: { retryable: true, maxAttempts: 3, backoff: 'exponential' },
    },
    dependencyResults: {
      ...Object.fromEntries(Object.entries(deps).map(([k, v]) => [k, { result: v, success: true }])),
      ...rawDeps,
    },
  };
}

export class FakeRuntime {
  runtime = 'node';
  queue = [];
  completions = [];
  checkpoints = [];
  calls = [];
  logs = [];
  running = false;
  subscription;
  domainSubscriptions = [];
  publishers = new Map();
  failPoll;
  /** What loadTaskTemplates returns (set by a test), or an Error it throws. */
  templates = [];

  record(name, ...args) {
    this.calls.push([name, ...args]);
  }

  async bootstrapWorker(config) {
    this.record('bootstrapWorker', config);
    this.running = true;
    return { status: 'started', handleId: 'h', workerId: 'fake-worker', message: 'ok' };
  }
  getWorkerStatus() {
    return { running: this.running, namespaces: this.running ? ['ns'] : [] };
  }
  isWorkerRunning() {
    return this.running;
  }
  async transitionToGracefulShutdown() {
    this.record('transitionToGracefulShutdown');
    return { status: 'transitioned', handedBack: 0 };
  }
  async stopWorker() {
    this.record('stopWorker');
    this.running = false;
    const handedBack = this.queue.length;
    this.queue = [];
    return { status: 'stopped', handedBack };
  }
  pollStepEvents(max = 1) {
    this.record('pollStepEvents', max);
    if (this.failPoll) throw this.failPoll;
    return this.queue.splice(0, max);
  }
  async completeStepEvent(eventId, result) {
    this.record('completeStepEvent', eventId);
    this.completions.push({ eventId, result });
    if (this.subscription) this.subscription.inFlight--;
  }
  async checkpointYieldStepEvent(eventId, data) {
    this.checkpoints.push({ eventId, data });
  }
  subscribeStepEvents(callback, options) {
    this.record('subscribeStepEvents', options);
    const sub = { closed: false, inFlight: 0, maxInFlight: options?.maxInFlight ?? 10, close: () => (sub.closed = true), callback };
    this.subscription = sub;
    return sub;
  }
  subscribeStepEventBatches(callback, options) {
    this.record('subscribeStepEventBatches', options);
    const sub = { closed: false, inFlight: 0, maxInFlight: options?.maxInFlight ?? 10, maxBatch: options?.maxBatch ?? 64, close: () => (sub.closed = true), batchCallback: callback };
    this.subscription = sub;
    return sub;
  }
  /** Push-mode delivery of one event, honouring maxInFlight like the native side. */
  push(event) {
    return this.pushBatch([event]) === 1;
  }
  /** Push-mode delivery of ready events in one call (as many as slots and maxBatch allow); returns how many went. */
  pushBatch(events) {
    const sub = this.subscription;
    if (!sub || sub.closed) return 0;
    const room = Math.min(sub.maxInFlight - sub.inFlight, sub.batchCallback ? sub.maxBatch : 1);
    const taken = events.slice(0, Math.max(0, room));
    if (taken.length === 0) return 0;
    sub.inFlight += taken.length;
    if (sub.batchCallback) sub.batchCallback(taken);
    else sub.callback(taken[0]);
    return taken.length;
  }
  getFfiDispatchMetrics() {
    return { pendingCount: this.queue.length, inFlightCount: 0, completedCount: this.completions.length, failedCount: 0, timedOutCount: 0, starvationDetected: false, starvingEventCount: 0 };
  }
  subscribeStepCancellations(callback) {
    this.record('subscribeStepCancellations');
    const sub = { closed: false, close: () => (sub.closed = true), callback };
    this.cancellationSubscription = sub;
    return sub;
  }
  /** The native side released `event` because its task was cancelled. */
  cancel(event, reason = 'the task was cancelled') {
    const sub = this.cancellationSubscription;
    if (!sub || sub.closed) return false;
    if (this.subscription) this.subscription.inFlight--;
    sub.callback({ eventId: event.eventId, stepUuid: event.stepUuid, taskUuid: event.taskUuid, reason });
    return true;
  }
  subscribeDomainEvents(callback, options) {
    this.record('subscribeDomainEvents', options);
    const sub = { closed: false, delivered: 0, dropped: 0, close: () => (sub.closed = true), callback, options };
    this.domainSubscriptions.push(sub);
    return sub;
  }
  /** Delivers a domain event to every open subscription (no pattern filtering: the native side does it). */
  emitDomainEvent(event) {
    for (const sub of this.domainSubscriptions.filter((s) => !s.closed)) {
      sub.delivered++;
      sub.callback(event);
    }
  }
  registerDomainEventPublisher(name, publisher) {
    this.record('registerDomainEventPublisher', name);
    this.publishers.set(name, publisher);
  }
  getDomainEventStats() {
    return { inProcessBus: { totalEventsDispatched: 0 } };
  }
  checkStarvationWarnings() {
    this.record('checkStarvationWarnings');
  }
  cleanupTimeouts() {
    this.record('cleanupTimeouts');
    return 0;
  }
  logError(m, f) { this.logs.push(['error', m, f]); }
  logWarn(m, f) { this.logs.push(['warn', m, f]); }
  logInfo(m, f) { this.logs.push(['info', m, f]); }
  logDebug(m, f) { this.logs.push(['debug', m, f]); }
  logTrace(m, f) { this.logs.push(['trace', m, f]); }
  getVersion() { return '0.0.0-fake'; }
  healthCheck() { return { healthy: true }; }
  loadTaskTemplates(templatePath) {
    this.record('loadTaskTemplates', templatePath);
    if (this.templates instanceof Error) throw this.templates;
    return this.templates;
  }
  async close() {}
}
