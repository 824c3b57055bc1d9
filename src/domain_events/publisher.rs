//! Custom publishers in JS. A step template may name a `publisher` for its
//! domain events; for each name the templates use, the worker registers a
//! publisher with tasker-worker that, when the step completes, asks the JS
//! function registered under that name (`registerDomainEventPublisher`) for
//! each declared event's payload: it answers the payload to publish, or
//! null/undefined not to publish it. tasker then checks the event's schema
//! and delivers it by its declared mode (durable queue, in-process bus).
//! With no JS function registered, the step's result is the payload (as
//! tasker's default publisher does). The function may answer at once or
//! with a Promise; a throw, a rejection, a reply that is not JSON or one
//! later than REPLY_WITHIN skips that event, logged; the step is not affected.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde::Serialize;
use serde_json::Value;
use tasker_shared::events::domain_events::DomainEventPublisher;
use tasker_shared::models::core::task_template::EventDeliveryMode;
use tasker_worker::worker::{EventRouter, PublishResult, StepEventContext, StepEventPublisher};

use crate::js::arg;
use crate::callbacks::{self, Followed, Returned, Settled, SinkId};
use crate::error::{guard, BridgeError, ErrorCode};
use crate::sync::lock;

const REPLY_WITHIN: Duration = Duration::from_secs(5);

/// What a JS publisher receives for each declared event of a completed step.
#[napi(object, object_to_js = false)]
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublisherContext {
    pub event_name: String,
    /// `durable`, `fast` or `broadcast`.
    pub delivery_mode: String,
    /// What would be published without this publisher: the step's result.
    pub payload: Value,
    pub step_succeeded: bool,
    pub step_name: String,
    pub step_uuid: String,
    pub task_uuid: String,
    pub namespace: String,
    pub correlation_id: String,
    /// The context the task was created with.
    pub task_context: Value,
}

impl ToNapiValue for PublisherContext {
    unsafe fn to_napi_value(env: napi::sys::napi_env, value: Self) -> napi::Result<napi::sys::napi_value> {
        crate::conversions::json::to_js(env, &value)
    }
}

// Weak: a registered publisher must not keep the process alive.
type Shaper = ThreadsafeFunction<PublisherContext, Returned, PublisherContext, Status, false, true>;

type Reply = std::result::Result<Option<Value>, String>;

static SHAPERS: Mutex<Option<HashMap<String, Arc<Shaper>>>> = Mutex::new(None);

/// Registers the JS function that shapes the payloads of the publisher
/// `name` (as templates name it in `publishes_events[].publisher`). The
/// function answers the payload, or null/undefined not to publish, at once
/// or as a Promise (an `async` function). Replaces an earlier registration.
#[napi(ts_args_type = "name: string, publisher: (context: PublisherContext) => unknown")]
pub fn register_domain_event_publisher(name: Unknown<'_>, publisher: Unknown<'_>) -> napi::Result<(), ErrorCode> {
    guard(|| {
        let name: String = arg(name, "name")?;
        if name.trim().is_empty() {
            return Err(BridgeError::invalid("name", "must not be empty"));
        }
        let function: Function<'_, PublisherContext, Returned> = arg(publisher, "publisher")?;
        let shaper: Shaper = function
            .build_threadsafe_function::<PublisherContext>()
            .callee_handled::<false>()
            .weak::<true>()
            .build()
            .map_err(|e| BridgeError::invalid("publisher", format!("cannot be called from the worker: {e}")))?;
        lock(&SHAPERS).get_or_insert_with(HashMap::new).insert(name, Arc::new(shaper));
        Ok(())
    })
}

fn shaper(name: &str) -> Option<Arc<Shaper>> {
    lock(&SHAPERS).as_ref().and_then(|m| m.get(name).cloned())
}

fn mode_name(mode: &EventDeliveryMode) -> String {
    match serde_json::to_value(mode) {
        Ok(Value::String(s)) => s,
        _ => "durable".into(),
    }
}

/// The handler's own result (a decision or batch step's is in an envelope).
fn handler_result(result: &Value) -> Value {
    match result.get("result_envelope") {
        Some(Value::String(tag)) if tag == crate::conversions::result::ENVELOPE => result.get("result").cloned().unwrap_or(Value::Null),
        _ => result.clone(),
    }
}

/// The tasker publisher for one publisher name the templates use.
#[derive(Debug)]
pub struct JsPublisher {
    name: String,
    domain_publisher: Arc<DomainEventPublisher>,
    event_router: Option<Arc<EventRouter>>,
}

