//! The Lambda handler: one entry point for every payload. The command line's
//! `handle` goes through exactly this function.

use std::time::Instant;

use serde_json::{json, Value};
use tracing::{debug, info};

use crate::drift::{EndpointLister, ScalingLister, SweepOptions};
use crate::error::GuardError;
use crate::reconcile::report::{EndpointReport, Outcome};
use crate::reconcile::{EndpointReader, Reconciler, ScalingStore};
use crate::trigger::{self, Trigger, IN_SERVICE};

/// How an invocation runs, apart from its payload.
#[derive(Debug, Clone, Copy, Default)]
pub struct Invocation {
    /// Turn every write into a plan (the command line's `--dry-run`); a
    /// payload can also ask for a dry run itself.
    pub force_dry_run: bool,
    /// When the invocation must be done (the Lambda deadline).
    pub deadline: Option<Instant>,
}

/// Handles one payload.
pub async fn handle<R: EndpointLister, S: ScalingLister>(
    reconciler: &Reconciler<R, S>,
    payload: Value,
    invocation: Invocation,
) -> Result<Value, GuardError> {
    let force_dry_run = invocation.force_dry_run;
    let trigger = trigger::parse(&payload).map_err(|e| GuardError::InvalidEvent(e.to_string()))?;
    match trigger {
        Trigger::DriftCheck { dry_run } => {
            let options = SweepOptions {
                dry_run: dry_run || force_dry_run,
                deadline: invocation.deadline,
            };
            let report = reconciler
                .drift_check(options)
                .await
                .map_err(GuardError::DriftCheckFailed)?;
            Ok(serde_json::to_value(&report).expect("reports serialize"))
        }
        Trigger::EndpointStateChange { endpoint, status } if status != IN_SERVICE => {
            info!(%endpoint, %status, "state change ignored");
            Ok(json!({
                "action": "ignored",
                "endpoint": endpoint,
                "status": status,
                "reason": format!("endpoint status is {status}; only {IN_SERVICE} triggers a reconcile"),
                "reads": 0,
                "writes": 0,
            }))
        }
        Trigger::EndpointStateChange { endpoint, .. } => {
            reconcile_one(reconciler, &endpoint, force_dry_run).await
        }
        Trigger::Reconcile { endpoint, dry_run } => {
            reconcile_one(reconciler, &endpoint, dry_run || force_dry_run).await
        }
        Trigger::Release {
            endpoint,
            duration,
            dry_run,
        } => {
            let report = reconciler
                .release(&endpoint, duration, dry_run || force_dry_run)
                .await?;
            Ok(serde_json::to_value(&report).expect("reports serialize"))
        }
        Trigger::ReleaseAll { dry_run } => {
            let options = SweepOptions {
                dry_run: dry_run || force_dry_run,
                deadline: invocation.deadline,
            };
            let report = reconciler.release_all(options).await?;
            match report.failure() {
                Some(e) => Err(e),
                None => Ok(serde_json::to_value(&report).expect("reports serialize")),
            }
        }
    }
}

async fn reconcile_one<R: EndpointReader, S: ScalingStore>(
    reconciler: &Reconciler<R, S>,
    endpoint: &str,
    dry_run: bool,
) -> Result<Value, GuardError> {
    let report = reconciler.reconcile(endpoint, dry_run).await;
    let mut value = serde_json::to_value(&report).expect("reports serialize");
    value["action"] = json!("reconcile");
    info!(
        endpoint,
        outcome = ?report.outcome,
        reads = report.reads,
        writes = report.writes,
        "reconciled"
    );
    debug!(report = %value, "reconcile report");
    match report.outcome {
        // Fail the invocation so that the event is retried and, in the
        // end, kept in the dead-letter queue instead of lost.
        Outcome::Error => Err(failure(&report)),
        _ => Ok(value),
    }
}

fn failure(report: &EndpointReport) -> GuardError {
    let detail = match &report.error {
        Some(e) => e.clone(),
        None => report
            .variants
            .iter()
            .filter_map(|v| {
                v.error
                    .as_ref()
                    .map(|e| format!("variant {}: {e}", v.variant))
            })
            .collect::<Vec<_>>()
            .join("; "),
    };
    match report.error_type {
        Some("InvalidTag") => GuardError::InvalidTag {
            endpoint: report.endpoint.clone(),
            detail,
        },
        _ => GuardError::ReconcileFailed {
            endpoint: report.endpoint.clone(),
            detail,
        },
    }
}
