//! Reconcile against in-memory fakes. The fake store behaves as AWS does
//! where moto does not: a policy on an unregistered target is rejected.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use super::report::{Outcome, VariantStatus};
use super::*;
use crate::domain::plan::TARGET_TRACKING;
use crate::domain::snapshot::{ScalableTarget, ScalingPolicy, TargetTracking, VariantSnapshot};

#[derive(Default)]
struct FakeEndpoints {
    endpoints: BTreeMap<String, EndpointSnapshot>,
    fail: bool,
}

impl EndpointReader for FakeEndpoints {
    async fn describe(&self, name: &str) -> Result<Option<EndpointSnapshot>, AwsError> {
        if self.fail {
            return Err(AwsError {
                operation: "DescribeEndpoint".into(),
                code: Some("AccessDeniedException".into()),
                message: "not allowed".into(),
                retryable: false,
            });
        }
        Ok(self.endpoints.get(name).cloned())
    }

    async fn component_exists(&self, name: &str) -> Result<bool, AwsError> {
        Ok(self
            .endpoints
            .values()
            .any(|e| e.components.iter().any(|c| c.name == name)))
    }
}

#[derive(Default)]
struct FakeScaling {
    state: Mutex<BTreeMap<String, VariantScaling>>,
    applied: Mutex<Vec<String>>,
    /// Resource ids whose writes fail with a permanent error.
    broken: HashSet<String>,
}

impl ScalingStore for FakeScaling {
    async fn observe(&self, ids: &[String]) -> Result<BTreeMap<String, VariantScaling>, AwsError> {
        let state = self.state.lock().unwrap();
        Ok(ids
            .iter()
            .map(|id| (id.clone(), state.get(id).cloned().unwrap_or_default()))
            .collect())
    }

    async fn apply(&self, change: &Change) -> Result<Applied, AwsError> {
        let rid = change.resource_id().to_string();
        if self.broken.contains(&rid) {
            return Err(AwsError {
                operation: change.name().into(),
                code: Some("ValidationException".into()),
                message: "boom".into(),
                retryable: false,
            });
        }
        self.applied
            .lock()
            .unwrap()
            .push(format!("{} {rid}", change.name()));
        let mut state = self.state.lock().unwrap();
        let slot = state.entry(rid.clone()).or_default();
        match change {
            Change::DeregisterTarget { .. } => slot.target = None,
            Change::PutStepPolicy { .. } | Change::PutAlarm { .. } | Change::DeleteAlarm { .. } => {
                unimplemented!("the fake store models target tracking and scheduled actions only")
            }
            Change::PutScheduledAction {
                scheduled_action: a,
                ..
            } => {
                slot.scheduled.retain(|s| s.name != a.name);
                slot.scheduled
                    .push(crate::domain::snapshot::ScheduledAction {
                        name: a.name.clone(),
                        resource_id: rid.clone(),
                        dimension: Default::default(),
                        schedule: a.schedule.clone(),
                        timezone: a.timezone.clone(),
                        min_capacity: a.min_capacity,
                        max_capacity: a.max_capacity,
                    });
            }
            Change::DeleteScheduledAction {
                scheduled_action_name,
                ..
            } => slot.scheduled.retain(|s| &s.name != scheduled_action_name),
            Change::RegisterTarget {
                min_capacity,
                max_capacity,
                ..
            } => {
                slot.target = Some(ScalableTarget {
                    resource_id: rid,
                    dimension: Default::default(),
                    min_capacity: *min_capacity,
                    max_capacity: *max_capacity,
                })
            }
            Change::DeletePolicy { policy_name, .. } => {
                slot.policies.retain(|p| &p.name != policy_name)
            }
            Change::PutTargetTrackingPolicy { policy, .. } => {
                if slot.target.is_none() {
                    return Err(AwsError {
                        operation: "PutScalingPolicy".into(),
                        code: Some("ObjectNotFoundException".into()),
                        message: "no target".into(),
                        retryable: false,
                    });
                }
                slot.policies.retain(|p| p.name != policy.name);
                slot.policies.push(ScalingPolicy {
                    name: policy.name.clone(),
                    resource_id: rid,
                    dimension: Default::default(),
                    arn: String::new(),
                    step: None,
                    policy_type: TARGET_TRACKING.into(),
                    target_tracking: Some(TargetTracking {
                        target_value: policy.target_value,
                        metric: match &policy.metric {
                            crate::domain::desired::MetricSpec::Predefined { metric_type } => {
                                crate::domain::snapshot::ObservedMetric::Predefined(
                                    metric_type.clone(),
                                )
                            }
                            _ => crate::domain::snapshot::ObservedMetric::Other,
                        },
                        scale_in_cooldown: Some(policy.scale_in_cooldown),
                        scale_out_cooldown: Some(policy.scale_out_cooldown),
                        disable_scale_in: policy.disable_scale_in,
                    }),
                });
            }
        }
        Ok(Applied::default())
    }
}

