// Conformance with tasker-core: its own TypeScript e2e task templates
// (tests/fixtures/task_templates/typescript/ of tasker-systems/tasker-core at
// c8733f95, copied unchanged into __test__/conformance/templates/, MIT: see the
// README there) run end to end on this package, with handlers written on its
// documented toolkit (__test__/conformance/handlers/). The scenarios, inputs and
// expectations are those of tasker-core's tests/e2e/typescript/*.rs, asserted
// more closely here (exact steps, results, attempts): batches and "no batches",
// checkpoints with a retry resuming from the last one, decision routing,
// method dispatch and resolver hints, in the class-style templates and the
// _dsl ones, plus a missing dependency failing its step for good.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { conformanceHandlers } from '../conformance/handlers/index.mjs';
import { runtimeName, stepsByName, trackNamespaces, useEnvironment } from '../helpers/environment.mjs';
import { pkg } from '../helpers/package.mjs';

const { Worker, EventNames, getTaskerRuntime } = pkg;

const TEMPLATES = fileURLToPath(new URL('../conformance/templates/', import.meta.url));
const DATA = fileURLToPath(new URL('../conformance/data/', import.meta.url));
const NAMESPACES = [
  'csv_processing_ts',
  'csv_processing_dsl_ts',
  'ts_e2e_checkpoint',
  'ts_e2e_checkpoint_dsl',
  'conditional_approval_ts',
  'conditional_approval_dsl_ts',
  'resolver_tests_ts',
  'resolver_tests_dsl_ts',
  'linear_workflow_ts',
  'diamond_workflow_dsl_ts',
  'test_scenarios_ts',
];
// The templates' namespaces are fixed, and tasker refuses a second task with
// the same template and context: every context carries this run's nonce.
const RUN = `${runtimeName}-${randomBytes(4).toString('hex')}`;

let env;
let templateDir;
let worker;
let report;
const checkpointsByStep = new Map();

/** Runs one task to a settled state: the task and its steps by name. */
async function run(namespace, name, context) {
  const { taskUuid } = await env.client.createTask({ namespace, name, context: { ...context, run: RUN }, initiator: 'conformance' });
  const task = await env.client.waitForTask(taskUuid, { timeoutMs: 60_000, intervalMs: 100 });
  return { task, steps: await stepsByName(env.client, taskUuid) };
}

/** What dependents saw as a step's result (a decision's or batchable step's is stored beside its outcome). */
const resultOf = (step) => {
  const stored = step.results?.result;
  return stored?.result_envelope ? stored.result : stored;
};

const names = (steps) => Object.keys(steps).sort();

function assertAllComplete(steps, attempts = 1) {
  for (const step of Object.values(steps)) {
    assert.equal(step.currentState, 'complete', `${step.name}: ${step.currentState}`);
    assert.equal(step.attempts, attempts, `${step.name} ran ${step.attempts} times`);
  }
}

/** A failed step's stored error: message, whether tasker may retry it, and the handler's error code. */
const failureOf = (step) => ({ message: step.results?.error?.message, retryable: step.results?.error?.retryable, code: step.results?.metadata?.error_code });

