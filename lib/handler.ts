/**
 * What step handlers see: a typed context built from the step event, and
 * the shapes a handler may take (a function, a class, an object with
 * methods). Results are built with the helpers of ./results; failures are
 * thrown (./failures).
 */
import type { StepEvent } from '../index';
import { parseBatchContext, parseCheckpoint, userInputs, type BatchContext, type Checkpoint } from './batch';
import { storedResult } from './envelope';
import { PermanentError } from './failures';
import type { LogFields } from './runtime';

export { RetryableError, PermanentError, StepCancelledError, thrownToError, failureCompletion } from './failures';
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
  /**
   * Fires when the step times out, the worker shuts down before the handler
   * finishes, or the task is cancelled (reason: a StepCancelledError; then
   * nothing the handler returns is sent).
   */
  readonly signal: AbortSignal;
  readonly logger: StepLogger;
  /** The result of a dependency (what its handler returned), by step name. */
  dependencyResult<K extends keyof TDeps & string>(stepName: K): TDeps[K] | undefined;
  dependencyResult<T = unknown>(stepName: string): T | undefined;
  /** Every dependency's result by step name (also the transitive ones). */
  readonly dependencyResults: Readonly<Partial<TDeps>> & Readonly<Record<string, unknown>>;
  /** Results of the dependencies whose name starts with `prefix` (or matches it), sorted by name: fan-in. */
  dependencyResultsMatching<T = unknown>(prefix: string | RegExp): DependencyMatch<T>[];
  /**
   * The result of a dependency that must be there: when it is missing (or
   * null), the step fails as a permanent error (`MISSING_DEPENDENCY`) that
   * names it and the dependencies the step has.
   */
  requireDependency<K extends keyof TDeps & string>(stepName: K): NonNullable<TDeps[K]>;
  requireDependency<T = unknown>(stepName: string): NonNullable<T>;
  /**
   * A field of the task context that must be there (what tasker-core's DSL
   * calls an input): when it is missing (or null), the step fails as a
   * permanent error (`MISSING_INPUT`) that names it.
   */
  requireInput<K extends keyof TContext & string>(name: K): NonNullable<TContext[K]>;
  requireInput<T = unknown>(name: string): NonNullable<T>;
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

const listed = (names: string[]) => (names.length > 0 ? names.map((n) => `'${n}'`).join(', ') : 'none');

/** Dependency step names and task context fields that are absent (or null) in `ctx`. */
export function missingRequirements(
  ctx: Pick<StepContext, 'dependencyResults' | 'taskContext'>,
  { dependencies = [], inputs = [] }: { dependencies?: readonly string[]; inputs?: readonly string[] },
): { dependencies: string[]; inputs: string[] } {
  const context = ctx.taskContext as Record<string, unknown>;
  return {
    dependencies: dependencies.filter((name) => ctx.dependencyResults[name] == null),
    inputs: inputs.filter((name) => context[name] == null),
  };
}

/** The permanent error for missing requirements, naming each and what the step has instead. */
export function missingRequirementError(
  ctx: Pick<StepContext, 'stepName' | 'dependencyResults' | 'taskContext'>,
  missing: { dependencies: string[]; inputs: string[] },
): PermanentError {
  const parts: string[] = [];
  if (missing.dependencies.length > 0) {
    const present = Object.keys(ctx.dependencyResults)
      .filter((n) => ctx.dependencyResults[n] != null)
      .sort();
    parts.push(`dependency result ${listed(missing.dependencies)} (results present: ${listed(present)})`);
  }
  if (missing.inputs.length > 0) {
    const present = Object.keys(ctx.taskContext as Record<string, unknown>);
    parts.push(`task context field ${listed(missing.inputs)} (the task context has: ${listed(present)})`);
  }
  const code = missing.dependencies.length > 0 ? 'MISSING_DEPENDENCY' : 'MISSING_INPUT';
  return new PermanentError(`step '${ctx.stepName}' requires ${parts.join(' and ')}, which is missing`, { errorCode: code });
}

/** Each dependency's result as its handler returned it (a loop: Node's entries/map/fromEntries cost ~4 µs a step). */
function handlerResults(stored: StepEvent['dependencyResults']): Record<string, unknown> {
  const results: Record<string, unknown> = {};
  for (const name of Object.keys(stored)) {
    const value = storedResult(stored[name].result);
    // A step named __proto__ stays a key, as fromEntries made it.
    if (name === '__proto__') Object.defineProperty(results, name, { value, enumerable: true, writable: true, configurable: true });
    else results[name] = value;
  }
  return results;
}

/**
 * The context's helpers, as arrow functions a handler may destructure. They
 * are made here, in an object literal, not in the context's constructor: V8
 * kept closures made in the constructor alive through young-generation
 * collections (4.9–9.7 MB promoted per 3000 steps against 0.84 MB).
 */
