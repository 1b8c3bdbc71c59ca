//! Reads and writes Application Auto Scaling for SageMaker variants.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use aws_sdk_applicationautoscaling::operation::put_scaling_policy::builders::PutScalingPolicyFluentBuilder;
use aws_sdk_applicationautoscaling::types::{
    AdjustmentType, CustomizedMetricSpecification, MetricAggregationType, MetricDimension,
    MetricStatistic, MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension,
    ScalableTargetAction, ServiceNamespace, StepAdjustment, StepScalingPolicyConfiguration,
    TargetTrackingScalingPolicyConfiguration,
};
use aws_sdk_applicationautoscaling::Client;

use super::paging::collect_pages;
use super::{already_gone_is_done, AwsError};
use crate::domain::desired::{DesiredStepPolicy, DesiredTargetTracking, MetricSpec};
use crate::domain::plan::{Applied, Change};
use crate::domain::snapshot::{
    ObservedMetric, ScalableTarget, ScalingPolicy, ScheduledAction, StepConfig, TargetTracking,
    VariantScaling,
};
use crate::domain::Dimension;

/// DescribeScalableTargets takes at most 50 resource ids.
pub const RESOURCE_ID_BATCH: usize = 50;
/// DescribeScalingPolicies returns at most 10 policies a page.
pub const POLICY_PAGE: i32 = 10;
/// DescribeScheduledActions returns at most 50 actions a page.
pub const SCHEDULED_PAGE: i32 = 50;

#[derive(Debug, Clone)]
pub struct AutoScaling {
    client: Client,
    /// Delays between attempts while a just-registered target is not yet
    /// visible to PutScalingPolicy.
    settle_delays: Vec<Duration>,
}

fn dimension_of(d: Option<&ScalableDimension>) -> Dimension {
    // Anything else in the namespace is still someone's scaling: keep it,
    // filed under the default dimension.
    d.and_then(|d| Dimension::parse(d.as_str()))
        .unwrap_or_default()
}

/// Calls `op` again after each delay while `transient` says the error may
/// go away by itself.
pub async fn retry_while<T, F, Fut>(
    delays: &[Duration],
    transient: impl Fn(&AwsError) -> bool,
    mut op: F,
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let mut delays = delays.iter();
    loop {
        match op().await {
            Err(e) if transient(&e) => match delays.next() {
                Some(d) => tokio::time::sleep(*d).await,
                None => return Err(e),
            },
            other => return other,
        }
    }
}

/// The code Application Auto Scaling uses for a policy, scheduled action or
/// target that does not exist.
const NOT_FOUND: [&str; 1] = ["ObjectNotFoundException"];

fn to_metric(
    c: &aws_sdk_applicationautoscaling::types::TargetTrackingScalingPolicyConfiguration,
) -> ObservedMetric {
    if let Some(m) = c.predefined_metric_specification() {
        return ObservedMetric::Predefined(m.predefined_metric_type().as_str().to_string());
    }
    match c.customized_metric_specification() {
        Some(m) if m.metrics().is_empty() => {
            let mut dimensions: Vec<(String, String)> = m
                .dimensions()
                .iter()
                .map(|d| (d.name().to_string(), d.value().to_string()))
                .collect();
            dimensions.sort();
            ObservedMetric::Custom {
                namespace: m.namespace().unwrap_or_default().to_string(),
                metric_name: m.metric_name().unwrap_or_default().to_string(),
                dimensions,
                statistic: m
                    .statistic()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            }
        }
        _ => ObservedMetric::Other,
    }
}

