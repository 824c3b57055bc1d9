// batch_processing_ts (csv_processing_ts): class-style handlers. The template's
// batchable step names no worker_template_name, so the analyzer names the
// worker template itself and, for an empty file, noBatches() ends the task.
import { pkg } from '../../helpers/package.mjs';
import { addTallies, EMPTY_TALLY, readProducts, rowsBetween, tallyInventory } from './products.mjs';

const { batches, batchRanges, collectBatchResults, noBatches } = pkg;

export class CsvAnalyzerHandler {
  constructor({ batch_size, max_workers }) {
    this.batchSize = batch_size;
    this.maxWorkers = max_workers;
  }

  async call(ctx) {
    const path = ctx.requireInput('csv_file_path');
    const rows = await readProducts(path);
    const summary = { csv_file_path: path, analysis_mode: ctx.taskContext.analysis_mode ?? 'inventory', total_rows: rows.length };
    if (rows.length === 0) return noBatches(summary);
    const ranges = batchRanges(rows.length, this.batchSize, { start: 1, maxBatches: this.maxWorkers });
    return batches('process_csv_batch_ts', ranges, { ...summary, batch_count: ranges.length });
  }
}

export class CsvBatchProcessorHandler {
  constructor({ processing_mode }) {
    this.mode = processing_mode;
  }

  async call(ctx) {
    const { batchId, cursor } = ctx.batch;
    const rows = rowsBetween(await readProducts(ctx.taskContext.csv_file_path), cursor.start, cursor.end);
    return { batch_id: batchId, processing_mode: this.mode, first_row: cursor.start, last_row: cursor.end - 1, ...tallyInventory(rows) };
  }
}

export class CsvResultsAggregatorHandler {
  call(ctx) {
    const collected = collectBatchResults(ctx, 'process_csv_batch_ts');
    const totals = collected.reduce((sum, batch) => addTallies(sum, batch), EMPTY_TALLY);
    return { ...totals, worker_count: collected.batches.length, batch_ids: collected.batches.map((b) => b.batchId) };
  }
}
