//! What the client's calls answer, in camelCase. Each type reads the
//! orchestration's snake_case JSON (REST, or tasker's types serialized, for
//! gRPC) and crosses to JS through V8's JSON.parse, like step events. Fields
//! that hold user data (a task's `context`, a step's `results`) pass as is.

use napi_derive::napi;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Implements the conversion to JS through JSON for a serializable type.
macro_rules! to_js_via_json {
    ($($ty:ty),*) => {$(
        impl napi::bindgen_prelude::ToNapiValue for $ty {
            unsafe fn to_napi_value(env: napi::sys::napi_env, value: Self) -> napi::Result<napi::sys::napi_value> {
                crate::conversions::json::to_js(env, &value)
            }
        }
    )*};
}

/// A task as the orchestration reports it.
#[napi(object, object_to_js = false)]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct TaskRecord {
    pub task_uuid: String,
    pub name: String,
    pub namespace: String,
    pub version: String,
    /// The task's state, e.g. `pending`, `steps_in_process`, `complete`,
    /// `blocked_by_failures`, `cancelled`; in a `listTasks` page only
    /// `completed` or `pending` (tasker lists whether the task has finished).
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    /// The context the task was created with.
    #[serde(default)]
    pub context: Value,
    pub initiator: String,
    pub source_system: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    pub correlation_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_correlation_id: Option<String>,
    pub total_steps: i64,
    pub pending_steps: i64,
    pub in_progress_steps: i64,
    pub completed_steps: i64,
    pub failed_steps: i64,
    pub ready_steps: i64,
    pub execution_status: String,
    pub recommended_action: String,
    pub completion_percentage: f64,
    pub health_status: String,
    #[serde(default)]
    pub steps: Vec<StepReadiness>,
}

/// Where a step of a task stands.
#[napi(object)]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct StepReadiness {
    pub workflow_step_uuid: String,
    pub name: String,
    pub current_state: String,
    pub dependencies_satisfied: bool,
    pub retry_eligible: bool,
    pub ready_for_execution: bool,
    pub attempts: i32,
    pub max_attempts: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_retry_at: Option<String>,
}

/// A page of tasks.
#[napi(object, object_to_js = false)]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct TaskPage {
    pub tasks: Vec<TaskRecord>,
    pub pagination: Pagination,
}

#[napi(object)]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct Pagination {
    pub page: u32,
    pub per_page: u32,
    pub total_count: f64,
    pub total_pages: u32,
    pub has_next: bool,
    pub has_previous: bool,
}

/// A workflow step.
#[napi(object, object_to_js = false)]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct StepRecord {
    pub step_uuid: String,
    pub task_uuid: String,
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    /// The stored result (what the handler returned, with tasker's metadata).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<Value>,
    pub current_state: String,
    pub dependencies_satisfied: bool,
    pub retry_eligible: bool,
    pub ready_for_execution: bool,
    pub total_parents: i32,
    pub completed_parents: i32,
    pub attempts: i32,
    pub max_attempts: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_retry_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_at: Option<String>,
}

/// One stored result of a step (its audit trail).
#[napi(object, object_to_js = false)]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct StepAudit {
    pub audit_uuid: String,
    pub workflow_step_uuid: String,
    pub transition_uuid: String,
    pub task_uuid: String,
    pub recorded_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_uuid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_time_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    pub step_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_state: Option<String>,
    pub to_state: String,
}

/// Templates registered with the orchestration.
#[napi(object, object_to_js = false)]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct TemplateList {
    pub namespaces: Vec<NamespaceSummary>,
    pub templates: Vec<TemplateSummary>,
    pub total_count: u32,
}

#[napi(object)]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct NamespaceSummary {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub template_count: u32,
}

#[napi(object)]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct TemplateSummary {
    pub name: String,
    pub namespace: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub step_count: u32,
}

/// A template with its steps.
#[napi(object, object_to_js = false)]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct TemplateDetail {
    pub name: String,
    pub namespace: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<Value>,
    pub steps: Vec<TemplateStepDetail>,
}

#[napi(object)]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct TemplateStepDetail {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub default_retryable: bool,
    pub default_max_attempts: i32,
}

