/**
 * Handlers that call HTTP APIs: `fetch` bound to the step's AbortSignal with
 * a timeout, and the outcome classified the way a retry policy needs it —
 * 2xx success; 408, 429 and 5xx retryable (a `Retry-After` becomes the
 * backoff); any other status permanent. Each call's status and duration go
 * into the result's metadata (`http`), or into the failure's context.
 */
import type { BackoffKind } from '../index';
import { PermanentError, RetryableError } from './failures';
import type { StepContext } from './handler';
import { isStepResult, success, type SuccessResult } from './results';

type Awaitable<T> = T | PromiseLike<T>;
type Rec = Record<string, unknown>;

/** One HTTP call an API handler made. */
export interface ApiCall {
  readonly method: string;
  readonly url: string;
  /** Absent when no response came (network error, timeout). */
  readonly status?: number;
  readonly durationMs: number;
}

/** What `api.fetch` takes: fetch's options, plus a JSON body and a timeout of its own. */
export interface ApiRequestInit extends Omit<RequestInit, 'signal'> {
  /** Sent as the JSON body (with `content-type: application/json`; the method defaults to POST). */
  json?: unknown;
  /** This request's timeout (default: the handler's `timeoutMs`). */
  timeoutMs?: number;
}

/** The HTTP client an API handler gets. */
export interface ApiClient {
  /** Resolves with a 2xx response; throws a RetryableError or PermanentError for anything else. */
  fetch(path: string, init?: ApiRequestInit): Promise<Response>;
  /** `fetch`, then the body parsed as JSON (undefined for an empty body). */
  json<T = unknown>(path: string, init?: ApiRequestInit): Promise<T>;
  /** The calls made so far in this step. */
  readonly calls: readonly ApiCall[];
}

export interface ApiHandlerOptions<TContext = Rec, TResult = unknown, TDeps extends object = Rec, TConfig = Rec> {
  /** Base of relative paths (default: `handler.initialization.baseUrl`). */
  baseUrl?: string | ((context: StepContext<TContext, TDeps, TConfig>) => string | undefined);
  /** Timeout of each request in ms (default 30000); the step's own timeout still applies. */
  timeoutMs?: number;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  handle(context: StepContext<TContext, TDeps, TConfig>, api: ApiClient): Awaitable<TResult | SuccessResult<TResult>>;
}

/** How a status code is treated. */
export function classifyHttpStatus(status: number): 'success' | 'retryable' | 'permanent' {
  if (status >= 200 && status < 300) return 'success';
  if (status === 408 || status === 429 || status >= 500) return 'retryable';
  return 'permanent';
}

const MAX_BACKOFF_SECONDS = 30 * 24 * 3600;

/** Seconds to wait from a `Retry-After` value (seconds or an HTTP date), or undefined. */
export function retryAfterSeconds(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  let seconds: number;
  if (/^\d+$/.test(text)) seconds = Number(text);
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    seconds = Math.ceil((at - now) / 1000);
  }
  return Math.min(Math.max(seconds, 0), MAX_BACKOFF_SECONDS);
}

function backoffKind(status: number): BackoffKind {
  if (status === 429) return 'rate_limit';
  if (status === 503) return 'service_unavailable';
  return 'server_requested';
}

