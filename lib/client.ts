/**
 * TaskerClient: tasker-orchestration's API for any service — submit and
 * watch tasks, inspect and fix steps, templates, health, the dead letter
 * queue, a worker's metrics. No worker needs to run in the process. The
 * calls are made by the native addon (REST, or gRPC through tasker-client);
 * every failure is a TaskerClientError with a stable `code`.
 */
import type {
  ClientOptions,
  CreateTaskRequest,
  DlqEntry,
  DlqQuery,
  DlqStats,
  DlqUpdate,
  HealthStatus,
  ListTasksQuery,
  NativeTaskerClient,
  StepAudit,
  StepRecord,
  StepResolution,
  TaskPage,
  TaskRecord,
  TemplateDetail,
  TemplateList,
} from '../index';
import { findCreatedTask, withCorrelationId } from './created-task';
import { FfiError } from './errors';
import { loadNative, type NativeBinding } from './native';

/** Task states that do not change by themselves: `waitForTask` resolves on them. */
export const SETTLED_TASK_STATES: readonly string[] = ['complete', 'error', 'cancelled', 'resolved_manually', 'blocked_by_failures'];

/**
 * A failed client call. `code`: NOT_FOUND, UNAUTHORIZED, FORBIDDEN,
 * VALIDATION, CONFLICT, UNAVAILABLE, TIMEOUT, SERVER_ERROR, ABORTED
 * (waitForTask), INVALID_ARGUMENT (refused before sending), INTERNAL (a bug).
 */
export class TaskerClientError extends FfiError {
  constructor(
    /** The client method that failed. */
    readonly call: string,
    readonly code: string,
    message: string,
    /** HTTP status (REST) or gRPC status code, when the server answered. */
    readonly status?: number,
    /** The orchestration's own error code, e.g. NOT_FOUND, AUTHORIZATION_FAILED. */
    readonly serverCode?: string,
    /** The orchestration's own message. */
    readonly serverMessage?: string,
    options?: { cause?: unknown },
  ) {
    super(`${call}: ${message}`, options);
  }
}

function toClientError(call: string, error: unknown): TaskerClientError {
  if (error instanceof TaskerClientError) return error;
  const e = error as { code?: unknown; message?: unknown; status?: unknown; serverCode?: unknown; serverMessage?: unknown };
  return new TaskerClientError(
    call,
    typeof e?.code === 'string' ? e.code : 'INTERNAL',
    typeof e?.message === 'string' ? e.message : String(error),
    typeof e?.status === 'number' ? e.status : undefined,
    typeof e?.serverCode === 'string' ? e.serverCode : undefined,
    typeof e?.serverMessage === 'string' ? e.serverMessage : undefined,
    { cause: error },
  );
}

export interface WaitForTaskOptions {
  /** Give up after this long (default 60000 ms): rejects with code TIMEOUT. */
  timeoutMs?: number;
  /** Time between polls (default 250 ms). */
  intervalMs?: number;
  /** Aborting rejects with code ABORTED. */
  signal?: AbortSignal;
  /** States to wait for (default SETTLED_TASK_STATES). */
  states?: readonly string[];
}

export class TaskerClient {
  private readonly native: NativeTaskerClient;

  /** Options fall back to tasker's client environment variables (see ClientOptions). */
  constructor(options: ClientOptions = {}, binding?: NativeBinding) {
    try {
      this.native = (binding ?? loadNative()).createTaskerClient(options);
    } catch (error) {
      throw toClientError('new TaskerClient', error);
    }
  }

  /** `rest` or `grpc`. */
  get transport(): string {
    return this.native.transport;
  }

