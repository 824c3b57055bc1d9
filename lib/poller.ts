/**
 * The classic poll loop: every `intervalMs` (10 ms) take what is ready, never
 * overlapping itself; starvation check every 100 polls, timeout cleanup every
 * 1000, metrics every 100. A failing poll goes to onError and polling goes on.
 */
import type { StepEvent } from '../index';
import { asError, type DeliveryCallbacks, type StepEventSource } from './delivery';
import type { DeliveryMetrics } from './events';
import type { TaskerRuntime } from './runtime';

export interface EventPollerOptions extends DeliveryCallbacks {
  intervalMs?: number;
  starvationCheckEvery?: number;
  cleanupEvery?: number;
  metricsEvery?: number;
  /** Whether metrics are wanted now (default: whenever onMetrics is set); each reading is a native call. */
  wantsMetrics?: () => boolean;
  /** How many events the consumer can take now; the poller never takes more (default: 1 per poll). */
  capacity?: () => number;
}

export class EventPoller implements StepEventSource {
  readonly mode = 'poll' as const;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private current: Promise<void> | undefined;
  private callbacks: DeliveryCallbacks;
  pollCount = 0;
  eventsReceived = 0;

  constructor(
    private readonly runtime: TaskerRuntime,
    private readonly options: EventPollerOptions = {},
  ) {
    this.callbacks = { onStepEvent: options.onStepEvent, onError: options.onError, onMetrics: options.onMetrics };
  }

  onStepEvent(callback: (event: StepEvent) => void): this {
    this.callbacks.onStepEvent = callback;
    return this;
  }

  onError(callback: (error: Error) => void): this {
    this.callbacks.onError = callback;
    return this;
  }

  onMetrics(callback: (metrics: DeliveryMetrics) => void): this {
    this.callbacks.onMetrics = callback;
    return this;
  }

  isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  async stop(timeoutMs = 5000): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.current) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
      await Promise.race([this.current, timeout]);
      clearTimeout(timer);
    }
  }

  private schedule(delay: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.current = this.tick().finally(() => {
        this.current = undefined;
        this.schedule(this.options.intervalMs ?? 10);
      });
    }, delay);
  }

  /** One poll; public so tests can drive the loop step by step. */
  async tick(): Promise<void> {
    this.pollCount++;
    try {
      const room = Math.floor(this.options.capacity ? this.options.capacity() : 1);
      if (room > 0) {
        for (const event of this.runtime.pollStepEvents(Math.min(room, 1000))) {
          this.eventsReceived++;
          this.callbacks.onStepEvent?.(event);
        }
      }
    } catch (e) {
      this.callbacks.onError?.(asError(e));
    }
    this.maintain();
  }

  private maintain(): void {
    const n = this.pollCount;
    try {
      if (n % (this.options.starvationCheckEvery ?? 100) === 0) this.runtime.checkStarvationWarnings();
      if (n % (this.options.cleanupEvery ?? 1000) === 0) this.runtime.cleanupTimeouts();
      if (n % (this.options.metricsEvery ?? 100) === 0 && this.callbacks.onMetrics && this.options.wantsMetrics?.() !== false) {
        this.callbacks.onMetrics({
          mode: 'poll',
          ticks: n,
          eventsReceived: this.eventsReceived,
          dispatch: this.runtime.getFfiDispatchMetrics(),
        });
      }
    } catch (e) {
      this.callbacks.onError?.(asError(e));
    }
  }
}
