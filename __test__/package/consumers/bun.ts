// Bun consumer, in TypeScript: the package's types and its ESM entry.
import * as pkg from '@tasker-systems/worker';
import type { StepContext } from '@tasker-systems/worker';
import common from './consumer.cjs';

const typed: (ctx: StepContext) => unknown = (ctx) => ctx.stepName;
void typed;
await common.run(pkg, 'bun', 'bun');
