//! TaskerClient: tasker-orchestration's API for any service (no worker needed
//! in the process): submit and watch tasks, inspect and fix steps,
//! templates, health, the dead letter queue, a worker's metrics.
//!
//! `createTaskerClient(options)` answers a handle (src/api/handle.rs) whose
//! methods return Promises; the calls run on a small runtime of their own.
//! REST (src/client/rest.rs) or gRPC (tasker-client, src/client/grpc.rs);
//! every failure is a coded error with the status and the server's words.

mod call;
mod grpc;
mod rest;
pub mod types;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::js::{arg, Whole};
use crate::js::handle::{Args, HandleBuilder, Raw};
use crate::error::{guard, BridgeError, BridgeResult, ErrorCode};
use crate::promise;
use call::{Call, Server};
use rest::{Auth, RestTransport};
use types::{camel_case_keys, DlqEntry, DlqStats, HealthStatus, Json, StepAudit, StepRecord, TaskPage, TaskRecord, TemplateDetail, TemplateList};

/// Options of `createTaskerClient`; each falls back to the environment
/// variable tasker's own client reads, then to the default shown.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// The orchestration's REST API (default: `TASKER_ORCHESTRATION_URL`, else `http://localhost:8080`).
    pub base_url: Option<String>,
    /// `rest` or `grpc` (default: `TASKER_CLIENT_TRANSPORT`, else `rest`).
    pub transport: Option<String>,
    /// The orchestration's gRPC endpoint (default: `TASKER_ORCHESTRATION_GRPC_URL`, else `http://localhost:9090`).
    pub grpc_url: Option<String>,
    /// A worker's web API, for `validateTemplate`, `getWorkerMetrics`, `getDomainEventStats` (default: `TASKER_WORKER_URL`).
    pub worker_url: Option<String>,
    /// API key (default: `TASKER_API_KEY`), sent in `apiKeyHeader`.
    pub api_key: Option<String>,
    /// Header of the API key (default: `TASKER_API_KEY_HEADER`, else `X-API-Key`).
    pub api_key_header: Option<String>,
    /// Bearer token (default: `TASKER_ORCHESTRATION_AUTH_TOKEN`, else `TASKER_AUTH_TOKEN`); wins over an API key.
    pub bearer_token: Option<String>,
    /// Per-request timeout (default: `TASKER_ORCHESTRATION_TIMEOUT_MS`, else 30000 ms; 100..=600000).
    #[napi(ts_type = "number")]
    pub timeout_ms: Option<Whole>,
}

/// A task to create (`createTask`).
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct CreateTaskRequest {
    pub name: String,
    pub namespace: String,
    /// Template version (default `1.0.0`).
    pub version: Option<String>,
    /// The task's input, any JSON (default `{}`).
    pub context: Option<Value>,
    /// Who asked (default `@tasker-systems/worker`).
    pub initiator: Option<String>,
    /// The system it came from (default `@tasker-systems/worker`).
    pub source_system: Option<String>,
    /// Why (default `requested through TaskerClient`).
    pub reason: Option<String>,
    pub tags: Option<Vec<String>>,
    /// -100..=100 (higher first).
    pub priority: Option<i32>,
    /// Sent as tasker's `idempotency_key`. tasker-orchestration 0.1.8 does
    /// not use it: it refuses a second task of the same template and context
    /// (CONFLICT) and accepts one with a new context whatever its key.
    pub idempotency_key: Option<String>,
    pub correlation_id: Option<String>,
    pub parent_correlation_id: Option<String>,
}

/// Filters and page of `listTasks`.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct ListTasksQuery {
    /// From 1 (default 1).
    #[napi(ts_type = "number")]
    pub page: Option<Whole>,
    /// 1..=100 (default 25).
    #[napi(ts_type = "number")]
    pub per_page: Option<Whole>,
    pub namespace: Option<String>,
    /// `completed` or `pending`: tasker's list filters on whether a task has
    /// finished (and lists each task's `status` so); other values are refused.
    pub status: Option<String>,
    pub initiator: Option<String>,
    pub source_system: Option<String>,
}

