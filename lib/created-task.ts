/**
 * Telling whether a createTask that failed made its task all the same.
 *
 * tasker-orchestration 0.1.8 commits a new task, then starts it (pending to
 * initializing) in a second statement that races its own task-readiness
 * poller: when the poller wins, the request's transition breaks a unique
 * index and the orchestration answers a server error (REST 500
 * DATABASE_ERROR, gRPC INTERNAL), although the task exists and runs. Seen
 * here about 2 times in 1000 requests made 4 at a time. Sending the request
 * again would answer CONFLICT (same template and context) and no task, so
 * the client looks the task up instead; a request that made nothing still
 * fails with the server's error.
 */
import type { CreateTaskRequest, TaskPage, TaskRecord } from '../index';

/** Newest-first pages of the namespace searched (tasker lists 100 at most per page). */
const SEARCHED_PAGES = 3;
const PER_PAGE = 100;

/** What the client sends when the request leaves it out (src/client). */
const DEFAULT_VERSION = '1.0.0';
const DEFAULT_INITIATOR = '@tasker-systems/worker';

export interface TaskLookup {
  listTasks(query: { namespace: string; perPage: number; page: number }): Promise<TaskPage>;
  getTask(taskUuid: string): Promise<TaskRecord>;
}

/**
 * Gives a REST request a correlation id of its own when it has none, so the
 * task it makes can be told from any other. (tasker's gRPC service does not
 * read correlation ids: there the template, context and initiator name it,
 * which tasker keeps unique for a template.)
 */
export function withCorrelationId(request: CreateTaskRequest, transport: string): CreateTaskRequest {
  if (transport !== 'rest' || !isPlainObject(request) || request.correlationId !== undefined) return request;
  return { ...request, correlationId: globalThis.crypto.randomUUID() };
}

/** The task `request` made, when the orchestration made it; undefined when not found. */
export async function findCreatedTask(client: TaskLookup, request: CreateTaskRequest): Promise<TaskRecord | undefined> {
  if (!isPlainObject(request) || typeof request.namespace !== 'string') return undefined;
  const wanted = canonicalJson(request.context ?? {});
  const version = request.version ?? DEFAULT_VERSION;
  const initiator = request.initiator ?? DEFAULT_INITIATOR;
  for (let page = 1; page <= SEARCHED_PAGES; page++) {
    const { tasks, pagination } = await client.listTasks({ namespace: request.namespace, perPage: PER_PAGE, page });
    const made = tasks.find(
      (t) =>
        t.name === request.name &&
        t.version === version &&
        (request.correlationId === undefined ? t.initiator === initiator : t.correlationId === request.correlationId) &&
        canonicalJson(t.context ?? {}) === wanted,
    );
    if (made) return client.getTask(made.taskUuid);
    if (!pagination.hasNext) return undefined;
  }
  return undefined;
}

/** JSON with object keys sorted: equal strings for equal values. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isPlainObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function isPlainObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
