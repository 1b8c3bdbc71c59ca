use aws_sdk_applicationautoscaling::types::{
    AdjustmentType, MetricAggregationType, MetricType, PolicyType,
};
use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};

use super::*;
use crate::domain::desired::{DesiredStepPolicy, DesiredTargetTracking, MetricSpec};
use crate::domain::snapshot::ScalableTarget;
use crate::policy_set::alarm::TreatMissingData;
use crate::policy_set::{ObservedConfig, ObservedStepScaling, ObservedTargetTracking};
use crate::resource::Scaled;

/// The target-tracking configuration of an observed policy.
fn tracking(p: &mut ScalingPolicy) -> &mut ObservedTargetTracking {
    match p.config.as_mut() {
        Some(ObservedConfig::TargetTracking(c)) => c,
        other => panic!("not target tracking: {other:?}"),
    }
}

/// The step-scaling configuration of an observed policy.
fn stepping(p: &mut ScalingPolicy) -> &mut ObservedStepScaling {
    match p.config.as_mut() {
        Some(ObservedConfig::StepScaling(c)) => c,
        other => panic!("not step scaling: {other:?}"),
    }
}

const RID: &str = "endpoint/e/variant/v";

fn desired() -> DesiredScaling {
    DesiredScaling {
        subject: Scaled::variant("e", "v"),
        dimension: Default::default(),
        min_capacity: 1,
        max_capacity: 4,
        max_raised_to_running: false,
        policies: vec![DesiredPolicy::TargetTracking(DesiredTargetTracking {
            name: "autoscaling-guard-invocations".into(),
            metric: MetricSpec::Predefined {
                metric_type: MetricType::SageMakerVariantInvocationsPerInstance,
            },
            target_value: 70.0,
            scale_in_cooldown: 300,
            scale_out_cooldown: 60,
            disable_scale_in: false,
        })],
        scheduled: vec![],
    }
}

fn target(min: i32, max: i32) -> ScalableTarget {
    ScalableTarget {
        resource_id: RID.into(),
        dimension: Default::default(),
        min_capacity: min,
        max_capacity: max,
    }
}

fn owned_policy() -> ScalingPolicy {
    ScalingPolicy::invocations(RID)
}

fn compliant() -> VariantScaling {
    VariantScaling {
        target: Some(target(1, 4)),
        policies: vec![owned_policy()],
        scheduled: vec![],
        alarms: vec![],
    }
}

fn changes(plan: VariantPlan) -> Vec<Change> {
    match plan {
        VariantPlan::Changes(c) => c,
        other => panic!("expected changes, got {other:?}"),
    }
}

fn fields(change: &Change) -> Vec<&str> {
    change.because().iter().map(|d| d.field.as_str()).collect()
}

#[test]
fn nothing_registered_means_register_then_put() {
    let c = changes(plan(&desired(), &VariantScaling::default()));
    assert_eq!(c.len(), 2);
    assert!(matches!(
        &c[0].action,
        Action::Scaling(ScalingAction::RegisterTarget {
            min_capacity: 1,
            max_capacity: 4,
            ..
        })
    ));
    assert_eq!(fields(&c[0]), ["registered"]);
    assert!(
        matches!(&c[1].action, Action::Scaling(ScalingAction::PutPolicy { policy: DesiredPolicy::TargetTracking(p) }) if p.target_value == 70.0)
    );
    assert_eq!(fields(&c[1]), ["present"]);
}

#[test]
fn compliant_variant_needs_nothing() {
    assert_eq!(plan(&desired(), &compliant()), VariantPlan::Changes(vec![]));
}

#[test]
fn a_target_value_within_rounding_is_compliant() {
    let mut actual = compliant();
    tracking(&mut actual.policies[0]).target_value = 70.000_000_000_01;
    assert_eq!(plan(&desired(), &actual), VariantPlan::Changes(vec![]));
}

#[test]
fn changed_capacities_reregister_the_target_only() {
    let mut actual = compliant();
    actual.target = Some(target(2, 10));
    let c = changes(plan(&desired(), &actual));
    assert_eq!(c.len(), 1);
    assert_eq!(fields(&c[0]), ["min_capacity", "max_capacity"]);
    assert_eq!(c[0].because()[1].actual, json!(10));
    assert_eq!(c[0].because()[1].desired, json!(4));
}

