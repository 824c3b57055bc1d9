//! Promise-returning exports that reject with coded errors.
//!
//! `#[napi] async fn` can only reject with napi's own status codes, so the
//! async forms build their Promise here: the work runs on the worker's (or a
//! dedicated) thread and settles the Promise on the JS thread, where a JS
//! Error carrying our `code` is created.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};

use futures::FutureExt;
use napi::bindgen_prelude::*;
use napi::{Env, JsDeferred, JsError};

use crate::error::{panic_error, BridgeError, BridgeResult, ErrorCode};

type Settle<T> = Box<dyn FnOnce(Env) -> napi::Result<T> + Send>;

/// A JS Error with `code` set (and `cause`, if any), as a napi error that
/// throws or rejects with that object.
pub fn coded(env: &Env, mut err: BridgeError) -> napi::Error {
    let text = err.to_string();
    let details = err.details.take();
    let raw = unsafe { JsError::from(napi::Error::<ErrorCode>::from(err)).into_value(env.raw()) };
    if raw.is_null() {
        return napi::Error::new(Status::GenericFailure, text);
    }
    for (key, value) in details.into_iter().flatten() {
        unsafe {
            if let (Ok(name), Ok(value)) = (std::ffi::CString::new(key), crate::conversions::json::to_js(env.raw(), &value)) {
                napi::sys::napi_set_named_property(env.raw(), raw, name.as_ptr(), value);
            }
        }
    }
    match unsafe { Unknown::from_napi_value(env.raw(), raw) } {
        Ok(value) => napi::Error::from(value),
        Err(_) => napi::Error::new(Status::GenericFailure, text),
    }
}

/// The body of a Promise-returning export, under the panic guard: an error
/// or a panic while checking the arguments (or starting the work) becomes a
/// rejected Promise with a coded error, never a throw or an abort.
pub fn guarded<'env>(env: &'env Env, body: impl FnOnce() -> BridgeResult<Object<'env>>) -> napi::Result<Object<'env>> {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(promise)) => Ok(promise),
        Ok(Err(e)) => rejected(env, e),
        Err(panic) => rejected(env, panic_error(panic)),
    }
}

/// A Promise's settle side that rejects if it is dropped unsettled (its task
/// was never run: the runtime it was spawned on had shut down).
struct Pending<T: ToNapiValue + Send + 'static>(Option<JsDeferred<T, Settle<T>>>);

impl<T: ToNapiValue + Send + 'static> Pending<T> {
    fn settle(mut self, outcome: BridgeResult<T>) {
        if let Some(deferred) = self.0.take() {
            deferred.resolve(settle(outcome));
        }
    }
}

impl<T: ToNapiValue + Send + 'static> Drop for Pending<T> {
    fn drop(&mut self) {
        if let Some(deferred) = self.0.take() {
            deferred.resolve(settle(Err(BridgeError::new(
                ErrorCode::ChannelClosed,
                "the worker (or harness) stopped before this call could finish",
            ))));
        }
    }
}

fn deferred<'env, T: ToNapiValue + Send + 'static>(env: &'env Env) -> BridgeResult<(Pending<T>, Object<'env>)> {
    let (deferred, promise) = env
        .create_deferred::<T, Settle<T>>()
        .map_err(|e| BridgeError::internal(format!("could not create a Promise: {}", e.reason)))?;
    Ok((Pending(Some(deferred)), promise))
}

/// Runs `work` on `runtime` and returns a Promise of its result.
pub fn spawn_on<'env, T, F>(env: &'env Env, runtime: &tokio::runtime::Handle, work: F) -> BridgeResult<Object<'env>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = BridgeResult<T>> + Send + 'static,
{
    let (pending, promise) = deferred::<T>(env)?;
    runtime.spawn(async move {
        let outcome = AssertUnwindSafe(work).catch_unwind().await.unwrap_or_else(|p| Err(panic_error(p)));
        pending.settle(outcome);
    });
    Ok(promise)
}

/// Runs blocking `work` on a new thread and returns a Promise of its result.
pub fn spawn_thread<'env, T, F>(env: &'env Env, name: &str, work: F) -> BridgeResult<Object<'env>>
where
    T: ToNapiValue + Send + 'static,
    F: FnOnce() -> BridgeResult<T> + Send + 'static,
{
    let (pending, promise) = deferred::<T>(env)?;
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|p| Err(panic_error(p)));
            pending.settle(outcome);
        })
        .map_err(|e| BridgeError::internal(format!("could not start a thread: {e}")))?;
    Ok(promise)
}

/// A Promise already rejected with `err` (bad input found before any work).
pub fn rejected<'env>(env: &'env Env, err: BridgeError) -> napi::Result<Object<'env>> {
    let (deferred, promise) = env.create_deferred::<(), Settle<()>>()?;
    deferred.resolve(settle(Err(err)));
    Ok(promise)
}

fn settle<T: Send + 'static>(outcome: BridgeResult<T>) -> Settle<T> {
    match outcome {
        Ok(value) => Box::new(move |_| Ok(value)),
        Err(err) => Box::new(move |env| Err(coded(&env, err))),
    }
}
