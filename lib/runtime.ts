/**
 * The typed contract of the native calls, one implementation over the addon
 * (the same in Node.js, Bun and Deno), and a process-wide instance.
 */
import type {
  BootstrapResult,
  CheckpointData,
  DispatchMetrics,
  DomainEventInfo,
  DomainEventOptions,
  DomainEventSubscription,
  HealthReport,
  PublisherContext,
  StepCancellation,
  StepCancellationSubscription,
  StepCompletion,
  StepEvent,
  StopResult,
  SubscribeOptions,
  TemplateInfo,
  WorkerConfig,
  WorkerStatus,
} from '../index';
import { toCallError } from './errors';
import { loadNative, type LoadOptions, type NativeBinding } from './native';
import { assertSupportedRuntime, detectRuntime, type RuntimeName } from './runtime-detection';

/** Structured key/values attached to a log line. */
export type LogFields = Record<string, unknown>;

/** A live push subscription. */
export interface StepEventSubscriptionHandle {
  close(): void;
  readonly closed: boolean;
  readonly inFlight: number;
  readonly maxInFlight: number;
}

export interface TaskerRuntime {
  readonly runtime: RuntimeName;
  bootstrapWorker(config: WorkerConfig): Promise<BootstrapResult>;
  getWorkerStatus(): WorkerStatus;
  isWorkerRunning(): boolean;
  /** Stops claiming new steps; in-flight steps can still be completed. */
  transitionToGracefulShutdown(): Promise<StopResult>;
  /** Stops the worker; claimed steps nobody completed are handed back for retry. */
  stopWorker(): Promise<StopResult>;
  pollStepEvents(max?: number): StepEvent[];
  completeStepEvent(eventId: string, result: StepCompletion): Promise<void>;
  checkpointYieldStepEvent(eventId: string, data: CheckpointData): Promise<void>;
  subscribeStepEvents(callback: (event: StepEvent) => void, options?: SubscribeOptions): StepEventSubscriptionHandle;
  /** As subscribeStepEvents, with every ready event (up to `maxBatch`) in one call. Optional for custom runtimes. */
  subscribeStepEventBatches?(callback: (events: StepEvent[]) => void, options?: SubscribeOptions): StepEventSubscriptionHandle;
  getFfiDispatchMetrics(): DispatchMetrics;
  /**
   * Tells of each step cancelled (its task cancelled) while its handler ran:
   * its event is released, no result is taken. Optional for custom runtimes.
   */
  subscribeStepCancellations?(callback: (cancellation: StepCancellation) => void): StepCancellationSubscription;
  /** Pushes the worker's in-process (fast) domain events matching `options.patterns` into `callback`. */
  subscribeDomainEvents(callback: (event: DomainEventInfo) => void, options?: DomainEventOptions): DomainEventSubscription;
  /** Lets a template's `publisher: <name>` shape its events' payloads. */
  registerDomainEventPublisher(name: string, publisher: (context: PublisherContext) => unknown): void;
  /** The running worker's event router and in-process bus counters. */
  getDomainEventStats(): Record<string, unknown>;
  checkStarvationWarnings(): void;
  cleanupTimeouts(): number;
  logError(message: string, fields?: LogFields): void;
  logWarn(message: string, fields?: LogFields): void;
  logInfo(message: string, fields?: LogFields): void;
  logDebug(message: string, fields?: LogFields): void;
  logTrace(message: string, fields?: LogFields): void;
  getVersion(): string;
  healthCheck(): HealthReport;
  /**
   * Reads and checks the task templates of a folder as the bootstrap does
   * (INVALID_ARGUMENT naming the file and line for a broken one).
   */
  loadTaskTemplates(templatePath: string): TemplateInfo[];
  /** Stops the worker if one runs. */
  close(): Promise<void>;
}

/** TaskerRuntime over the napi-rs addon; every failure becomes an FfiCallError. */
export class NativeTaskerRuntime implements TaskerRuntime {
  readonly runtime: RuntimeName = detectRuntime();

  constructor(private readonly native: NativeBinding) {}

