// method_dispatch_ts and resolver_hints_ts (resolver_tests_ts): class handlers
// whose template steps name the method to call (validate, process, refund,
// execute_action, or call by default). Each result says which method ran and
// echoes the initialization the instance was made with.
import { pkg } from '../../helpers/package.mjs';

const { PermanentError } = pkg;

const round = (n) => Math.round(n * 100) / 100;

export class MultiMethodHandler {
  constructor(initialization) {
    this.init = initialization;
  }

  #result(method, fields) {
    return { invoked_method: method, handler: 'MultiMethodHandler', step_number: this.init.step_number, ...fields };
  }

  call(ctx) {
    return this.#result('call', { resolver_used: this.init.resolver_used ?? null, input: ctx.taskContext.data ?? null });
  }

  validate(ctx) {
    const data = ctx.requireInput('data');
    if (typeof data.amount !== 'number') throw new PermanentError('data.amount is required', { errorCode: 'INVALID_DATA' });
    return this.#result('validate', { validated: true });
  }

  process(ctx) {
    const { amount } = ctx.requireInput('data');
    return this.#result('process', { original_amount: amount, processed_amount: round(amount * 1.1) });
  }

  refund(ctx) {
    const { processed_amount } = ctx.requireDependency('process_step');
    return this.#result('refund', { refund_amount: processed_amount, refund_reason: ctx.taskContext.data.reason ?? 'not_specified' });
  }
}

export class AlternateMethodHandler {
  call() {
    return { invoked_method: 'call', handler: 'AlternateMethodHandler' };
  }

  execute_action(ctx) {
    return { invoked_method: 'execute_action', handler: 'AlternateMethodHandler', action_type: ctx.requireInput('action_type') };
  }
}