#[test]
fn adopted_target_without_policies_gets_the_policy() {
    let actual = VariantScaling {
        target: Some(target(1, 4)),
        policies: vec![],
        scheduled: vec![],
        alarms: vec![],
    };
    let c = changes(plan(&desired(), &actual));
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].name(), "put_target_tracking_policy");
}

#[test]
fn every_policy_field_is_compared() {
    let mut actual = compliant();
    {
        let tt = tracking(&mut actual.policies[0]);
        tt.target_value = 50.0;
        tt.scale_in_cooldown = None;
        tt.scale_out_cooldown = Some(120);
        tt.disable_scale_in = true;
        tt.metric = None;
    }
    let c = changes(plan(&desired(), &actual));
    assert_eq!(c.len(), 1);
    assert_eq!(
        fields(&c[0]),
        [
            "metric",
            "target_value",
            "scale_in_cooldown",
            "scale_out_cooldown",
            "disable_scale_in"
        ]
    );
    assert_eq!(c[0].because()[0].actual, json!("other"));
    assert_eq!(
        c[0].because()[1].subject,
        "policy autoscaling-guard-invocations"
    );
}

#[test]
fn an_owned_policy_of_another_type_is_replaced() {
    let mut actual = compliant();
    actual.policies[0].policy_type = PolicyType::StepScaling;
    actual.policies[0].config = None;
    let c = changes(plan(&desired(), &actual));
    let names: Vec<_> = c.iter().map(Change::name).collect();
    assert_eq!(names, ["delete_policy", "put_target_tracking_policy"]);
    assert_eq!(fields(&c[1]), ["policy_type"]);
}

#[test]
fn owned_policies_outside_the_set_are_deleted() {
    let mut actual = compliant();
    let mut extra = owned_policy();
    extra.name = "autoscaling-guard-old".into();
    actual.policies.push(extra);
    let c = changes(plan(&desired(), &actual));
    assert_eq!(c.len(), 1);
    assert!(
        matches!(&c[0].action, Action::Scaling(ScalingAction::DeletePolicy { policy_name, .. }) if policy_name == "autoscaling-guard-old")
    );
}

#[test]
fn any_foreign_policy_means_hands_off() {
    let mut actual = VariantScaling {
        target: Some(target(3, 20)),
        policies: vec![owned_policy()],
        scheduled: vec![],
        alarms: vec![],
    };
    let mut mine = owned_policy();
    mine.name = "team-cpu-policy".into();
    actual.policies.push(mine);
    match plan(&desired(), &actual) {
        VariantPlan::Skip(SkipReason::ForeignPolicies { names }) => {
            assert_eq!(names, ["policy team-cpu-policy"])
        }
        other => panic!("expected skip, got {other:?}"),
    }
}

#[test]
fn a_change_serializes_as_one_flat_object_in_a_fixed_order() {
    let gone = Change::new(
        &Scaled::variant("e", "v"),
        Dimension::VariantInstances,
        ScalingAction::DeregisterTarget,
        vec![Difference::new(
            &crate::difference::Subject::ScalableTarget,
            "endpoint_exists",
            json!(false),
            json!(false),
        )],
    );
    assert_eq!(
        serde_json::to_string(&gone).unwrap(),
        r#"{"action":"deregister_target","resource_id":"endpoint/e/variant/v","dimension":"sagemaker:variant:DesiredInstanceCount","because":[{"subject":"scalable_target","field":"endpoint_exists","actual":false,"desired":false}]}"#
    );
    let delete = Change::new(
        &Scaled::component("chat"),
        Dimension::ComponentCopies,
        AlarmAction::DeleteAlarm {
            alarm_name: "a".into(),
        },
        vec![],
    );
    assert_eq!(
        serde_json::to_string(&delete).unwrap(),
        r#"{"action":"delete_alarm","resource_id":"inference-component/chat","dimension":"sagemaker:inference-component:DesiredCopyCount","alarm_name":"a","because":[]}"#
    );
}

