//! Reconcile against in-memory fakes. The fake store behaves as AWS does
//! where moto does not: a policy on an unregistered target is rejected. It
//! holds every kind of change, converted as the AWS adapters convert them.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use super::report::{Outcome, VariantStatus};
use super::*;
use crate::aws::alarms::{as_stored, to_alarm};
use crate::aws::autoscaling::as_described;
use crate::domain::snapshot::{ScalableTarget, ScalingPolicy};
use crate::resource::Scaled;
use aws_sdk_applicationautoscaling::types::PolicyType;

#[derive(Default)]
struct FakeEndpoints {
    endpoints: BTreeMap<String, EndpointSnapshot>,
    fail: bool,
    /// Tag writes, as "add <arn> k=v,..." and "delete <arn> k,...".
    tag_writes: Mutex<Vec<String>>,
    /// Tagging moves an endpoint's LastModifiedTime by a second.
    tagging_modifies: bool,
}

impl EndpointTagger for FakeEndpoints {
    async fn add_tags(&self, arn: &str, tags: &[(String, String)]) -> Result<(), AwsError> {
        let tags: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        self.tag_writes
            .lock()
            .unwrap()
            .push(format!("add {arn} {}", tags.join(",")));
        Ok(())
    }

    async fn delete_tags(&self, arn: &str, keys: &[&str]) -> Result<(), AwsError> {
        self.tag_writes
            .lock()
            .unwrap()
            .push(format!("delete {arn} {}", keys.join(",")));
        Ok(())
    }
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
        let mut found = self.endpoints.get(name).cloned();
        if self.tagging_modifies && !self.tag_writes.lock().unwrap().is_empty() {
            if let Some(e) = &mut found {
                e.last_modified = e.last_modified.map(|t| t + chrono::TimeDelta::seconds(1));
            }
        }
        Ok(found)
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
        let rid = change.resource_id();
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
        let mut applied = Applied::default();
        let action = match &change.action {
            Action::Scaling(action) => action,
            Action::Alarm(AlarmAction::PutAlarm {
                policy_arn, alarm, ..
            }) => {
                let arn = policy_arn
                    .as_deref()
                    .expect("the reconcile fills in the ARN");
                slot.alarms.retain(|a| a.name != alarm.name);
                slot.alarms.push(to_alarm(&as_stored(alarm, arn)));
                return Ok(applied);
            }
            Action::Alarm(AlarmAction::DeleteAlarm { alarm_name }) => {
                slot.alarms.retain(|a| &a.name != alarm_name);
                return Ok(applied);
            }
        };
        match action {
            ScalingAction::DeregisterTarget => slot.target = None,
            ScalingAction::PutScheduledAction {
                scheduled_action: a,
            } => {
                slot.scheduled.retain(|s| s.name != a.name);
                slot.scheduled
                    .push(crate::domain::snapshot::ScheduledAction {
                        name: a.name.clone(),
                        resource_id: rid.clone(),
                        dimension: change.dimension,
                        schedule: a.schedule.clone(),
                        timezone: a.timezone.clone(),
                        min_capacity: a.min_capacity,
                        max_capacity: a.max_capacity,
                    });
            }
            ScalingAction::DeleteScheduledAction {
                scheduled_action_name,
            } => slot.scheduled.retain(|s| &s.name != scheduled_action_name),
            ScalingAction::RegisterTarget {
                min_capacity,
                max_capacity,
            } => {
                slot.target = Some(ScalableTarget {
                    resource_id: rid,
                    dimension: change.dimension,
                    min_capacity: *min_capacity,
                    max_capacity: *max_capacity,
                })
            }
            ScalingAction::DeletePolicy { policy_name } => {
                slot.policies.retain(|p| &p.name != policy_name)
            }
            ScalingAction::PutPolicy { .. } if slot.target.is_none() => {
                return Err(AwsError {
                    operation: "PutScalingPolicy".into(),
                    code: Some("ObjectNotFoundException".into()),
                    message: "no target".into(),
                    retryable: false,
                });
            }
            ScalingAction::PutPolicy { policy } => {
                let arn = format!("arn:aws:autoscaling:policy/{rid}/{}", policy.name());
                let stored = as_described(policy, &rid, change.dimension, &arn)?;
                applied.policy_arn = Some(arn);
                slot.policies.retain(|p| p.name != stored.name);
                slot.policies.push(stored);
            }
        }
        Ok(applied)
    }
}

