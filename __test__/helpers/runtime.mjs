// The runtime these tests run in, and how to start a script in the same one
// as a child process: `deno <script>` would run it without permissions, so
// under Deno children get `deno run -A`.
export const runtimeName = typeof Bun !== 'undefined' ? 'bun' : typeof Deno !== 'undefined' ? 'deno' : 'node';

// TASKER_TEST_RUNTIME_COMMAND (a JSON array) is how that runtime is started when
// process.execPath alone cannot: an arm64 Node under qemu-user, a musl Node
// through its loader (scripts/check-platforms.sh).
const runtime = process.env.TASKER_TEST_RUNTIME_COMMAND ? JSON.parse(process.env.TASKER_TEST_RUNTIME_COMMAND) : [process.execPath];

/** [command, args] that run `script` with `args` in this runtime (`denoFlags` go to `deno run`). */
export function scriptCommand(script, args = [], { denoFlags = [] } = {}) {
  const [command, ...pre] = runtime;
  if (runtimeName === 'deno') return [command, [...pre, 'run', '-A', ...denoFlags, script, ...args]];
  return [command, [...pre, script, ...args]];
}
