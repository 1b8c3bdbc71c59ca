//! Inference components. The local AWS (moto) has no inference components
//! and no copy-count dimension, so this runs the real reconcile with the
//! real SageMaker, Application Auto Scaling and CloudWatch clients against
//! request-level mocks (aws-smithy-mocks): a request of the wrong shape
//! matches no rule and fails the test.

use autoscaling_guard::aws::alarms::Alarms;
use autoscaling_guard::aws::autoscaling::AutoScaling;
use autoscaling_guard::aws::sagemaker::SageMakerEndpoints;
use autoscaling_guard::aws::store::AwsScaling;
use autoscaling_guard::config::Settings;
use autoscaling_guard::reconcile::report::{Outcome, VariantStatus};
use autoscaling_guard::reconcile::Reconciler;
use aws_sdk_applicationautoscaling::operation::describe_scalable_targets::DescribeScalableTargetsOutput;
use aws_sdk_applicationautoscaling::operation::describe_scaling_policies::DescribeScalingPoliciesOutput;
use aws_sdk_applicationautoscaling::operation::describe_scheduled_actions::DescribeScheduledActionsOutput;
use aws_sdk_applicationautoscaling::operation::put_scaling_policy::PutScalingPolicyOutput;
use aws_sdk_applicationautoscaling::operation::register_scalable_target::RegisterScalableTargetOutput;
use aws_sdk_applicationautoscaling::types::{MetricType, PolicyType, ScalableDimension};
use aws_sdk_applicationautoscaling::Client as AutoScalingClient;
use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput;
use aws_sdk_cloudwatch::Client as CloudWatchClient;
use aws_sdk_sagemaker::operation::describe_endpoint::DescribeEndpointOutput;
use aws_sdk_sagemaker::operation::describe_endpoint_config::DescribeEndpointConfigOutput;
use aws_sdk_sagemaker::operation::describe_inference_component::DescribeInferenceComponentOutput;
use aws_sdk_sagemaker::operation::list_inference_components::ListInferenceComponentsOutput;
use aws_sdk_sagemaker::operation::list_tags::ListTagsOutput;
use aws_sdk_sagemaker::types::{
    EndpointStatus, InferenceComponentRuntimeConfigSummary, InferenceComponentStatus,
    InferenceComponentSummary, ProductionVariant, ProductionVariantInstanceType,
    ProductionVariantSummary,
};
use aws_sdk_sagemaker::Client as SageMakerClient;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use aws_smithy_types::DateTime;

const RID: &str = "inference-component/chat";
const ARN: &str = "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:2:resource/sagemaker/inference-component/chat:policyName/autoscaling-guard-invocations-per-copy";

fn sagemaker() -> SageMakerClient {
    let endpoint = mock!(SageMakerClient::describe_endpoint)
        .match_requests(|r| r.endpoint_name() == Some("llm"))
        .then_output(|| {
            DescribeEndpointOutput::builder()
                .endpoint_name("llm")
                .endpoint_arn("arn:aws:sagemaker:us-east-1:123456789012:endpoint/llm")
                .endpoint_config_name("llm-config")
                .endpoint_status(EndpointStatus::InService)
                .production_variants(
                    ProductionVariantSummary::builder()
                        .variant_name("AllTraffic")
                        .current_instance_count(2)
                        .desired_instance_count(2)
                        .build(),
                )
                .creation_time(DateTime::from_secs(0))
                .last_modified_time(DateTime::from_secs(0))
                .build()
        });
    // A component-hosting variant: instances, no model.
    let config = mock!(SageMakerClient::describe_endpoint_config)
        .match_requests(|r| r.endpoint_config_name() == Some("llm-config"))
        .then_output(|| {
            DescribeEndpointConfigOutput::builder()
                .endpoint_config_name("llm-config")
                .endpoint_config_arn(
                    "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/llm-config",
                )
                .production_variants(
                    ProductionVariant::builder()
                        .variant_name("AllTraffic")
                        .instance_type(ProductionVariantInstanceType::MlG512Xlarge)
                        .initial_instance_count(2)
                        .build(),
                )
                .creation_time(DateTime::from_secs(0))
                .build()
        });
    let tags = mock!(SageMakerClient::list_tags).then_output(|| ListTagsOutput::builder().build());
    let list = mock!(SageMakerClient::list_inference_components)
        .match_requests(|r| r.endpoint_name_equals() == Some("llm"))
        .then_output(|| {
            ListInferenceComponentsOutput::builder()
                .inference_components(
                    InferenceComponentSummary::builder()
                        .inference_component_name("chat")
                        .endpoint_name("llm")
                        .variant_name("AllTraffic")
                        .inference_component_status(InferenceComponentStatus::InService)
                        .build(),
                )
                .build()
        });
    let describe = mock!(SageMakerClient::describe_inference_component)
        .match_requests(|r| r.inference_component_name() == Some("chat"))
        .then_output(|| {
            DescribeInferenceComponentOutput::builder()
                .inference_component_name("chat")
                .endpoint_name("llm")
                .variant_name("AllTraffic")
                .inference_component_status(InferenceComponentStatus::InService)
                .runtime_config(
                    InferenceComponentRuntimeConfigSummary::builder()
                        .current_copy_count(3)
                        .desired_copy_count(3)
                        .build(),
                )
                .build()
        });
    mock_client!(
        aws_sdk_sagemaker,
        RuleMode::MatchAny,
        [&endpoint, &config, &tags, &list, &describe]
    )
}

