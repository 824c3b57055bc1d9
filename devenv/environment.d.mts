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
  /** tasker's messaging backend. */
  messaging: 'pgmq' | 'rabbitmq';
  /** The private broker's URL (messaging rabbitmq): amqp://guest:guest@127.0.0.1:PORT/%2F. */
  rabbitmqUrl?: string;
  /** Stops the broker (data and port kept); the orchestration restarts by itself once it is back. */
  stopBroker(): Promise<void>;
  /** Starts it again on the same port and data. */
  startBroker(): Promise<void>;
  /** `rabbitmqctl ARGS` against the broker; resolves to its output. */
  rabbitmqctl(args: string[]): Promise<string>;
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
  /** tasker's messaging backend (default pgmq); rabbitmq starts a private RabbitMQ broker. */
  messaging?: 'pgmq' | 'rabbitmq';
}
export declare function startEnvironment(options?: EnvironmentOptions): Promise<Environment>;
export declare function prepareTemplates(namespace: string, source?: URL, options?: { only?: string[] }): { path: string; namespace: string; remove(): void };
export declare function uniqueNamespace(prefix: string): string;
