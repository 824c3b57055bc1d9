//! tasker's RabbitMQ settings, the same for the addon's workers, the
//! orchestration of tasker-devenv and the native benchmark worker.

use tasker_shared::config::tasker::{DeploymentMode, TaskerConfig};

/// Added to a broker URL that does not set them (see `with_broker_timeouts`).
pub const BROKER_CONNECT_TIMEOUT_MS: u64 = 5000;
pub const BROKER_HEARTBEAT_SECONDS: u16 = 10;

/// Points `config` at the RabbitMQ broker at `url` (with its timeouts). A
/// worker's event system is set to event-driven only: tasker has no fallback
/// poller on RabbitMQ, and says so in a warning when asked for one.
pub fn use_rabbitmq(config: &mut TaskerConfig, url: &str) {
    config.common.queues.backend = "rabbitmq".into();
    let rabbitmq = config.common.queues.rabbitmq.get_or_insert_with(Default::default);
    rabbitmq.url = with_broker_timeouts(url);
    rabbitmq.heartbeat_seconds = BROKER_HEARTBEAT_SECONDS;
    if let Some(worker) = config.worker.as_mut() {
        worker.event_systems.worker.deployment_mode = DeploymentMode::EventDrivenOnly;
    }
}

/// `url` with a connect timeout (ms) and heartbeat (s) unless it sets them.
/// lapin reads both only from the URL's query (tasker's `heartbeat_seconds`
/// is not passed on): without them a connect to a silent host waits out the
/// OS's SYN timeout (~2 min) and a dead peer is noticed after the server's
/// 60 s heartbeat.
pub fn with_broker_timeouts(url: &str) -> String {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    let has = |key: &str| query.split('&').any(|pair| pair.split('=').next() == Some(key));
    let mut added = Vec::new();
    if !has("connection_timeout") {
        added.push(format!("connection_timeout={BROKER_CONNECT_TIMEOUT_MS}"));
    }
    if !has("heartbeat") {
        added.push(format!("heartbeat={BROKER_HEARTBEAT_SECONDS}"));
    }
    if added.is_empty() {
        return url.to_string();
    }
    let separator = if !url.contains('?') { "?" } else if url.ends_with('?') || url.ends_with('&') { "" } else { "&" };
    format!("{url}{separator}{}", added.join("&"))
}

/// A database or broker URL with its password hidden, for messages.
pub fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_added_only_when_absent() {
        assert_eq!(with_broker_timeouts("amqp://g:g@h:5672/%2F"), "amqp://g:g@h:5672/%2F?connection_timeout=5000&heartbeat=10");
        assert_eq!(with_broker_timeouts("amqp://h/%2F?heartbeat=3"), "amqp://h/%2F?heartbeat=3&connection_timeout=5000");
        assert_eq!(with_broker_timeouts("amqp://h/%2F?connection_timeout=1&heartbeat=2"), "amqp://h/%2F?connection_timeout=1&heartbeat=2");
        assert_eq!(with_broker_timeouts("amqp://h/%2F?"), "amqp://h/%2F?connection_timeout=5000&heartbeat=10");
    }

    #[test]
    fn redacted_hides_the_password() {
        assert_eq!(redacted("postgresql://u:secret@h:5/d"), "postgresql://u:***@h:5/d");
        assert_eq!(redacted("amqp://guest:guest@127.0.0.1:5672/%2F"), "amqp://guest:***@127.0.0.1:5672/%2F");
        assert_eq!(redacted("postgresql://h/d"), "postgresql://h/d");
    }

    #[test]
    fn a_worker_on_rabbitmq_is_event_driven_only() {
        let mut config = crate::default_worker_config();
        use_rabbitmq(&mut config, "amqp://g:g@h:1/%2F");
        assert_eq!(config.common.queues.backend, "rabbitmq");
        assert_eq!(config.common.queues.rabbitmq.as_ref().unwrap().url, "amqp://g:g@h:1/%2F?connection_timeout=5000&heartbeat=10");
        assert_eq!(config.worker.unwrap().event_systems.worker.deployment_mode, DeploymentMode::EventDrivenOnly);
    }
}
