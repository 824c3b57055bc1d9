// conditional_approval_handler_dsl_ts (conditional_approval_dsl_ts): the same
// routing with function handlers whose requirements are declared up front.
import { pkg } from '../../helpers/package.mjs';
import { approvalsOf, route } from './conditional_approval.mjs';

const { decision, defineDecisionHandler, defineHandler } = pkg;

export const validateRequest = defineHandler(
  ({ taskContext: { amount, requester, purpose } }) => ({ validated: true, amount, requester, purpose }),
  { inputs: ['amount', 'requester', 'purpose'] },
);

export const routingDecision = defineDecisionHandler(
  (ctx) => {
    const { amount } = ctx.dependencyResult('validate_request_dsl_ts');
    const { path, steps } = route(amount, ctx.stepConfig.thresholds, '_dsl_ts');
    return decision(steps, { amount, routing_path: path, steps_created: steps });
  },
  { dependencies: ['validate_request_dsl_ts'] },
);

/** Auto, manager and finance approval: one function, its type from the step's initialization. */
export const approve = defineHandler(
  (ctx) => {
    const { amount, requester } = ctx.dependencyResult('validate_request_dsl_ts');
    return { approved: true, approval_type: ctx.stepConfig.approval_type, amount, requester };
  },
  { dependencies: ['validate_request_dsl_ts'] },
);

export const finalizeApproval = defineHandler(
  (ctx) => ({ approved: true, routing_path: ctx.dependencyResult('routing_decision_dsl_ts').routing_path, approvals: approvalsOf(ctx, '_dsl_ts') }),
  { dependencies: ['routing_decision_dsl_ts'] },
);
