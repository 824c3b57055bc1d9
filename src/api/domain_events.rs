//! The domain event exports that need the running worker: its statistics,
//! and subscriptions of its in-process bus (src/domain_events/ delivers).

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::client::types::{camel_case_keys, Json};
use crate::domain_events::{self, SubscriptionArgs};
use crate::error::{guard, ErrorCode};
use crate::worker;

/// The running worker's domain event statistics: its event router (durable
/// and fast routing) and in-process bus (dispatches to subscribers, drops).
#[napi(ts_return_type = "Record<string, unknown>")]
pub fn get_domain_event_stats() -> napi::Result<Json, ErrorCode> {
    guard(|| {
        let w = worker::current()?;
        let stats = w.handle.block_on(w.domain_event_stats());
        Ok(Json(camel_case_keys(stats)))
    })
}

/// Delivers the worker's in-process domain events matching `patterns` to
/// `callback`, as they are published.
#[napi(ts_args_type = "callback: (event: DomainEventInfo) => unknown, options?: DomainEventOptions", ts_return_type = "DomainEventSubscription")]
pub fn subscribe_domain_events<'env>(env: &'env Env, callback: Unknown<'_>, options: Unknown<'_>) -> napi::Result<Object<'env>, ErrorCode> {
    guard(|| {
        let args = SubscriptionArgs::parse(callback, options)?;
        let w = worker::current()?;
        let bus = w.event_bus();
        let receiver = w.handle.block_on(async { bus.read().await.subscribe_ffi() });
        domain_events::subscribe(env, &w.handle, receiver, args)
    })
}
