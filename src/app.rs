//! Wiring shared by both faces of the binary: logging, settings, clients.

use std::io::IsTerminal;

use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::aws::alarms::Alarms;
use crate::aws::autoscaling::AutoScaling;
use crate::aws::sagemaker::SageMakerEndpoints;
use crate::aws::store::AwsScaling;
use crate::aws::Clients;
use crate::config::Settings;
use crate::reconcile::Reconciler;

pub type AwsReconciler = Reconciler<SageMakerEndpoints, AwsScaling>;

/// `RUST_LOG` wins, as a full filter (the SDK's targets included);
/// otherwise `LOG_LEVEL` (the SAM parameter) sets this tool's level, with
/// every other target at `info` at most: `debug` is this tool's debug, and
/// the SDK's own needs `trace` (everything) or `RUST_LOG`. An invalid
/// `RUST_LOG` is handed back to be reported.
fn filter(rust_log: Option<&str>, log_level: Option<&str>) -> (EnvFilter, Option<String>) {
    let mut problem = None;
    if let Some(raw) = rust_log.filter(|r| !r.trim().is_empty()) {
        match EnvFilter::try_new(raw) {
            Ok(f) => return (f, None),
            Err(e) => {
                problem = Some(format!(
                    "RUST_LOG={raw:?} is not a valid log filter ({e}); using LOG_LEVEL instead"
                ))
            }
        }
    }
    let level = log_level.unwrap_or_default().trim().to_ascii_lowercase();
    // An unknown level is refused by the settings; until then, info.
    let directives = match level.as_str() {
        "trace" => return (EnvFilter::new("trace"), problem),
        "debug" => format!("info,{}=debug", env!("CARGO_CRATE_NAME")),
        "error" | "warn" | "info" => level,
        _ => "info".to_string(),
    };
    // aws-config warns of a refused AssumeRole with the SDK's debug form;
    // the tool reports the same failure itself, with its error type and
    // the AWS code, on one line.
    (
        EnvFilter::new(format!("{directives},aws_config=error")),
        problem,
    )
}

/// JSON lines under Lambda (CloudWatch Logs Insights reads them as fields);
/// plain text on a terminal. Logs go to stderr so stdout stays for results.
pub fn init_logging(json: bool) {
    let (filter, problem) = filter(
        std::env::var("RUST_LOG").ok().as_deref(),
        std::env::var("LOG_LEVEL").ok().as_deref(),
    );
    if json {
        json_logs(filter, std::io::stderr).init();
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_target(false)
            .compact()
            .with_ansi(std::io::stderr().is_terminal())
            .init();
    }
    if let Some(problem) = problem {
        tracing::warn!("{problem}");
    }
}

/// The JSON log format: one object per line, each field at the top level
/// next to `timestamp`, `level` and `message`.
pub fn json_logs<W>(filter: EnvFilter, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_target(false)
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .finish()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn directives(rust_log: Option<&str>, log_level: Option<&str>) -> (String, Option<String>) {
        let (f, problem) = filter(rust_log, log_level);
        (f.to_string(), problem)
    }

    #[test]
    fn debug_is_this_tools_debug_and_trace_is_everything() {
        assert_eq!(
            directives(None, Some("DEBUG")).0,
            "autoscaling_guard=debug,aws_config=error,info"
        );
        assert_eq!(directives(None, Some("trace")).0, "trace");
        assert_eq!(directives(None, Some("warn")).0, "aws_config=error,warn");
        assert_eq!(directives(None, None).0, "aws_config=error,info");
    }

    #[test]
    fn rust_log_wins_and_an_invalid_one_is_reported() {
        assert_eq!(
            directives(Some("aws_smithy_runtime=debug"), Some("warn")),
            ("aws_smithy_runtime=debug".to_string(), None)
        );
        let (used, problem) = directives(Some("aws_config=loud"), Some("warn"));
        assert_eq!(used, "aws_config=error,warn");
        let problem = problem.expect("reported");
        assert!(
            problem.starts_with("RUST_LOG=\"aws_config=loud\" is not a valid log filter"),
            "{problem}"
        );
    }
}
