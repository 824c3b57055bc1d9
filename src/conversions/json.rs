//! The two large objects that cross the bridge for every step, the step
//! event (Rust → JS) and the completion (JS → Rust), are converted through
//! V8's own JSON.parse / JSON.stringify with serde on the Rust side.
//!
//! Why: napi's generic conversion builds or walks a JS object with several
//! Node-API calls per value, and a step event of a few KB holds hundreds of
//! values (task context, dependency results). Measured with `npm run bench`,
//! that cost twice what a JSON string costs; one native parse or stringify
//! does the same walk inside the engine. JS still sees only typed objects
//! (the types in index.d.ts come from the Rust structs). It also gives the
//! semantics the API documents for results, "must be JSON-serializable":
//! `toJSON` and Dates are honoured, a cycle or a BigInt is a clear error.

use std::ptr;

use napi::bindgen_prelude::FromNapiValue;
use napi::{sys, Error, Result, Status, ValueType};
use serde::de::DeserializeOwned;
use serde::Serialize;

fn invalid(message: String) -> Error {
    Error::new(Status::InvalidArg, message)
}

unsafe fn ok(status: sys::napi_status, what: &str) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Error::new(Status::from(status), format!("could not {what}")))
    }
}

unsafe fn value_type(env: sys::napi_env, value: sys::napi_value) -> Result<ValueType> {
    let mut kind = 0;
    ok(sys::napi_typeof(env, value, &mut kind), "read the type of a value")?;
    Ok(ValueType::from(kind))
}

/// `JSON[name]` and `JSON`, to call it with `JSON` as `this`.
unsafe fn json_function(env: sys::napi_env, name: &std::ffi::CStr) -> Result<(sys::napi_value, sys::napi_value)> {
    let (mut global, mut json, mut function) = (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
    ok(sys::napi_get_global(env, &mut global), "get the global object")?;
    ok(sys::napi_get_named_property(env, global, c"JSON".as_ptr(), &mut json), "get JSON")?;
    ok(sys::napi_get_named_property(env, json, name.as_ptr(), &mut function), "get a JSON function")?;
    Ok((json, function))
}

/// Clears the pending JS exception and returns its text.
pub(crate) unsafe fn take_exception(env: sys::napi_env) -> String {
    let (mut thrown, mut text) = (ptr::null_mut(), ptr::null_mut());
    sys::napi_get_and_clear_last_exception(env, &mut thrown);
    if sys::napi_coerce_to_string(env, thrown, &mut text) == sys::Status::napi_ok {
        String::from_napi_value(env, text).unwrap_or_default()
    } else {
        String::new()
    }
}

/// The JS object of `value`'s JSON form.
pub unsafe fn to_js<T: Serialize>(env: sys::napi_env, value: &T) -> Result<sys::napi_value> {
    let text = serde_json::to_string(value).map_err(|e| Error::new(Status::GenericFailure, e.to_string()))?;
    text_to_js(env, &text)
}

/// The JS value of JSON `text` (made by serde_json, so it parses).
pub unsafe fn text_to_js(env: sys::napi_env, text: &str) -> Result<sys::napi_value> {
    let mut string = ptr::null_mut();
    // Mostly ASCII: a one-byte string is a copy, with no UTF-8 decoding.
    let created = if text.is_ascii() {
        sys::napi_create_string_latin1(env, text.as_ptr().cast(), text.len() as isize, &mut string)
    } else {
        sys::napi_create_string_utf8(env, text.as_ptr().cast(), text.len() as isize, &mut string)
    };
    ok(created, "create a string")?;
    let (json, parse) = json_function(env, c"parse")?;
    let mut out = ptr::null_mut();
    let status = sys::napi_call_function(env, json, parse, 1, &string, &mut out);
    if status == sys::Status::napi_pending_exception {
        return Err(Error::new(Status::GenericFailure, format!("JSON.parse failed: {}", take_exception(env))));
    }
    ok(status, "call JSON.parse")?;
    Ok(out)
}

/// `value` (a JS object) as `T`, through JSON.stringify; errors name the field.
pub unsafe fn from_js<T: DeserializeOwned>(env: sys::napi_env, value: sys::napi_value) -> Result<T> {
    let (json, stringify) = json_function(env, c"stringify")?;
    let mut out = ptr::null_mut();
    let status = sys::napi_call_function(env, json, stringify, 1, &value, &mut out);
    if status == sys::Status::napi_pending_exception {
        return Err(invalid(format!("is not JSON-serializable ({})", take_exception(env))));
    }
    ok(status, "call JSON.stringify")?;
    if value_type(env, out)? != ValueType::String {
        return Err(invalid("is not JSON-serializable".into()));
    }
    let text = String::from_napi_value(env, out)?;
    if let Some(at) = nul_escape(&text) {
        return Err(invalid(format!(
            "holds a NUL character (\\u0000) near {:?}, which PostgreSQL cannot store; remove it",
            &text[at.saturating_sub(40)..at]
        )));
    }
    // Fast path first; on failure parse again, tracking the path to name the field.
    serde_json::from_str(&text).or_else(|_| {
        let mut deserializer = serde_json::Deserializer::from_str(&text);
        serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner().to_string();
            // serde_json appends a position in the JSON text, meaningless to the caller.
            let inner = inner.split(" at line ").next().unwrap_or_default().to_string();
            if path == "." { invalid(inner) } else { invalid(format!("{path}: {inner}")) }
        })
    })
}

/// Where JSON text holds an escaped NUL character (`\u0000` preceded by an
/// even number of backslashes), if it does: PostgreSQL's jsonb cannot store
/// one, so tasker would fail to save the result and the step would be lost.
pub fn nul_escape(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(found) = text[from..].find("\\u0000") {
        let at = from + found;
        let backslashes = bytes[..at].iter().rev().take_while(|b| **b == b'\\').count();
        if backslashes % 2 == 0 {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Refuses a property JSON.stringify would drop without a word (a function or a symbol).
pub unsafe fn check_serializable_property(env: sys::napi_env, object: sys::napi_value, name: &std::ffi::CStr) -> Result<()> {
    let mut property = ptr::null_mut();
    ok(sys::napi_get_named_property(env, object, name.as_ptr(), &mut property), "read a property")?;
    let kind = match value_type(env, property)? {
        ValueType::Function => "a function",
        ValueType::Symbol => "a symbol",
        _ => return Ok(()),
    };
    Err(invalid(format!("{}: is not JSON-serializable ({kind})", name.to_string_lossy())))
}

/// Accepts objects only, as a typed object parameter does.
pub unsafe fn validate_object(env: sys::napi_env, value: sys::napi_value) -> Result<sys::napi_value> {
    let mut is_array = false;
    sys::napi_is_array(env, value, &mut is_array);
    if value_type(env, value)? != ValueType::Object || is_array {
        return Err(invalid("expected an object".into()));
    }
    Ok(ptr::null_mut())
}

#[cfg(test)]
mod tests {
    use super::nul_escape;

    #[test]
    fn finds_escaped_nul_characters_only() {
        assert_eq!(nul_escape(r#"{"a":"x\u0000"}"#), Some(7));
        assert_eq!(nul_escape(r#"{"a":"x\\u0000"}"#), None, "an escaped backslash then u0000 is text");
        assert_eq!(nul_escape(r#"{"a":"x\\\u0000"}"#), Some(9));
        assert_eq!(nul_escape(r#"{"a":1}"#), None);
    }
}
