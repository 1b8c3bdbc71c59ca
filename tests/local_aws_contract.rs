//! The local AWS's contract: requests are counted per access key, invalid
//! requests are rejected as AWS rejects them, faults hit only the key they
//! were installed for, and credentials from AssumeRole act in the role's
//! account.

mod support;

use autoscaling_guard::aws::Clients;
use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_applicationautoscaling::types::{
    AdjustmentType, MetricType, PolicyType, PredefinedMetricSpecification, ScalableTargetAction,
    ServiceNamespace, StepAdjustment, StepScalingPolicyConfiguration,
    TargetTrackingScalingPolicyConfiguration,
};
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Statistic};
use aws_sdk_sagemaker::config::{Credentials, SharedCredentialsProvider};
use aws_smithy_runtime_api::client::result::SdkError;
use support::{
    act_in_account, clear_faults, clients_with_key, create_role, dimension, local_aws_stats,
    local_aws_stats_in, moto_url, set_faults,
};

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

// Deleting what does not exist: AWS answers ObjectNotFoundException (moto
// itself answers ValidationException, or nothing for scheduled actions).
#[tokio::test]
async fn deleting_what_does_not_exist_is_object_not_found() {
    let aas = support::clients().autoscaling;
    let resource_id = format!("endpoint/{}/variant/a", support::unique("contract-missing"));
    let policy = aas
        .delete_scaling_policy()
        .policy_name("nothing")
        .service_namespace(ServiceNamespace::Sagemaker)
        .scalable_dimension(dimension())
        .resource_id(&resource_id)
        .send()
        .await
        .expect_err("no such policy");
    assert!(policy.into_service_error().is_object_not_found_exception());
    let action = aas
        .delete_scheduled_action()
        .scheduled_action_name("nothing")
        .service_namespace(ServiceNamespace::Sagemaker)
        .scalable_dimension(dimension())
        .resource_id(&resource_id)
        .send()
        .await
        .expect_err("no such scheduled action");
    assert!(action.into_service_error().is_object_not_found_exception());
    let target = aas
        .deregister_scalable_target()
        .service_namespace(ServiceNamespace::Sagemaker)
        .scalable_dimension(dimension())
        .resource_id(&resource_id)
        .send()
        .await
        .expect_err("no such target");
    assert!(target.into_service_error().is_object_not_found_exception());
}

#[tokio::test]
async fn an_existing_scheduled_action_is_deleted() {
    let aas = support::clients().autoscaling;
    let resource_id = format!("endpoint/{}/variant/a", support::unique("contract-action"));
    support::register_target(&resource_id, 1, 4).await;
    aas.put_scheduled_action()
        .scheduled_action_name("nightly")
        .service_namespace(ServiceNamespace::Sagemaker)
        .scalable_dimension(dimension())
        .resource_id(&resource_id)
        .schedule("cron(0 22 * * ? *)")
        .scalable_target_action(
            ScalableTargetAction::builder()
                .min_capacity(1)
                .max_capacity(2)
                .build(),
        )
        .send()
        .await
        .unwrap();
    aas.delete_scheduled_action()
        .scheduled_action_name("nightly")
        .service_namespace(ServiceNamespace::Sagemaker)
        .scalable_dimension(dimension())
        .resource_id(&resource_id)
        .send()
        .await
        .expect("the action exists");
    let left = aas
        .describe_scheduled_actions()
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(&resource_id)
        .send()
        .await
        .unwrap();
    assert!(left.scheduled_actions().is_empty());
}

