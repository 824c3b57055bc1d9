/**
 * An API call: `api.json` uses the step's AbortSignal and a timeout; a 408,
 * 429 or 5xx answer fails the step as retryable (after `Retry-After`, when
 * the server gives one), another 4xx permanently. The call's status and
 * duration are stored in the result's metadata.
 */
import { defineApiHandler } from '@tasker-systems/worker';

export interface Conversion {
  amount: number;
  from: string;
  to: string;
  /** Where the rates service is. */
  ratesApi: string;
}

export interface Converted {
  amount: number;
  currency: string;
  rate: number;
}

export const convert = defineApiHandler<Conversion, Converted>({
  baseUrl: (ctx) => ctx.taskContext.ratesApi,
  timeoutMs: 5000,
  async handle(ctx, api) {
    const { amount, from, to } = ctx.taskContext;
    const quote = await api.json<{ rate: number }>(`/rates/${from}/${to}`);
    return { amount: Math.round(amount * quote.rate * 100) / 100, currency: to, rate: quote.rate };
  },
});
