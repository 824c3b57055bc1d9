//! Step results, JS → Rust.
//!
//! The JS shape makes the retry classification explicit: `outcome` is one of
//! `success`, `retryable_failure` or `permanent_failure`, and the bridge sets
//! every field the orchestration reads from it (`metadata.retryable` above
//! all, which decides between a retry and a permanent error).

use std::collections::HashMap;

use napi_derive::napi;
use serde_json::{json, Map, Value};
use tasker_shared::messaging::message::{BackoffHint, BackoffHintType, OrchestrationMetadata};
use tasker_shared::messaging::{StepExecutionError, StepExecutionResult};
use uuid::Uuid;

use super::json;
use crate::error::{BridgeError, BridgeResult};

/// How a step ended. The orchestration retries `retryable_failure` while
/// attempts remain and ends the step in error on `permanent_failure`.
#[napi(string_enum = "snake_case")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    Success,
    RetryableFailure,
    PermanentFailure,
}

/// What a handler produced, passed to `completeStepEvent`.
#[napi(object, object_from_js = false)]
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepCompletion {
    pub outcome: Option<StepOutcome>,
    /// The handler's result (success). Must be JSON-serializable; defaults to `{}`.
    pub result: Option<Value>,
    /// Why the step failed (required for failures, not allowed on success).
    pub error: Option<StepFailure>,
    /// Wall time of the handler in milliseconds.
    pub execution_time_ms: Option<f64>,
    /// Custom metadata stored with the result.
    pub metadata: Option<HashMap<String, Value>>,
    /// For decision steps: the steps to create (empty for no branches).
    pub decision: Option<DecisionOutcome>,
    /// For batchable steps: the batch workers to create.
    pub batch: Option<BatchOutcome>,
    /// Ask the orchestration to wait before retrying (failures only).
    pub backoff: Option<BackoffRequest>,
    /// Optional: the step the result is for. Checked against the event when given.
    pub step_uuid: Option<String>,
    /// Identifies the worker process in the result metadata.
    pub worker_hostname: Option<String>,
}

// Converted through JSON.stringify (see conversions::json for why).
impl napi::bindgen_prelude::FromNapiValue for StepCompletion {
    unsafe fn from_napi_value(env: napi::sys::napi_env, value: napi::sys::napi_value) -> napi::Result<Self> {
        // JSON.stringify would silently drop a function result; refuse it instead.
        json::check_serializable_property(env, value, c"result")?;
        json::from_js(env, value)
    }
}

impl napi::bindgen_prelude::ValidateNapiValue for StepCompletion {
    unsafe fn validate(env: napi::sys::napi_env, value: napi::sys::napi_value) -> napi::Result<napi::sys::napi_value> {
        json::validate_object(env, value)
    }
}

/// Error details of a failed step.
#[napi(object)]
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepFailure {
    pub message: String,
    /// A class or category, e.g. the JS error's name.
    pub error_type: Option<String>,
    /// A stable code for the failure, e.g. `PAYMENT_DECLINED`.
    pub error_code: Option<String>,
    /// Stack trace lines.
    pub backtrace: Option<Vec<String>>,
    /// HTTP status when the failure came from an HTTP call.
    pub status_code: Option<u32>,
    /// Extra structured context.
    pub context: Option<HashMap<String, Value>>,
}

/// Decision point outcome: which of the declared steps to create.
#[napi(object)]
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionOutcome {
    /// Names of steps to create; empty means no branches.
    pub create_steps: Vec<String>,
}

/// Batchable step outcome.
#[napi(object)]
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchOutcome {
    /// Template step (type batch_worker) to instantiate; omit for no batches.
    pub worker_template_name: Option<String>,
    /// One cursor per worker to create.
    pub cursors: Vec<BatchCursor>,
    pub total_items: f64,
}

/// The slice of work one batch worker processes.
#[napi(object)]
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchCursor {
    pub batch_id: String,
    pub start_cursor: Value,
    pub end_cursor: Value,
    pub batch_size: u32,
}

/// Why a retry should wait.
#[napi(string_enum = "snake_case")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackoffKind {
    ServerRequested,
    RateLimit,
    ServiceUnavailable,
    Custom,
}

