// The dev environment's client: the package's TaskerClient, plus the one
// thing a development environment needs beyond it.
//
// tasker-orchestration creates a template's step rows on the template's
// first task; two first tasks created at the same moment can collide on
// those rows (the orchestration answers 500 DATABASE_ERROR). Suites and
// benchmarks start many tasks of a fresh template at once, so createTask
// sends such a request again, a few times. (A request that failed after
// making its task is answered by the package's client itself, which finds
// the task: lib/created-task.ts; should one still get here, the repeat
// answers 409 CONFLICT and the task is looked up.) Production callers rarely
// hit the first-task race (one first task per template, ever) and should see
// the error rather than have it hidden: the package's client does not retry.
import { TaskerClient } from '../dist/index.mjs';

const FIRST_TASK_RACE_ATTEMPTS = 5;
const CANCEL_ROUNDS = 5;

export class DevTaskerClient extends TaskerClient {
  async createTask(request) {
    let collided = false;
    for (let attempt = 1; ; attempt++) {
      try {
        return await super.createTask(request);
      } catch (e) {
        if (collided && e?.code === 'CONFLICT') {
          const made = await this.findTask(request);
          if (made) return made;
        }
        collided = e?.status === 500 && e?.serverCode === 'DATABASE_ERROR';
        if (!collided || attempt >= FIRST_TASK_RACE_ATTEMPTS) throw e;
        await new Promise((r) => setTimeout(r, 50 * attempt));
      }
    }
  }

  /**
   * Cancels every task of `namespaces` that has not finished (tests and
   * benchmarks leave some blocked or waiting for a retry; in a long-lived
   * environment the orchestration would move them to the dead-letter queue
   * once stale). Returns how many were cancelled; throws, with the last
   * error, if some could not be.
   *
   * tasker's task list tells only whether a task completed, so every task
   * not completed, on every page, is asked to cancel: tasker refuses the
   * failed and the already cancelled ones. A cancel that races tasker's own
   * work on the task can fail (a step moved on under it): a next round tries
   * those again.
   */
  async cancelUnfinished(namespaces) {
    let cancelled = 0;
    for (const namespace of namespaces) {
      for (let round = 1; ; round++) {
        let failed = 0;
        let lastError;
        for (const task of await this.notCompleted(namespace)) {
          try {
            await this.cancelTask(task.taskUuid);
            cancelled++;
          } catch (e) {
            // Finished (tasker refuses to cancel it): nothing to do.
            if (['VALIDATION', 'CONFLICT', 'NOT_FOUND'].includes(e?.code)) continue;
            failed++;
            lastError = e;
          }
        }
        if (failed === 0) break;
        if (round === CANCEL_ROUNDS) {
          throw new Error(`${failed} tasks of namespace ${namespace} could not be cancelled in ${CANCEL_ROUNDS} rounds (last error: ${lastError.message})`);
        }
        await new Promise((r) => setTimeout(r, 200 * round));
      }
    }
    return cancelled;
  }

  /** Every task of `namespace` that has not completed (failed and cancelled ones too), across all pages. */
  async notCompleted(namespace) {
    const found = [];
    for (let page = 1; ; page++) {
      const { tasks, pagination } = await this.listTasks({ namespace, status: 'pending', perPage: 100, page });
      found.push(...tasks);
      if (!pagination.hasNext) return found;
    }
  }

  /** The task of `request`'s template with its context, among the namespace's latest. */
  async findTask({ name, namespace, context = {} }) {
    const wanted = canonical(context);
    for (let page = 1; page <= 20; page++) {
      const { tasks, pagination } = await this.listTasks({ namespace, perPage: 100, page });
      const found = tasks.find((t) => t.name === name && canonical(t.context) === wanted);
      if (found) return this.getTask(found.taskUuid);
      if (!pagination.hasNext) return undefined;
    }
    return undefined;
  }
}

/** JSON with sorted keys: equal for equal values. */
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The task's steps keyed by name. */
export async function stepsByName(client, taskUuid) {
  const steps = await client.listSteps(taskUuid);
  return Object.fromEntries(steps.map((s) => [s.name, s]));
}
