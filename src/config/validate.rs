//! Checks of single option values, each error naming the option at fault.

use std::path::Path;

use super::WorkerConfig;
use crate::error::{BridgeError, BridgeResult};


pub(super) fn check_range(field: &str, value: u32, min: u32, max: u32) -> BridgeResult<()> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(BridgeError::invalid(field, format!("{value} is outside {min}..={max}")))
    }
}


pub(super) fn collect_namespaces(config: &WorkerConfig) -> BridgeResult<Vec<String>> {
    let mut namespaces: Vec<String> = Vec::new();
    for ns in config.namespace.iter().chain(config.namespaces.iter().flatten()) {
        let valid = !ns.is_empty()
            && ns.len() <= 64
            && ns.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(BridgeError::invalid(
                "namespace",
                format!("'{ns}' must be 1-64 letters, digits, '_' or '-'"),
            ));
        }
        if !namespaces.contains(ns) {
            namespaces.push(ns.clone());
        }
    }
    Ok(namespaces)
}

/// Accepts `postgres://` or `postgresql://` URLs and returns the form tasker
/// requires: `postgresql://user:password@host[:port]/database[?params]`.
pub(super) fn normalize_database_url(url: &str) -> BridgeResult<String> {
    let field = "databaseUrl";
    let rest = url
        .strip_prefix("postgresql://")
        .or_else(|| url.strip_prefix("postgres://"))
        .ok_or_else(|| BridgeError::invalid(field, "must start with postgresql:// (for example postgresql://tasker:secret@127.0.0.1:5432/tasker)"))?;
    let (credentials, location) = rest
        .rsplit_once('@')
        .ok_or_else(|| BridgeError::invalid(field, "must include user:password@ before the host; tasker requires a password"))?;
    let (user, password) = credentials
        .split_once(':')
        .ok_or_else(|| BridgeError::invalid(field, "must include user:password@ before the host; tasker requires a password"))?;
    let word = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !word(user) {
        return Err(BridgeError::invalid(field, "the user name may only hold letters, digits, '_' and '-'"));
    }
    if password.is_empty() {
        return Err(BridgeError::invalid(field, "the password must not be empty"));
    }
    let (host_port, path) = location
        .split_once('/')
        .ok_or_else(|| BridgeError::invalid(field, "must end with /<database name>"))?;
    let (host, port) = match host_port.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (host_port, None),
    };
    if host.is_empty() || !host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-') {
        return Err(BridgeError::invalid(field, format!("'{host}' is not a host name or IPv4 address")));
    }
    if let Some(port) = port {
        if port.parse::<u16>().map(|p| p == 0).unwrap_or(true) {
            return Err(BridgeError::invalid(field, format!("'{port}' is not a port number")));
        }
    }
    let database = path.split('?').next().unwrap_or_default();
    if !word(database) {
        return Err(BridgeError::invalid(field, "the database name may only hold letters, digits, '_' and '-'"));
    }
    Ok(format!("postgresql://{rest}"))
}


pub(super) fn validate_template_path(path: &str) -> BridgeResult<()> {
    // tasker only accepts plain path characters for TASKER_TEMPLATE_PATH.
    let plain = !path.is_empty()
        && path.chars().all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c));
    if !plain {
        return Err(BridgeError::invalid(
            "templatePath",
            format!("'{path}' may only hold letters, digits and . _ / - (tasker rejects other characters); move the templates to such a folder"),
        ));
    }
    if !Path::new(path).is_dir() {
        return Err(BridgeError::invalid(
            "templatePath",
            format!("'{path}' is not a folder; point it at the folder of your task template YAML files"),
        ));
    }
    Ok(())
}


pub(super) fn validate_worker_id(id: &str) -> BridgeResult<()> {
    let valid = !id.is_empty()
        && id.len() <= 128
        && id.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if valid {
        Ok(())
    } else {
        Err(BridgeError::invalid("workerId", format!("'{id}' must be 1-128 letters, digits, '.', '_' or '-'")))
    }
}


pub(super) fn validate_bind_address(address: &str) -> BridgeResult<()> {
    address
        .parse::<std::net::SocketAddr>()
        .map(|_| ())
        .map_err(|_| {
            BridgeError::invalid(
                "webBindAddress",
                format!("'{address}' is not an ip:port address such as 127.0.0.1:8081 (or 'off')"),
            )
        })
}


/// A broker URL tasker's client (lapin) can use: `amqp://` or `amqps://`
/// with a host. The message never repeats a password.
pub(super) fn validate_amqp_url(field: &str, url: &str) -> BridgeResult<()> {
    let shown = crate::config::redacted(url);
    let Some(rest) = url.strip_prefix("amqp://").or_else(|| url.strip_prefix("amqps://")) else {
        return Err(BridgeError::invalid(field, format!("'{shown}' is not an AMQP URL: give amqp://user:password@host:port/vhost")));
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        return Err(BridgeError::invalid(field, format!("'{shown}' names no host: give amqp://user:password@host:port/vhost")));
    }
    if url.chars().any(char::is_whitespace) {
        return Err(BridgeError::invalid(field, format!("'{shown}' holds whitespace")));
    }
    Ok(())
}
