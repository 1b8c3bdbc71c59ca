//! The Lambda face: a thin loop over the Runtime API around the handler.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

use crate::app;
use crate::aws::Clients;
use crate::handler;

pub async fn run() -> Result<(), Error> {
    app::init_logging(true);
    // A bad setting stops the function here, before any event is taken,
    // with a message that names the variable and the value.
    let settings = app::load_settings()
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let clients = Clients::from_env().await;
    let reconciler = app::reconciler(&clients, settings);
    let reconciler = &reconciler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handler::handle(reconciler, event.payload, false).await
    }))
    .await
}