/// A task in the dead letter queue.
#[napi(object, object_to_js = false)]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct DlqEntry {
    pub dlq_entry_uuid: String,
    pub task_uuid: String,
    pub original_state: String,
    /// Why it is there: `staleness_timeout`, `max_retries_exceeded`,
    /// `worker_unavailable`, `dependency_cycle_detected` or `manual_dlq`.
    #[serde(deserialize_with = "snake_case_name")]
    pub dlq_reason: String,
    pub dlq_timestamp: String,
    /// `pending`, `manually_resolved`, `permanently_failed` or `cancelled`.
    #[serde(deserialize_with = "snake_case_name")]
    pub resolution_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution_notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<String>,
    /// The task as it was when it entered the queue.
    #[serde(default)]
    pub task_snapshot: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

/// Dead letter queue counts by reason.
#[napi(object, object_to_js = false)]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct DlqStats {
    #[serde(deserialize_with = "snake_case_name")]
    pub dlq_reason: String,
    pub total_entries: i64,
    pub pending: i64,
    pub manually_resolved: i64,
    pub permanent_failures: i64,
    pub cancelled: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_entry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest_entry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avg_resolution_time_minutes: Option<f64>,
}

/// Health of the orchestration (or a worker's web API).
#[napi(object)]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct HealthStatus {
    /// `healthy`, `ready`, `alive`, `degraded`, `unhealthy`, ...
    pub status: String,
    #[serde(default)]
    pub timestamp: String,
}

to_js_via_json!(TaskRecord, TaskPage, StepRecord, StepAudit, TemplateList, TemplateDetail, DlqEntry, DlqStats);

/// tasker's API names DLQ reasons and statuses in PascalCase
/// (`ManuallyResolved`); the client speaks snake_case, as its inputs do.
fn snake_case_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(snake_case(&String::deserialize(d)?))
}

pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// JSON whose keys are turned to camelCase, for the answers with no fixed
/// type here (detailed health, a task's summary, DLQ queues, worker and
/// domain-event metrics): they hold no user data whose keys must be kept.
pub fn camel_case_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (camel(&k), camel_case_keys(v))).collect()),
        Value::Array(items) => Value::Array(items.into_iter().map(camel_case_keys).collect()),
        other => other,
    }
}

fn camel(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' && !out.is_empty() {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A JSON value for JS (`Record<string, unknown>` and such).
pub struct Json(pub Value);

impl napi::bindgen_prelude::ToNapiValue for Json {
    unsafe fn to_napi_value(env: napi::sys::napi_env, value: Self) -> napi::Result<napi::sys::napi_value> {
        crate::conversions::json::to_js(env, &value.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dlq_names_turn_snake_case() {
        assert_eq!(snake_case("ManuallyResolved"), "manually_resolved");
        assert_eq!(snake_case("StalenessTimeout"), "staleness_timeout");
        assert_eq!(snake_case("pending"), "pending");
    }

    #[test]
    fn keys_turn_camel_case_at_every_depth() {
        let v = camel_case_keys(json!({"total_count": 1, "by_reason": [{"dlq_reason": "x", "_private": 2}]}));
        assert_eq!(v, json!({"totalCount": 1, "byReason": [{"dlqReason": "x", "_private": 2}]}));
    }

    #[test]
    fn a_task_reads_the_orchestrations_json_and_keeps_its_context() {
        let text = r#"{"task_uuid":"t","name":"n","namespace":"ns","version":"1.0.0","status":"complete","created_at":"a","updated_at":"b","completed_at":null,"context":{"order_id":7,"snake_key":1},"initiator":"i","source_system":"s","reason":"r","priority":0,"tags":[],"correlation_id":"c","parent_correlation_id":null,"total_steps":3,"pending_steps":0,"in_progress_steps":0,"completed_steps":3,"failed_steps":0,"ready_steps":0,"execution_status":"all_complete","recommended_action":"finalize_task","completion_percentage":100,"health_status":"healthy","steps":[]}"#;
        let task: TaskRecord = serde_json::from_str(text).unwrap();
        let out = serde_json::to_value(&task).unwrap();
        assert_eq!(out["taskUuid"], "t");
        assert_eq!(out["context"]["snake_key"], 1, "user data keeps its keys");
        assert_eq!(out["completionPercentage"], 100.0);
    }
}
