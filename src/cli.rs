//! The command-line face: the same reconcile and handler as the Lambda
//! function, for operators on a laptop.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::Value;

use crate::app;
use crate::config::DriftMode;
use crate::domain::release::parse_duration;
use crate::drift::{self, SweepOptions};
use crate::error::GuardError;
use crate::handler::{Invocation, Response};
use crate::org::cli::PlaceArgs;
use crate::policy_set::PolicySet;
use crate::reconcile::report::Outcome;
use crate::trigger::{self, validate_endpoint_name};

/// Attach and keep the standard autoscaling on SageMaker endpoints.
///
/// Settings come from the same environment variables as the Lambda function
/// (MIN_CAPACITY, MAX_CAPACITY, ...); AWS credentials, region and endpoint
/// from the standard AWS configuration chain.
#[derive(Debug, Parser)]
#[command(name = "autoscaling-guard", version)]
pub struct Cli {
    /// The policy set document (JSON); replaces POLICY_SET and the simple
    /// variables.
    #[arg(long, global = true, value_name = "FILE")]
    policy: Option<PathBuf>,
    #[command(flatten)]
    place: PlaceArgs,
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
    /// Check every endpoint in the account and Region for drift and, unless
    /// told otherwise (DRIFT_MODE=report, --report-only, --dry-run), repair it.
    DriftCheck {
        /// Report only; write nothing (like DRIFT_MODE=report).
        #[arg(long)]
        report_only: bool,
        /// Plan the repairs; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print the JSON report instead of a table.
        #[arg(long)]
        json: bool,
        /// Also write the whole report, one JSON record per variant, to
        /// FILE (JSON Lines), however many endpoints there are.
        #[arg(long, value_name = "FILE", conflicts_with = "all_accounts")]
        jsonl: Option<PathBuf>,
        /// Check every account (ORG_ACCOUNTS) in every Region (ORG_REGIONS)
        /// from this process, each account through its role.
        #[arg(long, conflicts_with = "account")]
        all_accounts: bool,
    },
    /// Release an endpoint for an update: remove this tool's scaling from its
    /// variants and leave it alone until the update has happened (or the
    /// release expires). Refused, changing nothing, when any variant has
    /// scaling this tool does not own. With --all: remove every policy,
    /// scheduled action and alarm this tool owns in the account and Region,
    /// and every target that carries nothing else (the uninstall).
    Release {
        #[arg(long, value_name = "NAME", required_unless_present = "all")]
        endpoint: Option<String>,
        /// Every endpoint, for good: a person's scaling stays as it is.
        #[arg(long, conflicts_with_all = ["endpoint", "duration"])]
        all: bool,
        /// How long the release lasts at most: 30m, 2h, 1d (at most 24h).
        #[arg(long = "for", value_name = "DURATION", default_value = "1h")]
        duration: String,
        /// Report what would be removed; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Replay per-minute traffic through the policy set (and, with
    /// --compare, a second one) and print what the variant would have done.
    Simulate(crate::simulate::command::SimulateArgs),
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
    let mut settings = match app::load_settings() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(path) = &cli.policy {
        let set = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
            .and_then(|text| {
                PolicySet::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
            });
        match set {
            Ok(set) => settings.policy_set = set,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    // Validate what can be validated before any AWS client exists.
    let mut jsonl_file = None;
    let payload = match &cli.command {
        Command::Plan { endpoint } | Command::Reconcile { endpoint, .. } => {
            if let Err(e) = validate_endpoint_name(endpoint) {
                eprintln!("error: --endpoint: {e}");
                return ExitCode::from(2);
            }
            None
        }
        Command::DriftCheck {
            report_only, jsonl, ..
        } => {
            if *report_only {
                settings.drift_mode = DriftMode::Report;
            }
            // A file that cannot be written fails now, before any AWS call.
            if let Some(path) = jsonl {
                match std::fs::File::create(path) {
                    Ok(file) => jsonl_file = Some(file),
                    Err(e) => {
                        eprintln!("error: --jsonl: cannot write {}: {e}", path.display());
                        return ExitCode::from(2);
                    }
                }
            }
            None
        }
        Command::Release {
            endpoint: Some(endpoint),
            duration,
            ..
        } => {
            if let Err(e) = validate_endpoint_name(endpoint) {
                eprintln!("error: --endpoint: {e}");
                return ExitCode::from(2);
            }
            if let Err(e) = parse_duration(duration) {
                eprintln!("error: --for: {e}");
                return ExitCode::from(2);
            }
            None
        }
        Command::Release { .. } => None,
        Command::Simulate(_) => None,
        Command::Handle { event, .. } => match read_event(event) {
            Ok(v) => Some(v),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
    };
    // A CSV or synthetic source needs no AWS configuration at all; a
    // CloudWatch source is read with the caller's own credentials.
    if let Command::Simulate(args) = cli.command {
        if cli.place.account.is_some() || cli.place.role.is_some() {
            eprintln!(
                "error: simulate reads CloudWatch with the caller's own credentials: \
                 --account and --role are not for it (--region is)"
            );
            return ExitCode::from(2);
        }
        let label = cli.policy.as_ref().map_or_else(
            || "the environment's set".to_string(),
            |p| p.display().to_string(),
        );
        return crate::simulate::command::run(args, settings, &label, cli.place.region).await;
    }
    let hub = match cli.place.hub(settings).await {
        Ok(hub) => hub,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Command::DriftCheck {
        all_accounts: true,
        dry_run,
        json,
        ..
    } = cli.command
    {
        return drift_check_all(&hub, dry_run, json).await;
    }
    let reconciler = match cli.place.place(&hub) {
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
        Ok(place) => match hub.reconciler(place.as_ref()).await {
            Ok(r) => r,
            Err(e) => return failure(GuardError::AccountNotReached(e)),
        },
    };
    match cli.command {
        Command::Plan { endpoint } => report(reconciler.reconcile(&endpoint, true).await),
        Command::Reconcile { endpoint, dry_run } => {
            report(reconciler.reconcile(&endpoint, dry_run).await)
        }
        Command::DriftCheck {
            dry_run,
            json,
            jsonl,
            ..
        } => {
            let options = SweepOptions {
                dry_run,
                deadline: None,
            };
            match reconciler.drift_check(options).await {
                Ok(report) => {
                    if let (Some(file), Some(path)) = (jsonl_file, &jsonl) {
                        let out = std::io::BufWriter::new(file);
                        if let Err(e) = drift::records::write_jsonl(&report, out) {
                            eprintln!("error: --jsonl: cannot write {}: {e}", path.display());
                            return ExitCode::FAILURE;
                        }
                    }
                    let report = report.bounded(drift::report::MAX_LISTED_ENDPOINTS);
                    if json {
                        print_serialized(&report);
                    } else {
                        print_text(&drift::report::table(&report));
                    }
                    exit_code(&Response::DriftCheck(report))
                }
                Err(e) => failure(GuardError::DriftCheckFailed(e)),
            }
        }
        Command::Release {
            endpoint: None,
            dry_run,
            ..
        } => {
            let options = SweepOptions {
                dry_run,
                deadline: None,
            };
            match reconciler.release_all(options).await {
                Ok(report) => {
                    print_serialized(&report);
                    if report.failure().is_some() {
                        ExitCode::FAILURE
                    } else {
                        ExitCode::SUCCESS
                    }
                }
                Err(e) => {
                    print_serialized(&e.to_json());
                    ExitCode::FAILURE
                }
            }
        }
        Command::Release {
            endpoint: Some(endpoint),
            duration,
            dry_run,
            ..
        } => {
            let duration = parse_duration(&duration).expect("validated above");
            match reconciler.release(&endpoint, duration, dry_run).await {
                Ok(report) => {
                    print_serialized(&report);
                    ExitCode::SUCCESS
                }
                Err(e) => failure(e),
            }
        }
        Command::Simulate(_) => unreachable!("simulate runs before the clients exist"),
        Command::Handle { dry_run, .. } => {
            let payload = payload.expect("read above");
            let invocation = Invocation {
                force_dry_run: dry_run,
                deadline: None,
            };
            match hub.handle(payload, invocation).await {
                Ok(placed) => {
                    print_serialized(&placed);
                    exit_code(&placed.response)
                }
                Err(e) => failure(e),
            }
        }
    }
}

/// Every managed account and Region, checked from this process.
async fn drift_check_all(hub: &crate::org::Hub, dry_run: bool, json: bool) -> ExitCode {
    if hub.places().is_empty() {
        eprintln!("error: --all-accounts: set ORG_ACCOUNTS (and ORG_SPOKE_ROLE_NAME)");
        return ExitCode::from(2);
    }
    let options = SweepOptions {
        dry_run,
        deadline: None,
    };
    let fleet = hub.drift_check_all(options).await;
    if json {
        print_serialized(&fleet);
    } else {
        print_text(&fleet.table());
    }
    if fleet.clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Reads an event file as the Lambda function would take it: refused over
/// the payload size limit before more than that is read, a leading UTF-8
/// byte-order mark skipped.
fn read_event(path: &PathBuf) -> Result<Value, String> {
    use std::io::Read;
    let cannot = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let file = std::fs::File::open(path).map_err(cannot)?;
    let limit = trigger::MAX_PAYLOAD_BYTES as u64;
    let size = file.metadata().map_err(cannot)?.len();
    if size > limit {
        return Err(format!("{}: {}", path.display(), trigger::too_large(size)));
    }
    // A file that grows, or a pipe, has no size up front: read one byte
    // past the limit to see it is over.
    let mut raw = Vec::new();
    file.take(limit + 1).read_to_end(&mut raw).map_err(cannot)?;
    if raw.len() as u64 > limit {
        let err = trigger::too_large(format_args!("more than {limit}"));
        return Err(format!("{}: {err}", path.display()));
    }
    trigger::payload_from_bytes(&raw).map_err(|e| format!("{}: {e}", path.display()))
}

fn report(report: crate::reconcile::report::EndpointReport) -> ExitCode {
    print_serialized(&report);
    if report.outcome == Outcome::Error {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// 0 when the work was done without an error, 1 otherwise: the same for
/// a result whichever command produced it.
fn exit_code(response: &Response) -> ExitCode {
    if response.succeeded() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Prints an error in the shape Lambda gives a failed invocation; exits 1.
fn failure(err: GuardError) -> ExitCode {
    print_serialized(&err.to_json());
    ExitCode::FAILURE
}

/// Streams JSON to standard output without building it in memory first.
fn print_serialized<T: serde::Serialize>(value: &T) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    // A closed pipe (`| head`) is the reader's choice, not an error here.
    if serde_json::to_writer_pretty(&mut out, value).is_ok() {
        let _ = writeln!(out);
    }
}

fn print_text(text: &str) {
    use std::io::Write;
    // A closed pipe (`| head`) is the reader's choice, not an error here.
    let _ = writeln!(std::io::stdout(), "{}", text.trim_end());
}
