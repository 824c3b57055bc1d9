/**
 * The Worker: registered handlers run for the steps tasker-core hands this
 * process, with per-step timeouts, an AbortSignal, a concurrency limit that
 * holds before an event is taken from the channel, and an orderly shutdown.
 */
import type { BootstrapResult, StepCancellation, StepCompletion, StepEvent, WorkerConfig } from '../index';
import { FfiCallError } from './errors';
import { Deadlines } from './deadlines';
import { asError, type StepEventSource } from './delivery';
import {
  DomainEventListeners,
  type DomainEventListener,
  type DomainEventListenerOptions,
  type DomainEventListenerStats,
  type DomainEventPublisherFn,
} from './domain-events';
import { EventNames, TaskerEventEmitter, type DeliveryMetrics } from './events';
import { failureCompletion, PermanentError, StepCancelledError } from './failures';
import { createStepContext, type StepContext, type StepHandler, type StepLogger } from './handler';
import { EventPoller } from './poller';
import { PushDelivery } from './push';
import {
  checkCallable,
  ExplicitMappingResolver,
  isHandlerClass,
  ModuleResolver,
  type HandlerResolver,
  type HandlerSource,
} from './resolvers';
import { isStepResult, type StepResult } from './results';
import { getTaskerRuntime, type LogFields, type TaskerRuntime } from './runtime';
import { findMissing, HandlerValidationError, servedTemplates, type StepCheck, type ValidationReport } from './validation';

export interface WorkerOptions {
  /** Passed to the native bootstrap: databaseUrl, templatePath, namespace, ... */
  config: WorkerConfig;
  /** How events arrive: pushed by the native side (default) or polled every 10 ms. */
  delivery?: 'push' | 'poll';
  /** Most handlers running at once (default 10). */
  concurrency?: number;
  /** Push delivery: most ready events handed over in one native call (default 1: one per call, measured faster here; see BENCHMARKS.md). */
  maxBatch?: number;
  /** Timeout of steps whose template sets no timeout_seconds (default 30000 ms). */
  defaultTimeoutMs?: number;
  /** How long stop() lets in-flight handlers finish (default 30000 ms). */
  drainTimeoutMs?: number;
  /** Poll interval in poll mode (default 10 ms). */
  pollIntervalMs?: number;
  /** Stop gracefully on SIGINT/SIGTERM, then exit (default false). */
  handleSignals?: boolean;
  /**
   * Handler modules for the `module_lookup` resolver: folders, files, or a
   * map of modules by key (callable `orders.validate` is export `validate`
   * of module `orders`). Asked after `register`ed handlers.
   */
  handlers?: HandlerSource | HandlerSource[];
  /** More resolvers, asked in this order after the registered handlers (and `handlers`). */
  resolvers?: HandlerResolver[];
  /**
   * Check at start that every step of the served namespaces' templates has
   * a handler (default true). Turn off when other workers serve some steps.
   */
  validateHandlers?: boolean;
  /** Where `ctx.logger` lines go (default: the worker's native log). */
  stepLog?: (level: StepLogLevel, message: string, fields: LogFields) => void;
  runtime?: TaskerRuntime;
  events?: TaskerEventEmitter;
}

export type StepLogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';

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
  /**
   * Made when the handler first reads its signal: most never do, and in Bun
   * an AbortController and its signal are native objects with finalizers.
   */
  controller?: AbortController;
  /** Why the step was aborted before its signal was read (the first reason wins, as with abort()). */
  abortedWith?: { reason: unknown };
  startedAt: number;
  settled: boolean;
}

/** The step's AbortSignal, made on first use; already aborted when the step was. */
function signalOf(run: Running): AbortSignal {
  if (!run.controller) {
    run.controller = new AbortController();
    if (run.abortedWith) run.controller.abort(run.abortedWith.reason);
  }
  return run.controller.signal;
}

function abortRun(run: Running, reason: unknown): void {
  if (run.controller) run.controller.abort(reason);
  else run.abortedWith ??= { reason };
}

type Invoke = (context: StepContext) => unknown;

