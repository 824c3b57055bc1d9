/**
 * A domain event subscriber: the checkout template's price_order step
 * publishes `order.priced` (a fast event) when it succeeds; this listener
 * keeps a running revenue figure from those events. A listener runs beside
 * the steps, never in their way: if it throws, the error is logged and the
 * step is unaffected.
 */
import type { DomainEvent, Worker } from '@tasker-systems/worker';

export interface Revenue {
  orders: number;
  total: number;
  /** Task of each order counted, in arrival order. */
  tasks: string[];
}

export function trackRevenue(worker: Worker): Revenue {
  const revenue: Revenue = { orders: 0, total: 0, tasks: [] };
  worker.onDomainEvent('order.priced', (event: DomainEvent) => {
    const { total } = event.payload as { total: number };
    revenue.orders += 1;
    revenue.total = Math.round((revenue.total + total) * 100) / 100;
    revenue.tasks.push(event.metadata.taskUuid);
  });
  return revenue;
}
