//! Serverless variants with provisioned concurrency. The local AWS (moto)
//! supports only the instance-count dimension, so these tests run the real
//! reconcile and the real SDK clients against request-level mocks
//! (aws-smithy-mocks): a request of the wrong shape matches no rule and
//! fails the test.

use std::collections::BTreeMap;

use autoscaling_guard::aws::alarms::Alarms;
use autoscaling_guard::aws::autoscaling::AutoScaling;
use autoscaling_guard::aws::store::AwsScaling;
use autoscaling_guard::aws::AwsError;
use autoscaling_guard::config::Settings;
use autoscaling_guard::domain::snapshot::{EndpointSnapshot, Serverless, VariantSnapshot};
use autoscaling_guard::reconcile::report::Outcome;
use autoscaling_guard::reconcile::{EndpointReader, EndpointTagger, Reconciler};
use aws_sdk_applicationautoscaling::operation::describe_scalable_targets::DescribeScalableTargetsOutput;
use aws_sdk_applicationautoscaling::operation::describe_scaling_policies::DescribeScalingPoliciesOutput;
use aws_sdk_applicationautoscaling::operation::describe_scheduled_actions::DescribeScheduledActionsOutput;
use aws_sdk_applicationautoscaling::operation::put_scaling_policy::PutScalingPolicyOutput;
use aws_sdk_applicationautoscaling::operation::register_scalable_target::RegisterScalableTargetOutput;
use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ScalableTarget,
    ScalingPolicy, ServiceNamespace, TargetTrackingScalingPolicyConfiguration,
};
use aws_sdk_applicationautoscaling::Client as AutoScalingClient;
use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput;
use aws_sdk_cloudwatch::Client as CloudWatchClient;
use aws_smithy_mocks::{mock, mock_client, RuleMode};

const RID: &str = "endpoint/sls/variant/v";
const ARN: &str = "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:1:resource/sagemaker/endpoint/sls/variant/v:policyName/autoscaling-guard-provisioned-concurrency";

/// The endpoint side, as SageMaker would describe it.
struct OneServerlessEndpoint;

impl EndpointReader for OneServerlessEndpoint {
    async fn describe(&self, name: &str) -> Result<Option<EndpointSnapshot>, AwsError> {
        Ok(Some(EndpointSnapshot {
            name: name.to_string(),
            arn: format!("arn:aws:sagemaker:us-east-1:123456789012:endpoint/{name}"),
            status: "InService".into(),
            last_modified: None,
            config_name: "sls-config".into(),
            config_gone: false,
            is_async: false,
            tags: BTreeMap::new(),
            components: Vec::new(),
            variants: vec![VariantSnapshot {
                name: "v".into(),
                instance_type: None,
                current_instance_count: None,
                desired_instance_count: None,
                hosts_components: false,
                serverless: Some(Serverless {
                    max_concurrency: Some(50),
                    provisioned_concurrency: Some(2),
                }),
            }],
        }))
    }

    async fn component_exists(&self, _name: &str) -> Result<bool, AwsError> {
        Ok(false)
    }
}

impl EndpointTagger for OneServerlessEndpoint {
    async fn add_tags(&self, _arn: &str, _tags: &[(String, String)]) -> Result<(), AwsError> {
        unreachable!("nothing here releases the endpoint")
    }
    async fn delete_tags(&self, _arn: &str, _keys: &[&str]) -> Result<(), AwsError> {
        unreachable!("the endpoint carries no release mark")
    }
}

fn pc_dimension(d: Option<&ScalableDimension>) -> bool {
    d == Some(&ScalableDimension::SageMakerVariantDesiredProvisionedConcurrency)
}

fn empty_alarms() -> CloudWatchClient {
    let rule = mock!(CloudWatchClient::describe_alarms)
        .then_output(|| DescribeAlarmsOutput::builder().build());
    mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&rule])
}

fn reconciler(autoscaling: AutoScalingClient) -> Reconciler<OneServerlessEndpoint, AwsScaling> {
    Reconciler::new(
        OneServerlessEndpoint,
        AwsScaling::new(AutoScaling::new(autoscaling), Alarms::new(empty_alarms())),
        Settings::default(),
    )
}

fn policy_config() -> TargetTrackingScalingPolicyConfiguration {
    TargetTrackingScalingPolicyConfiguration::builder()
        .target_value(0.7)
        .predefined_metric_specification(
            PredefinedMetricSpecification::builder()
                .predefined_metric_type(
                    MetricType::SageMakerVariantProvisionedConcurrencyUtilization,
                )
                .build()
                .unwrap(),
        )
        .scale_in_cooldown(300)
        .scale_out_cooldown(60)
        .disable_scale_in(false)
        .build()
        .unwrap()
}