pub fn to_policy(p: &aws_sdk_applicationautoscaling::types::ScalingPolicy) -> ScalingPolicy {
    ScalingPolicy {
        name: p.policy_name().to_string(),
        resource_id: p.resource_id().to_string(),
        dimension: dimension_of(Some(p.scalable_dimension())),
        arn: p.policy_arn().to_string(),
        policy_type: p.policy_type().as_str().to_string(),
        step: p.step_scaling_policy_configuration().map(|c| StepConfig {
            adjustment_type: c.adjustment_type().map(|t| t.as_str().to_string()),
            cooldown: c.cooldown(),
            metric_aggregation_type: c.metric_aggregation_type().map(|t| t.as_str().to_string()),
            min_adjustment_magnitude: c.min_adjustment_magnitude(),
            steps: c
                .step_adjustments()
                .iter()
                .map(|s| {
                    (
                        s.metric_interval_lower_bound(),
                        s.metric_interval_upper_bound(),
                        s.scaling_adjustment(),
                    )
                })
                .collect(),
        }),
        target_tracking: p
            .target_tracking_scaling_policy_configuration()
            .map(|c| TargetTracking {
                target_value: c.target_value(),
                metric: to_metric(c),
                scale_in_cooldown: c.scale_in_cooldown(),
                scale_out_cooldown: c.scale_out_cooldown(),
                disable_scale_in: c.disable_scale_in().unwrap_or(false),
            }),
    }
}

fn to_scheduled(s: &aws_sdk_applicationautoscaling::types::ScheduledAction) -> ScheduledAction {
    ScheduledAction {
        name: s.scheduled_action_name().to_string(),
        resource_id: s.resource_id().to_string(),
        dimension: dimension_of(s.scalable_dimension()),
        schedule: s.schedule().to_string(),
        timezone: s.timezone().map(str::to_string),
        min_capacity: s.scalable_target_action().and_then(|a| a.min_capacity()),
        max_capacity: s.scalable_target_action().and_then(|a| a.max_capacity()),
    }
}

fn invalid_request(operation: &str, e: aws_smithy_types::error::operation::BuildError) -> AwsError {
    AwsError {
        operation: operation.into(),
        code: Some("InvalidRequest".into()),
        message: e.to_string(),
        retryable: false,
    }
}

pub fn step_config(p: &DesiredStepPolicy) -> Result<StepScalingPolicyConfiguration, AwsError> {
    let mut builder = StepScalingPolicyConfiguration::builder()
        .adjustment_type(AdjustmentType::from(p.adjustment_type.as_str()))
        .cooldown(p.cooldown)
        .metric_aggregation_type(MetricAggregationType::from(
            p.metric_aggregation_type.as_str(),
        ))
        .set_min_adjustment_magnitude(p.min_adjustment_magnitude);
    for s in &p.steps {
        builder = builder.step_adjustments(
            StepAdjustment::builder()
                .set_metric_interval_lower_bound(s.lower)
                .set_metric_interval_upper_bound(s.upper)
                .scaling_adjustment(s.adjustment)
                .build()
                .map_err(|e| invalid_request("PutScalingPolicy", e))?,
        );
    }
    Ok(builder.build())
}

pub fn tracking_config(
    p: &DesiredTargetTracking,
) -> Result<TargetTrackingScalingPolicyConfiguration, AwsError> {
    let build_error = |e| invalid_request("PutScalingPolicy", e);
    let builder = TargetTrackingScalingPolicyConfiguration::builder()
        .target_value(p.target_value)
        .scale_in_cooldown(p.scale_in_cooldown)
        .scale_out_cooldown(p.scale_out_cooldown)
        .disable_scale_in(p.disable_scale_in);
    let builder = match &p.metric {
        MetricSpec::Predefined { metric_type } => builder.predefined_metric_specification(
            PredefinedMetricSpecification::builder()
                .predefined_metric_type(MetricType::from(metric_type.as_str()))
                .build()
                .map_err(build_error)?,
        ),
        MetricSpec::Custom {
            namespace,
            metric_name,
            dimensions,
            statistic,
        } => {
            let mut spec = CustomizedMetricSpecification::builder()
                .namespace(namespace)
                .metric_name(metric_name)
                .statistic(MetricStatistic::from(statistic.as_str()));
            for (name, value) in dimensions {
                spec = spec.dimensions(
                    MetricDimension::builder()
                        .name(name)
                        .value(value)
                        .build()
                        .map_err(build_error)?,
                );
            }
            builder.customized_metric_specification(spec.build())
        }
    };
    builder.build().map_err(build_error)
}

