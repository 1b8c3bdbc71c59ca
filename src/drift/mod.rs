//! The scheduled drift check: every endpoint in the account and Region,
//! read in batches, classified against the standard, and repaired through
//! the same reconcile as the event path.

pub mod orphans;
pub mod records;
pub mod report;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use tracing::{info, warn};

use crate::aws::calls::counted;
use crate::aws::sagemaker::{Listed, SageMakerEndpoints};
use crate::aws::store::{assign_alarm, AwsScaling};
use crate::aws::AwsError;
use crate::config::DriftMode;
use crate::domain::release::{endpoint_intent, ReleaseMark};
use crate::domain::snapshot::{
    EndpointSnapshot, ObservedAlarm, ScalableTarget, ScalingPolicy, ScheduledAction, VariantScaling,
};
use crate::error::ErrorType;
use crate::reconcile::report::{EndpointReport, Outcome};
use crate::reconcile::{
    apply_in_order, failed, managed_resource_ids, EndpointReader, Reconciler, ScalingStore,
};
use crate::resource::Scaled;
use orphans::{find_orphans, plan_orphan};
use report::{summarize, DriftEntry, DriftReport, OrphanReport, OrphanStatus};

/// Stop starting new work when less than this is left before the deadline,
/// so that a started reconcile can finish and the report can be returned.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(20);

/// Lists every endpoint at once. Implemented over SageMaker Search.
pub trait EndpointLister: EndpointReader {
    fn list_all(
        &self,
        concurrency: usize,
    ) -> impl Future<Output = Result<Vec<Listed>, AwsError>> + Send;
}

/// Lists scaling in bulk. Implemented over Application Auto Scaling.
pub trait ScalingLister: ScalingStore {
    /// Every scaling policy on a SageMaker variant in the account and Region.
    fn all_policies(&self) -> impl Future<Output = Result<Vec<ScalingPolicy>, AwsError>> + Send;
    /// Every scheduled action on a SageMaker variant in the account and Region.
    fn all_scheduled_actions(
        &self,
    ) -> impl Future<Output = Result<Vec<ScheduledAction>, AwsError>> + Send;
    /// The registered targets among `resource_ids`.
    fn targets(
        &self,
        resource_ids: &[String],
    ) -> impl Future<Output = Result<Vec<ScalableTarget>, AwsError>> + Send;
    /// Every alarm this tool owns in the account and Region.
    fn all_alarms(&self) -> impl Future<Output = Result<Vec<ObservedAlarm>, AwsError>> + Send;
}

impl EndpointLister for SageMakerEndpoints {
    async fn list_all(&self, concurrency: usize) -> Result<Vec<Listed>, AwsError> {
        SageMakerEndpoints::list_all(self, concurrency).await
    }
}

impl ScalingLister for AwsScaling {
    async fn all_policies(&self) -> Result<Vec<ScalingPolicy>, AwsError> {
        self.autoscaling.policies(None).await
    }
    async fn all_scheduled_actions(&self) -> Result<Vec<ScheduledAction>, AwsError> {
        self.autoscaling.scheduled_actions(None).await
    }
    async fn targets(&self, resource_ids: &[String]) -> Result<Vec<ScalableTarget>, AwsError> {
        self.autoscaling.targets(resource_ids).await
    }
    async fn all_alarms(&self) -> Result<Vec<ObservedAlarm>, AwsError> {
        AwsScaling::all_alarms(self).await
    }
}

#[derive(Debug, Clone, Copy)]
pub struct SweepOptions {
    /// Write nothing, whatever the drift mode.
    pub dry_run: bool,
    /// When the invocation must be finished (the Lambda deadline).
    pub deadline: Option<Instant>,
}

pub(crate) fn time_is_short(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|d| d.saturating_duration_since(Instant::now()) < DEADLINE_MARGIN)
}

/// Puts the endpoint to start with first: the first one not reached last
/// time, or, without that, a point that moves every minute, so that no
/// endpoint is always last in line.
pub fn rotate(mut names: Vec<String>, resume_from: Option<&str>, minute: u64) -> Vec<String> {
    names.sort();
    if names.is_empty() {
        return names;
    }
    let start = match resume_from {
        Some(from) => names.iter().position(|n| n.as_str() >= from).unwrap_or(0),
        None => (minute % names.len() as u64) as usize,
    };
    names.rotate_left(start);
    names
}

impl<R: EndpointLister, S: ScalingLister> Reconciler<R, S> {
    /// Sweeps the whole fleet. Fails only when the sweep itself cannot run
    /// (a listing fails); one endpoint's failure is counted and reported.
    pub async fn drift_check(&self, options: SweepOptions) -> Result<DriftReport, AwsError> {
        let (result, calls) = counted(self.sweep(options)).await;
        let mut report = result?;
        report.summary.reads = calls.reads;
        report.summary.writes = calls.writes;
        report.calls_by_operation = calls.by_operation;
        records::log_summary(&report.summary, report.mode, report.dry_run);
        Ok(report)
    }

