/**
 * Domain events for the Worker: listeners by name or pattern, attached to the
 * worker's in-process bus while it runs, and publishers that shape the
 * payload of a template's `publisher:`. A listener's failure (a throw, a
 * rejected Promise) is logged and touches nothing else.
 */
import type { DomainEventInfo, DomainEventSubscription, PublisherContext } from '../index';
import type { LogFields, TaskerRuntime } from './runtime';

/** A domain event as a listener receives it (name, payload, task/step metadata). */
export type DomainEvent = DomainEventInfo;
export type { PublisherContext };
/** Called once per matching event; may be async. */
export type DomainEventListener = (event: DomainEvent) => void | Promise<void>;
/** Answers the payload to publish, or null/undefined not to publish the event. */
export type DomainEventPublisherFn = (context: PublisherContext) => unknown;

export interface DomainEventListenerOptions {
  /** Most events waiting for this listener before new ones are dropped (counted and logged); default 1000. */
  bufferSize?: number;
}

/** What a listener has received and missed. */
export interface DomainEventListenerStats {
  patterns: string[];
  delivered: number;
  dropped: number;
}

interface Entry {
  patterns: string[];
  listener: DomainEventListener;
  options: DomainEventListenerOptions;
  subscription?: DomainEventSubscription;
  removed: boolean;
}

type Runtime = Pick<TaskerRuntime, 'subscribeDomainEvents' | 'registerDomainEventPublisher' | 'logWarn'>;

export class DomainEventListeners {
  private readonly entries: Entry[] = [];
  private attached = false;

  constructor(private readonly runtime: Runtime) {}

  /** Adds a listener; at once if the worker runs, else when it starts. Returns the function that removes it. */
  add(pattern: string | readonly string[], listener: DomainEventListener, options: DomainEventListenerOptions = {}): () => void {
    const patterns = typeof pattern === 'string' ? [pattern] : Array.isArray(pattern) ? [...pattern] : [];
    if (patterns.length === 0 || patterns.some((p) => typeof p !== 'string' || p.trim() === '')) {
      throw new TypeError('onDomainEvent: give an event name or pattern such as "payment.*" (or a list of them), none empty');
    }
    if (typeof listener !== 'function') throw new TypeError('onDomainEvent: the listener must be a function');
    const size = options?.bufferSize;
    if (size !== undefined && !(Number.isInteger(size) && size >= 1 && size <= 100_000)) {
      throw new RangeError(`onDomainEvent: bufferSize must be an integer from 1 to 100000, got ${String(size)}`);
    }
    const entry: Entry = { patterns, listener, options: options ?? {}, removed: false };
    this.entries.push(entry);
    if (this.attached) this.subscribe(entry);
    return () => {
      if (entry.removed) return;
      entry.removed = true;
      entry.subscription?.close();
      this.entries.splice(this.entries.indexOf(entry), 1);
    };
  }

  /** Registers (or replaces) the publisher `name`; it shapes the events published from then on. */
  publisher(name: string, publish: DomainEventPublisherFn): void {
    if (typeof publish !== 'function') throw new TypeError('registerEventPublisher: the publisher must be a function');
    this.runtime.registerDomainEventPublisher(name, async (context) => publish(context));
  }

  /** Subscribes every listener (the worker has started). */
  attach(): void {
    this.attached = true;
    for (const entry of this.entries) this.subscribe(entry);
  }

  /** Closes every subscription (the worker stops); listeners stay for a later start. */
  detach(): void {
    this.attached = false;
    for (const entry of this.entries) {
      entry.subscription?.close();
      entry.subscription = undefined;
    }
  }

  stats(): DomainEventListenerStats[] {
    return this.entries.map((e) => ({ patterns: e.patterns, delivered: e.subscription?.delivered ?? 0, dropped: e.subscription?.dropped ?? 0 }));
  }

  private subscribe(entry: Entry): void {
    const warn = (error: unknown, event: DomainEvent) => {
      const fields: LogFields = { event: event.name, task_uuid: event.metadata.taskUuid, error: error instanceof Error ? error.message : String(error) };
      this.runtime.logWarn('a domain event listener failed; other listeners and steps are not affected', fields);
    };
    entry.subscription = this.runtime.subscribeDomainEvents(
      (event) => {
        if (entry.removed) return;
        try {
          const returned = entry.listener(event);
          if (returned && typeof (returned as Promise<void>).then === 'function') (returned as Promise<void>).then(undefined, (e) => warn(e, event));
        } catch (e) {
          warn(e, event);
        }
      },
      { patterns: entry.patterns, bufferSize: entry.options.bufferSize },
    );
  }
}
