/**
 * What step handlers see: a typed context built from the step event, and
 * the shapes a handler may take (a function, a class, an object with
 * methods). Results are built with the helpers of ./results; failures are
 * thrown (./failures).
 */
import type { StepEvent } from '../index';
import { parseBatchContext, parseCheckpoint, userInputs, type BatchContext, type Checkpoint } from './batch';
import { storedResult } from './envelope';
import type { LogFields } from './runtime';

export { RetryableError, PermanentError, thrownToError, failureCompletion } from './failures';
export type { FailureOptions, RetryableErrorOptions } from './failures';
export { storedResult } from './envelope';
export * from './results';

export interface StepLogger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  trace(message: string, fields?: LogFields): void;
}

/** A dependency's result found by `dependencyResultsMatching`. */
export interface DependencyMatch<T = unknown> {
  readonly stepName: string;
  readonly result: T;
}

/**
 * The handler's view of a step. `TContext` types the task context, `TDeps`
 * maps dependency step names to their results, `TConfig` types the
 * template's `handler.initialization`.
 */
export interface StepContext<TContext = Record<string, unknown>, TDeps extends object = Record<string, unknown>, TConfig = Record<string, unknown>> {
  /** The whole step event as delivered. */
  readonly event: StepEvent;
  readonly taskUuid: string;
  readonly stepUuid: string;
  /** This step's name (a batch worker's is `<workerTemplate>_<batchId>`). */
  readonly stepName: string;
  /** The template step this step comes from. */
  readonly templateStepName: string;
  /** The template step's type: standard, decision, batchable, batch_worker, deferred_convergence. */
  readonly stepType: string;
  /** The template's handler callable this step was routed by. */
  readonly handlerName: string;
  /** The method the template names (`call` when none). */
  readonly handlerMethod: string;
  /** The context the task was created with. */
  readonly taskContext: TContext;
  /** The step's inputs (for a batch worker: without tasker's batch record, which is `batch`). */
  readonly inputs: Record<string, unknown>;
  /** `handler.initialization` of the step in its template. */
  readonly stepConfig: TConfig;
  /** Attempts made before this one (0 on the first run). */
  readonly retryCount: number;
  readonly maxAttempts: number;
  /** Progress saved by an earlier `checkpoint(...)`, also after a retry. */
  readonly checkpoint: Checkpoint | undefined;
  /** A batch worker's slice of the work; undefined for other steps. */
  readonly batch: BatchContext | undefined;
  readonly traceId?: string;
  readonly spanId?: string;
  /** Fires when the step times out or the worker shuts down before the handler finishes. */
  readonly signal: AbortSignal;
  readonly logger: StepLogger;
  /** The result of a dependency (what its handler returned), by step name. */
  dependencyResult<K extends keyof TDeps & string>(stepName: K): TDeps[K] | undefined;
  dependencyResult<T = unknown>(stepName: string): T | undefined;
  /** Every dependency's result by step name (also the transitive ones). */
  readonly dependencyResults: Readonly<Partial<TDeps>> & Readonly<Record<string, unknown>>;
  /** Results of the dependencies whose name starts with `prefix` (or matches it), sorted by name: fan-in. */
  dependencyResultsMatching<T = unknown>(prefix: string | RegExp): DependencyMatch<T>[];
}

/** A function handler: `(context) => result`. */
export type StepHandlerFunction = (context: StepContext<any, any, any>) => unknown;
/**
 * A handler class: constructed with the step's `handler.initialization`
 * (once per callable and initialization); its `call`, or the template's
 * `handler.method`, is invoked with the context.
 */
export type StepHandlerClass = new (initialization: any) => object;
/** A handler object: its `call`, or the template's `handler.method`, is invoked with the context. */
export type StepHandlerInstance = object;
export type StepHandler = StepHandlerFunction | StepHandlerClass | StepHandlerInstance;

const asRecord = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/**
 * Builds the handler's view of a step event. `signal` may be a function that
 * makes it: the Worker passes one, so a step whose handler never reads
 * `context.signal` does not pay for creating an AbortSignal.
 */
export function createStepContext(event: StepEvent, signal: AbortSignal | (() => AbortSignal), logger: StepLogger): StepContext {
  const dependencyResults: Record<string, unknown> = Object.fromEntries(
    Object.entries(event.dependencyResults).map(([name, dep]) => [name, storedResult(dep.result)]),
  );
  const step = event.workflowStep;
  const definition = event.stepDefinition;
  const checkpoint = parseCheckpoint(step.checkpoint);
  const batch = parseBatchContext(step.inputs, checkpoint, step.templateStepName ?? definition.name);
  const dependencyResultsMatching = <T>(pattern: string | RegExp): DependencyMatch<T>[] => {
    if (typeof pattern !== 'string' && !(pattern instanceof RegExp)) {
      throw new TypeError('dependencyResultsMatching: give a step name prefix (string) or a RegExp');
    }
    const matches = (name: string) => (typeof pattern === 'string' ? name.startsWith(pattern) : new RegExp(pattern.source, pattern.flags.replace('g', '')).test(name));
    return Object.keys(dependencyResults)
      .filter(matches)
      .sort()
      .map((stepName) => ({ stepName, result: dependencyResults[stepName] as T }));
  };
  return {
    event,
    taskUuid: event.taskUuid,
    stepUuid: event.stepUuid,
    stepName: step.name,
    templateStepName: step.templateStepName ?? definition.name,
    stepType: definition.stepType ?? 'standard',
    handlerName: definition.handlerCallable,
    handlerMethod: definition.handlerMethod || 'call',
    taskContext: asRecord(event.task.context),
    inputs: userInputs(asRecord(step.inputs), batch),
    stepConfig: definition.handlerInitialization ?? {},
    retryCount: step.attempts,
    maxAttempts: step.maxAttempts,
    checkpoint,
    batch,
    traceId: event.traceId,
    spanId: event.spanId,
    get signal() {
      return typeof signal === 'function' ? signal() : signal;
    },
    logger,
    dependencyResults,
    dependencyResult: <T>(name: string) => dependencyResults[name] as T | undefined,
    dependencyResultsMatching,
  };
}
