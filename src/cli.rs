//! The command-line face: the same reconcile and handler as the Lambda
//! function, for operators on a laptop.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::{json, Value};

use crate::app;
use crate::aws::Clients;
use crate::handler;
use crate::reconcile::report::Outcome;
use crate::trigger::validate_endpoint_name;

/// Attach and keep the standard autoscaling on SageMaker endpoints.
///
/// Settings come from the same environment variables as the Lambda function
/// (MIN_CAPACITY, MAX_CAPACITY, ...); AWS credentials, region and endpoint
/// from the standard AWS configuration chain.
#[derive(Debug, Parser)]
#[command(name = "autoscaling-guard", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print, as JSON, what reconcile would change. Changes nothing.
    Plan {
        #[arg(long, value_name = "NAME")]
        endpoint: String,
    },
    /// Bring one endpoint's scaling to the standard and print the report.
    Reconcile {
        #[arg(long, value_name = "NAME")]
        endpoint: String,
        /// Plan only; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Pass an event file through the Lambda handler and print its result.
    Handle {
        #[arg(long, value_name = "FILE")]
        event: PathBuf,
        /// Plan only; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Exit codes: 0 done, 1 the work failed, 2 bad usage or configuration.
pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    app::init_logging(false);
    let settings = match app::load_settings() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // Validate what can be validated before any AWS client exists.
    let payload = match &cli.command {
        Command::Plan { endpoint } | Command::Reconcile { endpoint, .. } => {
            if let Err(e) = validate_endpoint_name(endpoint) {
                eprintln!("error: --endpoint: {e}");
                return ExitCode::from(2);
            }
            None
        }
        Command::Handle { event, .. } => match read_event(event) {
            Ok(v) => Some(v),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let clients = Clients::from_env().await;
    let reconciler = app::reconciler(&clients, settings);
    match cli.command {
        Command::Plan { endpoint } => report(reconciler.reconcile(&endpoint, true).await),
        Command::Reconcile { endpoint, dry_run } => {
            report(reconciler.reconcile(&endpoint, dry_run).await)
        }
        Command::Handle { dry_run, .. } => {
            let payload = payload.expect("read above");
            match handler::handle(&reconciler, payload, dry_run).await {
                Ok(value) => {
                    print_json(&value);
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    // The shape Lambda gives a failed invocation.
                    print_json(
                        &json!({"errorType": e.error_type(), "errorMessage": e.to_string()}),
                    );
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn read_event(path: &PathBuf) -> Result<Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))
}

fn report(report: crate::reconcile::report::EndpointReport) -> ExitCode {
    print_json(&serde_json::to_value(&report).expect("reports serialize"));
    if report.outcome == Outcome::Error {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn print_json(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("JSON values serialize")
    );
}
