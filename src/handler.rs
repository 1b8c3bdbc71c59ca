//! The Lambda handler: one entry point for every payload. The command line's
//! `handle` goes through exactly this function.

use std::time::Instant;

use serde::Serialize;
use serde_json::Value;
use tracing::{debug, info};

use crate::drift::report::{DriftReport, MAX_LISTED_ENDPOINTS};
use crate::drift::{EndpointLister, ScalingLister, SweepOptions};
use crate::error::{ErrorType, GuardError};
use crate::org::hub::FanOutReport;
use crate::reconcile::report::{EndpointReport, Outcome};
use crate::reconcile::{EndpointReader, Reconciler, ScalingStore};
use crate::release::all::ReleaseAllReport;
use crate::release::ReleaseReport;
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

/// What one payload answers. Each serializes with its own `action`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Response {
    Reconcile(Reconciled),
    Ignored(Ignored),
    DriftCheck(DriftReport),
    Release(ReleaseReport),
    /// The uninstall; a failed removal is an error, not a response.
    ReleaseAll(ReleaseAllReport),
    /// The scheduled drift check of an organization: one asynchronous
    /// drift check started per account and Region.
    FanOut(FanOutReport),
}

impl Response {
    /// Whether the work it reports was done without an error. A drift check
    /// answers even when some endpoints failed; it did not succeed then.
    pub fn succeeded(&self) -> bool {
        match self {
            Response::DriftCheck(report) => !report.summary.has_errors(),
            Response::Reconcile(r) => r.report.outcome != Outcome::Error,
            Response::FanOut(report) => report.failed.is_empty(),
            Response::Ignored(_) | Response::Release(_) | Response::ReleaseAll(_) => true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reconciled {
    /// Always `reconcile`.
    pub action: &'static str,
    #[serde(flatten)]
    pub report: EndpointReport,
}

/// A state change that is not `IN_SERVICE`: acknowledged, nothing read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ignored {
    /// Always `ignored`.
    pub action: &'static str,
    pub endpoint: String,
    pub status: String,
    pub reason: String,
    pub reads: u64,
    pub writes: u64,
}

/// Handles one payload.
pub async fn handle<R: EndpointLister, S: ScalingLister>(
    reconciler: &Reconciler<R, S>,
    payload: Value,
    invocation: Invocation,
) -> Result<Response, GuardError> {
    let trigger = trigger::parse(&payload).map_err(|e| GuardError::InvalidEvent(e.to_string()))?;
    run(reconciler, trigger, invocation).await
}

/// Acts on a payload already parsed.
pub async fn run<R: EndpointLister, S: ScalingLister>(
    reconciler: &Reconciler<R, S>,
    trigger: Trigger,
    invocation: Invocation,
) -> Result<Response, GuardError> {
    let force_dry_run = invocation.force_dry_run;
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
            Ok(Response::DriftCheck(report.bounded(MAX_LISTED_ENDPOINTS)))
        }
        Trigger::EndpointStateChange { endpoint, status } if status != IN_SERVICE => {
            info!(endpoint, status, action = "ignored", "state change ignored");
            Ok(Response::Ignored(Ignored {
                action: "ignored",
                reason: format!(
                    "endpoint status is {status}; only {IN_SERVICE} triggers a reconcile"
                ),
                endpoint,
                status,
                reads: 0,
                writes: 0,
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
            Ok(Response::Release(report))
        }
        Trigger::ReleaseAll { dry_run } => {
            let options = SweepOptions {
                dry_run: dry_run || force_dry_run,
                deadline: invocation.deadline,
            };
            let report = reconciler.release_all(options).await?;
            match report.failure() {
                Some(e) => Err(e),
                None => Ok(Response::ReleaseAll(report)),
            }
        }
    }
}

async fn reconcile_one<R: EndpointReader, S: ScalingStore>(
    reconciler: &Reconciler<R, S>,
    endpoint: &str,
    dry_run: bool,
) -> Result<Response, GuardError> {
    let report = reconciler.reconcile(endpoint, dry_run).await;
    info!(
        endpoint,
        action = "reconcile",
        outcome = report.outcome.as_str(),
        dry_run,
        reads = report.reads,
        writes = report.writes,
        "reconciled"
    );
    debug!(
        endpoint,
        report = serde_json::to_string(&report).unwrap_or_default(),
        "reconcile report"
    );
    match report.outcome {
        // Fail the invocation so that the event is retried and, in the
        // end, kept in the dead-letter queue instead of lost.
        Outcome::Error => Err(failure(report)),
        _ => Ok(Response::Reconcile(Reconciled {
            action: "reconcile",
            report,
        })),
    }
}

/// The invocation error of a reconcile that ended in an error: the
/// endpoint's own error, or else every variant's, under the first one's type.
fn failure(report: EndpointReport) -> GuardError {
    let (error_type, detail) = match (report.error_type, report.error) {
        (Some(error_type), Some(detail)) => (error_type, detail),
        _ => {
            let failed: Vec<_> = report
                .variants
                .iter()
                .filter_map(|v| {
                    Some((
                        v.error_type?,
                        format!("{}: {}", v.subject, v.error.as_ref()?),
                    ))
                })
                .collect();
            let error_type = failed.first().map_or(ErrorType::AwsError, |(t, _)| *t);
            let detail = failed.into_iter().map(|(_, d)| d).collect::<Vec<_>>();
            (error_type, detail.join("; "))
        }
    };
    GuardError::NotReconciled {
        error_type,
        endpoint: report.endpoint,
        detail,
    }
}
