//! The gRPC transport, through tasker-client's `GrpcOrchestrationClient`:
//! the same calls as REST, answered with tasker-shared's types, which are
//! turned into the same JSON the REST routes answer.
//!
//! One call is made here instead: tasker-client 0.1.8's `create_task` sends
//! only name, namespace, version and context, so a task made over gRPC lost
//! its initiator, reason and tags. `createTask` sends them with tasker's
//! generated `TaskServiceClient`, then reads the task back through
//! tasker-client. `resolveStep` likewise: tasker-client sends a manual
//! completion's `{result, metadata}` as the result, so the step stored
//! `{result: ...}`. The orchestration's gRPC service (0.1.8) itself ignores
//! source system, priority and correlation ids: a request with any of them
//! is refused here rather than have them silently lost.

use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};
use tasker_client::grpc_clients::{AuthInterceptor, GrpcAuthConfig, GrpcClientConfig};
use tasker_client::{ClientError, GrpcOrchestrationClient, OrchestrationClient};
use tasker_shared::models::orchestration::{DlqInvestigationUpdate, DlqListParams, DlqResolutionStatus};
use tasker_shared::proto::client::{StepServiceClient, TaskServiceClient};
use tasker_shared::proto::v1 as proto;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use uuid::Uuid;

use super::call::Call;
use super::CreateTaskRequest;
use super::rest::Auth;
use crate::error::{BridgeError, ErrorCode};

pub struct GrpcTransport {
    client: GrpcOrchestrationClient,
    tasks: TaskServiceClient<Authed>,
    steps: StepServiceClient<Authed>,
}

type Authed = InterceptedService<Channel, AuthInterceptor>;

fn json<T: Serialize>(value: T) -> Result<Value, BridgeError> {
    serde_json::to_value(value).map_err(|e| BridgeError::internal(format!("could not read a gRPC answer: {e}")))
}

/// A call's outcome as JSON, or its coded failure.
fn answer<T: Serialize>(outcome: Result<T, ClientError>) -> Result<Value, BridgeError> {
    outcome.map_err(failure).and_then(json)
}

fn parse<T: serde::de::DeserializeOwned>(value: &Value, field: &str) -> Result<T, BridgeError> {
    serde_json::from_value(value.clone()).map_err(|e| BridgeError::invalid(field, e.to_string()))
}

impl GrpcTransport {
    pub async fn connect(endpoint: String, auth: &Auth, timeout: Duration) -> Result<Self, BridgeError> {
        let mut config = GrpcClientConfig::new(endpoint).with_timeout(timeout).with_connect_timeout(timeout.min(Duration::from_secs(10)));
        config = match auth {
            Auth::None => config,
            Auth::Bearer(token) => config.with_auth(GrpcAuthConfig::with_bearer_token(token.clone())),
            Auth::ApiKey { header, key } => config.with_auth(GrpcAuthConfig::with_api_key_header(key.clone(), header.to_ascii_lowercase())),
        };
        let channel = config.connect().await.map_err(failure)?;
        let tasks = TaskServiceClient::with_interceptor(channel.clone(), AuthInterceptor::new(config.auth.clone()));
        let steps = StepServiceClient::with_interceptor(channel, AuthInterceptor::new(config.auth.clone()));
        let client = GrpcOrchestrationClient::with_config(config).await.map_err(failure)?;
        Ok(Self { client, tasks, steps })
    }

    /// Creates the task with every field tasker's gRPC service reads; answers it as `getTask` does.
    async fn create_task(&self, request: &CreateTaskRequest) -> Result<Value, BridgeError> {
        let r = request.clone();
        let dropped = [
            ("sourceSystem", r.source_system.is_some()),
            ("priority", r.priority.is_some()),
            ("correlationId", r.correlation_id.is_some()),
            ("parentCorrelationId", r.parent_correlation_id.is_some()),
            ("idempotencyKey", r.idempotency_key.is_some()),
        ];
        if let Some((field, _)) = dropped.iter().find(|(_, given)| *given) {
            return Err(BridgeError::invalid(
                &format!("request.{field}"),
                "tasker-orchestration's gRPC service does not read it (it would be lost): create this task over REST",
            ));
        }
        let request = proto::CreateTaskRequest {
            name: r.name,
            namespace: r.namespace,
            version: r.version.unwrap_or_else(|| "1.0.0".into()),
            context: Some(proto_struct(r.context.as_ref().unwrap_or(&Value::Null))?),
            initiator: Some(r.initiator.unwrap_or_else(|| "@tasker-systems/worker".into())),
            reason: Some(r.reason.unwrap_or_else(|| "requested through TaskerClient".into())),
            tags: r.tags.unwrap_or_default(),
            ..Default::default()
        };
        let created = self.tasks.clone().create_task(request).await.map_err(|status| failure(ClientError::from(status)))?.into_inner();
        let uuid = created
            .task
            .and_then(|task| Uuid::parse_str(&task.task_uuid).ok())
            .ok_or_else(|| BridgeError::internal("gRPC: the orchestration answered createTask without a task uuid"))?;
        answer(self.client.get_task(uuid).await)
    }

