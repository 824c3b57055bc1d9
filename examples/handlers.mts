/** The demo's step handlers: plain TypeScript functions and a class. */
import { PermanentError, RetryableError, type StepContext, type Worker } from '@tasker-systems/worker';

interface OrderItem {
  sku: string;
  qty: number;
  price: number;
}
interface Order {
  orderId: string;
  customer: string;
  items: OrderItem[];
}

let paymentAttempts = 0;

export function registerShopHandlers(worker: Worker): void {
  worker.register('shop.validate_order', (ctx: StepContext) => {
    const order = ctx.taskContext as unknown as Order;
    if (!order.items?.length) throw new PermanentError('an order needs at least one item', { errorCode: 'EMPTY_ORDER' });
    const total = order.items.reduce((sum, item) => sum + item.qty * item.price, 0);
    ctx.logger.info('order validated', { order_id: order.orderId, total });
    return { orderId: order.orderId, total: Math.round(total * 100) / 100, itemCount: order.items.length };
  });

  worker.register(
    'shop.reserve_inventory',
    class ReserveInventory {
      constructor(private readonly init: Record<string, unknown>) {}
      async call(ctx: StepContext) {
        const order = ctx.taskContext as unknown as Order;
        await new Promise((r) => setTimeout(r, 150));
        return { warehouse: this.init.warehouse, reserved: order.items.map((i) => `${i.sku}x${i.qty}`) };
      }
    },
  );

  worker.register('shop.charge_payment', async (ctx: StepContext) => {
    const { total } = ctx.dependencyResult<{ total: number }>('validate_order')!;
    // The payment gateway is flaky on the first try: the step is retried.
    if (ctx.retryCount === 0 && paymentAttempts++ === 0) {
      throw new RetryableError('payment gateway timed out', { backoffSeconds: 1, backoffKind: 'service_unavailable' });
    }
    return { charged: total, currency: 'EUR', authorization: `AUTH-${ctx.stepUuid.slice(0, 8)}` };
  });

  worker.register('shop.ship_order', (ctx: StepContext) => {
    const reserved = ctx.dependencyResult<{ warehouse: string }>('reserve_inventory')!;
    const payment = ctx.dependencyResult<{ authorization: string }>('charge_payment')!;
    return { trackingNumber: `TRK-${Date.now().toString(36).toUpperCase()}`, from: reserved.warehouse, paidWith: payment.authorization };
  });
}