/// A backoff hint for the orchestration.
#[napi(object)]
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackoffRequest {
    pub delay_seconds: u32,
    pub kind: Option<BackoffKind>,
    pub context: Option<String>,
}

/// Longest handler time a result may report: tasker subtracts it from the
/// current time, so an absurd value must never reach it.
pub const MAX_EXECUTION_TIME_MS: f64 = 7.0 * 24.0 * 3600.0 * 1000.0;
/// Longest backoff a failure may ask for (tasker stores it as 32-bit seconds).
pub const MAX_BACKOFF_SECONDS: u32 = 30 * 24 * 3600;
/// Largest count that survives a JS number exactly.
pub const MAX_SAFE_COUNT: f64 = 9_007_199_254_740_991.0;

fn ms(value: Option<f64>) -> BridgeResult<i64> {
    match value {
        None => Ok(0),
        Some(v) if v.is_finite() && (0.0..=MAX_EXECUTION_TIME_MS).contains(&v) => Ok(v.round() as i64),
        Some(v) => Err(BridgeError::invalid(
            "result.executionTimeMs",
            format!("{v} is not a number of milliseconds from 0 to {MAX_EXECUTION_TIME_MS} (7 days)"),
        )),
    }
}

/// Marks a stored result that carries a decision or batch outcome beside the
/// handler's own result (the JS side shows dependents only `result`).
pub const ENVELOPE: &str = "tasker-worker-js/1";

/// tasker's orchestration reads a decision or batch outcome from the stored
/// result object; the handler's result travels beside it, untouched, so it
/// may be any JSON value (a number, an array).
fn outcome_envelope(result: Value, decision: Option<Value>, batch: Option<Value>) -> Value {
    let mut envelope = Map::new();
    envelope.insert("result".into(), result);
    envelope.insert("result_envelope".into(), Value::String(ENVELOPE.into()));
    if let Some(decision) = decision {
        envelope.insert("decision_point_outcome".into(), decision);
    }
    if let Some(batch) = batch {
        envelope.insert("batch_processing_outcome".into(), batch);
    }
    Value::Object(envelope)
}

fn decision_value(decision: &DecisionOutcome) -> BridgeResult<Value> {
    for name in &decision.create_steps {
        if name.trim().is_empty() {
            return Err(BridgeError::invalid("result.decision.createSteps", "step names must not be empty"));
        }
    }
    Ok(if decision.create_steps.is_empty() {
        json!({"type": "no_branches"})
    } else {
        json!({"type": "create_steps", "step_names": decision.create_steps})
    })
}

fn batch_value(batch: &BatchOutcome) -> BridgeResult<Value> {
    let field = "result.batch";
    if !(batch.total_items.is_finite() && (0.0..=MAX_SAFE_COUNT).contains(&batch.total_items)) {
        return Err(BridgeError::invalid(&format!("{field}.totalItems"), "must be a whole number from 0 to 2^53 - 1"));
    }
    match &batch.worker_template_name {
        None if batch.cursors.is_empty() => Ok(json!({"type": "no_batches"})),
        None => Err(BridgeError::invalid(
            &format!("{field}.workerTemplateName"),
            "required when cursors are given",
        )),
        Some(name) if name.trim().is_empty() => Err(BridgeError::invalid(
            &format!("{field}.workerTemplateName"),
            "must not be empty",
        )),
        Some(name) => {
            if batch.cursors.is_empty() {
                return Err(BridgeError::invalid(&format!("{field}.cursors"), "give at least one cursor, or omit workerTemplateName for no batches"));
            }
            let cursors: Vec<Value> = batch
                .cursors
                .iter()
                .map(|c| {
                    json!({"batch_id": c.batch_id, "start_cursor": c.start_cursor,
                           "end_cursor": c.end_cursor, "batch_size": c.batch_size})
                })
                .collect();
            Ok(json!({
                "type": "create_batches",
                "worker_template_name": name,
                "worker_count": cursors.len(),
                "cursor_configs": cursors,
                "total_items": batch.total_items as u64,
            }))
        }
    }
}

