// conditional_approval_handler_ts (conditional_approval_ts): class-style
// handlers. The router reads its thresholds from the template's
// initialization: below `small` auto-approval, below `large` a manager, from
// `large` on a manager and finance. A request whose context sets
// `require_finance_review` must have finance's result at finalization: when
// the route did not create that step, requireDependency fails the step for good.
import { pkg } from '../../helpers/package.mjs';

const { decision, PermanentError } = pkg;

/** The branches for an amount; `suffix` is the template's step name suffix. */
export function route(amount, { small, large }, suffix) {
  if (amount < small) return { path: 'auto_approve', steps: [`auto_approve${suffix}`] };
  if (amount < large) return { path: 'manager_approval', steps: [`manager_approval${suffix}`] };
  return { path: 'dual_approval', steps: [`manager_approval${suffix}`, `finance_review${suffix}`] };
}

/** What the approval steps of a route decided, by approval type, sorted. */
export function approvalsOf(ctx, suffix) {
  const names = ['auto_approve', 'manager_approval', 'finance_review'].map((n) => `${n}${suffix}`);
  return names.map((name) => ctx.dependencyResult(name)).filter(Boolean).map((r) => r.approval_type).sort();
}

export class ValidateRequestHandler {
  constructor({ validation_rules }) {
    this.rules = validation_rules;
  }

  call(ctx) {
    const amount = ctx.requireInput('amount');
    const requester = ctx.requireInput('requester');
    const purpose = ctx.requireInput('purpose');
    const holds = { amount_positive: amount > 0, requester_not_empty: String(requester).trim() !== '', purpose_not_empty: String(purpose).trim() !== '' };
    const broken = this.rules.filter((rule) => holds[rule] === false);
    if (broken.length > 0) throw new PermanentError(`request breaks ${broken.join(', ')}`, { errorCode: 'INVALID_REQUEST' });
    return { validated: true, amount, requester, purpose };
  }
}

export class RoutingDecisionHandler {
  constructor({ thresholds }) {
    this.thresholds = thresholds;
  }

  call(ctx) {
    const { amount } = ctx.requireDependency('validate_request_ts');
    const { path, steps } = route(amount, this.thresholds, '_ts');
    return decision(steps, { amount, routing_path: path, steps_created: steps });
  }
}

/** Auto, manager and finance approval: one class, its type from each step's initialization. */
export class ApprovalHandler {
  constructor({ approval_type }) {
    this.type = approval_type;
  }

  call(ctx) {
    const { amount, requester } = ctx.requireDependency('validate_request_ts');
    return { approved: true, approval_type: this.type, amount, requester };
  }
}

export class FinalizeApprovalHandler {
  call(ctx) {
    if (ctx.taskContext.require_finance_review) ctx.requireDependency('finance_review_ts');
    const { routing_path } = ctx.requireDependency('routing_decision_ts');
    return { approved: true, routing_path, approvals: approvalsOf(ctx, '_ts') };
  }
}
