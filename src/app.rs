//! Wiring shared by both faces of the binary: logging, settings, clients.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::aws::alarms::Alarms;
use crate::aws::autoscaling::AutoScaling;
use crate::aws::sagemaker::SageMakerEndpoints;
use crate::aws::store::AwsScaling;
use crate::aws::Clients;
use crate::config::{Settings, LOG_LEVELS};
use crate::reconcile::Reconciler;

pub type AwsReconciler = Reconciler<SageMakerEndpoints, AwsScaling>;

/// `RUST_LOG` wins; otherwise `LOG_LEVEL` (the SAM parameter); else info.
fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env()
        .or_else(|_| {
            let level = std::env::var("LOG_LEVEL")
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            // An unknown level is refused by the settings; until then, info.
            let level = if LOG_LEVELS.contains(&level.as_str()) {
                level
            } else {
                "info".to_string()
            };
            EnvFilter::try_new(level)
        })
        .unwrap_or_else(|_| EnvFilter::new("info"))
}

/// JSON lines under Lambda (CloudWatch Logs Insights reads them as fields);
/// plain text on a terminal. Logs go to stderr so stdout stays for results.
pub fn init_logging(json: bool) {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_writer(std::io::stderr)
        .with_target(false);
    if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init();
    } else {
        builder
            .compact()
            .with_ansi(std::io::stderr().is_terminal())
            .init();
    }
}

pub fn reconciler(clients: &Clients, settings: Settings) -> AwsReconciler {
    Reconciler::new(
        SageMakerEndpoints::new(clients.sagemaker.clone()),
        AwsScaling::new(
            AutoScaling::new(clients.autoscaling.clone()),
            Alarms::new(clients.cloudwatch.clone()),
        ),
        settings,
    )
}

/// Reads and validates settings, logging the legal-but-odd ones.
pub fn load_settings() -> Result<Settings, crate::config::ConfigError> {
    let settings = Settings::from_env()?;
    for warning in settings.warnings() {
        tracing::warn!("{warning}");
    }
    Ok(settings)
}