impl AutoScaling {
    pub fn new(client: Client) -> Self {
        Self {
            client,
            settle_delays: [250, 500, 1000, 2000, 4000]
                .into_iter()
                .map(Duration::from_millis)
                .collect(),
        }
    }

    /// The registered targets among `resource_ids`, looked up by id in
    /// batches (a namespace-wide listing pages unreliably on some
    /// implementations and costs more).
    pub async fn targets(&self, resource_ids: &[String]) -> Result<Vec<ScalableTarget>, AwsError> {
        let mut out = Vec::new();
        for batch in resource_ids.chunks(RESOURCE_ID_BATCH) {
            let page = collect_pages("DescribeScalableTargets", |token| {
                let req = self
                    .client
                    .describe_scalable_targets()
                    .service_namespace(ServiceNamespace::Sagemaker)
                    .set_resource_ids(Some(batch.to_vec()))
                    .set_next_token(token);
                async move {
                    let resp = req
                        .send()
                        .await
                        .map_err(|e| AwsError::from_sdk("DescribeScalableTargets", e))?;
                    let items = resp
                        .scalable_targets()
                        .iter()
                        .map(|t| ScalableTarget {
                            resource_id: t.resource_id().to_string(),
                            dimension: dimension_of(Some(t.scalable_dimension())),
                            min_capacity: t.min_capacity(),
                            max_capacity: t.max_capacity(),
                        })
                        .collect::<Vec<_>>();
                    Ok((items, resp.next_token().map(str::to_string)))
                }
            })
            .await?;
            out.extend(page);
        }
        Ok(out)
    }

