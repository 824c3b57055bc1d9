//! Errors that cross into JavaScript.
//!
//! Every failure becomes a JS `Error` whose `code` property is one of the
//! stable strings of [`ErrorCode`] and whose message says what to do next.
//! Panics are caught at the boundary and reported with code `INTERNAL`.

use std::any::Any;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Stable error codes, the `code` property of every error thrown by the addon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// A call needs a running worker and none is bootstrapped.
    NotBootstrapped,
    /// A worker is already running in this process.
    AlreadyRunning,
    /// An argument is missing, of the wrong shape or out of range.
    InvalidArgument,
    /// The event id is not one the dispatch channel is waiting on.
    UnknownEvent,
    /// The tasker worker could not be started.
    BootstrapFailed,
    /// PostgreSQL could not be reached with the given URL.
    DatabaseUnavailable,
    /// The RabbitMQ broker could not be reached (or refused the login) with the given URL.
    BrokerUnavailable,
    /// The dispatch or completion channel is closed or saturated.
    ChannelClosed,
    /// A push subscription is already attached to the worker.
    SubscriptionActive,
    /// A bug in the bridge (including a caught panic).
    Internal,
    /// TaskerClient: the task, step, template or entry does not exist (404).
    NotFound,
    /// TaskerClient: no or wrong credentials (401).
    Unauthorized,
    /// TaskerClient: the credentials lack the permission (403).
    Forbidden,
    /// TaskerClient: the server refused the request as invalid (400, 422).
    Validation,
    /// TaskerClient: it conflicts with existing state, e.g. a duplicate task (409).
    Conflict,
    /// TaskerClient: the server cannot be reached or is overloaded (connection errors, 5xx, 503).
    Unavailable,
    /// TaskerClient: no answer in time (client timeout, 408).
    Timeout,
    /// TaskerClient: the server failed on the request (500, gRPC INTERNAL).
    ServerError,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 18] = [
        ErrorCode::NotBootstrapped,
        ErrorCode::AlreadyRunning,
        ErrorCode::InvalidArgument,
        ErrorCode::UnknownEvent,
        ErrorCode::BootstrapFailed,
        ErrorCode::DatabaseUnavailable,
        ErrorCode::BrokerUnavailable,
        ErrorCode::ChannelClosed,
        ErrorCode::SubscriptionActive,
        ErrorCode::Internal,
        ErrorCode::NotFound,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::Validation,
        ErrorCode::Conflict,
        ErrorCode::Unavailable,
        ErrorCode::Timeout,
        ErrorCode::ServerError,
    ];
}

impl AsRef<str> for ErrorCode {
    fn as_ref(&self) -> &str {
        match self {
            ErrorCode::NotBootstrapped => "NOT_BOOTSTRAPPED",
            ErrorCode::AlreadyRunning => "ALREADY_RUNNING",
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::UnknownEvent => "UNKNOWN_EVENT",
            ErrorCode::BootstrapFailed => "BOOTSTRAP_FAILED",
            ErrorCode::DatabaseUnavailable => "DATABASE_UNAVAILABLE",
            ErrorCode::BrokerUnavailable => "BROKER_UNAVAILABLE",
            ErrorCode::ChannelClosed => "CHANNEL_CLOSED",
            ErrorCode::SubscriptionActive => "SUBSCRIPTION_ACTIVE",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::Validation => "VALIDATION",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::ServerError => "SERVER_ERROR",
        }
    }
}

/// Napi status type for conversions that fail inside napi itself (bad JS types).
impl From<napi::Status> for ErrorCode {
    fn from(status: napi::Status) -> Self {
        match status {
            napi::Status::InvalidArg
            | napi::Status::ObjectExpected
            | napi::Status::StringExpected
            | napi::Status::NumberExpected
            | napi::Status::BooleanExpected
            | napi::Status::ArrayExpected
            | napi::Status::FunctionExpected => ErrorCode::InvalidArgument,
            _ => ErrorCode::Internal,
        }
    }
}

