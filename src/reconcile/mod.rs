//! The one level-triggered reconcile: observe what is there, compute what
//! should be, plan the difference, apply it. Every trigger ends up here and
//! nothing here knows what the trigger was.

pub mod report;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;

use tracing::{info, warn};

use crate::aws::calls::counted;
use crate::aws::sagemaker::SageMakerEndpoints;
use crate::aws::store::AwsScaling;
use crate::aws::AwsError;
use crate::config::Settings;
use crate::domain::desired::{EndpointIntent, VariantIntent};
use crate::domain::plan::{plan, Action, AlarmAction, Applied, Change, ScalingAction, VariantPlan};
use crate::domain::release::{endpoint_intent, ReleaseMark, ReleaseState, RELEASE_TAGS};
use crate::domain::snapshot::{EndpointSnapshot, VariantScaling};
use crate::error::ErrorType;
use crate::resource::Scaled;
use report::{EndpointReport, Outcome, VariantReport, VariantStatus};

/// Writes the one thing this tool writes on an endpoint: the tags of its
/// release mark. Implemented over SageMaker AddTags and DeleteTags.
pub trait EndpointTagger: Send + Sync {
    fn add_tags(
        &self,
        arn: &str,
        tags: &[(String, String)],
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn delete_tags(
        &self,
        arn: &str,
        keys: &[&str],
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// Reads endpoints (and, through `EndpointTagger`, clears a spent release
/// mark). Implemented over SageMaker in `aws::sagemaker`.
pub trait EndpointReader: EndpointTagger + Send + Sync {
    fn describe(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<EndpointSnapshot>, AwsError>> + Send;
    /// Whether an inference component still exists (a fresh read).
    fn component_exists(&self, name: &str) -> impl Future<Output = Result<bool, AwsError>> + Send;
}

/// Reads and writes what Application Auto Scaling and CloudWatch hold for
/// what is scaled. Implemented over both in `aws::store` (`AwsScaling`).
pub trait ScalingStore: Send + Sync {
    fn observe(
        &self,
        resource_ids: &[String],
    ) -> impl Future<Output = Result<BTreeMap<String, VariantScaling>, AwsError>> + Send;
    /// Applies one change; a policy put hands back its ARN.
    fn apply(&self, change: &Change) -> impl Future<Output = Result<Applied, AwsError>> + Send;
}

impl EndpointReader for SageMakerEndpoints {
    async fn describe(&self, name: &str) -> Result<Option<EndpointSnapshot>, AwsError> {
        SageMakerEndpoints::describe(self, name).await
    }
    async fn component_exists(&self, name: &str) -> Result<bool, AwsError> {
        SageMakerEndpoints::component_exists(self, name).await
    }
}

impl EndpointTagger for SageMakerEndpoints {
    async fn add_tags(&self, arn: &str, tags: &[(String, String)]) -> Result<(), AwsError> {
        SageMakerEndpoints::add_tags(self, arn, tags).await
    }
    async fn delete_tags(&self, arn: &str, keys: &[&str]) -> Result<(), AwsError> {
        SageMakerEndpoints::delete_tags(self, arn, keys).await
    }
}

impl ScalingStore for AwsScaling {
    async fn observe(
        &self,
        resource_ids: &[String],
    ) -> Result<BTreeMap<String, VariantScaling>, AwsError> {
        AwsScaling::observe(self, resource_ids).await
    }
    async fn apply(&self, change: &Change) -> Result<Applied, AwsError> {
        AwsScaling::apply(self, change).await
    }
}

pub struct Reconciler<R, S> {
    pub endpoints: R,
    pub scaling: S,
    pub settings: Settings,
    /// Where the next drift check starts remediating: the first endpoint
    /// the last one did not reach. Lives as long as the process (a warm
    /// Lambda container); a cold start falls back to a rotating start.
    pub(crate) sweep_cursor: Mutex<Option<String>>,
}

impl<R: EndpointReader, S: ScalingStore> Reconciler<R, S> {
    pub fn new(endpoints: R, scaling: S, settings: Settings) -> Self {
        Self {
            endpoints,
            scaling,
            settings,
            sweep_cursor: Mutex::new(None),
        }
    }

    /// Reconciles one endpoint; with `dry_run` it plans and writes nothing.
    /// Never fails: problems are in the report, with the AWS calls it made.
    pub async fn reconcile(&self, endpoint: &str, dry_run: bool) -> EndpointReport {
        let (mut report, calls) = counted(self.reconcile_uncounted(endpoint, dry_run)).await;
        report.reads = calls.reads;
        report.writes = calls.writes;
        report
    }

    async fn reconcile_uncounted(&self, endpoint: &str, dry_run: bool) -> EndpointReport {
        let mut report = EndpointReport::new(endpoint, dry_run);
        let snapshot = match self.endpoints.describe(endpoint).await {
            Ok(Some(s)) => s,
            Ok(None) => {
                report.outcome = Outcome::Gone;
                return report;
            }
            Err(e) => return failed(report, ErrorType::AwsError, e.to_string()),
        };
        let (intent, release) = match endpoint_intent(&snapshot, &self.settings, now()) {
            Ok(i) => i,
            Err(tag) => return failed(report, ErrorType::InvalidTag, tag.to_string()),
        };
        // A spent release mark goes first: the endpoint is then managed as
        // usual, and a failure here leaves it to the next reconcile.
        let mut cleared = false;
        if matches!(release, ReleaseState::Spent { .. }) && !dry_run {
            if let Err(e) = self
                .endpoints
                .delete_tags(&snapshot.arn, &RELEASE_TAGS)
                .await
            {
                return failed(report, ErrorType::AwsError, e.to_string());
            }
            info!(
                endpoint,
                action = "clear_release_mark",
                "release mark cleared"
            );
            cleared = true;
        }
        let resource_ids = managed_resource_ids(&intent);
        let actual = if resource_ids.is_empty() {
            BTreeMap::new()
        } else {
            match self.scaling.observe(&resource_ids).await {
                Ok(a) => a,
                Err(e) => return failed(report, ErrorType::AwsError, e.to_string()),
            }
        };
        let mut report = self.converge(report, intent, &actual, dry_run).await;
        report.note_release(ReleaseMark::of(&release, cleared));
        report
    }

    /// Plans every variant against what was observed and, unless
    /// `dry_run`, applies the plan.
    pub async fn converge(
        &self,
        mut report: EndpointReport,
        intent: EndpointIntent,
        actual: &BTreeMap<String, VariantScaling>,
        dry_run: bool,
    ) -> EndpointReport {
        let variants = match intent {
            EndpointIntent::Skip(reason) => {
                report.outcome = Outcome::Skipped;
                report.reason = Some(reason);
                return report;
            }
            EndpointIntent::Variants(v) => v,
        };
        for intent in variants {
            let desired = match intent {
                VariantIntent::Skip { subject, reason } => {
                    report.variants.push(variant_report(
                        subject,
                        VariantStatus::Skipped,
                        Some(reason),
                    ));
                    continue;
                }
                VariantIntent::Error { subject, message } => {
                    let mut vr = variant_report(subject, VariantStatus::Error, None);
                    vr.error = Some(message);
                    vr.error_type = Some(ErrorType::PolicyNotApplicable);
                    report.variants.push(vr);
                    continue;
                }
                VariantIntent::Manage(d) => d,
            };
            let empty = VariantScaling::default();
            let have = actual.get(&desired.resource_id()).unwrap_or(&empty);
            let label = desired.label();
            let mut vr = variant_report(desired.subject.clone(), VariantStatus::Compliant, None);
            vr.max_raised_to_running = desired.max_raised_to_running;
            match plan(&desired, have) {
                VariantPlan::Skip(reason) => {
                    vr.status = VariantStatus::Skipped;
                    vr.reason = Some(reason);
                }
                VariantPlan::Changes(changes) if changes.is_empty() => {}
                VariantPlan::Changes(changes) if dry_run => {
                    vr.status = VariantStatus::Drifted;
                    vr.changes = changes;
                }
                VariantPlan::Changes(changes) => {
                    vr.status = VariantStatus::Changed;
                    let endpoint = &report.endpoint;
                    let run = apply_in_order(&self.scaling, changes, |change| {
                        info!(
                            endpoint = %endpoint,
                            variant = %label,
                            action = change.name(),
                            outcome = "changed",
                            differences = report::differences(change.because()),
                            "applied change"
                        );
                    })
                    .await;
                    vr.changes = run.applied;
                    if let Some((change, e)) = run.failed {
                        // Later changes build on earlier ones: the loop stopped here.
                        warn!(endpoint = %report.endpoint, variant = %label,
                              action = change.name(), outcome = "error",
                              error_type = ErrorType::AwsError.as_str(), error = %e,
                              "change failed");
                        vr.status = VariantStatus::Error;
                        vr.error = Some(e.to_string());
                        vr.error_type = Some(ErrorType::AwsError);
                    }
                }
            }
            report.variants.push(vr);
        }
        report.settle_outcome();
        report
    }
}

/// The time release marks are judged against.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    std::time::SystemTime::now().into()
}

/// What applying a list of changes did: the changes applied, and the one
/// that failed, if any (the ones after it were not tried).
#[derive(Debug)]
pub struct AppliedChanges {
    pub applied: Vec<Change>,
    pub failed: Option<(Change, AwsError)>,
}

/// The one apply loop, for a plan and for an orphan's removal alike. It
/// stops at the first failure: later changes build on earlier ones. A
/// PutAlarm whose policy was put earlier in the same list acts on the ARN
/// that put returned.
pub async fn apply_in_order<S: ScalingStore>(
    store: &S,
    changes: Vec<Change>,
    mut on_applied: impl FnMut(&Change),
) -> AppliedChanges {
    // Policy name -> the ARN its PutScalingPolicy returned.
    let mut put_arns = BTreeMap::new();
    let mut applied = Vec::new();
    for change in changes {
        let change = acting_on_put_policy(change, &put_arns);
        match store.apply(&change).await {
            Ok(done) => {
                if let (Action::Scaling(ScalingAction::PutPolicy { policy }), Some(arn)) =
                    (&change.action, done.policy_arn)
                {
                    put_arns.insert(policy.name().to_string(), arn);
                }
                on_applied(&change);
                applied.push(change);
            }
            Err(e) => {
                return AppliedChanges {
                    applied,
                    failed: Some((change, e)),
                }
            }
        }
    }
    AppliedChanges {
        applied,
        failed: None,
    }
}

/// A PutAlarm whose policy was put earlier in the same list acts on the
/// ARN that put returned.
fn acting_on_put_policy(mut change: Change, put_arns: &BTreeMap<String, String>) -> Change {
    if let Action::Alarm(AlarmAction::PutAlarm {
        policy_name,
        policy_arn: arn @ None,
        ..
    }) = &mut change.action
    {
        *arn = put_arns.get(policy_name).cloned();
    }
    change
}

pub(crate) fn failed(
    mut report: EndpointReport,
    error_type: ErrorType,
    message: String,
) -> EndpointReport {
    warn!(endpoint = %report.endpoint, outcome = "error", error_type = error_type.as_str(),
          error = %message, "endpoint not reconciled");
    report.outcome = Outcome::Error;
    report.error_type = Some(error_type);
    report.error = Some(message);
    report
}

fn variant_report(
    subject: Scaled,
    status: VariantStatus,
    reason: Option<crate::domain::desired::SkipReason>,
) -> VariantReport {
    VariantReport {
        subject,
        status,
        reason,
        changes: Vec::new(),
        error: None,
        error_type: None,
        max_raised_to_running: false,
    }
}

pub fn managed_resource_ids(intent: &EndpointIntent) -> Vec<String> {
    match intent {
        EndpointIntent::Skip(_) => Vec::new(),
        EndpointIntent::Variants(vs) => vs
            .iter()
            .filter_map(|v| match v {
                VariantIntent::Manage(d) => Some(d.resource_id()),
                VariantIntent::Skip { .. } | VariantIntent::Error { .. } => None,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests;
