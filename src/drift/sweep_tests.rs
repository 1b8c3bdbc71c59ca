//! The sweep against in-memory fakes of the listing and scaling traits:
//! failed reads, failed removals and what they may (not) lead to.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use serde_json::Value;

use super::*;
use crate::config::Settings;
use crate::domain::plan::{Applied, Change};
use crate::domain::Dimension;
use crate::reconcile::EndpointTagger;

fn throttled(operation: &str) -> AwsError {
    AwsError {
        operation: operation.into(),
        code: Some("ThrottlingException".into()),
        message: "Rate exceeded".into(),
        retryable: true,
    }
}

fn snapshot(name: &str, variants: &[&str]) -> EndpointSnapshot {
    EndpointSnapshot::test(name).variants(variants)
}

/// SageMaker as the sweep sees it: a listing, and fresh reads that may
/// disagree with it (a listing lags) or fail.
#[derive(Default)]
struct FakeEndpoints {
    listed: Vec<Listed>,
    /// What a fresh DescribeEndpoint finds; absent means "does not exist".
    live: BTreeMap<String, EndpointSnapshot>,
    /// Endpoints whose fresh read fails.
    unreadable: BTreeSet<String>,
    components: BTreeSet<String>,
    unreadable_components: BTreeSet<String>,
}

impl EndpointReader for FakeEndpoints {
    async fn describe(&self, name: &str) -> Result<Option<EndpointSnapshot>, AwsError> {
        if self.unreadable.contains(name) {
            return Err(throttled("DescribeEndpointConfig"));
        }
        Ok(self.live.get(name).cloned())
    }

    async fn component_exists(&self, name: &str) -> Result<bool, AwsError> {
        if self.unreadable_components.contains(name) {
            return Err(throttled("DescribeInferenceComponent"));
        }
        Ok(self.components.contains(name))
    }
}

impl EndpointTagger for FakeEndpoints {
    async fn add_tags(&self, _arn: &str, _tags: &[(String, String)]) -> Result<(), AwsError> {
        unreachable!("a sweep never releases an endpoint")
    }
    async fn delete_tags(&self, _arn: &str, _keys: &[&str]) -> Result<(), AwsError> {
        unreachable!("no endpoint here carries a release mark")
    }
}

impl EndpointLister for FakeEndpoints {
    async fn list_all(&self, _concurrency: usize) -> Result<Vec<Listed>, AwsError> {
        Ok(self.listed.clone())
    }
}

/// Application Auto Scaling and CloudWatch as listings; writes are
/// recorded, not applied (one sweep is all these tests run).
#[derive(Default)]
struct FakeScaling {
    targets: Vec<ScalableTarget>,
    policies: Vec<ScalingPolicy>,
    scheduled: Vec<ScheduledAction>,
    alarms: Vec<ObservedAlarm>,
    /// Resource ids whose writes fail.
    broken: BTreeSet<String>,
    /// A fresh observation fails.
    observe_fails: bool,
    applied: Mutex<Vec<Change>>,
}

impl ScalingStore for FakeScaling {
    async fn observe(&self, ids: &[String]) -> Result<BTreeMap<String, VariantScaling>, AwsError> {
        if self.observe_fails {
            return Err(throttled("DescribeScalingPolicies"));
        }
        Ok(ids
            .iter()
            .map(|id| {
                let scaling = VariantScaling {
                    target: self.targets.iter().find(|t| &t.resource_id == id).cloned(),
                    policies: self
                        .policies
                        .iter()
                        .filter(|p| &p.resource_id == id)
                        .cloned()
                        .collect(),
                    scheduled: self
                        .scheduled
                        .iter()
                        .filter(|s| &s.resource_id == id)
                        .cloned()
                        .collect(),
                    alarms: Vec::new(),
                };
                (id.clone(), scaling)
            })
            .collect())
    }

    async fn apply(&self, change: &Change) -> Result<Applied, AwsError> {
        if self.broken.contains(&change.resource_id()) {
            return Err(AwsError {
                operation: "DeregisterScalableTarget".into(),
                code: Some("AccessDeniedException".into()),
                message: "not allowed to deregister".into(),
                retryable: false,
            });
        }
        self.applied.lock().unwrap().push(change.clone());
        Ok(Applied::default())
    }
}

impl ScalingLister for FakeScaling {
    async fn all_policies(&self) -> Result<Vec<ScalingPolicy>, AwsError> {
        Ok(self.policies.clone())
    }
    async fn all_scheduled_actions(&self) -> Result<Vec<ScheduledAction>, AwsError> {
        Ok(self.scheduled.clone())
    }
    async fn targets(&self, ids: &[String]) -> Result<Vec<ScalableTarget>, AwsError> {
        Ok(self
            .targets
            .iter()
            .filter(|t| ids.contains(&t.resource_id))
            .cloned()
            .collect())
    }
    async fn all_alarms(&self) -> Result<Vec<ObservedAlarm>, AwsError> {
        Ok(self.alarms.clone())
    }
}

