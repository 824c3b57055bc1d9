/**
 * `@tasker-systems/worker/dev`: a local tasker (PostgreSQL with pgmq and
 * tasker's schema, the orchestration server, optionally a RabbitMQ broker)
 * for development and tests, as `tasker-worker dev` runs it.
 */
export { startLocalTasker } from './environment';
export type { LocalTasker, LocalTaskerOptions, Messaging } from './environment';
export { setupDatabase, startOrchestration, query, EXIT_BROKER_UNAVAILABLE } from './orchestration';
export type { Orchestration, OrchestrationOptions } from './orchestration';
export { startPostgres } from './postgres';
export type { Postgres, PostgresOptions } from './postgres';
export { startRabbitmq, rabbitmqBin, amqpAnswers } from './rabbitmq';
export type { Rabbitmq, RabbitmqOptions } from './rabbitmq';
export { devenvBinary, postgresHome, postgresPackage, orchestrationPlatformPackage, MissingPieceError, ORCHESTRATION_PACKAGE } from './paths';
export { freePort, removeDir, run, stopChild, waitForOutput, asUnprivileged, isRoot, guardAgainstAbandonment, UNPRIVILEGED } from './processes';
export type { Abandonment } from './processes';
export { SqlClient } from './sql';
export { startDevServer } from './server';
export type { DevServer, DevServerOptions } from './server';
