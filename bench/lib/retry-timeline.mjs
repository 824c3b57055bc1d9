// What a step's transitions (tasker.workflow_step_transitions, in order) say
// about its retries. An attempt begins where the step enters `in_progress`;
// it has failed at the first transition after that into a failure state
// (the worker's `enqueued_as_error_for_orchestration`, or `error` /
// `waiting_for_retry` when the orchestration records it). The re-run gap is
// from that failure to the next attempt's start: what a backoff hint should
// govern. Pure, so it is unit-tested without a database.

const FAILED = new Set(['enqueued_as_error_for_orchestration', 'error', 'waiting_for_retry']);

/**
 * `transitions`: [{ state, atMs }] of one step, in the order they happened.
 * Returns { attempts, failures, rerunAfterFailureMs, attemptGapMs }.
 */
export function retryTimeline(transitions) {
  const starts = [];
  const failures = [];
  let open = false; // an attempt has begun and not yet failed
  for (const { state, atMs } of transitions) {
    if (state === 'in_progress') {
      starts.push(atMs);
      open = true;
    } else if (open && FAILED.has(state)) {
      failures.push(atMs);
      open = false;
    }
  }
  const rerunAfterFailureMs = [];
  for (const failedAt of failures) {
    const next = starts.find((t) => t > failedAt);
    if (next !== undefined) rerunAfterFailureMs.push(next - failedAt);
  }
  return {
    attempts: starts.length,
    failures: failures.length,
    rerunAfterFailureMs,
    attemptGapMs: starts.slice(1).map((t, i) => t - starts[i]),
  };
}