  private call<T>(name: string, fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw toCallError(name, error);
    }
  }

  private async callAsync<T>(name: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw toCallError(name, error);
    }
  }

  bootstrapWorker(config: WorkerConfig) {
    return this.callAsync('bootstrapWorker', () => this.native.bootstrapWorkerAsync(config));
  }
  getWorkerStatus() {
    return this.call('getWorkerStatus', () => this.native.getWorkerStatus());
  }
  isWorkerRunning() {
    return this.call('isWorkerRunning', () => this.native.isWorkerRunning());
  }
  transitionToGracefulShutdown() {
    return this.callAsync('transitionToGracefulShutdown', () => this.native.transitionToGracefulShutdownAsync());
  }
  stopWorker() {
    return this.callAsync('stopWorker', () => this.native.stopWorkerAsync());
  }
  pollStepEvents(max?: number) {
    return this.call('pollStepEvents', () => this.native.pollStepEvents(max));
  }
  /**
   * Completes without a Promise from the addon when the completion channel has
   * room (almost always): a native Promise per step costs a ThreadsafeFunction,
   * and under Bun a cleanup hook whose cost grows with the number made.
   */
  completeStepEvent(eventId: string, result: StepCompletion): Promise<void> {
    try {
      if (this.native.tryCompleteStepEvent(eventId, result)) return Promise.resolve();
    } catch (error) {
      return Promise.reject(toCallError('completeStepEvent', error));
    }
    return this.callAsync('completeStepEvent', () => this.native.completeStepEventAsync(eventId, result));
  }
  checkpointYieldStepEvent(eventId: string, data: CheckpointData) {
    return this.callAsync('checkpointYieldStepEvent', () => this.native.checkpointYieldStepEvent(eventId, data));
  }
  subscribeStepEvents(callback: (event: StepEvent) => void, options?: SubscribeOptions) {
    return this.call('subscribeStepEvents', () => this.native.subscribeStepEvents(callback, options));
  }
  subscribeStepEventBatches(callback: (events: StepEvent[]) => void, options?: SubscribeOptions) {
    return this.call('subscribeStepEventBatches', () => this.native.subscribeStepEventBatches(callback, options));
  }
  getFfiDispatchMetrics() {
    return this.call('getFfiDispatchMetrics', () => this.native.getFfiDispatchMetrics());
  }
  subscribeStepCancellations(callback: (cancellation: StepCancellation) => void) {
    return this.call('subscribeStepCancellations', () => this.native.subscribeStepCancellations(callback));
  }
  subscribeDomainEvents(callback: (event: DomainEventInfo) => void, options?: DomainEventOptions) {
    return this.call('subscribeDomainEvents', () => this.native.subscribeDomainEvents(callback, options));
  }
  registerDomainEventPublisher(name: string, publisher: (context: PublisherContext) => unknown) {
    this.call('registerDomainEventPublisher', () => this.native.registerDomainEventPublisher(name, publisher));
  }
  getDomainEventStats() {
    return this.call('getDomainEventStats', () => this.native.getDomainEventStats());
  }
  checkStarvationWarnings() {
    this.call('checkStarvationWarnings', () => this.native.checkStarvationWarnings());
  }
  cleanupTimeouts() {
    return this.call('cleanupTimeouts', () => this.native.cleanupTimeouts());
  }
  logError(message: string, fields?: LogFields) {
    this.call('logError', () => this.native.logError(message, fields));
  }
  logWarn(message: string, fields?: LogFields) {
    this.call('logWarn', () => this.native.logWarn(message, fields));
  }
  logInfo(message: string, fields?: LogFields) {
    this.call('logInfo', () => this.native.logInfo(message, fields));
  }
  logDebug(message: string, fields?: LogFields) {
    this.call('logDebug', () => this.native.logDebug(message, fields));
  }
  logTrace(message: string, fields?: LogFields) {
    this.call('logTrace', () => this.native.logTrace(message, fields));
  }
  getVersion() {
    return this.call('getVersion', () => this.native.getVersion());
  }
  healthCheck() {
    return this.call('healthCheck', () => this.native.healthCheck());
  }
  loadTaskTemplates(templatePath: string) {
    return this.call('loadTaskTemplates', () => this.native.loadTaskTemplates(templatePath));
  }
  async close() {
    if (this.isWorkerRunning()) await this.stopWorker();
  }
}

let instance: TaskerRuntime | undefined;

/** The process-wide runtime (the worker is one per process); loads the addon on first use. */
export function getTaskerRuntime(options: LoadOptions = {}): TaskerRuntime {
  if (!instance) {
    assertSupportedRuntime();
    instance = new NativeTaskerRuntime(loadNative(options));
  }
  return instance;
}

/** Forgets the process-wide runtime (tests); the next getTaskerRuntime() loads again. */
export function resetTaskerRuntime(): void {
  instance = undefined;
}