    /// Scaling policies, of one resource or (with `None`) of every SageMaker
    /// variant in the account and Region.
    pub async fn policies(
        &self,
        resource_id: Option<&str>,
    ) -> Result<Vec<ScalingPolicy>, AwsError> {
        collect_pages("DescribeScalingPolicies", |token| {
            let req = self
                .client
                .describe_scaling_policies()
                .service_namespace(ServiceNamespace::Sagemaker)
                .set_resource_id(resource_id.map(str::to_string))
                // AWS's page size; asking for it keeps call counts the same
                // against any implementation.
                .max_results(POLICY_PAGE)
                .set_next_token(token);
            async move {
                let resp = req
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("DescribeScalingPolicies", e))?;
                let items = resp
                    .scaling_policies()
                    .iter()
                    .map(to_policy)
                    .collect::<Vec<_>>();
                Ok((items, resp.next_token().map(str::to_string)))
            }
        })
        .await
    }

    /// Scheduled actions, of one resource or (with `None`) of every
    /// SageMaker variant in the account and Region.
    pub async fn scheduled_actions(
        &self,
        resource_id: Option<&str>,
    ) -> Result<Vec<ScheduledAction>, AwsError> {
        collect_pages("DescribeScheduledActions", |token| {
            let req = self
                .client
                .describe_scheduled_actions()
                .service_namespace(ServiceNamespace::Sagemaker)
                .set_resource_id(resource_id.map(str::to_string))
                .max_results(SCHEDULED_PAGE)
                .set_next_token(token);
            async move {
                let resp = req
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("DescribeScheduledActions", e))?;
                let items = resp
                    .scheduled_actions()
                    .iter()
                    .map(to_scheduled)
                    .collect::<Vec<_>>();
                Ok((items, resp.next_token().map(str::to_string)))
            }
        })
        .await
    }

    /// What Application Auto Scaling holds for each of `resource_ids`.
    pub async fn observe(
        &self,
        resource_ids: &[String],
    ) -> Result<BTreeMap<String, VariantScaling>, AwsError> {
        let mut state: BTreeMap<String, VariantScaling> = resource_ids
            .iter()
            .map(|id| (id.clone(), VariantScaling::default()))
            .collect();
        for target in self.targets(resource_ids).await? {
            if let Some(slot) = state.get_mut(&target.resource_id) {
                slot.target = Some(target);
            }
        }
        for id in resource_ids {
            let policies = self.policies(Some(id)).await?;
            if let Some(slot) = state.get_mut(id) {
                // The filter is by resource id; keep only exact matches in
                // case an implementation ignores it.
                slot.policies = policies
                    .into_iter()
                    .filter(|p| &p.resource_id == id)
                    .collect();
            }
            let scheduled = self.scheduled_actions(Some(id)).await?;
            if let Some(slot) = state.get_mut(id) {
                slot.scheduled = scheduled
                    .into_iter()
                    .filter(|s| &s.resource_id == id)
                    .collect();
            }
        }
        Ok(state)
    }

    /// A PutScalingPolicy request for one policy of one target, before its
    /// type and configuration.
    fn policy_request(
        &self,
        resource_id: &str,
        dimension: &ScalableDimension,
        name: &str,
    ) -> PutScalingPolicyFluentBuilder {
        self.client
            .put_scaling_policy()
            .service_namespace(ServiceNamespace::Sagemaker)
            .scalable_dimension(dimension.clone())
            .resource_id(resource_id)
            .policy_name(name)
    }

    /// Puts a policy and returns the ARN PutScalingPolicy answers with: the
    /// policy's identity from now on (a re-put may change it, and a read
    /// right after the write may not see it yet).
    async fn put_policy(&self, req: PutScalingPolicyFluentBuilder) -> Result<Applied, AwsError> {
        let out = self
            .on_settled_target(|| {
                let req = req.clone();
                async move {
                    req.send()
                        .await
                        .map_err(|e| AwsError::from_sdk("PutScalingPolicy", e))
                }
            })
            .await?;
        Ok(Applied {
            policy_arn: Some(out.policy_arn().to_string()),
        })
    }

    /// RegisterScalableTarget is eventually consistent: a policy or
    /// scheduled action put right after it can briefly see no target.
    async fn on_settled_target<T, F, Fut>(&self, send: F) -> Result<T, AwsError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AwsError>>,
    {
        retry_while(
            &self.settle_delays,
            |e| e.code_is("ObjectNotFoundException"),
            send,
        )
        .await
    }

    pub async fn apply(&self, change: &Change) -> Result<Applied, AwsError> {
        let dimension = ScalableDimension::from(change.dimension().as_str());
        match change {
            Change::RegisterTarget {
                resource_id,
                min_capacity,
                max_capacity,
                ..
            } => {
                self.client
                    .register_scalable_target()
                    .service_namespace(ServiceNamespace::Sagemaker)
                    .scalable_dimension(dimension.clone())
                    .resource_id(resource_id)
                    .min_capacity(*min_capacity)
                    .max_capacity(*max_capacity)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("RegisterScalableTarget", e))?;
            }
            Change::DeletePolicy {
                resource_id,
                policy_name,
                ..
            } => {
                let result = self
                    .client
                    .delete_scaling_policy()
                    .service_namespace(ServiceNamespace::Sagemaker)
                    .scalable_dimension(dimension.clone())
                    .resource_id(resource_id)
                    .policy_name(policy_name)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("DeleteScalingPolicy", e));
                already_gone_is_done(result, &NOT_FOUND)?;
            }
            Change::PutStepPolicy {
                resource_id,
                policy,
                ..
            } => {
                let req = self
                    .policy_request(resource_id, &dimension, &policy.name)
                    .policy_type(PolicyType::StepScaling)
                    .step_scaling_policy_configuration(step_config(policy)?);
                return self.put_policy(req).await;
            }
            Change::PutAlarm { .. } | Change::DeleteAlarm { .. } => {
                unreachable!("alarm changes go to CloudWatch, not Application Auto Scaling")
            }
            Change::PutScheduledAction {
                resource_id,
                scheduled_action: action,
                ..
            } => {
                let capacity = ScalableTargetAction::builder()
                    .set_min_capacity(action.min_capacity)
                    .set_max_capacity(action.max_capacity)
                    .build();
                let req = self
                    .client
                    .put_scheduled_action()
                    .service_namespace(ServiceNamespace::Sagemaker)
                    .scalable_dimension(dimension.clone())
                    .resource_id(resource_id)
                    .scheduled_action_name(&action.name)
                    .schedule(&action.schedule)
                    .set_timezone(action.timezone.clone())
                    .scalable_target_action(capacity);
                self.on_settled_target(|| {
                    let req = req.clone();
                    async move {
                        req.send()
                            .await
                            .map_err(|e| AwsError::from_sdk("PutScheduledAction", e))
                    }
                })
                .await?;
            }
            Change::DeleteScheduledAction {
                resource_id,
                scheduled_action_name,
                ..
            } => {
                let result = self
                    .client
                    .delete_scheduled_action()
                    .service_namespace(ServiceNamespace::Sagemaker)
                    .scalable_dimension(dimension.clone())
                    .resource_id(resource_id)
                    .scheduled_action_name(scheduled_action_name)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("DeleteScheduledAction", e));
                already_gone_is_done(result, &NOT_FOUND)?;
            }
            Change::DeregisterTarget { resource_id, .. } => {
                let result = self
                    .client
                    .deregister_scalable_target()
                    .service_namespace(ServiceNamespace::Sagemaker)
                    .scalable_dimension(dimension.clone())
                    .resource_id(resource_id)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("DeregisterScalableTarget", e));
                already_gone_is_done(result, &NOT_FOUND)?;
            }
            Change::PutTargetTrackingPolicy {
                resource_id,
                policy,
                ..
            } => {
                let req = self
                    .policy_request(resource_id, &dimension, &policy.name)
                    .policy_type(PolicyType::TargetTrackingScaling)
                    .target_tracking_scaling_policy_configuration(tracking_config(policy)?);
                return self.put_policy(req).await;
            }
        }
        Ok(Applied::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn not_found() -> AwsError {
        AwsError {
            operation: "PutScalingPolicy".into(),
            code: Some("ObjectNotFoundException".into()),
            message: "No scalable target registered".into(),
            retryable: false,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retries_while_the_target_settles_then_succeeds() {
        let calls = Cell::new(0);
        let delays = [Duration::from_millis(250); 5];
        let out = retry_while(
            &delays,
            |e| e.code_is("ObjectNotFoundException"),
            || {
                calls.set(calls.get() + 1);
                let n = calls.get();
                async move {
                    if n < 3 {
                        Err(not_found())
                    } else {
                        Ok(n)
                    }
                }
            },
        )
        .await;
        assert_eq!(out, Ok(3));
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_the_last_delay() {
        let calls = Cell::new(0);
        let delays = [Duration::from_millis(1); 2];
        let out: Result<(), _> = retry_while(
            &delays,
            |e| e.code_is("ObjectNotFoundException"),
            || {
                calls.set(calls.get() + 1);
                async { Err(not_found()) }
            },
        )
        .await;
        assert_eq!(
            out.unwrap_err().code.as_deref(),
            Some("ObjectNotFoundException")
        );
        assert_eq!(calls.get(), 3);
    }

    #[tokio::test]
    async fn permanent_errors_are_not_retried() {
        let calls = Cell::new(0);
        let out: Result<(), _> = retry_while(
            &[Duration::from_secs(60)],
            |e| e.code_is("ObjectNotFoundException"),
            || {
                calls.set(calls.get() + 1);
                async {
                    Err(AwsError {
                        code: Some("ValidationException".into()),
                        ..not_found()
                    })
                }
            },
        )
        .await;
        assert!(out.is_err());
        assert_eq!(calls.get(), 1);
    }
}
