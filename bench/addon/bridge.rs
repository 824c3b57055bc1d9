//! The cost of crossing the bridge: one realistic step event Rust → JS and one
//! completion JS → Rust, as the typed objects the API uses and, as a baseline,
//! as JSON strings (serde_json on the Rust side, JSON.parse/stringify in JS).
//! Both forms do the same Rust-side work otherwise.

use std::sync::OnceLock;

use napi::bindgen_prelude::Unknown;
use napi_derive::napi;
use tasker_shared::types::TaskSequenceStep;
use uuid::Uuid;

use crate::fixtures as fixture;
use crate::js::arg;
use crate::conversions::event::{step_event_from_parts, StepEvent};
use crate::conversions::result::{to_step_execution_result, StepCompletion};
use crate::error::{guard, BridgeError, BridgeResult, ErrorCode};

fn step() -> &'static TaskSequenceStep {
    static STEP: OnceLock<TaskSequenceStep> = OnceLock::new();
    STEP.get_or_init(fixture::task_sequence_step)
}

/// As a worker makes it: from a copy of tasker's hydrated step (tasker hands
/// out a copy of each event it keeps).
pub(super) fn event() -> StepEvent {
    let id = Uuid::now_v7().to_string();
    step_event_from_parts(id, Uuid::nil().to_string(), None, None, step().clone())
}

fn accept(completion: StepCompletion) -> BridgeResult<bool> {
    let step_uuid = step().workflow_step.workflow_step_uuid;
    Ok(to_step_execution_result(completion, step_uuid)?.success)
}

/// A realistic step event (task context and dependency results of a few KB) as a typed object.
#[napi(namespace = "bench")]
pub fn step_event() -> napi::Result<StepEvent, ErrorCode> {
    guard(|| Ok(event()))
}

/// The same step event as a JSON string (the baseline).
#[napi(namespace = "bench")]
pub fn step_event_json() -> napi::Result<String, ErrorCode> {
    guard(|| serde_json::to_string(&event()).map_err(|e| BridgeError::internal(e.to_string())))
}

/// Converts a typed completion as `completeStepEvent` does; returns whether it is a success.
#[napi(namespace = "bench", ts_args_type = "result: StepCompletion")]
pub fn accept_completion(result: Unknown<'_>) -> napi::Result<bool, ErrorCode> {
    guard(|| accept(arg(result, "result")?))
}

/// Converts a completion given as a JSON string (the baseline).
#[napi(namespace = "bench", ts_args_type = "json: string")]
pub fn accept_completion_json(json: Unknown<'_>) -> napi::Result<bool, ErrorCode> {
    guard(|| {
        let json: String = arg(json, "json")?;
        let completion: StepCompletion =
            serde_json::from_str(&json).map_err(|e| BridgeError::invalid("json", e.to_string()))?;
        accept(completion)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_baseline_carries_the_same_event() {
        let json: serde_json::Value = serde_json::from_str(&serde_json::to_string(&event()).unwrap()).unwrap();
        assert_eq!(json["task"]["context"]["order_id"], 42);
        assert_eq!(json["stepDefinition"]["retry"]["backoffBaseMs"], 100);
        assert_eq!(json["dependencyResults"]["validate"]["result"]["total"], 1234.5);
        assert!(json.to_string().len() > 2_000, "the event is a realistic few KB");
    }

    #[test]
    fn json_completion_is_converted_like_a_typed_one() {
        let ok = serde_json::from_str::<StepCompletion>(r#"{"outcome":"success","result":{"n":1},"executionTimeMs":2}"#).unwrap();
        assert!(accept(ok).unwrap());
        let failed = serde_json::from_str::<StepCompletion>(
            r#"{"outcome":"retryable_failure","error":{"message":"x","errorType":"E"}}"#,
        )
        .unwrap();
        assert!(!accept(failed).unwrap());
    }
}