impl JsPublisher {
    pub fn new(name: String, domain_publisher: Arc<DomainEventPublisher>, event_router: Option<Arc<EventRouter>>) -> Self {
        Self { name, domain_publisher, event_router }
    }

    /// The payload JS makes of `default` (None: do not publish).
    async fn shape(&self, context: PublisherContext) -> Reply {
        let Some(shaper) = shaper(&self.name) else { return Ok(Some(context.payload)) };
        let (answer, reply) = tokio::sync::oneshot::channel::<Reply>();
        let answer = Arc::new(Mutex::new(Some(answer)));
        let respond = move |outcome: Reply| {
            if let Some(answer) = lock(&answer).take() {
                let _ = answer.send(outcome);
            }
        };
        let later = respond.clone();
        let sink = SinkId::register(move |_, settled| {
            later(match settled {
                Settled::Fulfilled(payload) => Ok(payload),
                Settled::Rejected(why) => Err(format!("its Promise rejected: {why}")),
            })
        });
        let sink = Arc::new(sink);
        let held = sink.clone();
        let status = shaper.call_with_return_value(context, ThreadsafeFunctionCallMode::NonBlocking, move |returned: Result<Returned>, env| {
            match returned {
                Err(thrown) => respond(Err(format!("it threw: {}", thrown.reason))),
                Ok(value) => match callbacks::follow(&env, &value, &held, "", true) {
                    Followed::Thenable => {}
                    Followed::Broken(why) => respond(Err(format!("its thenable failed: {why}"))),
                    Followed::Value => respond(match callbacks::value_of(&env, &value) {
                        Settled::Fulfilled(payload) => Ok(payload),
                        Settled::Rejected(why) => Err(format!("its answer {why}")),
                    }),
                },
            }
            Ok(())
        });
        if status != Status::Ok {
            return Err(format!("it could not be called ({status})"));
        }
        let outcome = match tokio::time::timeout(REPLY_WITHIN, reply).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => Err("the runtime shut down before it answered".into()),
            Err(_) => Err(format!("no reply within {} s", REPLY_WITHIN.as_secs())),
        };
        drop(sink);
        outcome
    }
}

#[async_trait]
impl StepEventPublisher for JsPublisher {
    fn name(&self) -> &str {
        &self.name
    }

    fn domain_publisher(&self) -> &Arc<DomainEventPublisher> {
        &self.domain_publisher
    }

    fn event_router(&self) -> Option<Arc<EventRouter>> {
        self.event_router.clone()
    }

    async fn publish(&self, ctx: &StepEventContext) -> PublishResult {
        let mut outcome = PublishResult::new();
        let succeeded = ctx.step_succeeded();
        let result = handler_result(&ctx.execution_result.result);
        for declared in ctx.declared_events() {
            if !declared.should_publish(succeeded) {
                outcome.skipped.push(declared.name.clone());
                continue;
            }
            let context = PublisherContext {
                event_name: declared.name.clone(),
                delivery_mode: mode_name(&declared.delivery_mode),
                payload: result.clone(),
                step_succeeded: succeeded,
                step_name: ctx.step_name().to_string(),
                step_uuid: ctx.step_uuid().to_string(),
                task_uuid: ctx.task_uuid().to_string(),
                namespace: ctx.namespace().to_string(),
                correlation_id: ctx.correlation_id().to_string(),
                task_context: ctx.task_sequence_step.task.task.context.clone().unwrap_or(Value::Null),
            };
            let payload = match self.shape(context).await {
                Ok(Some(payload)) => payload,
                Ok(None) => {
                    outcome.skipped.push(declared.name.clone());
                    continue;
                }
                Err(why) => {
                    tracing::warn!(target: "tasker_worker_js", publisher = %self.name, event = %declared.name, "the JS publisher failed ({why}); the event is not published");
                    outcome.errors.push(format!("{}: {why}", declared.name));
                    continue;
                }
            };
            if let Err(invalid) = declared.validate_payload(&payload) {
                tracing::warn!(target: "tasker_worker_js", publisher = %self.name, event = %declared.name, error = %invalid, "the payload does not match the event's schema; not published");
                outcome.errors.push(format!("{}: {invalid}", declared.name));
                continue;
            }
            match self.publish_event_with_delivery_mode(ctx, &declared.name, payload, declared.delivery_mode).await {
                Ok(id) => outcome.published.push(id),
                Err(e) => outcome.errors.push(e.to_string()),
            }
        }
        outcome
    }
}
