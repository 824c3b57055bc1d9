// The addon's exports on a foreign platform, compared with this machine's.
//
//   <runtime> exports.mjs print APP_DIR PLATFORM OUT   (in the platform's runtime)
//     loads @tasker-systems/worker-PLATFORM's binary as installed in APP_DIR, and
//     the main package's napi loader (@tasker-systems/worker/native), which must
//     have chosen that same binary (not checked for musl on a glibc machine: see
//     below); writes the export names to OUT.
//   node exports.mjs compare OUT                       (on this machine)
//     the names must be this machine's build's (tasker-worker.linux-x64-gnu.node)
//     and index.d.ts's: each declared function, and the runtime objects of its string enums.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [mode, ...args] = process.argv.slice(2);
const root = new URL('../../', import.meta.url);

if (mode === 'print') {
  const [app, platform, out] = args;
  const require = createRequire(join(app, 'package.json'));
  const binary = require(`@tasker-systems/worker-${platform}`);
  // Read before the napi loader runs: it stamps __napiBindingTarget on the binding it loads.
  const names = Object.keys(binary).sort();
  // napi's loader asks /usr/bin/ldd first whether the system is musl: a musl
  // runtime on this glibc machine gets told glibc (on Alpine, ldd is musl's).
  if (!platform.endsWith('-musl') || readFileSync('/usr/bin/ldd', 'utf8').includes('musl')) {
    const loader = require('@tasker-systems/worker/native');
    if (loader.getVersion !== binary.getVersion) throw new Error(`@tasker-systems/worker/native did not load @tasker-systems/worker-${platform}`);
  }
  if ('bench' in binary) throw new Error('the binary exports the bench namespace');
  writeFileSync(out, JSON.stringify(names));
} else if (mode === 'compare') {
  const got = JSON.parse(readFileSync(args[0], 'utf8'));
  const require = createRequire(root);
  const here = Object.keys(require('./tasker-worker.linux-x64-gnu.node')).sort();
  const dts = readFileSync(new URL('index.d.ts', root), 'utf8');
  const declared = [...dts.matchAll(/^export declare function (\w+)/gm)].map((m) => m[1]);
  const types = new Set([...dts.matchAll(/^export type (\w+)/gm)].map((m) => m[1]));
  const problems = [];
  if (JSON.stringify(got) !== JSON.stringify(here)) {
    problems.push(`differs from linux-x64-gnu: only here ${here.filter((n) => !got.includes(n))}, only there ${got.filter((n) => !here.includes(n))}`);
  }
  const missing = declared.filter((n) => !got.includes(n));
  const undeclared = got.filter((n) => !declared.includes(n) && !types.has(n));
  if (missing.length) problems.push(`index.d.ts declares what it lacks: ${missing}`);
  if (undeclared.length) problems.push(`exports what index.d.ts does not declare: ${undeclared}`);
  if (problems.length) {
    console.error(problems.join('; '));
    process.exit(1);
  }
  console.log(`${got.length} exports, the same as linux-x64-gnu and index.d.ts`);
} else {
  console.error('usage: exports.mjs print APP_DIR PLATFORM OUT | compare OUT');
  process.exit(2);
}
