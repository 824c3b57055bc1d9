// Handler resolution over a scripted runtime: class detection without
// running user code, the module lookup, the chain and `handler.resolver`
// hints, method dispatch, one instance per (callable, initialization), and
// the start-up check of templates against handlers.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import { makeEvent } from '../helpers/fake-runtime.mjs';
import { fakeWorker, resultOf, waitFor } from '../helpers/fake-worker.mjs';
import { pkg } from '../helpers/package.mjs';
import { runtimeName } from '../helpers/runtime.mjs';

const { ModuleResolver, ExplicitMappingResolver, isHandlerClass, handlerClass, HandlerValidationError } = pkg;
const config = { databaseUrl: 'postgresql://u:p@127.0.0.1:1/d', templatePath: '/templates' };
const setup = (options = {}) => fakeWorker(config, options);

async function run(runtime, worker, events) {
  await worker.start();
  runtime.queue.push(...events);
  await waitFor(() => events.every((e) => resultOf(runtime, e)));
  await worker.stop();
  return events.map((e) => resultOf(runtime, e));
}

const dirs = [];
function moduleDir(files) {
  const dir = mkdtempSync(join(tmpdir(), 'wt-handlers-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('class detection', () => {
  test('reads descriptors only: classes yes, functions no, and no user code runs', () => {
    let ran = false;
    class Plain {
      call() {}
    }
    class WithStatic {
      static get prototypeName() {
        ran = true;
        return 'x';
      }
    }
    function legacy() {}
    assert.equal(isHandlerClass(Plain), true);
    assert.equal(isHandlerClass(WithStatic), true);
    assert.equal(isHandlerClass(class extends Plain {}), true);
    assert.equal(isHandlerClass(legacy), false, 'a plain function has a writable prototype');
    assert.equal(isHandlerClass(() => 1), false);
    assert.equal(isHandlerClass(async () => 1), false);
    assert.equal(isHandlerClass(function* gen() {}), false);
    assert.equal(isHandlerClass(Plain.bind(null)), false, 'bound: no prototype');
    assert.equal(isHandlerClass({ call() {} }), false);
    assert.equal(ran, false);
    const es5 = handlerClass(function Es5Handler(init) {
      this.init = init;
    });
    assert.equal(isHandlerClass(es5), true, 'marked');
    assert.equal(isHandlerClass(class extends es5 {}), true);
  });
});

describe('resolution', () => {
  test('classes: one instance per (callable, initialization); handler.method dispatches', async () => {
    const constructed = [];
    class Notifier {
      constructor(init) {
        constructed.push(init);
        this.init = init;
      }
      email() {
        return { via: 'email', sender: this.init.sender };
      }
      sms() {
        return { via: 'sms', sender: this.init.sender };
      }
    }
    const { runtime, worker } = setup();
    worker.register('notify', Notifier);
    const events = [
      makeEvent({ callable: 'notify', method: 'email', initialization: { sender: 'a', n: { x: 1, y: 2 } } }),
      makeEvent({ callable: 'notify', method: 'sms', initialization: { sender: 'b' } }),
      makeEvent({ callable: 'notify', method: 'sms', initialization: { n: { y: 2, x: 1 }, sender: 'a' } }),
    ];
    const results = await run(runtime, worker, events);
    assert.deepEqual(results.map((r) => r.result), [{ via: 'email', sender: 'a' }, { via: 'sms', sender: 'b' }, { via: 'sms', sender: 'a' }]);
    assert.deepEqual(constructed, [{ sender: 'a', n: { x: 1, y: 2 } }, { sender: 'b' }], 'key order does not matter');
  });

  test('a missing method and a throwing constructor are clear failures; a function serves any method', async () => {
    const { runtime, worker } = setup();
    worker.register('cls', class {
      call() {}
    });
    worker.register('fn', () => 1);
    worker.register('obj', { run: () => 1 });
    worker.register('boom', class {
      constructor() {
        throw new Error('no API key configured');
      }
    });
    const events = [
      makeEvent({ callable: 'cls', method: 'nope' }),
      makeEvent({ callable: 'fn', method: 'other' }),
      makeEvent({ callable: 'obj' }),
      makeEvent({ callable: 'boom' }),
    ];
    const [cls, fn, obj, boom] = await run(runtime, worker, events);
    assert.equal(cls.outcome, 'permanent_failure');
    assert.match(cls.error.message, /the class handler of 'cls' has no method 'nope'/);
    assert.equal(cls.error.errorCode, 'NO_HANDLER');
    // As tasker-core's worker does: the callable names the function, whatever method the template names.
    assert.equal(fn.outcome, 'success');
    assert.equal(fn.result, 1);
    assert.match(obj.error.message, /the object handler of 'obj' has no method 'call'/);
    assert.equal(boom.outcome, 'retryable_failure');
    assert.match(boom.error.message, /no API key configured/);
  });

  test('the chain: registrations first, then resolvers in order; a hint asks only the named one', async () => {
    const custom = { name: 'custom', resolve: (c) => (c.startsWith('x.') ? () => ({ from: 'custom', c }) : undefined), callables: () => ['x.*'] };
    const shadow = { name: 'shadow', resolve: () => () => ({ from: 'shadow' }) };
    const { runtime, worker } = setup({ resolvers: [custom, shadow] });
    worker.register('x.one', () => ({ from: 'explicit' }));
    assert.deepEqual(worker.resolverNames, ['explicit_mapping', 'custom', 'shadow']);
    const events = [
      makeEvent({ callable: 'x.one' }),
      makeEvent({ callable: 'x.two' }),
      makeEvent({ callable: 'y' }),
      makeEvent({ callable: 'x.one', resolver: 'custom' }),
      makeEvent({ callable: 'x.one', resolver: 'explicit_mapping' }),
      makeEvent({ callable: 'y', resolver: 'custom' }),
      makeEvent({ callable: 'x.one', resolver: 'class_constant' }),
    ];
    const results = await run(runtime, worker, events);
    assert.deepEqual(results.slice(0, 5).map((r) => r.result.from), ['explicit', 'custom', 'shadow', 'custom', 'explicit']);
    assert.match(results[5].error.message, /resolver 'custom' has no handler for 'y' \(it knows: x\.\*\)/);
    assert.match(results[6].error.message, /names resolver 'class_constant', which this worker does not have \(resolvers: explicit_mapping, custom, shadow\)/);
  });

  test('addResolver checks what it gets', () => {
    const { worker } = setup();
    assert.throws(() => worker.addResolver({ name: 'a' }), /an object with a name and resolve/);
    assert.throws(() => worker.addResolver({ name: 'bad name', resolve() {} }), /'bad name' is not a resolver name/);
    assert.throws(() => worker.addResolver({ name: 'explicit_mapping', resolve() {} }), /already in the chain/);
    worker.addResolver({ name: 'mine', resolve() {} });
    assert.ok(new ExplicitMappingResolver().callables);
  });

  test('register takes a map of callables', async () => {
    const { runtime, worker } = setup();
    worker.register({ 'a.one': () => 1, 'a.two': () => [2] });
    const results = await run(runtime, worker, [makeEvent({ callable: 'a.one' }), makeEvent({ callable: 'a.two' })]);
    assert.deepEqual(results.map((r) => r.result), [1, [2]]);
    assert.throws(() => worker.register({ 'a.one': () => 1 }), /already registered/);
  });
});

describe('module lookup', () => {
  test('a folder: module key from the path, an export per callable, default export as the module key', async () => {
    const dir = moduleDir({
      'orders.mjs': 'export const validate = (ctx) => ({ ok: ctx.taskContext.id }); export class Notifier { constructor(i) { this.i = i } email() { return { to: this.i.to } } }; export const LIMIT = 5;',
      'billing/invoices.mjs': 'export default () => "invoice"; export const send = () => "sent";',
      'billing/index.mjs': 'export const ping = () => "pong";',
      'legacy.cjs': 'module.exports = { old: () => "cjs" };',
      'types.d.ts': 'export declare const x: number;',
      '_private.mjs': 'throw new Error("never loaded")',
      'node_modules/dep.mjs': 'throw new Error("never loaded")',
    });
    const resolver = new ModuleResolver(dir);
    await resolver.prepare();
    assert.deepEqual(resolver.callables(), [
      'billing.invoices', 'billing.invoices.send', 'billing.ping', 'legacy', 'legacy.old', 'orders.Notifier', 'orders.validate',
    ]);
    assert.match(resolver.origin('orders.validate'), /orders\.mjs#validate$/);
    const { runtime, worker } = setup({ handlers: dir });
    const results = await run(runtime, worker, [
      makeEvent({ callable: 'orders.validate', context: { id: 7 } }),
      makeEvent({ callable: 'orders.Notifier', method: 'email', initialization: { to: 'ada' } }),
      makeEvent({ callable: 'billing.invoices' }),
      makeEvent({ callable: 'legacy.old' }),
    ]);
    assert.deepEqual(results.map((r) => r.result), [{ ok: 7 }, { to: 'ada' }, 'invoice', 'cjs']);
  });

  test('a module file, and a map of modules', async () => {
    const dir = moduleDir({ 'shop.mjs': 'export const charge = () => "charged";' });
    const file = new ModuleResolver(join(dir, 'shop.mjs'));
    await file.prepare();
    assert.deepEqual(file.callables(), ['shop.charge']);
    const map = new ModuleResolver({ shop: { refund: () => 'refunded' }, tools: { default: class { call() {} } } }, { name: 'modules' });
    await map.prepare();
    assert.equal(map.name, 'modules');
    assert.deepEqual(map.callables(), ['shop.refund', 'tools']);
  });

  test('problems are clear errors at prepare (so at start)', async () => {
    await assert.rejects(new ModuleResolver('/no/such/folder').prepare(), /\/no\/such\/folder does not exist/);
    const broken = moduleDir({ 'bad.mjs': 'export const = ;' });
    await assert.rejects(new ModuleResolver(broken).prepare(), /cannot load handler module .*bad\.mjs/);
    const twice = moduleDir({ 'a.mjs': 'export const b = () => 1;', 'a/b.mjs': 'export default () => 2;' });
    await assert.rejects(new ModuleResolver(twice).prepare(), /callable 'a\.b' is provided by .*a\/b\.mjs#default and by .*a\.mjs#b/);
    const clash = moduleDir({ 'x.mjs': 'export const y = 1;', 'x.cjs': 'exports.y = 1;' });
    await assert.rejects(new ModuleResolver(clash).prepare(), /are both module 'x'/);
    assert.throws(() => new ModuleResolver([]), /at least one folder/);
    await assert.rejects(new ModuleResolver({ a: 5 }).prepare(), /module 'a' of the map is number/);
    const text = moduleDir({ 'notes.txt': 'hello' });
    await assert.rejects(new ModuleResolver(join(text, 'notes.txt')).prepare(), /is not a JavaScript or TypeScript module/);
  });

  test('TypeScript modules: loaded where the runtime can, else a clear error; a compiled copy is used in Node', async () => {
    const dir = moduleDir({ 'only.mts': 'export const f = (): number => 1;' });
    const resolver = new ModuleResolver(dir);
    const importsTypeScript = runtimeName === 'bun' || runtimeName === 'deno';
    if (importsTypeScript) {
      await resolver.prepare();
      assert.deepEqual(resolver.callables(), ['only.f']);
    } else {
      await assert.rejects(resolver.prepare(), /only\.mts is TypeScript, which this runtime \(Node\.js .*\) does not import; compile it/);
    }
    const both = moduleDir({ 'm.mts': 'export const ts = (): number => 1;', 'm.mjs': 'export const js = () => 1;' });
    const pair = new ModuleResolver(both);
    await pair.prepare();
    assert.deepEqual(pair.callables(), [importsTypeScript ? 'm.ts' : 'm.js']);
  });
});

describe('start-up validation', () => {
  const template = (namespace, steps, name = 't') => ({ file: `/templates/${name}.yaml`, namespace, name, version: '1.0.0', steps });

  test('start fails with every missing handler, method and resolver listed, before bootstrapping', async () => {
    const { runtime, worker } = setup({ config: { ...config, namespace: 'shop' } });
    runtime.templates = [
      template('shop', [
        { name: 'ok', callable: 'a' },
        { name: 'missing', callable: 'b' },
        { name: 'no_method', callable: 'cls', method: 'refund' },
        { name: 'hinted', callable: 'a', resolver: 'class_constant' },
      ]),
      template('other', [{ name: 'elsewhere', callable: 'not.mine' }], 'other'),
    ];
    worker.register('a', () => 1);
    worker.register('cls', class {
      call() {}
      get refundable() {
        throw new Error('getters are not run');
      }
    });
    const error = await worker.start().catch((e) => e);
    assert.ok(error instanceof HandlerValidationError, String(error));
    assert.equal(error.code, 'MISSING_HANDLERS');
    assert.deepEqual(error.missing.map((m) => m.step), ['missing', 'no_method', 'hinted']);
    assert.match(error.message, /^3 template steps have no handler:/);
    assert.match(error.message, /shop\/t@1\.0\.0 step 'missing' \(\/templates\/t\.yaml\): no handler registered for 'b'/);
    assert.match(error.message, /step 'no_method' .*its class has no method 'refund'/);
    assert.match(error.message, /step 'hinted' .*resolver 'class_constant', which this worker does not have/);
    assert.match(error.message, /validateHandlers: false/);
    assert.equal(runtime.calls.find((c) => c[0] === 'bootstrapWorker'), undefined, 'never bootstrapped');
    assert.deepEqual(runtime.calls.find((c) => c[0] === 'loadTaskTemplates'), ['loadTaskTemplates', '/templates']);
  });

  test('validate() reports without starting; validateHandlers: false skips the check', async () => {
    const { runtime, worker } = setup({ validateHandlers: false });
    runtime.templates = [template('shop', [{ name: 's', callable: 'nobody' }])];
    worker.register('a', () => 1);
    const report = await worker.validate();
    assert.deepEqual(report.namespaces, []);
    assert.equal(report.steps, 1);
    assert.equal(report.missing[0].callable, 'nobody');
    await worker.start();
    assert.ok(runtime.calls.find((c) => c[0] === 'bootstrapWorker'));
    await worker.stop();
  });

  test('notes, logged once at start: a function serving a named method, a batchable step without a worker template', async () => {
    const { runtime, worker } = setup({ config: { ...config, namespace: 'shop' } });
    runtime.templates = [
      template('shop', [
        { name: 'validate', callable: 'Multi.Validate', method: 'validate' },
        { name: 'again', callable: 'Multi.Validate', method: 'validate' },
        { name: 'split', callable: 'split', stepType: 'batchable' },
        { name: 'split_named', callable: 'split', stepType: 'batchable', workerTemplateName: 'work' },
      ]),
    ];
    worker.register({ 'Multi.Validate': () => ({ ok: true }), split: () => 1 });
    const report = await worker.validate();
    assert.deepEqual(report.missing, []);
    assert.deepEqual(
      report.notes.map((n) => [n.level, n.step]),
      [
        ['warn', 'split'],
        ['info', 'validate'],
      ],
    );
    assert.match(report.notes[0].message, /names no handler\.initialization\.worker_template_name: after noBatches\(\)/);
    assert.match(report.notes[1].message, /'Multi\.Validate' is a function handler: it serves the template's method 'validate' itself/);
    assert.equal(runtime.logs.length, 0, 'validate() logs nothing');
    await worker.start();
    assert.deepEqual(
      runtime.logs.map(([level, message]) => [level, message.slice(0, 20)]),
      report.notes.map((n) => [n.level, n.message.slice(0, 20)]),
    );
    await worker.stop();
  });

  test('a broken template is the addon’s error; handlers from modules count', async () => {
    const { runtime, worker } = setup();
    runtime.templates = Object.assign(new Error('templatePath: /t/x.yaml is not a valid task template: line 3'), { code: 'INVALID_ARGUMENT' });
    worker.register('a', () => 1);
    await assert.rejects(worker.start(), /line 3/);
    const dir = moduleDir({ 'shop.mjs': 'export class Charge { refund() {} }' });
    const second = setup({ handlers: dir });
    second.runtime.templates = [template('shop', [{ name: 'r', callable: 'shop.Charge', method: 'refund' }])];
    assert.deepEqual((await second.worker.validate()).missing, []);
    await second.worker.start();
    await second.worker.stop();
  });

  test('no template path, nothing to check', async () => {
    const { runtime, worker } = setup({ config: { databaseUrl: 'postgresql://u:p@h:1/d' } });
    const saved = process.env.TASKER_TEMPLATE_PATH;
    delete process.env.TASKER_TEMPLATE_PATH;
    try {
      worker.register('a', () => 1);
      assert.deepEqual((await worker.validate()).templates, []);
      assert.equal(runtime.calls.find((c) => c[0] === 'loadTaskTemplates'), undefined);
    } finally {
      if (saved !== undefined) process.env.TASKER_TEMPLATE_PATH = saved;
    }
  });
});
