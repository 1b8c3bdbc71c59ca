//! The Lambda face: a thin loop over the Runtime API around the handler.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

use crate::app;
use crate::aws::Clients;
use crate::drift::report::{emf_line, DriftSummary};
use crate::handler::{self, Invocation};

pub async fn run() -> Result<(), Error> {
    app::init_logging(true);
    // A bad setting stops the function here, before any event is taken,
    // with a message that names the variable and the value.
    let settings = app::load_settings()
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let drift_mode = settings.drift_mode;
    let clients = Clients::from_env().await;
    let reconciler = app::reconciler(&clients, settings);
    let reconciler = &reconciler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let invocation = Invocation {
            force_dry_run: false,
            deadline: Some(instant_of(event.context.deadline())),
        };
        let result = handler::handle(reconciler, event.payload, invocation).await?;
        // Drift counts as metrics, from the log line alone: no API call.
        if let Some(summary) = result.get("summary") {
            if let Ok(summary) = serde_json::from_value::<DriftSummary>(summary.clone()) {
                println!("{}", emf_line(&summary, drift_mode, now_ms()));
            }
        }
        Ok::<Value, crate::error::GuardError>(result)
    }))
    .await
}

fn instant_of(deadline: SystemTime) -> Instant {
    let left = deadline
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    Instant::now() + left
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
}