    async fn sweep(&self, options: SweepOptions) -> Result<DriftReport, AwsError> {
        let remediate = self.settings.drift_mode == DriftMode::Remediate && !options.dry_run;
        info!(
            remediate,
            seconds_left = options
                .deadline
                .map(|d| d.saturating_duration_since(Instant::now()).as_secs_f64()),
            "drift check started"
        );
        let listed = self.endpoints.list_all(self.settings.concurrency).await?;
        let policies = self.scaling.all_policies().await?;
        let scheduled = self.scaling.all_scheduled_actions().await?;
        let alarms = self.scaling.all_alarms().await?;

        let mut snapshots: Vec<EndpointSnapshot> = Vec::new();
        let mut unreadable: BTreeSet<String> = BTreeSet::new();
        let mut found: Vec<EndpointReport> = Vec::new();
        for item in listed {
            match item {
                Ok(snapshot) => snapshots.push(snapshot),
                Err((name, e)) => {
                    found.push(failed(
                        EndpointReport::new(&name, true),
                        ErrorType::AwsError,
                        e.to_string(),
                    ));
                    unreadable.insert(name);
                }
            }
        }
        let now = crate::reconcile::now();
        let intents: Vec<_> = snapshots
            .iter()
            .map(|s| endpoint_intent(s, &self.settings, now))
            .collect();
        let ids: Vec<String> = intents
            .iter()
            .flatten()
            .flat_map(|(intent, _)| managed_resource_ids(intent))
            .collect();
        let mut actual: BTreeMap<String, VariantScaling> = ids
            .iter()
            .map(|id| (id.clone(), VariantScaling::default()))
            .collect();
        for target in self.scaling.targets(&ids).await? {
            if let Some(slot) = actual.get_mut(&target.resource_id) {
                slot.target = Some(target);
            }
        }
        for policy in &policies {
            if let Some(slot) = actual.get_mut(&policy.resource_id) {
                slot.policies.push(policy.clone());
            }
        }
        for action in &scheduled {
            if let Some(slot) = actual.get_mut(&action.resource_id) {
                slot.scheduled.push(action.clone());
            }
        }
        for alarm in &alarms {
            assign_alarm(&mut actual, alarm.clone());
        }
        for (snapshot, intent) in snapshots.iter().zip(intents) {
            let blank = EndpointReport::new(&snapshot.name, true);
            found.push(match intent {
                Err(tag) => failed(blank, ErrorType::InvalidTag, tag.to_string()),
                Ok((intent, release)) => {
                    // A released endpoint is skipped (`released`); a spent
                    // mark makes it drifted, so remediation clears it.
                    let mut found = self.converge(blank, intent, &actual, true).await;
                    found.note_release(ReleaseMark::of(&release, false));
                    found
                }
            });
        }
        found.sort_by(|a, b| a.endpoint.cmp(&b.endpoint));

        let mut entries: Vec<DriftEntry> = found
            .iter()
            .filter(|r| r.outcome != Outcome::Compliant)
            .map(|r| DriftEntry {
                found: r.clone(),
                remediation: None,
                not_reached: false,
            })
            .collect();
        if remediate {
            self.remediate(&mut entries, options.deadline).await;
        }
        let candidates = find_orphans(&policies, &scheduled, &alarms, &snapshots, &unreadable);
        let orphans = self
            .handle_orphans(candidates, remediate, options.deadline)
            .await;
        let units: BTreeMap<String, u64> = snapshots
            .iter()
            .map(|s| {
                (
                    s.name.clone(),
                    (s.variants.len() + s.components.len()) as u64,
                )
            })
            .collect();
        let summary = summarize(&found, &entries, &orphans, &units);
        records::log_variants(&entries);
        drop(found);
        Ok(DriftReport {
            action: "drift-check",
            mode: self.settings.drift_mode,
            dry_run: options.dry_run,
            summary,
            endpoints: entries,
            endpoints_not_listed: 0,
            orphans,
            calls_by_operation: BTreeMap::new(),
        })
    }

