/**
 * The Worker: registered handlers run for the steps tasker-core hands this
 * process, with per-step timeouts, an AbortSignal, a concurrency limit that
 * holds before an event is taken from the channel, and an orderly shutdown.
 */
import type { BootstrapResult, StepCompletion, StepEvent, WorkerConfig } from '../index';
import { FfiCallError } from './errors';
import { asError, type StepEventSource } from './delivery';
import {
  DomainEventListeners,
  type DomainEventListener,
  type DomainEventListenerOptions,
  type DomainEventListenerStats,
  type DomainEventPublisherFn,
} from './domain-events';
import { EventNames, TaskerEventEmitter, type DeliveryMetrics } from './events';
import {
  createStepContext,
  failureCompletion,
  isStepResult,
  PermanentError,
  type StepContext,
  type StepHandler,
  type StepHandlerClass,
  type StepHandlerInstance,
  type StepLogger,
  type StepResult,
} from './handler';
import { EventPoller } from './poller';
import { PushDelivery } from './push';
import { getTaskerRuntime, type TaskerRuntime } from './runtime';

export interface WorkerOptions {
  /** Passed to the native bootstrap: databaseUrl, templatePath, namespace, ... */
  config: WorkerConfig;
  /** How events arrive: pushed by the native side (default) or polled every 10 ms. */
  delivery?: 'push' | 'poll';
  /** Most handlers running at once (default 10). */
  concurrency?: number;
  /** Push delivery: most ready events handed over in one native call (default 64; 1: one per call). */
  maxBatch?: number;
  /** Timeout of steps whose template sets no timeout_seconds (default 30000 ms). */
  defaultTimeoutMs?: number;
  /** How long stop() lets in-flight handlers finish (default 30000 ms). */
  drainTimeoutMs?: number;
  /** Poll interval in poll mode (default 10 ms). */
  pollIntervalMs?: number;
  /** Stop gracefully on SIGINT/SIGTERM (default false). */
  handleSignals?: boolean;
  runtime?: TaskerRuntime;
  events?: TaskerEventEmitter;
}

export interface WorkerStopSummary {
  /** Steps whose handlers finished (success or failure) during the drain. */
  completed: number;
  /** Steps whose handlers were still running at the drain deadline: aborted and failed as retryable. */
  abandoned: number;
  /** Steps claimed but never handed to a handler: failed as retryable by the native side. */
  handedBack: number;
}

/** What `domainEventStats()` reports. */
export interface DomainEventStats {
  /** Per listener: its patterns, events delivered and dropped (it did not keep up). */
  listeners: DomainEventListenerStats[];
  /** The running worker's event router and in-process bus counters (absent when stopped). */
  worker?: Record<string, unknown>;
}

interface Running {
  event: StepEvent;
  controller: AbortController;
  startedAt: number;
  settled: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

type Invoke = (context: StepContext) => unknown;

const CALLABLE = /^[A-Za-z0-9_.:\-/]{1,500}$/;

function isClass(handler: unknown): handler is StepHandlerClass {
  return typeof handler === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(handler));
}

export class Worker {
  readonly events: TaskerEventEmitter;
  private readonly runtime: TaskerRuntime;
  private readonly handlers = new Map<string, StepHandler>();
  private readonly instances = new Map<string, object>();
  private readonly running = new Map<string, Running>();
  private readonly idleWaiters = new Set<() => void>();
  private source: StepEventSource | undefined;
  private workerId = '';
  private stopping: Promise<WorkerStopSummary> | undefined;
  private settledDuringDrain = 0;
  private draining = false;
  private signalHandler: (() => void) | undefined;
  private readonly domainEvents: DomainEventListeners;

