//! The drift check with the real SageMaker, Application Auto Scaling and
//! CloudWatch adapters, against request-level mocks (aws-smithy-mocks):
//! a throttled read must never make a live endpoint's scaling an orphan.
//! The local AWS cannot fail one DescribeEndpointConfig on demand; these
//! mocks answer the way AWS does (ThrottlingException; ValidationException
//! "Could not find endpoint" for an endpoint that does not exist).

use autoscaling_guard::aws::alarms::Alarms;
use autoscaling_guard::aws::autoscaling::AutoScaling;
use autoscaling_guard::aws::sagemaker::SageMakerEndpoints;
use autoscaling_guard::aws::store::AwsScaling;
use autoscaling_guard::config::{DriftMode, Settings};
use autoscaling_guard::drift::SweepOptions;
use autoscaling_guard::reconcile::Reconciler;
use aws_sdk_applicationautoscaling::operation::delete_scaling_policy::DeleteScalingPolicyOutput;
use aws_sdk_applicationautoscaling::operation::deregister_scalable_target::DeregisterScalableTargetOutput;
use aws_sdk_applicationautoscaling::operation::describe_scaling_policies::DescribeScalingPoliciesOutput;
use aws_sdk_applicationautoscaling::operation::describe_scheduled_actions::DescribeScheduledActionsOutput;
use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ScalingPolicy,
    ServiceNamespace, TargetTrackingScalingPolicyConfiguration,
};
use aws_sdk_applicationautoscaling::Client as AutoScalingClient;
use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput;
use aws_sdk_cloudwatch::Client as CloudWatchClient;
use aws_sdk_sagemaker::operation::describe_endpoint::DescribeEndpointError;
use aws_sdk_sagemaker::operation::describe_endpoint_config::DescribeEndpointConfigError;
use aws_sdk_sagemaker::operation::search::SearchOutput;
use aws_sdk_sagemaker::types::{Endpoint, EndpointStatus, ProductionVariantSummary, SearchRecord};
use aws_sdk_sagemaker::Client as SageMakerClient;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_types::error::ErrorMetadata;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::DateTime;

const POLICY: &str = "autoscaling-guard-invocations";

fn rid(endpoint: &str) -> String {
    format!("endpoint/{endpoint}/variant/AllTraffic")
}

