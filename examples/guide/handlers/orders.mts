/** Plain handlers: functions typed by the task context and the results they read. */
import { defineHandler, PermanentError } from '@tasker-systems/worker';

export interface OrderLine {
  sku: string;
  quantity: number;
  unitPrice: number;
  weightKg: number;
}

/** The context a checkout task is created with. */
export interface Order {
  orderId: string;
  country: string;
  lines: OrderLine[];
  digital?: boolean;
  express?: boolean;
}

export interface ValidatedOrder {
  orderId: string;
  itemCount: number;
  subtotal: number;
}

export interface PricedOrder {
  orderId: string;
  subtotal: number;
  tax: number;
  total: number;
}

const TAX_RATES: Record<string, number> = { DE: 0.19, FR: 0.2, US: 0 };
const cents = (amount: number) => Math.round(amount * 100) / 100;

// callable `orders.validate`: this file is module `orders`, the export is `validate`.
export const validate = defineHandler<Order, ValidatedOrder>((ctx) => {
  const { orderId, lines } = ctx.taskContext;
  if (!Array.isArray(lines) || lines.length === 0) {
    throw new PermanentError(`order ${orderId} has no lines`, { errorCode: 'EMPTY_ORDER' });
  }
  const subtotal = lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0);
  const itemCount = lines.reduce((sum, line) => sum + line.quantity, 0);
  return { orderId, itemCount, subtotal: cents(subtotal) };
});

// The third type names the dependencies this handler reads, by step name.
// requireDependency / requireInput fail the step permanently, naming what is
// missing (`defineHandler(fn, { dependencies, inputs })` checks before it runs).
export const price = defineHandler<Order, PricedOrder, { validate_order: ValidatedOrder }>((ctx) => {
  const validated = ctx.requireDependency('validate_order');
  const rate = TAX_RATES[ctx.requireInput('country')] ?? 0;
  const tax = cents(validated.subtotal * rate);
  ctx.logger.info('order priced', { order_id: validated.orderId, tax_rate: rate });
  return { orderId: validated.orderId, subtotal: validated.subtotal, tax, total: cents(validated.subtotal + tax) };
});
