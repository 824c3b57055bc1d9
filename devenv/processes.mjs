// Process helpers of the local environment, for the tests and benchmarks:
// the package's own (lib/dev/processes.ts), built into dist/dev.
export { freePort, removeDir, run, stopChild, waitForOutput, asUnprivileged, isRoot, UNPRIVILEGED } from '../dist/dev/index.mjs';
