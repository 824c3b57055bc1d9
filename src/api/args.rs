//! Arguments arrive as raw JS values and are converted here, so that a value
//! of the wrong type is an `INVALID_ARGUMENT` error naming the argument
//! (napi's own conversion would throw with its internal status as the code).

use napi::bindgen_prelude::{FromNapiValue, Unknown, ValidateNapiValue};
use napi::JsValue;

use crate::error::{BridgeError, BridgeResult};

/// Converts argument `name` to `T` (an `Option<T>` accepts undefined and null).
pub fn arg<T: FromNapiValue + ValidateNapiValue>(value: Unknown<'_>, name: &str) -> BridgeResult<T> {
    let raw = value.value();
    let invalid = |e: napi::Error| BridgeError::invalid(name, e.reason.clone());
    unsafe {
        T::validate(raw.env, raw.value).map_err(invalid)?;
        T::from_napi_value(raw.env, raw.value).map_err(invalid)
    }
}
