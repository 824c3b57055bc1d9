// A small client of the orchestration's REST API: create tasks, read them,
// wait for them to finish.

// Where a task stops moving: the terminal states, and blocked_by_failures,
// where tasker parks a task whose step failed permanently.
const FINAL = new Set(['complete', 'error', 'cancelled', 'resolved_manually', 'blocked_by_failures']);

export class OrchestrationClient {
  constructor(baseUrl) {
    this.baseUrl = baseUrl.replace(/\/$/, '');
  }

  async request(method, path, body) {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 2000)}`);
    return text ? JSON.parse(text) : undefined;
  }

  /**
   * Creates a task from a registered template; resolves to its uuid.
   * The orchestration creates a template's step rows on its first task, and
   * concurrent first tasks can collide on them (a unique-key error, nothing
   * created): such a request is sent again.
   */
  async createTask({ name, namespace, version = '1.0.0', context = {}, reason = 'test' }) {
    const body = { name, namespace, version, context, initiator: 'tasker-worker-js', source_system: 'tasker-worker-js', reason };
    let created;
    for (let attempt = 1; ; attempt++) {
      try {
        created = await this.request('POST', '/v1/tasks', body);
        break;
      } catch (e) {
        const collided = /answered 500/.test(e.message) && /DATABASE_ERROR/.test(e.message);
        if (!collided || attempt >= 5) throw e;
        await new Promise((r) => setTimeout(r, 50 * attempt));
      }
    }
    if (!created?.task_uuid) throw new Error(`task creation answered without task_uuid: ${JSON.stringify(created)}`);
    return created.task_uuid;
  }

  getTask(uuid) {
    return this.request('GET', `/v1/tasks/${uuid}`);
  }

  listSteps(uuid) {
    return this.request('GET', `/v1/tasks/${uuid}/workflow_steps`);
  }

  /** Polls until the task reaches a final state; resolves to the task. */
  async waitForTask(uuid, { timeoutMs = 60000, intervalMs = 200 } = {}) {
    const deadline = Date.now() + timeoutMs;
    let task;
    while (Date.now() < deadline) {
      task = await this.getTask(uuid);
      if (FINAL.has(task.status)) return task;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    throw new Error(`task ${uuid} did not finish within ${timeoutMs} ms (last status: ${task?.status})`);
  }

  /** The task's steps keyed by name. */
  async stepsByName(uuid) {
    const steps = await this.listSteps(uuid);
    return Object.fromEntries(steps.map((s) => [s.name, s]));
  }
}
