//! Step events, Rust → JS: the whole hydrated step a handler needs.

use std::collections::HashMap;

use napi_derive::napi;
use serde_json::Value;
use tasker_shared::messaging::StepExecutionResult;
use tasker_shared::types::TaskSequenceStep;
use tasker_worker::worker::FfiStepEvent;

use super::iso;

/// One step to execute, delivered by `pollStepEvents` or a push subscription.
/// Complete it with `completeStepEvent(eventId, result)`.
#[napi(object, object_to_js = false)]
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepEvent {
    /// Identifies this delivery; pass it back when completing.
    pub event_id: String,
    pub task_uuid: String,
    pub step_uuid: String,
    /// Correlation id of the step message (for tracing).
    pub correlation_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    pub task: TaskInfo,
    pub workflow_step: WorkflowStepInfo,
    pub step_definition: StepDefinitionInfo,
    /// Results of the steps this one depends on, keyed by step name.
    pub dependency_results: HashMap<String, DependencyResult>,
}

// Converted through JSON.parse (see conversions::json for why).
impl napi::bindgen_prelude::ToNapiValue for StepEvent {
    unsafe fn to_napi_value(env: napi::sys::napi_env, value: Self) -> napi::Result<napi::sys::napi_value> {
        super::json::to_js(env, &value)
    }
}

/// Step events already in JSON form (one event, or an array for a batch):
/// push delivery serializes on the worker's runtime thread, so the JS thread
/// only parses, and the Rust copy of the event is freed where it was made.
pub struct EventJson(String);

impl EventJson {
    pub fn of<T: serde::Serialize>(events: &T) -> serde_json::Result<Self> {
        serde_json::to_string(events).map(Self)
    }

    /// Text already serialized (the benchmarks' floor reuses one event's JSON).
    #[cfg(feature = "bench")]
    pub fn from_text(text: String) -> Self {
        Self(text)
    }
}

impl napi::bindgen_prelude::ToNapiValue for EventJson {
    unsafe fn to_napi_value(env: napi::sys::napi_env, value: Self) -> napi::Result<napi::sys::napi_value> {
        super::json::text_to_js(env, &value.0)
    }
}

/// The task a step belongs to.
#[napi(object)]
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskInfo {
    pub task_uuid: String,
    pub named_task_uuid: String,
    pub name: String,
    pub namespace: String,
    pub version: String,
    /// The context the task was created with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
    pub correlation_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_correlation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initiator: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_system: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Value>,
    pub priority: i32,
    pub identity_hash: String,
    pub complete: bool,
    /// ISO 8601 timestamps (UTC).
    pub requested_at: String,
    pub created_at: String,
    pub updated_at: String,
}

/// The workflow step row as the worker claimed it.
#[napi(object)]
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowStepInfo {
    pub workflow_step_uuid: String,
    pub named_step_uuid: String,
    pub name: String,
    pub template_step_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Value>,
    /// Results of an earlier attempt, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub results: Option<Value>,
    /// How many attempts were made before this one.
    pub attempts: i32,
    pub max_attempts: i32,
    pub retryable: bool,
    pub in_process: bool,
    pub processed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff_request_seconds: Option<i32>,
    /// Data saved by an earlier `checkpointYieldStepEvent` (batch handlers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_attempted_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processed_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// The step as declared in its task template.
#[napi(object)]
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepDefinitionInfo {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Template step type: standard, decision, deferred_convergence, batchable, batch_worker.
    pub step_type: String,
    /// The handler key to resolve (`handler.callable` in the template).
    pub handler_callable: String,
    /// Method to invoke on the handler; `call` when the template names none.
    pub handler_method: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handler_resolver: Option<String>,
    /// `handler.initialization` from the template.
    pub handler_initialization: HashMap<String, Value>,
    pub dependencies: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_dependency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u32>,
    pub retry: RetryPolicy,
}

/// Retry policy of a step definition.
#[napi(object)]
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryPolicy {
    pub retryable: bool,
    pub max_attempts: u32,
    /// none, linear, exponential or fibonacci.
    pub backoff: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff_base_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_backoff_ms: Option<i64>,
}

/// The persisted result of a dependency.
#[napi(object)]
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DependencyResult {
    pub step_uuid: String,
    pub success: bool,
    pub status: String,
    /// What the dependency's handler returned.
    pub result: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_retryable: Option<bool>,
    pub metadata: HashMap<String, Value>,
}

pub(crate) fn serde_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s.to_ascii_lowercase(),
        _ => "unknown".to_string(),
    }
}

impl From<StepExecutionResult> for DependencyResult {
    fn from(r: StepExecutionResult) -> Self {
        let (error_message, error_type, error_retryable) = match r.error {
            Some(e) => (Some(e.message), e.error_type, Some(e.retryable)),
            None => (None, None, None),
        };
        Self {
            step_uuid: r.step_uuid.to_string(),
            success: r.success,
            status: r.status,
            result: r.result,
            error_message,
            error_type,
            error_retryable,
            metadata: r.metadata.custom,
        }
    }
}

