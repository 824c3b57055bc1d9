/**
 * Stored results as the addon writes them: a result that carried a decision
 * or batch outcome is stored in an envelope (`tasker-worker-js/1`) beside
 * the handler's own result. Dependents see only the result; the outcome is
 * read here, where tasker's wire names stay.
 */

const ENVELOPE = 'tasker-worker-js/1';

interface Envelope {
  result_envelope: typeof ENVELOPE;
  result: unknown;
  batch_processing_outcome?: unknown;
  decision_point_outcome?: unknown;
}

function isEnvelope(stored: unknown): stored is Envelope {
  return typeof stored === 'object' && stored !== null && (stored as { result_envelope?: unknown }).result_envelope === ENVELOPE;
}

/** What a handler returned, from a stored result. */
export function storedResult(stored: unknown): unknown {
  return isEnvelope(stored) ? stored.result : stored;
}

/** A batchable step's stored outcome, in this package's names. */
export type StoredBatchOutcome =
  | { type: 'noBatches' }
  | { type: 'createBatches'; workerTemplate: string; batchIds: string[]; totalItems: number };

/** The batch outcome a stored result carries, if any. */
export function storedBatchOutcome(stored: unknown): StoredBatchOutcome | undefined {
  if (!isEnvelope(stored)) return undefined;
  const outcome = stored.batch_processing_outcome as
    | { type?: unknown; worker_template_name?: unknown; cursor_configs?: unknown; total_items?: unknown }
    | undefined;
  if (typeof outcome !== 'object' || outcome === null) return undefined;
  if (outcome.type === 'no_batches') return { type: 'noBatches' };
  if (outcome.type !== 'create_batches' || typeof outcome.worker_template_name !== 'string') return undefined;
  const cursors = Array.isArray(outcome.cursor_configs) ? (outcome.cursor_configs as Array<{ batch_id?: unknown }>) : [];
  return {
    type: 'createBatches',
    workerTemplate: outcome.worker_template_name,
    batchIds: cursors.map((c) => c?.batch_id).filter((id): id is string => typeof id === 'string'),
    totalItems: typeof outcome.total_items === 'number' ? outcome.total_items : 0,
  };
}
