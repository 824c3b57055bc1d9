/**
 * @tasker-systems/worker: TypeScript step handlers as a tasker-core worker,
 * in Node.js, Bun and Deno, on the native Rust worker foundation.
 */
export { detectRuntime, isRuntimeSupported, assertSupportedRuntime, SUPPORTED_RUNTIMES } from './runtime-detection';
export type { RuntimeName } from './runtime-detection';
export { FfiError, FfiLibraryError, FfiCallError } from './errors';
export { getTaskerRuntime, resetTaskerRuntime, NativeTaskerRuntime } from './runtime';
export type { TaskerRuntime, LogFields, StepEventSubscriptionHandle } from './runtime';
export { loadNative, platformTriple } from './native';
export type { LoadOptions, NativeBinding } from './native';
export { TaskerEventEmitter, EventNames } from './events';
export type { EventName, EventPayloads, Listener, DeliveryMetrics, TaskerEventEmitterOptions } from './events';
export { EventPoller } from './poller';
export type { EventPollerOptions } from './poller';
export { PushDelivery } from './push';
export type { PushDeliveryOptions } from './push';
export type { StepEventSource, DeliveryCallbacks } from './delivery';
export { Worker } from './worker';
export { TaskerClient, TaskerClientError, SETTLED_TASK_STATES } from './client';
export type { WaitForTaskOptions } from './client';
export type { WorkerOptions, WorkerStopSummary, DomainEventStats, StepLogLevel } from './worker';
export { DomainEventListeners } from './domain-events';
export type {
  DomainEvent,
  DomainEventListener,
  DomainEventListenerOptions,
  DomainEventListenerStats,
  DomainEventPublisherFn,
  PublisherContext,
} from './domain-events';
export {
  success,
  decision,
  noBranches,
  batches,
  noBatches,
  batchRanges,
  checkpoint,
  isStepResult,
} from './results';
export type {
  StepResult,
  StepResultKind,
  SuccessResult,
  DecisionResult,
  BatchesResult,
  CheckpointResult,
  SuccessOptions,
  BatchRange,
  BatchesOptions,
  BatchRangesOptions,
} from './results';
export { RetryableError, PermanentError, StepCancelledError, failureCompletion } from './failures';
export type { FailureOptions, RetryableErrorOptions } from './failures';
export { createStepContext, storedResult } from './handler';
export type {
  StepContext,
  DependencyMatch,
  StepHandler,
  StepHandlerClass,
  StepHandlerFunction,
  StepHandlerInstance,
  StepLogger,
} from './handler';
export { collectBatchResults } from './batch';
export type { BatchContext, Checkpoint, BatchFailureStrategy, BatchResults, BatchWorkerResult, BatchWorkerFailure } from './batch';
export { defineHandler, defineDecisionHandler, defineBatchAnalyzer, defineBatchWorker } from './define';
export type { Handler, DecisionHandler, BatchAnalyzer, BatchWorker, BatchWorkerContext, BatchWorkerOptions, Requirements } from './define';
export { defineApiHandler, classifyHttpStatus, retryAfterSeconds } from './api';
export type { ApiHandlerOptions, ApiClient, ApiCall, ApiRequestInit } from './api';
export { ExplicitMappingResolver, ModuleResolver, handlerClass, isHandlerClass } from './resolvers';
export type { HandlerResolver, HandlerModules, HandlerSource, ModuleResolverOptions } from './resolvers';
export { HandlerValidationError } from './validation';
export type { MissingHandler, ValidationNote, ValidationReport } from './validation';
export type {
  WorkerConfig,
  DispatchTuning,
  RecoveryOptions,
  StepEvent,
  TaskInfo,
  WorkflowStepInfo,
  StepDefinitionInfo,
  DependencyResult,
  RetryPolicy,
  StepCompletion,
  StepOutcome,
  StepFailure,
  BackoffKind,
  DispatchMetrics,
  WorkerStatus,
  BootstrapResult,
  StopResult,
  ClientOptions,
  CreateTaskRequest,
  ListTasksQuery,
  TaskRecord,
  TaskPage,
  Pagination,
  StepReadiness,
  StepRecord,
  StepAudit,
  StepResolution,
  TemplateList,
  TemplateDetail,
  TemplateSummary,
  TemplateStepDetail,
  NamespaceSummary,
  HealthStatus,
  DlqEntry,
  DlqStats,
  DlqQuery,
  DlqUpdate,
  DomainEventInfo,
  DomainEventMetadata,
  DomainEventOptions,
  DomainEventSubscription,
  TemplateInfo,
  TemplateStepInfo,
  HealthReport,
} from '../index';
