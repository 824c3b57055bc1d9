/**
 * Batch processing: `plan` splits a stock count into ranges, one `count`
 * worker per range counts its SKUs and saves a checkpoint every
 * `checkpointEvery` items (a retry resumes there), and `summarize` collects
 * the workers' tallies.
 */
import {
  batches,
  batchRanges,
  checkpoint,
  collectBatchResults,
  defineBatchAnalyzer,
  defineBatchWorker,
  defineHandler,
  noBatches,
} from '@tasker-systems/worker';

/** The context a stock count task is created with. */
export interface StockCount {
  warehouse: string;
  skuCount: number;
}

export interface Tally {
  units: number;
  lowStock: number;
}

export interface StockSummary extends Tally {
  warehouse: string;
  skus: number;
  batches: number;
}

/** Units on the shelf for one SKU (a stand-in for a database or API lookup). */
export async function unitsInStock(warehouse: string, sku: number): Promise<number> {
  return (sku * 37 + warehouse.length) % 101;
}

// The result (a number: how many SKUs to count) is what dependents see as plan_count's result.
export const plan = defineBatchAnalyzer<StockCount, number, Record<string, unknown>, { batchSize: number }>((ctx) => {
  const { skuCount } = ctx.taskContext;
  if (skuCount === 0) return noBatches(0);
  return batches('count_stock', batchRanges(skuCount, ctx.stepConfig.batchSize, { maxBatches: 8 }), skuCount);
});

// Types: task context, result, cursor, what the checkpoints carry, dependencies, initialization.
export const count = defineBatchWorker<StockCount, Tally, number, Tally, Record<string, unknown>, { checkpointEvery: number }>(async (ctx) => {
  const { batch, checkpoint: saved } = ctx;
  const tally: Tally = { ...(saved?.accumulatedResults ?? { units: 0, lowStock: 0 }) };
  let itemsProcessed = saved?.itemsProcessed ?? 0;
  const until = Math.min(batch.cursor.end, batch.resumeFrom + ctx.stepConfig.checkpointEvery);
  for (let sku = batch.resumeFrom; sku < until; sku++) {
    const units = await unitsInStock(ctx.taskContext.warehouse, sku);
    tally.units += units;
    if (units < 10) tally.lowStock++;
    itemsProcessed++;
  }
  // Not done yet: save progress; tasker runs this step again from `until`.
  if (until < batch.cursor.end) return checkpoint(until, itemsProcessed, tally);
  return tally;
});

export const summarize = defineHandler<StockCount, StockSummary, { plan_count: number }>((ctx) => {
  const counted = collectBatchResults<Tally>(ctx, 'count_stock');
  const total = counted.reduce((sum, tally) => ({ units: sum.units + tally.units, lowStock: sum.lowStock + tally.lowStock }), {
    units: 0,
    lowStock: 0,
  });
  return { warehouse: ctx.taskContext.warehouse, skus: ctx.dependencyResult('plan_count') ?? 0, batches: counted.batches.length, ...total };
});
