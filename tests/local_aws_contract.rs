//! The local AWS's contract: requests are counted per access key, invalid
//! requests are rejected as AWS rejects them, and faults hit only the key
//! they were installed for.

mod support;

use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ServiceNamespace,
    TargetTrackingScalingPolicyConfiguration,
};
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Statistic};
use support::{clients_with_key, dimension, local_aws_stats};

#[tokio::test]
async fn requests_are_counted_per_access_key() {
    let aas = clients_with_key("contract-stats").autoscaling;
    for _ in 0..2 {
        aas.describe_scalable_targets()
            .service_namespace(ServiceNamespace::Sagemaker)
            .send()
            .await
            .unwrap();
    }
    aas.register_scalable_target()
        .service_namespace(ServiceNamespace::Sagemaker)
        .scalable_dimension(dimension())
        .resource_id("endpoint/contract-stats/variant/a")
        .min_capacity(1)
        .max_capacity(2)
        .send()
        .await
        .unwrap();

    let stats = local_aws_stats("contract-stats");
    assert_eq!(stats["requests"], 3, "{stats}");
    assert_eq!(stats["reads"], 2, "{stats}");
    assert_eq!(stats["writes"], 1, "{stats}");
    assert_eq!(
        stats["by_operation"]["DescribeScalableTargets"], 2,
        "{stats}"
    );
    assert_eq!(
        stats["by_operation"]["RegisterScalableTarget"], 1,
        "{stats}"
    );
    assert_eq!(local_aws_stats("contract-nobody")["requests"], 0);
}

/// The SDK checks no lengths client-side; AWS (and so the local AWS) does.
#[tokio::test]
async fn an_overlong_policy_name_is_a_validation_exception() {
    let err = support::clients()
        .autoscaling
        .put_scaling_policy()
        .policy_name("p".repeat(300))
        .service_namespace(ServiceNamespace::Sagemaker)
        .scalable_dimension(dimension())
        .resource_id("endpoint/contract-long/variant/a")
        .policy_type(PolicyType::TargetTrackingScaling)
        .target_tracking_scaling_policy_configuration(invocations(70.0))
        .send()
        .await
        .expect_err("a 300-character policy name is rejected");
    let service = err.into_service_error();
    assert_eq!(service.meta().code(), Some("ValidationException"));
    let message = service.meta().message().unwrap_or_default();
    assert!(
        message.contains("'PutScalingPolicy.PolicyName'")
            && message.contains("Member must have length less than or equal to 256"),
        "{message}"
    );
}

#[tokio::test]
async fn a_query_protocol_violation_is_a_validation_error() {
    let cloudwatch = support::clients().cloudwatch;
    let err = cloudwatch
        .put_metric_alarm()
        .alarm_name(support::unique("contract-alarm"))
        .namespace("AWS/SageMaker")
        .metric_name("Invocations")
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(0)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .expect_err("zero evaluation periods are rejected");
    let service = err.into_service_error();
    assert_eq!(service.meta().code(), Some("ValidationError"));
    let message = service.meta().message().unwrap_or_default();
    assert!(
        message.contains("'PutMetricAlarm.EvaluationPeriods'")
            && message.contains("Member must have value greater than or equal to 1"),
        "{message}"
    );
}

#[tokio::test]
async fn valid_requests_pass_in_both_protocols() {
    let clients = support::clients();
    let endpoint = support::unique("contract-valid");
    let resource_id = format!("endpoint/{endpoint}/variant/a");
    support::register_target(&resource_id, 1, 4).await;
    support::put_invocations_policy(&resource_id, "contract-valid", 70.0, Some((300, 60))).await;
    let alarm = support::unique("contract-valid-alarm");
    clients
        .cloudwatch
        .put_metric_alarm()
        .alarm_name(&alarm)
        .namespace("AWS/SageMaker")
        .metric_name("Invocations")
        .dimensions(Dimension::builder().name("EndpointName").value("e").build())
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(3)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .alarm_actions("arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:x")
        .send()
        .await
        .expect("a valid alarm is accepted");
    let found = clients
        .cloudwatch
        .describe_alarms()
        .alarm_names(&alarm)
        .send()
        .await
        .unwrap();
    assert_eq!(found.metric_alarms().len(), 1);
    assert_eq!(support::policies(&endpoint, "a").await.len(), 1);
}

fn invocations(target: f64) -> TargetTrackingScalingPolicyConfiguration {
    TargetTrackingScalingPolicyConfiguration::builder()
        .target_value(target)
        .predefined_metric_specification(
            PredefinedMetricSpecification::builder()
                .predefined_metric_type(MetricType::SageMakerVariantInvocationsPerInstance)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
}
