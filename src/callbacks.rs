//! JS callbacks the worker calls (step events, domain events, publishers)
//! may be `async`. What such a callback returns is followed here, on the JS
//! thread, right after the call: a thenable's rejection goes to a Rust
//! "sink" (which fails the call's steps, counts the event, or answers the
//! publisher) instead of becoming an unhandled rejection that ends the host
//! process. Sync throws are reported by the callers the same way.
//!
//! The handlers attached with `then` are one static native function bound to
//! a sink id and a payload, so no per-call closure is leaked into the engine.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use napi::bindgen_prelude::*;
use napi::sys;
use serde_json::Value;

use crate::conversions::json;
use crate::sync::lock;

/// How a followed thenable settled.
pub enum Settled {
    /// Its value, as JSON (None for null/undefined); only when asked for.
    Fulfilled(Option<Value>),
    /// Why it rejected (or why its value could not be read).
    Rejected(String),
}

type Sink = Box<dyn FnMut(&str, Settled) + Send>;

static SINKS: Mutex<Option<HashMap<u64, Sink>>> = Mutex::new(None);
static NEXT_SINK: AtomicU64 = AtomicU64::new(1);

/// A registered sink; dropping it unregisters (later settlements are ignored).
pub struct SinkId(u64);

impl SinkId {
    /// Registers `sink`, called on the JS thread with the payload given to
    /// `follow` and how the thenable settled.
    pub fn register(sink: impl FnMut(&str, Settled) + Send + 'static) -> Self {
        let id = NEXT_SINK.fetch_add(1, Ordering::Relaxed);
        lock(&SINKS).get_or_insert_with(HashMap::new).insert(id, Box::new(sink));
        SinkId(id)
    }
}

impl Drop for SinkId {
    fn drop(&mut self) {
        if let Some(sinks) = lock(&SINKS).as_mut() {
            sinks.remove(&self.0);
        }
    }
}

fn deliver(id: u64, payload: &str, settled: Settled) {
    // Taken out while it runs: a sink may register or drop others.
    let Some(mut sink) = lock(&SINKS).as_mut().and_then(|s| s.remove(&id)) else { return };
    sink(payload, settled);
    if let Some(sinks) = lock(&SINKS).as_mut() {
        sinks.entry(id).or_insert(sink);
    }
}

/// A callback's return value, raw: valid only inside the TSFN return handler
/// it is given to (the same native frame that made the call).
pub struct Returned(sys::napi_value);

impl TypeName for Returned {
    fn type_name() -> &'static str {
        "unknown"
    }
    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl ValidateNapiValue for Returned {}

impl FromNapiValue for Returned {
    unsafe fn from_napi_value(_env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        Ok(Returned(value))
    }
}

/// What `follow` found.
#[derive(Debug, PartialEq)]
pub enum Followed {
    /// Not a thenable: the call is over.
    Value,
    /// A thenable: its settlement will reach the sink.
    Thenable,
    /// A thenable whose `then` could not be read or called (the reason).
    Broken(String),
}

/// If `returned` is a thenable, has its rejection (and, with `want_value`,
/// its value) delivered to `sink` with `payload`.
pub fn follow(env: &Env, returned: &Returned, sink: &SinkId, payload: &str, want_value: bool) -> Followed {
    let outcome = catch_unwind(AssertUnwindSafe(|| unsafe { follow_raw(env.raw(), returned.0, sink.0, payload, want_value) }));
    outcome.unwrap_or_else(|_| Followed::Broken("the returned value could not be inspected".into()))
}

unsafe fn type_of(env: sys::napi_env, value: sys::napi_value) -> ValueType {
    let mut kind = 0;
    if sys::napi_typeof(env, value, &mut kind) != sys::Status::napi_ok {
        return ValueType::Unknown;
    }
    ValueType::from(kind)
}

unsafe fn follow_raw(env: sys::napi_env, value: sys::napi_value, sink: u64, payload: &str, want_value: bool) -> Followed {
    if value.is_null() || !matches!(type_of(env, value), ValueType::Object | ValueType::Function) {
        return Followed::Value;
    }
    let mut then = ptr::null_mut();
    if sys::napi_get_named_property(env, value, c"then".as_ptr(), &mut then) != sys::Status::napi_ok {
        return Followed::Broken(format!("reading its `then` threw: {}", json::take_exception(env)));
    }
    if type_of(env, then) != ValueType::Function {
        return Followed::Value;
    }
    let (Some(on_rejected), on_fulfilled) = (handler(env, sink, payload, true), if want_value { handler(env, sink, payload, false) } else { None }) else {
        return Followed::Broken("could not create its rejection handler".into());
    };
    let mut undefined = ptr::null_mut();
    sys::napi_get_undefined(env, &mut undefined);
    let args = [on_fulfilled.unwrap_or(undefined), on_rejected];
    let mut ignored = ptr::null_mut();
    if sys::napi_call_function(env, value, then, 2, args.as_ptr(), &mut ignored) != sys::Status::napi_ok {
        return Followed::Broken(format!("calling its `then` threw: {}", json::take_exception(env)));
    }
    Followed::Thenable
}

