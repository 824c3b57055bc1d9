// Deno consumer, in TypeScript: the package through an `npm:` specifier, as
// Deno users import npm packages: fetched from the registry into Deno's
// cache, or taken from node_modules when deno.json says "nodeModulesDir":
// "manual". DENO_IMPORT_FROM names the folder the package must come from.
import { fileURLToPath } from 'node:url';

import * as pkg from 'npm:@tasker-systems/worker';
import type { StepContext } from 'npm:@tasker-systems/worker';
import meta from 'npm:@tasker-systems/worker/package.json' with { type: 'json' };
import common from './consumer.cjs';

const typed: (ctx: StepContext) => unknown = (ctx) => ctx.stepName;
void typed;
const from = fileURLToPath(import.meta.resolve('npm:@tasker-systems/worker'));
const expected = Deno.env.get('DENO_IMPORT_FROM');
if (expected && !from.startsWith(expected)) throw new Error(`the package was imported from ${from}, not from ${expected}`);
await common.run(pkg, 'deno', Deno.env.get('CONSUMER_LABEL') ?? 'deno', meta.version);