fn owned_policy(endpoint: &str) -> ScalingPolicy {
    ScalingPolicy::builder()
        .policy_arn(format!("arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:1:resource/sagemaker/{}:policyName/{POLICY}", rid(endpoint)))
        .policy_name(POLICY)
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(rid(endpoint))
        .scalable_dimension(ScalableDimension::SageMakerVariantDesiredInstanceCount)
        .policy_type(PolicyType::TargetTrackingScaling)
        .target_tracking_scaling_policy_configuration(
            TargetTrackingScalingPolicyConfiguration::builder()
                .target_value(70.0)
                .predefined_metric_specification(
                    PredefinedMetricSpecification::builder()
                        .predefined_metric_type(MetricType::SageMakerVariantInvocationsPerInstance)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .creation_time(DateTime::from_secs(0))
        .build()
        .unwrap()
}

/// SageMaker: "live" is listed but its config read is throttled; "gone"
/// does not exist.
struct SageMaker {
    describe_live: Rule,
    describe_gone: Rule,
    rules: Vec<Rule>,
}

fn sagemaker() -> SageMaker {
    let search = mock!(SageMakerClient::search).then_output(|| {
        SearchOutput::builder()
            .results(
                SearchRecord::builder()
                    .endpoint(
                        Endpoint::builder()
                            .endpoint_name("live")
                            .endpoint_arn("arn:aws:sagemaker:us-east-1:123456789012:endpoint/live")
                            .endpoint_config_name("live-config")
                            .endpoint_status(EndpointStatus::InService)
                            .production_variants(
                                ProductionVariantSummary::builder()
                                    .variant_name("AllTraffic")
                                    .current_instance_count(1)
                                    .desired_instance_count(1)
                                    .build(),
                            )
                            .creation_time(DateTime::from_secs(0))
                            .last_modified_time(DateTime::from_secs(0))
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let config = mock!(SageMakerClient::describe_endpoint_config)
        .match_requests(|r| r.endpoint_config_name() == Some("live-config"))
        .then_error(|| {
            DescribeEndpointConfigError::generic(
                ErrorMetadata::builder()
                    .code("ThrottlingException")
                    .message("Rate exceeded")
                    .build(),
            )
        });
    let describe_live = mock!(SageMakerClient::describe_endpoint)
        .match_requests(|r| r.endpoint_name() == Some("live"))
        .then_error(|| {
            DescribeEndpointError::generic(
                ErrorMetadata::builder()
                    .code("ThrottlingException")
                    .message("Rate exceeded")
                    .build(),
            )
        });
    let describe_gone = mock!(SageMakerClient::describe_endpoint)
        .match_requests(|r| r.endpoint_name() == Some("gone"))
        .then_error(|| {
            DescribeEndpointError::generic(
                ErrorMetadata::builder()
                    .code("ValidationException")
                    .message("Could not find endpoint \"arn:aws:sagemaker:us-east-1:123456789012:endpoint/gone\".")
                    .build(),
            )
        });
    SageMaker {
        rules: vec![search, config],
        describe_live,
        describe_gone,
    }
}

/// Application Auto Scaling holds the standard policy on both endpoints;
/// only the orphan's removal is answered.
fn autoscaling(removals: &[&Rule]) -> AutoScalingClient {
    let policies = mock!(AutoScalingClient::describe_scaling_policies).then_output(|| {
        DescribeScalingPoliciesOutput::builder()
            .scaling_policies(owned_policy("live"))
            .scaling_policies(owned_policy("gone"))
            .build()
    });
    let scheduled = mock!(AutoScalingClient::describe_scheduled_actions)
        .then_output(|| DescribeScheduledActionsOutput::builder().build());
    let mut rules = vec![&policies, &scheduled];
    rules.extend(removals);
    mock_client!(aws_sdk_applicationautoscaling, RuleMode::MatchAny, rules)
}

fn cloudwatch() -> CloudWatchClient {
    let alarms = mock!(CloudWatchClient::describe_alarms)
        .then_output(|| DescribeAlarmsOutput::builder().build());
    mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&alarms])
}

#[tokio::test]
async fn a_throttled_config_read_is_an_error_for_its_endpoint_never_an_orphan() {
    let delete = mock!(AutoScalingClient::delete_scaling_policy)
        .match_requests(|r| {
            r.resource_id() == Some(&rid("gone")) && r.policy_name() == Some(POLICY)
        })
        .then_output(|| DeleteScalingPolicyOutput::builder().build());
    let deregister = mock!(AutoScalingClient::deregister_scalable_target)
        .match_requests(|r| r.resource_id() == Some(&rid("gone")))
        .then_output(|| DeregisterScalableTargetOutput::builder().build());
    for mode in [DriftMode::Report, DriftMode::Remediate] {
        let sm = sagemaker();
        let mut rules: Vec<&Rule> = sm.rules.iter().collect();
        rules.extend([&sm.describe_live, &sm.describe_gone]);
        // A throttle that outlasts the retries: one attempt shows it.
        let sagemaker = mock_client!(aws_sdk_sagemaker, RuleMode::MatchAny, rules, |c| c
            .retry_config(RetryConfig::disabled()));
        let r = Reconciler::new(
            SageMakerEndpoints::new(sagemaker),
            AwsScaling::new(
                AutoScaling::new(autoscaling(&[&delete, &deregister])),
                Alarms::new(cloudwatch()),
            ),
            Settings {
                drift_mode: mode,
                ..Settings::default()
            },
        );
        let report = r
            .drift_check(SweepOptions {
                dry_run: false,
                deadline: None,
            })
            .await
            .unwrap();
        let json = serde_json::to_value(&report).unwrap();
        let orphans: Vec<&str> = json["orphans"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["resource_id"].as_str().unwrap())
            .collect();
        assert_eq!(orphans, [rid("gone")], "{mode:?}: {json:#}");
        let expected = match mode {
            DriftMode::Report => "found",
            DriftMode::Remediate => "removed",
        };
        assert_eq!(json["orphans"][0]["status"], expected, "{mode:?}");
        assert_eq!(
            json["summary"]["endpoints_unreadable"], 1,
            "{mode:?}: {json:#}"
        );
        assert_eq!(json["summary"]["orphans_found"], 1);
        let live = &json["endpoints"][0]["found"];
        assert_eq!(live["endpoint"], "live");
        let error = live["error"].as_str().unwrap();
        assert!(
            error.contains("DescribeEndpointConfig failed: ThrottlingException"),
            "{error}"
        );
        // The live endpoint's scaling is not even a candidate.
        assert_eq!(sm.describe_live.num_calls(), 0, "{mode:?}");
        assert_eq!(sm.describe_gone.num_calls(), 1, "{mode:?}");
        let removed = u64::from(mode == DriftMode::Remediate);
        assert_eq!(json["summary"]["orphans_removed"], removed, "{mode:?}");
    }
    // Only the orphan was removed, once (remediate mode).
    assert_eq!((delete.num_calls(), deregister.num_calls()), (1, 1));
}