/// What to do with a stuck step (`resolveStep`).
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct StepResolution {
    /// `reset_for_retry` (back to pending, to run again), `resolve_manually`
    /// (mark it done without a result) or `complete_manually` (done, with `result`).
    pub action: String,
    pub reason: String,
    /// Who did it.
    pub by: String,
    /// The result to store (`complete_manually`).
    pub result: Option<Value>,
    pub metadata: Option<Value>,
}

/// Filters of `listDlq`.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct DlqQuery {
    /// `pending`, `manually_resolved`, `permanently_failed` or `cancelled`.
    pub resolution_status: Option<String>,
    /// 1..=1000 (default 50).
    #[napi(ts_type = "number")]
    pub limit: Option<Whole>,
    #[napi(ts_type = "number")]
    pub offset: Option<Whole>,
}

/// An investigation update (`updateDlqInvestigation`).
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct DlqUpdate {
    /// `pending`, `manually_resolved`, `permanently_failed` or `cancelled`.
    pub resolution_status: Option<String>,
    pub resolution_notes: Option<String>,
    pub resolved_by: Option<String>,
    pub metadata: Option<Value>,
}

/// The object `createTaskerClient` answers: every method returns a Promise
/// and rejects with a coded Error (`NOT_FOUND`, `UNAUTHORIZED`, `FORBIDDEN`,
/// `VALIDATION`, `CONFLICT`, `UNAVAILABLE`, `TIMEOUT`, `INVALID_ARGUMENT`,
/// `INTERNAL`) carrying `status` (HTTP or gRPC), `serverCode` and `serverMessage`.
#[napi(object, object_to_js = false, object_from_js = false)]
#[allow(dead_code)] // describes, in index.d.ts, the handle `create_tasker_client` builds
pub struct NativeTaskerClient {
    #[napi(ts_type = "(request: CreateTaskRequest) => Promise<TaskRecord>")]
    pub create_task: (),
    #[napi(ts_type = "(taskUuid: string) => Promise<TaskRecord>")]
    pub get_task: (),
    #[napi(ts_type = "(query?: ListTasksQuery) => Promise<TaskPage>")]
    pub list_tasks: (),
    #[napi(ts_type = "(taskUuid: string) => Promise<void>")]
    pub cancel_task: (),
    /// The task's context (what it was created with).
    #[napi(ts_type = "(taskUuid: string) => Promise<unknown>")]
    pub get_task_context: (),
    #[napi(ts_type = "(taskUuid: string) => Promise<Record<string, unknown>>")]
    pub get_task_summary: (),
    #[napi(ts_type = "(taskUuid: string) => Promise<Array<StepRecord>>")]
    pub list_steps: (),
    #[napi(ts_type = "(taskUuid: string, stepUuid: string) => Promise<StepRecord>")]
    pub get_step: (),
    #[napi(ts_type = "(taskUuid: string, stepUuid: string) => Promise<Array<StepAudit>>")]
    pub get_step_audit: (),
    #[napi(ts_type = "(taskUuid: string, stepUuid: string, resolution: StepResolution) => Promise<StepRecord>")]
    pub resolve_step: (),
    #[napi(ts_type = "(namespace?: string) => Promise<TemplateList>")]
    pub list_templates: (),
    #[napi(ts_type = "(namespace: string, name: string, version: string) => Promise<TemplateDetail>")]
    pub get_template: (),
    /// Through a worker's web API (`workerUrl`).
    #[napi(ts_type = "(namespace: string, name: string, version: string) => Promise<Record<string, unknown>>")]
    pub validate_template: (),
    #[napi(ts_type = "() => Promise<HealthStatus>")]
    pub health: (),
    #[napi(ts_type = "() => Promise<Record<string, unknown>>")]
    pub health_detailed: (),
    #[napi(ts_type = "() => Promise<HealthStatus>")]
    pub liveness: (),
    #[napi(ts_type = "() => Promise<Record<string, unknown>>")]
    pub readiness: (),
    #[napi(ts_type = "(query?: DlqQuery) => Promise<Array<DlqEntry>>")]
    pub list_dlq: (),
    #[napi(ts_type = "(taskUuid: string) => Promise<DlqEntry>")]
    pub get_dlq_entry: (),
    #[napi(ts_type = "() => Promise<Array<DlqStats>>")]
    pub get_dlq_stats: (),
    #[napi(ts_type = "(dlqEntryUuid: string, update: DlqUpdate) => Promise<void>")]
    pub update_dlq_investigation: (),
    #[napi(ts_type = "(limit?: number) => Promise<Array<Record<string, unknown>>>")]
    pub get_dlq_investigation_queue: (),
    #[napi(ts_type = "(limit?: number) => Promise<Array<Record<string, unknown>>>")]
    pub get_staleness_monitoring: (),
    /// Through a worker's web API (`workerUrl`).
    #[napi(ts_type = "() => Promise<Record<string, unknown>>")]
    pub get_worker_metrics: (),
    /// Through a worker's web API (`workerUrl`).
    #[napi(ts_type = "() => Promise<Record<string, unknown>>")]
    pub get_domain_event_stats: (),
    /// `rest` or `grpc`.
    #[napi(readonly)]
    pub transport: String,
}