fn rid(endpoint: &str, variant: &str) -> String {
    format!("endpoint/{endpoint}/variant/{variant}")
}

/// The standard target and policy, as onboarding leaves them.
fn onboarded(scaling: &mut FakeScaling, resource_id: &str, dimension: Dimension) {
    scaling.targets.push(ScalableTarget {
        resource_id: resource_id.into(),
        dimension,
        min_capacity: 1,
        max_capacity: 4,
    });
    scaling
        .policies
        .push(ScalingPolicy::invocations(resource_id).dimension(dimension));
}

fn reconciler(
    endpoints: FakeEndpoints,
    scaling: FakeScaling,
    mode: DriftMode,
) -> Reconciler<FakeEndpoints, FakeScaling> {
    Reconciler::new(
        endpoints,
        scaling,
        Settings {
            drift_mode: mode,
            ..Settings::default()
        },
    )
}

const SWEEP: SweepOptions = SweepOptions {
    dry_run: false,
    deadline: None,
};

async fn sweep(r: &Reconciler<FakeEndpoints, FakeScaling>) -> DriftReport {
    r.drift_check(SWEEP).await.expect("the sweep runs")
}

/// The orphans as the JSON report has them.
fn orphans(report: &DriftReport) -> Vec<Value> {
    report
        .orphans
        .iter()
        .map(|o| serde_json::to_value(o).unwrap())
        .collect()
}

fn written(r: &Reconciler<FakeEndpoints, FakeScaling>) -> Vec<String> {
    r.scaling
        .applied
        .lock()
        .unwrap()
        .iter()
        .map(|c| format!("{} {}", c.name(), c.resource_id()))
        .collect()
}

#[tokio::test]
async fn a_failed_orphan_removal_is_an_error_in_the_summary_and_the_table() {
    let mut scaling = FakeScaling::default();
    onboarded(&mut scaling, &rid("gone", "a"), Dimension::VariantInstances);
    scaling.broken.insert(rid("gone", "a"));
    let r = reconciler(FakeEndpoints::default(), scaling, DriftMode::Remediate);
    let report = sweep(&r).await;
    let found = orphans(&report);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["status"], "error");
    let s = &report.summary;
    assert_eq!(
        (s.orphan_errors, s.orphans_found, s.orphans_removed),
        (1, 1, 0),
        "{s:?}"
    );
    let text = report::table(&report);
    assert!(text.contains("orphans with errors         1"), "{text}");
    assert!(
        text.contains("AccessDeniedException: not allowed to deregister"),
        "{text}"
    );
}

#[tokio::test]
async fn an_endpoint_whose_config_cannot_be_read_is_an_error_not_an_orphan() {
    for mode in [DriftMode::Report, DriftMode::Remediate] {
        let mut scaling = FakeScaling::default();
        onboarded(&mut scaling, &rid("live", "a"), Dimension::VariantInstances);
        let endpoints = FakeEndpoints {
            listed: vec![Err(("live".into(), throttled("DescribeEndpointConfig")))],
            live: [("live".to_string(), snapshot("live", &["a"]))].into(),
            ..FakeEndpoints::default()
        };
        let r = reconciler(endpoints, scaling, mode);
        let report = sweep(&r).await;
        assert_eq!(orphans(&report), Vec::<Value>::new(), "{mode:?}");
        let s = &report.summary;
        assert_eq!(
            (s.endpoints_unreadable, s.orphans_found),
            (1, 0),
            "{mode:?}: {s:?}"
        );
        let entry = &report.endpoints[0].found;
        assert_eq!(entry.endpoint, "live");
        assert!(
            entry
                .error
                .as_deref()
                .unwrap()
                .contains("DescribeEndpointConfig failed: ThrottlingException"),
            "{entry:?}"
        );
        assert!(written(&r).is_empty(), "{mode:?}: {:?}", written(&r));
    }
}

#[tokio::test]
async fn an_inference_component_whose_endpoint_cannot_be_read_is_not_an_orphan() {
    let mut scaling = FakeScaling::default();
    onboarded(
        &mut scaling,
        "inference-component/chat",
        Dimension::ComponentCopies,
    );
    let endpoints = FakeEndpoints {
        listed: vec![Err(("llm".into(), throttled("ListInferenceComponents")))],
        components: ["chat".to_string()].into(),
        ..FakeEndpoints::default()
    };
    let r = reconciler(endpoints, scaling, DriftMode::Report);
    let report = sweep(&r).await;
    let found = orphans(&report);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["status"], "still_in_use", "{found:?}");
    assert_eq!(report.summary.orphans_found, 0);
}

