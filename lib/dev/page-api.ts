/**
 * The dev page's JSON API, without HTTP: a request (method, path, query,
 * body) in, a status and a JSON body out. Reads come from tasker's tables
 * (queries.ts) and from the orchestration through TaskerClient (templates,
 * step results per attempt, the dead-letter queue); a task is created
 * through the orchestration like any client would. Nothing here throws: bad
 * input is a 4xx, a refusal of the orchestration keeps its status, a failed
 * query is a 500, each with `{ error }`.
 */
import type { TaskerClient } from '../client';
import type { StepAudit } from '../../index';
import { getTaskRow, listTasks, listWorkers, taskFacets, taskSteps, taskTransitions, type SqlReader, type StepRow } from './queries';

/** The part of TaskerClient the page uses. */
export type PageClient = Pick<TaskerClient, 'createTask' | 'listTemplates' | 'getStepAudit' | 'listDlq' | 'getDlqStats'>;

export interface PageApiDeps {
  client: PageClient;
  sql: SqlReader;
}

export interface ApiAnswer {
  status: number;
  body: unknown;
}

/** A request the API refuses, with the status to answer. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** TaskerClient codes without an HTTP status (refused before sending, gRPC) that are the caller's fault. */
const CLIENT_CODES: Record<string, number> = { INVALID_ARGUMENT: 400, VALIDATION: 400, NOT_FOUND: 404, CONFLICT: 409 };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface Attempt {
  number: number;
  startedAt: string;
  endedAt?: string;
  /** `running`, `success`, `retryable_failure`, `permanent_failure`, or `interrupted` (it left in_progress without a result). */
  outcome: string;
  /** The handler's own time, from its result's metadata. */
  durationMs?: number;
  result?: unknown;
  error?: { type?: string; message: string; code?: string };
  /** The backoff the handler asked for (RetryableError's backoffSeconds). */
  backoffSeconds?: number;
  /** When the step went back to pending for the next attempt. */
  retriedAt?: string;
  workerUuid?: string;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * A step's attempts from its transitions: each move to `in_progress` starts
 * one; the audit record of the transition that ends it holds what the
 * handler answered (tasker stores the result of every attempt there).
 */
export function buildAttempts(step: Pick<StepRow, 'transitions'>, audits: StepAudit[]): Attempt[] {
  const byTransition = new Map(audits.map((a) => [a.transitionUuid, a]));
  const attempts: Attempt[] = [];
  const t = step.transitions;
  for (let i = 0; i < t.length; i++) {
    if (t[i].to !== 'in_progress') continue;
    const attempt: Attempt = { number: attempts.length + 1, startedAt: t[i].at, outcome: 'running' };
    attempts.push(attempt);
    const end = t[i + 1];
    if (!end) continue;
    attempt.endedAt = end.at;
    const audit = byTransition.get(end.uuid);
    const data = obj(obj(audit?.result)?.data);
    const metadata = obj(data?.metadata);
    if (audit) attempt.workerUuid = audit.workerUuid;
    if (typeof metadata?.execution_time_ms === 'number') attempt.durationMs = metadata.execution_time_ms;
    if (end.to === 'enqueued_for_orchestration' || audit?.success) {
      attempt.outcome = 'success';
      if (data && 'result' in data) attempt.result = data.result;
    } else if (end.to === 'enqueued_as_error_for_orchestration' || audit) {
      const error = obj(data?.error);
      attempt.outcome = (error?.retryable ?? metadata?.retryable) === false ? 'permanent_failure' : 'retryable_failure';
      attempt.error = {
        type: str(error?.error_type) ?? str(metadata?.error_type),
        message: str(error?.message) ?? 'failed (no message stored)',
        code: str(metadata?.error_code),
      };
      const hint = obj(obj(data?.orchestration_metadata)?.backoff_hint);
      if (typeof hint?.delay_seconds === 'number') attempt.backoffSeconds = hint.delay_seconds;
    } else {
      attempt.outcome = 'interrupted';
    }
    // waiting_for_retry → pending: the retry was let go.
    const retried = t.slice(i + 1).find((x, k, rest) => x.to === 'pending' && rest[k - 1]?.to === 'waiting_for_retry');
    const next = t.slice(i + 1).find((x) => x.to === 'in_progress');
    if (retried && (!next || retried.at <= next.at)) attempt.retriedAt = retried.at;
  }
  return attempts;
}

/** Step states after which nothing more is recorded for the step. */
const SETTLED_STEP = new Set(['complete', 'error', 'cancelled', 'resolved_manually']);
/** Audits of settled steps per client (the page polls a finished task every 2 s; they cannot change). */
const settledAudits = new WeakMap<PageClient, Map<string, StepAudit[]>>();

async function stepAudit(client: PageClient, taskUuid: string, step: StepRow): Promise<StepAudit[]> {
  const last = step.transitions[step.transitions.length - 1];
  if (!SETTLED_STEP.has(step.state) || !last) return client.getStepAudit(taskUuid, step.stepUuid);
  let cache = settledAudits.get(client);
  if (!cache) settledAudits.set(client, (cache = new Map()));
  // Keyed by the last transition: a step reset by hand moves on and is read again.
  const key = `${step.stepUuid}:${last.uuid}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const audits = await client.getStepAudit(taskUuid, step.stepUuid);
  if (cache.size >= 2000) cache.clear();
  cache.set(key, audits);
  return audits;
}

function param(query: URLSearchParams, name: string, pattern: RegExp): string | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  if (!pattern.test(value)) throw new ApiError(400, `invalid ${name}: ${JSON.stringify(value.slice(0, 80))}`);
  return value;
}

async function tasks(deps: PageApiDeps, query: URLSearchParams): Promise<ApiAnswer> {
  const state = param(query, 'state', /^[a-z_]{1,64}$/);
  const namespace = param(query, 'namespace', /^[^\s]{1,128}$/);
  const limit = Number(param(query, 'limit', /^[0-9]{1,4}$/) ?? 100);
  if (limit < 1 || limit > 500) throw new ApiError(400, 'limit must be 1..500');
  const [rows, facets] = await Promise.all([listTasks(deps.sql, { state, namespace, limit }), taskFacets(deps.sql)]);
  return { status: 200, body: { tasks: rows, facets } };
}

async function task(deps: PageApiDeps, taskUuid: string): Promise<ApiAnswer> {
  if (!UUID.test(taskUuid)) throw new ApiError(400, `not a task uuid: ${JSON.stringify(taskUuid.slice(0, 80))}`);
  const row = await getTaskRow(deps.sql, taskUuid);
  if (!row) throw new ApiError(404, `no task ${taskUuid}`);
  const [transitions, steps] = await Promise.all([taskTransitions(deps.sql, taskUuid), taskSteps(deps.sql, taskUuid)]);
  // One audit call per step: a step the orchestration cannot answer for yet keeps its transitions.
  const audits = await Promise.allSettled(steps.map((s) => stepAudit(deps.client, taskUuid, s)));
  return {
    status: 200,
    body: {
      task: row,
      transitions,
      steps: steps.map((s, i) => {
        const audit = audits[i];
        return {
          ...s,
          attemptLog: buildAttempts(s, audit.status === 'fulfilled' ? audit.value : []),
          ...(audit.status === 'rejected' ? { auditError: errorText(audit.reason) } : {}),
        };
      }),
    },
  };
}

async function createTask(deps: PageApiDeps, body: string | undefined): Promise<ApiAnswer> {
  let request: Json | undefined;
  try {
    request = obj(JSON.parse(body ?? ''));
  } catch {
    throw new ApiError(400, 'the body is not JSON');
  }
  if (!request) throw new ApiError(400, 'the body must be a JSON object');
  const { name, namespace, version, context = {} } = request;
  if (!str(name) || !str(namespace)) throw new ApiError(400, 'name and namespace are required');
  if (version !== undefined && !str(version)) throw new ApiError(400, 'version must be a string');
  if (!obj(context)) throw new ApiError(400, 'context must be a JSON object');
  const created = await deps.client.createTask({
    name: name as string,
    namespace: namespace as string,
    version: version as string | undefined,
    context,
    initiator: 'tasker-worker dev',
    reason: 'created from the dev page',
  });
  return { status: 201, body: { task: created } };
}

/** What to show of an error: the orchestration's own words when it gave some. */
function errorText(error: unknown): string {
  const e = error as { serverMessage?: unknown; message?: unknown };
  return str(e?.serverMessage) ?? str(e?.message) ?? String(error);
}

/** Answers one API request (`path` without the query string). */
export async function handleApi(deps: PageApiDeps, method: string, path: string, query: URLSearchParams, body?: string): Promise<ApiAnswer> {
  try {
    const taskPath = /^\/api\/tasks\/([^/]+)$/.exec(path);
    if (method === 'GET' && path === '/api/tasks') return await tasks(deps, query);
    if (method === 'POST' && path === '/api/tasks') return await createTask(deps, body);
    if (method === 'GET' && taskPath) return await task(deps, decodeURIComponent(taskPath[1]));
    if (method === 'GET' && path === '/api/templates') return { status: 200, body: await deps.client.listTemplates() };
    if (method === 'GET' && path === '/api/workers') return { status: 200, body: await listWorkers(deps.sql) };
    if (method === 'GET' && path === '/api/dlq') {
      const [entries, stats] = await Promise.all([deps.client.listDlq({ limit: 50 }), deps.client.getDlqStats()]);
      return { status: 200, body: { entries, stats } };
    }
    const known = path === '/api/tasks' || taskPath || ['/api/templates', '/api/workers', '/api/dlq'].includes(path);
    throw known ? new ApiError(405, `${method} is not allowed on ${path}`) : new ApiError(404, `no such API: ${path}`);
  } catch (error) {
    if (error instanceof ApiError) return { status: error.status, body: { error: error.message } };
    // The orchestration answered (TaskerClientError): a refusal keeps its 4xx, anything else is a bad gateway.
    const e = error as { status?: unknown; code?: unknown };
    if (typeof e?.code === 'string' && 'call' in (error as object)) {
      const status = typeof e.status === 'number' && e.status >= 400 && e.status < 500 ? e.status : (CLIENT_CODES[e.code] ?? 502);
      return { status, body: { error: errorText(error), code: e.code } };
    }
    return { status: 500, body: { error: errorText(error) } };
  }
}