/** A handler found for a step, or why there is none. */
type Lookup = { handler: StepHandler; resolver: HandlerResolver } | { reason: string };

/** JSON with sorted keys: equal initializations give one key. */
function stableKey(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableKey).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableKey((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Whether `target` (or what it inherits) has `method` as a function, reading descriptors only. */
function hasMethod(target: object, method: string): boolean {
  for (let o: object | null = target; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    const descriptor = Object.getOwnPropertyDescriptor(o, method);
    if (descriptor) return typeof descriptor.value === 'function' || descriptor.get !== undefined;
  }
  return false;
}

const kindOf = (handler: StepHandler) => (isHandlerClass(handler) ? 'class' : typeof handler === 'function' ? 'function' : 'object');

export class Worker {
  readonly events: TaskerEventEmitter;
  private readonly runtime: TaskerRuntime;
  private readonly explicit = new ExplicitMappingResolver();
  private readonly resolvers: HandlerResolver[] = [this.explicit];
  private readonly instances = new Map<string, object>();
  private prepared: Promise<void> | undefined;
  private readonly running = new Map<string, Running>();
  /** Each running step's timeout, on one timer. */
  private readonly deadlines = new Deadlines<Running>((error) => this.reportError(asError(error)));
  private readonly idleWaiters = new Set<() => void>();
  private source: StepEventSource | undefined;
  private cancellations: { close(): void } | undefined;
  private unwatchMetrics: (() => void) | undefined;
  private starting = false;
  private workerId = '';
  private stopping: Promise<WorkerStopSummary> | undefined;
  private settledDuringDrain = 0;
  private draining = false;
  private signalHandler: ((signal: NodeJS.Signals) => void) | undefined;
  private readonly domainEvents: DomainEventListeners;

  constructor(private readonly options: WorkerOptions) {
    if (!options?.config) throw new TypeError('Worker: options.config is required (databaseUrl, templatePath, ...)');
    const concurrency = options.concurrency ?? 10;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 10000) {
      throw new RangeError(`Worker: concurrency must be an integer from 1 to 10000, got ${concurrency}`);
    }
    const maxBatch = options.maxBatch ?? 1;
    if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > 1000) {
      throw new RangeError(`Worker: maxBatch must be an integer from 1 to 1000, got ${maxBatch}`);
    }
    this.runtime = options.runtime ?? getTaskerRuntime();
    this.events = options.events ?? new TaskerEventEmitter();
    if (options.handlers !== undefined) this.addResolver(new ModuleResolver(options.handlers));
    for (const resolver of options.resolvers ?? []) this.addResolver(resolver);
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
   * Registers the handler for a template's `handler.callable` (or several,
   * given an object of callable → handler): a function `(context) => result`,
   * a class (constructed with the step's initialization, its `call` or the
   * template's `handler.method` invoked), or an object with such methods.
   */
  register(callable: string, handler: StepHandler): this;
  register(handlers: Record<string, StepHandler>): this;
  register(callableOrMap: string | Record<string, StepHandler>, handler?: StepHandler): this {
    if (typeof callableOrMap === 'object' && callableOrMap !== null && handler === undefined) {
      for (const [callable, h] of Object.entries(callableOrMap)) this.register(callable, h);
      return this;
    }
    const callable = checkCallable('Worker.register', callableOrMap);
    const valid = typeof handler === 'function' || (typeof handler === 'object' && handler !== null);
    if (!valid) throw new TypeError(`Worker.register('${callable}'): the handler must be a function, a class or an object`);
    if (this.explicit.resolve(callable) !== undefined) throw new Error(`Worker.register: '${callable}' is already registered`);
    this.explicit.register(callable, handler as StepHandler);
    this.events.emit(EventNames.HANDLER_REGISTERED, { callable });
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

  /** Adds a resolver to the chain (asked after those already there). Its name must be new. */
  addResolver(resolver: HandlerResolver): this {
    if (typeof resolver !== 'object' || resolver === null || typeof resolver.resolve !== 'function') {
      throw new TypeError('Worker.addResolver: a resolver is an object with a name and resolve(callable)');
    }
    if (typeof resolver.name !== 'string' || !/^[A-Za-z0-9_.:-]{1,100}$/.test(resolver.name)) {
      throw new TypeError(`Worker.addResolver: '${String(resolver.name)}' is not a resolver name (letters, digits, _ . : -)`);
    }
    if (this.resolvers.some((r) => r.name === resolver.name)) throw new Error(`Worker.addResolver: a resolver named '${resolver.name}' is already in the chain`);
    if (this.source) throw new Error('Worker.addResolver: add resolvers before start()');
    this.resolvers.push(resolver);
    this.prepared = undefined;
    return this;
  }

  /** The resolver names, in the order they are asked. */
  get resolverNames(): string[] {
    return this.resolvers.map((r) => r.name);
  }

  /** Prepares every resolver (loads handler modules) once. */
  private prepare(): Promise<void> {
    this.prepared ??= (async () => {
      for (const resolver of this.resolvers) await resolver.prepare?.();
    })();
    this.prepared.catch(() => (this.prepared = undefined));
    return this.prepared;
  }

  /**
   * Checks, without starting, that every step of the templates this worker
   * would serve has a handler with its method. Throws the addon's
   * INVALID_ARGUMENT error for a template that does not parse.
   */
  async validate(): Promise<ValidationReport> {
    await this.prepare();
    const templatePath = this.options.config.templatePath ?? process.env.TASKER_TEMPLATE_PATH;
    const namespaces = [...new Set([this.options.config.namespace, ...(this.options.config.namespaces ?? [])].filter((n): n is string => !!n))];
    if (!templatePath) return { namespaces, templates: [], steps: 0, missing: [], notes: [] };
    const templates = servedTemplates(this.runtime.loadTaskTemplates(templatePath), namespaces);
    const { steps, missing, notes } = findMissing(templates, (callable, method, resolver) => this.checkStep(callable, method, resolver));
    return { templatePath, namespaces, templates, steps, missing, notes };
  }

  private checkStep(callable: string, method: string, resolverHint: string | undefined): StepCheck {
    const found = this.lookup(callable, method, resolverHint);
    if ('reason' in found) return found;
    const { handler } = found;
    if (isHandlerClass(handler)) {
      const prototype = Object.getOwnPropertyDescriptor(handler, 'prototype')?.value as object | undefined;
      return prototype && hasMethod(prototype, method) ? undefined : { reason: `its class has no method '${method}'` };
    }
    if (typeof handler === 'function') {
      // As tasker-core's own worker does: the callable names its own function.
      if (method === 'call') return undefined;
      return { note: { level: 'info', message: `'${callable}' is a function handler: it serves the template's method '${method}' itself` } };
    }
    return hasMethod(handler, method) ? undefined : { reason: `its handler object has no method '${method}'` };
  }

  /** The handler for a callable: through the named resolver only, else the chain in order. */
  private lookup(callable: string, method: string, resolverHint: string | undefined): Lookup {
    if (resolverHint) {
      const resolver = this.resolvers.find((r) => r.name === resolverHint);
      if (!resolver) {
        return { reason: `the template names resolver '${resolverHint}', which this worker does not have (resolvers: ${this.resolverNames.join(', ')})` };
      }
      const handler = resolver.resolve(callable);
      return handler !== undefined ? { handler, resolver } : { reason: `resolver '${resolverHint}' has no handler for '${callable}'${this.known(resolver)}` };
    }
    for (const resolver of this.resolvers) {
      const handler = resolver.resolve(callable);
      if (handler !== undefined) return { handler, resolver };
    }
    const known = this.explicit.callables().join(', ') || 'none';
    if (this.resolvers.length === 1) {
      return { reason: `no handler registered for '${callable}' with method '${method}' (registered: ${known}); register it with worker.register('${callable}', handler)` };
    }
    const others = this.resolvers.slice(1).map((r) => `${r.name}${this.known(r)}`).join('; ');
    return {
      reason: `no handler for '${callable}' with method '${method}': not registered (registered: ${known}) and not found by ${others}; register it with worker.register('${callable}', handler)`,
    };
  }

  private known(resolver: HandlerResolver): string {
    const callables = resolver.callables?.();
    if (!callables) return '';
    const shown = callables.slice(0, 20).join(', ') + (callables.length > 20 ? `, … ${callables.length - 20} more` : '');
    return ` (it knows: ${shown || 'none'})`;
  }

  /** Bootstraps the native worker and starts taking events. */
  async start(): Promise<BootstrapResult> {
    if (this.source || this.starting) throw new Error('Worker.start: already started');
    if (this.explicit.size === 0 && this.resolvers.length === 1) {
      throw new Error('Worker.start: register at least one handler first (or give handler modules / a resolver)');
    }
    this.starting = true;
    try {
      return await this.startNow();
    } finally {
      this.starting = false;
    }
  }

  private async startNow(): Promise<BootstrapResult> {
    await this.prepare();
    let report: ValidationReport | undefined;
    if (this.options.validateHandlers !== false) {
      report = await this.validate();
      if (report.missing.length > 0) throw new HandlerValidationError(report.missing);
    }
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
    // Once, now that the worker's log is set up.
    for (const note of report?.notes ?? []) this.note(note.level, note.message, { template: note.template, step: note.step, file: note.file });
    // Before the first step runs, so no event of this worker's steps is missed.
    this.domainEvents.attach();
    this.cancellations = this.runtime.subscribeStepCancellations?.((c) => this.cancelled(c));
    const callbacks = {
      onStepEvent: (event: StepEvent) => void this.execute(event),
      onError: (error: Error) => this.events.emit(EventNames.POLLER_ERROR, { error }),
      onMetrics: (metrics: DeliveryMetrics) => this.events.emit(EventNames.POLLER_METRICS, metrics),
    };
    // Metrics are read only while something listens to `poller.metrics`.
    if (mode === 'push') {
      const push = new PushDelivery(this.runtime, { ...callbacks, maxInFlight: this.concurrency, maxBatch: this.options.maxBatch });
      this.source = push;
      this.unwatchMetrics = this.events.watchListeners(EventNames.POLLER_METRICS, (count) => push.setMetricsWanted(count > 0));
      push.start();
    } else {
      this.source = new EventPoller(this.runtime, {
        ...callbacks,
        intervalMs: this.options.pollIntervalMs ?? 10,
        capacity: () => this.concurrency - this.running.size,
        wantsMetrics: () => this.events.listenerCount(EventNames.POLLER_METRICS) > 0,
      });
      this.source.start();
    }
    if (this.options.handleSignals) this.installSignalHandlers();
    let namespaces: string[] = [];
    try {
      namespaces = this.runtime.getWorkerStatus().namespaces ?? [];
    } catch (e) {
      this.reportError(asError(e));
    }
    this.events.emit(EventNames.WORKER_STARTED, { workerId: this.workerId, delivery: mode, namespaces });
    return result;
  }

  /**
   * Shuts down in order: stop taking events, stop the core claiming steps,
   * let in-flight handlers finish until the drain deadline, abort and fail
   * (as retryable) what remains, then stop the core, which hands back claimed
   * steps no handler received.
   */
  stop(): Promise<WorkerStopSummary> {
    return this.stopFor(undefined);
  }

  private stopFor(signal: string | undefined): Promise<WorkerStopSummary> {
    this.stopping ??= this.shutdown(signal);
    return this.stopping;
  }

  private async shutdown(signal: string | undefined): Promise<WorkerStopSummary> {
    this.removeSignalHandlers();
    this.events.emit(EventNames.WORKER_STOPPING, { workerId: this.workerId, inFlight: this.running.size, ...(signal ? { signal } : {}) });
    this.draining = true;
    this.settledDuringDrain = 0;
    this.unwatchMetrics?.();
    this.unwatchMetrics = undefined;
    await this.source?.stop();
    const graceful = this.runtime.isWorkerRunning()
      ? this.runtime.transitionToGracefulShutdown().catch((e) => this.reportError(asError(e)))
      : Promise.resolve();
    await this.waitForIdle(this.options.drainTimeoutMs ?? 30000);
    const leftovers = [...this.running.values()];
    await Promise.all(
      leftovers.map((run) => {
        abortRun(run, new Error('the worker is shutting down'));
        return this.settle(run, {
          outcome: 'retryable_failure',
          error: { message: 'the worker shut down before the handler finished', errorType: 'WorkerShutdown' },
        });
      }),
    );
    // Every step has settled: nothing may keep the timer (and the process) alive.
    this.deadlines.clear();
    await graceful;
    let handedBack = 0;
    if (this.runtime.isWorkerRunning()) handedBack = (await this.runtime.stopWorker()).handedBack;
    // After the core stopped: the drained steps' events were still delivered.
    this.domainEvents.detach();
    this.cancellations?.close();
    this.cancellations = undefined;
    const summary = { completed: this.settledDuringDrain - leftovers.length, abandoned: leftovers.length, handedBack };
    this.events.emit(EventNames.WORKER_STOPPED, { workerId: this.workerId, ...summary });
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
    const sink = this.options.stepLog;
    const native = { error: 'logError', warn: 'logWarn', info: 'logInfo', debug: 'logDebug', trace: 'logTrace' } as const;
    const at = (level: StepLogLevel) => (message: string, fields?: Record<string, unknown>) => {
      try {
        if (sink) sink(level, message, { ...base, ...fields });
        else this.runtime[native[level]](message, { ...base, ...fields });
      } catch (e) {
        this.reportError(asError(e), event);
      }
    };
    return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), trace: at('trace') };
  }

  /** The function to run for a step, or why there is none. */
  private resolve(event: StepEvent): Invoke | string {
    const definition = event.stepDefinition;
    const callable = definition.handlerCallable;
    const method = definition.handlerMethod || 'call';
    const found = this.lookup(callable, method, definition.handlerResolver ?? undefined);
    if ('reason' in found) return found.reason;
    const { handler, resolver } = found;
    // A function serves whatever method the template names (tasker-core's worker does the same).
    if (typeof handler === 'function' && !isHandlerClass(handler)) return handler as Invoke;
    let target: object;
    if (isHandlerClass(handler)) {
      // One instance per class and initialization: steps that configure it differently get their own.
      const initialization = definition.handlerInitialization ?? {};
      const key = `${resolver.name}\u0000${callable}\u0000${stableKey(initialization)}`;
      let instance = this.instances.get(key);
      if (!instance) {
        instance = new handler(initialization);
        this.instances.set(key, instance);
      }
      target = instance;
    } else {
      target = handler;
    }
    const fn = (target as Record<string, unknown>)[method];
    if (typeof fn !== 'function') return `the ${kindOf(handler)} handler of '${callable}' has no method '${method}'`;
    return (context) => (fn as Invoke).call(target, context);
  }

  /** A result that does not fit the step's type, which tasker would otherwise ignore or misread. */
  private mismatch(event: StepEvent, outcome: StepCompletion | StepResult): string | undefined {
    const type = event.stepDefinition.stepType;
    if (!type || (isStepResult(outcome) && outcome.kind === 'checkpoint')) return undefined;
    const completion = isStepResult(outcome) ? outcome.completion : outcome;
    if (completion?.outcome !== 'success') return undefined;
    const step = `step '${event.workflowStep.name}'`;
    if (type === 'decision' && !completion.decision) {
      return `${step} is a decision step: its handler must return decision([...steps], result) or noBranches(result)`;
    }
    if (type !== 'decision' && completion.decision) {
      return `${step} returned a decision, but its template step is of type '${type}', not 'decision'`;
    }
    if (type === 'batchable' && !completion.batch) {
      return `${step} is a batchable step: its handler must return batches(workerTemplate, ranges, result) or noBatches(result)`;
    }
    if (type !== 'batchable' && completion.batch) {
      return `${step} returned batches, but its template step is of type '${type}', not 'batchable'`;
    }
    // noBatches() without handler.initialization.worker_template_name is sent as is:
    // tasker accepts it (start-up validation warns about such templates).
    return undefined;
  }

  private async execute(event: StepEvent): Promise<void> {
    const run: Running = { event, startedAt: performance.now(), settled: false };
    this.running.set(event.eventId, run);
    this.events.emit(EventNames.STEP_EXECUTION_RECEIVED, { event });
    let invoke: Invoke | string;
    try {
      invoke = this.resolve(event);
    } catch (error) {
      // A handler class whose constructor threw: retryable, like any exception.
      this.reportError(asError(error), event);
      await this.settle(run, failureCompletion(error));
      return;
    }
    if (typeof invoke === 'string') {
      const error = new PermanentError(invoke, { errorCode: 'NO_HANDLER' });
      this.reportError(error, event);
      await this.settle(run, failureCompletion(error));
      return;
    }
    const timeoutMs = (event.stepDefinition.timeoutSeconds ?? 0) * 1000 || (this.options.defaultTimeoutMs ?? 30000);
    this.deadlines.add(run, timeoutMs, () => {
      const reason = new Error(`step handler timed out after ${timeoutMs} ms`);
      reason.name = 'TimeoutError';
      abortRun(run, reason);
      void this.settle(run, failureCompletion(reason));
    });
    try {
      const value = await invoke(createStepContext(event, () => signalOf(run), this.logger(event)));
      const outcome: StepCompletion | StepResult = isStepResult(value) ? value : { outcome: 'success', result: value === undefined ? {} : value };
      const mismatch = this.mismatch(event, outcome);
      if (mismatch === undefined) {
        await this.settle(run, outcome);
      } else {
        const error = new PermanentError(mismatch, { errorCode: 'RESULT_DOES_NOT_FIT_STEP' });
        if (!run.settled) this.reportError(error, event);
        await this.settle(run, failureCompletion(error));
      }
    } catch (error) {
      if (!run.settled) this.reportError(asError(error), event);
      await this.settle(run, failureCompletion(error));
    }
  }

  /**
   * The step's task was cancelled while its handler ran: the native side
   * released its event, so no result is sent; the handler's signal aborts.
   */
  private cancelled(cancellation: StepCancellation): void {
    const run = this.running.get(cancellation.eventId);
    if (!run || run.settled) return;
    run.settled = true;
    this.deadlines.remove(run);
    abortRun(run, new StepCancelledError(cancellation.reason));
    this.running.delete(cancellation.eventId);
    if (this.draining) this.settledDuringDrain++;
    this.events.emit(EventNames.STEP_CANCELLED, {
      eventId: cancellation.eventId,
      stepUuid: cancellation.stepUuid,
      taskUuid: cancellation.taskUuid,
      stepName: run.event.workflowStep.name,
      callable: run.event.stepDefinition.handlerCallable,
      reason: cancellation.reason,
    });
    if (this.running.size === 0) for (const wake of [...this.idleWaiters]) wake();
  }

  /** Sends the step's one result; later calls for the same run do nothing. */
  private async settle(run: Running, outcome: StepCompletion | StepResult): Promise<void> {
    if (run.settled) return;
    run.settled = true;
    this.deadlines.remove(run);
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
      this.events.emit(EventNames.STEP_COMPLETION_SENT, {
        eventId: event.eventId,
        stepUuid: event.stepUuid,
        stepName: event.workflowStep.name,
        callable: event.stepDefinition.handlerCallable,
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

  /** A line in the worker's log (or `stepLog`), for notes that concern no step. */
  private note(level: 'info' | 'warn', message: string, fields: LogFields): void {
    try {
      if (this.options.stepLog) this.options.stepLog(level, message, fields);
      else this.runtime[level === 'warn' ? 'logWarn' : 'logInfo'](message, fields);
    } catch (e) {
      this.reportError(asError(e));
    }
  }

  private reportError(error: Error, event?: StepEvent): void {
    this.events.emit(EventNames.HANDLER_ERROR, {
      error,
      eventId: event?.eventId,
      stepUuid: event?.stepUuid,
      callable: event?.stepDefinition.handlerCallable,
    });
  }

  private installSignalHandlers(): void {
    const handler = (signal: NodeJS.Signals) => {
      void this.stopFor(signal).finally(() => process.exit(0));
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
