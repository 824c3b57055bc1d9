// The handler guide's examples (README's handler guide, examples/guide/) run end to
// end: the guide's own worker program loads its handler modules by callable
// and serves real tasks of the guide's templates.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';

import { eventually, stepsByName, suiteTemplates, useEnvironment } from '../helpers/environment.mjs';
import { pkg } from '../helpers/package.mjs';
import { createWorker } from '../../examples/guide/worker.mjs';
import { unitsInStock } from '../../examples/guide/handlers/inventory.mjs';
import { legacyHandlers, legacyResolver } from '../../examples/guide/resolvers.mjs';
import { trackRevenue } from '../../examples/guide/subscribers.mjs';

const { EventNames } = pkg;

let env;
let templates;
let worker;
let rates;
let revenue;
const checkpoints = [];
const rateRequests = [];

async function run(name, context) {
  const { taskUuid } = await env.client.createTask({ name, namespace: templates.namespace, context });
  const task = await env.client.waitForTask(taskUuid, { timeoutMs: 90000 });
  return { task, steps: await stepsByName(env.client, taskUuid) };
}

/** What dependents saw as a step's result (a decision's or batchable step's is stored beside its outcome). */
const resultOf = (step) => {
  const stored = step.results.result;
  return stored?.result_envelope ? stored.result : stored;
};

const order = (overrides = {}) => ({
  orderId: 'ORD-7',
  country: 'DE',
  lines: [
    { sku: 'KB-01', quantity: 1, unitPrice: 89.9, weightKg: 0.9 },
    { sku: 'MS-02', quantity: 2, unitPrice: 24.5, weightKg: 0.2 },
  ],
  ...overrides,
});

