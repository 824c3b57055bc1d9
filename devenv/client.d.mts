import type { StepRecord, TaskerClient } from '../dist/index.mjs';

/** The package's TaskerClient; createTask retries tasker's first-task race (see client.mjs). */
export declare class DevTaskerClient extends TaskerClient {}
/** The task's steps keyed by name. */
export declare function stepsByName(client: TaskerClient, taskUuid: string): Promise<Record<string, StepRecord>>;
