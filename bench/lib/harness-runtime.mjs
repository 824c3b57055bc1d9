// A bench.Harness as the addon's binding, so the package's own
// NativeTaskerRuntime (and through it the real Worker) runs on synthetic steps
// without a database. Lifecycle calls only flip a flag: there is no worker core.
import { pkg } from './package.mjs';

export function harnessRuntime(harness) {
  let running = false;
  const noop = () => {};
  const binding = {
    bootstrapWorkerAsync: async () => {
      running = true;
      return { status: 'started', handleId: 'bench', workerId: 'bench-harness', message: 'benchmark harness' };
    },
    isWorkerRunning: () => running,
    transitionToGracefulShutdownAsync: async () => ({ status: 'transitioned', workerId: 'bench-harness', handedBack: 0 }),
    stopWorkerAsync: async () => {
      running = false;
      return { status: 'stopped', workerId: 'bench-harness', handedBack: 0 };
    },
    pollStepEvents: (max) => harness.poll(max),
    tryCompleteStepEvent: (eventId, result) => harness.tryComplete(eventId, result),
    completeStepEventAsync: (eventId, result) => harness.completeAsync(eventId, result),
    subscribeStepEvents: (callback, options) => harness.subscribe(callback, options),
    subscribeStepEventBatches: (callback, options) => harness.subscribeBatches(callback, options),
    // Synthetic steps belong to no task: none is ever cancelled.
    subscribeStepCancellations: () => ({ close: noop, closed: false }),
    getFfiDispatchMetrics: () => harness.metrics(),
    checkStarvationWarnings: noop,
    cleanupTimeouts: () => 0,
    logError: noop,
    logWarn: noop,
    logInfo: noop,
    logDebug: noop,
    logTrace: noop,
  };
  return new pkg.NativeTaskerRuntime(binding);
}