#[test]
fn changes_serialize_with_their_action() {
    let c = changes(plan(&desired(), &VariantScaling::default()));
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json[0]["action"], "register_target");
    assert_eq!(json[0]["resource_id"], RID);
    assert_eq!(json[1]["action"], "put_target_tracking_policy");
    assert_eq!(json[1]["policy"]["name"], "autoscaling-guard-invocations");
}

mod step_tests {
    use super::*;
    use crate::policy_set::step_scaling::DesiredStep;

    const RID: &str = "endpoint/e/variant/v";
    const ARN: &str = "arn:aws:autoscaling:us-east-1:1:scalingPolicy:x:resource/sagemaker/endpoint/e/variant/v:policyName/autoscaling-guard-burst";

    fn alarm() -> DesiredAlarm {
        DesiredAlarm {
            name: "autoscaling-guard-e/v/burst".into(),
            namespace: "AWS/SageMaker".into(),
            metric_name: "InvocationsPerInstance".into(),
            dimensions: vec![
                ("EndpointName".into(), "e".into()),
                ("VariantName".into(), "v".into()),
            ],
            statistic: Statistic::Sum,
            period: 60,
            evaluation_periods: 2,
            datapoints_to_alarm: None,
            threshold: 500.0,
            comparison: ComparisonOperator::GreaterThanOrEqualToThreshold,
            treat_missing_data: TreatMissingData::NotBreaching,
        }
    }

    fn desired() -> DesiredScaling {
        DesiredScaling {
            subject: Scaled::variant("e", "v"),
            dimension: Default::default(),
            min_capacity: 1,
            max_capacity: 4,
            max_raised_to_running: false,
            policies: vec![DesiredPolicy::StepScaling(DesiredStepPolicy {
                name: "autoscaling-guard-burst".into(),
                adjustment_type: AdjustmentType::ChangeInCapacity,
                cooldown: 120,
                metric_aggregation_type: MetricAggregationType::Maximum,
                min_adjustment_magnitude: None,
                steps: vec![
                    DesiredStep {
                        lower: Some(0.0),
                        upper: Some(1000.0),
                        adjustment: 1,
                    },
                    DesiredStep {
                        lower: Some(1000.0),
                        upper: None,
                        adjustment: 3,
                    },
                ],
                alarm: alarm(),
            })],
            scheduled: vec![],
        }
    }

    fn observed_alarm() -> ObservedAlarm {
        let a = alarm();
        ObservedAlarm {
            name: a.name,
            namespace: Some(a.namespace),
            metric_name: Some(a.metric_name),
            dimensions: a.dimensions,
            statistic: Some(a.statistic),
            period: Some(60),
            evaluation_periods: Some(2),
            datapoints_to_alarm: None,
            threshold: Some(500.0),
            comparison: Some(a.comparison),
            treat_missing_data: Some(a.treat_missing_data.as_str().to_string()),
            actions: vec![ARN.into()],
        }
    }

    fn compliant() -> VariantScaling {
        VariantScaling {
            target: Some(ScalableTarget {
                resource_id: RID.into(),
                dimension: Default::default(),
                min_capacity: 1,
                max_capacity: 4,
            }),
            policies: vec![ScalingPolicy {
                name: "autoscaling-guard-burst".into(),
                resource_id: RID.into(),
                dimension: Default::default(),
                arn: ARN.into(),
                policy_type: PolicyType::StepScaling,
                config: Some(ObservedConfig::StepScaling(ObservedStepScaling {
                    adjustment_type: Some(AdjustmentType::ChangeInCapacity),
                    cooldown: Some(120),
                    metric_aggregation_type: Some(MetricAggregationType::Maximum),
                    min_adjustment_magnitude: None,
                    steps: vec![(Some(0.0), Some(1000.0), 1), (Some(1000.0), None, 3)],
                })),
            }],
            scheduled: vec![],
            alarms: vec![observed_alarm()],
        }
    }

