// End-to-end throughput on the real environment: one worker (native Rust or
// TypeScript in Node, Bun or Deno), or several processes of it, serve a fresh
// namespace; N tasks are created
// through the orchestration API; completion statistics come from the
// database's own timestamps.
import { join } from 'node:path';
import { prepareTemplates, uniqueNamespace } from '../../devenv/environment.mjs';
import { benchDir, runtimeCommand, start, stop, waitForLine } from './children.mjs';
import { distribution } from './stats.mjs';

const TEMPLATES = new URL('../templates/', import.meta.url);

/**
 * A worker process of `kind` serving `namespace`, on the environment's
 * messaging backend; prints READY once it claims steps.
 */
export function startWorker(kind, { environment, templatePath, namespace, concurrency, benchBinary, env }) {
  const { databaseUrl, messaging = 'pgmq', rabbitmqUrl } = environment;
  if (kind === 'native') {
    const broker = messaging === 'rabbitmq' ? ['--messaging', 'rabbitmq', '--rabbitmq-url', rabbitmqUrl] : [];
    return start(benchBinary, ['worker', '--database-url', databaseUrl, '--template-path', templatePath, '--concurrency', String(concurrency), ...broker]);
  }
  const [command, args] = runtimeCommand(kind, join(benchDir, 'cases', 'e2e-worker.mjs'));
  return start(command, args, {
    env: { ...process.env, ...env, BENCH_PARAMS: JSON.stringify({ databaseUrl, messaging, rabbitmqUrl, templatePath, namespace, concurrency }) },
  });
}

async function createTasks(client, namespace, count, parallel = 8) {
  let next = 0;
  const createOne = async () => {
    while (next < count) {
      const i = next++;
      await client.createTask({ name: 'bench_diamond', namespace, context: { run: namespace, i }, reason: 'benchmark' });
    }
  };
  await Promise.all(Array.from({ length: parallel }, createOne));
}

async function waitTasks(benchBinary, databaseUrl, namespace, count) {
  const child = start(benchBinary, ['wait-tasks', '--database-url', databaseUrl, '--namespace', namespace, '--count', String(count), '--timeout-s', '600']);
  const { code } = await child.exited;
  if (code !== 0) throw new Error(`wait-tasks failed: ${child.errors}`);
  return JSON.parse(child.output.trim().split('\n').pop());
}

/**
 * One run: `tasks` tasks through `workers` processes of a `kind` worker, each
 * with `concurrency` handlers at once.
 */
export async function throughputRun(environment, kind, concurrency, tasks, { benchBinary, env }, { workers = 1 } = {}) {
  const namespace = uniqueNamespace('bench');
  const templates = prepareTemplates(namespace, TEMPLATES);
  const templatePath = templates.path;
  const started = [];
  try {
    for (let i = 0; i < workers; i++) {
      started.push(startWorker(kind, { environment, templatePath, namespace, concurrency, benchBinary, env }));
    }
    await Promise.all(started.map((worker) => waitForLine(worker, 'READY')));
    const waiting = waitTasks(benchBinary, environment.databaseUrl, namespace, tasks);
    await createTasks(environment.client, namespace, tasks);
    const stats = await waiting;
    if (stats.failed > 0) throw new Error(`${stats.failed} benchmark tasks failed`);
    return {
      kind,
      concurrency,
      workers,
      tasks,
      steps: stats.steps,
      stepsPerSecond: Math.round((stats.steps / (stats.span_ms / 1000)) * 10) / 10,
      taskLatencyMs: distribution(stats.latencies_ms),
    };
  } finally {
    await Promise.all(started.map((worker) => stop(worker)));
    templates.remove();
  }
}