describe(`tasker-core's TypeScript e2e templates on ${runtimeName}`, { timeout: 300_000 }, () => {
  before(async () => {
    env = await useEnvironment();
    trackNamespaces(...NAMESPACES);
    templateDir = mkdtempSync(join(tmpdir(), 'tasker-conformance-'));
    for (const file of readdirSync(TEMPLATES).filter((f) => f.endsWith('.yaml'))) copyFileSync(join(TEMPLATES, file), join(templateDir, file));
    worker = new Worker({
      config: { databaseUrl: env.databaseUrl, templatePath: templateDir, namespaces: NAMESPACES, environment: 'test', logLevel: 'error' },
      concurrency: 10,
    });
    worker.register(conformanceHandlers);
    worker.events.on(EventNames.STEP_COMPLETION_SENT, ({ stepUuid, outcome }) => {
      if (outcome === 'checkpoint') checkpointsByStep.set(stepUuid, (checkpointsByStep.get(stepUuid) ?? 0) + 1);
    });
    report = await worker.validate();
    await worker.start();
  });

  after(async () => {
    await worker?.stop();
    await getTaskerRuntime().close();
    if (templateDir) rmSync(templateDir, { recursive: true, force: true });
    await env?.release();
  });

  test('the templates are the recorded upstream files, byte for byte', () => {
    const readme = readFileSync(join(TEMPLATES, 'README.md'), 'utf8');
    const recorded = new Map([...readme.matchAll(/^\| `([\w.]+\.yaml)` \| `([0-9a-f]{64})` \|$/gm)].map((m) => [m[1], m[2]]));
    const files = readdirSync(TEMPLATES).filter((f) => f.endsWith('.yaml')).sort();
    assert.deepEqual(files, [...recorded.keys()].sort());
    for (const file of files) {
      assert.equal(createHash('sha256').update(readFileSync(join(TEMPLATES, file))).digest('hex'), recorded.get(file), file);
    }
  });

  test('start-up validation: every step resolves; the notes are the function handlers serving a method and the batchable step without a worker template', () => {
    assert.equal(report.templates.length, 15);
    assert.deepEqual(report.missing, []);
    const notes = report.notes.map((n) => `${n.level} ${n.template}/${n.step}`).sort();
    assert.deepEqual(notes, [
      'info method_dispatch_dsl_ts/process_step_dsl_ts',
      'info method_dispatch_dsl_ts/refund_step_dsl_ts',
      'info method_dispatch_dsl_ts/validate_step_dsl_ts',
      'info resolver_hints_dsl_ts/combined_hint_step_dsl_ts',
      'warn csv_product_inventory_analyzer_ts/analyze_csv_ts',
    ]);
  });

  // tests/e2e/typescript/batch_processing_test.rs and batch_processing_test_dsl.rs
  describe('batch processing (csv_processing_ts, csv_processing_dsl_ts)', () => {
    // data/products.csv: 1,000 rows, every 50th without a price (see data/README.md).
    const totals = { rows_processed: 1000, valid_products: 980, invalid_products: 20, low_stock_items: 75, out_of_stock_items: 7 };
    const products = { csv_file_path: join(DATA, 'products.csv'), analysis_mode: 'inventory' };
    const empty = { csv_file_path: join(DATA, 'empty.csv'), analysis_mode: 'inventory' };
    const batchIds = ['001', '002', '003', '004', '005'];

    test('class handlers: 1,000 rows in 5 batch workers of 200, aggregated', async () => {
      const { task, steps } = await run('csv_processing_ts', 'csv_product_inventory_analyzer_ts', products);
      assert.equal(task.status, 'complete');
      assert.deepEqual(names(steps), ['aggregate_csv_results_ts', 'analyze_csv_ts', ...batchIds.map((id) => `process_csv_batch_ts_${id}`)]);
      assertAllComplete(steps);
      assert.deepEqual(resultOf(steps.analyze_csv_ts), { csv_file_path: products.csv_file_path, analysis_mode: 'inventory', total_rows: 1000, batch_count: 5 });
      batchIds.forEach((id, i) => {
        const worker = resultOf(steps[`process_csv_batch_ts_${id}`]);
        assert.deepEqual(
          [worker.batch_id, worker.first_row, worker.last_row, worker.rows_processed, worker.processing_mode],
          [id, i * 200 + 1, i * 200 + 200, 200, 'inventory_analysis'],
        );
      });
      assert.deepEqual(resultOf(steps.aggregate_csv_results_ts), { ...totals, worker_count: 5, batch_ids: batchIds });
    });

    test('class handlers, no batches (an empty CSV): the task completes with the batchable step alone', async () => {
      const { task, steps } = await run('csv_processing_ts', 'csv_product_inventory_analyzer_ts', empty);
      assert.equal(task.status, 'complete');
      assert.deepEqual(names(steps), ['analyze_csv_ts']);
      assertAllComplete(steps);
      assert.equal(resultOf(steps.analyze_csv_ts).total_rows, 0);
    });

    test('function handlers: the same 1,000 rows in 5 workers', async () => {
      const { task, steps } = await run('csv_processing_dsl_ts', 'csv_product_inventory_analyzer_dsl_ts', products);
      assert.equal(task.status, 'complete');
      assert.deepEqual(names(steps), ['aggregate_csv_results_dsl_ts', 'analyze_csv_dsl_ts', ...batchIds.map((id) => `process_csv_batch_dsl_ts_${id}`)]);
      assertAllComplete(steps);
      assert.deepEqual(resultOf(steps.aggregate_csv_results_dsl_ts), { ...totals, worker_count: 5, no_batches: false });
    });

    test('function handlers, no batches: the template names its worker template, so a placeholder worker and the aggregator run', async () => {
      const { task, steps } = await run('csv_processing_dsl_ts', 'csv_product_inventory_analyzer_dsl_ts', empty);
      assert.equal(task.status, 'complete');
      const placeholders = names(steps).filter((n) => n.startsWith('process_csv_batch_dsl_ts_'));
      assert.equal(placeholders.length, 1);
      assert.deepEqual(names(steps), ['aggregate_csv_results_dsl_ts', 'analyze_csv_dsl_ts', placeholders[0]]);
      assertAllComplete(steps);
      assert.deepEqual(resultOf(steps[placeholders[0]]), { noOp: true });
      const nothing = { rows_processed: 0, valid_products: 0, invalid_products: 0, low_stock_items: 0, out_of_stock_items: 0 };
      assert.deepEqual(resultOf(steps.aggregate_csv_results_dsl_ts), { ...nothing, worker_count: 0, no_batches: true });
    });
  });

  // tests/e2e/typescript/checkpoint_yield_test.rs and checkpoint_yield_test_dsl.rs
  for (const [style, namespace, name, suffix] of [
    ['class handlers', 'ts_e2e_checkpoint', 'checkpoint_yield_test_ts', '_ts'],
    ['function handlers', 'ts_e2e_checkpoint_dsl', 'checkpoint_yield_test_dsl_ts', '_dsl_ts'],
  ]) {
    describe(`checkpoint yields, ${style} (${namespace})`, () => {
      const workerOf = (steps) => {
        const found = Object.values(steps).filter((s) => s.name.startsWith(`checkpoint_yield_batch${suffix}_`));
        assert.equal(found.length, 1, 'one batch worker');
        return found[0];
      };

      test('happy path: 100 items, a checkpoint every 25, each item counted once', async () => {
        const { task, steps } = await run(namespace, name, { total_items: 100, items_per_checkpoint: 25 });
        assert.equal(task.status, 'complete');
        assertAllComplete(steps);
        const batch = workerOf(steps);
        assert.deepEqual(resultOf(batch), { items_processed: 100, running_total: 5050, checkpoints: [25, 50, 75], finished_on_attempt: 1 });
        assert.equal(checkpointsByStep.get(batch.stepUuid), 3);
        assert.deepEqual(resultOf(steps[`aggregate_results${suffix}`]), {
          total_processed: 100,
          running_total: 5050,
          checkpoints_used: 3,
          worker_count: 1,
          failed_workers: [],
        });
      });

      test('a transient failure after 50 items resumes from the checkpoint at 40 on the second attempt', async () => {
        const { task, steps } = await run(namespace, name, { total_items: 100, items_per_checkpoint: 20, fail_after_items: 50, fail_on_attempt: 1 });
        assert.equal(task.status, 'complete');
        const batch = workerOf(steps);
        assert.equal(batch.currentState, 'complete');
        assert.equal(batch.attempts, 2, 'failed on attempt 1, succeeded on attempt 2');
        // Items 40-49 of the failed run were not kept: the running total counts each item once.
        assert.deepEqual(resultOf(batch), { items_processed: 100, running_total: 5050, checkpoints: [20, 40, 60, 80], finished_on_attempt: 2 });
        assert.equal(checkpointsByStep.get(batch.stepUuid), 4);
        assert.equal(resultOf(steps[`aggregate_results${suffix}`]).total_processed, 100);
      });

      test('a permanent failure after 30 items ends the batch worker in error after one attempt', async () => {
        const context = { total_items: 100, items_per_checkpoint: 25, fail_after_items: 30, fail_on_attempt: 1, permanent_failure: true };
        const { task, steps } = await run(namespace, name, context);
        assert.equal(task.status, 'blocked_by_failures');
        const batch = workerOf(steps);
        assert.deepEqual([batch.currentState, batch.attempts], ['error', 1]);
        assert.deepEqual(failureOf(batch), { message: 'injected failure after 30 items (item 30, attempt 1)', retryable: false, code: 'INJECTED' });
        assert.equal(checkpointsByStep.get(batch.stepUuid), 1, 'the checkpoint at 25 was saved before the failure');
        // continue_on_failure or not, the convergence step does not run without its worker's result.
        const aggregateStep = steps[`aggregate_results${suffix}`];
        assert.deepEqual([aggregateStep.currentState, aggregateStep.attempts], ['pending', 0]);
      });
    });
  }

  // tests/e2e/typescript/conditional_approval_test.rs and conditional_approval_test_dsl.rs
  for (const [style, namespace, name, s] of [
    ['class handlers', 'conditional_approval_ts', 'approval_routing_ts', '_ts'],
    ['function handlers', 'conditional_approval_dsl_ts', 'approval_routing_dsl_ts', '_dsl_ts'],
  ]) {
    test(`decision routing, ${style} (${namespace}): auto below 1,000, manager from 1,000, manager and finance from 5,000`, async () => {
      // amount, route, branches created (in the decision's order), approval types at finalization
      const cases = [
        [500, 'auto_approve', ['auto_approve'], ['automatic']],
        [2500, 'manager_approval', ['manager_approval'], ['manager']],
        [10000, 'dual_approval', ['manager_approval', 'finance_review'], ['finance', 'manager']],
        [1000, 'manager_approval', ['manager_approval'], ['manager']],
        [5000, 'dual_approval', ['manager_approval', 'finance_review'], ['finance', 'manager']],
      ];
      const runs = await Promise.all(cases.map(([amount]) => run(namespace, name, { amount, requester: 'test_user', purpose: `purchase of ${amount}` })));
      runs.forEach(({ task, steps }, i) => {
        const [amount, path, branches, approvals] = cases[i];
        assert.equal(task.status, 'complete', `amount ${amount}`);
        const expected = ['finalize_approval', 'routing_decision', 'validate_request', ...branches].map((n) => `${n}${s}`).sort();
        assert.deepEqual(names(steps), expected, `amount ${amount}`);
        assertAllComplete(steps);
        assert.deepEqual(resultOf(steps[`routing_decision${s}`]), { amount, routing_path: path, steps_created: branches.map((n) => `${n}${s}`) });
        assert.deepEqual(resultOf(steps[`finalize_approval${s}`]), { approved: true, routing_path: path, approvals });
      });
    });
  }

  test('a missing required dependency fails the step for good, naming it (conditional_approval_ts)', async () => {
    // The context demands a finance review, but 500 routes to auto-approval only.
    const context = { amount: 500, requester: 'test_user', purpose: 'audit', require_finance_review: true };
    const { task, steps } = await run('conditional_approval_ts', 'approval_routing_ts', context);
    assert.equal(task.status, 'blocked_by_failures');
    const finalize = steps.finalize_approval_ts;
    assert.equal(finalize.currentState, 'error');
    assert.equal(finalize.attempts, 1, 'not retried');
    assert.ok(finalize.maxAttempts > 1, 'retries were allowed: the error was permanent');
    const { message, ...failure } = failureOf(finalize);
    assert.deepEqual(failure, { retryable: false, code: 'MISSING_DEPENDENCY' });
    const named = message.match(/^step 'finalize_approval_ts' requires dependency result 'finance_review_ts' \(results present: (.*)\), which is missing$/);
    assert.ok(named, message);
    // What the step had instead (in no particular order).
    assert.deepEqual(named[1].split(', ').sort(), ["'auto_approve_ts'", "'routing_decision_ts'", "'validate_request_ts'"]);
    assert.deepEqual(names(steps), ['auto_approve_ts', 'finalize_approval_ts', 'routing_decision_ts', 'validate_request_ts']);
  });

  // tests/e2e/typescript/resolver_tests.rs and resolver_tests_dsl.rs
  describe('method dispatch and resolver hints (resolver_tests_ts, resolver_tests_dsl_ts)', () => {
    test('class handlers: each step runs the method its template names, on an instance made with its initialization', async () => {
      const [full, noReason] = await Promise.all([
        run('resolver_tests_ts', 'method_dispatch_ts', { data: { amount: 100, reason: 'test_refund' } }),
        run('resolver_tests_ts', 'method_dispatch_ts', { data: { amount: 50 } }),
      ]);
      assert.equal(full.task.status, 'complete');
      assert.deepEqual(names(full.steps), ['default_call_step', 'process_step', 'refund_step', 'validate_step']);
      assertAllComplete(full.steps);
      const invoked = Object.fromEntries(Object.entries(full.steps).map(([n, step]) => [n, [resultOf(step).invoked_method, resultOf(step).step_number]]));
      assert.deepEqual(invoked, { validate_step: ['validate', 1], process_step: ['process', 2], refund_step: ['refund', 3], default_call_step: ['call', 4] });
      assert.deepEqual(resultOf(full.steps.refund_step), {
        invoked_method: 'refund',
        handler: 'MultiMethodHandler',
        step_number: 3,
        refund_amount: 110,
        refund_reason: 'test_refund',
      });
      assert.equal(noReason.task.status, 'complete');
      assert.equal(resultOf(noReason.steps.refund_step).refund_reason, 'not_specified');
      assert.equal(resultOf(noReason.steps.default_call_step).invoked_method, 'call');
    });

    test('function handlers registered per callable serve the method their template names', async () => {
      const { task, steps } = await run('resolver_tests_dsl_ts', 'method_dispatch_dsl_ts', { data: { amount: 100, reason: 'test_refund' } });
      assert.equal(task.status, 'complete');
      assertAllComplete(steps);
      const methods = Object.fromEntries(Object.entries(steps).map(([n, step]) => [n, [resultOf(step).template_method, resultOf(step).step_number]]));
      assert.deepEqual(methods, {
        validate_step_dsl_ts: ['validate', 1],
        process_step_dsl_ts: ['process', 2],
        refund_step_dsl_ts: ['refund', 3],
        default_call_step_dsl_ts: ['call', 4],
      });
      assert.deepEqual(resultOf(steps.refund_step_dsl_ts), { template_method: 'refund', step_number: 3, refund_amount: 110, refund_reason: 'test_refund' });
    });

    test('resolver hints: explicit_mapping alone, with a method, and the chain', async () => {
      const [classes, functions] = await Promise.all([
        run('resolver_tests_ts', 'resolver_hints_ts', { action_type: 'combined_test' }),
        run('resolver_tests_dsl_ts', 'resolver_hints_dsl_ts', { action_type: 'combined_test' }),
      ]);
      for (const { task, steps } of [classes, functions]) {
        assert.equal(task.status, 'complete');
        assert.equal(Object.keys(steps).length, 3);
        assertAllComplete(steps);
      }
      const multi = { handler: 'MultiMethodHandler', invoked_method: 'call', input: null };
      assert.deepEqual(resultOf(classes.steps.explicit_resolver_step), { ...multi, step_number: 1, resolver_used: 'explicit_mapping' });
      assert.deepEqual(resultOf(classes.steps.combined_hint_step), { handler: 'AlternateMethodHandler', invoked_method: 'execute_action', action_type: 'combined_test' });
      assert.deepEqual(resultOf(classes.steps.chain_resolution_step), { ...multi, step_number: 3, resolver_used: 'chain_default' });
      assert.deepEqual(resultOf(functions.steps.explicit_resolver_step_dsl_ts), { template_method: 'call', step_number: 1, resolver_used: 'explicit_mapping' });
      assert.deepEqual(resultOf(functions.steps.combined_hint_step_dsl_ts), { template_method: 'execute_action', step_number: 2, action_type: 'combined_test' });
      assert.deepEqual(resultOf(functions.steps.chain_resolution_step_dsl_ts), { template_method: 'call', step_number: 3, resolver_used: 'chain_default' });
    });
  });

  // linear_workflow_test.rs, diamond_workflow_test_dsl.rs, success_scenario_test.rs, error_scenarios_test.rs
  test('linear (class) and diamond (functions) arithmetic, from the steps’ initialization', async () => {
    const [linear, diamond] = await Promise.all([
      run('linear_workflow_ts', 'mathematical_sequence_ts', { even_number: 6 }),
      run('diamond_workflow_dsl_ts', 'parallel_computation_dsl_ts', { even_number: 6 }),
    ]);
    for (const { task, steps } of [linear, diamond]) {
      assert.equal(task.status, 'complete');
      assertAllComplete(steps);
    }
    const values = (steps) => Object.fromEntries(Object.entries(steps).map(([n, step]) => [n, resultOf(step).value]));
    // 6² = 36, + 10 = 46, × 3 = 138, ÷ 2 = 69
    assert.deepEqual(values(linear.steps), { linear_step_1: 36, linear_step_2: 46, linear_step_3: 138, linear_step_4: 69 });
    // 6² = 36; 36 + 25 = 61 and 36 × 2 = 72; their average 66.5
    assert.deepEqual(values(diamond.steps), { diamond_start_dsl_ts: 36, diamond_branch_b_dsl_ts: 61, diamond_branch_c_dsl_ts: 72, diamond_end_dsl_ts: 66.5 });
  });

  test('success, permanent error (one attempt) and retryable error (every attempt used) (test_scenarios_ts)', async () => {
    const [ok, permanent, retryable] = await Promise.all([
      run('test_scenarios_ts', 'success_only_ts', { message: 'Hello from TypeScript e2e test!' }),
      run('test_scenarios_ts', 'permanent_error_only_ts', { error_message: 'Permanent failure from TypeScript' }),
      run('test_scenarios_ts', 'retryable_error_only_ts', { error_message: 'Temporary failure from TypeScript - will retry' }),
    ]);
    assert.equal(ok.task.status, 'complete');
    assertAllComplete(ok.steps);
    assert.deepEqual(resultOf(ok.steps.success_step), { message: 'Hello from TypeScript e2e test!', operation: 'echo' });

    assert.equal(permanent.task.status, 'blocked_by_failures');
    const p = permanent.steps.permanent_error_step_ts;
    assert.deepEqual([p.currentState, p.attempts], ['error', 1]);
    assert.deepEqual(failureOf(p), { message: 'Permanent failure from TypeScript', retryable: false, code: 'CONFORMANCE_PERMANENT' });

    assert.equal(retryable.task.status, 'blocked_by_failures');
    const r = retryable.steps.retryable_error_step_ts;
    assert.equal(r.currentState, 'error');
    assert.ok(r.maxAttempts > 1);
    assert.equal(r.attempts, r.maxAttempts, 'retried until no attempt was left');
    assert.deepEqual(failureOf(r), { message: `Temporary failure from TypeScript - will retry (attempt ${r.maxAttempts})`, retryable: true, code: null });
  });
});