fn endpoint(name: &str, tags: &[(&str, &str)]) -> EndpointSnapshot {
    let variant = |n: &str| VariantSnapshot {
        name: n.into(),
        instance_type: Some("ml.m5.large".into()),
        current_instance_count: Some(1),
        desired_instance_count: Some(1),
        hosts_components: false,
        serverless: None,
    };
    EndpointSnapshot {
        name: name.into(),
        arn: format!("arn:aws:sagemaker:us-east-1:1:endpoint/{name}"),
        status: "InService".into(),
        config_name: "cfg".into(),
        is_async: false,
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        components: Vec::new(),
        variants: vec![variant("a"), variant("b")],
    }
}

fn reconciler(
    endpoints: Vec<EndpointSnapshot>,
    scaling: FakeScaling,
) -> Reconciler<FakeEndpoints, FakeScaling> {
    Reconciler::new(
        FakeEndpoints {
            endpoints: endpoints.into_iter().map(|e| (e.name.clone(), e)).collect(),
            fail: false,
        },
        scaling,
        Settings::default(),
    )
}

fn applied(r: &Reconciler<FakeEndpoints, FakeScaling>) -> Vec<String> {
    r.scaling.applied.lock().unwrap().clone()
}

#[tokio::test]
async fn onboards_then_does_nothing_the_second_time() {
    let r = reconciler(vec![endpoint("e", &[])], FakeScaling::default());
    let first = r.reconcile("e", false).await;
    assert_eq!(first.outcome, Outcome::Changed);
    assert_eq!(
        applied(&r),
        [
            "register_target endpoint/e/variant/a",
            "put_target_tracking_policy endpoint/e/variant/a",
            "register_target endpoint/e/variant/b",
            "put_target_tracking_policy endpoint/e/variant/b",
        ]
    );
    let second = r.reconcile("e", false).await;
    assert_eq!(second.outcome, Outcome::Compliant);
    assert!(second
        .variants
        .iter()
        .all(|v| v.status == VariantStatus::Compliant && v.changes.is_empty()));
    assert_eq!(applied(&r).len(), 4, "a compliant endpoint gets no writes");
}

#[tokio::test]
async fn dry_run_plans_without_writing() {
    let r = reconciler(vec![endpoint("e", &[])], FakeScaling::default());
    let report = r.reconcile("e", true).await;
    assert_eq!(report.outcome, Outcome::Drifted);
    assert!(report.dry_run);
    assert_eq!(report.variants[0].changes.len(), 2);
    assert!(applied(&r).is_empty());
}

#[tokio::test]
async fn one_failing_variant_does_not_stop_the_other() {
    let scaling = FakeScaling {
        broken: ["endpoint/e/variant/a".to_string()].into(),
        ..FakeScaling::default()
    };
    let r = reconciler(vec![endpoint("e", &[])], scaling);
    let report = r.reconcile("e", false).await;
    assert_eq!(report.outcome, Outcome::Error);
    assert_eq!(report.variants[0].status, VariantStatus::Error);
    assert!(report.variants[0]
        .error
        .as_deref()
        .unwrap()
        .contains("ValidationException: boom"));
    assert!(
        report.variants[0].changes.is_empty(),
        "nothing after the failed register"
    );
    assert_eq!(report.variants[1].status, VariantStatus::Changed);
    assert_eq!(applied(&r).len(), 2);
}

