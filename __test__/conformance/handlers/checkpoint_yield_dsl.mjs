// checkpoint_yield_test_dsl_ts (ts_e2e_checkpoint_dsl): the same work as
// checkpoint_yield.mjs, served by function handlers.
import { pkg } from '../../helpers/package.mjs';
import { aggregate, processItems } from './checkpoint_yield.mjs';

const { batches, defineBatchAnalyzer, defineBatchWorker, defineHandler, noBatches } = pkg;

export const analyzeItems = defineBatchAnalyzer(
  (ctx) => {
    const total = ctx.taskContext.total_items;
    if (total <= 0) return noBatches({ total_items: 0 });
    return batches(ctx.stepConfig.worker_template_name, [{ start: 0, end: total }], { total_items: total });
  },
  { inputs: ['total_items', 'items_per_checkpoint'] },
);

export const checkpointYieldBatch = defineBatchWorker(processItems);

export const aggregateResults = defineHandler((ctx) => aggregate(ctx), { dependencies: ['analyze_items_dsl_ts'] });
