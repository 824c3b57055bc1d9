/**
 * `@tasker-systems/worker/dev`: a local tasker (PostgreSQL with pgmq and
 * tasker's schema, and the orchestration server) for development and
 * tests, as `tasker-worker dev` runs it.
 */
export { startLocalTasker } from './environment';
export type { LocalTasker, LocalTaskerOptions } from './environment';
export { setupDatabase, startOrchestration, query } from './orchestration';
export type { Orchestration, OrchestrationOptions } from './orchestration';
export { startPostgres } from './postgres';
export type { Postgres, PostgresOptions } from './postgres';
export { devenvBinary, postgresHome, postgresPackage, orchestrationPlatformPackage, MissingPieceError, ORCHESTRATION_PACKAGE } from './paths';
export { freePort, removeDir, run, stopChild, waitForOutput, asUnprivileged, isRoot, guardAgainstAbandonment, UNPRIVILEGED } from './processes';
export type { Abandonment } from './processes';
export { SqlClient } from './sql';
export { startDevServer } from './server';
export type { DevServer, DevServerOptions } from './server';
