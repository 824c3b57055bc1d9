// Types of the dev environment for TypeScript callers (the demo).
import type { DevTaskerClient } from './client.mjs';

export interface Environment {
  databaseUrl: string;
  adminUrl: string;
  orchestrationUrl: string;
  /** The orchestration's gRPC endpoint, with `grpc: true`. */
  grpcUrl?: string;
  client: DevTaskerClient;
  orchestrationLogs(): string;
  /** Stops the database server (data and port kept). */
  stopDatabase(): Promise<void>;
  /** Starts it again on the same port and data. */
  startDatabase(): Promise<void>;
  stop(): Promise<void>;
}
export interface EnvironmentOptions {
  /** Start the orchestration server too (default true). */
  orchestration?: boolean;
  log?: (message: string) => void;
  /** The orchestration's log level (default `warn`). */
  logLevel?: string;
  /** Serve gRPC beside REST (default false). */
  grpc?: boolean;
  /** Require one of these API keys; `permissions` as tasker names them, e.g. `tasks:read`, `tasks:*`. */
  apiKeys?: Array<{ key: string; permissions: string[] }>;
}
export declare function startEnvironment(options?: EnvironmentOptions): Promise<Environment>;
export declare function prepareTemplates(namespace: string, source?: URL, options?: { only?: string[] }): { path: string; namespace: string; remove(): void };
export declare function uniqueNamespace(prefix: string): string;
