/**
 * A resolver of your own, added to the chain: it serves callables
 * `legacy:<name>` from a table, and templates can name it with
 * `resolver: legacy`.
 */
import { defineHandler, type HandlerResolver, type StepHandler } from '@tasker-systems/worker';

export function legacyResolver(table: Record<string, StepHandler>): HandlerResolver {
  const prefix = 'legacy:';
  return {
    name: 'legacy',
    resolve: (callable) => (callable.startsWith(prefix) ? table[callable.slice(prefix.length)] : undefined),
    callables: () => Object.keys(table).map((name) => prefix + name),
  };
}

export const legacyHandlers = {
  ping: defineHandler<{ message?: string }, { pong: string }>((ctx) => ({ pong: ctx.taskContext.message ?? 'pong' })),
};
