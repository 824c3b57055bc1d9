// Types of the dev environment for TypeScript callers (the demo).
export interface TaskResponse {
  task_uuid: string;
  status: string;
  [field: string]: unknown;
}
export interface StepResponse {
  name: string;
  current_state: string;
  attempts: number;
  results?: { result?: unknown; [field: string]: unknown } | null;
  [field: string]: unknown;
}
export declare class OrchestrationClient {
  constructor(baseUrl: string);
  createTask(task: { name: string; namespace: string; version?: string; context?: unknown; reason?: string }): Promise<string>;
  getTask(uuid: string): Promise<TaskResponse>;
  listSteps(uuid: string): Promise<StepResponse[]>;
  waitForTask(uuid: string, options?: { timeoutMs?: number; intervalMs?: number }): Promise<TaskResponse>;
  stepsByName(uuid: string): Promise<Record<string, StepResponse>>;
}
export interface Environment {
  databaseUrl: string;
  adminUrl: string;
  orchestrationUrl: string;
  client: OrchestrationClient;
  orchestrationLogs(): string;
  /** Stops the database server (data and port kept). */
  stopDatabase(): Promise<void>;
  /** Starts it again on the same port and data. */
  startDatabase(): Promise<void>;
  stop(): Promise<void>;
}
export declare function startEnvironment(options?: { orchestration?: boolean; log?: (message: string) => void; logLevel?: string }): Promise<Environment>;
export declare function prepareTemplates(namespace: string, source?: URL): { path: string; namespace: string; remove(): void };
export declare function uniqueNamespace(prefix: string): string;
