// The fuzz test's child program: makes randomised calls to the addon and
// classifies what each one does. Runs in a process of its own so that a
// crash of the addon kills only this process; the parent test then names the
// call that caused it from the call log.
//
//   <runtime> fuzz-child.mjs <phase> <seed> <calls>
//
// phase: unbooted | lifecycle | running | bench. The seed makes the calls
// reproducible (a small xorshift generator; the worker's own timing can still
// change what the running phase sees). Environment:
//   FUZZ_LOG          file the calls are appended to (default: stderr), one line
//                     `CALL <n> <export>\t<js>` written synchronously BEFORE each call, and
//                     one line `FAIL <json>` for each failed check
//   FUZZ_SETTLE_MS    how long a returned Promise may stay pending (default 5000)
//   FUZZ_DATABASE_URL, FUZZ_TEMPLATE_PATH, FUZZ_NAMESPACE   the running phase's worker
//   FUZZ_ORCHESTRATION_URL  a real orchestration for TaskerClients (running phase)
//   TASKER_BENCH_ADDON  the benchmark variant (default target/bench/debug/tasker-worker.node)
// At the end it prints one line `FUZZ-SUMMARY <json>` on stdout and exits 0.
import { openSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import { runtimeName } from './runtime.mjs';

const require = createRequire(import.meta.url);
const argv = process.argv.slice(2);
const PHASE = argv[0] ?? process.env.FUZZ_PHASE;
const SEED = Number(argv[1] ?? process.env.FUZZ_SEED ?? 1);
const TOTAL = Number(argv[2] ?? process.env.FUZZ_CALLS ?? 1000);
const SETTLE_MS = Number(process.env.FUZZ_SETTLE_MS ?? 5000);
const PHASES = ['unbooted', 'lifecycle', 'running', 'bench'];
if (!PHASES.includes(PHASE) || !Number.isFinite(SEED) || !(TOTAL > 0)) {
  process.stderr.write(`usage: fuzz-child.mjs <${PHASES.join('|')}> <seed> <calls>\n`);
  process.exit(2);
}
const RUNTIME = runtimeName;
const logFd = process.env.FUZZ_LOG ? openSync(process.env.FUZZ_LOG, 'a') : 2;
const STABLE_CODES = new Set([
  'NOT_BOOTSTRAPPED', 'INVALID_ARGUMENT', 'UNKNOWN_EVENT', 'DATABASE_UNAVAILABLE', 'BROKER_UNAVAILABLE', 'BOOTSTRAP_FAILED',
  'SUBSCRIPTION_ACTIVE', 'CHANNEL_CLOSED', 'INTERNAL', 'ALREADY_RUNNING',
  // TaskerClient's codes
  'NOT_FOUND', 'UNAUTHORIZED', 'FORBIDDEN', 'VALIDATION', 'CONFLICT', 'UNAVAILABLE', 'TIMEOUT', 'SERVER_ERROR',
]);
const TEMPLATES = fileURLToPath(new URL('../../devenv/templates', import.meta.url));
const BENCH_PATH = process.env.TASKER_BENCH_ADDON ?? fileURLToPath(new URL('../../target/bench/debug/tasker-worker.node', import.meta.url));

const native = PHASE === 'bench' ? require(BENCH_PATH) : require('../../index.cjs');
const bench = native.bench;

// ---------------------------------------------------------------- random source

let state = (SEED ^ 0x5bd1e995) | 0 || 0x2545f491;
for (let i = 0; i < 8; i++) next();
/** Uniform in [0, 1): xorshift32. */
function next() {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 4294967296;
}
const int = (n) => Math.floor(next() * n);
const chance = (p) => next() < p;
const pick = (list) => list[int(list.length)];
/** Picks from [[weight, value], ...]. */
function weighted(entries) {
  let r = next() * entries.reduce((s, [w]) => s + w, 0);
  for (const [w, v] of entries) {
    if ((r -= w) < 0) return v;
  }
  return entries[entries.length - 1][1];
}
function uuid(version = 7) {
  let hex = '';
  for (let i = 0; i < 32; i++) hex += int(16).toString(16);
  hex = hex.slice(0, 12) + version + hex.slice(13, 16) + '89ab'[int(4)] + hex.slice(17);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// ---------------------------------------------------------------- values
// Every generated value is { v, src }: the value and JS source that rebuilds it,
// so that the log names each call exactly.

const S = (v, src) => ({ v, src });
const KNOWN_UUID = '0190a3b2-0000-7000-8000-00000000000a';
const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const THROW = (what) => `throw new Error("fuzz: ${what}")`;

const NUMBERS = [
  [0, '0'], [-0, '-0'], [-1, '-1'], [1, '1'], [1.5, '1.5'], [NaN, 'NaN'], [Infinity, 'Infinity'], [-Infinity, '-Infinity'],
  [2 ** 31, '2**31'], [2 ** 32, '2**32'], [2 ** 53, '2**53'], [-(2 ** 53), '-(2**53)'], [Number.MAX_VALUE, 'Number.MAX_VALUE'],
  [Number.MIN_VALUE, 'Number.MIN_VALUE'], [2 ** 31 - 1, '2**31 - 1'], [2 ** 32 - 1, '2**32 - 1'], [1e21, '1e21'],
  [-0.5, '-0.5'], [7, '7'], [1000, '1000'], [1e15, '1e15'], [10001, '10001'],
];
function number() {
  if (chance(0.85)) return S(...pick(NUMBERS));
  const n = chance(0.5) ? int(2_000_000) - 1_000_000 : (next() - 0.5) * 10 ** int(20);
  return S(n, String(n));
}
/** Mostly plausible sizes and durations, with the catalogue's extremes. */
function smallNumber(valid = [0, 1, 5, 12, 100, 250, 1500, 3000]) {
  if (chance(0.55)) {
    const n = pick(valid);
    return S(n, String(n));
  }
  return number();
}

const STRINGS = [
  '', 'x', 'success', 'retryable_failure', 'permanent_failure', 'SUCCESS', 'rate_limit', 'custom', 'error', 'warn', 'info',
  'off', 'not-a-uuid', KNOWN_UUID, NIL_UUID, KNOWN_UUID.toUpperCase(), `{${KNOWN_UUID}}`, `${KNOWN_UUID}\n`,
  "'; DROP TABLE tasker.tasks; --", '1 OR 1=1', "x'); SELECT pg_sleep(10); --", '/etc/passwd', '../../../../etc/shadow',
  'C:\\Windows\\System32\\', '/dev/null', '/no/such/dir', 'file:///etc/passwd', '\\\\server\\share', 'üñîçødé 🚀 \u202e end',
  '\u0000', 'a\u0000b', '\ud800', '%s%n%x', '${process.exit()}', 'null', 'true', '{}', '[]', '1e309', 'NaN',
  'postgresql://tasker:pw@127.0.0.1:1/tasker', '127.0.0.1:0', 'a b', 'a'.repeat(65), ' success ', 'only_step', 'single',
];
function string() {
  const r = next();
  if (r < 0.06) return S('x'.repeat(100_000), '"x".repeat(100000)');
  if (r < 0.08) return S('🚀'.repeat(50_000), '"🚀".repeat(50000)');
  if (r < 0.16) {
    const u = uuid(pick([4, 7]));
    return S(u, JSON.stringify(u));
  }
  if (r < 0.24) {
    let s = '';
    for (let i = int(20) + 1; i > 0; i--) s += String.fromCharCode(32 + int(95));
    return S(s, JSON.stringify(s));
  }
  const s = pick(STRINGS);
  return S(s, JSON.stringify(s));
}
const str = (s) => S(s, JSON.stringify(s));

/** Objects and values of unusual kinds; each call builds a fresh one. */
const EXOTIC = [
  () => S({}, '{}'),
  () => S(Object.create(null), 'Object.create(null)'),
  () => S({ get outcome() { throw new Error('fuzz: getter threw'); } }, `{ get outcome() { ${THROW('getter threw')} } }`),
  () => {
    const key = pick(['databaseUrl', 'maxInFlight', 'message', 'cursor', 'capacity', 'step', 'eventId']);
    return S({ get [key]() { throw new Error('fuzz: getter threw'); } }, `{ get ${key}() { ${THROW('getter threw')} } }`);
  },
  () => proxyAllThrow(),
  () => S({ toJSON() { throw new Error('fuzz: toJSON threw'); } }, `{ toJSON() { ${THROW('toJSON threw')} } }`),
  () => {
    const o = { a: 1 };
    o.self = o;
    return S(o, '(() => { const o = { a: 1 }; o.self = o; return o; })()');
  },
  () => S(Object.freeze({ a: 1, nested: Object.freeze([1, 2]) }), 'Object.freeze({ a: 1, nested: Object.freeze([1, 2]) })'),
  () => S(new (class Fuzz { constructor() { this.outcome = 'success'; this.x = 1; } })(),
    'new (class Fuzz { constructor() { this.outcome = "success"; this.x = 1; } })()'),
  () => S(new (class Proto { get outcome() { return 'success'; } })(), 'new (class Proto { get outcome() { return "success"; } })()'),
  () => S(new Date(0), 'new Date(0)'),
  () => S(new Date(NaN), 'new Date(NaN)'),
  () => S(new Map([['outcome', 'success']]), 'new Map([["outcome", "success"]])'),
  () => S(new Set([1, 2]), 'new Set([1, 2])'),
  () => S(/fuzz/g, '/fuzz/g'),
  () => S(new Error('fuzz: as a value'), 'new Error("fuzz: as a value")'),
  () => S(new Uint8Array([1, 2, 3]), 'new Uint8Array([1, 2, 3])'),
  () => S(new ArrayBuffer(8), 'new ArrayBuffer(8)'),
  () => S(new String('success'), 'new String("success")'),
  () => S(new Number(1), 'new Number(1)'),
  () => S(Object(1n), 'Object(1n)'),
  () => S(Promise.resolve(1), 'Promise.resolve(1)'),
  () => S(new WeakMap(), 'new WeakMap()'),
  () => S(deep(10_000), 'deep(10000) /* { a: { a: ... } } 10000 levels */'),
  () => S({ [Symbol('k')]: 1, a: undefined, b: () => 1 }, '{ [Symbol("k")]: 1, a: undefined, b: () => 1 }'),
  () => S({ length: 2 ** 32 - 1 }, '{ length: 2**32 - 1 }'),
];
function deep(levels) {
  let o = {};
  for (let i = 0; i < levels; i++) o = { a: o };
  return o;
}
function proxyAllThrow() {
  const handler = new Proxy({}, { get: (_, trap) => () => { throw new Error(`fuzz: proxy trap ${String(trap)}`); } });
  return S(new Proxy({}, handler),
    'new Proxy({}, new Proxy({}, { get: (_, trap) => () => { throw new Error("fuzz: proxy trap " + String(trap)) } }))');
}
const FUNCTIONS = [
  () => S(() => {}, '() => {}'),
  () => S(() => { throw new Error('fuzz: function threw'); }, `() => { ${THROW('function threw')} }`),
  () => S(async () => 1, 'async () => 1'),
  () => S(class Fuzz {}, 'class Fuzz {}'),
  () => S(Math.max, 'Math.max'),
  () => S(function* gen() {}, 'function* gen() {}'),
];

function array(depth) {
  const r = next();
  if (r < 0.2) return S([], '[]');
  if (r < 0.3) return S(Array.from({ length: 100_000 }, (_, i) => i), 'Array.from({ length: 100000 }, (_, i) => i)');
  if (r < 0.4) {
    let a = [];
    for (let i = 0; i < 200; i++) a = [a];
    return S(a, '(() => { let a = []; for (let i = 0; i < 200; i++) a = [a]; return a; })()');
  }
  if (r < 0.45) return S([, , 1], '[, , 1]'); // eslint-disable-line no-sparse-arrays
  const items = Array.from({ length: int(4) }, () => any(depth + 1));
  return S(items.map((i) => i.v), `[${items.map((i) => i.src).join(', ')}]`);
}
function plainObject(depth) {
  const entries = Array.from({ length: int(4) }, () => [pick(['a', 'b', 'step', 'attempt', 'ok', 'ctx', 'x.y', '', 'ü']), any(depth + 1)]);
  return build(entries);
}
/** Any value at all. */
function any(depth = 0) {
  const primitivesOnly = depth >= 3;
  return weighted([
    [4, () => S(undefined, 'undefined')],
    [4, () => S(null, 'null')],
    [5, () => (chance(0.5) ? S(true, 'true') : S(false, 'false'))],
    [18, number],
    [2, () => S(pick([0n, -1n, 2n ** 64n, 123n]), pick(['0n', '-1n', '2n**64n', '123n']))],
    [18, string],
    [2, () => (chance(0.5) ? S(Symbol('fuzz'), 'Symbol("fuzz")') : S(Symbol.iterator, 'Symbol.iterator'))],
    [primitivesOnly ? 0 : 5, () => pick(FUNCTIONS)()],
    [primitivesOnly ? 0 : 8, () => array(depth)],
    [primitivesOnly ? 0 : 18, () => pick(EXOTIC)()],
    [primitivesOnly ? 0 : 10, () => plainObject(depth)],
    [primitivesOnly ? 0 : 6, () => pick([completion, config, checkpoint, failure, batch])(depth + 1)],
  ])();
}
/** A JSON-like value (a handler's result): mostly serialisable, sometimes not. */
function json(depth = 0) {
  if (depth >= 3 || chance(0.5)) {
    return weighted([[3, () => S(null, 'null')], [3, number], [5, string], [2, () => S(true, 'true')], [1, () => any(3)]])();
  }
  if (chance(0.15)) return any(depth);
  if (chance(0.3)) {
    const items = Array.from({ length: int(4) }, () => json(depth + 1));
    return S(items.map((i) => i.v), `[${items.map((i) => i.src).join(', ')}]`);
  }
  return jsonObject(depth);
}
function jsonObject(depth = 0) {
  return build(Array.from({ length: int(4) }, () => [pick(['n', 'total', 'tags', 'nested', 'items', 'ok', 'ünï', '']), json(depth + 1)]));
}

// An object from [key, S] entries; a GETTER entry becomes an enumerable throwing getter.
const GETTER = Symbol('getter');
function build(entries) {
  const v = {};
  const plain = [];
  const getters = [];
  for (const [key, item] of entries) {
    if (item === GETTER) {
      Object.defineProperty(v, key, { get() { throw new Error('fuzz: getter threw'); }, enumerable: true, configurable: true });
      getters.push(key);
    } else {
      Object.defineProperty(v, key, { value: item.v, enumerable: true, writable: true, configurable: true });
      plain.push(`${JSON.stringify(key)}: ${item.src}`);
    }
  }
  let src = `{ ${plain.join(', ')} }`;
  if (getters.length) {
    const defs = getters.map((k) => `${JSON.stringify(k)}: { get() { ${THROW('getter threw')} }, enumerable: true }`);
    src = `Object.defineProperties(${src}, { ${defs.join(', ')} })`;
  }
  return { v, src, getters: getters.length > 0 };
}
/** Wraps a shaped object in one of the unusual forms, sometimes. */
function wrap(o) {
  const r = next();
  if (r < 0.03) return S(Object.freeze(o.v), `Object.freeze(${o.src})`);
  if (r < 0.05) return S(new Proxy(o.v, { ownKeys() { throw new Error('fuzz: ownKeys trap'); } }),
    `new Proxy(${o.src}, { ownKeys() { ${THROW('ownKeys trap')} } })`);
  if (r < 0.07) return S(new Proxy(o.v, { get() { throw new Error('fuzz: get trap'); } }), `new Proxy(${o.src}, { get() { ${THROW('get trap')} } })`);
  if (r < 0.09) {
    o.v.toJSON = () => { throw new Error('fuzz: toJSON threw'); };
    return S(o.v, `Object.assign(${o.src}, { toJSON() { ${THROW('toJSON threw')} } })`);
  }
  if (r < 0.11) {
    o.v.self = o.v;
    return S(o.v, `((o) => (o.self = o, o))(${o.src})`);
  }
  if (r < 0.13) return S(Object.create(o.v), `Object.create(${o.src}) /* fields on the prototype */`);
  if (r < 0.15 && !o.getters) return S(Object.assign(Object.create(null), o.v), `Object.assign(Object.create(null), ${o.src})`);
  if (r < 0.17 && !o.getters) return S(Object.assign(new (class Fuzz {})(), o.v), `Object.assign(new (class Fuzz {})(), ${o.src})`);
  return o;
}
let corruption = 0.12;
/** An object with the expected fields, each sometimes missing, of a wrong type or a throwing getter. */
function shaped(fields, depth = 0) {
  const entries = [];
  for (const [key, make, presence] of fields) {
    if (!chance(presence)) {
      if (chance(0.05)) entries.push([key, S(undefined, 'undefined')]);
      continue;
    }
    const r = next();
    if (r < corruption) entries.push([key, any(depth + 1)]);
    else if (r < corruption + 0.02) entries.push([key, GETTER]);
    else entries.push([key, make(depth + 1)]);
  }
  if (chance(0.06)) entries.push([pick(['extra', 'constructor', 'toString', 'valueOf', 'OUTCOME']), any(depth + 1)]);
  return wrap(build(entries));
}
const oneOf = (...values) => () => str(pick(values));
const strOr = (...values) => () => (chance(0.7) ? str(pick(values)) : string());

// ---------------------------------------------------------------- argument shapes

const realEvents = []; // { eventId, stepUuid, owner } from polls and pushes
function remember(event, owner) {
  if (event && typeof event.eventId === 'string') {
    realEvents.push({ eventId: event.eventId, stepUuid: event.stepUuid, owner });
    if (realEvents.length > 300) realEvents.splice(0, realEvents.length - 300);
  }
}
/** A completion, checkpoint or mark that went through: that event is no longer in flight. */
function forget(id) {
  const i = realEvents.findIndex((e) => e.eventId === id);
  if (i >= 0) realEvents.splice(i, 1);
}
function eventId(owner) {
  const mine = realEvents.filter((e) => owner === undefined || e.owner === owner);
  const pool = mine.length ? mine : realEvents;
  if (pool.length && chance({ running: 0.6, bench: 0.8 }[PHASE] ?? 0.3)) {
    const e = chance(0.7) ? pool[pool.length - 1 - int(Math.min(pool.length, 8))] : pick(pool);
    return S(e.eventId, `${JSON.stringify(e.eventId)} /* a delivered event */`);
  }
  return weighted([[3, () => str(uuid(7))], [1, () => str(KNOWN_UUID)], [1, () => str(NIL_UUID)], [3, string], [2, () => any(0)]])();
}
function stepUuid() {
  if (realEvents.length && chance(0.4)) return str(pick(realEvents).stepUuid ?? NIL_UUID);
  return chance(0.5) ? str(uuid(4)) : string();
}
const TIMES = [0, 1, 3, 12, 250, 1500];
const EXTREMES = [
  [2 ** 53, '2**53'], [Number.MAX_VALUE, 'Number.MAX_VALUE'], [1e15, '1e15'], [1e18, '1e18'], [Infinity, 'Infinity'], [2 ** 63, '2**63'],
  [-1, '-1'], [-(2 ** 53), '-(2**53)'], [NaN, 'NaN'], [2 ** 32, '2**32'], [1e308, '1e308'],
];
/** A duration or size: plausible, or one of the values that overflow a conversion. */
function timing(valid = TIMES) {
  return weighted([[45, () => str0(pick(valid))], [30, () => S(...pick(EXTREMES))], [25, number]])();
}
const str0 = (n) => S(n, String(n));
function completion(depth = 0) {
  // A third are clean (no field corrupted), so that conversions get past the type checks.
  if (depth === 0 && chance(0.33)) {
    const saved = corruption;
    corruption = 0;
    try {
      return completion(1);
    } finally {
      corruption = saved;
    }
  }
  const outcome = weighted([[45, 'success'], [20, 'retryable_failure'], [20, 'permanent_failure'], [15, null]]);
  const ok = outcome === 'success';
  return shaped([
    ['outcome', () => (outcome ? str(outcome) : chance(0.5) ? oneOf('SUCCESS', 'failure', '', 'success ', 'Success', 'retryable', 'timeout')() : any(1)), 0.95],
    ['result', json, ok ? 0.8 : 0.1],
    ['executionTimeMs', () => timing(), 0.7],
    ['metadata', jsonObject, 0.25],
    ['error', failure, ok ? 0.08 : 0.9],
    ['backoff', backoff, ok ? 0.05 : 0.4],
    ['decision', decision, 0.1],
    ['batch', batch, 0.1],
    ['stepUuid', stepUuid, 0.1],
    ['workerHostname', string, 0.15],
  ], depth);
}
function failure(depth = 0) {
  return shaped([
    ['message', string, 0.95],
    ['errorType', strOr('Error', 'TypeError', 'ValidationError'), 0.6],
    ['errorCode', strOr('PAYMENT_DECLINED', 'E1'), 0.4],
    ['backtrace', () => (chance(0.7) ? S(['at handler (x.js:1:1)', 'at run'], '["at handler (x.js:1:1)", "at run"]') : array(2)), 0.4],
    ['statusCode', () => smallNumber([200, 404, 429, 500, 599]), 0.3],
    ['context', jsonObject, 0.3],
  ], depth);
}
function backoff(depth = 0) {
  return shaped([
    ['delaySeconds', () => timing([0, 1, 30, 3600]), 0.95],
    ['kind', () => (chance(0.75) ? oneOf('server_requested', 'rate_limit', 'service_unavailable', 'custom')() : oneOf('RATE_LIMIT', 'later', '')()), 0.6],
    ['context', string, 0.3],
  ], depth);
}
function decision(depth = 0) {
  return shaped([
    ['createSteps', () => weighted([
      [3, () => S(['only_step'], '["only_step"]')],
      [2, () => S([], '[]')],
      [1, () => S(['nope', ''], '["nope", ""]')],
      [1, () => S(Array.from({ length: 1000 }, (_, i) => `s${i}`), 'Array.from({ length: 1000 }, (_, i) => `s${i}`)')],
      [2, () => array(2)],
    ])(), 0.95],
  ], depth);
}
function cursor(depth = 0) {
  return shaped([
    ['batchId', strOr('b1', '001', ''), 0.9],
    ['startCursor', json, 0.9],
    ['endCursor', json, 0.9],
    ['batchSize', () => smallNumber([1, 10, 100]), 0.9],
  ], depth);
}
function batch(depth = 0) {
  return shaped([
    ['workerTemplateName', strOr('batch_worker', 'only_step', ''), 0.6],
    ['cursors', () => {
      if (chance(0.15)) return array(2);
      const items = Array.from({ length: int(4) }, () => cursor(depth + 2));
      return S(items.map((i) => i.v), `[${items.map((i) => i.src).join(', ')}]`);
    }, 0.95],
    ['totalItems', () => smallNumber([0, 10, 1000]), 0.9],
  ], depth);
}
function checkpoint(depth = 0) {
  return shaped([
    ['cursor', json, 0.95],
    ['itemsProcessed', () => smallNumber([0, 1, 50]), 0.95],
    ['accumulatedResults', json, 0.4],
  ], depth);
}
// Never a database that answers: the addon falls back to DATABASE_URL (removed
// from this process's environment by the parent), and every URL here is
// malformed or on port 1 of the loopback.
const BAD_DATABASE_URLS = [
  'postgresql://tasker:pw@127.0.0.1:1/tasker', 'postgres://tasker:pw@127.0.0.1:1/tasker', 'mysql://x:y@127.0.0.1:1/d',
  'postgresql://127.0.0.1:1/d', 'postgresql://tasker:@127.0.0.1:1/tasker', 'postgresql://tasker:pw@127.0.0.1:0/tasker',
  'postgresql://tasker:pw@127.0.0.1:99999/tasker', 'postgresql://tasker:pw@[::1]:1/tasker',
  'postgresql://tasker:pw@127.0.0.1:1/tasker?sslmode=require', 'postgresql://a b:pw@127.0.0.1:1/t', '',
  'postgresql://tasker:pw@127.0.0.1:1/', 'postgresql://tasker:p@ss@127.0.0.1:1/tasker',
];
function config(depth = 0) {
  const plausible = PHASE === 'lifecycle' && chance(0.4);
  return shaped([
    ['databaseUrl', () => str(plausible ? 'postgresql://tasker:pw@127.0.0.1:1/tasker' : pick(BAD_DATABASE_URLS)), 0.9],
    ['templatePath', () => str(plausible || chance(0.5) ? TEMPLATES : pick(['/no/such/dir', '/etc/passwd', '/dev/null', '', 'devenv/templates'])), 0.85],
    ['namespace', strOr('fuzz', 'has space', '', 'a'.repeat(65), 'ns-1', 'ünï'), plausible ? 0.1 : 0.3],
    ['namespaces', () => (chance(0.6) ? S(['a', 'b_c'], '["a", "b_c"]') : array(2)), 0.15],
    ['environment', oneOf('test', 'development', 'production', 'staging', '', 'TEST'), 0.5],
    ['logLevel', oneOf('error', 'warn', 'error', 'warn', 'info', 'loud', 'WARN', ''), 0.5],
    ['workerId', strOr('w1', '', 'x'.repeat(300), 'bad id!'), 0.3],
    ['webBindAddress', oneOf('127.0.0.1:0', 'off', 'nowhere', '0.0.0.0:99999', '[::1]:0', ''), 0.2],
    ['databaseMaxConnections', () => smallNumber([1, 2, 10]), 0.2],
    ['configPath', oneOf('/no/such.toml', '/etc/passwd', '/dev/null', ''), 0.1],
    ['dispatch', dispatchTuning, 0.3],
  ], depth);
}
function dispatchTuning(depth = 0) {
  return shaped([
    ['completionTimeoutMs', () => smallNumber([100, 3000, 30000]), 0.5],
    ['starvationThresholdMs', () => smallNumber([1, 1000, 10000]), 0.5],
    ['completionSendTimeoutMs', () => smallNumber([1, 10000]), 0.3],
    ['dispatchBufferSize', () => smallNumber([1, 10, 1000]), 0.3],
    ['completionBufferSize', () => smallNumber([1, 10, 1000]), 0.3],
  ], depth);
}
// TaskerClient: servers that refuse at once (port 1), or the real
// orchestration in the running phase; never one that could hang.
const ORCHESTRATION = process.env.FUZZ_ORCHESTRATION_URL;
function serverUrl() {
  if (ORCHESTRATION && chance(0.6)) return str(ORCHESTRATION);
  return chance(0.7) ? str(pick(['http://127.0.0.1:1', 'http://127.0.0.1:1/', 'http://localhost:1'])) : oneOf('ftp://x', '', 'not a url', 'http://[::1', 'http://127.0.0.1:99999', 'https://')();
}
function clientOptions(depth = 0) {
  return shaped([
    ['baseUrl', serverUrl, 0.9],
    ['transport', oneOf('rest', 'grpc', 'rest', 'smoke', 'GRPC', ''), 0.5],
    ['grpcUrl', serverUrl, 0.3],
    ['workerUrl', serverUrl, 0.3],
    ['apiKey', strOr('k', 'a\nb', 'x'.repeat(300), ''), 0.3],
    ['apiKeyHeader', strOr('X-API-Key', 'bad header', ''), 0.15],
    ['bearerToken', strOr('t', 'a\r\nb', ''), 0.2],
    ['timeoutMs', () => smallNumber([100, 1000, 3000]), 0.5],
  ], depth);
}
function taskRequest(depth = 0) {
  return shaped([
    ['name', strOr('single', 'nope', ''), 0.9],
    ['namespace', () => str(chance(0.6) && process.env.FUZZ_NAMESPACE ? process.env.FUZZ_NAMESPACE : pick(['fuzz', '', 'ünï'])), 0.9],
    ['version', strOr('1.0.0', '9.9.9', ''), 0.4],
    ['context', () => (chance(0.5) ? jsonObject(depth + 1) : json(depth + 1)), 0.7],
    ['tags', () => (chance(0.6) ? S(['a', 'b'], '["a", "b"]') : array(2)), 0.3],
    ['priority', () => smallNumber([-100, 0, 5, 100]), 0.3],
    ['idempotencyKey', string, 0.2],
    ['correlationId', () => (chance(0.5) ? str(uuid(4)) : string()), 0.2],
    ['initiator', string, 0.2],
    ['reason', string, 0.2],
  ], depth);
}
function listQuery(depth = 0) {
  return shaped([
    ['page', () => smallNumber([1, 2, 100]), 0.5],
    ['perPage', () => smallNumber([1, 25, 100]), 0.5],
    ['namespace', string, 0.4],
    ['status', oneOf('completed', 'pending', 'complete', ''), 0.4],
  ], depth);
}
function resolution(depth = 0) {
  return shaped([
    ['action', oneOf('reset_for_retry', 'resolve_manually', 'complete_manually', 'explode', ''), 0.9],
    ['reason', string, 0.8],
    ['by', string, 0.8],
    ['result', json, 0.4],
    ['metadata', jsonObject, 0.2],
  ], depth);
}
function dlqQuery(depth = 0) {
  return shaped([
    ['resolutionStatus', oneOf('pending', 'manually_resolved', 'Pending', 'lost'), 0.5],
    ['limit', () => smallNumber([1, 50, 1000]), 0.5],
    ['offset', () => smallNumber([0, 10]), 0.3],
  ], depth);
}
function dlqUpdate(depth = 0) {
  return shaped([
    ['resolutionStatus', oneOf('pending', 'manually_resolved', 'cancelled', 'lost'), 0.6],
    ['resolutionNotes', string, 0.5],
    ['resolvedBy', string, 0.5],
    ['metadata', jsonObject, 0.2],
  ], depth);
}
const anyUuid = () => (chance(0.7) ? str(uuid(pick([4, 7]))) : string());
/** The client's methods and their argument shapes (all return a Promise). */
const CLIENT_METHODS = {
  createTask: [taskRequest], getTask: [anyUuid], listTasks: [listQuery], cancelTask: [anyUuid], getTaskContext: [anyUuid],
  getTaskSummary: [anyUuid], listSteps: [anyUuid], getStep: [anyUuid, anyUuid], getStepAudit: [anyUuid, anyUuid],
  resolveStep: [anyUuid, anyUuid, resolution], listTemplates: [string], getTemplate: [string, string, string],
  validateTemplate: [string, string, string], health: [], healthDetailed: [], liveness: [], readiness: [], listDlq: [dlqQuery],
  getDlqEntry: [anyUuid], getDlqStats: [], updateDlqInvestigation: [anyUuid, dlqUpdate], getDlqInvestigationQueue: [() => smallNumber([1, 10])],
  getStalenessMonitoring: [() => smallNumber([1, 10])], getWorkerMetrics: [], getDomainEventStats: [],
};
function domainOptions(depth = 0) {
  return shaped([
    ['patterns', () => (chance(0.6) ? S(['payment.*', '*'], '["payment.*", "*"]') : array(2)), 0.6],
    ['bufferSize', () => smallNumber([1, 100, 10000]), 0.4],
  ], depth);
}
// Callbacks that fail the ways JavaScript code does: async rejections, a
// throw after an await, rejected or broken thenables, Promises that never
// settle. None may end the process (an unhandled rejection is a failure).
const ASYNC_FAILURES = [
  () => S(async () => { throw new Error('fuzz: async threw'); }, `async () => { ${THROW('async threw')} }`),
  () => S(async () => { await new Promise((r) => setTimeout(r, 5)); throw new Error('fuzz: threw after await'); },
    `async () => { await sleep(5); ${THROW('threw after await')} }`),
  () => S(() => Promise.reject(new Error('fuzz: rejected')), '() => Promise.reject(new Error("fuzz: rejected"))'),
  () => S(() => Promise.reject(undefined), '() => Promise.reject(undefined)'),
  () => S(() => ({ get then() { throw new Error('fuzz: then getter threw'); } }), `() => ({ get then() { ${THROW('then getter threw')} } })`),
  () => S(() => ({ then() { throw new Error('fuzz: then threw'); } }), `() => ({ then() { ${THROW('then threw')} } })`),
  () => S(() => ({ then: (_, reject) => reject(Symbol('fuzz')) }), "() => ({ then: (_, reject) => reject(Symbol('fuzz')) })"),
  () => S(() => new Promise(() => {}), '() => new Promise(() => {})'),
];
function domainCallback() {
  return weighted([
    [3, () => S(() => {}, '(event) => {}')],
    [2, () => S(() => { throw new Error('fuzz: subscriber threw'); }, `() => { ${THROW('subscriber threw')} }`)],
    [3, () => pick(ASYNC_FAILURES)()],
    [1, () => any(1)],
  ])();
}
function publisherFn() {
  return weighted([
    [3, () => S(async (c) => c?.payload ?? null, 'async (c) => c?.payload ?? null')],
    [1, () => S(async () => { throw new Error('fuzz: publisher threw'); }, `async () => { ${THROW('publisher threw')} }`)],
    [1, () => S(() => { throw new Error('fuzz: publisher threw at once'); }, `() => { ${THROW('publisher threw at once')} }`)],
    [2, () => pick(ASYNC_FAILURES)()],
    [1, () => S(() => 42, '() => 42')],
    [1, () => S((c) => ({ echoed: c }), '(c) => ({ echoed: c })')],
    [1, () => any(1)],
  ])();
}

function subscribeOptions(depth = 0) {
  return shaped([
    ['maxInFlight', () => smallNumber([1, 2, 10, 10000]), 0.8],
    ['maxBatch', () => smallNumber([1, 2, 64, 1000]), 0.3],
  ], depth);
}
function harnessOptions(depth = 0) {
  return shaped([
    ['completionTimeoutMs', () => smallNumber([100, 1000, 30000]), 0.5],
    ['capacity', () => smallNumber([1, 10, 1000]), 0.5],
  ], depth);
}
function fields(depth = 0) {
  const keys = ['step', 'attempt', 'ok', 'ctx', 'a b', '', 'ünï', 'x'.repeat(300), 'k.1', 'k-2', 'n'];
  const entries = Array.from({ length: int(4) + 1 }, () => [pick(keys), chance(0.6) ? json(depth + 1) : any(depth + 1)]);
  return wrap(build(entries));
}
function message() {
  return chance(0.7) ? strOr('fuzz message', 'step started', '')() : string();
}
function level() {
  const levels = PHASE === 'running'
    ? ['error', 'warn', 'off', 'error,tasker_worker_js=warn', '==', 'loud', '', 'tasker=[', 'a=b=c']
    : ['error', 'warn', 'info', 'debug', 'trace', 'off', 'error,tasker_worker_js=info', '==', 'loud', '', 'tasker=[', 'a=b=c'];
  return chance(0.8) ? str(pick(levels)) : string();
}
function pollMax() {
  return chance(0.6) ? smallNumber([1, 5, 100, 1000]) : any(1);
}
function completionJson() {
  if (chance(0.6)) {
    const c = completion();
    try {
      const text = JSON.stringify(c.v);
      if (typeof text === 'string') return str(text);
    } catch {
      // not serialisable: fall through
    }
  }
  return chance(0.5) ? string() : any(0);
}
/** A callback of a batch subscription: arrays of events. */
function batchCallback(owner) {
  const collect = (events) => (Array.isArray(events) ? events.forEach((e) => remember(e, owner)) : undefined);
  return weighted([
    [4, () => S(collect, '(events) => { /* kept for later completions */ }')],
    [2, () => S((events) => { collect(events); throw new Error('fuzz: batch callback threw'); }, `(events) => { ${THROW('batch callback threw')} }`)],
    [2, () => callback(owner)],
  ])();
}
function callback(owner) {
  const collect = (e) => remember(e, owner);
  return weighted([
    [4, () => S(collect, '(event) => { /* kept for later completions */ }')],
    [2, () => S((e) => { collect(e); throw new Error('fuzz: callback threw'); }, `(event) => { ${THROW('callback threw')} }`)],
    [1, () => S(() => { throw 42; }, '() => { throw 42 }')],
    [1, () => S(() => new Promise(() => {}), '() => new Promise(() => {})')],
    [3, () => { const f = pick(ASYNC_FAILURES)(); return S((e) => { collect(e); return f.v(e); }, `(event) => (${f.src})(event)`); }],
    [2, () => any(1)],
  ])();
}

// ---------------------------------------------------------------- outcome checks

const isObj = (v) => v !== null && typeof v === 'object';
const fieldTypes = (v, spec) => {
  if (!isObj(v)) return `not an object: ${describe(v)}`;
  for (const [key, type] of Object.entries(spec)) {
    const opt = type.endsWith('?');
    const t = opt ? type.slice(0, -1) : type;
    if (opt && v[key] === undefined) continue;
    const ok = t === 'array' ? Array.isArray(v[key]) : t === 'object' ? isObj(v[key]) : typeof v[key] === t;
    if (!ok) return `field ${key} is ${describe(v[key])}, expected ${type}`;
  }
  return undefined;
};
const CHECKS = {
  any: () => undefined,
  undefined: (v) => (v === undefined ? undefined : `returned ${describe(v)}, expected undefined`),
  boolean: (v) => (typeof v === 'boolean' ? undefined : `returned ${describe(v)}, expected a boolean`),
  string: (v) => (typeof v === 'string' && v.length > 0 ? undefined : `returned ${describe(v)}, expected a string`),
  count: (v) => (Number.isInteger(v) && v >= 0 ? undefined : `returned ${describe(v)}, expected a count`),
  bootstrap: (v) => fieldTypes(v, { status: 'string', handleId: 'string', workerId: 'string', message: 'string' })
    ?? (['started', 'already_running'].includes(v.status) ? undefined : `status ${v.status}`)
    ?? (v.status === 'started' && PHASE !== 'running' ? 'a worker started from a fuzzed config (the fuzz must not reach a database)' : undefined),
  stop: (v) => fieldTypes(v, { status: 'string', handedBack: 'number', workerId: 'string?' })
    ?? (['stopped', 'stopping', 'transitioned', 'transitioning', 'not_running'].includes(v.status) ? undefined : `status ${v.status}`),
  status: (v) => fieldTypes(v, {
    running: 'boolean', workerCoreStatus: 'string', gracefulShutdown: 'boolean', namespaces: 'array', databasePoolSize: 'number',
    databasePoolIdle: 'number', workerId: 'string?', environment: 'string?',
  }),
  health: (v) => fieldTypes(v, { healthy: 'boolean', workerRunning: 'boolean', workerCoreStatus: 'string', version: 'string', message: 'string' }),
  metrics: (v) => fieldTypes(v, {
    pendingCount: 'number', inFlightCount: 'number', completedCount: 'number', failedCount: 'number', timedOutCount: 'number',
    starvationDetected: 'boolean', starvingEventCount: 'number', oldestPendingAgeMs: 'number?',
  }),
  event: (v) => fieldTypes(v, {
    eventId: 'string', taskUuid: 'string', stepUuid: 'string', correlationId: 'string', task: 'object', workflowStep: 'object',
    stepDefinition: 'object', dependencyResults: 'object',
  }),
  events: (v) => (Array.isArray(v) ? v.map(CHECKS.event).find(Boolean) : `returned ${describe(v)}, expected an array`),
  numbers: (v) => (Array.isArray(v) && v.every((n) => typeof n === 'number') ? undefined : `returned ${describe(v)}, expected numbers`),
  json: (v) => {
    if (typeof v !== 'string') return `returned ${describe(v)}, expected a JSON string`;
    try {
      return CHECKS.event(JSON.parse(v));
    } catch (e) {
      return `not JSON: ${e.message}`;
    }
  },
  subscription: (v) =>
    isObj(v) && typeof v.close === 'function' && typeof v.closed === 'boolean' && Number.isInteger(v.maxInFlight)
      ? undefined
      : `returned ${describe(v)}, expected a StepEventSubscription`,
  array: (v) => (Array.isArray(v) ? undefined : `returned ${describe(v)}, expected an array`),
  object: (v) => (isObj(v) ? undefined : `returned ${describe(v)}, expected an object`),
  client: (v) =>
    isObj(v) && Object.keys(CLIENT_METHODS).every((m) => typeof v[m] === 'function') && typeof v.transport === 'string'
      ? undefined
      : `returned ${describe(v)}, expected a NativeTaskerClient`,
  domainSubscription: (v) =>
    isObj(v) && typeof v.close === 'function' && typeof v.closed === 'boolean' && typeof v.dropped === 'number'
      ? undefined
      : `returned ${describe(v)}, expected a DomainEventSubscription`,
  harness: (v) =>
    isObj(v) && ['inject', 'poll', 'subscribe', 'complete', 'close'].every((m) => typeof v[m] === 'function')
      ? undefined
      : `returned ${describe(v)}, expected a bench harness`,
};
function describe(v) {
  try {
    if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v);
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'symbol' || typeof v === 'function') return String(v).slice(0, 80);
    if (v instanceof Error) return `${v.name}: ${v.message}`;
    if (isObj(v)) return `${Object.prototype.toString.call(v)} ${JSON.stringify(v)?.slice(0, 120)}`;
    return String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

// ---------------------------------------------------------------- calling and classifying

const stats = {
  phase: PHASE, runtime: RUNTIME, seed: SEED, target: TOTAL, calls: 0, ok: 0, coded: {},
  failures: { internal: 0, uncoded: 0, nonError: 0, undocumentedCode: 0, pending: 0, badReturn: 0, uncaught: 0 },
  lateSettled: 0, perExport: {}, examples: {}, slow: [],
};
let lastCall = '(none yet)';
const outstanding = new Set();

function log(line) {
  writeSync(logFd, `${line.replace(/\n/g, '\\n')}\n`);
}
/** Normalises a message so that failures of one kind group together. */
function signature(kind, name, detail) {
  const text = String(detail)
    .replace(/fuzz: [a-zA-Z ]+/g, 'fuzz: <the argument\'s own exception>')
    .replace(/JavaScript value `[^`]*`/g, 'JavaScript value <value>')
    .replace(/napi value \w+ into/g, 'napi value <type> into')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>')
    .replace(/\d+(\.\d+)?/g, '<n>')
    .replace(/"[^"]{40,}"/g, '"<long>"')
    .slice(0, 160);
  return `${kind} | ${name} | ${text}`;
}
function fail(kind, spec, detail) {
  stats.failures[kind]++;
  stats.perExport[spec.name][2]++;
  const sig = signature(kind, spec.name, detail);
  const list = (stats.examples[kind] ??= []);
  const known = list.find((e) => e.sig === sig);
  if (known) known.count++;
  else if (list.length < 20) list.push({ sig, count: 1, call: spec.desc, detail: String(detail).slice(0, 600) });
  log(`FAIL ${JSON.stringify({ kind, sig, call: spec.desc.slice(0, 4000), detail: String(detail).slice(0, 600) })}`);
}
function classifyError(spec, e, how) {
  if (!(e instanceof Error)) return fail('nonError', spec, `${how} a non-Error: ${describe(e)}`);
  const code = e.code;
  if (typeof code !== 'string' || code === '') {
    return fail('uncoded', spec, `${how} ${e.name} without a code (code: ${describe(code)}): ${e.message}`);
  }
  if (code === 'INTERNAL') return fail('internal', spec, `${how} INTERNAL: ${e.message}`);
  if (!STABLE_CODES.has(code)) return fail('undocumentedCode', spec, `${how} code ${JSON.stringify(code)} (not a documented code): ${e.message}`);
  stats.coded[code] = (stats.coded[code] ?? 0) + 1;
  stats.perExport[spec.name][1]++;
}
function accept(spec, value) {
  let problem;
  try {
    problem = (CHECKS[spec.check ?? 'any'])(value);
  } catch (e) {
    problem = `could not inspect the value: ${describe(e)}`;
  }
  if (problem) return fail('badReturn', spec, problem);
  stats.ok++;
  stats.perExport[spec.name][1]++;
  try {
    spec.then?.(value);
  } catch {
    // bookkeeping only
  }
}
/**
 * Makes one call: logs it first (synchronously), then classifies its outcome.
 * A Promise is tracked until it settles or SETTLE_MS pass; returns a Promise
 * that resolves when that is known (callers may or may not wait for it).
 */
function invoke(spec) {
  stats.calls++;
  stats.perExport[spec.name] ??= [0, 0, 0, 0];
  stats.perExport[spec.name][0]++;
  lastCall = `#${stats.calls} ${spec.desc}`;
  log(`CALL ${stats.calls} ${spec.name}\t${spec.desc}`);
  let value;
  const t0 = performance.now();
  try {
    value = spec.run();
  } catch (e) {
    classifyError(spec, e, 'threw');
    return undefined;
  } finally {
    const ms = performance.now() - t0;
    stats.perExport[spec.name][3] += ms;
    if (ms > 1000) stats.slow.push(`${Math.round(ms)} ms: #${stats.calls} ${spec.desc.slice(0, 200)}`);
  }
  const thenable = value !== null && (typeof value === 'object' || typeof value === 'function') && typeof value.then === 'function';
  if (!spec.promise && !(thenable && spec.check === 'any')) {
    if (thenable) {
      value.then(undefined, () => {});
      fail('badReturn', spec, 'returned a Promise where a value is documented');
    } else accept(spec, value);
    return undefined;
  }
  if (!thenable) {
    fail('badReturn', spec, `returned ${describe(value)} instead of a Promise`);
    return undefined;
  }
  const entry = { spec, created: Date.now(), done: false, expired: false };
  entry.finished = new Promise((resolve) => {
    const settle = (fn) => (x) => {
      if (entry.expired) {
        stats.lateSettled++;
        return;
      }
      entry.done = true;
      outstanding.delete(entry);
      fn(x);
      resolve();
    };
    value.then(settle((v) => accept(spec, v)), settle((e) => classifyError(spec, e, 'rejected')));
  });
  outstanding.add(entry);
  return entry.finished;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function expireOld() {
  for (const entry of outstanding) {
    if (!entry.done && Date.now() - entry.created >= SETTLE_MS) {
      entry.expired = true;
      outstanding.delete(entry);
      fail('pending', entry.spec, `the returned Promise was still pending after ${SETTLE_MS} ms`);
    }
  }
}
/** Lets the event loop run (settling Promises, delivering pushes), then expires overdue Promises. */
async function sweep() {
  await sleep(5);
  await new Promise((r) => setImmediate(r));
  expireOld();
}
/** Waits for a Promise from invoke() to settle, at most SETTLE_MS. */
async function settle(finished) {
  if (!finished) return;
  await Promise.race([finished, sleep(SETTLE_MS + 50)]);
  expireOld();
}
async function drain() {
  while (outstanding.size) {
    await sleep(50);
    expireOld();
  }
}
process.on('uncaughtException', (e) => {
  fail('uncaught', { name: '(uncaught)', desc: `after ${lastCall}` }, `uncaught exception: ${describe(e)} ${e?.stack?.split('\n')[1] ?? ''}`);
});
process.on('unhandledRejection', (e) => {
  fail('uncaught', { name: '(uncaught)', desc: `after ${lastCall}` }, `unhandled rejection: ${describe(e)}`);
});
stats.perExport['(uncaught)'] = [0, 0, 0, 0];

// ---------------------------------------------------------------- the calls

const SHAPED = { unbooted: 0.5, lifecycle: 0.8, running: 0.8, bench: 0.8 }[PHASE];
/** Arguments for a call: usually the expected shapes, sometimes any values, 0..3 of them. */
function argsFor(slots) {
  const n = chance(0.75) ? slots.length : int(4);
  return Array.from({ length: n }, (_, i) => (i < slots.length && chance(SHAPED) ? slots[i]() : any(0)));
}
const srcs = (args) => args.map((a) => a.src).join(', ');
const vals = (args) => args.map((a) => a.v);
const REC = (check, extra = {}) => ({ check, ...extra });

// The addon's exports: argument shapes and what a call returns.
const NATIVE = {
  bootstrapWorker: REC('bootstrap', { slots: [config] }),
  bootstrapWorkerAsync: REC('bootstrap', { slots: [config], promise: true }),
  getWorkerStatus: REC('status', { slots: [] }),
  isWorkerRunning: REC('boolean', { slots: [] }),
  stopWorker: REC('stop', { slots: [] }),
  stopWorkerAsync: REC('stop', { slots: [], promise: true }),
  transitionToGracefulShutdown: REC('stop', { slots: [] }),
  transitionToGracefulShutdownAsync: REC('stop', { slots: [], promise: true }),
  pollStepEvents: REC('events', { slots: [pollMax], then: (events) => events.forEach((e) => remember(e, 'worker')) }),
  completeStepEvent: REC('undefined', { slots: [() => eventId('worker'), completion] }),
  completeStepEventAsync: REC('undefined', { slots: [() => eventId('worker'), completion], promise: true }),
  tryCompleteStepEvent: REC('boolean', { slots: [() => eventId('worker'), completion] }),
  checkpointYieldStepEvent: REC('undefined', { slots: [() => eventId('worker'), checkpoint], promise: true }),
  subscribeStepEvents: REC('subscription', { slots: [() => callback('worker'), subscribeOptions] }),
  subscribeStepEventBatches: REC('subscription', { slots: [() => batchCallback('worker'), subscribeOptions] }),
  getFfiDispatchMetrics: REC('metrics', { slots: [] }),
  checkStarvationWarnings: REC('undefined', { slots: [] }),
  cleanupTimeouts: REC('count', { slots: [] }),
  logError: REC('undefined', { slots: [message, fields] }),
  logWarn: REC('undefined', { slots: [message, fields] }),
  logInfo: REC('undefined', { slots: [message, fields] }),
  logDebug: REC('undefined', { slots: [message, fields] }),
  logTrace: REC('undefined', { slots: [message, fields] }),
  setLogLevel: REC('undefined', { slots: [level] }),
  getVersion: REC('string', { slots: [] }),
  healthCheck: REC('health', { slots: [] }),
  loadTaskTemplates: REC('array', { slots: [() => str(chance(0.5) ? TEMPLATES : pick(['/no/such/dir', '/etc/passwd', '/dev/null', '']))] }),
  createTaskerClient: REC('client', { slots: [clientOptions] }),
  subscribeDomainEvents: REC('domainSubscription', { slots: [domainCallback, domainOptions] }),
  registerDomainEventPublisher: REC('undefined', { slots: [strOr('fuzz_publisher', '', 'x'.repeat(300)), publisherFn] }),
  getDomainEventStats: REC('object', { slots: [] }),
};
const BENCH = {
  stepEvent: REC('event', { slots: [] }),
  stepEventJson: REC('json', { slots: [] }),
  acceptCompletion: REC('boolean', { slots: [completion] }),
  acceptCompletionJson: REC('boolean', { slots: [completionJson] }),
  createHarness: REC('harness', { slots: [harnessOptions] }),
};
const subscriptions = []; // { sub, name, origin }
const clients = []; // { c, name, origin }
const domainSubscriptions = []; // { sub, name, origin }
const harnesses = []; // { h, name, origin, closed, controlled }

function callExport(name, table = NATIVE, ns = 'native') {
  const rec = table[name];
  const args = argsFor(rec.slots);
  const fn = ns === 'native' ? native[name] : bench[name];
  return invoke({
    name, desc: `${ns}.${name}(${srcs(args)})`, run: () => fn(...vals(args)), check: rec.check, promise: rec.promise,
    then: (v) => {
      rec.then?.(v);
      if (/^(complete|tryComplete|checkpoint)/.test(name) && v !== false) forget(args[0]?.v);
      if (rec.check === 'subscription') registerSubscription(v, `${ns}.${name}(${srcs(args)})`);
      if (rec.check === 'client') clients.push({ c: v, name: `client${clients.length}`, origin: `${ns}.${name}(${srcs(args)})` });
      if (rec.check === 'domainSubscription') domainSubscriptions.push({ sub: v, name: `dsub${domainSubscriptions.length}`, origin: `${ns}.${name}(${srcs(args)})` });
    },
  });
}
function registerSubscription(sub, origin) {
  if (CHECKS.subscription(sub) === undefined) {
    subscriptions.push({ sub, name: `sub${subscriptions.length}`, origin });
  }
}
function subscriptionCall() {
  const s = pick(subscriptions);
  const label = `[${s.name} = ${s.origin}] ${s.name}`;
  const extra = chance(0.2) ? argsFor([() => any(0)]) : [];
  return weighted([
    [3, () => invoke({ name: 'StepEventSubscription#close', desc: `${label}.close(${srcs(extra)})`, run: () => s.sub.close(...vals(extra)), check: 'undefined' })],
    [2, () => invoke({ name: 'StepEventSubscription#closed', desc: `${label}.closed`, run: () => s.sub.closed, check: 'boolean' })],
    [2, () => invoke({ name: 'StepEventSubscription#inFlight', desc: `${label}.inFlight`, run: () => s.sub.inFlight, check: 'count' })],
    [2, () => invoke({ name: 'StepEventSubscription#maxInFlight', desc: `${label}.maxInFlight`, run: () => s.sub.maxInFlight, check: 'count' })],
  ])();
}
function clientCall() {
  const entry = pick(clients);
  const method = pick(Object.keys(CLIENT_METHODS));
  const args = argsFor(CLIENT_METHODS[method]);
  return invoke({
    name: `TaskerClient#${method}`, desc: `[${entry.name} = ${entry.origin}] ${entry.name}.${method}(${srcs(args)})`,
    run: () => entry.c[method](...vals(args)), check: 'any', promise: true,
  });
}
function domainSubscriptionCall() {
  const s = pick(domainSubscriptions);
  const label = `[${s.name} = ${s.origin}] ${s.name}`;
  return weighted([
    [2, () => invoke({ name: 'DomainEventSubscription#close', desc: `${label}.close()`, run: () => s.sub.close(), check: 'undefined' })],
    [1, () => invoke({ name: 'DomainEventSubscription#closed', desc: `${label}.closed`, run: () => s.sub.closed, check: 'boolean' })],
    [1, () => invoke({ name: 'DomainEventSubscription#dropped', desc: `${label}.dropped`, run: () => s.sub.dropped, check: 'count' })],
  ])();
}
/** A `this` for a method called on the wrong object. */
function wrongThis() {
  return weighted([
    [3, () => any(1)],
    [1, () => S(42, '42')],
    [1, () => S({}, '{}')],
    [harnesses.length ? 1 : 0, () => { const h = pick(harnesses); return S(h.h, `${h.name} /* a bench harness */`); }],
    [subscriptions.length ? 1 : 0, () => { const s = pick(subscriptions); return S(s.sub, `${s.name} /* a StepEventSubscription */`); }],
    [clients.length ? 1 : 0, () => { const c = pick(clients); return S(c.c, `${c.name} /* a NativeTaskerClient */`); }],
  ])();
}
/** A handle's methods and getters detached and called on another `this`, or with `new`. */
function handleAbuse(entry, name, methods, getters, promiseMethods = ['inject', 'completeAsync']) {
  const handle = entry.h ?? entry.sub ?? entry.c;
  const label = `[${entry.name} = ${entry.origin}] ${entry.name}`;
  const args = argsFor([() => any(0), () => any(0)]);
  return weighted([
    [4, () => {
      const getter = pick(getters);
      const self = wrongThis();
      return invoke({
        name: `${name}#${getter} (this: other)`,
        desc: `Object.getOwnPropertyDescriptor(${label}, ${JSON.stringify(getter)}).get.call(${self.src})`,
        run: () => Object.getOwnPropertyDescriptor(handle, getter).get.call(self.v), check: 'any',
      });
    }],
    [4, () => {
      const method = pick(methods);
      const self = wrongThis();
      return invoke({
        name: `${name}#${method} (this: other)`,
        desc: `${label}.${method}.call(${[self.src, ...args.map((a) => a.src)].join(', ')})`,
        run: () => handle[method].call(self.v, ...vals(args)), check: 'any',
      });
    }],
    // `new` only on methods that return no Promise (under Bun, `new f()` drops it).
    [methods.some((m) => !promiseMethods.includes(m)) ? 1 : 0, () => {
      const method = pick(methods.filter((m) => !promiseMethods.includes(m)));
      return invoke({ name: `new ${name}#${method}`, desc: `new ${label}.${method}(${srcs(args)})`, run: () => new handle[method](...vals(args)), check: 'any' });
    }],
  ])();
}
function constructExport(table, ns) {
  // Not the Promise-returning ones: under Bun, `new f()` drops the Promise
  // that f returns, so its rejection could never be handled.
  const name = pick(Object.keys(table).filter((n) => !table[n].promise));
  const fn = ns === 'native' ? native[name] : bench[name];
  const args = argsFor(table[name].slots.length ? table[name].slots : [() => any(0)]);
  if (/^(bootstrapWorker|stopWorker|transitionToGracefulShutdown)/.test(name) && PHASE === 'running') return undefined;
  return invoke({ name: `new ${name}`, desc: `new ${ns}.${name}(${srcs(args)})`, run: () => new fn(...vals(args)), check: 'any' });
}

// -- the benchmark variant's harnesses

function newHarness(controlled) {
  const args = controlled ? [S({ capacity: 100000 }, '{ capacity: 100000 }')] : argsFor(BENCH.createHarness.slots);
  const origin = `bench.createHarness(${srcs(args)})`;
  return invoke({
    name: 'createHarness', desc: origin, run: () => bench.createHarness(...vals(args)), check: 'harness',
    then: (h) => harnesses.push({ h, name: `h${harnesses.length}`, origin, closed: false, controlled }),
  });
}
function closeHarness(entry) {
  return invoke({
    name: 'Harness#close', desc: `[${entry.name} = ${entry.origin}] ${entry.name}.close()`, check: 'undefined',
    run: () => {
      entry.closed = true;
      return entry.h.close();
    },
  });
}
/** inject's count and gap as ToUint32 sees them, bounded on an open harness (a huge count legitimately waits for room). */
function injectArgs(entry) {
  const track = () => weighted([[5, () => S(undefined, 'undefined')], [3, () => (chance(0.5) ? S(true, 'true') : S(false, 'false'))], [2, () => any(1)]])();
  const args = argsFor([() => smallNumber([0, 1, 5, 20]), () => smallNumber([0, 10, 100]), track]);
  if (entry.closed) return args;
  const bounded = (a, max, fallback) => (typeof a.v === 'number' && a.v >>> 0 > max ? S(fallback, String(fallback)) : a);
  if (args[0]) args[0] = bounded(args[0], 50, int(20));
  if (args[1]) args[1] = bounded(args[1], 1000, 0);
  return args;
}
function harnessCall() {
  // Mostly the long-lived open harnesses, whose events are in flight.
  const open = harnesses.filter((e) => e.controlled && !e.closed);
  const entry = open.length && chance(0.6) ? pick(open) : pick(harnesses);
  const { h, name } = entry;
  const label = `[${name} = ${entry.origin}${entry.closed ? '; closed' : ''}] ${name}`;
  const m = (method, args, check, extra = {}) => invoke({
    name: `Harness#${method}`, desc: `${label}.${method}(${srcs(args)})`, run: () => h[method](...vals(args)), check, ...extra,
  });
  return weighted([
    [entry.controlled || entry.closed ? 5 : 0, () => m('inject', injectArgs(entry), 'count', { promise: true })],
    [2, () => m('markStarted', argsFor([() => eventId(name)]), 'undefined')],
    [1, () => m('takeLatenciesUs', argsFor([]), 'numbers')],
    [4, () => m('poll', argsFor([pollMax]), 'events', { then: (events) => events.forEach((e) => remember(e, name)) })],
    [2, () => {
      const args = argsFor([() => callback(name), subscribeOptions]);
      return m('subscribe', args, 'subscription', { then: (sub) => registerSubscription(sub, `${name}.subscribe(${srcs(args)})`) });
    }],
    [1, () => {
      const args = argsFor([() => batchCallback(name), subscribeOptions]);
      return m('subscribeBatches', args, 'subscription', { then: (sub) => registerSubscription(sub, `${name}.subscribeBatches(${srcs(args)})`) });
    }],
    ...['complete', 'tryComplete', 'completeAsync'].map((method) => [4, () => {
      const args = argsFor([() => eventId(name), completion]);
      const check = { complete: 'undefined', tryComplete: 'boolean', completeAsync: 'undefined' }[method];
      return m(method, args, check, { promise: method === 'completeAsync', then: (v) => v !== false && forget(args[0]?.v) });
    }]),
    [1, () => m('metrics', argsFor([]), 'metrics')],
    [1, () => invoke({ name: 'Harness#resultsReceived', desc: `${label}.resultsReceived`, run: () => h.resultsReceived, check: 'count' })],
    [entry.controlled ? 0.3 : 1, () => closeHarness(entry)],
  ])();
}

// -- one random call of the phase

const LIFECYCLE = ['bootstrapWorker', 'bootstrapWorkerAsync', 'stopWorker', 'stopWorkerAsync', 'transitionToGracefulShutdown',
  'transitionToGracefulShutdownAsync', 'getWorkerStatus', 'isWorkerRunning', 'healthCheck', 'subscribeStepEvents', 'subscribeStepEventBatches'];
const EVENT_CALLS = ['pollStepEvents', 'completeStepEvent', 'completeStepEventAsync', 'tryCompleteStepEvent', 'checkpointYieldStepEvent',
  'getFfiDispatchMetrics', 'checkStarvationWarnings', 'cleanupTimeouts'];
const NOT_WHILE_RUNNING = new Set(['stopWorker', 'stopWorkerAsync', 'transitionToGracefulShutdown', 'transitionToGracefulShutdownAsync']);
const SUB_METHODS = ['close'];
const SUB_GETTERS = ['closed', 'inFlight', 'maxInFlight'];
const HARNESS_METHODS = ['inject', 'markStarted', 'takeLatenciesUs', 'poll', 'subscribe', 'subscribeBatches', 'complete', 'tryComplete', 'completeAsync', 'metrics', 'close'];
const subAbuse = () => handleAbuse(pick(subscriptions), 'StepEventSubscription', SUB_METHODS, SUB_GETTERS);
const clientAbuse = () => handleAbuse(pick(clients), 'TaskerClient', Object.keys(CLIENT_METHODS), ['transport'], Object.keys(CLIENT_METHODS));
/** The client and domain-event calls every phase with them makes. */
const CLIENT_EXPORTS = ['createTaskerClient', 'subscribeDomainEvents', 'registerDomainEventPublisher', 'getDomainEventStats', 'loadTaskTemplates'];
const clientCalls = (weight) => [
  [weight * 0.3, () => callExport(pick(CLIENT_EXPORTS))],
  [clients.length ? weight : 0, clientCall],
  [clients.length ? weight * 0.05 : 0, clientAbuse],
  [domainSubscriptions.length ? weight * 0.1 : 0, domainSubscriptionCall],
];

function randomCall() {
  switch (PHASE) {
    case 'unbooted':
      return weighted([
        [80, () => callExport(pick(Object.keys(NATIVE)))],
        [3, () => constructExport(NATIVE, 'native')],
        [subscriptions.length ? 7 : 0, subscriptionCall],
        ...clientCalls(20),
      ])();
    case 'lifecycle':
      return weighted([
        [60, () => callExport(pick(LIFECYCLE))],
        [25, () => callExport(pick(EVENT_CALLS))],
        [5, () => callExport(pick(['logInfo', 'logWarn', 'setLogLevel', 'getVersion']))],
        [subscriptions.length ? 5 : 0, subAbuse],
        [subscriptions.length ? 5 : 0, subscriptionCall],
      ])();
    case 'running':
      return weighted([
        [12, () => callExport('pollStepEvents')],
        [30, () => callExport(pick(['completeStepEvent', 'completeStepEventAsync', 'tryCompleteStepEvent']))],
        [4, () => callExport('checkpointYieldStepEvent')],
        [5, () => callExport(pick(['subscribeStepEvents', 'subscribeStepEventBatches']))],
        [subscriptions.length ? 7 : 0, subscriptionCall],
        [8, () => callExport(pick(['getFfiDispatchMetrics', 'checkStarvationWarnings', 'cleanupTimeouts']))],
        [8, () => callExport(pick(['getWorkerStatus', 'healthCheck', 'isWorkerRunning', 'getVersion']))],
        [3, () => callExport(pick(['bootstrapWorker', 'bootstrapWorkerAsync']))],
        [10, () => callExport(pick(['logError', 'logWarn', 'logInfo', 'logDebug', 'logTrace', 'setLogLevel']))],
        [subscriptions.length ? 5 : 0, subAbuse],
        [1, () => constructExport(Object.fromEntries(Object.entries(NATIVE).filter(([n]) => !NOT_WHILE_RUNNING.has(n))), 'native')],
        ...clientCalls(12),
      ])();
    case 'bench':
      return weighted([
        [20, () => callExport(pick(Object.keys(BENCH).filter((n) => n !== 'createHarness')), BENCH, 'bench')],
        [3, () => newHarness(false)],
        [harnesses.length ? 55 : 0, harnessCall],
        [subscriptions.length ? 8 : 0, subscriptionCall],
        [harnesses.length ? 5 : 0, () => handleAbuse(pick(harnesses), 'Harness', HARNESS_METHODS, ['resultsReceived'])],
        [subscriptions.length ? 4 : 0, subAbuse],
        [1, () => constructExport(BENCH, 'bench')],
      ])();
    default:
      throw new Error(`unknown phase ${PHASE}`);
  }
}

/** The names every phase must have called at least once. */
function expectedNames() {
  const fromSub = (p) => [...SUB_METHODS, ...SUB_GETTERS].map((m) => `StepEventSubscription#${m}${p}`);
  const fromClient = Object.keys(CLIENT_METHODS).map((m) => `TaskerClient#${m}`);
  // Domain event subscriptions need a running worker.
  const fromDomain = ['DomainEventSubscription#close', 'DomainEventSubscription#dropped'];
  switch (PHASE) {
    case 'unbooted':
      return [...Object.keys(NATIVE), ...fromClient];
    case 'lifecycle':
      return [...LIFECYCLE, ...EVENT_CALLS];
    case 'running':
      return [...Object.keys(NATIVE), ...fromSub(''), ...fromSub(' (this: other)'), ...fromClient, ...fromDomain];
    case 'bench':
      return [...Object.keys(BENCH), 'Harness#inject (this: other)', 'Harness#inject', 'Harness#markStarted', 'Harness#takeLatenciesUs', 'Harness#poll',
        'Harness#subscribe', 'Harness#subscribeBatches', 'Harness#complete', 'Harness#tryComplete', 'Harness#completeAsync', 'Harness#metrics',
        'Harness#resultsReceived', 'Harness#close', ...fromSub('')];
    default:
      return [];
  }
}

// ---------------------------------------------------------------- the run

async function setup() {
  if (PHASE === 'running') {
    corruption = 0.08;
    const cfg = {
      databaseUrl: process.env.FUZZ_DATABASE_URL,
      templatePath: process.env.FUZZ_TEMPLATE_PATH,
      namespace: process.env.FUZZ_NAMESPACE,
      environment: 'test',
      logLevel: process.env.FUZZ_WORKER_LOG ?? 'error',
      dispatch: { completionTimeoutMs: 3000, starvationThresholdMs: 1000 },
    };
    const desc = `native.bootstrapWorkerAsync(${JSON.stringify(cfg)}) /* the running phase's worker */`;
    let started;
    await settle(invoke({ name: 'bootstrapWorkerAsync', desc, run: () => native.bootstrapWorkerAsync(cfg), check: 'bootstrap', promise: true, then: (v) => { started = v; } }));
    if (started?.status !== 'started') {
      process.stderr.write(`the running phase's worker did not start: ${JSON.stringify(started)}\n`);
      finish(3);
    }
    // The parent creates tasks once the worker has registered the templates:
    // wait (up to 30 s) for the first real step events before fuzzing.
    const deadline = Date.now() + 30_000;
    while (realEvents.length < 3 && Date.now() < deadline) {
      invoke({ name: 'pollStepEvents', desc: 'native.pollStepEvents(10) /* warm-up */', run: () => native.pollStepEvents(10), check: 'events', then: (events) => events.forEach((e) => remember(e, 'worker')) });
      await sleep(200);
    }
  }
  if (PHASE === 'bench') {
    newHarness(true);
    newHarness(true);
  }
}

async function teardown() {
  if (PHASE === 'running') {
    for (const s of subscriptions) invoke({ name: 'StepEventSubscription#close', desc: `${s.name}.close() /* teardown */`, run: () => s.sub.close(), check: 'undefined' });
    for (const s of domainSubscriptions) invoke({ name: 'DomainEventSubscription#close', desc: `${s.name}.close() /* teardown */`, run: () => s.sub.close(), check: 'undefined' });
    invoke({ name: 'transitionToGracefulShutdown', desc: 'native.transitionToGracefulShutdown() /* teardown */', run: () => native.transitionToGracefulShutdown(), check: 'stop' });
    await settle(invoke({ name: 'transitionToGracefulShutdownAsync', desc: 'native.transitionToGracefulShutdownAsync() /* teardown */', run: () => native.transitionToGracefulShutdownAsync(), check: 'stop', promise: true }));
    await drain();
    await settle(invoke({ name: 'stopWorkerAsync', desc: 'native.stopWorkerAsync() /* teardown */', run: () => native.stopWorkerAsync(), check: 'stop', promise: true }));
    invoke({ name: 'stopWorker', desc: 'native.stopWorker() /* teardown, already stopped */', run: () => native.stopWorker(), check: 'stop' });
    invoke({
      name: 'isWorkerRunning', desc: 'native.isWorkerRunning() /* after stopWorkerAsync */', run: () => native.isWorkerRunning(), check: 'boolean',
      then: (running) => { if (running) fail('badReturn', { name: 'isWorkerRunning', desc: 'native.isWorkerRunning()' }, 'still running after stopWorkerAsync resolved'); },
    });
  }
  if (PHASE === 'bench') {
    for (const entry of harnesses) if (!entry.closed) closeHarness(entry);
  }
  await drain();
}

function finish(code = 0) {
  stats.missing = expectedNames().filter((n) => !stats.perExport[n]?.[0]);
  writeSync(1, `FUZZ-SUMMARY ${JSON.stringify(stats)}\n`);
  process.exit(code);
}

const started = Date.now();
log(`START ${PHASE} seed=${SEED} calls=${TOTAL} runtime=${RUNTIME}`);
log(`EXPECT ${JSON.stringify(expectedNames())}`);
await setup();
const budget = TOTAL - (PHASE === 'running' ? 7 : 0);
while (stats.calls < budget) {
  const finished = randomCall();
  // Await some Promises at once (a sequence), leave the others running (interleaving).
  if (finished && PHASE !== 'bench' && chance(PHASE === 'lifecycle' ? 0.5 : 0.3) && stats.failures.pending < 5) await settle(finished);
  if (stats.calls % 25 === 0) {
    await sweep();
    // The running phase gives the worker time to claim steps and deliver events (about 20 s for 4000 calls).
    if (PHASE === 'running') await sleep(120);
  }
}
await teardown();
stats.durationMs = Date.now() - started;
log(`DONE ${stats.calls} calls`);
finish(0);
