/**
 * The events a Worker emits, and the emitter they go through: Node's
 * EventEmitter API (`on`, `once`, `off`, `emit`, `listenerCount`, ...) typed
 * per event name. A listener that throws never disturbs the worker: the
 * error is reported (`onListenerError`) and the other listeners still run.
 */
import type { DispatchMetrics, StepEvent } from '../index';

export const EventNames = {
  STEP_EXECUTION_RECEIVED: 'step.execution.received',
  STEP_COMPLETION_SENT: 'step.completion.sent',
  STEP_CANCELLED: 'step.cancelled',
  HANDLER_REGISTERED: 'handler.registered',
  HANDLER_ERROR: 'handler.error',
  POLLER_METRICS: 'poller.metrics',
  POLLER_ERROR: 'poller.error',
  WORKER_STARTED: 'worker.started',
  WORKER_STOPPING: 'worker.stopping',
  WORKER_STOPPED: 'worker.stopped',
} as const;

export type EventName = (typeof EventNames)[keyof typeof EventNames];

/** Delivery statistics emitted with `poller.metrics`. */
export interface DeliveryMetrics {
  mode: 'poll' | 'push';
  /** Polls made (poll mode) or events delivered (push mode). */
  ticks: number;
  eventsReceived: number;
  dispatch: DispatchMetrics;
}

/** The payload of each event, by name. */
export interface EventPayloads {
  /** A step was handed to this worker; its handler is about to run. */
  'step.execution.received': { event: StepEvent };
  /** The step's result went back to tasker (`outcome` is `checkpoint` for a checkpoint yield). */
  'step.completion.sent': {
    eventId: string;
    stepUuid: string;
    stepName: string;
    callable: string;
    outcome: 'success' | 'retryable_failure' | 'permanent_failure' | 'checkpoint';
    durationMs: number;
  };
  /** The step's task was cancelled while its handler ran: the handler's signal aborted, no result is sent. */
  'step.cancelled': { eventId: string; stepUuid: string; taskUuid: string; stepName: string; callable: string; reason: string };
  /** A handler was registered with `worker.register`. */
  'handler.registered': { callable: string };
  /** A handler threw, a result was rejected, or a step had no handler. */
  'handler.error': { eventId?: string; stepUuid?: string; callable?: string; error: Error };
  /** Delivery statistics (every 100 polls in poll mode, periodically in push mode). */
  'poller.metrics': DeliveryMetrics;
  /** Taking events from the native side failed (delivery goes on). */
  'poller.error': { error: Error };
  /** `worker.start()` finished: steps are being claimed. */
  'worker.started': { workerId: string; delivery: 'poll' | 'push'; namespaces: string[] };
  /** `worker.stop()` began (`signal` when a SIGINT/SIGTERM asked for it): no new steps are taken. */
  'worker.stopping': { workerId: string; inFlight: number; signal?: string };
  /** The worker stopped; what happened to the steps it held. */
  'worker.stopped': { workerId: string; completed: number; abandoned: number; handedBack: number };
}

export type Listener<N extends EventName> = (payload: EventPayloads[N]) => void;

export interface TaskerEventEmitterOptions {
  /** Told about each emit while the emitter is stopped (default: a warning on stderr per event name). */
  onDropped?: (name: EventName) => void;
  /** Told when a listener throws (default: one line on stderr). */
  onListenerError?: (error: unknown, name: EventName) => void;
}

interface Entry {
  listener: (payload: never) => void;
  once: boolean;
}

export class TaskerEventEmitter {
  private readonly registry = new Map<EventName, Entry[]>();
  private readonly watchers = new Map<EventName, Set<(count: number) => void>>();
  private active = false;
  private readonly warned = new Set<EventName>();
  private readonly onDropped: (name: EventName) => void;
  private readonly onListenerError: (error: unknown, name: EventName) => void;
  /** Events emitted while stopped. */
  dropped = 0;

  constructor(options: TaskerEventEmitterOptions = {}) {
    this.onDropped =
      options.onDropped ??
      ((name) => {
        if (this.warned.has(name)) return;
        this.warned.add(name);
        process.stderr.write(`[tasker-worker] event '${name}' emitted while the emitter is stopped; it was dropped\n`);
      });
    this.onListenerError =
      options.onListenerError ??
      ((error, name) => {
        const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
        process.stderr.write(`[tasker-worker] a listener of '${name}' threw: ${text}\n`);
      });
  }

  /** Starts delivering (a Worker starts its emitter). */
  start(): void {
    this.active = true;
  }

  /** Stops delivering: emits are counted in `dropped` and reported. */
  stop(): void {
    this.active = false;
  }

  isActive(): boolean {
    return this.active;
  }

  /** Adds a listener; returns the emitter. */
  on<N extends EventName>(name: N, listener: Listener<N>): this {
    return this.add(name, listener, false);
  }