fn backoff_metadata(backoff: &BackoffRequest) -> OrchestrationMetadata {
    let backoff_type = match backoff.kind.unwrap_or(BackoffKind::Custom) {
        BackoffKind::ServerRequested => BackoffHintType::ServerRequested,
        BackoffKind::RateLimit => BackoffHintType::RateLimit,
        BackoffKind::ServiceUnavailable => BackoffHintType::ServiceUnavailable,
        BackoffKind::Custom => BackoffHintType::Custom,
    };
    OrchestrationMetadata {
        // tasker-orchestration 0.1.8 schedules the retry from a Retry-After
        // header only (its backoff calculator reads no hint): without it a
        // requested delay was replaced by its own exponential one (2 s, 4 s, ...).
        headers: [("retry-after".to_string(), backoff.delay_seconds.to_string())].into(),
        backoff_hint: Some(BackoffHint {
            backoff_type,
            delay_seconds: backoff.delay_seconds,
            context: backoff.context.clone(),
        }),
        error_context: backoff.context.clone(),
        ..Default::default()
    }
}

/// Checks `completion` and turns it into tasker's result for `step_uuid`.
pub fn to_step_execution_result(
    mut completion: StepCompletion,
    step_uuid: Uuid,
) -> BridgeResult<StepExecutionResult> {
    if let Some(given) = &completion.step_uuid {
        let parsed = Uuid::parse_str(given)
            .map_err(|_| BridgeError::invalid("result.stepUuid", format!("'{given}' is not a UUID")))?;
        if parsed != step_uuid {
            return Err(BridgeError::invalid(
                "result.stepUuid",
                format!("{parsed} is not the step of this event ({step_uuid})"),
            ));
        }
    }
    let outcome = completion.outcome.ok_or_else(|| {
        BridgeError::invalid("result.outcome", "required: 'success', 'retryable_failure' or 'permanent_failure'")
    })?;
    let execution_time_ms = ms(completion.execution_time_ms)?;
    let custom = completion.metadata.clone().unwrap_or_default();

    let mut result = match outcome {
        StepOutcome::Success => {
            if completion.error.is_some() {
                return Err(BridgeError::invalid("result.error", "a successful result carries no error; use outcome 'retryable_failure' or 'permanent_failure'"));
            }
            if completion.backoff.is_some() {
                return Err(BridgeError::invalid("result.backoff", "only a failure can ask for a backoff"));
            }
            let value = completion.result.take().unwrap_or_else(|| Value::Object(Map::new()));
            let decision = completion.decision.as_ref().map(decision_value).transpose()?;
            let batch = completion.batch.as_ref().map(batch_value).transpose()?;
            let value = if decision.is_some() || batch.is_some() {
                outcome_envelope(value, decision, batch)
            } else {
                value
            };
            StepExecutionResult::success(step_uuid, value, execution_time_ms, Some(custom))
        }
        StepOutcome::RetryableFailure | StepOutcome::PermanentFailure => {
            let retryable = outcome == StepOutcome::RetryableFailure;
            let failure = completion.error.clone().ok_or_else(|| {
                BridgeError::invalid("result.error", "required for a failure: give at least { message }")
            })?;
            if failure.message.trim().is_empty() {
                return Err(BridgeError::invalid("result.error.message", "must not be empty"));
            }
            if completion.decision.is_some() || completion.batch.is_some() {
                return Err(BridgeError::invalid("result.decision", "decision and batch outcomes belong to successful results"));
            }
            if completion.backoff.is_some() && !retryable {
                return Err(BridgeError::invalid("result.backoff", "a permanent failure is never retried, so it cannot ask for a backoff"));
            }
            if let Some(backoff) = &completion.backoff {
                if backoff.delay_seconds > MAX_BACKOFF_SECONDS {
                    return Err(BridgeError::invalid(
                        "result.backoff.delaySeconds",
                        format!("{} is more than {MAX_BACKOFF_SECONDS} (30 days)", backoff.delay_seconds),
                    ));
                }
            }
            let status_code = match failure.status_code {
                Some(code) if !(100..=599).contains(&code) => {
                    return Err(BridgeError::invalid("result.error.statusCode", format!("{code} is not an HTTP status")))
                }
                code => code.map(|c| c as u16),
            };
            let mut r = StepExecutionResult::failure(
                step_uuid,
                failure.message.clone(),
                failure.error_code.clone(),
                failure.error_type.clone(),
                retryable,
                execution_time_ms,
                failure.context.clone(),
            );
            r.error = Some(StepExecutionError {
                message: failure.message,
                error_type: failure.error_type,
                backtrace: failure.backtrace,
                retryable,
                status_code,
                context: failure.context.unwrap_or_default(),
            });
            r.metadata.custom = custom;
            if let Some(result) = completion.result {
                r.result = result;
            }
            if let Some(backoff) = &completion.backoff {
                r.orchestration_metadata = Some(backoff_metadata(backoff));
            }
            r
        }
    };
    result.metadata.worker_hostname = completion.worker_hostname;
    Ok(result)
}