#[tokio::test]
async fn a_missing_endpoint_is_gone_not_an_error() {
    let r = reconciler(vec![], FakeScaling::default());
    let report = r.reconcile("nope", false).await;
    assert_eq!(report.outcome, Outcome::Gone);
    assert!(report.error.is_none());
}

#[tokio::test]
async fn a_bad_tag_writes_nothing_and_names_the_tag() {
    let r = reconciler(
        vec![endpoint("e", &[("autoscaling:max-capacity", "lots")])],
        FakeScaling::default(),
    );
    let report = r.reconcile("e", false).await;
    assert_eq!(report.outcome, Outcome::Error);
    assert_eq!(report.error_type, Some("InvalidTag"));
    assert!(report
        .error
        .unwrap()
        .contains("autoscaling:max-capacity=\"lots\""));
    assert!(applied(&r).is_empty());
}

#[tokio::test]
async fn a_failed_read_is_an_error_with_the_aws_code() {
    let mut r = reconciler(vec![], FakeScaling::default());
    r.endpoints.fail = true;
    let report = r.reconcile("e", false).await;
    assert_eq!(report.outcome, Outcome::Error);
    assert_eq!(report.error_type, Some("AwsError"));
    assert!(report.error.unwrap().contains("AccessDeniedException"));
}

#[tokio::test]
async fn a_foreign_policy_keeps_the_variant_untouched() {
    let scaling = FakeScaling::default();
    scaling.state.lock().unwrap().insert(
        "endpoint/e/variant/a".into(),
        VariantScaling {
            target: Some(ScalableTarget {
                resource_id: "endpoint/e/variant/a".into(),
                dimension: Default::default(),
                min_capacity: 2,
                max_capacity: 12,
            }),
            policies: vec![ScalingPolicy {
                name: "team-policy".into(),
                resource_id: "endpoint/e/variant/a".into(),
                dimension: Default::default(),
                arn: String::new(),
                step: None,
                policy_type: "StepScaling".into(),
                target_tracking: None,
            }],
            scheduled: vec![],
            alarms: vec![],
        },
    );
    let r = reconciler(vec![endpoint("e", &[])], scaling);
    let report = r.reconcile("e", false).await;
    assert_eq!(report.variants[0].status, VariantStatus::Skipped);
    assert_eq!(
        report.variants[0].reason.as_ref().unwrap().code(),
        "foreign_policy"
    );
    assert!(applied(&r).iter().all(|a| a.ends_with("variant/b")));
}

#[test]
fn an_alarm_put_after_its_policy_takes_the_arn_that_put_returned() {
    let alarm = |policy_arn: Option<&str>| Change::PutAlarm {
        resource_id: "endpoint/e/variant/a".into(),
        dimension: Default::default(),
        policy_name: "autoscaling-guard-burst".into(),
        policy_arn: policy_arn.map(str::to_string),
        alarm: crate::domain::desired::DesiredAlarm {
            name: "autoscaling-guard-e/a/burst".into(),
            namespace: "AWS/SageMaker".into(),
            metric_name: "InvocationsPerInstance".into(),
            dimensions: Vec::new(),
            statistic: "Sum".into(),
            period: 60,
            evaluation_periods: 1,
            datapoints_to_alarm: None,
            threshold: 1.0,
            comparison: "GreaterThanOrEqualToThreshold".into(),
            treat_missing_data: "missing".into(),
        },
        because: Vec::new(),
    };
    let put: BTreeMap<String, String> =
        [("autoscaling-guard-burst".into(), "arn:new".into())].into();
    assert_eq!(
        acting_on_put_policy(alarm(None), &put),
        alarm(Some("arn:new"))
    );
    // An observed ARN stays: that policy was not put again.
    assert_eq!(
        acting_on_put_policy(alarm(Some("arn:observed")), &put),
        alarm(Some("arn:observed"))
    );
    // Nothing was put: the store refuses the alarm rather than guess.
    assert_eq!(
        acting_on_put_policy(alarm(None), &BTreeMap::new()),
        alarm(None)
    );
}
