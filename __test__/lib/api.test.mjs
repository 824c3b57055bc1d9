// The API handler against a local HTTP server: outcomes classified for
// retries, Retry-After as the backoff, timeouts and the step's signal, and
// each call's status and duration in the result's metadata.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';

import { makeEvent } from '../helpers/fake-runtime.mjs';
import { pkg } from '../helpers/package.mjs';

const { defineApiHandler, createStepContext, classifyHttpStatus, retryAfterSeconds, failureCompletion, RetryableError, PermanentError, success } = pkg;

const logger = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };
let server;
let base;
const seen = [];

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, type: req.headers['content-type'], auth: req.headers.authorization, body });
      const [, route, arg] = req.url.split('/');
      const send = (status, text, headers = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(text);
      };
      if (route === 'ok') return send(200, JSON.stringify({ rate: 1.1, arg }));
      if (route === 'echo') return send(201, body);
      if (route === 'empty') return send(204, '');
      if (route === 'html') return send(200, '<html>not json</html>');
      if (route === 'status') return send(Number(arg), JSON.stringify({ error: `status ${arg}` }), req.headers['x-retry-after'] ? { 'retry-after': req.headers['x-retry-after'] } : {});
      if (route === 'slow') return setTimeout(() => send(200, '{}'), Number(arg));
      send(404, JSON.stringify({ error: 'no such route' }));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(() => new Promise((resolve) => server.close(resolve)));

function ctxFor({ signal = new AbortController().signal, initialization = {} } = {}) {
  return createStepContext(makeEvent({ initialization, context: { base } }), signal, logger);
}

async function failureOf(promise) {
  try {
    await promise;
  } catch (error) {
    return { error, completion: failureCompletion(error) };
  }
  throw new Error('expected a failure');
}

describe('classification', () => {
  test('2xx success; 408, 429, 5xx retryable; other statuses permanent', () => {
    assert.deepEqual([200, 204, 299].map(classifyHttpStatus), ['success', 'success', 'success']);
    assert.deepEqual([408, 429, 500, 503, 599].map(classifyHttpStatus), Array(5).fill('retryable'));
    assert.deepEqual([301, 400, 401, 404, 422].map(classifyHttpStatus), Array(5).fill('permanent'));
  });

  test('Retry-After: seconds or an HTTP date, never negative, at most 30 days', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(retryAfterSeconds('120', now), 120);
    assert.equal(retryAfterSeconds(' 5 ', now), 5);
    assert.equal(retryAfterSeconds('Thu, 01 Jan 2026 00:00:30 GMT', now), 30);
    assert.equal(retryAfterSeconds('Wed, 31 Dec 2025 23:00:00 GMT', now), 0);
    assert.equal(retryAfterSeconds('99999999', now), 30 * 24 * 3600);
    assert.equal(retryAfterSeconds('soon', now), undefined);
    assert.equal(retryAfterSeconds(null, now), undefined);
  });
});

