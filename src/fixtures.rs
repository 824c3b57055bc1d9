//! A realistic hydrated step (a few KB of task context and two dependency
//! results), shared by the unit tests and the bridge benchmarks.

use serde_json::json;
use tasker_shared::types::TaskSequenceStep;

/// A realistic hydrated step: a few KB of task context and two dependency results.
pub fn task_sequence_step() -> TaskSequenceStep {
    let items: Vec<_> = (0..20)
        .map(|i| json!({"sku": format!("SKU-{i:04}"), "qty": i + 1, "price": 9.5 + i as f64}))
        .collect();
    serde_json::from_value(json!({
        "task": {
            "task": {
                "task_uuid": "0190a3b2-0000-7000-8000-000000000001",
                "named_task_uuid": "0190a3b2-0000-7000-8000-000000000002",
                "complete": false,
                "requested_at": "2026-01-02T03:04:05.000006",
                "initiator": "tests",
                "source_system": "unit",
                "reason": "fixture",
                "tags": {"team": "core"},
                "context": {"order_id": 42, "items": items},
                "identity_hash": "abc123",
                "priority": 5,
                "created_at": "2026-01-02T03:04:05",
                "updated_at": "2026-01-02T03:04:06",
                "correlation_id": "0190a3b2-0000-7000-8000-000000000003",
                "parent_correlation_id": null
            },
            "task_name": "order_flow",
            "task_version": "1.0.0",
            "namespace_name": "shop"
        },
        "workflow_step": {
            "workflow_step_uuid": "0190a3b2-0000-7000-8000-000000000004",
            "task_uuid": "0190a3b2-0000-7000-8000-000000000001",
            "named_step_uuid": "0190a3b2-0000-7000-8000-000000000005",
            "name": "ship",
            "template_step_name": "ship",
            "retryable": true,
            "max_attempts": 3,
            "in_process": true,
            "processed": false,
            "processed_at": null,
            "attempts": 1,
            "last_attempted_at": "2026-01-02T03:04:07",
            "backoff_request_seconds": null,
            "inputs": {"carrier": "ups"},
            "results": null,
            "checkpoint": null,
            "created_at": "2026-01-02T03:04:05",
            "updated_at": "2026-01-02T03:04:07"
        },
        "dependency_results": {
            "validate": {
                "step_uuid": "0190a3b2-0000-7000-8000-000000000006",
                "success": true,
                "result": {"valid": true, "total": 1234.5},
                "status": "completed",
                "metadata": {
                    "execution_time_ms": 3, "retryable": false,
                    "completed_at": "2026-01-02T03:04:06Z",
                    "custom": {"source": "cache"}
                }
            },
            "reserve": {
                "step_uuid": "0190a3b2-0000-7000-8000-000000000007",
                "success": true,
                "result": {"reservation": "R-1", "items": items},
                "status": "completed",
                "metadata": {"execution_time_ms": 4, "retryable": false, "completed_at": "2026-01-02T03:04:06Z"}
            }
        },
        "step_definition": {
            "name": "ship",
            "description": "Ship the order",
            "handler": {"callable": "shop.ship", "initialization": {"speed": "fast"}},
            "dependencies": ["validate", "reserve"],
            "retry": {"retryable": true, "max_attempts": 3, "backoff": "exponential", "backoff_base_ms": 100},
            "timeout_seconds": 30
        }
    }))
    .expect("fixture deserializes")
}
