// Per-task latency: a lone 4-step linear task (bench_linear), created only
// after the previous one has finished, so the figure is the latency of the
// whole system for one task, not queueing. One worker per kind (native
// baseline, TypeScript in Node, in Bun), each on its own namespace, all
// started at once; tasks go round-robin over the kinds, so a slow spell of
// this shared machine hits every kind alike. Latency is task creation to its
// `complete` transition, from the database's own timestamps (as
// `tasker-bench wait-tasks` measures it).
import { prepareTemplates, uniqueNamespace } from '../../devenv/environment.mjs';
import { query } from '../../devenv/orchestration.mjs';
import { startWorker } from './e2e.mjs';
import { stop, waitForLine } from './children.mjs';
import { distribution } from './stats.mjs';

const TEMPLATES = new URL('../templates/', import.meta.url);
// A lone linear task runs one step at a time; the limit only has to be >= 1.
const CONCURRENCY = 8;
// The first task of a namespace pays for caches (template, queues): not measured.
const WARMUP = 1;

/** Creation-to-completion milliseconds of each of `taskUuids`, from the database. */
export async function taskLatenciesMs(databaseUrl, taskUuids) {
  if (taskUuids.length === 0) return [];
  const list = taskUuids.map((uuid) => `'${uuid}'`).join(',');
  const rows = await query(
    databaseUrl,
    `SELECT t.task_uuid::text AS task, ((EXTRACT(EPOCH FROM tt.created_at) - EXTRACT(EPOCH FROM t.created_at)) * 1000)::float8 AS ms
       FROM tasker.tasks t JOIN tasker.task_transitions tt ON tt.task_uuid = t.task_uuid AND tt.to_state = 'complete'
      WHERE t.task_uuid IN (${list})`,
  );
  if (rows.length !== taskUuids.length) throw new Error(`${taskUuids.length - rows.length} of ${taskUuids.length} latency tasks did not complete`);
  return rows.map((r) => Math.round(r.ms * 100) / 100);
}

/** Runs `tasks` lone tasks through each of `kinds`; resolves to one result per kind. */
export async function loneTaskLatency(environment, kinds, tasks, { benchBinary, env }) {
  const lanes = kinds.map((kind) => {
    const namespace = uniqueNamespace('lat');
    return { kind, namespace, templates: prepareTemplates(namespace, TEMPLATES), measured: [] };
  });
  const workers = [];
  try {
    for (const lane of lanes) {
      workers.push(startWorker(lane.kind, { environment, templatePath: lane.templates.path, namespace: lane.namespace, concurrency: CONCURRENCY, benchBinary, env }));
    }
    await Promise.all(workers.map((worker) => waitForLine(worker, 'READY')));
    for (let i = 0; i < WARMUP + tasks; i++) {
      for (const lane of lanes) {
        const { taskUuid } = await environment.client.createTask({ name: 'bench_linear', namespace: lane.namespace, context: { i }, reason: 'latency benchmark' });
        // Polling the API is not what is measured (the database's timestamps are);
        // it only decides when the next task is created.
        const task = await environment.client.waitForTask(taskUuid, { timeoutMs: 60_000, intervalMs: 50 });
        if (task.status !== 'complete') throw new Error(`latency task ${taskUuid} (${lane.kind}) ended ${task.status}`);
        if (i >= WARMUP) lane.measured.push(taskUuid);
      }
    }
    const results = [];
    for (const lane of lanes) {
      const latencies = await taskLatenciesMs(environment.databaseUrl, lane.measured);
      results.push({ kind: lane.kind, tasks: latencies.length, steps: 4, taskLatencyMs: distribution(latencies) });
    }
    return results;
  } finally {
    await Promise.all(workers.map((worker) => stop(worker)));
    for (const lane of lanes) lane.templates.remove();
  }
}