fn no_alarms() -> CloudWatchClient {
    let rule = mock!(CloudWatchClient::describe_alarms)
        .match_requests(|r| r.alarm_name_prefix() == Some("autoscaling-guard-ic:chat/"))
        .then_output(|| DescribeAlarmsOutput::builder().build());
    mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&rule])
}

fn copies(d: Option<&ScalableDimension>) -> bool {
    d == Some(&ScalableDimension::SageMakerInferenceComponentDesiredCopyCount)
}

#[tokio::test]
async fn an_inference_component_is_scaled_by_its_copies() {
    let targets = mock!(AutoScalingClient::describe_scalable_targets)
        .match_requests(|r| r.resource_ids() == [RID])
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
                && copies(r.scalable_dimension())
                && r.min_capacity() == Some(1)
                && r.max_capacity() == Some(4)
        })
        .then_output(|| RegisterScalableTargetOutput::builder().build());
    let put = mock!(AutoScalingClient::put_scaling_policy)
        .match_requests(|r| {
            let metric = r
                .target_tracking_scaling_policy_configuration()
                .and_then(|c| c.predefined_metric_specification())
                .map(|m| m.predefined_metric_type().clone());
            r.resource_id() == Some(RID)
                && copies(r.scalable_dimension())
                && r.policy_name() == Some("autoscaling-guard-invocations-per-copy")
                && r.policy_type() == Some(&PolicyType::TargetTrackingScaling)
                && metric == Some(MetricType::SageMakerInferenceComponentInvocationsPerCopy)
        })
        .then_output(|| {
            PutScalingPolicyOutput::builder()
                .policy_arn(ARN)
                .build()
                .unwrap()
        });
    let autoscaling = mock_client!(
        aws_sdk_applicationautoscaling,
        RuleMode::MatchAny,
        [&targets, &policies, &scheduled, &register, &put]
    );

    let r = Reconciler::new(
        SageMakerEndpoints::new(sagemaker()),
        AwsScaling::new(AutoScaling::new(autoscaling), Alarms::new(no_alarms())),
        Settings::default(),
    );
    let report = r.reconcile("llm", false).await;
    assert_eq!(report.outcome, Outcome::Changed, "{report:?}");
    let host = &report.variants[0];
    assert_eq!(
        (host.subject.label().as_str(), host.status),
        ("AllTraffic", VariantStatus::Skipped)
    );
    assert_eq!(
        host.reason.as_ref().unwrap().code(),
        "hosts_inference_components"
    );
    let chat = &report.variants[1];
    assert_eq!(
        (chat.subject.label().as_str(), chat.status),
        ("inference-component/chat", VariantStatus::Changed)
    );
    // The mocks answer before a request is sent, so the call counter (which
    // counts attempts) sees nothing here; the rules count instead.
    assert_eq!((register.num_calls(), put.num_calls()), (1, 1));
}
