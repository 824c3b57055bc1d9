/**
 * A decision: the handler picks which of the declared branches to create,
 * or none. Its result (here a number, the shipping cost) is what the
 * branches see as `choose_shipping`'s result.
 */
import { decision, defineDecisionHandler, defineHandler, noBranches } from '@tasker-systems/worker';

import type { Order } from './orders.mjs';

type Branch = 'express_shipping' | 'standard_shipping';

export interface Shipment {
  carrier: string;
  weightKg: number;
  cost: number;
  days: number;
}

// A result may be any JSON value: here the parcel's weight.
export const weigh = defineHandler<Order, number>((ctx) =>
  ctx.taskContext.lines.reduce((sum, line) => sum + line.quantity * line.weightKg, 0),
);

// The third type lists the branches: a misspelt step name does not compile.
export const choose = defineDecisionHandler<Order, number, Branch, { weigh_parcel: number }>((ctx) => {
  if (ctx.taskContext.digital) return noBranches(0); // nothing to ship: no branch, the task goes on
  const weightKg = ctx.dependencyResult('weigh_parcel') ?? 0;
  if (ctx.taskContext.express || weightKg < 1) return decision('express_shipping', 9.9);
  return decision('standard_shipping', 4.5);
});

type Chosen = { weigh_parcel: number; choose_shipping: number };

export const express = defineHandler<Order, Shipment, Chosen>((ctx) => ({
  carrier: 'courier',
  weightKg: ctx.dependencyResult('weigh_parcel') ?? 0,
  cost: ctx.dependencyResult('choose_shipping') ?? 0,
  days: 1,
}));

export const standard = defineHandler<Order, Shipment, Chosen>((ctx) => ({
  carrier: 'post',
  weightKg: ctx.dependencyResult('weigh_parcel') ?? 0,
  cost: ctx.dependencyResult('choose_shipping') ?? 0,
  days: 4,
}));

// A deferred convergence step: it runs after whichever branch was created.
export const confirm = defineHandler<Order, string, { express_shipping: Shipment; standard_shipping: Shipment }>((ctx) => {
  const shipment = ctx.dependencyResult('express_shipping') ?? ctx.dependencyResult('standard_shipping');
  return `${ctx.taskContext.orderId} ships by ${shipment?.carrier} in ${shipment?.days} days`;
});
