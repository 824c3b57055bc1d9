//! Logging: one tracing subscriber for the process (the worker's output on
//! stderr), and the `log*` exports that write JS messages into it with their
//! fields as structured key/values.

use std::collections::HashMap;
use std::sync::OnceLock;

use napi::bindgen_prelude::Unknown;
use napi_derive::napi;
use serde_json::Value;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, EnvFilter, Registry};

use crate::js::arg;
use crate::error::{guard, BridgeError, ErrorCode};

static FILTER: OnceLock<reload::Handle<EnvFilter, Registry>> = OnceLock::new();
static LEVEL: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

/// The filter for a level: a bare level also hides sqlx's per-statement
/// logs below `error` (tasker-worker's queue readers long-poll for 5 s by
/// design, which sqlx would report as a slow statement every few seconds),
/// and tasker-worker's own queue readers, which watch this worker's empty
/// `twjs_*` queues (src/claiming.rs reads the real ones, and reports a
/// database outage once, rate-limited). A full filter
/// (`warn,sqlx::query=warn`) is used as given: that is how an operator sees
/// slow statements.
pub fn directive(level: &str) -> String {
    if level.contains('=') || level.contains(',') {
        level.to_string()
    } else {
        format!("{level},sqlx::query=error,tasker_worker::worker::worker_queues=off")
    }
}

/// Installs the subscriber once, or changes its level on later calls.
pub fn init(level: &str) {
    let level = directive(level);
    *LEVEL.lock().unwrap_or_else(|p| p.into_inner()) = level.clone();
    let filter = EnvFilter::try_new(&level).unwrap_or_else(|_| EnvFilter::new("warn,sqlx::query=error"));
    if let Some(handle) = FILTER.get() {
        let _ = handle.reload(filter);
        return;
    }
    let (layer, handle) = reload::Layer::new(filter);
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_target(true);
    if tracing_subscriber::registry().with(layer).with(CancelledRefusals).with(fmt).try_init().is_ok() {
        let _ = FILTER.set(handle);
    }
}

/// Where tasker-worker logs a result it could not store.
const COMPLETION_PROCESSOR: &str = "tasker_worker::worker::handlers::completion_processor";

/// Drops tasker-worker's ERROR for the refused result of a step whose task
/// was cancelled while its handler ran (src/cancelled.rs): that refusal is
/// expected, and the worker logs the cancellation itself at `info`.
struct CancelledRefusals;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CancelledRefusals {
    fn event_enabled(&self, event: &tracing::Event<'_>, _ctx: tracing_subscriber::layer::Context<'_, S>) -> bool {
        if event.metadata().target() != COMPLETION_PROCESSOR {
            return true;
        }
        let mut step = StepField(None);
        event.record(&mut step);
        !step.0.is_some_and(|uuid| crate::cancelled::contains(&uuid))
    }
}

/// The `step_uuid` field of an event.
struct StepField(Option<uuid::Uuid>);

impl tracing::field::Visit for StepField {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "step_uuid" {
            self.0 = uuid::Uuid::parse_str(&format!("{value:?}")).ok();
        }
    }
}

/// Silences the queue poller while the worker stops: cancelling its
/// long-poll (on purpose) would otherwise be logged as an error.
pub fn quiet_queue_poller() {
    let level = LEVEL.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let directive = format!("{level},tasker_worker::worker::worker_queues=off");
    if let (Some(handle), Ok(filter)) = (FILTER.get(), EnvFilter::try_new(directive)) {
        let _ = handle.reload(filter);
    }
}

/// Renders JS fields as `key=value` pairs (strings unquoted, the rest as JSON).
pub fn render_fields(fields: &HashMap<String, Value>) -> crate::error::BridgeResult<String> {
    let mut keys: Vec<&String> = fields.keys().collect();
    keys.sort();
    let mut out = String::new();
    for key in keys {
        let valid = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-');
        if !valid {
            return Err(BridgeError::invalid("fields", format!("'{key}' is not a field name (letters, digits, _ . -)")));
        }
        if !out.is_empty() {
            out.push(' ');
        }
        match &fields[key] {
            Value::String(s) => out.push_str(&format!("{key}={s:?}")),
            other => out.push_str(&format!("{key}={other}")),
        }
    }
    Ok(out)
}

