// The small workflows: linear_workflow_handler_ts (one class serving the four
// steps, each instance configured by its step's initialization),
// diamond_workflow_handler_dsl_ts (functions), and the test_scenarios_ts
// templates that succeed, fail for good, or fail until retries run out.
import { pkg } from '../../helpers/package.mjs';

const { defineHandler, PermanentError, RetryableError } = pkg;

/** The operation a step's initialization names, applied to `value`. */
function apply({ operation, constant, factor, divisor }, value) {
  switch (operation) {
    case 'square':
      return value * value;
    case 'add':
      return value + constant;
    case 'multiply':
      return value * factor;
    case 'divide':
      return value / divisor;
    default:
      throw new PermanentError(`unknown operation '${operation}'`, { errorCode: 'UNKNOWN_OPERATION' });
  }
}

const evenNumber = (ctx) => {
  const n = ctx.requireInput('even_number');
  if (n % 2 !== 0) throw new PermanentError(`even_number must be even, got ${n}`, { errorCode: 'NOT_EVEN' });
  return n;
};

export class LinearStepHandler {
  constructor(initialization) {
    this.init = initialization;
  }

  call(ctx) {
    const n = this.init.step_number;
    const input = n === 1 ? evenNumber(ctx) : ctx.requireDependency(`linear_step_${n - 1}`).value;
    return { value: apply(this.init, input), operation: this.init.operation };
  }
}

export const diamondStart = defineHandler((ctx) => ({ value: apply(ctx.stepConfig, evenNumber(ctx)) }));

export const diamondBranch = defineHandler((ctx) => ({ value: apply(ctx.stepConfig, ctx.dependencyResult('diamond_start_dsl_ts').value) }), {
  dependencies: ['diamond_start_dsl_ts'],
});

export const diamondEnd = defineHandler(
  (ctx) => {
    const b = ctx.dependencyResult('diamond_branch_b_dsl_ts').value;
    const c = ctx.dependencyResult('diamond_branch_c_dsl_ts').value;
    return { value: (b + c) / 2, branches: { b, c } };
  },
  { dependencies: ['diamond_branch_b_dsl_ts', 'diamond_branch_c_dsl_ts'] },
);

export const succeed = (ctx) => ({ message: ctx.taskContext.message ?? null, operation: ctx.stepConfig.operation });

export const failPermanently = (ctx) => {
  throw new PermanentError(ctx.taskContext.error_message ?? 'permanent failure', { errorCode: 'CONFORMANCE_PERMANENT' });
};

export const failTransiently = (ctx) => {
  throw new RetryableError(`${ctx.taskContext.error_message ?? 'transient failure'} (attempt ${ctx.retryCount + 1})`);
};
