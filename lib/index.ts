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
export type { EventName, EventPayloads, DeliveryMetrics, TaskerEventEmitterOptions } from './events';
export { EventPoller } from './poller';
export type { EventPollerOptions } from './poller';
export { PushDelivery } from './push';
export type { PushDeliveryOptions } from './push';
export type { StepEventSource, DeliveryCallbacks } from './delivery';
export { Worker } from './worker';
export { TaskerClient, TaskerClientError, SETTLED_TASK_STATES } from './client';
export type { WaitForTaskOptions } from './client';
export type { WorkerOptions, WorkerStopSummary, DomainEventStats } from './worker';
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
  batches,
  checkpoint,
  RetryableError,
  PermanentError,
  createStepContext,
  failureCompletion,
  isStepResult,
} from './handler';
export type {
  StepContext,
  StepHandler,
  StepHandlerClass,
  StepHandlerFunction,
  StepHandlerInstance,
  StepLogger,
  StepResult,
  FailureOptions,
  SuccessOptions,
} from './handler';
export type {
  WorkerConfig,
  DispatchTuning,
  StepEvent,
  TaskInfo,
  WorkflowStepInfo,
  StepDefinitionInfo,
  DependencyResult,
  RetryPolicy,
  StepCompletion,
  StepOutcome,
  StepFailure,
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
} from '../index';