/// A failure of the bridge: a code and a message that says what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct BridgeError {
    pub code: ErrorCode,
    pub message: String,
    /// The JS value thrown while the argument was read (a getter, a Proxy),
    /// kept as the JS error's `cause`.
    pub cause: Option<JsCause>,
    /// Extra properties of the JS error (a TaskerClient failure's `status`,
    /// `serverCode`, `serverMessage`); set on rejected Promises.
    pub details: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A JS value held as an error cause (a reference into the JS heap).
pub struct JsCause(napi::Error);

impl JsCause {
    pub fn new(error: napi::Error) -> Self {
        Self(error)
    }
}

impl fmt::Debug for JsCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JsCause({})", self.0.reason)
    }
}

impl Clone for JsCause {
    fn clone(&self) -> Self {
        Self(self.0.try_clone().unwrap_or_else(|_| napi::Error::new(napi::Status::GenericFailure, self.0.reason.clone())))
    }
}

impl PartialEq for JsCause {
    fn eq(&self, other: &Self) -> bool {
        self.0.reason == other.0.reason
    }
}

impl BridgeError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            cause: None,
            details: None,
        }
    }

    pub fn with_details(mut self, details: serde_json::Map<String, serde_json::Value>) -> Self {
        self.details = Some(details);
        self
    }

    pub fn with_cause(mut self, cause: JsCause) -> Self {
        self.cause = Some(cause);
        self
    }

    /// An invalid argument, naming the field at fault.
    pub fn invalid(field: &str, problem: impl fmt::Display) -> Self {
        Self::new(ErrorCode::InvalidArgument, format!("{field}: {problem}"))
    }

    pub fn not_bootstrapped() -> Self {
        Self::new(
            ErrorCode::NotBootstrapped,
            "no worker is running in this process: call bootstrapWorker(config) first",
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }
}

impl fmt::Display for BridgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.code.as_ref(), self.message)
    }
}

impl std::error::Error for BridgeError {}

impl From<BridgeError> for napi::Error<ErrorCode> {
    fn from(err: BridgeError) -> Self {
        let mut error = napi::Error::new(err.code, err.message);
        if let Some(JsCause(cause)) = err.cause {
            error.set_cause(cause);
        }
        error
    }
}

pub type BridgeResult<T> = std::result::Result<T, BridgeError>;

/// Runs `f`, turning a panic into an `INTERNAL` error instead of aborting the host.
pub fn guard<T>(f: impl FnOnce() -> BridgeResult<T>) -> napi::Result<T, ErrorCode> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result.map_err(Into::into),
        Err(panic) => Err(panic_error(panic).into()),
    }
}

/// Describes a caught panic payload as a bridge error.
pub fn panic_error(panic: Box<dyn Any + Send>) -> BridgeError {
    let detail = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".to_string());
    BridgeError::internal(format!(
        "the native worker panicked ({detail}); this is a bug in @tasker-systems/worker, please report it"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_screaming_snake_case() {
        let names: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_ref()).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        for name in names {
            assert!(name.chars().all(|c| c.is_ascii_uppercase() || c == '_'), "{name}");
        }
    }

    #[test]
    fn invalid_names_the_field() {
        let err = BridgeError::invalid("result.stepUuid", "not a UUID");
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert_eq!(err.message, "result.stepUuid: not a UUID");
    }

    #[test]
    fn guard_turns_panics_into_internal_errors() {
        let err = guard::<()>(|| panic!("boom")).unwrap_err();
        assert_eq!(err.status, ErrorCode::Internal);
        assert!(err.reason.contains("boom"));
    }

    #[test]
    fn guard_keeps_codes() {
        let err = guard::<()>(|| Err(BridgeError::not_bootstrapped())).unwrap_err();
        assert_eq!(err.status, ErrorCode::NotBootstrapped);
    }

    #[test]
    fn napi_type_errors_are_invalid_arguments() {
        assert_eq!(ErrorCode::from(napi::Status::StringExpected), ErrorCode::InvalidArgument);
        assert_eq!(ErrorCode::from(napi::Status::GenericFailure), ErrorCode::Internal);
    }
}