  constructor(private readonly options: WorkerOptions) {
    if (!options?.config) throw new TypeError('Worker: options.config is required (databaseUrl, templatePath, ...)');
    const concurrency = options.concurrency ?? 10;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 10000) {
      throw new RangeError(`Worker: concurrency must be an integer from 1 to 10000, got ${concurrency}`);
    }
    const maxBatch = options.maxBatch ?? 64;
    if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > 1000) {
      throw new RangeError(`Worker: maxBatch must be an integer from 1 to 1000, got ${maxBatch}`);
    }
    this.runtime = options.runtime ?? getTaskerRuntime();
    this.events = options.events ?? new TaskerEventEmitter();
    this.events.start();
    this.domainEvents = new DomainEventListeners(this.runtime);
  }

  get concurrency(): number {
    return this.options.concurrency ?? 10;
  }

  /** Handlers running now. */
  get inFlight(): number {
    return this.running.size;
  }

  get isRunning(): boolean {
    return this.source?.isRunning() ?? false;
  }

  /**
   * Registers the handler for a template's `handler.callable`: a function
   * `(context) => result`, a class (constructed with the step's
   * initialization, its `call` or the template's `handler.method` invoked),
   * or an object with such methods.
   */
  register(callable: string, handler: StepHandler): this {
    if (typeof callable !== 'string' || !CALLABLE.test(callable)) {
      throw new TypeError(`Worker.register: '${String(callable)}' is not a handler callable (letters, digits, . _ : - /)`);
    }
    const valid = typeof handler === 'function' || (typeof handler === 'object' && handler !== null);
    if (!valid) throw new TypeError(`Worker.register('${callable}'): the handler must be a function, a class or an object`);
    if (this.handlers.has(callable)) throw new Error(`Worker.register: '${callable}' is already registered`);
    this.handlers.set(callable, handler);
    this.events.publish(EventNames.HANDLER_REGISTERED, { callable });
    return this;
  }

  /**
   * Listens to the fast (in-process) domain events whose name matches
   * `pattern` (`payment.*`: `*` is one dot-separated part; a lone `*` is
   * every event), from start() until stop(). Returns the function that
   * removes the listener. A throwing or rejecting listener is logged and
   * affects nothing else; events beyond `bufferSize` waiting for JS are
   * dropped and counted (`domainEventStats()`).
   */
  onDomainEvent(pattern: string | readonly string[], listener: DomainEventListener, options?: DomainEventListenerOptions): () => void {
    return this.domainEvents.add(pattern, listener, options);
  }

  /**
   * Shapes the payloads of the events whose template names `publisher: <name>`:
   * return the payload to publish, or null/undefined not to publish the event.
   */
  registerEventPublisher(name: string, publish: DomainEventPublisherFn): this {
    this.domainEvents.publisher(name, publish);
    return this;
  }

  /** What each listener received and missed, and the worker's event counters. */
  domainEventStats(): DomainEventStats {
    const listeners = this.domainEvents.stats();
    return this.runtime.isWorkerRunning() ? { listeners, worker: this.runtime.getDomainEventStats() } : { listeners };
  }

  /** Bootstraps the native worker and starts taking events. */
  async start(): Promise<BootstrapResult> {
    if (this.source) throw new Error('Worker.start: already started');
    if (this.handlers.size === 0) throw new Error('Worker.start: register at least one handler first');
    const mode = this.options.delivery ?? 'push';
    // Claims follow what the handlers can run: push delivery sets the limit
    // from maxInFlight; in poll mode it is given here.
    const config =
      mode === 'poll' && this.options.config.maxClaimedSteps == null
        ? { ...this.options.config, maxClaimedSteps: this.concurrency }
        : this.options.config;
    const result = await this.runtime.bootstrapWorker(config);
    if (result.status !== 'started') {
      throw new Error(`Worker.start: ${result.message} (another worker already runs in this process)`);
    }
    this.workerId = result.workerId;
    // Before the first step runs, so no event of this worker's steps is missed.
    this.domainEvents.attach();
    const callbacks = {
      onStepEvent: (event: StepEvent) => void this.execute(event),
      onError: (error: Error) => this.events.publish(EventNames.POLLER_ERROR, { error }),
      onMetrics: (metrics: DeliveryMetrics) => this.events.publish(EventNames.POLLER_METRICS, metrics),
    };
    this.source =
      mode === 'push'
        ? new PushDelivery(this.runtime, { ...callbacks, maxInFlight: this.concurrency, maxBatch: this.options.maxBatch })
        : new EventPoller(this.runtime, {
            ...callbacks,
            intervalMs: this.options.pollIntervalMs ?? 10,
            capacity: () => this.concurrency - this.running.size,
          });
    this.source.start();
    if (this.options.handleSignals) this.installSignalHandlers();
    this.events.publish(EventNames.WORKER_STARTED, { workerId: this.workerId, delivery: mode });
    return result;
  }

  /**
   * Shuts down in order: stop taking events, stop the core claiming steps,
   * let in-flight handlers finish until the drain deadline, abort and fail
   * (as retryable) what remains, then stop the core, which hands back claimed
   * steps no handler received.
   */
  stop(): Promise<WorkerStopSummary> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<WorkerStopSummary> {
    this.removeSignalHandlers();
    this.draining = true;
    this.settledDuringDrain = 0;
    await this.source?.stop();
    const graceful = this.runtime.isWorkerRunning()
      ? this.runtime.transitionToGracefulShutdown().catch((e) => this.reportError(asError(e)))
      : Promise.resolve();
    await this.waitForIdle(this.options.drainTimeoutMs ?? 30000);
    const leftovers = [...this.running.values()];
    await Promise.all(
      leftovers.map((run) => {
        run.controller.abort(new Error('the worker is shutting down'));
        return this.settle(run, {
          outcome: 'retryable_failure',
          error: { message: 'the worker shut down before the handler finished', errorType: 'WorkerShutdown' },
        });
      }),
    );
    await graceful;
    let handedBack = 0;
    if (this.runtime.isWorkerRunning()) handedBack = (await this.runtime.stopWorker()).handedBack;
    // After the core stopped: the drained steps' events were still delivered.
    this.domainEvents.detach();
    const summary = { completed: this.settledDuringDrain - leftovers.length, abandoned: leftovers.length, handedBack };
    this.events.publish(EventNames.WORKER_STOPPED, { workerId: this.workerId, ...summary });
    return summary;
  }

  private waitForIdle(timeoutMs: number): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.idleWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.idleWaiters.add(done);
    });
  }

  private logger(event: StepEvent): StepLogger {
    const base = { task_uuid: event.taskUuid, step_uuid: event.stepUuid, step: event.workflowStep.name };
    const at = (level: 'logError' | 'logWarn' | 'logInfo' | 'logDebug' | 'logTrace') => (message: string, fields?: Record<string, unknown>) => {
      try {
        this.runtime[level](message, { ...base, ...fields });
      } catch (e) {
        this.reportError(asError(e), event);
      }
    };
    return { error: at('logError'), warn: at('logWarn'), info: at('logInfo'), debug: at('logDebug'), trace: at('logTrace') };
  }

  private resolve(event: StepEvent): Invoke | undefined {
    const callable = event.stepDefinition.handlerCallable;
    const handler = this.handlers.get(callable);
    if (handler === undefined) return undefined;
    const method = event.stepDefinition.handlerMethod || 'call';
    if (typeof handler === 'function' && !isClass(handler)) {
      if (method !== 'call') return undefined;
      return handler as Invoke;
    }
    let instance = this.instances.get(callable);
    if (!instance) {
      instance = isClass(handler) ? new handler(event.stepDefinition.handlerInitialization) : (handler as StepHandlerInstance);
      this.instances.set(callable, instance);
    }
    const target = instance;
    const fn = (target as Record<string, unknown>)[method];
    return typeof fn === 'function' ? (context) => (fn as Invoke).call(target, context) : undefined;
  }

  private async execute(event: StepEvent): Promise<void> {
    const run: Running = { event, controller: new AbortController(), startedAt: performance.now(), settled: false };
    this.running.set(event.eventId, run);
    this.events.publish(EventNames.STEP_EXECUTION_RECEIVED, { event });
    const invoke = this.resolve(event);
    if (!invoke) {
      const callable = event.stepDefinition.handlerCallable;
      const method = event.stepDefinition.handlerMethod || 'call';
      const known = [...this.handlers.keys()].join(', ') || 'none';
      const error = new PermanentError(
        `no handler registered for '${callable}' with method '${method}' (registered: ${known}); register it with worker.register('${callable}', handler)`,
      );
      this.reportError(error, event);
      await this.settle(run, failureCompletion(error));
      return;
    }
    const timeoutMs = (event.stepDefinition.timeoutSeconds ?? 0) * 1000 || (this.options.defaultTimeoutMs ?? 30000);
    run.timer = setTimeout(() => {
      const reason = new Error(`step handler timed out after ${timeoutMs} ms`);
      reason.name = 'TimeoutError';
      run.controller.abort(reason);
      void this.settle(run, failureCompletion(reason));
    }, timeoutMs);
    try {
      const value = await invoke(createStepContext(event, run.controller.signal, this.logger(event)));
      await this.settle(run, isStepResult(value) ? value : { outcome: 'success', result: value ?? {} });
    } catch (error) {
      if (!run.settled) this.reportError(asError(error), event);
      await this.settle(run, failureCompletion(error));
    }
  }

  /** Sends the step's one result; later calls for the same run do nothing. */
  private async settle(run: Running, outcome: StepCompletion | StepResult): Promise<void> {
    if (run.settled) return;
    run.settled = true;
    clearTimeout(run.timer);
    const { event } = run;
    const executionTimeMs = performance.now() - run.startedAt;
    let completion: StepCompletion | undefined;
    try {
      if (isStepResult(outcome) && outcome.checkpoint) {
        await this.runtime.checkpointYieldStepEvent(event.eventId, outcome.checkpoint);
      } else {
        completion = { ...(isStepResult(outcome) ? outcome.completion : outcome), executionTimeMs } as StepCompletion;
        await this.complete(event, completion);
      }
    } catch (e) {
      this.reportError(asError(e), event);
    } finally {
      this.running.delete(event.eventId);
      if (this.draining) this.settledDuringDrain++;
      this.events.publish(EventNames.STEP_COMPLETION_SENT, {
        eventId: event.eventId,
        stepUuid: event.stepUuid,
        outcome: completion?.outcome ?? 'checkpoint',
        durationMs: executionTimeMs,
      });
      if (this.running.size === 0) for (const wake of [...this.idleWaiters]) wake();
    }
  }

  private async complete(event: StepEvent, completion: StepCompletion): Promise<void> {
    try {
      await this.runtime.completeStepEvent(event.eventId, completion);
    } catch (e) {
      // A result that cannot be stored (not JSON, malformed) must not strand the step.
      if (e instanceof FfiCallError && e.code === 'INVALID_ARGUMENT') {
        this.reportError(e, event);
        await this.runtime.completeStepEvent(event.eventId, {
          outcome: 'permanent_failure',
          error: { message: `the handler's result was rejected: ${e.message}`, errorType: 'InvalidResult' },
          executionTimeMs: completion.executionTimeMs,
        });
        return;
      }
      throw e;
    }
  }

  private reportError(error: Error, event?: StepEvent): void {
    this.events.publish(EventNames.HANDLER_ERROR, {
      error,
      eventId: event?.eventId,
      stepUuid: event?.stepUuid,
      callable: event?.stepDefinition.handlerCallable,
    });
  }

  private installSignalHandlers(): void {
    const handler = () => {
      void this.stop().finally(() => process.exit(0));
    };
    this.signalHandler = handler;
    process.once('SIGINT', handler);
    process.once('SIGTERM', handler);
  }

  private removeSignalHandlers(): void {
    if (!this.signalHandler) return;
    process.off('SIGINT', this.signalHandler);
    process.off('SIGTERM', this.signalHandler);
    this.signalHandler = undefined;
  }
}
