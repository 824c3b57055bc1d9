// A TaskerRuntime over a bench.Harness, so the real Worker (push or poll
// delivery, handler dispatch, completions) runs on synthetic steps without
// a database. Lifecycle calls only flip a flag: there is no worker core.

export class HarnessRuntime {
  constructor(harness, runtime) {
    this.harness = harness;
    this.runtime = runtime;
    this.running = false;
  }
  async bootstrapWorker() {
    this.running = true;
    return { status: 'started', handleId: 'bench', workerId: 'bench-harness', message: 'benchmark harness' };
  }
  getWorkerStatus() {
    return {
      running: this.running, workerId: 'bench-harness', environment: 'test',
      workerCoreStatus: this.running ? 'running' : 'not_running', gracefulShutdown: false,
      namespaces: [], databasePoolSize: 0, databasePoolIdle: 0,
    };
  }
  isWorkerRunning() {
    return this.running;
  }
  async transitionToGracefulShutdown() {
    return { status: 'transitioned', workerId: 'bench-harness', handedBack: 0 };
  }
  async stopWorker() {
    this.running = false;
    return { status: 'stopped', workerId: 'bench-harness', handedBack: 0 };
  }
  pollStepEvents(max) {
    return this.harness.poll(max);
  }
  // The same strategy as NativeTaskerRuntime: no Promise when there is room.
  completeStepEvent(eventId, result) {
    try {
      if (this.harness.tryComplete(eventId, result)) return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.harness.completeAsync(eventId, result);
  }
  checkpointYieldStepEvent() {
    return Promise.reject(new Error('the benchmark harness has no checkpoints'));
  }
  subscribeStepEvents(callback, options) {
    return this.harness.subscribe(callback, options);
  }
  getFfiDispatchMetrics() {
    return this.harness.metrics();
  }
  checkStarvationWarnings() {}
  cleanupTimeouts() {
    return 0;
  }
  logError() {}
  logWarn() {}
  logInfo() {}
  logDebug() {}
  logTrace() {}
  getVersion() {
    return 'bench';
  }
  healthCheck() {
    return { healthy: true, workerRunning: this.running, workerCoreStatus: 'running', version: 'bench', message: 'harness' };
  }
  async close() {
    this.running = false;
    this.harness.close();
  }
}