async function bodySnippet(response: Response): Promise<string | undefined> {
  try {
    const text = await response.text();
    return text.length > 1000 ? `${text.slice(0, 1000)}…` : text;
  } catch {
    return undefined;
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;

class StepApiClient implements ApiClient {
  readonly calls: ApiCall[] = [];

  constructor(
    private readonly signal: AbortSignal,
    private readonly baseUrl: string | undefined,
    private readonly timeoutMs: number,
    private readonly headers: Record<string, string> | undefined,
    private readonly fetchImpl: typeof fetch,
  ) {}

  async fetch(path: string, init: ApiRequestInit = {}): Promise<Response> {
    const url = this.url(path);
    const { json, timeoutMs = this.timeoutMs, ...rest } = init;
    const method = (rest.method ?? (json !== undefined ? 'POST' : 'GET')).toUpperCase();
    const headers = new Headers(this.headers);
    new Headers(rest.headers).forEach((value, key) => headers.set(key, value));
    let body = rest.body;
    if (json !== undefined) {
      body = JSON.stringify(json);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    }
    // The step's signal (timeout, shutdown) and this request's own timeout.
    const controller = new AbortController();
    const onAbort = () => controller.abort(this.signal.reason);
    if (this.signal.aborted) onAbort();
    else this.signal.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error(`timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const started = performance.now();
    const record = (status?: number): ApiCall => {
      const call = { method, url, status, durationMs: round(performance.now() - started) };
      this.calls.push(call);
      return call;
    };
    let response: Response;
    try {
      response = await this.fetchImpl(url, { ...rest, method, headers, body, signal: controller.signal });
    } catch (error) {
      const call = record();
      if (this.signal.aborted) throw this.signal.reason;
      const context = { http: call };
      if (timedOut) {
        throw new RetryableError(`${method} ${url} timed out after ${timeoutMs} ms`, { errorCode: 'HTTP_TIMEOUT', context });
      }
      const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
      throw new RetryableError(`${method} ${url} failed: ${reason}`, { errorCode: 'HTTP_NETWORK_ERROR', context, cause: error });
    } finally {
      clearTimeout(timer);
      this.signal.removeEventListener('abort', onAbort);
    }
    const call = record(response.status);
    const kind = classifyHttpStatus(response.status);
    if (kind === 'success') return response;
    const snippet = await bodySnippet(response);
    const context: Rec = { http: { ...call, body: snippet } };
    const message = `${method} ${url} answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    if (kind === 'permanent') throw new PermanentError(message, { errorCode: `HTTP_${response.status}`, statusCode: response.status, context });
    const wait = retryAfterSeconds(response.headers.get('retry-after'));
    throw new RetryableError(message, {
      errorCode: `HTTP_${response.status}`,
      statusCode: response.status,
      context,
      ...(wait !== undefined ? { backoffSeconds: wait, backoffKind: backoffKind(response.status) } : {}),
    });
  }

  async json<T = unknown>(path: string, init?: ApiRequestInit): Promise<T> {
    const response = await this.fetch(path, init);
    const text = await response.text();
    if (text.trim() === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      const call = this.calls[this.calls.length - 1];
      throw new PermanentError(`${call?.method} ${call?.url} answered ${response.status} with a body that is not JSON`, {
        errorCode: 'HTTP_INVALID_JSON',
        statusCode: response.status,
        context: { http: { ...call, body: text.slice(0, 1000) } },
      });
    }
  }

  private url(path: string): string {
    if (typeof path !== 'string' || path === '') throw new TypeError('api.fetch: give a URL or a path');
    try {
      return new URL(path, this.baseUrl).toString();
    } catch {
      throw new PermanentError(
        this.baseUrl === undefined
          ? `api.fetch: '${path}' is not an absolute URL and the handler has no baseUrl (option or handler.initialization.baseUrl)`
          : `api.fetch: '${path}' with base '${this.baseUrl}' is not a URL`,
        { errorCode: 'HTTP_BAD_URL' },
      );
    }
  }
}

/**
 * A handler that calls HTTP APIs through `api` (second argument of
 * `handle`): failures are classified for retries, and the calls' status and
 * duration are stored in the result's metadata under `http`.
 */
export function defineApiHandler<TContext = Rec, TResult = unknown, TDeps extends object = Rec, TConfig = Rec>(
  options: ApiHandlerOptions<TContext, TResult, TDeps, TConfig>,
): (context: StepContext<TContext, TDeps, TConfig>) => Promise<SuccessResult<TResult>> {
  if (typeof options !== 'object' || options === null || typeof options.handle !== 'function') {
    throw new TypeError('defineApiHandler: give { handle(ctx, api) { ... } } (and optionally baseUrl, timeoutMs, headers)');
  }
  const timeoutMs = options.timeoutMs ?? 30000;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new RangeError(`defineApiHandler: timeoutMs ${timeoutMs} must be a positive number of ms`);
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') throw new TypeError('defineApiHandler: no fetch in this runtime; pass options.fetch');
  return async (context) => {
    const configured = typeof options.baseUrl === 'function' ? options.baseUrl(context) : options.baseUrl;
    const fromStep = (context.stepConfig as Rec | undefined)?.baseUrl;
    const baseUrl = configured ?? (typeof fromStep === 'string' ? fromStep : undefined);
    const api = new StepApiClient(context.signal, baseUrl, timeoutMs, options.headers, fetchImpl);
    const returned = await options.handle(context, api);
    const last = api.calls[api.calls.length - 1];
    const http = {
      status: last?.status,
      durationMs: round(api.calls.reduce((sum, c) => sum + c.durationMs, 0)),
      calls: api.calls,
    };
    if (isStepResult(returned)) {
      const completion = returned.completion;
      if (returned.kind !== 'success' || !completion) throw new TypeError('an API handler returns its result or success(result, { metadata })');
      return success(completion.result as TResult, { metadata: { ...completion.metadata, http } });
    }
    return success(returned as TResult, { metadata: { http } });
  };
}
