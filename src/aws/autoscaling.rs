//! Reads and writes Application Auto Scaling for SageMaker variants.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use aws_sdk_applicationautoscaling::operation::put_scaling_policy::builders::PutScalingPolicyInputBuilder;
use aws_sdk_applicationautoscaling::operation::put_scaling_policy::PutScalingPolicyInput;
use aws_sdk_applicationautoscaling::types::{
    ScalableDimension, ScalableTargetAction, ServiceNamespace,
};
use aws_sdk_applicationautoscaling::Client;

use super::paging::collect_pages;
use super::{already_gone_is_done, AwsError};
use crate::domain::desired::{DesiredPolicy, DesiredSchedule};
use crate::domain::plan::{Applied, ScalingAction};
use crate::domain::snapshot::{ScalableTarget, ScalingPolicy, ScheduledAction, VariantScaling};
use crate::domain::Dimension;
use crate::policy_set::ObservedConfig;
use crate::resource::Scaled;

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

pub fn to_policy(p: &aws_sdk_applicationautoscaling::types::ScalingPolicy) -> ScalingPolicy {
    ScalingPolicy {
        name: p.policy_name().to_string(),
        resource_id: p.resource_id().to_string(),
        dimension: dimension_of(Some(p.scalable_dimension())),
        arn: p.policy_arn().to_string(),
        policy_type: p.policy_type().clone(),
        config: ObservedConfig::of(p),
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

/// Copies a policy's type and every configuration the service model has
/// from a PutScalingPolicy input onto a builder with the same setters (the
/// request; a described policy), so a new policy type needs nothing here.
macro_rules! with_config {
    ($builder:expr, $config:expr) => {
        $builder
            .set_policy_type($config.get_policy_type().clone())
            .set_target_tracking_scaling_policy_configuration(
                $config
                    .get_target_tracking_scaling_policy_configuration()
                    .clone(),
            )
            .set_step_scaling_policy_configuration(
                $config.get_step_scaling_policy_configuration().clone(),
            )
            .set_predictive_scaling_policy_configuration(
                $config
                    .get_predictive_scaling_policy_configuration()
                    .clone(),
            )
    };
}

/// A policy's type and configuration, as its type sets them on a
/// PutScalingPolicy request.
fn policy_config(policy: &DesiredPolicy) -> Result<PutScalingPolicyInputBuilder, AwsError> {
    policy
        .configure(PutScalingPolicyInput::builder())
        .map_err(|e| invalid_request("PutScalingPolicy", e))
}

/// The policy as DescribeScalingPolicies returns it once `policy` is put,
/// read back through `to_policy`: what the in-memory stores of the unit
/// tests hold, through the same conversions as the real calls.
#[cfg(test)]
pub fn as_described(
    policy: &DesiredPolicy,
    resource_id: &str,
    dimension: Dimension,
    arn: &str,
) -> Result<ScalingPolicy, AwsError> {
    let config = policy_config(policy)?;
    let described = aws_sdk_applicationautoscaling::types::ScalingPolicy::builder()
        .policy_arn(arn)
        .policy_name(policy.name())
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(resource_id)
        .scalable_dimension(ScalableDimension::from(dimension.as_str()));
    let described = with_config!(described, config)
        .creation_time(aws_smithy_types::DateTime::from_secs(0))
        .build()
        .map_err(|e| invalid_request("PutScalingPolicy", e))?;
    Ok(to_policy(&described))
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

    /// Applies one write to `subject`'s scaling. Puts wait for a target
    /// registered just before them to settle; deletes take a resource that
    /// is already gone as done.
    pub async fn apply(
        &self,
        subject: &Scaled,
        dimension: Dimension,
        action: &ScalingAction,
    ) -> Result<Applied, AwsError> {
        let target = Target {
            resource_id: subject.resource_id(),
            dimension: ScalableDimension::from(dimension.as_str()),
        };
        match action {
            ScalingAction::RegisterTarget {
                min_capacity,
                max_capacity,
            } => self.register(&target, *min_capacity, *max_capacity).await?,
            ScalingAction::PutPolicy { policy } => {
                return self.put_policy(&target, policy).await;
            }
            ScalingAction::PutScheduledAction { scheduled_action } => {
                self.put_scheduled_action(&target, scheduled_action).await?
            }
            ScalingAction::DeletePolicy { policy_name } => {
                self.delete_policy(&target, policy_name).await?
            }
            ScalingAction::DeleteScheduledAction {
                scheduled_action_name,
            } => {
                self.delete_scheduled_action(&target, scheduled_action_name)
                    .await?
            }
            ScalingAction::DeregisterTarget => self.deregister(&target).await?,
        }
        Ok(Applied::default())
    }

    async fn register(&self, t: &Target, min: i32, max: i32) -> Result<(), AwsError> {
        self.client
            .register_scalable_target()
            .service_namespace(ServiceNamespace::Sagemaker)
            .scalable_dimension(t.dimension.clone())
            .resource_id(&t.resource_id)
            .min_capacity(min)
            .max_capacity(max)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("RegisterScalableTarget", e))?;
        Ok(())
    }

    /// Puts a policy and returns the ARN PutScalingPolicy answers with: the
    /// policy's identity from now on (a re-put may change it, and a read
    /// right after the write may not see it yet).
    async fn put_policy(&self, t: &Target, policy: &DesiredPolicy) -> Result<Applied, AwsError> {
        let config = policy_config(policy)?;
        let req = self
            .client
            .put_scaling_policy()
            .service_namespace(ServiceNamespace::Sagemaker)
            .scalable_dimension(t.dimension.clone())
            .resource_id(&t.resource_id)
            .policy_name(policy.name());
        let req = with_config!(req, config);
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

    async fn put_scheduled_action(
        &self,
        t: &Target,
        action: &DesiredSchedule,
    ) -> Result<(), AwsError> {
        let capacity = ScalableTargetAction::builder()
            .set_min_capacity(action.min_capacity)
            .set_max_capacity(action.max_capacity)
            .build();
        let req = self
            .client
            .put_scheduled_action()
            .service_namespace(ServiceNamespace::Sagemaker)
            .scalable_dimension(t.dimension.clone())
            .resource_id(&t.resource_id)
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
        Ok(())
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

    async fn delete_policy(&self, t: &Target, name: &str) -> Result<(), AwsError> {
        let result = self
            .client
            .delete_scaling_policy()
            .service_namespace(ServiceNamespace::Sagemaker)
            .scalable_dimension(t.dimension.clone())
            .resource_id(&t.resource_id)
            .policy_name(name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DeleteScalingPolicy", e));
        already_gone_is_done(result, &NOT_FOUND)
    }

    async fn delete_scheduled_action(&self, t: &Target, name: &str) -> Result<(), AwsError> {
        let result = self
            .client
            .delete_scheduled_action()
            .service_namespace(ServiceNamespace::Sagemaker)
            .scalable_dimension(t.dimension.clone())
            .resource_id(&t.resource_id)
            .scheduled_action_name(name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DeleteScheduledAction", e));
        already_gone_is_done(result, &NOT_FOUND)
    }

    async fn deregister(&self, t: &Target) -> Result<(), AwsError> {
        let result = self
            .client
            .deregister_scalable_target()
            .service_namespace(ServiceNamespace::Sagemaker)
            .scalable_dimension(t.dimension.clone())
            .resource_id(&t.resource_id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DeregisterScalableTarget", e));
        already_gone_is_done(result, &NOT_FOUND)
    }
}

/// The scalable target a write addresses, in the SDK's terms.
struct Target {
    resource_id: String,
    dimension: ScalableDimension,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy_set::{default_async_profile, Profile, TargetTrackingDoc};
    use crate::resource::Scaled;
    use aws_sdk_applicationautoscaling::types::PolicyType;
    use std::cell::Cell;

    /// Every policy type, put and described back through the same
    /// conversions, differs from itself in nothing: what a policy is sent
    /// as is what it is read back as.
    #[test]
    fn every_policy_type_reads_back_as_it_was_put() {
        let subject = Scaled::variant("e", "a");
        let mut profile = default_async_profile();
        profile.target_tracking.push(TargetTrackingDoc {
            name: "cpu".into(),
            metric: "CPUUtilization".into(),
            target_value: Some(50.0),
            target_per_core: None,
            scale_in_cooldown: 600,
            scale_out_cooldown: 30,
            disable_scale_in: true,
        });
        let policies = Profile::desired_policies(&profile, &subject, Some("ml.m5.large")).unwrap();
        let types: Vec<_> = policies.iter().map(|p| p.policy_type()).collect();
        assert_eq!(
            types,
            [
                PolicyType::TargetTrackingScaling,
                PolicyType::TargetTrackingScaling,
                PolicyType::StepScaling
            ]
        );
        for policy in &policies {
            let described = as_described(
                policy,
                &subject.resource_id(),
                Dimension::VariantInstances,
                "arn:aws:autoscaling:policy/x",
            )
            .unwrap();
            assert_eq!(described.policy_type, policy.policy_type());
            assert_eq!(
                policy.differences(&described.policy_type, described.config.as_ref()),
                [],
                "{policy:?} read back as {described:?}"
            );
        }
    }

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