/// The runtime client calls run on (one thread, shared by every client).
fn runtime() -> BridgeResult<&'static tokio::runtime::Handle> {
    static RUNTIME: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("tasker-client")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map(|r| r.handle())
        .map_err(|e| BridgeError::internal(format!("could not start the client's runtime: {e}")))
}

struct Client {
    rest: RestTransport,
    grpc: Option<(String, Auth, Duration, OnceCell<grpc::GrpcTransport>)>,
}

impl Client {
    async fn send(&self, call: Call) -> BridgeResult<Value> {
        let via_rest = call.route().server == Server::Worker;
        match &self.grpc {
            Some((endpoint, auth, timeout, cell)) if !via_rest => {
                let transport = cell.get_or_try_init(|| grpc::GrpcTransport::connect(endpoint.clone(), auth, *timeout)).await?;
                transport.send(&call).await
            }
            _ => self.rest.send(&call).await,
        }
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn url_option(field: &str, given: Option<String>, env: &[&str], default: &str) -> BridgeResult<String> {
    let url = given.or_else(|| env.iter().find_map(|n| env_var(n))).unwrap_or_else(|| default.to_string());
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(url)
    } else {
        Err(BridgeError::invalid(field, format!("'{url}' is not an http:// or https:// URL")))
    }
}

fn build_client(options: ClientOptions) -> BridgeResult<(Client, String)> {
    let base_url = url_option("baseUrl", options.base_url, &["TASKER_ORCHESTRATION_URL"], "http://localhost:8080")?;
    let worker_url = match options.worker_url.or_else(|| env_var("TASKER_WORKER_URL")) {
        Some(url) => Some(url_option("workerUrl", Some(url), &[], "")?),
        None => None,
    };
    let timeout_ms = match options.timeout_ms {
        Some(ms) => ms.get(),
        None => match env_var("TASKER_ORCHESTRATION_TIMEOUT_MS") {
            Some(text) => text.parse().map_err(|_| BridgeError::invalid("timeoutMs", format!("TASKER_ORCHESTRATION_TIMEOUT_MS '{text}' is not a number")))?,
            None => 30_000,
        },
    };
    if !(100..=600_000).contains(&timeout_ms) {
        return Err(BridgeError::invalid("timeoutMs", format!("{timeout_ms} is outside 100..=600000")));
    }
    let timeout = Duration::from_millis(timeout_ms.into());
    let bearer = options.bearer_token.or_else(|| env_var("TASKER_ORCHESTRATION_AUTH_TOKEN")).or_else(|| env_var("TASKER_AUTH_TOKEN"));
    let api_key = options.api_key.or_else(|| env_var("TASKER_API_KEY"));
    let auth = match (bearer, api_key) {
        (Some(token), _) => Auth::Bearer(token),
        (None, Some(key)) => Auth::ApiKey {
            header: options.api_key_header.or_else(|| env_var("TASKER_API_KEY_HEADER")).unwrap_or_else(|| "X-API-Key".into()),
            key,
        },
        (None, None) => Auth::None,
    };
    let transport = options.transport.or_else(|| env_var("TASKER_CLIENT_TRANSPORT")).unwrap_or_else(|| "rest".into()).to_ascii_lowercase();
    let grpc = match transport.as_str() {
        "rest" => None,
        "grpc" => Some((url_option("grpcUrl", options.grpc_url, &["TASKER_ORCHESTRATION_GRPC_URL"], "http://localhost:9090")?, auth.clone(), timeout, OnceCell::new())),
        other => return Err(BridgeError::invalid("transport", format!("'{other}' is not rest or grpc"))),
    };
    Ok((Client { rest: RestTransport::new(base_url, worker_url, &auth, timeout)?, grpc }, transport))
}

fn uuid_arg(args: &Args<'_>, index: usize, name: &str) -> BridgeResult<Uuid> {
    let text: String = arg(args.get(index)?, name)?;
    Uuid::parse_str(&text).map_err(|_| BridgeError::invalid(name, format!("'{text}' is not a UUID")))
}

fn text_arg(args: &Args<'_>, index: usize, name: &str) -> BridgeResult<String> {
    let text: String = arg(args.get(index)?, name)?;
    if text.trim().is_empty() {
        return Err(BridgeError::invalid(name, "must not be empty"));
    }
    Ok(text)
}

fn decode<T: DeserializeOwned>(value: Value) -> BridgeResult<T> {
    serde_json::from_value(value).map_err(|e| BridgeError::internal(format!("the orchestration answered something unexpected: {e}")))
}

/// Runs `call` and shapes its answer, as a Promise.
fn promised<T, S>(args: &Args<'_>, client: &Arc<Client>, call: BridgeResult<Call>, shape: S) -> BridgeResult<Raw>
where
    T: ToNapiValue + Send + 'static,
    S: FnOnce(Value) -> BridgeResult<T> + Send + 'static,
{
    let call = call?;
    let client = client.clone();
    let promise = promise::spawn_on(args.env(), runtime()?, async move { shape(client.send(call).await?) })?;
    Ok(Raw(promise.raw()))
}

/// The request, checked before anything is sent.
fn checked_task_request(request: CreateTaskRequest) -> BridgeResult<CreateTaskRequest> {
    if request.name.trim().is_empty() || request.namespace.trim().is_empty() {
        return Err(BridgeError::invalid("request", "name and namespace are required"));
    }
    if let Some(priority) = request.priority {
        if !(-100..=100).contains(&priority) {
            return Err(BridgeError::invalid("request.priority", format!("{priority} is outside -100..=100")));
        }
    }
    Ok(request)
}

const LIST_STATUSES: [&str; 2] = ["completed", "pending"];
const RESOLUTIONS: [&str; 3] = ["reset_for_retry", "resolve_manually", "complete_manually"];
const DLQ_STATUSES: [&str; 4] = ["pending", "manually_resolved", "permanently_failed", "cancelled"];

fn resolution_body(r: StepResolution) -> BridgeResult<Value> {
    let by = match r.action.as_str() {
        "reset_for_retry" => "reset_by",
        "resolve_manually" => "resolved_by",
        "complete_manually" => "completed_by",
        other => return Err(BridgeError::invalid("resolution.action", format!("'{other}' is not one of {RESOLUTIONS:?}"))),
    };
    let mut body = json!({ "action_type": r.action, "reason": r.reason, by: r.by });
    if r.action == "complete_manually" {
        let result = r.result.ok_or_else(|| BridgeError::invalid("resolution.result", "required for complete_manually"))?;
        body["completion_data"] = json!({ "result": result, "metadata": r.metadata });
    }
    Ok(body)
}

/// The investigation queue's `dlqReason`s in snake_case, as everywhere else.
fn snake_case_reasons(mut queue: Value) -> Value {
    for entry in queue.as_array_mut().into_iter().flatten() {
        if let Some(Value::String(reason)) = entry.get_mut("dlqReason") {
            *reason = types::snake_case(reason);
        }
    }
    queue
}

/// A DLQ status as given (snake_case), checked, in the PascalCase tasker's API reads.
fn dlq_status(field: &str, status: Option<String>) -> BridgeResult<Option<String>> {
    match status {
        Some(s) if !DLQ_STATUSES.contains(&s.as_str()) => Err(BridgeError::invalid(field, format!("'{s}' is not one of {DLQ_STATUSES:?}"))),
        other => Ok(other.map(|s| pascal(&s))),
    }
}

/// `manually_resolved` → `ManuallyResolved`.
fn pascal(snake: &str) -> String {
    snake.split('_').map(|w| w.chars().enumerate().map(|(i, c)| if i == 0 { c.to_ascii_uppercase() } else { c }).collect::<String>()).collect()
}

/// A client of tasker-orchestration's API (see `NativeTaskerClient`).
#[napi(ts_args_type = "options?: ClientOptions", ts_return_type = "NativeTaskerClient")]
pub fn create_tasker_client<'env>(env: &'env Env, options: Unknown<'_>) -> napi::Result<Object<'env>, ErrorCode> {
    guard(|| {
        let options: Option<ClientOptions> = arg(options, "options")?;
        let (client, transport) = build_client(options.unwrap_or_default())?;
        handle(env, Arc::new(client), transport)
    })
}

/// A method that calls through its own reference to the client.
fn with<F>(client: &Arc<Client>, f: F) -> impl Fn(&Args<'_>) -> BridgeResult<Raw> + 'static
where
    F: Fn(&Args<'_>, &Arc<Client>) -> BridgeResult<Raw> + 'static,
{
    let client = client.clone();
    move |a| f(a, &client)
}

fn handle<'env>(env: &'env Env, client: Arc<Client>, transport: String) -> BridgeResult<Object<'env>> {
    // Each method: the call its arguments make, and how its answer is shaped.
    let c = &client;
    HandleBuilder::new(env)?
        .method("createTask", with(c, |a, c| {
            let call = arg::<CreateTaskRequest>(a.get(0)?, "request").and_then(checked_task_request).map(Call::CreateTask);
            promised(a, c, call, decode::<TaskRecord>)
        }))?
        .method("getTask", with(c, |a, c| promised(a, c, uuid_arg(a, 0, "taskUuid").map(Call::GetTask), decode::<TaskRecord>)))?
        .method("listTasks", with(c, |a, c| {
            let call = arg::<Option<ListTasksQuery>>(a.get(0)?, "query").and_then(|q| {
                let q = q.unwrap_or_default();
                let per_page = q.per_page.map_or(25, Whole::get);
                if !(1..=100).contains(&per_page) {
                    return Err(BridgeError::invalid("query.perPage", format!("{per_page} is outside 1..=100")));
                }
                if let Some(status) = q.status.as_deref().filter(|s| !LIST_STATUSES.contains(s)) {
                    return Err(BridgeError::invalid("query.status", format!("'{status}' is not one of {LIST_STATUSES:?} (a list filters on whether a task has finished)")));
                }
                Ok(Call::ListTasks { page: q.page.map_or(1, Whole::get).max(1), per_page, namespace: q.namespace, status: q.status, initiator: q.initiator, source_system: q.source_system })
            });
            promised(a, c, call, decode::<TaskPage>)
        }))?
        .method("cancelTask", with(c, |a, c| promised(a, c, uuid_arg(a, 0, "taskUuid").map(Call::CancelTask), |_| Ok(()))))?
        .method("getTaskContext", with(c, |a, c| {
            promised(a, c, uuid_arg(a, 0, "taskUuid").map(Call::GetTask), |v| Ok(Json(v.get("context").cloned().unwrap_or(Value::Null))))
        }))?
        .method("getTaskSummary", with(c, |a, c| promised(a, c, uuid_arg(a, 0, "taskUuid").map(Call::TaskSummary), |v| Ok(Json(camel_case_keys(v))))))?
        .method("listSteps", with(c, |a, c| promised(a, c, uuid_arg(a, 0, "taskUuid").map(Call::ListSteps), decode::<Vec<StepRecord>>)))?
        .method("getStep", with(c, |a, c| {
            let call = uuid_arg(a, 0, "taskUuid").and_then(|t| Ok(Call::GetStep(t, uuid_arg(a, 1, "stepUuid")?)));
            promised(a, c, call, decode::<StepRecord>)
        }))?
        .method("getStepAudit", with(c, |a, c| {
            let call = uuid_arg(a, 0, "taskUuid").and_then(|t| Ok(Call::StepAudit(t, uuid_arg(a, 1, "stepUuid")?)));
            promised(a, c, call, decode::<Vec<StepAudit>>)
        }))?
        .method("resolveStep", with(c, |a, c| {
            let call = uuid_arg(a, 0, "taskUuid").and_then(|t| {
                let s = uuid_arg(a, 1, "stepUuid")?;
                Ok(Call::ResolveStep(t, s, resolution_body(arg(a.get(2)?, "resolution")?)?))
            });
            promised(a, c, call, decode::<StepRecord>)
        }))?
        .method("listTemplates", with(c, |a, c| promised(a, c, arg::<Option<String>>(a.get(0)?, "namespace").map(Call::ListTemplates), decode::<TemplateList>)))?
        .method("getTemplate", with(c, |a, c| {
            let call = (|| Ok(Call::GetTemplate(text_arg(a, 0, "namespace")?, text_arg(a, 1, "name")?, text_arg(a, 2, "version")?)))();
            promised(a, c, call, decode::<TemplateDetail>)
        }))?
        .method("validateTemplate", with(c, |a, c| {
            let call = (|| Ok(Call::ValidateTemplate(text_arg(a, 0, "namespace")?, text_arg(a, 1, "name")?, text_arg(a, 2, "version")?)))();
            promised(a, c, call, |v| Ok(Json(camel_case_keys(v))))
        }))?
        .method("health", with(c, |a, c| promised(a, c, Ok(Call::Health), decode::<HealthStatus>)))?
        .method("healthDetailed", with(c, |a, c| promised(a, c, Ok(Call::HealthDetailed), |v| Ok(Json(camel_case_keys(v))))))?
        .method("liveness", with(c, |a, c| promised(a, c, Ok(Call::Liveness), decode::<HealthStatus>)))?
        .method("readiness", with(c, |a, c| promised(a, c, Ok(Call::Readiness), |v| Ok(Json(camel_case_keys(v))))))?
        .method("listDlq", with(c, |a, c| {
            let call = arg::<Option<DlqQuery>>(a.get(0)?, "query").and_then(|q| {
                let q = q.unwrap_or_default();
                let limit = q.limit.map_or(50, Whole::get);
                if !(1..=1000).contains(&limit) {
                    return Err(BridgeError::invalid("query.limit", format!("{limit} is outside 1..=1000")));
                }
                Ok(Call::ListDlq { resolution_status: dlq_status("query.resolutionStatus", q.resolution_status)?, limit: limit.into(), offset: q.offset.map_or(0, Whole::get).into() })
            });
            promised(a, c, call, decode::<Vec<DlqEntry>>)
        }))?
        .method("getDlqEntry", with(c, |a, c| promised(a, c, uuid_arg(a, 0, "taskUuid").map(Call::GetDlqEntry), decode::<DlqEntry>)))?
        .method("getDlqStats", with(c, |a, c| promised(a, c, Ok(Call::DlqStats), decode::<Vec<DlqStats>>)))?
        .method("updateDlqInvestigation", with(c, |a, c| {
            let call = uuid_arg(a, 0, "dlqEntryUuid").and_then(|e| {
                let u: DlqUpdate = arg(a.get(1)?, "update")?;
                let body = json!({
                    "resolution_status": dlq_status("update.resolutionStatus", u.resolution_status)?,
                    "resolution_notes": u.resolution_notes,
                    "resolved_by": u.resolved_by,
                    "metadata": u.metadata,
                });
                Ok(Call::UpdateDlq(e, body))
            });
            promised(a, c, call, |_| Ok(()))
        }))?
        .method("getDlqInvestigationQueue", with(c, |a, c| {
            let call = arg::<Option<Whole>>(a.get(0)?, "limit").map(|l| Call::DlqQueue(l.map(|l| i64::from(l.get()))));
            promised(a, c, call, |v| Ok(Json(snake_case_reasons(camel_case_keys(v)))))
        }))?
        .method("getStalenessMonitoring", with(c, |a, c| {
            let call = arg::<Option<Whole>>(a.get(0)?, "limit").map(|l| Call::Staleness(l.map(|l| i64::from(l.get()))));
            promised(a, c, call, |v| Ok(Json(camel_case_keys(v))))
        }))?
        .method("getWorkerMetrics", with(c, |a, c| promised(a, c, Ok(Call::WorkerMetrics), |v| Ok(Json(camel_case_keys(v))))))?
        .method("getDomainEventStats", with(c, |a, c| promised(a, c, Ok(Call::DomainEventStats), |v| Ok(Json(camel_case_keys(v))))))?
        .getter("transport", move || transport.clone())?
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_request_is_checked() {
        let request = |name: &str, priority| CreateTaskRequest { name: name.into(), namespace: "ns".into(), priority, ..Default::default() };
        assert!(checked_task_request(request("n", Some(100))).is_ok());
        assert!(checked_task_request(request("n", Some(101))).is_err());
        assert!(checked_task_request(request(" ", None)).is_err());
    }

    #[test]
    fn resolutions_use_taskers_shape() {
        let body = resolution_body(StepResolution { action: "complete_manually".into(), reason: "r".into(), by: "ops".into(), result: Some(json!({"ok": 1})), metadata: None }).unwrap();
        assert_eq!(body["action_type"], "complete_manually");
        assert_eq!(body["completed_by"], "ops");
        assert_eq!(body["completion_data"]["result"]["ok"], 1);
        assert!(resolution_body(StepResolution { action: "explode".into(), ..Default::default() }).is_err());
    }

    #[test]
    fn dlq_statuses_are_checked_and_turn_pascal_case() {
        assert_eq!(dlq_status("s", Some("manually_resolved".into())).unwrap().as_deref(), Some("ManuallyResolved"));
        assert_eq!(dlq_status("s", Some("pending".into())).unwrap().as_deref(), Some("Pending"));
        assert!(dlq_status("s", Some("Pending".into())).is_err());
    }

    #[test]
    fn options_are_checked() {
        assert!(build_client(ClientOptions { transport: Some("smoke".into()), ..Default::default() }).is_err());
        assert!(build_client(ClientOptions { base_url: Some("ftp://x".into()), ..Default::default() }).is_err());
        assert!(build_client(ClientOptions { timeout_ms: Some(Whole(5)), ..Default::default() }).is_err());
        assert!(build_client(ClientOptions::default()).is_ok());
    }
}