    /// Resolves a step by hand; answers it as `getStep` does.
    async fn resolve_step(&self, task: Uuid, step: Uuid, body: &Value) -> Result<Value, BridgeError> {
        use proto::StepManualActionType as Action;
        let text = |key: &str| body.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
        let (action_type, performed_by) = match body.get("action_type").and_then(Value::as_str) {
            Some("reset_for_retry") => (Action::ResetForRetry, text("reset_by")),
            Some("resolve_manually") => (Action::ResolveManually, text("resolved_by")),
            _ => (Action::CompleteManually, text("completed_by")),
        };
        let object = |key: &str| -> Result<Option<prost_types::Struct>, BridgeError> {
            match body.get("completion_data").and_then(|c| c.get(key)).filter(|v| !v.is_null()) {
                Some(value @ Value::Object(_)) => proto_struct(value).map(Some),
                Some(_) => Err(BridgeError::invalid(&format!("resolution.{key}"), "over gRPC it must be an object")),
                None => Ok(None),
            }
        };
        let request = proto::ResolveStepRequest {
            task_uuid: task.to_string(),
            step_uuid: step.to_string(),
            action_type: action_type as i32,
            performed_by,
            reason: text("reason"),
            result: object("result")?,
            metadata: object("metadata")?,
        };
        self.steps.clone().resolve_step(request).await.map_err(|status| failure(ClientError::from(status)))?;
        answer(self.client.get_step(task, step).await)
    }

    pub async fn send(&self, call: &Call) -> Result<Value, BridgeError> {
        let c = &self.client;
        let answer = match call {
            Call::CreateTask(request) => self.create_task(request).await,
            Call::GetTask(t) => answer(c.get_task(*t).await),
            Call::ListTasks { page, per_page, namespace, status, .. } => {
                let offset = (page.saturating_sub(1) * per_page) as i32;
                answer(c.list_tasks(*per_page as i32, offset, namespace.as_deref(), status.as_deref()).await)
            }
            Call::CancelTask(t) => answer(c.cancel_task(*t).await),
            Call::TaskSummary(t) => answer(c.get_task_summary(*t).await),
            Call::ListSteps(t) => answer(c.list_task_steps(*t).await),
            Call::GetStep(t, s) => answer(c.get_step(*t, *s).await),
            Call::StepAudit(t, s) => answer(c.get_step_audit_history(*t, *s).await),
            Call::ResolveStep(t, s, action) => self.resolve_step(*t, *s, action).await,
            Call::ListTemplates(ns) => answer(c.list_templates(ns.as_deref()).await),
            Call::GetTemplate(ns, n, v) => answer(c.get_template(ns, n, v).await),
            Call::Health | Call::Liveness => answer(c.get_basic_health().await),
            Call::HealthDetailed | Call::Readiness => answer(c.get_detailed_health().await),
            Call::ListDlq { resolution_status, limit, offset } => {
                let resolution_status = match resolution_status {
                    Some(status) => Some(parse::<DlqResolutionStatus>(&Value::String(status.clone()), "resolutionStatus")?),
                    None => None,
                };
                answer(c.list_dlq_entries(Some(&DlqListParams { resolution_status, limit: *limit, offset: *offset })).await)
            }
            Call::GetDlqEntry(t) => answer(c.get_dlq_entry(*t).await),
            Call::DlqStats => answer(c.get_dlq_stats().await),
            Call::UpdateDlq(e, update) => {
                let update: DlqInvestigationUpdate = parse(update, "update")?;
                answer(c.update_dlq_investigation(*e, update).await)
            }
            Call::DlqQueue(limit) => answer(c.get_investigation_queue(*limit).await),
            Call::Staleness(limit) => answer(c.get_staleness_monitoring(*limit).await),
            Call::ValidateTemplate(..) | Call::WorkerMetrics | Call::DomainEventStats => {
                unreachable!("worker web API calls always go over REST")
            }
        };
        answer
    }
}

