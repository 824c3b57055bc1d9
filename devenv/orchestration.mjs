// The orchestration server and database setup, for the tests and
// benchmarks: the package's own (lib/dev/orchestration.ts), built into dist/dev.
export { setupDatabase, startOrchestration, query } from '../dist/dev/index.mjs';