#[tokio::test]
async fn only_a_fresh_read_that_finds_nothing_makes_an_orphan_even_in_report_mode() {
    // The listing lags: "new" is not in it yet, but a fresh read finds it.
    let mut scaling = FakeScaling::default();
    onboarded(&mut scaling, &rid("new", "a"), Dimension::VariantInstances);
    onboarded(&mut scaling, &rid("gone", "a"), Dimension::VariantInstances);
    let endpoints = FakeEndpoints {
        live: [("new".to_string(), snapshot("new", &["a"]))].into(),
        ..FakeEndpoints::default()
    };
    let r = reconciler(endpoints, scaling, DriftMode::Report);
    let report = sweep(&r).await;
    let status: BTreeMap<String, Value> = orphans(&report)
        .into_iter()
        .map(|o| {
            (
                o["resource_id"].as_str().unwrap().to_string(),
                o["status"].clone(),
            )
        })
        .collect();
    assert_eq!(status[&rid("gone", "a")], "found");
    assert_eq!(status[&rid("new", "a")], "still_in_use");
    assert_eq!(report.summary.orphans_found, 1);
    assert!(written(&r).is_empty());
}

#[tokio::test]
async fn a_failed_confirmation_is_an_error_and_removes_nothing() {
    let mut scaling = FakeScaling::default();
    onboarded(
        &mut scaling,
        &rid("maybe", "a"),
        Dimension::VariantInstances,
    );
    onboarded(
        &mut scaling,
        "inference-component/chat",
        Dimension::ComponentCopies,
    );
    let endpoints = FakeEndpoints {
        unreadable: ["maybe".to_string()].into(),
        unreadable_components: ["chat".to_string()].into(),
        ..FakeEndpoints::default()
    };
    let r = reconciler(endpoints, scaling, DriftMode::Remediate);
    let report = sweep(&r).await;
    let found = orphans(&report);
    assert_eq!(found.len(), 2, "{found:?}");
    for o in &found {
        assert_eq!(o["status"], "unconfirmed", "{o}");
        assert!(
            o["error"].as_str().unwrap().contains("ThrottlingException"),
            "{o}"
        );
    }
    let s = &report.summary;
    assert_eq!(
        (s.orphan_errors, s.orphans_found, s.orphans_removed),
        (2, 0, 0)
    );
    assert!(written(&r).is_empty(), "{:?}", written(&r));
}

#[tokio::test]
async fn a_failed_read_writes_nothing_for_that_endpoint() {
    // Both endpoints are missing their scaling; only "readable" can be
    // observed, so only it is repaired.
    let endpoints = FakeEndpoints {
        listed: vec![
            Ok(snapshot("readable", &["a"])),
            Err(("unreadable".into(), throttled("DescribeEndpointConfig"))),
        ],
        live: [("readable".to_string(), snapshot("readable", &["a"]))].into(),
        unreadable: ["unreadable".to_string()].into(),
        ..FakeEndpoints::default()
    };
    let r = reconciler(endpoints, FakeScaling::default(), DriftMode::Remediate);
    let report = sweep(&r).await;
    assert_eq!(report.summary.endpoints_unreadable, 1);
    assert_eq!(report.summary.remediated, 1);
    let writes = written(&r);
    assert!(!writes.is_empty());
    assert!(
        writes.iter().all(|w| w.ends_with(&rid("readable", "a"))),
        "{writes:?}"
    );
}

#[tokio::test]
async fn a_reconcile_whose_observation_fails_writes_nothing() {
    let endpoints = FakeEndpoints {
        live: [("e".to_string(), snapshot("e", &["a", "b"]))].into(),
        ..FakeEndpoints::default()
    };
    let scaling = FakeScaling {
        observe_fails: true,
        ..FakeScaling::default()
    };
    let r = reconciler(endpoints, scaling, DriftMode::Remediate);
    let report = r.reconcile("e", false).await;
    assert_eq!(report.outcome, Outcome::Error);
    assert!(report
        .error
        .as_deref()
        .unwrap()
        .contains("DescribeScalingPolicies failed: ThrottlingException"));
    assert!(written(&r).is_empty(), "{:?}", written(&r));

    let mut unreadable = r;
    unreadable.endpoints.unreadable.insert("e".into());
    unreadable.scaling.observe_fails = false;
    let report = unreadable.reconcile("e", false).await;
    assert_eq!(report.outcome, Outcome::Error);
    assert!(written(&unreadable).is_empty());
}