    /// Reconciles every drifted endpoint, a few at a time, starting where
    /// the last sweep stopped, until time runs short.
    async fn remediate(&self, entries: &mut [DriftEntry], deadline: Option<Instant>) {
        let drifted: Vec<String> = entries
            .iter()
            .filter(|e| e.found.outcome == Outcome::Drifted)
            .map(|e| e.found.endpoint.clone())
            .collect();
        let minute = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs()
            / 60;
        let resume_from = self.sweep_cursor.lock().expect("sweep cursor").clone();
        let order = rotate(drifted, resume_from.as_deref(), minute);
        let results: Vec<(String, Option<EndpointReport>)> =
            futures::stream::iter(order.iter().cloned())
                .map(|name| async move {
                    if time_is_short(deadline) {
                        return (name, None);
                    }
                    let report = self.reconcile(&name, false).await;
                    (name, Some(report))
                })
                .buffered(self.settings.concurrency)
                .collect()
                .await;
        let first_missed = results
            .iter()
            .find(|(_, r)| r.is_none())
            .map(|(n, _)| n.clone());
        if let Some(name) = &first_missed {
            warn!(resume_from = %name, "drift check ran short of time; the next one starts here");
        }
        *self.sweep_cursor.lock().expect("sweep cursor") = first_missed;
        let mut by_name: BTreeMap<String, Option<EndpointReport>> = results.into_iter().collect();
        for entry in entries.iter_mut() {
            match by_name.remove(&entry.found.endpoint) {
                Some(Some(report)) => {
                    // The repair's changes say what differed and what was
                    // done; the planned ones would only repeat them.
                    for v in &mut entry.found.variants {
                        v.changes.clear();
                    }
                    entry.remediation = Some(report);
                }
                Some(None) => entry.not_reached = true,
                None => {}
            }
        }
    }

    /// Confirms each orphan candidate with a fresh read (a listing can lag
    /// behind a new endpoint, and a failed read is no evidence of absence)
    /// and, when remediating, removes each one found gone.
    async fn handle_orphans(
        &self,
        candidates: Vec<orphans::Orphan>,
        remediate: bool,
        deadline: Option<Instant>,
    ) -> Vec<OrphanReport> {
        let mut out = Vec::new();
        for orphan in candidates {
            let mut report = OrphanReport {
                orphan,
                status: OrphanStatus::NotReached,
                changes: Vec::new(),
                error: None,
            };
            if time_is_short(deadline) {
                out.push(report);
                continue;
            }
            match self.is_gone(&report.orphan).await {
                Ok(false) => report.status = OrphanStatus::StillInUse,
                Err(e) => {
                    warn!(resource_id = %report.orphan.subject, error = %e,
                          "orphan candidate could not be confirmed");
                    report.status = OrphanStatus::Unconfirmed;
                    report.error = Some(e.to_string());
                }
                Ok(true) if !remediate => {
                    report.status = OrphanStatus::Found;
                    report.changes = plan_orphan(&report.orphan);
                }
                Ok(true) => {
                    report.status = OrphanStatus::Removed;
                    let run = apply_in_order(&self.scaling, plan_orphan(&report.orphan), |change| {
                        info!(resource_id = %change.resource_id(), action = change.name(), "removed orphan scaling");
                    })
                    .await;
                    report.changes = run.applied;
                    if let Some((change, e)) = run.failed {
                        warn!(resource_id = %change.resource_id(), action = change.name(),
                              error = %e, "orphan removal failed");
                        report.status = OrphanStatus::Error;
                        report.error = Some(e.to_string());
                    }
                }
            }
            out.push(report);
        }
        out
    }

    /// Whether a fresh read finds the candidate's endpoint or variant (or
    /// component) gone. Only the service's "does not exist" answer says so.
    async fn is_gone(&self, candidate: &orphans::Orphan) -> Result<bool, AwsError> {
        match &candidate.subject {
            Scaled::Component { component } => self
                .endpoints
                .component_exists(component)
                .await
                .map(|exists| !exists),
            Scaled::Variant { endpoint, variant } => {
                self.endpoints.describe(endpoint).await.map(|found| {
                    !found.is_some_and(|e| e.variants.iter().any(|v| &v.name == variant))
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn rotation_resumes_where_the_last_sweep_stopped() {
        let order = rotate(names(&["d", "a", "c", "b"]), Some("c"), 0);
        assert_eq!(order, ["c", "d", "a", "b"]);
        // The endpoint it stopped at may be gone: start at the next one.
        assert_eq!(
            rotate(names(&["a", "b", "d"]), Some("c"), 0),
            ["d", "a", "b"]
        );
        assert_eq!(rotate(names(&["a", "b"]), Some("z"), 0), ["a", "b"]);
    }

    #[test]
    fn without_a_cursor_the_start_moves_every_minute() {
        let all = names(&["a", "b", "c"]);
        assert_eq!(rotate(all.clone(), None, 0)[0], "a");
        assert_eq!(rotate(all.clone(), None, 1)[0], "b");
        assert_eq!(rotate(all.clone(), None, 5)[0], "c");
        assert!(rotate(vec![], None, 7).is_empty());
    }

    #[test]
    fn time_runs_short_inside_the_margin() {
        assert!(!time_is_short(None));
        assert!(time_is_short(Some(Instant::now() + Duration::from_secs(5))));
        assert!(!time_is_short(Some(
            Instant::now() + Duration::from_secs(120)
        )));
    }
}

#[cfg(test)]
mod sweep_tests;