describe('the handler guide, end to end', { timeout: 300000 }, () => {
  before(async () => {
    env = await useEnvironment();
    templates = suiteTemplates('guide', ['guide_checkout', 'guide_shipping', 'guide_inventory', 'guide_rates', 'resolution']);
    // The rates service: unavailable once per task (asking for 1 s), unknown currencies are 404.
    const unavailableOnce = new Set();
    rates = createServer((req, res) => {
      const [, , from, to] = req.url.split('/');
      rateRequests.push({ to, at: Date.now() });
      const reply = (status, body, headers = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      if (to === 'XXX') return reply(404, { error: `no rate for ${from}/${to}` });
      if (to === 'USD' && !unavailableOnce.has(to)) {
        unavailableOnce.add(to);
        return reply(503, { error: 'warming up' }, { 'retry-after': '1' });
      }
      reply(200, { rate: 1.25 });
    });
    await new Promise((resolve) => rates.listen(0, '127.0.0.1', resolve));
    worker = createWorker({
      databaseUrl: env.databaseUrl,
      templatePath: templates.path,
      namespace: templates.namespace,
      resolvers: [legacyResolver(legacyHandlers)],
    });
    worker.events.on(EventNames.STEP_COMPLETION_SENT, (p) => p.outcome === 'checkpoint' && checkpoints.push(p.stepName));
    revenue = trackRevenue(worker);
    await worker.start();
  });

  after(async () => {
    await worker?.stop();
    await pkg.getTaskerRuntime().close();
    await new Promise((resolve) => (rates ? rates.close(resolve) : resolve()));
    templates?.remove();
    await env?.release();
  });

  test('plain handlers and a class whose methods run with each step’s own initialization', async () => {
    const { task, steps } = await run('checkout', order());
    assert.equal(task.status, 'complete');
    assert.deepEqual(resultOf(steps.validate_order), { orderId: 'ORD-7', itemCount: 3, subtotal: 138.9 });
    assert.deepEqual(resultOf(steps.price_order), { orderId: 'ORD-7', subtotal: 138.9, tax: 26.39, total: 165.29 });
    assert.deepEqual(resultOf(steps.notify_customer), {
      channel: 'email',
      sender: 'orders@shop.example',
      to: 'customer of ORD-7',
      text: 'Thank you! You paid 165.29.',
    });
    assert.deepEqual(resultOf(steps.notify_warehouse), { channel: 'sms', sender: '+4930123456', to: 'warehouse', text: 'Pick 1xKB-01, 2xMS-02 for ORD-7.' });
    // The subscriber counted the order from price_order's `order.priced` event, once.
    await eventually(() => revenue.tasks.includes(task.taskUuid), { timeoutMs: 10_000, what: 'the order.priced event' });
    assert.deepEqual(revenue, { orders: 1, total: 165.29, tasks: [task.taskUuid] });
  });

  test('a decision with a number as its result: the chosen branch sees it, the other is never created', async () => {
    const heavy = await run('shipping', order({ lines: [{ sku: 'DESK', quantity: 1, unitPrice: 300, weightKg: 25 }] }));
    assert.equal(heavy.task.status, 'complete');
    assert.equal(resultOf(heavy.steps.weigh_parcel), 25);
    assert.equal(resultOf(heavy.steps.choose_shipping), 4.5);
    assert.deepEqual(resultOf(heavy.steps.standard_shipping), { carrier: 'post', weightKg: 25, cost: 4.5, days: 4 });
    assert.equal(heavy.steps.express_shipping, undefined, 'the other branch was never created');
    assert.equal(resultOf(heavy.steps.confirm_shipping), 'ORD-7 ships by post in 4 days');
    const light = await run('shipping', order({ lines: [{ sku: 'MS-02', quantity: 2, unitPrice: 24.5, weightKg: 0.2 }] }));
    assert.equal(light.task.status, 'complete');
    assert.deepEqual(resultOf(light.steps.express_shipping), { carrier: 'courier', weightKg: 0.4, cost: 9.9, days: 1 });
    assert.equal(light.steps.standard_shipping, undefined);
  });

  test('a decision that selects no branch: the task completes without them', async () => {
    const { task, steps } = await run('shipping', order({ digital: true }));
    assert.equal(task.status, 'complete');
    assert.equal(resultOf(steps.choose_shipping), 0);
    assert.deepEqual(Object.keys(steps).sort(), ['choose_shipping', 'weigh_parcel']);
  });

  test('batches with checkpoints: 1,000 SKUs in 4 workers, every item counted once, collected at the end', async () => {
    const before = checkpoints.length;
    const { task, steps } = await run('stock_count', { warehouse: 'BER-1', skuCount: 1000 });
    assert.equal(task.status, 'complete');
    let units = 0;
    let lowStock = 0;
    for (let sku = 0; sku < 1000; sku++) {
      const n = await unitsInStock('BER-1', sku);
      units += n;
      if (n < 10) lowStock++;
    }
    assert.equal(resultOf(steps.plan_count), 1000, 'a number result on a batchable step');
    assert.deepEqual(resultOf(steps.summarize_stock), { warehouse: 'BER-1', skus: 1000, batches: 4, units, lowStock });
    const workers = Object.keys(steps).filter((n) => n.startsWith('count_stock_')).sort();
    assert.deepEqual(workers, ['count_stock_001', 'count_stock_002', 'count_stock_003', 'count_stock_004']);
    // 250 SKUs per worker, a checkpoint every 100: two each.
    assert.deepEqual(checkpoints.slice(before).sort(), workers.flatMap((w) => [w, w]));
  });

  test('no batches: the placeholder worker is skipped and the summary counts nothing', async () => {
    const { task, steps } = await run('stock_count', { warehouse: 'BER-1', skuCount: 0 });
    assert.equal(task.status, 'complete');
    assert.equal(resultOf(steps.plan_count), 0);
    assert.deepEqual(resultOf(steps.count_stock_000), { noOp: true });
    assert.deepEqual(resultOf(steps.summarize_stock), { warehouse: 'BER-1', skus: 0, batches: 0, units: 0, lowStock: 0 });
  });

  test('an API call: 503 with Retry-After is retried after it; the status and duration are in the metadata', async () => {
    const ratesApi = `http://127.0.0.1:${rates.address().port}`;
    const { task, steps } = await run('currency_conversion', { amount: 80, from: 'EUR', to: 'USD', ratesApi });
    assert.equal(task.status, 'complete');
    const step = steps.convert_currency;
    assert.deepEqual(resultOf(step), { amount: 100, currency: 'USD', rate: 1.25 });
    assert.equal(step.attempts, 2);
    const http = step.results.metadata.custom.http;
    assert.equal(http.status, 200);
    assert.equal(http.calls.length, 1);
    assert.ok(http.durationMs >= 0);
    const [first, second] = rateRequests.filter((r) => r.to === 'USD');
    assert.ok(second.at - first.at >= 900, `retried ${second.at - first.at} ms later, after Retry-After: 1`);
  });

  test('an API call answered 404 fails for good, with the status recorded', async () => {
    const ratesApi = `http://127.0.0.1:${rates.address().port}`;
    const { task, steps } = await run('currency_conversion', { amount: 1, from: 'EUR', to: 'XXX', ratesApi });
    assert.equal(task.status, 'blocked_by_failures');
    const step = steps.convert_currency;
    assert.equal(step.currentState, 'error');
    assert.equal(step.attempts, 1);
    assert.match(JSON.stringify(step.results), /answered 404/);
  });

  test('resolver hints: a step names module_lookup, another the application’s own resolver', async () => {
    const { task, steps } = await run('resolution', { ...order(), message: 'hello from the template' });
    assert.equal(task.status, 'complete');
    const validated = { orderId: 'ORD-7', itemCount: 3, subtotal: 138.9 };
    assert.deepEqual(resultOf(steps.by_chain), validated, 'found by the chain: module lookup');
    assert.deepEqual(resultOf(steps.by_hint), validated, 'found by the resolver the template names');
    assert.deepEqual(resultOf(steps.by_custom), { pong: 'hello from the template' }, 'served by the legacy resolver');
  });
});