/// Throttling for one key: its calls fail after the SDK's retries, while the
/// default key's calls to the same server go through.
#[tokio::test]
async fn throttling_hits_only_the_key_it_was_set_for() {
    set_faults("contract-throttle", 7, 1.0, &["throttle"]);
    let err = clients_with_key("contract-throttle")
        .autoscaling
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Sagemaker)
        .send()
        .await
        .expect_err("every attempt is throttled");
    let service = err.into_service_error();
    assert_eq!(service.meta().code(), Some("ThrottlingException"));
    support::clients()
        .autoscaling
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Sagemaker)
        .send()
        .await
        .expect("the default key is not throttled");
    clear_faults("contract-throttle");

    let stats = local_aws_stats("contract-throttle");
    let attempts = stats["requests"].as_u64().unwrap();
    assert!(attempts > 1, "the SDK retried a throttled call: {stats}");
    assert_eq!(
        stats["faults"]["throttle"].as_u64(),
        Some(attempts),
        "{stats}"
    );
}

/// Registers variant `a` of `endpoint` with every request of `key`
/// faulted by `kind`, and asserts the caller saw a connection error, not an
/// answer.
async fn register_under_fault(key: &str, seed: u64, kind: &str, endpoint: &str) {
    set_faults(key, seed, 1.0, &[kind]);
    let err = clients_with_key(key)
        .autoscaling
        .register_scalable_target()
        .service_namespace(ServiceNamespace::Sagemaker)
        .scalable_dimension(dimension())
        .resource_id(format!("endpoint/{endpoint}/variant/a"))
        .min_capacity(1)
        .max_capacity(3)
        .send()
        .await
        .expect_err("no answer arrives");
    clear_faults(key);
    assert!(
        matches!(err, SdkError::DispatchFailure(_)),
        "a connection error, not an answer: {err:?}"
    );
}

/// A lost write: moto applies it, the caller sees a broken connection (and
/// retries it), never an answer.
#[tokio::test]
async fn a_lost_write_is_applied_although_the_caller_saw_an_error() {
    let endpoint = support::unique("contract-lost");
    register_under_fault("contract-lost", 3, "lost_write", &endpoint).await;
    assert_eq!(support::target(&endpoint, "a").await, Some((1, 3)));
    let stats = local_aws_stats("contract-lost");
    assert!(
        stats["faults"]["lost_write"].as_u64().unwrap() > 1,
        "retried: {stats}"
    );
}

/// A reset connection: the request never reaches moto.
#[tokio::test]
async fn a_reset_request_is_not_applied() {
    let endpoint = support::unique("contract-reset");
    register_under_fault("contract-reset", 5, "reset", &endpoint).await;
    assert_eq!(support::target(&endpoint, "a").await, None);
}

/// AWS takes policies only on registered targets, and deregistering a target
/// removes its policies and scheduled actions (moto does neither).
#[tokio::test]
async fn policies_need_a_registered_target_and_go_with_it() {
    let aas = support::clients().autoscaling;
    let endpoint = support::unique("contract-cascade");
    let resource_id = format!("endpoint/{endpoint}/variant/a");
    let put = || {
        aas.put_scaling_policy()
            .policy_name("invocations")
            .service_namespace(ServiceNamespace::Sagemaker)
            .scalable_dimension(dimension())
            .resource_id(&resource_id)
            .policy_type(PolicyType::TargetTrackingScaling)
            .target_tracking_scaling_policy_configuration(invocations(70.0))
            .send()
    };
    let unregistered = put().await.expect_err("no target yet");
    assert!(unregistered
        .into_service_error()
        .is_object_not_found_exception());

    support::register_target(&resource_id, 1, 4).await;
    put().await.expect("the target is registered");
    assert_eq!(support::policies(&endpoint, "a").await.len(), 1);
    aas.deregister_scalable_target()
        .service_namespace(ServiceNamespace::Sagemaker)
        .scalable_dimension(dimension())
        .resource_id(&resource_id)
        .send()
        .await
        .unwrap();
    assert!(support::policies(&endpoint, "a").await.is_empty());
}

