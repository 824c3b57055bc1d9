// The runtime these tests run in, and how to start a script in the same one
// as a child process: `deno <script>` would run it without permissions, so
// under Deno children get `deno run -A`.
export const runtimeName = typeof Bun !== 'undefined' ? 'bun' : typeof Deno !== 'undefined' ? 'deno' : 'node';

/** [command, args] that run `script` with `args` in this runtime (`denoFlags` go to `deno run`). */
export function scriptCommand(script, args = [], { denoFlags = [] } = {}) {
  if (runtimeName === 'deno') return [process.execPath, ['run', '-A', ...denoFlags, script, ...args]];
  return [process.execPath, [script, ...args]];
}
