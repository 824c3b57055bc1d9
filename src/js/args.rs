//! Arguments arrive as raw JS values and are converted here, so that a value
//! of the wrong type is an `INVALID_ARGUMENT` error naming the argument
//! (napi's own conversion would throw with its internal status as the code).

use napi::bindgen_prelude::{FromNapiValue, Unknown, ValidateNapiValue};
use napi::{sys, JsValue};

use crate::error::{BridgeError, BridgeResult, JsCause};

/// Converts argument `name` to `T` (an `Option<T>` accepts undefined and null).
/// When reading the value throws (a getter, a Proxy trap), the exception is
/// taken back from the engine: the call fails with INVALID_ARGUMENT naming
/// the argument, the thrown value as its `cause`.
pub fn arg<T: FromNapiValue + ValidateNapiValue>(value: Unknown<'_>, name: &str) -> BridgeResult<T> {
    let raw = value.value();
    let converted = unsafe { T::validate(raw.env, raw.value).and_then(|_| T::from_napi_value(raw.env, raw.value)) };
    converted.map_err(|e| match unsafe { take_exception(raw.env) } {
        Some((text, cause)) => BridgeError::invalid(name, format!("reading it threw: {text}")).with_cause(cause),
        None => BridgeError::invalid(name, e.reason.clone()),
    })
}

/// Clears a pending JS exception; its text and the value itself.
pub unsafe fn take_exception(env: sys::napi_env) -> Option<(String, JsCause)> {
    let mut pending = false;
    if sys::napi_is_exception_pending(env, &mut pending) != sys::Status::napi_ok || !pending {
        return None;
    }
    let mut thrown = std::ptr::null_mut();
    if sys::napi_get_and_clear_last_exception(env, &mut thrown) != sys::Status::napi_ok {
        return None;
    }
    let unknown = Unknown::from_napi_value(env, thrown).ok()?;
    let error = napi::Error::from(unknown);
    Some((error.reason.clone(), JsCause::new(error)))
}
