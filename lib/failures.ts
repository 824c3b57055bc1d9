/**
 * How a handler fails: `RetryableError` (optionally with a backoff) asks for
 * a retry, `PermanentError` ends the step in error; any other exception
 * counts as retryable. A thrown non-Error still gives a meaningful message.
 */
import type { BackoffKind, StepCompletion } from '../index';

export interface FailureOptions {
  /** A stable code for the failure, e.g. PAYMENT_DECLINED. */
  errorCode?: string;
  context?: Record<string, unknown>;
  /** HTTP status when the failure came from an HTTP call. */
  statusCode?: number;
  cause?: unknown;
}

export interface RetryableErrorOptions extends FailureOptions {
  /** Ask the orchestration to wait this long before the retry. */
  backoffSeconds?: number;
  /** Why it should wait (default `custom`). */
  backoffKind?: BackoffKind;
}

/** Throw to have the step retried (while attempts remain), optionally after a delay. */
export class RetryableError extends Error {
  readonly retryable = true;
  constructor(
    message: string,
    readonly options: RetryableErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'RetryableError';
  }
}

/** Throw to end the step in error: it is never retried. */
export class PermanentError extends Error {
  readonly retryable = false;
  constructor(
    message: string,
    readonly options: FailureOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'PermanentError';
  }
}

/**
 * The reason `ctx.signal` aborts with when the step's task was cancelled
 * while its handler ran: stop, nothing the handler returns is sent.
 */
export class StepCancelledError extends Error {
  readonly code = 'STEP_CANCELLED';
  constructor(message = 'the task was cancelled') {
    super(message);
    this.name = 'StepCancelledError';
  }
}

function stackLines(error: Error): string[] | undefined {
  return error.stack?.split('\n').slice(1, 20).map((l) => l.trim());
}

/**
 * A thrown non-Error as an Error with a meaningful message: a string is the
 * message; anything else is summarised with its type (`undefined`, `null`,
 * `number 42`, `object {"code":7}`, `Map`, ...).
 */
export function thrownToError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  if (typeof thrown === 'string') return new Error(thrown || 'an empty string was thrown');
  if (thrown === undefined || thrown === null) return new Error(`${thrown} was thrown`);
  let summary: string;
  try {
    const json = JSON.stringify(thrown);
    const kind = typeof thrown === 'object' ? (thrown as object).constructor?.name || 'object' : typeof thrown;
    summary = json === undefined ? String(thrown) : `${kind} ${json.length > 500 ? `${json.slice(0, 500)}…` : json}`;
  } catch {
    summary = Object.prototype.toString.call(thrown);
  }
  const error = new Error(`a non-Error was thrown: ${summary}`, { cause: thrown });
  error.name = 'NonErrorThrown';
  return error;
}

/** The completion for a thrown value: PermanentError → permanent, anything else → retryable. */
export function failureCompletion(thrown: unknown): StepCompletion {
  const error = thrownToError(thrown);
  const options: FailureOptions = (error as RetryableError | PermanentError).options ?? {};
  const permanent = error instanceof PermanentError;
  const completion: StepCompletion = {
    outcome: permanent ? 'permanent_failure' : 'retryable_failure',
    error: {
      message: error.message || error.name || 'handler failed',
      errorType: error.name,
      errorCode: options.errorCode,
      backtrace: stackLines(error),
      statusCode: options.statusCode,
      context: options.context,
    },
  };
  if (error instanceof RetryableError && error.options.backoffSeconds !== undefined) {
    completion.backoff = { delaySeconds: error.options.backoffSeconds, kind: error.options.backoffKind ?? 'custom' };
  }
  return completion;
}
