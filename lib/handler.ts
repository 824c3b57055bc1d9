/**
 * What step handlers see and return: a typed context built from the step
 * event, and results whose retry classification cannot be confused.
 *
 * A handler returns a plain value (success), or `success(...)`, `decision(...)`,
 * `batches(...)`, `checkpoint(...)`; it fails by throwing. `RetryableError`
 * (optionally with a backoff) asks for a retry, `PermanentError` ends the step
 * in error; any other exception counts as retryable.
 */
import type { BatchCursor, StepCompletion, StepEvent } from '../index';
import type { LogFields } from './runtime';

export interface StepLogger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  trace(message: string, fields?: LogFields): void;
}

export interface StepContext {
  /** The whole step event as delivered. */
  readonly event: StepEvent;
  readonly taskUuid: string;
  readonly stepUuid: string;
  readonly stepName: string;
  /** The template's handler callable this step was routed by. */
  readonly handlerName: string;
  /** The context the task was created with. */
  readonly taskContext: Record<string, unknown>;
  readonly inputs: Record<string, unknown>;
  /** `handler.initialization` of the step in its template. */
  readonly stepConfig: Record<string, unknown>;
  /** Attempts made before this one (0 on the first run). */
  readonly retryCount: number;
  readonly maxAttempts: number;
  /** Saved by an earlier `checkpoint(...)` result, if any. */
  readonly checkpoint: unknown;
  readonly traceId?: string;
  readonly spanId?: string;
  /** Fires when the step times out or the worker shuts down before the handler finishes. */
  readonly signal: AbortSignal;
  readonly logger: StepLogger;
  /** The result of a dependency (what its handler returned), by step name. */
  dependencyResult<T = unknown>(stepName: string): T | undefined;
  readonly dependencyResults: Record<string, unknown>;
}

export type StepHandlerFunction = (context: StepContext) => unknown;

/** A handler object: its `call` (or the template's `handler.method`) is invoked with the context. */
export interface StepHandlerInstance {
  call?(context: StepContext): unknown;
}
/** A handler class: constructed once per callable with the step's initialization. */
export type StepHandlerClass = new (initialization: Record<string, unknown>) => object;
export type StepHandler = StepHandlerFunction | StepHandlerClass | StepHandlerInstance;

const RESULT = Symbol.for('tasker.worker.stepResult');

/** A result built with the helpers below (anything else a handler returns is a plain success). */
export interface StepResult {
  readonly [RESULT]: true;
  readonly completion?: Omit<StepCompletion, 'executionTimeMs'>;
  readonly checkpoint?: { cursor: unknown; itemsProcessed: number; accumulatedResults?: unknown };
}

export function isStepResult(value: unknown): value is StepResult {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[RESULT] === true;
}

export interface SuccessOptions {
  /** Custom metadata stored with the result. */
  metadata?: Record<string, unknown>;
}

/** A successful result with metadata. */
export function success(result: unknown = {}, options: SuccessOptions = {}): StepResult {
  return { [RESULT]: true, completion: { outcome: 'success', result, metadata: options.metadata } };
}

/** Decision step: create these declared steps (none for no branches). */
export function decision(createSteps: string[], result: Record<string, unknown> = {}, options: SuccessOptions = {}): StepResult {
  return { [RESULT]: true, completion: { outcome: 'success', result, decision: { createSteps }, metadata: options.metadata } };
}

/** Batchable step: create one batch worker (from `workerTemplateName`) per cursor. */
export function batches(
  workerTemplateName: string,
  cursors: BatchCursor[],
  totalItems: number,
  result: Record<string, unknown> = {},
): StepResult {
  return {
    [RESULT]: true,
    completion: { outcome: 'success', result, batch: { workerTemplateName, cursors, totalItems } },
  };
}

/** Batch handler: save progress and run the step again from `cursor`. */
export function checkpoint(cursor: unknown, itemsProcessed: number, accumulatedResults?: unknown): StepResult {
  return { [RESULT]: true, checkpoint: { cursor, itemsProcessed, accumulatedResults } };
}

export interface FailureOptions {
  /** A stable code for the failure, e.g. PAYMENT_DECLINED. */
  errorCode?: string;
  context?: Record<string, unknown>;
  /** HTTP status when the failure came from an HTTP call. */
  statusCode?: number;
  cause?: unknown;
}

/** Throw to have the step retried (while attempts remain), optionally after a delay. */
export class RetryableError extends Error {
  readonly retryable = true;
  constructor(
    message: string,
    readonly options: FailureOptions & { backoffSeconds?: number; backoffKind?: 'server_requested' | 'rate_limit' | 'service_unavailable' | 'custom' } = {},
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

const asRecord = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/**
 * What a handler returned, from a stored result: a result that carried a
 * decision or batch outcome is stored in an envelope beside it (the addon's
 * `tasker-worker-js/1`), and dependents see only the handler's own result.
 */
export function storedResult(stored: unknown): unknown {
  const envelope = stored as { result_envelope?: unknown; result?: unknown } | null;
  return typeof envelope === 'object' && envelope !== null && envelope.result_envelope === 'tasker-worker-js/1'
    ? envelope.result
    : stored;
}

/** Builds the handler's view of a step event. */
export function createStepContext(event: StepEvent, signal: AbortSignal, logger: StepLogger): StepContext {
  const dependencyResults = Object.fromEntries(
    Object.entries(event.dependencyResults).map(([name, dep]) => [name, storedResult(dep.result)]),
  );
  return {
    event,
    taskUuid: event.taskUuid,
    stepUuid: event.stepUuid,
    stepName: event.workflowStep.name,
    handlerName: event.stepDefinition.handlerCallable,
    taskContext: asRecord(event.task.context),
    inputs: asRecord(event.workflowStep.inputs),
    stepConfig: event.stepDefinition.handlerInitialization,
    retryCount: event.workflowStep.attempts,
    maxAttempts: event.workflowStep.maxAttempts,
    checkpoint: event.workflowStep.checkpoint ?? undefined,
    traceId: event.traceId,
    spanId: event.spanId,
    signal,
    logger,
    dependencyResults,
    dependencyResult: <T>(name: string) => dependencyResults[name] as T | undefined,
  };
}
