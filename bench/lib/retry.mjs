// Retry turnaround in the devenv: how long after a retryable failure with a
// 1 s backoff hint the step runs again, and how long a step that fails all
// of its 3 attempts (1 s backoffs) takes to reach its final error. The
// TypeScript worker's `bench.retry` handler fails on purpose (see
// cases/e2e-worker.mjs); every time comes from the database's transitions.
import { prepareTemplates, uniqueNamespace } from '../../devenv/environment.mjs';
import { query } from '../../devenv/orchestration.mjs';
import { startWorker } from './e2e.mjs';
import { stop, waitForLine } from './children.mjs';
import { retryTimeline } from './retry-timeline.mjs';
import { median } from './stats.mjs';

const TEMPLATES = new URL('../templates/', import.meta.url);
const BACKOFF_SECONDS = 1;
const FINAL_STATES = ['error', 'blocked_by_failures'];

/** The transitions of each task's steps, as { task → [{ state, atMs }] } in order. */
async function stepTransitions(databaseUrl, taskUuids) {
  const list = taskUuids.map((uuid) => `'${uuid}'`).join(',');
  const rows = await query(
    databaseUrl,
    `SELECT ws.task_uuid::text AS task, wst.to_state AS state, (EXTRACT(EPOCH FROM wst.created_at) * 1000)::float8 AS at_ms
       FROM tasker.workflow_step_transitions wst JOIN tasker.workflow_steps ws ON ws.workflow_step_uuid = wst.workflow_step_uuid
      WHERE ws.task_uuid IN (${list}) ORDER BY ws.task_uuid, wst.sort_key`,
  );
  const byTask = new Map(taskUuids.map((uuid) => [uuid, []]));
  for (const r of rows) byTask.get(r.task).push({ state: r.state, atMs: r.at_ms });
  return byTask;
}

/** Task creation to its final error state, ms, for each of `taskUuids`. */
async function finalErrorMs(databaseUrl, taskUuids) {
  const list = taskUuids.map((uuid) => `'${uuid}'`).join(',');
  const states = FINAL_STATES.map((s) => `'${s}'`).join(',');
  const rows = await query(
    databaseUrl,
    `SELECT ((EXTRACT(EPOCH FROM min(tt.created_at)) - EXTRACT(EPOCH FROM t.created_at)) * 1000)::float8 AS ms
       FROM tasker.tasks t JOIN tasker.task_transitions tt ON tt.task_uuid = t.task_uuid AND tt.to_state IN (${states})
      WHERE t.task_uuid IN (${list}) GROUP BY t.task_uuid, t.created_at`,
  );
  return rows.map((r) => Math.round(r.ms));
}

/**
 * `recovering` tasks that fail once then succeed, then `exhausted` tasks that
 * fail all 3 attempts, one task at a time (each sees the orchestration's
 * polling from a different phase), through a `runtime` TypeScript worker.
 */
export async function retryTurnaround(environment, runtime, { recovering, exhausted }, { benchBinary, env }) {
  const namespace = uniqueNamespace('retry');
  const templates = prepareTemplates(namespace, TEMPLATES);
  const worker = startWorker(runtime, { environment, templatePath: templates.path, namespace, concurrency: 8, benchBinary, env });
  const run = async (failures, i) => {
    const { taskUuid } = await environment.client.createTask({ name: 'bench_retry', namespace, context: { failures, backoffSeconds: BACKOFF_SECONDS, i }, reason: 'retry benchmark' });
    const task = await environment.client.waitForTask(taskUuid, { timeoutMs: 120_000, intervalMs: 100 });
    const expected = failures < 3 ? ['complete'] : FINAL_STATES;
    if (!expected.includes(task.status)) throw new Error(`retry task ${taskUuid} (${failures} failures) ended ${task.status}`);
    return taskUuid;
  };
  try {
    await waitForLine(worker, 'READY');
    const recovered = [];
    for (let i = 0; i < recovering; i++) recovered.push(await run(1, i));
    const failed = [];
    for (let i = 0; i < exhausted; i++) failed.push(await run(99, i));
    const timelines = [...(await stepTransitions(environment.databaseUrl, [...recovered, ...failed])).values()].map(retryTimeline);
    const reruns = timelines.slice(0, recovered.length).flatMap((t) => t.rerunAfterFailureMs).map(Math.round);
    const gaps = timelines.flatMap((t) => t.attemptGapMs).map(Math.round);
    const attempts = timelines.slice(recovered.length).map((t) => t.attempts);
    if (attempts.some((n) => n !== 3)) throw new Error(`exhausted retry tasks ran ${attempts.join(', ')} attempts, not 3 each`);
    const finals = await finalErrorMs(environment.databaseUrl, failed);
    return {
      runtime,
      backoffRequestedMs: BACKOFF_SECONDS * 1000,
      tasks: recovered.length,
      rerunAfterFailureMs: { n: reruns.length, p50: median(reruns), max: Math.max(...reruns) },
      attemptGapMs: { n: gaps.length, p50: median(gaps), max: Math.max(...gaps) },
      finalError: { tasks: failed.length, attempts: 3, p50Ms: median(finals), maxMs: Math.max(...finals) },
    };
  } finally {
    await stop(worker);
    templates.remove();
  }
}