fn emit(level: tracing::Level, message: Unknown<'_>, fields: Unknown<'_>) -> napi::Result<(), ErrorCode> {
    guard(|| {
        let message: String = arg(message, "message")?;
        let fields: Option<HashMap<String, Value>> = arg(fields, "fields")?;
        let rendered = render_fields(&fields.unwrap_or_default())?;
        macro_rules! at {
            ($lvl:ident) => {
                if rendered.is_empty() {
                    tracing::$lvl!(target: "tasker_worker_js", "{}", message)
                } else {
                    tracing::$lvl!(target: "tasker_worker_js", fields = %rendered, "{}", message)
                }
            };
        }
        match level {
            tracing::Level::ERROR => at!(error),
            tracing::Level::WARN => at!(warn),
            tracing::Level::INFO => at!(info),
            tracing::Level::DEBUG => at!(debug),
            tracing::Level::TRACE => at!(trace),
        }
        Ok(())
    })
}

/// Writes an error into the worker's log, with `fields` as key/values.
#[napi(ts_args_type = "message: string, fields?: Record<string, unknown> | undefined | null")]
pub fn log_error(message: Unknown<'_>, fields: Unknown<'_>) -> napi::Result<(), ErrorCode> {
    emit(tracing::Level::ERROR, message, fields)
}

/// Writes a warning into the worker's log.
#[napi(ts_args_type = "message: string, fields?: Record<string, unknown> | undefined | null")]
pub fn log_warn(message: Unknown<'_>, fields: Unknown<'_>) -> napi::Result<(), ErrorCode> {
    emit(tracing::Level::WARN, message, fields)
}

/// Writes an info line into the worker's log.
#[napi(ts_args_type = "message: string, fields?: Record<string, unknown> | undefined | null")]
pub fn log_info(message: Unknown<'_>, fields: Unknown<'_>) -> napi::Result<(), ErrorCode> {
    emit(tracing::Level::INFO, message, fields)
}

/// Writes a debug line into the worker's log.
#[napi(ts_args_type = "message: string, fields?: Record<string, unknown> | undefined | null")]
pub fn log_debug(message: Unknown<'_>, fields: Unknown<'_>) -> napi::Result<(), ErrorCode> {
    emit(tracing::Level::DEBUG, message, fields)
}

/// Writes a trace line into the worker's log.
#[napi(ts_args_type = "message: string, fields?: Record<string, unknown> | undefined | null")]
pub fn log_trace(message: Unknown<'_>, fields: Unknown<'_>) -> napi::Result<(), ErrorCode> {
    emit(tracing::Level::TRACE, message, fields)
}

/// Sets the log level (error, warn, info, debug, trace, or a RUST_LOG-style filter).
#[napi(ts_args_type = "level: string")]
pub fn set_log_level(level: Unknown<'_>) -> napi::Result<(), ErrorCode> {
    guard(|| {
        let level: String = arg(level, "level")?;
        EnvFilter::try_new(&level)
            .map_err(|e| BridgeError::invalid("level", format!("'{level}' is not a log filter: {e}")))?;
        init(&level);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_render_sorted_key_values() {
        let fields = HashMap::from([
            ("step".to_string(), json!("ship")),
            ("attempt".to_string(), json!(2)),
            ("ok".to_string(), json!(true)),
            ("ctx".to_string(), json!({"a": 1})),
        ]);
        assert_eq!(render_fields(&fields).unwrap(), r#"attempt=2 ctx={"a":1} ok=true step="ship""#);
    }

    #[test]
    fn bare_levels_hide_statement_logs_and_filters_are_kept() {
        assert_eq!(directive("warn"), "warn,sqlx::query=error,tasker_worker::worker::worker_queues=off");
        assert_eq!(directive("warn,sqlx::query=warn"), "warn,sqlx::query=warn");
        assert_eq!(directive("tasker_worker=debug"), "tasker_worker=debug");
    }

    #[test]
    fn bad_field_names_are_rejected() {
        let fields = HashMap::from([("a b".to_string(), json!(1))]);
        assert!(render_fields(&fields).unwrap_err().message.starts_with("fields"));
    }
}
