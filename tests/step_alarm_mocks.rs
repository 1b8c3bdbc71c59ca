//! The alarm of a step policy acts on the ARN that PutScalingPolicy
//! returns. On AWS a read right after the write may still see the old
//! policy, which the local AWS never shows, so this runs the real reconcile
//! and the real SDK clients against request-level mocks (aws-smithy-mocks)
//! whose DescribeScalingPolicies keeps answering with the policy as it was:
//! an alarm that points at anything but the returned ARN matches no rule.

use std::collections::BTreeMap;

use autoscaling_guard::aws::alarms::Alarms;
use autoscaling_guard::aws::autoscaling::AutoScaling;
use autoscaling_guard::aws::store::AwsScaling;
use autoscaling_guard::aws::AwsError;
use autoscaling_guard::config::Settings;
use autoscaling_guard::domain::plan::{Action, AlarmAction};
use autoscaling_guard::domain::snapshot::{EndpointSnapshot, VariantSnapshot};
use autoscaling_guard::policy_set::PolicySet;
use autoscaling_guard::reconcile::report::{Outcome, VariantStatus};
use autoscaling_guard::reconcile::{EndpointReader, EndpointTagger, Reconciler};
use aws_sdk_applicationautoscaling::operation::describe_scalable_targets::DescribeScalableTargetsOutput;
use aws_sdk_applicationautoscaling::operation::describe_scaling_policies::DescribeScalingPoliciesOutput;
use aws_sdk_applicationautoscaling::operation::describe_scheduled_actions::DescribeScheduledActionsOutput;
use aws_sdk_applicationautoscaling::operation::put_scaling_policy::PutScalingPolicyOutput;
use aws_sdk_applicationautoscaling::types::{
    AdjustmentType, MetricAggregationType, PolicyType, ScalableDimension, ScalableTarget,
    ScalingPolicy, ServiceNamespace, StepAdjustment, StepScalingPolicyConfiguration,
};
use aws_sdk_applicationautoscaling::Client as AutoScalingClient;
use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput;
use aws_sdk_cloudwatch::operation::put_metric_alarm::PutMetricAlarmOutput;
use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, MetricAlarm, StateValue, Statistic,
};
use aws_sdk_cloudwatch::Client as CloudWatchClient;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use aws_smithy_types::DateTime;

const RID: &str = "endpoint/fraud/variant/primary";
const ALARM: &str = "autoscaling-guard-fraud/primary/burst";
const OLD_ARN: &str = "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:1111:resource/sagemaker/endpoint/fraud/variant/primary:policyName/autoscaling-guard-burst";
const NEW_ARN: &str = "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:2222:resource/sagemaker/endpoint/fraud/variant/primary:policyName/autoscaling-guard-burst";

const SET: &str = r#"{"instance": {"min_capacity": 1, "max_capacity": 4,
    "step_scaling": [{"name": "burst", "adjustment_type": "ChangeInCapacity", "cooldown": 120,
        "metric_aggregation_type": "Maximum",
        "steps": [{"lower": 0, "upper": 1000, "adjustment": 1}, {"lower": 1000, "adjustment": 3}],
        "alarm": {"metric": "InvocationsPerInstance", "statistic": "Sum", "period": 60,
                  "evaluation_periods": 2, "threshold": 500,
                  "comparison": "GreaterThanOrEqualToThreshold",
                  "treat_missing_data": "notBreaching"}}]}}"#;

struct OneEndpoint;

impl EndpointTagger for OneEndpoint {
    async fn add_tags(&self, _arn: &str, _tags: &[(String, String)]) -> Result<(), AwsError> {
        unreachable!("nothing here releases the endpoint")
    }
    async fn delete_tags(&self, _arn: &str, _keys: &[&str]) -> Result<(), AwsError> {
        unreachable!("the endpoint carries no release mark")
    }
}

impl EndpointReader for OneEndpoint {
    async fn describe(&self, name: &str) -> Result<Option<EndpointSnapshot>, AwsError> {
        Ok(Some(EndpointSnapshot {
            name: name.to_string(),
            arn: format!("arn:aws:sagemaker:us-east-1:123456789012:endpoint/{name}"),
            status: "InService".into(),
            last_modified: None,
            config_name: "fraud-config".into(),
            config_gone: false,
            is_async: false,
            tags: BTreeMap::new(),
            components: Vec::new(),
            variants: vec![VariantSnapshot {
                name: "primary".into(),
                instance_type: Some("ml.m5.xlarge".into()),
                current_instance_count: Some(1),
                desired_instance_count: Some(1),
                hosts_components: false,
                serverless: None,
            }],
        }))
    }

    async fn component_exists(&self, _name: &str) -> Result<bool, AwsError> {
        Ok(false)
    }
}

fn instances() -> ScalableDimension {
    ScalableDimension::SageMakerVariantDesiredInstanceCount
}

