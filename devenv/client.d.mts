import type { StepRecord, TaskRecord, TaskerClient } from '../dist/index.mjs';

/** The package's TaskerClient; createTask retries tasker's first-task race (see client.mjs). */
export declare class DevTaskerClient extends TaskerClient {
  /** Cancels every unfinished task of `namespaces`; resolves to how many were cancelled. */
  cancelUnfinished(namespaces: Iterable<string>): Promise<number>;
  /** Every task of `namespace` that has not completed (failed and cancelled ones too), across all pages. */
  notCompleted(namespace: string): Promise<TaskRecord[]>;
}
/** The task's steps keyed by name. */
export declare function stepsByName(client: TaskerClient, taskUuid: string): Promise<Record<string, StepRecord>>;