  private async call<T>(name: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw toClientError(name, error);
    }
  }

  /**
   * Creates a task and answers it. A REST request without a correlation id
   * gets a new one. When the orchestration answers a server error, the
   * client looks for the task among the namespace's newest and answers it if
   * the request made it (tasker-orchestration 0.1.8 can fail a request after
   * making its task: see created-task.ts); otherwise the error stands.
   */
  async createTask(request: CreateTaskRequest): Promise<TaskRecord> {
    const sent = withCorrelationId(request, this.transport);
    try {
      return await this.native.createTask(sent);
    } catch (error) {
      const failure = toClientError('createTask', error);
      if (failure.code !== 'SERVER_ERROR') throw failure;
      const made = await findCreatedTask(this, sent).catch(() => undefined);
      if (made) return made;
      throw failure;
    }
  }
  getTask(taskUuid: string): Promise<TaskRecord> {
    return this.call('getTask', () => this.native.getTask(taskUuid));
  }
  listTasks(query: ListTasksQuery = {}): Promise<TaskPage> {
    return this.call('listTasks', () => this.native.listTasks(query));
  }
  cancelTask(taskUuid: string): Promise<void> {
    return this.call('cancelTask', () => this.native.cancelTask(taskUuid));
  }
  getTaskContext(taskUuid: string): Promise<unknown> {
    return this.call('getTaskContext', () => this.native.getTaskContext(taskUuid));
  }
  getTaskSummary(taskUuid: string): Promise<Record<string, unknown>> {
    return this.call('getTaskSummary', () => this.native.getTaskSummary(taskUuid));
  }
  listSteps(taskUuid: string): Promise<StepRecord[]> {
    return this.call('listSteps', () => this.native.listSteps(taskUuid));
  }
  getStep(taskUuid: string, stepUuid: string): Promise<StepRecord> {
    return this.call('getStep', () => this.native.getStep(taskUuid, stepUuid));
  }
  getStepAudit(taskUuid: string, stepUuid: string): Promise<StepAudit[]> {
    return this.call('getStepAudit', () => this.native.getStepAudit(taskUuid, stepUuid));
  }
  /**
   * Resolves a stuck step by hand: back to pending (`reset_for_retry`), marked
   * resolved (`resolve_manually`), or complete with a result
   * (`complete_manually`). tasker-orchestration 0.1.8 records it but does not
   * resume a task already `blocked_by_failures`: its later steps stay pending.
   */
  resolveStep(taskUuid: string, stepUuid: string, resolution: StepResolution): Promise<StepRecord> {
    return this.call('resolveStep', () => this.native.resolveStep(taskUuid, stepUuid, resolution));
  }
  listTemplates(namespace?: string): Promise<TemplateList> {
    return this.call('listTemplates', () => this.native.listTemplates(namespace));
  }
  getTemplate(namespace: string, name: string, version: string): Promise<TemplateDetail> {
    return this.call('getTemplate', () => this.native.getTemplate(namespace, name, version));
  }
  /** Through a worker's web API (`workerUrl`). */
  validateTemplate(namespace: string, name: string, version: string): Promise<Record<string, unknown>> {
    return this.call('validateTemplate', () => this.native.validateTemplate(namespace, name, version));
  }
  health(): Promise<HealthStatus> {
    return this.call('health', () => this.native.health());
  }
  healthDetailed(): Promise<Record<string, unknown>> {
    return this.call('healthDetailed', () => this.native.healthDetailed());
  }
  liveness(): Promise<HealthStatus> {
    return this.call('liveness', () => this.native.liveness());
  }
  readiness(): Promise<Record<string, unknown>> {
    return this.call('readiness', () => this.native.readiness());
  }
  listDlq(query: DlqQuery = {}): Promise<DlqEntry[]> {
    return this.call('listDlq', () => this.native.listDlq(query));
  }
  getDlqEntry(taskUuid: string): Promise<DlqEntry> {
    return this.call('getDlqEntry', () => this.native.getDlqEntry(taskUuid));
  }
  getDlqStats(): Promise<DlqStats[]> {
    return this.call('getDlqStats', () => this.native.getDlqStats());
  }
  updateDlqInvestigation(dlqEntryUuid: string, update: DlqUpdate): Promise<void> {
    return this.call('updateDlqInvestigation', () => this.native.updateDlqInvestigation(dlqEntryUuid, update));
  }
  getDlqInvestigationQueue(limit?: number): Promise<Array<Record<string, unknown>>> {
    return this.call('getDlqInvestigationQueue', () => this.native.getDlqInvestigationQueue(limit));
  }
  getStalenessMonitoring(limit?: number): Promise<Array<Record<string, unknown>>> {
    return this.call('getStalenessMonitoring', () => this.native.getStalenessMonitoring(limit));
  }
  /** Through a worker's web API (`workerUrl`). */
  getWorkerMetrics(): Promise<Record<string, unknown>> {
    return this.call('getWorkerMetrics', () => this.native.getWorkerMetrics());
  }
  /** Through a worker's web API (`workerUrl`). */
  getDomainEventStats(): Promise<Record<string, unknown>> {
    return this.call('getDomainEventStats', () => this.native.getDomainEventStats());
  }

  /** Resolves with the task once it reaches one of `states` (it stops changing by itself). */
  async waitForTask(taskUuid: string, options: WaitForTaskOptions = {}): Promise<TaskRecord> {
    const { timeoutMs = 60_000, intervalMs = 250, signal, states = SETTLED_TASK_STATES } = options;
    const deadline = Date.now() + timeoutMs;
    let last: TaskRecord | undefined;
    for (;;) {
      if (signal?.aborted) throw new TaskerClientError('waitForTask', 'ABORTED', `stopped waiting for task ${taskUuid}: aborted`, undefined, undefined, undefined, { cause: signal.reason });
      last = await this.getTask(taskUuid);
      if (states.includes(last.status)) return last;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new TaskerClientError('waitForTask', 'TIMEOUT', `task ${taskUuid} did not settle within ${timeoutMs} ms (last status: ${last.status})`);
      }
      await pause(Math.min(intervalMs, left), signal);
    }
  }
}

/** Waits `ms`, or less when `signal` aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