fn endpoint(name: &str, tags: &[(&str, &str)]) -> EndpointSnapshot {
    EndpointSnapshot::test(name).tags(tags).variants(["a", "b"])
}

fn reconciler(
    endpoints: Vec<EndpointSnapshot>,
    scaling: FakeScaling,
) -> Reconciler<FakeEndpoints, FakeScaling> {
    Reconciler::new(
        FakeEndpoints {
            endpoints: endpoints.into_iter().map(|e| (e.name.clone(), e)).collect(),
            ..FakeEndpoints::default()
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
    assert_eq!(report.error_type, Some(ErrorType::InvalidTag));
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
    assert_eq!(report.error_type, Some(ErrorType::AwsError));
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
            policies: vec![
                ScalingPolicy::test("team-policy", "endpoint/e/variant/a").step_scaling()
            ],
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
    let alarm = |policy_arn: Option<&str>| Change {
        subject: Scaled::variant("e", "a"),
        dimension: Default::default(),
        action: Action::Alarm(AlarmAction::PutAlarm {
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
                treat_missing_data: crate::policy_set::alarm::TreatMissingData::Missing,
            },
        }),
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

mod release_mark {
    use super::*;
    use crate::domain::release::{TAG_RELEASED_LAST_MODIFIED, TAG_RELEASED_UNTIL};

    const ARN: &str = "arn:aws:sagemaker:us-east-1:1:endpoint/e";

    fn released(until: &str, modified_since: bool) -> EndpointSnapshot {
        let e = endpoint(
            "e",
            &[
                (TAG_RELEASED_UNTIL, until),
                (TAG_RELEASED_LAST_MODIFIED, "2026-11-28T16:00:00.190Z"),
            ],
        );
        let modified = if modified_since {
            "2026-11-28T16:20:00Z"
        } else {
            "2026-11-28T16:00:00.190Z"
        };
        modified_at(e, modified)
    }

    /// The endpoint as SageMaker last modified it at `when` (RFC 3339).
    fn modified_at(mut e: EndpointSnapshot, when: &str) -> EndpointSnapshot {
        e.last_modified = Some(chrono::DateTime::parse_from_rfc3339(when).unwrap().into());
        e
    }

    fn tag_writes(r: &Reconciler<FakeEndpoints, FakeScaling>) -> Vec<String> {
        r.endpoints.tag_writes.lock().unwrap().clone()
    }

    #[tokio::test]
    async fn a_released_endpoint_is_left_alone() {
        let r = reconciler(
            vec![released("2999-01-01T00:00:00Z", false)],
            FakeScaling::default(),
        );
        let report = r.reconcile("e", false).await;
        assert_eq!(report.outcome, Outcome::Skipped);
        assert_eq!(report.reason.as_ref().unwrap().code(), "released");
        assert_eq!(report.release_mark.as_ref().unwrap().state, "released");
        assert!(applied(&r).is_empty());
        assert!(tag_writes(&r).is_empty());
    }

    #[tokio::test]
    async fn the_updated_endpoint_loses_its_mark_and_is_onboarded() {
        let r = reconciler(
            vec![released("2999-01-01T00:00:00Z", true)],
            FakeScaling::default(),
        );
        let report = r.reconcile("e", false).await;
        assert_eq!(report.outcome, Outcome::Changed);
        assert_eq!(
            tag_writes(&r),
            [format!(
                "delete {ARN} {TAG_RELEASED_UNTIL},{TAG_RELEASED_LAST_MODIFIED}"
            )]
        );
        assert_eq!(applied(&r).len(), 4, "both variants onboarded");
        let mark = report.release_mark.unwrap();
        assert_eq!((mark.state, mark.cleared), ("spent", true));
    }

    #[tokio::test]
    async fn an_expired_mark_is_cleared_even_when_the_scaling_is_compliant() {
        let r = reconciler(
            vec![released("2020-01-01T00:00:00Z", false)],
            FakeScaling::default(),
        );
        // A dry run plans the clearing and writes nothing.
        let planned = r.reconcile("e", true).await;
        assert_eq!(planned.outcome, Outcome::Drifted);
        assert!(!planned.release_mark.unwrap().cleared);
        assert!(tag_writes(&r).is_empty());
        // Scaling already in place: clearing the mark is the only change.
        let mut plain = endpoint("e", &[]);
        plain.arn = ARN.into();
        let onboarded = reconciler(vec![plain], FakeScaling::default());
        onboarded.reconcile("e", false).await;
        let r = Reconciler::new(
            FakeEndpoints {
                endpoints: [("e".to_string(), released("2020-01-01T00:00:00Z", false))].into(),
                ..FakeEndpoints::default()
            },
            onboarded.scaling,
            Settings::default(),
        );
        let report = r.reconcile("e", false).await;
        assert_eq!(report.outcome, Outcome::Changed);
        assert!(report
            .variants
            .iter()
            .all(|v| v.status == VariantStatus::Compliant));
        assert_eq!(tag_writes(&r).len(), 1);
    }

    #[tokio::test]
    async fn a_broken_mark_fails_the_endpoint_and_writes_nothing() {
        let mut e = released("2999-01-01T00:00:00Z", true);
        e.tags.remove(TAG_RELEASED_LAST_MODIFIED);
        let r = reconciler(vec![e], FakeScaling::default());
        let report = r.reconcile("e", false).await;
        assert_eq!(report.outcome, Outcome::Error);
        assert_eq!(report.error_type, Some(ErrorType::InvalidTag));
        assert!(
            report
                .error
                .as_deref()
                .unwrap()
                .contains(TAG_RELEASED_UNTIL),
            "{report:?}"
        );
        assert!(applied(&r).is_empty());
        assert!(tag_writes(&r).is_empty());
    }

    #[tokio::test]
    async fn release_marks_first_then_removes_and_a_foreign_policy_refuses_it() {
        let e = modified_at(endpoint("e", &[]), "2026-11-28T16:00:00.190Z");
        let r = reconciler(vec![e], FakeScaling::default());
        r.reconcile("e", false).await;
        let before = applied(&r).len();
        let report = r
            .release("e", chrono::TimeDelta::hours(2), false)
            .await
            .unwrap();
        assert_eq!(report.removed.len(), 4, "{report:?}");
        let writes = tag_writes(&r);
        assert_eq!(writes.len(), 1);
        assert!(writes[0].starts_with(&format!("add {ARN} {TAG_RELEASED_UNTIL}=")));
        assert!(writes[0].ends_with(&format!(
            "{TAG_RELEASED_LAST_MODIFIED}=2026-11-28T16:00:00.190Z"
        )));
        assert_eq!(
            applied(&r)[before..],
            [
                "delete_policy endpoint/e/variant/a",
                "deregister_target endpoint/e/variant/a",
                "delete_policy endpoint/e/variant/b",
                "deregister_target endpoint/e/variant/b",
            ]
        );

        // A person's policy on one variant: refused, nothing written.
        r.scaling
            .state
            .lock()
            .unwrap()
            .entry("endpoint/e/variant/b".into())
            .or_default()
            .policies
            .push(ScalingPolicy::test("team-policy", "endpoint/e/variant/b"));
        let writes_before = (applied(&r).len(), tag_writes(&r).len());
        let err = r
            .release("e", chrono::TimeDelta::hours(1), false)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), ErrorType::ReleaseRefused);
        assert!(
            err.to_string().contains("variant b has policy team-policy"),
            "{err}"
        );
        assert_eq!((applied(&r).len(), tag_writes(&r).len()), writes_before);
    }

    #[tokio::test]
    async fn a_dry_run_release_lists_what_it_would_remove_and_writes_nothing() {
        let e = modified_at(endpoint("e", &[]), "2026-11-28T16:00:00.190Z");
        let r = reconciler(vec![e], FakeScaling::default());
        r.reconcile("e", false).await;
        let before = applied(&r);
        let report = r
            .release("e", chrono::TimeDelta::minutes(30), true)
            .await
            .unwrap();
        assert!(report.dry_run);
        assert_eq!(report.removed.len(), 4);
        assert_eq!(applied(&r), before);
        assert!(tag_writes(&r).is_empty());
    }

    #[tokio::test]
    async fn a_release_whose_mark_is_spent_at_once_removes_nothing() {
        let e = modified_at(endpoint("e", &[]), "2026-11-28T16:00:00.190Z");
        let r = Reconciler::new(
            FakeEndpoints {
                endpoints: [("e".to_string(), e)].into(),
                tagging_modifies: true,
                ..FakeEndpoints::default()
            },
            FakeScaling::default(),
            Settings::default(),
        );
        r.reconcile("e", false).await;
        let before = applied(&r);
        let err = r
            .release("e", chrono::TimeDelta::hours(1), false)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), ErrorType::ReleaseFailed);
        assert!(
            err.to_string().contains(
                "LastModifiedTime moved from 2026-11-28T16:00:00.190Z to 2026-11-28T16:00:01.190Z"
            ),
            "{err}"
        );
        assert_eq!(applied(&r), before, "nothing removed");
    }

    #[tokio::test]
    async fn release_refuses_an_endpoint_that_is_missing_or_not_in_service() {
        let mut updating = endpoint("e", &[]);
        updating.status = "Updating".into();
        let r = reconciler(vec![updating], FakeScaling::default());
        let err = r
            .release("e", chrono::TimeDelta::hours(1), false)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), ErrorType::ReleaseRefused);
        assert!(
            err.to_string().contains("the endpoint is Updating"),
            "{err}"
        );
        let err = r
            .release("nope", chrono::TimeDelta::hours(1), false)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
        assert!(tag_writes(&r).is_empty());
    }
}