    fn names(plan: VariantPlan) -> Vec<&'static str> {
        match plan {
            VariantPlan::Changes(c) => c.iter().map(Change::name).collect(),
            other => panic!("{other:?}"),
        }
    }

    fn fields(plan: VariantPlan) -> Vec<String> {
        match plan {
            VariantPlan::Changes(c) => c
                .iter()
                .flat_map(|c| c.because())
                .map(|d| format!("{} {}", d.subject, d.field))
                .collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_step_policy_never_ships_without_its_alarm() {
        let plan = plan(&desired(), &VariantScaling::default());
        assert_eq!(
            names(plan),
            ["register_target", "put_step_policy", "put_alarm"]
        );
    }

    #[test]
    fn a_compliant_step_policy_and_alarm_need_nothing() {
        assert_eq!(plan(&desired(), &compliant()), VariantPlan::Changes(vec![]));
    }

    #[test]
    fn a_changed_step_puts_the_policy_and_its_alarm_again() {
        let mut actual = compliant();
        stepping(&mut actual.policies[0]).steps[1].2 = 5;
        let p = plan(&desired(), &actual);
        assert_eq!(names(p.clone()), ["put_step_policy", "put_alarm"]);
        assert_eq!(
            fields(p),
            [
                "policy autoscaling-guard-burst steps",
                "alarm autoscaling-guard-e/v/burst alarm_actions"
            ]
        );
    }

    #[test]
    fn every_alarm_field_is_compared() {
        let mut actual = compliant();
        let a = &mut actual.alarms[0];
        a.threshold = Some(5000.0);
        a.period = Some(300);
        a.comparison = Some(ComparisonOperator::GreaterThanThreshold);
        a.actions = vec!["arn:of:something:else".into()];
        assert_eq!(
            fields(plan(&desired(), &actual)),
            [
                "alarm autoscaling-guard-e/v/burst comparison",
                "alarm autoscaling-guard-e/v/burst period",
                "alarm autoscaling-guard-e/v/burst threshold",
                "alarm autoscaling-guard-e/v/burst alarm_actions",
            ]
        );
    }

    #[test]
    fn an_alarm_acts_on_the_observed_policy_or_on_the_one_being_put() {
        let arn_of_put_alarm = |plan: VariantPlan| match plan {
            VariantPlan::Changes(changes) => changes
                .into_iter()
                .find_map(|c| match c.action {
                    Action::Alarm(AlarmAction::PutAlarm { policy_arn, .. }) => Some(policy_arn),
                    _ => None,
                })
                .expect("a put_alarm"),
            other => panic!("{other:?}"),
        };
        // The policy stays: its observed ARN.
        let mut actual = compliant();
        actual.alarms[0].threshold = Some(1.0);
        assert_eq!(
            arn_of_put_alarm(plan(&desired(), &actual)),
            Some(ARN.to_string())
        );
        // The policy is put again: the ARN that put returns, not the old one.
        let mut want = desired();
        let DesiredPolicy::StepScaling(step) = &mut want.policies[0] else {
            panic!("a step policy")
        };
        step.cooldown += 1;
        assert_eq!(arn_of_put_alarm(plan(&want, &compliant())), None);
    }

    #[test]
    fn an_alarm_without_the_owned_prefix_is_never_deleted() {
        let mut actual = compliant();
        let mut theirs = observed_alarm();
        theirs.name = "team-burst-alarm".into();
        actual.alarms.push(theirs);
        assert_eq!(plan(&desired(), &actual), VariantPlan::Changes(vec![]));
    }

    #[test]
    fn a_missing_alarm_is_put_alone() {
        let mut actual = compliant();
        actual.alarms.clear();
        assert_eq!(names(plan(&desired(), &actual)), ["put_alarm"]);
    }

    #[test]
    fn a_step_policy_that_left_the_set_takes_its_alarm_along() {
        let mut want = desired();
        want.policies.clear();
        assert_eq!(
            names(plan(&want, &compliant())),
            ["delete_alarm", "delete_policy"]
        );
    }

    #[test]
    fn a_target_tracking_policy_renamed_as_step_is_replaced() {
        let mut actual = compliant();
        actual.policies[0].policy_type = PolicyType::TargetTrackingScaling;
        actual.policies[0].config = None;
        assert_eq!(
            names(plan(&desired(), &actual)),
            ["delete_policy", "put_step_policy", "put_alarm"]
        );
    }
}
