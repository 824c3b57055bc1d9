/** What the Worker needs from a source of step events (the poller or push). */
import type { StepEvent } from '../index';
import type { DeliveryMetrics } from './events';

export interface DeliveryCallbacks {
  onStepEvent?: (event: StepEvent) => void;
  onError?: (error: Error) => void;
  onMetrics?: (metrics: DeliveryMetrics) => void;
}

export interface StepEventSource {
  readonly mode: 'poll' | 'push';
  start(): void;
  /** Stops taking events; resolves once the delivery in progress (if any) is over. */
  stop(timeoutMs?: number): Promise<void>;
  isRunning(): boolean;
}

export { thrownToError as asError } from './handler';