/// Step policies and their alarms, custom metrics and scheduled actions
/// round-trip through the store's conversions: a second reconcile finds the
/// endpoint compliant, and each alarm acts on its policy's ARN.
#[tokio::test]
async fn a_full_policy_set_converges_in_one_reconcile() {
    let mut r = reconciler(vec![endpoint("e", &[])], FakeScaling::default());
    r.settings.policy_set = crate::policy_set::PolicySet::from_json(include_str!(
        "../../examples/bench-policy-set.json"
    ))
    .unwrap();
    let first = r.reconcile("e", false).await;
    assert_eq!(first.outcome, Outcome::Changed, "{first:?}");
    let names: Vec<String> = applied(&r)
        .iter()
        .filter(|a| a.ends_with("variant/a"))
        .cloned()
        .collect();
    assert_eq!(
        names,
        [
            "register_target endpoint/e/variant/a",
            "put_target_tracking_policy endpoint/e/variant/a",
            "put_target_tracking_policy endpoint/e/variant/a",
            "put_step_policy endpoint/e/variant/a",
            "put_alarm endpoint/e/variant/a",
            "put_scheduled_action endpoint/e/variant/a",
            "put_scheduled_action endpoint/e/variant/a",
        ]
    );
    let state = r.scaling.state.lock().unwrap().clone();
    let a = &state["endpoint/e/variant/a"];
    let step = a
        .policies
        .iter()
        .find(|p| p.policy_type == PolicyType::StepScaling)
        .unwrap();
    assert_eq!(a.alarms.len(), 1);
    assert_eq!(a.alarms[0].actions, std::slice::from_ref(&step.arn));
    let writes = applied(&r).len();
    let second = r.reconcile("e", false).await;
    assert_eq!(second.outcome, Outcome::Compliant, "{second:?}");
    assert_eq!(
        applied(&r).len(),
        writes,
        "a compliant endpoint gets no writes"
    );
}