function contextHelpers(ctx: StepContext, dependencyResults: Record<string, unknown>, taskContext: Record<string, unknown>) {
  return {
    dependencyResult: <T>(name: string) => dependencyResults[name] as T | undefined,
    dependencyResultsMatching: <T>(pattern: string | RegExp): DependencyMatch<T>[] => {
      if (typeof pattern !== 'string' && !(pattern instanceof RegExp)) {
        throw new TypeError('dependencyResultsMatching: give a step name prefix (string) or a RegExp');
      }
      const matches = (name: string) => (typeof pattern === 'string' ? name.startsWith(pattern) : new RegExp(pattern.source, pattern.flags.replace('g', '')).test(name));
      return Object.keys(dependencyResults)
        .filter(matches)
        .sort()
        .map((stepName) => ({ stepName, result: dependencyResults[stepName] as T }));
    },
    requireDependency: <T>(name: string): NonNullable<T> => {
      const value = dependencyResults[name];
      if (value == null) throw missingRequirementError(ctx, { dependencies: [name], inputs: [] });
      return value as NonNullable<T>;
    },
    requireInput: <T>(name: string): NonNullable<T> => {
      const value = taskContext[name];
      if (value == null) throw missingRequirementError(ctx, { dependencies: [], inputs: [name] });
      return value as NonNullable<T>;
    },
  };
}

/**
 * The handler's view of a step event. Its fields are set in the constructor,
 * in one order, so every context shares one shape: copying them onto an
 * instance (`Object.assign`) cost Bun 1.2 µs a context against 0.06 µs.
 * `signal` is a getter of the prototype, read when the handler asks for it:
 * a getter of each context's own would give each an accessor pair, which V8
 * keeps in the old generation; it held the step's whole event through
 * every young-generation collection until a full one, and Node promoted ~3 KB
 * a step (BENCHMARKS.md, "The Worker's tail in Node"). The helpers are arrow
 * functions, so a handler may destructure them.
 */
class HandlerContext implements StepContext {
  readonly #signal: AbortSignal | (() => AbortSignal);
  declare readonly event: StepEvent;
  declare readonly taskUuid: string;
  declare readonly stepUuid: string;
  declare readonly stepName: string;
  declare readonly templateStepName: string;
  declare readonly stepType: string;
  declare readonly handlerName: string;
  declare readonly handlerMethod: string;
  declare readonly taskContext: Record<string, unknown>;
  declare readonly inputs: Record<string, unknown>;
  declare readonly stepConfig: Record<string, unknown>;
  declare readonly retryCount: number;
  declare readonly maxAttempts: number;
  declare readonly checkpoint: Checkpoint | undefined;
  declare readonly batch: BatchContext | undefined;
  declare readonly traceId?: string;
  declare readonly spanId?: string;
  declare readonly logger: StepLogger;
  declare readonly dependencyResults: Record<string, unknown>;
  declare readonly dependencyResult: StepContext['dependencyResult'];
  declare readonly dependencyResultsMatching: StepContext['dependencyResultsMatching'];
  declare readonly requireDependency: StepContext['requireDependency'];
  declare readonly requireInput: StepContext['requireInput'];

  constructor(event: StepEvent, signal: AbortSignal | (() => AbortSignal), logger: StepLogger) {
    this.#signal = signal;
    const dependencyResults = handlerResults(event.dependencyResults);
    const step = event.workflowStep;
    const definition = event.stepDefinition;
    const checkpoint = parseCheckpoint(step.checkpoint);
    const templateStepName = step.templateStepName ?? definition.name;
    const batch = parseBatchContext(step.inputs, checkpoint, templateStepName);
    const taskContext = asRecord(event.task.context);
    this.event = event;
    this.taskUuid = event.taskUuid;
    this.stepUuid = event.stepUuid;
    this.stepName = step.name;
    this.templateStepName = templateStepName;
    this.stepType = definition.stepType ?? 'standard';
    this.handlerName = definition.handlerCallable;
    this.handlerMethod = definition.handlerMethod || 'call';
    this.taskContext = taskContext;
    this.inputs = userInputs(asRecord(step.inputs), batch);
    this.stepConfig = definition.handlerInitialization ?? {};
    this.retryCount = step.attempts;
    this.maxAttempts = step.maxAttempts;
    this.checkpoint = checkpoint;
    this.batch = batch;
    this.traceId = event.traceId;
    this.spanId = event.spanId;
    this.logger = logger;
    this.dependencyResults = dependencyResults;
    const helpers = contextHelpers(this, dependencyResults, taskContext);
    this.dependencyResult = helpers.dependencyResult;
    this.dependencyResultsMatching = helpers.dependencyResultsMatching;
    this.requireDependency = helpers.requireDependency;
    this.requireInput = helpers.requireInput;
  }

  get signal(): AbortSignal {
    const signal = this.#signal;
    return typeof signal === 'function' ? signal() : signal;
  }
}

/**
 * Builds the handler's view of a step event. `signal` may be a function that
 * makes it: the Worker passes one, so a step whose handler never reads
 * `context.signal` does not pay for creating an AbortSignal.
 */
export function createStepContext(event: StepEvent, signal: AbortSignal | (() => AbortSignal), logger: StepLogger): StepContext {
  return new HandlerContext(event, signal, logger);
}