/// Builds the JS view of a hydrated step, moving its parts: the event JS
/// takes is tasker's own copy (it keeps another), so nothing is copied again.
pub fn step_event_from_parts(
    event_id: String,
    correlation_id: String,
    trace_id: Option<String>,
    span_id: Option<String>,
    tss: TaskSequenceStep,
) -> StepEvent {
    let TaskSequenceStep { task: owner, workflow_step: step, dependency_results, step_definition: def } = tss;
    let task = owner.task;
    StepEvent {
        event_id,
        task_uuid: task.task_uuid.to_string(),
        step_uuid: step.workflow_step_uuid.to_string(),
        correlation_id,
        trace_id,
        span_id,
        task: TaskInfo {
            task_uuid: task.task_uuid.to_string(),
            named_task_uuid: task.named_task_uuid.to_string(),
            name: owner.task_name,
            namespace: owner.namespace_name,
            version: owner.task_version,
            context: task.context,
            correlation_id: task.correlation_id.to_string(),
            parent_correlation_id: task.parent_correlation_id.map(|u| u.to_string()),
            initiator: task.initiator,
            source_system: task.source_system,
            reason: task.reason,
            tags: task.tags,
            priority: task.priority,
            identity_hash: task.identity_hash,
            complete: task.complete,
            requested_at: iso(&task.requested_at),
            created_at: iso(&task.created_at),
            updated_at: iso(&task.updated_at),
        },
        workflow_step: WorkflowStepInfo {
            workflow_step_uuid: step.workflow_step_uuid.to_string(),
            named_step_uuid: step.named_step_uuid.to_string(),
            name: step.name,
            template_step_name: step.template_step_name,
            inputs: step.inputs,
            results: step.results,
            attempts: step.attempts.unwrap_or(0),
            max_attempts: step.max_attempts.unwrap_or(def.retry.max_attempts as i32),
            retryable: step.retryable,
            in_process: step.in_process,
            processed: step.processed,
            backoff_request_seconds: step.backoff_request_seconds,
            checkpoint: step.checkpoint,
            last_attempted_at: step.last_attempted_at.as_ref().map(iso),
            processed_at: step.processed_at.as_ref().map(iso),
            created_at: iso(&step.created_at),
            updated_at: iso(&step.updated_at),
        },
        step_definition: StepDefinitionInfo {
            name: def.name,
            description: def.description,
            step_type: serde_name(&def.step_type),
            handler_callable: def.handler.callable,
            handler_method: def.handler.method.unwrap_or_else(|| "call".to_string()),
            handler_resolver: def.handler.resolver,
            handler_initialization: def.handler.initialization,
            dependencies: def.dependencies,
            system_dependency: def.system_dependency,
            timeout_seconds: def.timeout_seconds,
            retry: RetryPolicy {
                retryable: def.retry.retryable,
                max_attempts: def.retry.max_attempts,
                backoff: serde_name(&def.retry.backoff),
                backoff_base_ms: def.retry.backoff_base_ms.map(|v| v as i64),
                max_backoff_ms: def.retry.max_backoff_ms.map(|v| v as i64),
            },
        },
        dependency_results: dependency_results.into_iter().map(|(name, result)| (name, DependencyResult::from(result))).collect(),
    }
}

impl From<FfiStepEvent> for StepEvent {
    fn from(event: FfiStepEvent) -> Self {
        step_event_from_parts(
            event.event_id.to_string(),
            event.correlation_id.to_string(),
            event.trace_id,
            event.span_id,
            event.execution_event.payload.task_sequence_step,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_the_whole_hydrated_step() {
        let tss = crate::fixtures::task_sequence_step();
        let ev = step_event_from_parts("e1".into(), "c1".into(), Some("t".into()), None, tss);
        assert_eq!(ev.event_id, "e1");
        assert_eq!(ev.step_uuid, "0190a3b2-0000-7000-8000-000000000004");
        assert_eq!(ev.task.name, "order_flow");
        assert_eq!(ev.task.namespace, "shop");
        assert_eq!(ev.task.version, "1.0.0");
        assert_eq!(ev.task.context.as_ref().unwrap()["order_id"], 42);
        assert_eq!(ev.task.requested_at, "2026-01-02T03:04:05.000006Z");
        assert_eq!(ev.task.tags.as_ref().unwrap()["team"], "core");
        assert_eq!(ev.workflow_step.attempts, 1);
        assert_eq!(ev.workflow_step.max_attempts, 3);
        assert_eq!(ev.workflow_step.inputs.as_ref().unwrap()["carrier"], "ups");
        assert_eq!(ev.step_definition.handler_callable, "shop.ship");
        assert_eq!(ev.step_definition.handler_method, "call");
        assert_eq!(ev.step_definition.step_type, "standard");
        assert_eq!(ev.step_definition.retry.backoff, "exponential");
        assert_eq!(ev.step_definition.retry.backoff_base_ms, Some(100));
        assert_eq!(ev.step_definition.timeout_seconds, Some(30));
        assert_eq!(ev.step_definition.handler_initialization["speed"], "fast");
        assert_eq!(ev.step_definition.dependencies, vec!["validate", "reserve"]);
        let validate = &ev.dependency_results["validate"];
        assert!(validate.success);
        assert_eq!(validate.result["total"], 1234.5);
        assert_eq!(validate.metadata["source"], "cache");
        assert_eq!(ev.trace_id.as_deref(), Some("t"));
    }
}