describe('defineApiHandler', () => {
  test('a 2xx result is a success with the calls’ status and duration in the metadata', async () => {
    const handler = defineApiHandler({
      baseUrl: (ctx) => ctx.taskContext.base,
      headers: { authorization: 'Bearer t' },
      async handle(ctx, api) {
        const quote = await api.json('/ok/EUR');
        const created = await api.json('/echo', { json: { n: 1 } });
        const empty = await api.json('/empty', { method: 'DELETE' });
        return { rate: quote.rate, created, empty, calls: api.calls.length };
      },
    });
    const result = await handler(ctxFor());
    assert.equal(result.kind, 'success');
    assert.deepEqual(result.completion.result, { rate: 1.1, created: { n: 1 }, empty: undefined, calls: 3 });
    const { http } = result.completion.metadata;
    assert.equal(http.status, 204);
    assert.ok(http.durationMs >= 0);
    assert.deepEqual(http.calls.map((c) => [c.method, c.url, c.status]), [
      ['GET', `${base}/ok/EUR`, 200],
      ['POST', `${base}/echo`, 201],
      ['DELETE', `${base}/empty`, 204],
    ]);
    const post = seen.find((r) => r.url === '/echo');
    assert.equal(post.type, 'application/json');
    assert.equal(post.auth, 'Bearer t');
  });

  test('success(result, { metadata }) keeps its metadata; baseUrl may come from handler.initialization', async () => {
    const handler = defineApiHandler({
      async handle(ctx, api) {
        await api.fetch('/ok/x');
        return success(5, { metadata: { mine: true } });
      },
    });
    const result = await handler(createStepContext(makeEvent({ initialization: { baseUrl: base } }), new AbortController().signal, logger));
    assert.equal(result.completion.result, 5);
    assert.equal(result.completion.metadata.mine, true);
    assert.equal(result.completion.metadata.http.status, 200);
  });

  test('503 with Retry-After is retryable with that backoff; 429 a rate limit; 5xx without it has none', async () => {
    const call = (status, retryAfter) =>
      failureOf(defineApiHandler({ baseUrl: base, handle: (ctx, api) => api.fetch(`/status/${status}`, { headers: retryAfter ? { 'x-retry-after': retryAfter } : {} }) })(ctxFor()));
    const unavailable = await call(503, '7');
    assert.ok(unavailable.error instanceof RetryableError);
    assert.equal(unavailable.completion.outcome, 'retryable_failure');
    assert.deepEqual(unavailable.completion.backoff, { delaySeconds: 7, kind: 'service_unavailable' });
    assert.equal(unavailable.completion.error.statusCode, 503);
    assert.equal(unavailable.completion.error.errorCode, 'HTTP_503');
    assert.match(unavailable.completion.error.message, /^GET http:\/\/127\.0\.0\.1:\d+\/status\/503 answered 503 Service Unavailable$/);
    assert.equal(unavailable.completion.error.context.http.status, 503);
    assert.match(unavailable.completion.error.context.http.body, /status 503/);
    const limited = await call(429, new Date(Date.now() + 60_000).toUTCString());
    assert.equal(limited.completion.backoff.kind, 'rate_limit');
    assert.ok(limited.completion.backoff.delaySeconds >= 58 && limited.completion.backoff.delaySeconds <= 60);
    for (const status of [500, 408]) {
      const plain = await call(status);
      assert.equal(plain.completion.outcome, 'retryable_failure');
      assert.equal(plain.completion.backoff, undefined);
    }
    const other = await call(502, '3');
    assert.deepEqual(other.completion.backoff, { delaySeconds: 3, kind: 'server_requested' });
  });

  test('another 4xx is permanent, with the status and the body in the failure', async () => {
    const { error, completion } = await failureOf(defineApiHandler({ baseUrl: base, handle: (ctx, api) => api.json('/status/422') })(ctxFor()));
    assert.ok(error instanceof PermanentError);
    assert.equal(completion.outcome, 'permanent_failure');
    assert.equal(completion.error.statusCode, 422);
    assert.deepEqual(JSON.parse(completion.error.context.http.body), { error: 'status 422' });
    assert.equal(completion.backoff, undefined);
  });

  test('a timeout and a network error are retryable; the step’s own abort passes through', async () => {
    const slow = await failureOf(defineApiHandler({ baseUrl: base, timeoutMs: 50, handle: (ctx, api) => api.fetch('/slow/1000') })(ctxFor()));
    assert.equal(slow.completion.error.errorCode, 'HTTP_TIMEOUT');
    assert.match(slow.error.message, /timed out after 50 ms/);
    assert.equal(slow.completion.outcome, 'retryable_failure');
    const closed = await failureOf(defineApiHandler({ handle: (ctx, api) => api.fetch('http://127.0.0.1:1/x') })(ctxFor()));
    assert.equal(closed.completion.error.errorCode, 'HTTP_NETWORK_ERROR');
    assert.equal(closed.completion.outcome, 'retryable_failure');
    const controller = new AbortController();
    const reason = Object.assign(new Error('step handler timed out after 10 ms'), { name: 'TimeoutError' });
    setTimeout(() => controller.abort(reason), 20);
    const aborted = await failureOf(defineApiHandler({ baseUrl: base, handle: (ctx, api) => api.fetch('/slow/1000') })(ctxFor({ signal: controller.signal })));
    assert.equal(aborted.error, reason);
  });

  test('bad URLs, non-JSON bodies and bad options are clear errors', async () => {
    const noBase = await failureOf(defineApiHandler({ handle: (ctx, api) => api.fetch('/relative') })(ctxFor()));
    assert.equal(noBase.completion.error.errorCode, 'HTTP_BAD_URL');
    assert.match(noBase.error.message, /'\/relative' is not an absolute URL and the handler has no baseUrl/);
    const html = await failureOf(defineApiHandler({ baseUrl: base, handle: (ctx, api) => api.json('/html') })(ctxFor()));
    assert.equal(html.completion.error.errorCode, 'HTTP_INVALID_JSON');
    assert.equal(html.completion.outcome, 'permanent_failure');
    assert.throws(() => defineApiHandler({}), /give \{ handle\(ctx, api\)/);
    assert.throws(() => defineApiHandler({ handle() {}, timeoutMs: 0 }), /timeoutMs 0 must be a positive number/);
  });
});
