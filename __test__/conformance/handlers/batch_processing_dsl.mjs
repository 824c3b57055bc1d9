// batch_processing_dsl_ts (csv_processing_dsl_ts): function handlers. The
// batchable step names its worker template in handler.initialization, so
// after noBatches() tasker runs a placeholder worker (defineBatchWorker
// completes it) and the aggregator still runs.
import { pkg } from '../../helpers/package.mjs';
import { addTallies, EMPTY_TALLY, readProducts, rowsBetween, tallyInventory } from './products.mjs';

const { batches, batchRanges, collectBatchResults, defineBatchAnalyzer, defineBatchWorker, defineHandler, noBatches } = pkg;

export const analyzeCsv = defineBatchAnalyzer(
  async (ctx) => {
    const { batch_size, max_workers, worker_template_name } = ctx.stepConfig;
    const rows = await readProducts(ctx.taskContext.csv_file_path);
    if (rows.length === 0) return noBatches({ total_rows: 0 });
    return batches(worker_template_name, batchRanges(rows.length, batch_size, { start: 1, maxBatches: max_workers }), { total_rows: rows.length });
  },
  { inputs: ['csv_file_path'] },
);

export const processCsvBatch = defineBatchWorker(async (ctx) => {
  const { batchId, cursor } = ctx.batch;
  const rows = rowsBetween(await readProducts(ctx.taskContext.csv_file_path), cursor.start, cursor.end);
  return { batch_id: batchId, ...tallyInventory(rows) };
});

export const aggregateCsvResults = defineHandler((ctx) => {
  const collected = collectBatchResults(ctx);
  const totals = collected.reduce((sum, batch) => addTallies(sum, batch), EMPTY_TALLY);
  return { ...totals, worker_count: collected.batches.length, no_batches: collected.noBatches };
});
