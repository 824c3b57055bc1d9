/**
 * The dev page's reads that tasker's REST API does not offer: tasks with
 * their real state (its list only says finished or not), every state
 * transition of a task and its steps, and this package's workers (their
 * leases and claims, tasker_worker_js: present only once a worker with crash
 * recovery has run). Read-only; parameters are text, cast in the SQL.
 */

/** What runs the SQL: a SqlClient (lib/dev/sql.ts), or a fake in tests. */
export interface SqlReader {
  query(sql: string, params?: (string | null)[]): Promise<Record<string, unknown>[]>;
}

/** tasker stores UTC in `timestamp without time zone`: ISO 8601 with its Z. */
const iso = (column: string) => `to_char(${column}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
/** The same for a timestamptz (tasker_worker_js' columns). */
const isoTz = (column: string) => iso(`(${column} AT TIME ZONE 'UTC')`);

export interface TaskRow {
  taskUuid: string;
  name: string;
  namespace: string;
  version: string;
  state: string;
  createdAt: string;
  stateSince: string;
  completedAt: string | null;
  initiator: string | null;
  totalSteps: number;
  doneSteps: number;
  failedSteps: number;
  runningSteps: number;
}

/** Task states it leaves only by hand: the time it reached one is when it finished. */
const FINAL = `'complete', 'error', 'cancelled', 'resolved_manually', 'blocked_by_failures'`;

// A task's state is its most recent transition; a task has none for a moment after it is made.
const TASK_FROM = `
  FROM tasker.tasks t
  JOIN tasker.named_tasks nt ON nt.named_task_uuid = t.named_task_uuid
  JOIN tasker.task_namespaces tn ON tn.task_namespace_uuid = nt.task_namespace_uuid
  LEFT JOIN tasker.task_transitions tt ON tt.task_uuid = t.task_uuid AND tt.most_recent
  LEFT JOIN LATERAL (
    SELECT count(*)::int AS total,
           count(*) FILTER (WHERE st.to_state IN ('complete', 'resolved_manually'))::int AS done,
           count(*) FILTER (WHERE st.to_state = 'error')::int AS failed,
           count(*) FILTER (WHERE st.to_state = 'in_progress')::int AS running
    FROM tasker.workflow_steps ws
    LEFT JOIN tasker.workflow_step_transitions st ON st.workflow_step_uuid = ws.workflow_step_uuid AND st.most_recent
    WHERE ws.task_uuid = t.task_uuid
  ) s ON true`;

const TASK_COLUMNS = `
  t.task_uuid AS "taskUuid", nt.name, tn.name AS namespace, nt.version,
  coalesce(tt.to_state, 'pending') AS state,
  ${iso('t.created_at')} AS "createdAt",
  ${iso('coalesce(tt.created_at, t.created_at)')} AS "stateSince",
  ${iso(`coalesce(t.completed_at, CASE WHEN tt.to_state IN (${FINAL}) THEN tt.created_at END)`)} AS "completedAt",
  t.initiator,
  s.total AS "totalSteps", s.done AS "doneSteps", s.failed AS "failedSteps", s.running AS "runningSteps"`;

export interface TaskFilter {
  state?: string;
  namespace?: string;
  limit?: number;
}

/** The newest tasks first, optionally of one state and namespace. */
export async function listTasks(sql: SqlReader, filter: TaskFilter = {}): Promise<TaskRow[]> {
  const rows = await sql.query(
    `SELECT ${TASK_COLUMNS} ${TASK_FROM}
     WHERE ($1::text IS NULL OR coalesce(tt.to_state, 'pending') = $1::text)
       AND ($2::text IS NULL OR tn.name = $2::text)
     ORDER BY t.created_at DESC, t.task_uuid DESC
     LIMIT $3::int`,
    [filter.state ?? null, filter.namespace ?? null, String(filter.limit ?? 100)],
  );
  return rows as unknown as TaskRow[];
}

export interface Facets {
  states: { value: string; count: number }[];
  namespaces: { value: string; count: number }[];
}

/** Task counts by state and by namespace: the filters' choices. */
export async function taskFacets(sql: SqlReader): Promise<Facets> {
  const rows = (await sql.query(
    `SELECT 'state' AS kind, coalesce(tt.to_state, 'pending') AS value, count(*)::int AS count
       FROM tasker.tasks t LEFT JOIN tasker.task_transitions tt ON tt.task_uuid = t.task_uuid AND tt.most_recent
       GROUP BY 2
     UNION ALL
     SELECT 'namespace', tn.name, count(t.task_uuid)::int
       FROM tasker.task_namespaces tn
       LEFT JOIN tasker.named_tasks nt ON nt.task_namespace_uuid = tn.task_namespace_uuid
       LEFT JOIN tasker.tasks t ON t.named_task_uuid = nt.named_task_uuid
       GROUP BY 2`,
  )) as { kind: string; value: string; count: number }[];
  const of = (kind: string) =>
    rows
      .filter((r) => r.kind === kind)
      .map(({ value, count }) => ({ value, count }))
      .sort((a, b) => a.value.localeCompare(b.value));
  return { states: of('state'), namespaces: of('namespace') };
}

export interface TaskDetailRow extends TaskRow {
  context: unknown;
  reason: string | null;
}

export async function getTaskRow(sql: SqlReader, taskUuid: string): Promise<TaskDetailRow | undefined> {
  const rows = await sql.query(`SELECT ${TASK_COLUMNS}, t.context, t.reason ${TASK_FROM} WHERE t.task_uuid = $1::uuid`, [taskUuid]);
  return rows[0] as unknown as TaskDetailRow | undefined;
}

export interface Transition {
  uuid: string;
  from: string | null;
  to: string;
  at: string;
  /** What moved it (tasker's event name), when tasker recorded one. */
  event: string | null;
}

export async function taskTransitions(sql: SqlReader, taskUuid: string): Promise<Transition[]> {
  const rows = await sql.query(
    `SELECT task_transition_uuid AS uuid, from_state AS "from", to_state AS "to", ${iso('created_at')} AS at,
            metadata->>'event' AS event
     FROM tasker.task_transitions WHERE task_uuid = $1::uuid ORDER BY sort_key`,
    [taskUuid],
  );
  return rows as unknown as Transition[];
}

export interface StepRow {
  stepUuid: string;
  name: string;
  state: string;
  attempts: number;
  maxAttempts: number;
  retryable: boolean;
  /** The backoff tasker applies before the next attempt, seconds. */
  backoffRequestSeconds: number | null;
  lastAttemptedAt: string | null;
  createdAt: string;
  dependsOn: string[];
  transitions: Omit<Transition, 'event'>[];
}

/** A task's steps with every transition, in the order they first ran. */
export async function taskSteps(sql: SqlReader, taskUuid: string): Promise<StepRow[]> {
  const rows = await sql.query(
    `SELECT ws.workflow_step_uuid AS "stepUuid", ns.name, coalesce(cur.to_state, 'pending') AS state,
            coalesce(ws.attempts, 0) AS attempts, coalesce(ws.max_attempts, 0) AS "maxAttempts", ws.retryable,
            ws.backoff_request_seconds AS "backoffRequestSeconds", ${iso('ws.last_attempted_at')} AS "lastAttemptedAt",
            ${iso('ws.created_at')} AS "createdAt",
            coalesce((SELECT json_agg(pn.name ORDER BY pn.name)
                      FROM tasker.workflow_step_edges e
                      JOIN tasker.workflow_steps p ON p.workflow_step_uuid = e.from_step_uuid
                      JOIN tasker.named_steps pn ON pn.named_step_uuid = p.named_step_uuid
                      WHERE e.to_step_uuid = ws.workflow_step_uuid), '[]') AS "dependsOn",
            coalesce((SELECT json_agg(json_build_object('uuid', st.workflow_step_transition_uuid, 'from', st.from_state,
                                                        'to', st.to_state, 'at', ${iso('st.created_at')}) ORDER BY st.sort_key)
                      FROM tasker.workflow_step_transitions st
                      WHERE st.workflow_step_uuid = ws.workflow_step_uuid), '[]') AS transitions
     FROM tasker.workflow_steps ws
     JOIN tasker.named_steps ns ON ns.named_step_uuid = ws.named_step_uuid
     LEFT JOIN tasker.workflow_step_transitions cur ON cur.workflow_step_uuid = ws.workflow_step_uuid AND cur.most_recent
     WHERE ws.task_uuid = $1::uuid
     ORDER BY (SELECT min(st.created_at) FROM tasker.workflow_step_transitions st
               WHERE st.workflow_step_uuid = ws.workflow_step_uuid AND st.to_state = 'in_progress') NULLS LAST,
              ws.created_at, ns.name`,
    [taskUuid],
  );
  return rows as unknown as StepRow[];
}

export interface WorkerRow {
  incarnation: string;
  workerId: string;
  hostname: string | null;
  pid: number | null;
  startedAt: string;
  heartbeatAt: string;
  heartbeatAgeSeconds: number;
  /** Steps it holds: `claimed` (its handler runs) or `reported` (result sent, not yet processed). */
  steps: { stepUuid: string; step: string; state: string; since: string; taskUuid: string; task: string; namespace: string }[];
}

export interface Workers {
  /** False until a worker with crash recovery has made tasker_worker_js. */
  tracked: boolean;
  workers: WorkerRow[];
  /** Steps in progress that no worker of this package holds (other workers, or stale). */
  otherInProgress: number;
}

/** This package's worker processes (their leases) and the steps each holds now. */
export async function listWorkers(sql: SqlReader): Promise<Workers> {
  const [probe] = await sql.query(
    `SELECT to_regclass('tasker_worker_js.leases') IS NOT NULL AND to_regclass('tasker_worker_js.claims') IS NOT NULL AS tracked`,
  );
  const inProgress = `SELECT count(*)::int AS n FROM tasker.workflow_step_transitions st WHERE st.most_recent AND st.to_state = 'in_progress'`;
  if (!probe?.tracked) {
    const [count] = await sql.query(inProgress);
    return { tracked: false, workers: [], otherInProgress: Number(count?.n ?? 0) };
  }
  const workers = (await sql.query(
    `SELECT l.incarnation, l.worker_id AS "workerId", l.hostname, l.pid,
            ${isoTz('l.started_at')} AS "startedAt", ${isoTz('l.heartbeat_at')} AS "heartbeatAt",
            round(extract(epoch FROM now() - l.heartbeat_at)::numeric, 1)::float8 AS "heartbeatAgeSeconds",
            coalesce((SELECT json_agg(json_build_object('stepUuid', c.workflow_step_uuid, 'step', ns.name, 'state', c.state,
                                                        'since', ${isoTz('c.changed_at')}, 'taskUuid', ws.task_uuid,
                                                        'task', nt.name, 'namespace', tn.name) ORDER BY c.changed_at)
                      FROM tasker_worker_js.claims c
                      JOIN tasker.workflow_steps ws ON ws.workflow_step_uuid = c.workflow_step_uuid
                      JOIN tasker.named_steps ns ON ns.named_step_uuid = ws.named_step_uuid
                      JOIN tasker.tasks t ON t.task_uuid = ws.task_uuid
                      JOIN tasker.named_tasks nt ON nt.named_task_uuid = t.named_task_uuid
                      JOIN tasker.task_namespaces tn ON tn.task_namespace_uuid = nt.task_namespace_uuid
                      WHERE c.incarnation = l.incarnation), '[]') AS steps
     FROM tasker_worker_js.leases l
     ORDER BY l.started_at`,
  )) as unknown as WorkerRow[];
  const [count] = await sql.query(
    `${inProgress} AND NOT EXISTS (SELECT 1 FROM tasker_worker_js.claims c WHERE c.workflow_step_uuid = st.workflow_step_uuid)`,
  );
  return { tracked: true, workers, otherInProgress: Number(count?.n ?? 0) };
}
