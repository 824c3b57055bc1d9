//! The REST transport: tasker-orchestration's routes over reqwest.
//!
//! tasker-client's REST client turns every failure into a message string
//! (`HTTP 404 Not Found: {...}`, or, after its create-task retries, none at
//! all) and cannot tell a timeout from a refused connection; a caller needs
//! the status, the server's own error code and message, and which of those
//! it was. So the REST calls are made here, with the same routes and
//! tasker-shared's request types; gRPC goes through tasker-client.

use std::time::Duration;

use serde_json::{Map, Value};

use super::call::{Call, Server};
use crate::error::{BridgeError, ErrorCode};

/// Credentials sent with every request.
#[derive(Debug, Clone)]
pub enum Auth {
    None,
    Bearer(String),
    ApiKey { header: String, key: String },
}

pub struct RestTransport {
    http: reqwest::Client,
    orchestration_url: String,
    worker_url: Option<String>,
}

impl RestTransport {
    pub fn new(orchestration_url: String, worker_url: Option<String>, auth: &Auth, timeout: Duration) -> Result<Self, BridgeError> {
        let mut headers = reqwest::header::HeaderMap::new();
        let invalid = |field: &str| BridgeError::invalid(field, "holds characters an HTTP header cannot carry");
        match auth {
            Auth::None => {}
            Auth::Bearer(token) => {
                let value = format!("Bearer {token}").parse().map_err(|_| invalid("bearerToken"))?;
                headers.insert(reqwest::header::AUTHORIZATION, value);
            }
            Auth::ApiKey { header, key } => {
                let name: reqwest::header::HeaderName = header.parse().map_err(|_| invalid("apiKeyHeader"))?;
                headers.insert(name, key.parse().map_err(|_| invalid("apiKey"))?);
            }
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .default_headers(headers)
            .user_agent(concat!("@tasker-systems/worker/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| BridgeError::internal(format!("could not build the HTTP client: {e}")))?;
        Ok(Self { http, orchestration_url: orchestration_url.trim_end_matches('/').to_string(), worker_url: worker_url.map(|u| u.trim_end_matches('/').to_string()) })
    }

    /// Makes the call; its JSON answer (null for an empty body).
    pub async fn send(&self, call: &Call) -> Result<Value, BridgeError> {
        let route = call.route();
        let base = match route.server {
            Server::Orchestration => &self.orchestration_url,
            Server::Worker => self.worker_url.as_ref().ok_or_else(|| {
                BridgeError::invalid("workerUrl", "this call goes to a worker's web API: give workerUrl (or TASKER_WORKER_URL), the worker's webBindAddress")
            })?,
        };
        let url = format!("{base}{}", route.path);
        let mut request = self.http.request(route.method.clone(), &url);
        if let Some(body) = &route.body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| network_failure(&url, &e))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| network_failure(&url, &e))?;
        if status.is_success() {
            return Ok(if text.trim().is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) });
        }
        Err(http_failure(route.method.as_str(), &route.path, status.as_u16(), &text))
    }
}

fn network_failure(url: &str, e: &reqwest::Error) -> BridgeError {
    let (code, what) = if e.is_timeout() {
        (ErrorCode::Timeout, "no answer in time")
    } else if e.is_connect() {
        (ErrorCode::Unavailable, "cannot connect")
    } else {
        (ErrorCode::Unavailable, "the request failed")
    };
    BridgeError::new(code, format!("{what}: {url} ({e}); is the orchestration running at this address?"))
}

/// A failure answer: the code from the status, with the server's own code and message.
pub fn http_failure(method: &str, path: &str, status: u16, body: &str) -> BridgeError {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    let server_code = error.and_then(|e| e.get("code")).and_then(Value::as_str).map(str::to_string);
    let server_message = error
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| body.chars().take(500).collect());
    let code = match status {
        404 => ErrorCode::NotFound,
        401 => ErrorCode::Unauthorized,
        403 => ErrorCode::Forbidden,
        400 | 422 => ErrorCode::Validation,
        409 => ErrorCode::Conflict,
        408 | 504 => ErrorCode::Timeout,
        502 | 503 => ErrorCode::Unavailable,
        _ => ErrorCode::ServerError,
    };
    let mut details = Map::new();
    details.insert("status".into(), Value::from(status));
    if let Some(server_code) = &server_code {
        details.insert("serverCode".into(), Value::from(server_code.clone()));
    }
    details.insert("serverMessage".into(), Value::from(server_message.clone()));
    BridgeError::new(code, format!("{method} {path} answered {status}{}: {server_message}", server_code.map(|c| format!(" {c}")).unwrap_or_default()))
        .with_details(details)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_codes_with_the_servers_words() {
        let e = http_failure("GET", "/v1/tasks/x", 404, r#"{"error":{"code":"NOT_FOUND","message":"Task not found"}}"#);
        assert_eq!(e.code, ErrorCode::NotFound);
        assert_eq!(e.message, "GET /v1/tasks/x answered 404 NOT_FOUND: Task not found");
        let details = e.details.unwrap();
        assert_eq!(details["status"], 404);
        assert_eq!(details["serverCode"], "NOT_FOUND");
        assert_eq!(http_failure("POST", "/v1/tasks", 422, "Failed to deserialize").code, ErrorCode::Validation);
        assert_eq!(http_failure("GET", "/", 503, "").code, ErrorCode::Unavailable);
        assert_eq!(http_failure("GET", "/", 401, "").code, ErrorCode::Unauthorized);
        assert_eq!(http_failure("GET", "/", 500, "").code, ErrorCode::ServerError);
    }
}
