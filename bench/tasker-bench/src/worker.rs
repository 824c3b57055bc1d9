//! The native baseline worker: the same tasker-worker bootstrap and
//! configuration as the addon's, with handlers in Rust.

use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use async_trait::async_trait;
use tasker_config_defaults::{default_worker_config, to_toml, use_rabbitmq};
use tasker_shared::messaging::StepExecutionResult;
use tasker_shared::types::TaskSequenceStep;
use tasker_shared::TaskerResult;
use tasker_worker::worker::handlers::{HandlerDispatchConfig, HandlerDispatchService, StepHandler, StepHandlerRegistry};
use tasker_worker::worker::{DomainEventCallback, StepEventPublisherRegistry};
use tasker_worker::WorkerBootstrap;

use crate::{stop_requested, Args};

/// Succeeds at once, like the trivial handlers of the TypeScript side.
struct Succeed;

#[async_trait]
impl StepHandler for Succeed {
    async fn call(&self, step: &TaskSequenceStep) -> TaskerResult<StepExecutionResult> {
        let result = serde_json::json!({ "ok": true, "step": step.workflow_step.name });
        Ok(StepExecutionResult::success(step.workflow_step.workflow_step_uuid, result, 0, None))
    }

    fn name(&self) -> &str {
        "bench.succeed"
    }
}

/// Every callable resolves to `Succeed`.
struct SucceedEverything(Arc<dyn StepHandler>);

#[async_trait]
impl StepHandlerRegistry for SucceedEverything {
    async fn get(&self, _step: &TaskSequenceStep) -> Option<Arc<dyn StepHandler>> {
        Some(self.0.clone())
    }
    fn register(&self, _name: &str, _handler: Arc<dyn StepHandler>) {}
    fn handler_available(&self, _name: &str) -> bool {
        true
    }
    fn registered_handlers(&self) -> Vec<String> {
        vec!["*".into()]
    }
}

pub async fn run(args: &Args) -> Result<()> {
    if args.template_path.is_empty() {
        bail!("--template-path is required: the folder of the task templates to serve");
    }
    let worker_id = format!("native-bench-{}", std::process::id());
    let mut config = default_worker_config();
    config.common.database.url = args.database_url.clone();
    config.common.execution.environment = "test".into();
    if let Some(worker) = config.worker.as_mut() {
        worker.worker_id = worker_id.clone();
    }
    if let Some(url) = &args.rabbitmq_url {
        use_rabbitmq(&mut config, url);
    }
    let path = std::env::temp_dir().join(format!("tasker-bench-worker-{}.toml", std::process::id()));
    std::fs::write(&path, to_toml(&config).map_err(|e| anyhow!(e))?)?;
    std::env::set_var("TASKER_CONFIG_PATH", &path);
    std::env::set_var("TASKER_ENV", "test");
    std::env::set_var("DATABASE_URL", &args.database_url);
    std::env::set_var("TASKER_TEMPLATE_PATH", &args.template_path);
    std::env::set_var("TASKER_WORKER_ID", &worker_id);

    let started = WorkerBootstrap::bootstrap().await;
    let _ = std::fs::remove_file(&path);
    let mut system = started.map_err(|e| anyhow!("tasker-worker did not start: {e}"))?;
    let handles = system.take_dispatch_handles().context("tasker-worker gave no dispatch handles")?;
    let callback = {
        let core = system.worker_core.lock().await;
        let router = core.event_router().context("tasker-worker has no event router")?;
        let registry = StepEventPublisherRegistry::with_event_router(core.domain_event_publisher(), router);
        Arc::new(DomainEventCallback::new(Arc::new(tokio::sync::RwLock::new(registry))))
    };
    let (service, _capacity) = HandlerDispatchService::with_callback(
        handles.dispatch_receiver,
        handles.completion_sender,
        Arc::new(SucceedEverything(Arc::new(Succeed))),
        HandlerDispatchConfig::from_config(args.concurrency, 30_000, worker_id),
        callback,
    );
    let dispatching = tokio::spawn(service.run());
    println!("READY");

    stop_requested().await;
    if let Err(e) = system.stop().await {
        eprintln!("worker stop reported: {e}");
    }
    dispatching.abort();
    Ok(())
}
