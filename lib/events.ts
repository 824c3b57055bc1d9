/** Event names the worker publishes, and a small typed emitter over eventemitter3. */
import { EventEmitter } from 'eventemitter3';

import type { DispatchMetrics, StepEvent } from '../index';

export const EventNames = {
  STEP_EXECUTION_RECEIVED: 'step.execution.received',
  STEP_COMPLETION_SENT: 'step.completion.sent',
  HANDLER_REGISTERED: 'handler.registered',
  HANDLER_ERROR: 'handler.error',
  POLLER_METRICS: 'poller.metrics',
  POLLER_ERROR: 'poller.error',
  WORKER_STARTED: 'worker.started',
  WORKER_STOPPED: 'worker.stopped',
} as const;

export type EventName = (typeof EventNames)[keyof typeof EventNames];

/** Delivery statistics published with `poller.metrics`. */
export interface DeliveryMetrics {
  mode: 'poll' | 'push';
  /** Polls made (poll mode) or events delivered (push mode). */
  ticks: number;
  eventsReceived: number;
  dispatch: DispatchMetrics;
}

export interface EventPayloads {
  'step.execution.received': { event: StepEvent };
  'step.completion.sent': { eventId: string; stepUuid: string; outcome: string; durationMs: number };
  'handler.registered': { callable: string };
  'handler.error': { eventId?: string; stepUuid?: string; callable?: string; error: Error };
  'poller.metrics': DeliveryMetrics;
  'poller.error': { error: Error };
  'worker.started': { workerId: string; delivery: 'poll' | 'push' };
  'worker.stopped': { workerId: string; completed: number; abandoned: number; handedBack: number };
}

export type Listener<N extends EventName> = (payload: EventPayloads[N]) => void;

export interface TaskerEventEmitterOptions {
  /** Told about each publish while the emitter is stopped (default: a warning on stderr per event name). */
  onDropped?: (name: EventName) => void;
}

export class TaskerEventEmitter {
  private readonly emitter = new EventEmitter();
  private active = false;
  private readonly warned = new Set<EventName>();
  private readonly onDropped: (name: EventName) => void;
  /** Events published while stopped. */
  dropped = 0;

  constructor(options: TaskerEventEmitterOptions = {}) {
    this.onDropped =
      options.onDropped ??
      ((name) => {
        if (this.warned.has(name)) return;
        this.warned.add(name);
        process.stderr.write(`[tasker-worker] event '${name}' published while the emitter is stopped; it was dropped\n`);
      });
  }

  start(): void {
    this.active = true;
  }

  stop(): void {
    this.active = false;
  }

  isActive(): boolean {
    return this.active;
  }

  /** Delivers `payload` to the listeners of `name`; returns false (and reports it) when stopped. */
  publish<N extends EventName>(name: N, payload: EventPayloads[N]): boolean {
    if (!this.active) {
      this.dropped++;
      this.onDropped(name);
      return false;
    }
    this.emitter.emit(name, payload);
    return true;
  }

  /** Adds a listener; returns a function that removes it. */
  subscribe<N extends EventName>(name: N, listener: Listener<N>): () => void {
    this.emitter.on(name, listener);
    return () => this.unsubscribe(name, listener);
  }

  unsubscribe<N extends EventName>(name: N, listener: Listener<N>): void {
    this.emitter.off(name, listener);
  }

  listenerCount(name: EventName): number {
    return this.emitter.listenerCount(name);
  }
}
