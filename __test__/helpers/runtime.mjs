// The runtime these tests run in, and how to start a script in the same one
// as a child process: `deno <script>` would run it without permissions, so
// under Deno children get `deno run -A`.
export const runtimeName = typeof Bun !== 'undefined' ? 'bun' : typeof Deno !== 'undefined' ? 'deno' : 'node';

/** [command, args] that run `script` with `args` in this runtime. */
export function scriptCommand(script, args = []) {
  if (runtimeName === 'deno') return [process.execPath, ['run', '-A', script, ...args]];
  return [process.execPath, [script, ...args]];
}