/// `settled.bind(undefined, sink, payload, rejected)`.
unsafe fn handler(env: sys::napi_env, sink: u64, payload: &str, rejected: bool) -> Option<sys::napi_value> {
    let mut function = ptr::null_mut();
    let name = "settled";
    if sys::napi_create_function(env, name.as_ptr().cast(), name.len() as isize, Some(settled), ptr::null_mut(), &mut function) != sys::Status::napi_ok {
        return None;
    }
    let mut bind = ptr::null_mut();
    if sys::napi_get_named_property(env, function, c"bind".as_ptr(), &mut bind) != sys::Status::napi_ok {
        json::take_exception(env);
        return None;
    }
    let mut args = [ptr::null_mut(); 4];
    sys::napi_get_undefined(env, &mut args[0]);
    sys::napi_create_double(env, sink as f64, &mut args[1]);
    sys::napi_create_string_utf8(env, payload.as_ptr().cast(), payload.len() as isize, &mut args[2]);
    sys::napi_get_boolean(env, rejected, &mut args[3]);
    let mut bound = ptr::null_mut();
    if sys::napi_call_function(env, function, bind, 4, args.as_ptr(), &mut bound) != sys::Status::napi_ok {
        json::take_exception(env);
        return None;
    }
    Some(bound)
}

/// The native body of the bound handlers: `(sink, payload, rejected, value)`.
unsafe extern "C" fn settled(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let mut argc = 4usize;
        let mut argv = [ptr::null_mut(); 4];
        if sys::napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), ptr::null_mut(), ptr::null_mut()) != sys::Status::napi_ok || argc < 3 {
            return;
        }
        let mut id = 0f64;
        sys::napi_get_value_double(env, argv[0], &mut id);
        let payload = String::from_napi_value(env, argv[1]).unwrap_or_default();
        let mut rejected = true;
        sys::napi_get_value_bool(env, argv[2], &mut rejected);
        let value = if argc > 3 { argv[3] } else { ptr::null_mut() };
        let outcome = if rejected { Settled::Rejected(reason_of(env, value)) } else { fulfilled(env, value) };
        deliver(id as u64, &payload, outcome);
    }));
    let mut undefined = ptr::null_mut();
    sys::napi_get_undefined(env, &mut undefined);
    undefined
}

/// A value returned at once (not a thenable), as JSON.
pub fn value_of(env: &Env, returned: &Returned) -> Settled {
    let outcome = catch_unwind(AssertUnwindSafe(|| unsafe { fulfilled(env.raw(), returned.0) }));
    outcome.unwrap_or_else(|_| Settled::Rejected("could not be read".into()))
}

unsafe fn fulfilled(env: sys::napi_env, value: sys::napi_value) -> Settled {
    if value.is_null() || matches!(type_of(env, value), ValueType::Undefined | ValueType::Null) {
        return Settled::Fulfilled(None);
    }
    match json::from_js::<Value>(env, value) {
        Ok(v) => Settled::Fulfilled(Some(v)),
        Err(e) => Settled::Rejected(format!("is a value that {}", e.reason)),
    }
}

/// A thrown or rejected value as text: an Error's message, else its string form.
pub unsafe fn reason_of(env: sys::napi_env, value: sys::napi_value) -> String {
    if value.is_null() {
        return "undefined".into();
    }
    if type_of(env, value) == ValueType::Object {
        let mut message = ptr::null_mut();
        if sys::napi_get_named_property(env, value, c"message".as_ptr(), &mut message) != sys::Status::napi_ok {
            return format!("an object whose message could not be read ({})", json::take_exception(env));
        }
        if type_of(env, message) == ValueType::String {
            return String::from_napi_value(env, message).unwrap_or_default();
        }
    }
    let mut text = ptr::null_mut();
    if sys::napi_coerce_to_string(env, value, &mut text) != sys::Status::napi_ok {
        json::take_exception(env);
        return format!("a {:?} value", type_of(env, value)).to_lowercase();
    }
    String::from_napi_value(env, text).unwrap_or_default()
}

/// One log line per burst of failures: the first at once, then at most one
/// every `every`, counting what happened in between.
pub struct Burst {
    every: Duration,
    state: Mutex<(Option<Instant>, u64)>,
}

impl Burst {
    pub const fn new(every: Duration) -> Self {
        Self { every, state: Mutex::new((None, 0)) }
    }

    /// A failure happened; `Some(n)` when it is time to log (n: failures since the last line, this one included).
    pub fn note(&self) -> Option<u64> {
        let mut state = lock(&self.state);
        state.1 += 1;
        if state.0.is_some_and(|at| at.elapsed() < self.every) {
            return None;
        }
        let count = state.1;
        *state = (Some(Instant::now()), 0);
        Some(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_logs_its_first_failure_then_counts() {
        let burst = Burst::new(Duration::from_millis(50));
        assert_eq!(burst.note(), Some(1));
        assert_eq!(burst.note(), None);
        assert_eq!(burst.note(), None);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(burst.note(), Some(3), "the two held back and this one");
    }

    #[test]
    fn sinks_receive_until_dropped() {
        let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
        let sink = {
            let seen = seen.clone();
            SinkId::register(move |payload, settled| {
                let what = match settled {
                    Settled::Rejected(why) => why,
                    Settled::Fulfilled(v) => format!("{v:?}"),
                };
                lock(&seen).push(format!("{payload}: {what}"));
            })
        };
        let id = sink.0;
        deliver(id, "a,b", Settled::Rejected("boom".into()));
        deliver(id, "c", Settled::Fulfilled(None));
        drop(sink);
        deliver(id, "d", Settled::Rejected("late".into()));
        assert_eq!(*lock(&seen), vec!["a,b: boom".to_string(), "c: None".to_string()]);
    }
}
