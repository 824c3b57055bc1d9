/**
 * Push delivery over the addon's subscription: the Rust side hands events
 * over as soon as it has them, at most `maxInFlight` not yet completed; one
 * event per call, or with `maxBatch` > 1 every ready event in one call. Same
 * callbacks as the poller; metrics are published on a timer.
 */
import type { StepEvent } from '../index';
import { asError, type DeliveryCallbacks, type StepEventSource } from './delivery';
import type { DeliveryMetrics } from './events';
import type { StepEventSubscriptionHandle, TaskerRuntime } from './runtime';

export interface PushDeliveryOptions extends DeliveryCallbacks {
  maxInFlight?: number;
  /** Most ready events per native call (default 1: one per call, which measured faster on 2 cores; see BENCHMARKS.md). */
  maxBatch?: number;
  metricsIntervalMs?: number;
}

export class PushDelivery implements StepEventSource {
  readonly mode = 'push' as const;
  private subscription: StepEventSubscriptionHandle | undefined;
  private metricsTimer: ReturnType<typeof setInterval> | undefined;
  private metricsWanted = true;
  eventsReceived = 0;

  constructor(
    private readonly runtime: TaskerRuntime,
    private readonly options: PushDeliveryOptions = {},
  ) {}

  isRunning(): boolean {
    return this.subscription !== undefined && !this.subscription.closed;
  }

  get inFlight(): number {
    return this.subscription?.inFlight ?? 0;
  }

  start(): void {
    if (this.isRunning()) return;
    const deliver = (event: StepEvent) => {
      this.eventsReceived++;
      try {
        this.options.onStepEvent?.(event);
      } catch (e) {
        // The event stays in flight for its handler; report and go on.
        this.options.onError?.(asError(e));
      }
    };
    const maxInFlight = this.options.maxInFlight ?? 10;
    const maxBatch = this.options.maxBatch ?? 1;
    this.subscription =
      maxBatch > 1 && this.runtime.subscribeStepEventBatches
        ? this.runtime.subscribeStepEventBatches((events) => events.forEach(deliver), { maxInFlight, maxBatch })
        : this.runtime.subscribeStepEvents(deliver, { maxInFlight });
    this.setMetricsWanted(this.metricsWanted);
  }

  /**
   * Runs the metrics timer (when `onMetrics` is set) or stops it; it runs from
   * `start()` unless turned off. The Worker runs it only while something
   * listens: each reading is a native call, and an idle worker's timer alone
   * is a fifth of its CPU time in Bun.
   */
  setMetricsWanted(wanted: boolean): void {
    this.metricsWanted = wanted;
    if (wanted && !this.metricsTimer && this.options.onMetrics && this.isRunning()) {
      this.metricsTimer = setInterval(() => this.publishMetrics(), this.options.metricsIntervalMs ?? 1000);
      this.metricsTimer.unref?.();
    } else if (!wanted && this.metricsTimer) {
      clearInterval(this.metricsTimer);
      this.metricsTimer = undefined;
    }
  }

  private publishMetrics(): void {
    try {
      const metrics: DeliveryMetrics = {
        mode: 'push',
        ticks: this.eventsReceived,
        eventsReceived: this.eventsReceived,
        dispatch: this.runtime.getFfiDispatchMetrics(),
      };
      this.options.onMetrics?.(metrics);
    } catch (e) {
      this.options.onError?.(asError(e));
    }
  }

  async stop(): Promise<void> {
    if (this.metricsTimer) clearInterval(this.metricsTimer);
    this.metricsTimer = undefined;
    this.subscription?.close();
  }
}