  /** Same as `on`. */
  addListener<N extends EventName>(name: N, listener: Listener<N>): this {
    return this.add(name, listener, false);
  }

  /** Adds a listener that is removed after its first call. */
  once<N extends EventName>(name: N, listener: Listener<N>): this {
    return this.add(name, listener, true);
  }

  /** Removes one registration of `listener` (the last one added, as Node does). */
  off<N extends EventName>(name: N, listener: Listener<N>): this {
    const entries = this.registry.get(name);
    if (!entries) return this;
    for (let i = entries.length - 1; i >= 0; i--) {
      if (entries[i]!.listener === listener) {
        entries.splice(i, 1);
        break;
      }
    }
    if (entries.length === 0) this.registry.delete(name);
    this.changed(name);
    return this;
  }

  /** Same as `off`. */
  removeListener<N extends EventName>(name: N, listener: Listener<N>): this {
    return this.off(name, listener);
  }

  /** Removes every listener of `name`, or of every event. */
  removeAllListeners(name?: EventName): this {
    const names = name === undefined ? [...this.registry.keys()] : [name];
    for (const n of names) {
      this.registry.delete(n);
      this.changed(n);
    }
    return this;
  }

  /**
   * Calls the listeners of `name` in the order they were added. Returns true
   * when at least one listener was called; false when there is none, or when
   * the emitter is stopped (the event is then counted as dropped).
   */
  emit<N extends EventName>(name: N, payload: EventPayloads[N]): boolean {
    if (!this.active) {
      this.dropped++;
      this.onDropped(name);
      return false;
    }
    const entries = this.registry.get(name);
    if (!entries || entries.length === 0) return false;
    // A copy: listeners may add or remove listeners while being called.
    for (const entry of [...entries]) {
      if (entry.once) this.removeEntry(name, entry);
      try {
        (entry.listener as Listener<N>)(payload);
      } catch (error) {
        this.reportListenerError(error, name);
      }
    }
    return true;
  }

  listenerCount(name: EventName): number {
    return this.registry.get(name)?.length ?? 0;
  }

  /** The listeners of `name`, in call order. */
  listeners<N extends EventName>(name: N): Listener<N>[] {
    return (this.registry.get(name) ?? []).map((e) => e.listener as Listener<N>);
  }

  /** Names of the events that have listeners. */
  eventNames(): EventName[] {
    return [...this.registry.keys()];
  }

  /** Alias of `emit` (the earlier name). */
  publish<N extends EventName>(name: N, payload: EventPayloads[N]): boolean {
    return this.emit(name, payload);
  }

  /** Like `on`, but returns a function that removes the listener (the earlier API). */
  subscribe<N extends EventName>(name: N, listener: Listener<N>): () => void {
    this.on(name, listener);
    return () => this.off(name, listener);
  }

  /** Alias of `off` (the earlier name). */
  unsubscribe<N extends EventName>(name: N, listener: Listener<N>): void {
    this.off(name, listener);
  }

  private add<N extends EventName>(name: N, listener: Listener<N>, once: boolean): this {
    if (typeof listener !== 'function') {
      throw new TypeError(`TaskerEventEmitter: the listener of '${String(name)}' must be a function, got ${listener === null ? 'null' : typeof listener}`);
    }
    if (!Object.values(EventNames).includes(name)) {
      throw new TypeError(`TaskerEventEmitter: '${String(name)}' is not an event (${Object.values(EventNames).join(', ')})`);
    }
    const entries = this.registry.get(name) ?? [];
    entries.push({ listener, once });
    this.registry.set(name, entries);
    this.changed(name);
    return this;
  }

  private removeEntry(name: EventName, entry: Entry): void {
    const entries = this.registry.get(name);
    const i = entries?.indexOf(entry) ?? -1;
    if (i >= 0) entries!.splice(i, 1);
    if (entries?.length === 0) this.registry.delete(name);
    this.changed(name);
  }

  /**
   * Calls `watcher` with the listener count of `name` now and on every change;
   * returns a function that stops it. The Worker runs work that only feeds an
   * event (the metrics timer) while something listens to it.
   */
  watchListeners(name: EventName, watcher: (count: number) => void): () => void {
    const set = this.watchers.get(name) ?? new Set();
    set.add(watcher);
    this.watchers.set(name, set);
    watcher(this.listenerCount(name));
    return () => void set.delete(watcher);
  }

  private changed(name: EventName): void {
    const set = this.watchers.get(name);
    if (!set?.size) return;
    const count = this.listenerCount(name);
    for (const watcher of [...set]) watcher(count);
  }

  private reportListenerError(error: unknown, name: EventName): void {
    try {
      this.onListenerError(error, name);
    } catch {
      // The reporter itself failed: nothing sensible is left to do.
    }
  }
}