/// The failure the bridge reports when a handler never produced a result
/// (a JS exception in a push callback, a closed subscription).
pub fn bridge_failure(step_uuid: Uuid, message: String, error_type: &str) -> StepExecutionResult {
    StepExecutionResult::failure(step_uuid, message, None, Some(error_type.to_string()), true, 0, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tasker_shared::messaging::execution_types::{BatchProcessingOutcome, DecisionPointOutcome};

    fn step() -> Uuid {
        Uuid::parse_str("0190a3b2-0000-7000-8000-000000000004").unwrap()
    }

    fn ok(result: Value) -> StepCompletion {
        StepCompletion { outcome: Some(StepOutcome::Success), result: Some(result), ..Default::default() }
    }

    fn fail(outcome: StepOutcome, message: &str) -> StepCompletion {
        StepCompletion {
            outcome: Some(outcome),
            error: Some(StepFailure { message: message.into(), ..Default::default() }),
            ..Default::default()
        }
    }

    #[test]
    fn success_is_completed_and_not_retryable() {
        let mut c = ok(json!({"sum": 6}));
        c.execution_time_ms = Some(12.4);
        c.metadata = Some(HashMap::from([("k".to_string(), json!("v"))]));
        let r = to_step_execution_result(c, step()).unwrap();
        assert!(r.success);
        assert_eq!(r.status, "completed");
        assert_eq!(r.result, json!({"sum": 6}));
        assert!(!r.metadata.retryable);
        assert_eq!(r.metadata.execution_time_ms, 12);
        assert_eq!(r.metadata.custom["k"], "v");
        assert!(r.error.is_none());
    }

    #[test]
    fn retryable_and_permanent_set_metadata_retryable() {
        for (outcome, retryable) in [(StepOutcome::RetryableFailure, true), (StepOutcome::PermanentFailure, false)] {
            let mut c = fail(outcome, "card declined");
            if let Some(e) = c.error.as_mut() {
                e.error_type = Some("PaymentError".into());
                e.error_code = Some("DECLINED".into());
                e.backtrace = Some(vec!["at pay()".into()]);
                e.status_code = Some(402);
                e.context = Some(HashMap::from([("card".to_string(), json!("visa"))]));
            }
            let r = to_step_execution_result(c, step()).unwrap();
            assert!(!r.success);
            assert_eq!(r.metadata.retryable, retryable, "metadata.retryable decides the retry");
            let e = r.error.unwrap();
            assert_eq!(e.retryable, retryable);
            assert_eq!(e.message, "card declined");
            assert_eq!(e.error_type.as_deref(), Some("PaymentError"));
            assert_eq!(e.backtrace.unwrap(), vec!["at pay()"]);
            assert_eq!(e.status_code, Some(402));
            assert_eq!(e.context["card"], "visa");
            assert_eq!(r.metadata.error_code.as_deref(), Some("DECLINED"));
        }
    }

    #[test]
    fn decision_and_batch_outcomes_are_what_the_orchestration_parses() {
        let mut c = ok(json!({"route": "big"}));
        c.decision = Some(DecisionOutcome { create_steps: vec!["approve".into(), "notify".into()] });
        let r = to_step_execution_result(c, step()).unwrap();
        assert_eq!(
            DecisionPointOutcome::from_step_result(&r),
            Some(DecisionPointOutcome::create_steps(vec!["approve".into(), "notify".into()]))
        );
        let mut c = ok(json!({}));
        c.decision = Some(DecisionOutcome { create_steps: vec![] });
        let r = to_step_execution_result(c, step()).unwrap();
        assert_eq!(DecisionPointOutcome::from_step_result(&r), Some(DecisionPointOutcome::NoBranches));

        let mut c = ok(json!({}));
        c.batch = Some(BatchOutcome {
            worker_template_name: Some("worker".into()),
            cursors: vec![BatchCursor { batch_id: "b1".into(), start_cursor: json!(0), end_cursor: json!(10), batch_size: 10 }],
            total_items: 10.0,
        });
        let r = to_step_execution_result(c, step()).unwrap();
        match BatchProcessingOutcome::from_step_result(&r) {
            Some(BatchProcessingOutcome::CreateBatches { worker_template_name, worker_count, total_items, .. }) => {
                assert_eq!((worker_template_name.as_str(), worker_count, total_items), ("worker", 1, 10));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn outcomes_travel_beside_any_result_untouched() {
        let mut c = ok(json!([1, 2, 3]));
        c.decision = Some(DecisionOutcome { create_steps: vec!["approve".into()] });
        let r = to_step_execution_result(c, step()).unwrap();
        assert_eq!(r.result["result"], json!([1, 2, 3]));
        assert_eq!(r.result["result_envelope"], ENVELOPE);
        assert!(DecisionPointOutcome::from_step_result(&r).is_some());
        let plain = to_step_execution_result(ok(json!({"a": 1})), step()).unwrap();
        assert_eq!(plain.result, json!({"a": 1}), "no outcome: the result is stored as is");
    }

    #[test]
    fn backoff_becomes_an_orchestration_hint() {
        let mut c = fail(StepOutcome::RetryableFailure, "429");
        c.backoff = Some(BackoffRequest { delay_seconds: 7, kind: Some(BackoffKind::RateLimit), context: Some("rate".into()) });
        let r = to_step_execution_result(c, step()).unwrap();
        let metadata = r.orchestration_metadata.unwrap();
        assert_eq!(metadata.headers["retry-after"], "7", "the header tasker schedules the retry from");
        let hint = metadata.backoff_hint.unwrap();
        assert_eq!(hint.delay_seconds, 7);
        assert!(matches!(hint.backoff_type, BackoffHintType::RateLimit));
    }

    #[test]
    fn malformed_results_name_the_field() {
        let other = Uuid::new_v4().to_string();
        let cases: Vec<(StepCompletion, &str)> = vec![
            (StepCompletion::default(), "result.outcome"),
            (StepCompletion { error: None, ..fail(StepOutcome::PermanentFailure, "x") }, "result.error"),
            (fail(StepOutcome::RetryableFailure, "  "), "result.error.message"),
            (StepCompletion { error: Some(StepFailure { message: "x".into(), ..Default::default() }), ..ok(json!({})) }, "result.error"),
            (StepCompletion { execution_time_ms: Some(-1.0), ..ok(json!({})) }, "result.executionTimeMs"),
            (StepCompletion { execution_time_ms: Some(f64::NAN), ..ok(json!({})) }, "result.executionTimeMs"),
            (StepCompletion { execution_time_ms: Some(9_007_199_254_740_992.0), ..ok(json!({})) }, "result.executionTimeMs"),
            (StepCompletion { backoff: Some(BackoffRequest { delay_seconds: u32::MAX, kind: None, context: None }), ..fail(StepOutcome::RetryableFailure, "x") }, "result.backoff.delaySeconds"),
            (StepCompletion { step_uuid: Some("nope".into()), ..ok(json!({})) }, "result.stepUuid"),
            (StepCompletion { step_uuid: Some(other), ..ok(json!({})) }, "result.stepUuid"),
            (StepCompletion { backoff: Some(BackoffRequest { delay_seconds: 1, kind: None, context: None }), ..fail(StepOutcome::PermanentFailure, "x") }, "result.backoff"),
            (StepCompletion { batch: Some(BatchOutcome { worker_template_name: None, cursors: vec![BatchCursor { batch_id: "b".into(), start_cursor: json!(0), end_cursor: json!(1), batch_size: 1 }], total_items: 1.0 }), ..ok(json!({})) }, "result.batch.workerTemplateName"),
        ];
        for (c, field) in cases {
            let err = to_step_execution_result(c, step()).unwrap_err();
            assert!(err.message.starts_with(field), "expected {field}, got {}", err.message);
        }
    }

    #[test]
    fn bridge_failures_are_retryable() {
        let r = bridge_failure(step(), "handler threw".into(), "HandlerException");
        assert!(r.metadata.retryable && r.error.unwrap().retryable && !r.success);
    }
}
