//! Promise-returning exports that reject with coded errors.
//!
//! `#[napi] async fn` can only reject with napi's own status codes, so the
//! async forms build their Promise here: the work runs on the worker's (or a
//! dedicated) thread and settles the Promise on the JS thread, where a JS
//! Error carrying our `code` is created.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use napi::bindgen_prelude::*;
use napi::{Env, JsError};

use crate::error::{panic_error, BridgeError, BridgeResult};

type Settle<T> = Box<dyn FnOnce(Env) -> napi::Result<T> + Send>;

/// A JS Error with `code` set, as a napi error that rejects with that object.
fn coded(env: &Env, err: BridgeError) -> napi::Error {
    let raw = unsafe { JsError::from(napi::Error::new(err.code, err.message.clone())).into_value(env.raw()) };
    if raw.is_null() {
        return napi::Error::new(Status::GenericFailure, err.to_string());
    }
    match unsafe { Unknown::from_napi_value(env.raw(), raw) } {
        Ok(value) => napi::Error::from(value),
        Err(_) => napi::Error::new(Status::GenericFailure, err.to_string()),
    }
}

/// Runs `work` on `runtime` and returns a Promise of its result.
pub fn spawn_on<'env, T, F>(env: &'env Env, runtime: &tokio::runtime::Handle, work: F) -> napi::Result<Object<'env>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = BridgeResult<T>> + Send + 'static,
{
    let (deferred, promise) = env.create_deferred::<T, Settle<T>>()?;
    runtime.spawn(async move {
        let outcome = AssertUnwindSafe(work).catch_unwind().await.unwrap_or_else(|p| Err(panic_error(p)));
        deferred.resolve(settle(outcome));
    });
    Ok(promise)
}

/// Runs blocking `work` on a new thread and returns a Promise of its result.
pub fn spawn_thread<'env, T, F>(env: &'env Env, name: &str, work: F) -> napi::Result<Object<'env>>
where
    T: ToNapiValue + Send + 'static,
    F: FnOnce() -> BridgeResult<T> + Send + 'static,
{
    let (deferred, promise) = env.create_deferred::<T, Settle<T>>()?;
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|p| Err(panic_error(p)));
            deferred.resolve(settle(outcome));
        })
        .map_err(|e| napi::Error::new(Status::GenericFailure, format!("could not start a thread: {e}")))?;
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
