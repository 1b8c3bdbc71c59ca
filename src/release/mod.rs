//! `release`: lets a deploy pipeline update an endpoint that this tool
//! scales. AWS refuses an `UpdateEndpoint` that changes the instance type of,
//! or removes, a variant registered as a scalable target; a release removes
//! the tool's scaling from the endpoint's variants and marks the endpoint
//! released (see `domain::release`), so that no reconcile puts the scaling
//! back until the update has happened. The reconcile that sees the updated
//! endpoint in service clears the mark and onboards the new variants.

pub mod all;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde::Serialize;
use tracing::info;

use crate::aws::calls::counted;
use crate::domain::plan::Change;
use crate::domain::release::{
    format_time, format_until, plan_release, release_tags, round_to_millis, to_millis,
};
use crate::error::GuardError;
use crate::reconcile::{apply_in_order, now, EndpointReader, Reconciler, ScalingStore};
use crate::resource::Scaled;

/// What a release did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReleaseReport {
    pub action: &'static str,
    pub endpoint: String,
    pub dry_run: bool,
    /// When the release mark expires (RFC 3339, UTC).
    pub released_until: String,
    /// The endpoint's `LastModifiedTime` when it was released: once the
    /// endpoint is in service with a later one, the release is over.
    pub last_modified: String,
    /// The scaling removed, one change per alarm, policy, scheduled action
    /// and target (planned only, in a dry run).
    pub removed: Vec<Change>,
    pub reads: u64,
    pub writes: u64,
}

impl<R: EndpointReader, S: ScalingStore> Reconciler<R, S> {
    /// Releases one endpoint for `duration`. Refused, with nothing changed,
    /// when the endpoint does not exist, is not in service, or has scaling
    /// on any variant that this tool does not own.
    pub async fn release(
        &self,
        endpoint: &str,
        duration: TimeDelta,
        dry_run: bool,
    ) -> Result<ReleaseReport, GuardError> {
        let (result, calls) = counted(self.release_uncounted(endpoint, duration, dry_run)).await;
        let mut report = result?;
        report.reads = calls.reads;
        report.writes = calls.writes;
        info!(
            endpoint,
            until = %report.released_until,
            removed = report.removed.len(),
            dry_run,
            "released"
        );
        Ok(report)
    }

    async fn release_uncounted(
        &self,
        endpoint: &str,
        duration: TimeDelta,
        dry_run: bool,
    ) -> Result<ReleaseReport, GuardError> {
        let refused = |detail: String| GuardError::ReleaseRefused {
            endpoint: endpoint.to_string(),
            detail,
        };
        let failed = |detail: String| GuardError::ReleaseFailed {
            endpoint: endpoint.to_string(),
            detail,
        };
        let snapshot = match self.endpoints.describe(endpoint).await {
            Ok(Some(s)) => s,
            Ok(None) => return Err(refused("the endpoint does not exist".into())),
            Err(e) => return Err(failed(e.to_string())),
        };
        // An update in flight could end the mark as soon as it is set.
        if !snapshot.is_in_service() {
            return Err(refused(format!(
                "the endpoint is {}; release it once it is InService \
                 (aws sagemaker wait endpoint-in-service --endpoint-name {endpoint})",
                snapshot.status
            )));
        }
        let last_modified = snapshot.last_modified.ok_or_else(|| {
            failed("DescribeEndpoint returned no LastModifiedTime to release against".into())
        })?;
        let resource_ids: Vec<String> = snapshot
            .variants
            .iter()
            .map(|v| Scaled::variant(endpoint, &v.name).resource_id())
            .collect();
        let actual = self
            .scaling
            .observe(&resource_ids)
            .await
            .map_err(|e| failed(e.to_string()))?;
        let changes = plan_release(&actual).map_err(|foreign| {
            let found: Vec<String> = foreign.iter().map(ToString::to_string).collect();
            refused(format!(
                "{} that this tool does not own; nothing was changed. \
                 Remove that scaling (or update the endpoint without this tool's help) first",
                found.join("; ")
            ))
        })?;
        let until = release_until(now(), duration);
        let mut report = ReleaseReport {
            action: "release",
            endpoint: endpoint.to_string(),
            dry_run,
            released_until: format_until(until),
            last_modified: format_time(round_to_millis(last_modified)),
            removed: Vec::new(),
            reads: 0,
            writes: 0,
        };
        if dry_run {
            report.removed = changes;
            return Ok(report);
        }
        // Mark first: a reconcile that runs while the scaling is being
        // removed must not put it back.
        self.endpoints
            .add_tags(&snapshot.arn, &release_tags(last_modified, until))
            .await
            .map_err(|e| failed(e.to_string()))?;
        // If the endpoint was modified meanwhile (a scaling activity ending,
        // or tagging itself), the mark is spent already and the scaling would
        // come straight back: say so before anything is removed.
        match self.endpoints.describe(endpoint).await {
            Ok(Some(after))
                if after.last_modified.map(to_millis) == Some(to_millis(last_modified)) => {}
            Ok(after) => {
                let moved = after
                    .and_then(|a| a.last_modified)
                    .map_or("nothing (the endpoint is gone)".to_string(), |t| {
                        format_time(round_to_millis(t))
                    });
                return Err(failed(format!(
                    "the endpoint's LastModifiedTime moved from {} to {moved} while it was being \
                     marked, so the mark cannot wait for the update; nothing was removed: \
                     release it again",
                    report.last_modified
                )));
            }
            Err(e) => return Err(failed(e.to_string())),
        }
        let done = apply_in_order(&self.scaling, changes, |change| {
            info!(endpoint, resource_id = %change.resource_id(), action = change.name(),
                  "removed for release");
        })
        .await;
        report.removed = done.applied;
        if let Some((_, e)) = done.failed {
            return Err(failed(format!(
                "{e}; the endpoint is marked released and {} of the tool's scaling items were \
                 removed before this: run release again",
                report.removed.len()
            )));
        }
        Ok(report)
    }
}

/// `now + duration`, to the second (the tag holds whole seconds).
fn release_until(now: DateTime<Utc>, duration: TimeDelta) -> DateTime<Utc> {
    now.duration_trunc(TimeDelta::seconds(1)).unwrap_or(now) + duration
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_release_ends_whole_seconds_after_now() {
        let now = DateTime::parse_from_rfc3339("2026-11-28T16:40:07.918Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            format_until(release_until(now, TimeDelta::hours(2))),
            "2026-11-28T18:40:07Z"
        );
    }
}
