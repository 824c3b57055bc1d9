// method_dispatch_dsl_ts and resolver_hints_dsl_ts (resolver_tests_dsl_ts):
// one function handler per callable, as tasker-core's DSL writes them; the
// templates still name a method, which the function serves itself. Each
// result reports the method the template named (ctx.handlerMethod).
import { pkg } from '../../helpers/package.mjs';

const { defineHandler } = pkg;

const report = (ctx, fields) => ({ template_method: ctx.handlerMethod, step_number: ctx.stepConfig.step_number, ...fields });

export const validate = defineHandler((ctx) => report(ctx, { validated: typeof ctx.taskContext.data.amount === 'number' }), { inputs: ['data'] });

export const processAmount = defineHandler((ctx) => report(ctx, { processed_amount: Math.round(ctx.taskContext.data.amount * 110) / 100 }), {
  inputs: ['data'],
});

export const refund = defineHandler(
  (ctx) =>
    report(ctx, {
      refund_amount: ctx.dependencyResult('process_step_dsl_ts').processed_amount,
      refund_reason: ctx.taskContext.data.reason ?? 'not_specified',
    }),
  { dependencies: ['process_step_dsl_ts'] },
);

/** Serves the steps that name no method, hinted or not. */
export const multiMethod = defineHandler((ctx) => report(ctx, { resolver_used: ctx.stepConfig.resolver_used ?? null }));

export const executeAction = defineHandler((ctx) => report(ctx, { action_type: ctx.taskContext.action_type }), { inputs: ['action_type'] });
