//! `release --all`: the uninstall. Removes every policy, scheduled action
//! and alarm this tool owns in the account and Region, and every target
//! that carries nothing else (see `domain::release::all`), from the same
//! bulk listings the drift check uses. A person's scaling is never touched.

use futures::StreamExt;
use serde::Serialize;
use tracing::{info, warn};

use crate::aws::calls::counted;
use crate::domain::plan::{Action, AlarmAction, Change, ScalingAction};
use crate::domain::release::all::{owned, ResourceRelease};
use crate::domain::Dimension;
use crate::drift::report::is_zero;
use crate::drift::{time_is_short, ScalingLister, SweepOptions};
use crate::error::GuardError;
use crate::reconcile::{apply_in_order, EndpointReader, Reconciler};

/// What became of one resource's owned scaling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseStatus {
    /// A dry run: `removed` lists what would be.
    Planned,
    Removed,
    /// A removal failed (see `error`); `removed` lists what went before it.
    Error,
    /// Time ran short before it was started.
    NotReached,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReleasedResource {
    pub resource_id: String,
    pub dimension: Dimension,
    pub status: ReleaseStatus,
    /// Someone else's policies and scheduled actions: the target stays for
    /// them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub target_kept_for: Vec<String>,
    /// In the order applied (planned, in a dry run).
    pub removed: Vec<Change>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Counts of removed items (planned ones, in a dry run), and of the
/// resources that failed or were not reached.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReleaseAllSummary {
    /// Variants and inference components that held owned scaling.
    pub resources: u64,
    pub alarms: u64,
    pub policies: u64,
    pub scheduled_actions: u64,
    pub targets_deregistered: u64,
    /// Targets left registered for someone else's scaling.
    pub targets_kept: u64,
    pub errors: u64,
    pub not_reached: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReleaseAllReport {
    pub action: &'static str,
    pub all: bool,
    pub dry_run: bool,
    pub summary: ReleaseAllSummary,
    /// Errors first; at most `MAX_LISTED_CHANGES` changes in all.
    pub resources: Vec<ReleasedResource>,
    /// How many more there were (the summary counts them all).
    #[serde(skip_serializing_if = "is_zero")]
    pub resources_not_listed: u64,
    pub reads: u64,
    pub writes: u64,
}

impl ReleaseAllReport {
    /// The error an invocation ends with when anything was left behind;
    /// running the release again picks up where this one stopped.
    pub fn failure(&self) -> Option<GuardError> {
        let s = &self.summary;
        if s.errors == 0 && s.not_reached == 0 {
            return None;
        }
        let first: Vec<String> = self
            .resources
            .iter()
            .filter_map(|r| Some(format!("{}: {}", r.resource_id, r.error.as_ref()?)))
            .take(3)
            .collect();
        Some(GuardError::ReleaseAllFailed(format!(
            "{} resources failed and {} were not reached ({}); run the release again",
            s.errors,
            s.not_reached,
            if first.is_empty() {
                "time ran short".to_string()
            } else {
                first.join("; ")
            }
        )))
    }
}

/// Keeps a Lambda result well under its 6 MB limit (a change takes about
/// 300 bytes), however many policies each target carries.
pub const MAX_LISTED_CHANGES: usize = 10_000;

/// The resources to list: those that failed or were not reached first, then
/// the others, in resource id order, until `limit` changes are listed.
fn bounded(mut resources: Vec<ReleasedResource>, limit: usize) -> (Vec<ReleasedResource>, u64) {
    resources.sort_by_key(|r| {
        (
            matches!(r.status, ReleaseStatus::Planned | ReleaseStatus::Removed),
            r.resource_id.clone(),
        )
    });
    let mut listed = 0;
    let keep = resources
        .iter()
        .take_while(|r| {
            listed += r.removed.len().max(1);
            listed <= limit
        })
        .count();
    let omitted = (resources.len() - keep) as u64;
    resources.truncate(keep);
    (resources, omitted)
}

fn summarize(resources: &[ReleasedResource]) -> ReleaseAllSummary {
    let mut s = ReleaseAllSummary {
        resources: resources.len() as u64,
        ..ReleaseAllSummary::default()
    };
    for r in resources {
        s.targets_kept += u64::from(!r.target_kept_for.is_empty());
        s.errors += u64::from(r.status == ReleaseStatus::Error);
        s.not_reached += u64::from(r.status == ReleaseStatus::NotReached);
        for change in &r.removed {
            match &change.action {
                Action::Alarm(AlarmAction::DeleteAlarm { .. }) => s.alarms += 1,
                Action::Scaling(ScalingAction::DeletePolicy { .. }) => s.policies += 1,
                Action::Scaling(ScalingAction::DeleteScheduledAction { .. }) => {
                    s.scheduled_actions += 1
                }
                Action::Scaling(ScalingAction::DeregisterTarget) => s.targets_deregistered += 1,
                _ => {}
            }
        }
    }
    s
}

impl<R: EndpointReader, S: ScalingLister> Reconciler<R, S> {
    /// Removes everything this tool owns in the account and Region. Fails
    /// only when the listings fail (nothing is removed then); a removal that
    /// fails is reported for its resource and the others go on.
    pub async fn release_all(&self, options: SweepOptions) -> Result<ReleaseAllReport, GuardError> {
        let (result, calls) = counted(self.release_all_uncounted(options)).await;
        let mut report = result?;
        report.reads = calls.reads;
        report.writes = calls.writes;
        info!(
            summary = %serde_json::to_string(&report.summary).unwrap_or_default(),
            dry_run = options.dry_run,
            "released all"
        );
        Ok(report)
    }

    async fn release_all_uncounted(
        &self,
        options: SweepOptions,
    ) -> Result<ReleaseAllReport, GuardError> {
        let listing = |e: crate::aws::AwsError| {
            GuardError::ReleaseAllFailed(format!("{e}; nothing was removed"))
        };
        let policies = self.scaling.all_policies().await.map_err(listing)?;
        let scheduled = self
            .scaling
            .all_scheduled_actions()
            .await
            .map_err(listing)?;
        let alarms = self.scaling.all_alarms().await.map_err(listing)?;
        let owned = owned(&policies, &scheduled, &alarms);
        let targets = self
            .scaling
            .targets(&owned.resource_ids())
            .await
            .map_err(listing)?;
        let plans = owned.plan(&targets);
        let resources: Vec<ReleasedResource> = if options.dry_run {
            plans
                .into_iter()
                .map(|plan| outcome(plan, ReleaseStatus::Planned))
                .collect()
        } else {
            futures::stream::iter(plans)
                .map(|plan| self.remove(plan, options))
                .buffered(self.settings.concurrency.max(1))
                .collect()
                .await
        };
        let summary = summarize(&resources);
        let (resources, resources_not_listed) = bounded(resources, MAX_LISTED_CHANGES);
        Ok(ReleaseAllReport {
            action: "release",
            all: true,
            dry_run: options.dry_run,
            summary,
            resources,
            resources_not_listed,
            reads: 0,
            writes: 0,
        })
    }

    /// Applies one resource's removals in order, stopping at the first
    /// failure.
    async fn remove(&self, mut plan: ResourceRelease, options: SweepOptions) -> ReleasedResource {
        let changes = std::mem::take(&mut plan.changes);
        if time_is_short(options.deadline) {
            return outcome(plan, ReleaseStatus::NotReached);
        }
        let mut out = outcome(plan, ReleaseStatus::Removed);
        let done = apply_in_order(&self.scaling, changes, |change| {
            info!(resource_id = %change.resource_id(), action = change.name(), "removed for release");
        })
        .await;
        out.removed = done.applied;
        if let Some((change, e)) = done.failed {
            warn!(resource_id = %change.resource_id(), action = change.name(), error = %e,
                  "release failed");
            out.status = ReleaseStatus::Error;
            out.error = Some(e.to_string());
        }
        out
    }
}

fn outcome(plan: ResourceRelease, status: ReleaseStatus) -> ReleasedResource {
    ReleasedResource {
        resource_id: plan.resource_id,
        dimension: plan.dimension,
        status,
        target_kept_for: plan.target_kept_for,
        removed: plan.changes,
        error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(id: &str, status: ReleaseStatus, changes: usize) -> ReleasedResource {
        let change = Change::new(
            &crate::resource::Scaled::variant(id, "v"),
            Dimension::VariantInstances,
            ScalingAction::DeregisterTarget,
            vec![],
        );
        ReleasedResource {
            resource_id: id.into(),
            dimension: Dimension::VariantInstances,
            status,
            target_kept_for: vec![],
            removed: vec![change; changes],
            error: None,
        }
    }

    #[test]
    fn the_listing_keeps_failures_first_and_stops_at_the_change_limit() {
        let all = vec![
            resource("a", ReleaseStatus::Removed, 3),
            resource("b", ReleaseStatus::Error, 1),
            resource("c", ReleaseStatus::NotReached, 0),
            resource("d", ReleaseStatus::Removed, 3),
        ];
        let (kept, omitted) = bounded(all.clone(), 5);
        let ids: Vec<&str> = kept.iter().map(|r| r.resource_id.as_str()).collect();
        assert_eq!((ids, omitted), (vec!["b", "c", "a"], 1));
        let (kept, omitted) = bounded(all, 100);
        assert_eq!((kept.len(), omitted), (4, 0));
    }
}
