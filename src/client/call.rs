//! The calls a TaskerClient makes, independent of the transport: each is a
//! route of tasker-orchestration's REST API (tasker-client's gRPC client
//! serves the same operations), and answers tasker's snake_case JSON.

use serde_json::{json, Value};
use uuid::Uuid;

use super::CreateTaskRequest;

/// Which server a call goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    Orchestration,
    /// A worker's web API (`workerUrl`): template validation, worker and domain-event metrics.
    Worker,
}

#[derive(Debug, Clone)]
pub enum Call {
    CreateTask(CreateTaskRequest),
    GetTask(Uuid),
    ListTasks { page: u32, per_page: u32, namespace: Option<String>, status: Option<String>, initiator: Option<String>, source_system: Option<String> },
    CancelTask(Uuid),
    TaskSummary(Uuid),
    ListSteps(Uuid),
    GetStep(Uuid, Uuid),
    StepAudit(Uuid, Uuid),
    ResolveStep(Uuid, Uuid, Value),
    ListTemplates(Option<String>),
    GetTemplate(String, String, String),
    ValidateTemplate(String, String, String),
    Health,
    HealthDetailed,
    Liveness,
    Readiness,
    ListDlq { resolution_status: Option<String>, limit: i64, offset: i64 },
    GetDlqEntry(Uuid),
    DlqStats,
    UpdateDlq(Uuid, Value),
    DlqQueue(Option<i64>),
    Staleness(Option<i64>),
    WorkerMetrics,
    DomainEventStats,
}

/// An HTTP method and path (with query) on a server.
pub struct Route {
    pub server: Server,
    pub method: reqwest::Method,
    pub path: String,
    pub body: Option<Value>,
}

fn enc(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn query(pairs: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = pairs.iter().filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", enc(v)))).collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

impl Call {
    pub fn route(&self) -> Route {
        use reqwest::Method as M;
        let o = |method: M, path: String| Route { server: Server::Orchestration, method, path, body: None };
        let w = |method: M, path: String| Route { server: Server::Worker, method, path, body: None };
        match self {
            Call::CreateTask(request) => Route { body: Some(rest_task_body(request)), ..o(M::POST, "/v1/tasks".into()) },
            Call::GetTask(t) => o(M::GET, format!("/v1/tasks/{t}")),
            Call::ListTasks { page, per_page, namespace, status, initiator, source_system } => o(
                M::GET,
                format!(
                    "/v1/tasks{}",
                    query(&[
                        ("page", Some(page.to_string())),
                        ("per_page", Some(per_page.to_string())),
                        ("namespace", namespace.clone()),
                        ("status", status.clone()),
                        ("initiator", initiator.clone()),
                        ("source_system", source_system.clone()),
                    ])
                ),
            ),
            Call::CancelTask(t) => o(M::DELETE, format!("/v1/tasks/{t}")),
            Call::TaskSummary(t) => o(M::GET, format!("/v1/tasks/{t}/summary")),
            Call::ListSteps(t) => o(M::GET, format!("/v1/tasks/{t}/workflow_steps")),
            Call::GetStep(t, s) => o(M::GET, format!("/v1/tasks/{t}/workflow_steps/{s}")),
            Call::StepAudit(t, s) => o(M::GET, format!("/v1/tasks/{t}/workflow_steps/{s}/audit")),
            Call::ResolveStep(t, s, action) => Route { body: Some(action.clone()), ..o(M::PATCH, format!("/v1/tasks/{t}/workflow_steps/{s}")) },
            Call::ListTemplates(ns) => o(M::GET, format!("/v1/templates{}", query(&[("namespace", ns.clone())]))),
            Call::GetTemplate(ns, n, v) => o(M::GET, format!("/v1/templates/{}/{}/{}", enc(ns), enc(n), enc(v))),
            Call::ValidateTemplate(ns, n, v) => w(M::POST, format!("/v1/templates/{}/{}/{}/validate", enc(ns), enc(n), enc(v))),
            Call::Health => o(M::GET, "/health".into()),
            Call::HealthDetailed => o(M::GET, "/health/detailed".into()),
            Call::Liveness => o(M::GET, "/health/live".into()),
            Call::Readiness => o(M::GET, "/health/ready".into()),
            Call::ListDlq { resolution_status, limit, offset } => o(
                M::GET,
                format!(
                    "/v1/dlq{}",
                    query(&[("resolution_status", resolution_status.clone()), ("limit", Some(limit.to_string())), ("offset", Some(offset.to_string()))])
                ),
            ),
            Call::GetDlqEntry(t) => o(M::GET, format!("/v1/dlq/task/{t}")),
            Call::DlqStats => o(M::GET, "/v1/dlq/stats".into()),
            Call::UpdateDlq(e, update) => Route { body: Some(update.clone()), ..o(M::PATCH, format!("/v1/dlq/entry/{e}")) },
            Call::DlqQueue(limit) => o(M::GET, format!("/v1/dlq/investigation-queue{}", query(&[("limit", limit.map(|l| l.to_string()))]))),
            Call::Staleness(limit) => o(M::GET, format!("/v1/dlq/staleness{}", query(&[("limit", limit.map(|l| l.to_string()))]))),
            Call::WorkerMetrics => w(M::GET, "/metrics/worker".into()),
            Call::DomainEventStats => w(M::GET, "/metrics/events".into()),
        }
    }
}

/// tasker's `TaskRequest` as JSON, with defaults for the fields it requires.
fn rest_task_body(request: &CreateTaskRequest) -> Value {
    let r = request.clone();
    let mut body = json!({
        "name": r.name,
        "namespace": r.namespace,
        "version": r.version.unwrap_or_else(|| "1.0.0".into()),
        "context": r.context.unwrap_or_else(|| json!({})),
        "initiator": r.initiator.unwrap_or_else(|| "@tasker-systems/worker".into()),
        "source_system": r.source_system.unwrap_or_else(|| "@tasker-systems/worker".into()),
        "reason": r.reason.unwrap_or_else(|| "requested through TaskerClient".into()),
        "tags": r.tags.unwrap_or_default(),
    });
    let optional = [
        ("priority", r.priority.map(Value::from)),
        ("idempotency_key", r.idempotency_key.map(Value::from)),
        ("correlation_id", r.correlation_id.map(Value::from)),
        ("parent_correlation_id", r.parent_correlation_id.map(Value::from)),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            body[key] = value;
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_encode_their_parameters() {
        let r = Call::ListTasks { page: 2, per_page: 10, namespace: Some("a b".into()), status: None, initiator: None, source_system: None }.route();
        assert_eq!(r.path, "/v1/tasks?page=2&per_page=10&namespace=a%20b");
        let r = Call::GetTemplate("ns".into(), "x/y".into(), "1.0.0".into()).route();
        assert_eq!(r.path, "/v1/templates/ns/x%2Fy/1.0.0");
        assert_eq!(Call::WorkerMetrics.route().server, Server::Worker);
    }

    #[test]
    fn a_task_request_gets_taskers_required_fields() {
        let request = CreateTaskRequest { name: "n".into(), namespace: "ns".into(), priority: Some(5), idempotency_key: Some("k".into()), ..Default::default() };
        let body = Call::CreateTask(request).route().body.unwrap();
        assert_eq!(body["version"], "1.0.0");
        assert_eq!(body["source_system"], "@tasker-systems/worker");
        assert_eq!(body["idempotency_key"], "k");
        assert_eq!(body["priority"], 5);
        assert!(body.get("correlation_id").is_none());
    }
}