/// A task's context as a protobuf Struct, gRPC's only form for it: an object,
/// whose numbers travel as doubles.
fn proto_struct(context: &Value) -> Result<prost_types::Struct, BridgeError> {
    match context {
        Value::Null => Ok(prost_types::Struct::default()),
        Value::Object(map) => Ok(prost_types::Struct { fields: map.iter().map(|(k, v)| (k.clone(), proto_value(v))).collect() }),
        _ => Err(BridgeError::invalid("request.context", "over gRPC a task's context must be an object (or absent)")),
    }
}

fn proto_value(value: &Value) -> prost_types::Value {
    use prost_types::value::Kind;
    let kind = match value {
        Value::Null => Kind::NullValue(0),
        Value::Bool(b) => Kind::BoolValue(*b),
        Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => Kind::StringValue(s.clone()),
        Value::Array(items) => Kind::ListValue(prost_types::ListValue { values: items.iter().map(proto_value).collect() }),
        Value::Object(_) => Kind::StructValue(proto_struct(value).unwrap_or_default()),
    };
    prost_types::Value { kind: Some(kind) }
}

/// A gRPC status code (the ones tasker-client passes through) as ours.
fn api_status_code(status: u16) -> ErrorCode {
    match status {
        6 | 10 => ErrorCode::Conflict,      // ALREADY_EXISTS, ABORTED
        9 | 11 => ErrorCode::Validation,    // FAILED_PRECONDITION, OUT_OF_RANGE
        12 => ErrorCode::Unavailable,       // UNIMPLEMENTED: not tasker's service
        _ => ErrorCode::ServerError,
    }
}

/// tasker-client's error as a coded failure.
pub fn failure(e: ClientError) -> BridgeError {
    let mut details = Map::new();
    let (code, message) = match &e {
        ClientError::TaskNotFound { task_id } => (ErrorCode::NotFound, format!("not found: {task_id}")),
        ClientError::AuthError(m) if m.starts_with("Permission denied") => (ErrorCode::Forbidden, m.clone()),
        ClientError::AuthError(m) => (ErrorCode::Unauthorized, m.clone()),
        ClientError::InvalidInput(m) => (ErrorCode::Validation, m.clone()),
        ClientError::ServiceUnavailable { service, reason } => (ErrorCode::Unavailable, format!("{service} unavailable: {reason}")),
        ClientError::Timeout { operation } => (ErrorCode::Timeout, format!("{operation} timed out")),
        ClientError::ApiError { status, message } => {
            details.insert("status".into(), Value::from(*status));
            // tonic reports an HTTP answer without gRPC framing (e.g. the REST
            // port given as grpcUrl) as "grpc-status header missing".
            if message.contains("grpc-status header missing") {
                (ErrorCode::Unavailable, format!("{message}: the server at grpcUrl does not speak gRPC (is it the REST address?)"))
            } else {
                (api_status_code(*status), message.clone())
            }
        }
        ClientError::ConfigError(m) => (ErrorCode::InvalidArgument, m.clone()),
        // What the server answered could not be used.
        ClientError::Internal(_) | ClientError::InvalidResponse { .. } | ClientError::SerializationError(_) => (ErrorCode::ServerError, e.to_string()),
        other => (ErrorCode::Internal, other.to_string()),
    };
    details.insert("serverMessage".into(), Value::from(message.clone()));
    BridgeError::new(code, format!("gRPC: {message}")).with_details(details)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_statuses_map_to_codes() {
        let api = |status, message: &str| failure(ClientError::ApiError { status, message: message.into() }).code;
        assert_eq!(api(6, "duplicate"), ErrorCode::Conflict);
        assert_eq!(api(9, "Cannot cancel a completed task"), ErrorCode::Validation);
        assert_eq!(api(12, "grpc-status header missing, mapped from HTTP status code 404"), ErrorCode::Unavailable);
        assert_eq!(api(13, "boom"), ErrorCode::ServerError);
        assert_eq!(failure(ClientError::AuthError("Permission denied: x".into())).code, ErrorCode::Forbidden);
    }

    #[test]
    fn a_context_must_be_an_object_over_grpc() {
        assert!(proto_struct(&serde_json::json!({"n": 1, "list": [true, null]})).is_ok());
        assert!(proto_struct(&Value::Null).is_ok());
        assert!(proto_struct(&serde_json::json!([1])).is_err());
    }
}
