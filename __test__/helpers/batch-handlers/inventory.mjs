// The guide's stock count handlers as the batch e2e test's worker processes
// serve them (module `inventory`): `count` is wrapped to log each run
// (RUNS_FILE, a JSON line: pid, batch, attempt, range) and to fail once,
// transiently, in batch FAIL_BATCH after its second checkpoint. Each run
// takes at least SEGMENT_DELAY_MS, so that one process with a free slot does
// not take every segment before the others claim any.
import { appendFileSync } from 'node:fs';

import { RetryableError, isStepResult } from '@tasker-systems/worker';
import { count as guideCount } from '../../../examples/guide/handlers/inventory.mjs';

export { plan, summarize } from '../../../examples/guide/handlers/inventory.mjs';

const log = (entry) => appendFileSync(process.env.RUNS_FILE, `${JSON.stringify({ pid: process.pid, ...entry })}\n`);

export async function count(ctx) {
  const run = { batch: ctx.batch.batchId, attempt: ctx.retryCount, from: ctx.batch.resumeFrom, end: ctx.batch.cursor.end };
  if (ctx.batch.batchId === process.env.FAIL_BATCH && ctx.retryCount === 0 && (ctx.checkpoint?.itemsProcessed ?? 0) >= 200) {
    log({ ...run, failed: true });
    throw new RetryableError('the stock database dropped the connection');
  }
  await new Promise((resolve) => setTimeout(resolve, Number(process.env.SEGMENT_DELAY_MS ?? 0)));
  const result = await guideCount(ctx);
  log({ ...run, to: isStepResult(result) && result.kind === 'checkpoint' ? result.checkpoint.cursor : ctx.batch.cursor.end });
  return result;
}
