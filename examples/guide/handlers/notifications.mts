/**
 * A class handler: one instance per step configuration (the template's
 * `handler.initialization` is the constructor's argument), and one method
 * per kind of message (the template's `handler.method`).
 */
import type { StepContext } from '@tasker-systems/worker';

import type { Order, PricedOrder } from './orders.mjs';

export interface NotifierConfig {
  channel: 'email' | 'sms';
  sender: string;
}

export interface Notification {
  channel: string;
  sender: string;
  to: string;
  text: string;
}

type CheckoutContext = StepContext<Order, { price_order: PricedOrder }>;

export class Notifier {
  constructor(private readonly config: NotifierConfig) {}

  customer(ctx: CheckoutContext): Notification {
    const priced = ctx.dependencyResult('price_order');
    return this.send(`customer of ${ctx.taskContext.orderId}`, `Thank you! You paid ${priced?.total ?? 0}.`);
  }

  warehouse(ctx: CheckoutContext): Notification {
    const items = ctx.taskContext.lines.map((line) => `${line.quantity}x${line.sku}`).join(', ');
    return this.send('warehouse', `Pick ${items} for ${ctx.taskContext.orderId}.`);
  }

  private send(to: string, text: string): Notification {
    // A real notifier would call its provider here.
    return { channel: this.config.channel, sender: this.config.sender, to, text };
  }
}