/// A rule AWS states only in prose: a step with a positive upper bound needs
/// a step with a null upper bound.
#[tokio::test]
async fn step_adjustments_that_leave_the_top_open_are_rejected() {
    let aas = support::clients().autoscaling;
    let resource_id = format!("endpoint/{}/variant/a", support::unique("contract-steps"));
    support::register_target(&resource_id, 1, 4).await;
    let err = aas
        .put_scaling_policy()
        .policy_name("burst")
        .service_namespace(ServiceNamespace::Sagemaker)
        .scalable_dimension(dimension())
        .resource_id(&resource_id)
        .policy_type(PolicyType::StepScaling)
        .step_scaling_policy_configuration(
            StepScalingPolicyConfiguration::builder()
                .adjustment_type(AdjustmentType::ChangeInCapacity)
                .step_adjustments(
                    StepAdjustment::builder()
                        .metric_interval_lower_bound(0.0)
                        .metric_interval_upper_bound(100.0)
                        .scaling_adjustment(1)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .expect_err("no step covers values above 100");
    let service = err.into_service_error();
    assert_eq!(service.meta().code(), Some("ValidationException"));
    let message = service.meta().message().unwrap_or_default();
    assert!(
        message.contains("'PutScalingPolicy.StepScalingPolicyConfiguration.StepAdjustments'")
            && message
                .contains("a positive upper bound needs a step adjustment with a null upper bound"),
        "{message}"
    );
}

/// The tool's clients in the account of `role`, through aws-config's own
/// AssumeRole provider with `key` as the base credentials (loaded as the
/// tool loads its configuration: the provider needs a clock and a sleep).
async fn assumed(key: &str, role: &str) -> Clients {
    let base = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(moto_url())
        .credentials_provider(Credentials::new(key, "test", None, None, "tests"))
        .load()
        .await;
    let provider = AssumeRoleProvider::builder(role)
        .session_name("contract")
        .configure(&base)
        .build()
        .await;
    let config = base
        .into_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build();
    Clients::new(&config)
}

async fn target_ids(clients: &Clients, resource_id: &str) -> usize {
    clients
        .autoscaling
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_ids(resource_id)
        .send()
        .await
        .unwrap()
        .scalable_targets()
        .len()
}

#[tokio::test]
async fn assumed_role_credentials_act_in_the_roles_account() {
    act_in_account("contract-spoke-setup", "210987654321");
    create_role("contract-spoke-setup", "contract-spoke");
    let spoke = assumed(
        "contract-hub",
        "arn:aws:iam::210987654321:role/contract-spoke",
    )
    .await;
    let resource_id = "endpoint/contract-assumed/variant/a";
    spoke
        .autoscaling
        .register_scalable_target()
        .service_namespace(ServiceNamespace::Sagemaker)
        .scalable_dimension(dimension())
        .resource_id(resource_id)
        .min_capacity(1)
        .max_capacity(2)
        .send()
        .await
        .unwrap();

    let in_spoke = clients_with_key("contract-spoke-setup");
    assert_eq!(target_ids(&in_spoke, resource_id).await, 1);
    assert_eq!(
        target_ids(&clients_with_key("contract-hub"), resource_id).await,
        0
    );
    // The hub key's counts include what its assumed credentials did.
    let stats = local_aws_stats_in("contract-hub", "210987654321");
    assert_eq!(
        stats["by_operation"],
        serde_json::json!({"RegisterScalableTarget": 1}),
        "{stats}"
    );
    assert_eq!(
        local_aws_stats("contract-hub")["by_operation"]["AssumeRole"],
        1
    );
}

#[tokio::test]
async fn a_role_that_does_not_exist_cannot_be_assumed() {
    let spoke = assumed(
        "contract-hub-denied",
        "arn:aws:iam::210987654322:role/never-created",
    )
    .await;
    let err = spoke
        .autoscaling
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Sagemaker)
        .send()
        .await
        .unwrap_err();
    // The credentials provider's error, nested in the dispatch failure.
    let shown = format!("{:?}", err);
    assert!(shown.contains("AccessDenied"), "{shown}");
    assert!(shown.contains("never-created"), "{shown}");
    let stats = local_aws_stats("contract-hub-denied");
    assert_eq!(stats["by_operation"]["AssumeRole"], 1, "{stats}");
    assert_eq!(stats["requests"], 1, "{stats}");
}