/// The policy as it was before the set changed its second step.
fn old_policy() -> ScalingPolicy {
    let step = |lower: Option<f64>, upper: Option<f64>, adjustment: i32| {
        StepAdjustment::builder()
            .set_metric_interval_lower_bound(lower)
            .set_metric_interval_upper_bound(upper)
            .scaling_adjustment(adjustment)
            .build()
            .unwrap()
    };
    ScalingPolicy::builder()
        .policy_arn(OLD_ARN)
        .policy_name("autoscaling-guard-burst")
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(RID)
        .scalable_dimension(instances())
        .policy_type(PolicyType::StepScaling)
        .step_scaling_policy_configuration(
            StepScalingPolicyConfiguration::builder()
                .adjustment_type(AdjustmentType::ChangeInCapacity)
                .cooldown(120)
                .metric_aggregation_type(MetricAggregationType::Maximum)
                .step_adjustments(step(Some(0.0), Some(1000.0), 1))
                .step_adjustments(step(Some(1000.0), None, 2))
                .build(),
        )
        .creation_time(DateTime::from_secs(0))
        .build()
        .unwrap()
}

/// The alarm as it was: everything as desired, acting on the old ARN.
fn old_alarm() -> MetricAlarm {
    MetricAlarm::builder()
        .alarm_name(ALARM)
        .namespace("AWS/SageMaker")
        .metric_name("InvocationsPerInstance")
        .dimensions(
            Dimension::builder()
                .name("EndpointName")
                .value("fraud")
                .build(),
        )
        .dimensions(
            Dimension::builder()
                .name("VariantName")
                .value("primary")
                .build(),
        )
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(2)
        .threshold(500.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .treat_missing_data("notBreaching")
        .alarm_actions(OLD_ARN)
        .state_value(StateValue::Ok)
        .build()
}

#[tokio::test]
async fn a_re_put_step_policy_moves_its_alarm_to_the_returned_arn() {
    let targets = mock!(AutoScalingClient::describe_scalable_targets).then_output(|| {
        DescribeScalableTargetsOutput::builder()
            .scalable_targets(
                ScalableTarget::builder()
                    .service_namespace(ServiceNamespace::Sagemaker)
                    .resource_id(RID)
                    .scalable_dimension(instances())
                    .min_capacity(1)
                    .max_capacity(4)
                    .role_arn("arn:aws:iam::123456789012:role/aws-service-role/x")
                    .creation_time(DateTime::from_secs(0))
                    .build()
                    .unwrap(),
            )
            .build()
    });
    // Every read of the policies sees it as it was, with its old ARN.
    let policies = mock!(AutoScalingClient::describe_scaling_policies)
        .match_requests(|r| r.resource_id() == Some(RID))
        .then_output(|| {
            DescribeScalingPoliciesOutput::builder()
                .scaling_policies(old_policy())
                .build()
        });
    let scheduled = mock!(AutoScalingClient::describe_scheduled_actions)
        .then_output(|| DescribeScheduledActionsOutput::builder().build());
    let put = mock!(AutoScalingClient::put_scaling_policy)
        .match_requests(|r| {
            let steps = r
                .step_scaling_policy_configuration()
                .map(|c| c.step_adjustments().to_vec())
                .unwrap_or_default();
            r.policy_name() == Some("autoscaling-guard-burst")
                && steps.len() == 2
                && steps[1].scaling_adjustment() == 3
        })
        .then_output(|| {
            PutScalingPolicyOutput::builder()
                .policy_arn(NEW_ARN)
                .build()
                .unwrap()
        });
    let autoscaling = mock_client!(
        aws_sdk_applicationautoscaling,
        RuleMode::MatchAny,
        [&targets, &policies, &scheduled, &put]
    );
    let alarms = mock!(CloudWatchClient::describe_alarms)
        .match_requests(|r| r.alarm_name_prefix() == Some("autoscaling-guard-fraud/"))
        .then_output(|| {
            DescribeAlarmsOutput::builder()
                .metric_alarms(old_alarm())
                .build()
        });
    let put_alarm = mock!(CloudWatchClient::put_metric_alarm)
        .match_requests(|r| r.alarm_name() == Some(ALARM) && r.alarm_actions() == [NEW_ARN])
        .then_output(|| PutMetricAlarmOutput::builder().build());
    let cloudwatch = mock_client!(
        aws_sdk_cloudwatch,
        RuleMode::MatchAny,
        [&alarms, &put_alarm]
    );

    let settings = Settings {
        policy_set: PolicySet::from_json(SET).unwrap(),
        ..Settings::default()
    };
    let r = Reconciler::new(
        OneEndpoint,
        AwsScaling::new(AutoScaling::new(autoscaling), Alarms::new(cloudwatch)),
        settings,
    );
    let report = r.reconcile("fraud", false).await;
    assert_eq!(report.outcome, Outcome::Changed, "{report:?}");
    let variant = &report.variants[0];
    assert_eq!(variant.status, VariantStatus::Changed, "{report:?}");
    let names: Vec<&str> = variant.changes.iter().map(|c| c.name()).collect();
    assert_eq!(names, ["put_step_policy", "put_alarm"]);
    match &variant.changes[1].action {
        Action::Alarm(AlarmAction::PutAlarm { policy_arn, .. }) => {
            assert_eq!(policy_arn.as_deref(), Some(NEW_ARN))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!((put.num_calls(), put_alarm.num_calls()), (1, 1));
    // The policies were read once, to observe; never read back after the put.
    assert_eq!(policies.num_calls(), 1);
}