#[tokio::test]
async fn provisioned_concurrency_is_registered_and_tracked_on_its_dimension() {
    let targets = mock!(AutoScalingClient::describe_scalable_targets)
        .match_requests(|r| {
            r.service_namespace() == Some(&ServiceNamespace::Sagemaker) && r.resource_ids() == [RID]
        })
        .then_output(|| DescribeScalableTargetsOutput::builder().build());
    let policies = mock!(AutoScalingClient::describe_scaling_policies)
        .match_requests(|r| r.resource_id() == Some(RID))
        .then_output(|| DescribeScalingPoliciesOutput::builder().build());
    let scheduled = mock!(AutoScalingClient::describe_scheduled_actions)
        .match_requests(|r| r.resource_id() == Some(RID))
        .then_output(|| DescribeScheduledActionsOutput::builder().build());
    let register = mock!(AutoScalingClient::register_scalable_target)
        .match_requests(|r| {
            r.resource_id() == Some(RID)
                && pc_dimension(r.scalable_dimension())
                && r.min_capacity() == Some(1)
                && r.max_capacity() == Some(10)
        })
        .then_output(|| RegisterScalableTargetOutput::builder().build());
    let put = mock!(AutoScalingClient::put_scaling_policy)
        .match_requests(|r| {
            r.resource_id() == Some(RID)
                && pc_dimension(r.scalable_dimension())
                && r.policy_name() == Some("autoscaling-guard-provisioned-concurrency")
                && r.policy_type() == Some(&PolicyType::TargetTrackingScaling)
                && r.target_tracking_scaling_policy_configuration() == Some(&policy_config())
        })
        .then_output(|| {
            PutScalingPolicyOutput::builder()
                .policy_arn(ARN)
                .build()
                .unwrap()
        });
    let client = mock_client!(
        aws_sdk_applicationautoscaling,
        RuleMode::MatchAny,
        [&targets, &policies, &scheduled, &register, &put]
    );

    let report = reconciler(client).reconcile("sls", false).await;
    assert_eq!(report.outcome, Outcome::Changed, "{report:?}");
    assert_eq!((register.num_calls(), put.num_calls()), (1, 1));
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(
        json["variants"][0]["changes"][0]["dimension"],
        "sagemaker:variant:DesiredProvisionedConcurrency"
    );
}

#[tokio::test]
async fn a_compliant_serverless_variant_gets_no_writes() {
    let targets = mock!(AutoScalingClient::describe_scalable_targets).then_output(|| {
        DescribeScalableTargetsOutput::builder()
            .scalable_targets(
                ScalableTarget::builder()
                    .service_namespace(ServiceNamespace::Sagemaker)
                    .resource_id(RID)
                    .scalable_dimension(
                        ScalableDimension::SageMakerVariantDesiredProvisionedConcurrency,
                    )
                    .min_capacity(1)
                    .max_capacity(10)
                    .role_arn("arn:aws:iam::123456789012:role/aws-service-role/x")
                    .creation_time(aws_smithy_types::DateTime::from_secs(0))
                    .build()
                    .unwrap(),
            )
            .build()
    });
    let policies = mock!(AutoScalingClient::describe_scaling_policies).then_output(|| {
        DescribeScalingPoliciesOutput::builder()
            .scaling_policies(
                ScalingPolicy::builder()
                    .policy_arn(ARN)
                    .policy_name("autoscaling-guard-provisioned-concurrency")
                    .service_namespace(ServiceNamespace::Sagemaker)
                    .resource_id(RID)
                    .scalable_dimension(
                        ScalableDimension::SageMakerVariantDesiredProvisionedConcurrency,
                    )
                    .policy_type(PolicyType::TargetTrackingScaling)
                    .target_tracking_scaling_policy_configuration(policy_config())
                    .creation_time(aws_smithy_types::DateTime::from_secs(0))
                    .build()
                    .unwrap(),
            )
            .build()
    });
    let scheduled = mock!(AutoScalingClient::describe_scheduled_actions)
        .then_output(|| DescribeScheduledActionsOutput::builder().build());
    // No write rule: any write would match nothing and fail the reconcile.
    let client = mock_client!(
        aws_sdk_applicationautoscaling,
        RuleMode::MatchAny,
        [&targets, &policies, &scheduled]
    );
    let report = reconciler(client).reconcile("sls", false).await;
    // Compliant means an empty plan: nothing was written.
    assert_eq!(report.outcome, Outcome::Compliant, "{report:?}");
}
