//! The one bridge from the desired state reconcile applies to what the
//! simulation runs: every field of `DesiredScaling` the model reads is read
//! here, so a change of the desired-state types touches this file only.

use aws_sdk_applicationautoscaling::types::{AdjustmentType, MetricAggregationType, MetricType};
use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic as AlarmStatistic};
use chrono_tz::Tz;

use super::engine_schedule::unsupported_form;
use super::{SimulateError, VariantParams};
use crate::config::Settings;
use crate::domain::desired::{
    desired_for, DesiredAlarm, DesiredPolicy, DesiredScaling, DesiredStepPolicy,
    DesiredTargetTracking, EndpointIntent, MetricSpec, VariantIntent,
};
use crate::domain::snapshot::{EndpointSnapshot, VariantSnapshot};
use crate::domain::Dimension;
use crate::policy_set::schedule::{parse_schedule, Schedule};
use crate::policy_set::{instances, SAGEMAKER_NAMESPACE, UTILIZATION_NAMESPACE};
use crate::resource::Scaled;

/// The desired scaling the policy set gives one instance-based variant of
/// the given type and count, through the same `desired_for` reconcile uses.
pub fn desired_for_variant(
    settings: &Settings,
    endpoint: &str,
    variant: &str,
    params: &VariantParams,
) -> Result<DesiredScaling, SimulateError> {
    let snapshot = EndpointSnapshot {
        variants: vec![VariantSnapshot {
            name: variant.to_string(),
            instance_type: params.instance_type.clone(),
            current_instance_count: Some(params.start_count),
            desired_instance_count: Some(params.start_count),
            hosts_components: false,
            serverless: None,
        }],
        ..EndpointSnapshot::in_service(endpoint)
    };
    desired_in(&snapshot, variant, settings)
}

/// The desired scaling the policy set gives one variant of an endpoint as
/// observed (its tags apply), through the same `desired_for` reconcile uses.
pub fn desired_in(
    snapshot: &EndpointSnapshot,
    variant: &str,
    settings: &Settings,
) -> Result<DesiredScaling, SimulateError> {
    let endpoint = &snapshot.name;
    let wanted = Scaled::variant(endpoint.as_str(), variant);
    let unusable = |why: String| SimulateError::Unsupported(format!("{endpoint}/{variant}: {why}"));
    let intents = match desired_for(snapshot, settings).map_err(|e| unusable(e.to_string()))? {
        EndpointIntent::Variants(intents) => intents,
        EndpointIntent::Skip(reason) => return Err(unusable(reason.to_string())),
    };
    for intent in intents {
        match intent {
            VariantIntent::Manage(desired) if desired.subject == wanted => return Ok(desired),
            VariantIntent::Skip { subject, reason } if subject == wanted => {
                return Err(unusable(reason.to_string()))
            }
            VariantIntent::Error { subject, message } if subject == wanted => {
                return Err(unusable(message))
            }
            _ => {}
        }
    }
    Err(unusable("no such variant".to_string()))
}

/// What a metric reads from a simulated minute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Signal {
    /// `Invocations`: the minute's invocations.
    Invocations,
    /// `InvocationsPerInstance` / `SageMakerVariantInvocationsPerInstance`.
    PerInstance,
    /// A utilization metric that reads `full` when the instances in service
    /// serve exactly their capacity.
    Utilization { full: f64 },
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Tracking {
    pub name: String,
    pub signal: Signal,
    pub target: f64,
    pub scale_in_cooldown: i64,
    pub disable_scale_in: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Statistic {
    SampleCount,
    Average,
    Sum,
    Minimum,
    Maximum,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Comparison {
    GreaterOrEqual,
    Greater,
    Less,
    LessOrEqual,
}

/// How an alarm treats a minute without data: the policy set's own enum.
pub(super) use crate::policy_set::alarm::TreatMissingData as MissingData;

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Alarm {
    pub signal: Signal,
    pub statistic: Statistic,
    pub period_minutes: i64,
    pub evaluation_periods: usize,
    pub datapoints: usize,
    pub threshold: f64,
    pub comparison: Comparison,
    pub missing: MissingData,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Adjustment {
    Change,
    Percent { min_magnitude: i32 },
    Exact,
}

/// One step of a step policy: the policy set's own.
pub(super) use crate::policy_set::step_scaling::DesiredStep as Step;

#[derive(Debug, Clone, PartialEq)]
pub(super) struct StepPolicy {
    pub name: String,
    pub adjustment: Adjustment,
    pub cooldown: i64,
    /// How the alarm's datapoints in its window become the one value the
    /// steps are compared with.
    pub aggregation: Statistic,
    pub steps: Vec<Step>,
    pub alarm: Alarm,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Scheduled {
    pub name: String,
    pub schedule: Schedule,
    pub zone: Tz,
    pub min: Option<i32>,
    pub max: Option<i32>,
}

/// A variant's scaling in the terms the engine runs.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Model {
    pub min: i32,
    pub max: i32,
    pub tracking: Vec<Tracking>,
    pub steps: Vec<StepPolicy>,
    pub scheduled: Vec<Scheduled>,
}

fn unsupported(why: String) -> SimulateError {
    SimulateError::Unsupported(why)
}

/// Seconds to whole minutes, rounded up: a cooldown blocks every minute it
/// has not fully run.
fn cooldown_minutes(seconds: i32) -> i64 {
    (i64::from(seconds.max(0)) + 59) / 60
}

impl Model {
    pub(super) fn from_desired(
        desired: &DesiredScaling,
        params: &VariantParams,
    ) -> Result<Self, SimulateError> {
        if desired.dimension != Dimension::VariantInstances {
            return Err(unsupported(format!(
                "{} scales {}; only instance counts of variants are simulated",
                desired.label(),
                desired.dimension.as_str()
            )));
        }
        let mut tracking = Vec::new();
        let mut steps = Vec::new();
        for policy in &desired.policies {
            // A policy type added later is refused until it is modelled.
            if let DesiredPolicy::TargetTracking(p) = policy {
                tracking.push(target_tracking(p, params)?);
            } else if let DesiredPolicy::StepScaling(p) = policy {
                steps.push(step_scaling(p, params)?);
            } else {
                return Err(unsupported(format!(
                    "policy {}: {} is not simulated",
                    policy.name(),
                    policy.policy_type()
                )));
            }
        }
        let scheduled = desired
            .scheduled
            .iter()
            .map(|s| {
                let bad = |why: String| unsupported(format!("scheduled action {}: {why}", s.name));
                let zone = s.timezone.as_deref().unwrap_or("UTC");
                let schedule = parse_schedule(&s.schedule).map_err(bad)?;
                if let Some(form) = unsupported_form(&schedule) {
                    return Err(bad(format!(
                        "{form} in {} has no documented meaning",
                        s.schedule
                    )));
                }
                Ok(Scheduled {
                    name: s.name.clone(),
                    schedule,
                    zone: zone
                        .parse()
                        .map_err(|_| bad(format!("unknown time zone {zone}")))?,
                    min: s.min_capacity,
                    max: s.max_capacity,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Model {
            min: desired.min_capacity,
            max: desired.max_capacity,
            tracking,
            steps,
            scheduled,
        })
    }
}

fn target_tracking(
    p: &DesiredTargetTracking,
    params: &VariantParams,
) -> Result<Tracking, SimulateError> {
    let signal = match &p.metric {
        MetricSpec::Predefined {
            metric_type: MetricType::SageMakerVariantInvocationsPerInstance,
        } => Signal::PerInstance,
        MetricSpec::Predefined { metric_type } => {
            return Err(unsupported(format!(
                "policy {} follows {metric_type}, which cannot be derived from invocations",
                p.name
            )))
        }
        MetricSpec::Custom {
            namespace,
            metric_name,
            ..
        } => signal(&p.name, namespace, metric_name, params)?,
    };
    Ok(Tracking {
        name: p.name.clone(),
        signal,
        target: p.target_value,
        scale_in_cooldown: cooldown_minutes(p.scale_in_cooldown),
        disable_scale_in: p.disable_scale_in,
    })
}

fn step_scaling(
    p: &DesiredStepPolicy,
    params: &VariantParams,
) -> Result<StepPolicy, SimulateError> {
    let adjustment = match &p.adjustment_type {
        AdjustmentType::ChangeInCapacity => Adjustment::Change,
        AdjustmentType::PercentChangeInCapacity => Adjustment::Percent {
            min_magnitude: p.min_adjustment_magnitude.unwrap_or(0),
        },
        AdjustmentType::ExactCapacity => Adjustment::Exact,
        other => return Err(unsupported(format!("adjustment type {other}"))),
    };
    Ok(StepPolicy {
        name: p.name.clone(),
        adjustment,
        cooldown: cooldown_minutes(p.cooldown),
        aggregation: aggregation(&p.metric_aggregation_type)?,
        steps: p.steps.clone(),
        alarm: alarm(&p.name, &p.alarm, params)?,
    })
}

fn signal(
    policy: &str,
    namespace: &str,
    metric: &str,
    params: &VariantParams,
) -> Result<Signal, SimulateError> {
    let cores = |count: fn(instances::InstanceShape) -> u32| {
        let instance_type = params.instance_type.as_deref().ok_or_else(|| {
            unsupported(format!(
                "policy {policy} follows {metric}: the instance type is needed to know its full scale"
            ))
        })?;
        let shape = instances::shape(instance_type)
            .ok_or_else(|| unsupported(format!("{instance_type} has no known vCPU/GPU count")))?;
        match count(shape) {
            0 => Err(unsupported(format!("{instance_type} has no GPUs"))),
            n => Ok(Signal::Utilization {
                full: 100.0 * f64::from(n),
            }),
        }
    };
    match (namespace, metric) {
        (SAGEMAKER_NAMESPACE, "Invocations") => Ok(Signal::Invocations),
        (SAGEMAKER_NAMESPACE, "InvocationsPerInstance") => Ok(Signal::PerInstance),
        (UTILIZATION_NAMESPACE, "CPUUtilization") => cores(|s| s.vcpus),
        (UTILIZATION_NAMESPACE, "GPUUtilization") => cores(|s| s.gpus),
        _ => Err(unsupported(format!(
            "policy {policy} follows {namespace} {metric}, which cannot be derived from invocations"
        ))),
    }
}

fn aggregation(aggregation: &MetricAggregationType) -> Result<Statistic, SimulateError> {
    Ok(match aggregation {
        MetricAggregationType::Average => Statistic::Average,
        MetricAggregationType::Minimum => Statistic::Minimum,
        MetricAggregationType::Maximum => Statistic::Maximum,
        other => return Err(unsupported(format!("metric aggregation type {other}"))),
    })
}

fn statistic(statistic: &AlarmStatistic) -> Result<Statistic, SimulateError> {
    Ok(match statistic {
        AlarmStatistic::SampleCount => Statistic::SampleCount,
        AlarmStatistic::Average => Statistic::Average,
        AlarmStatistic::Sum => Statistic::Sum,
        AlarmStatistic::Minimum => Statistic::Minimum,
        AlarmStatistic::Maximum => Statistic::Maximum,
        other => return Err(unsupported(format!("statistic {other}"))),
    })
}

fn alarm(policy: &str, a: &DesiredAlarm, params: &VariantParams) -> Result<Alarm, SimulateError> {
    let comparison = match &a.comparison {
        ComparisonOperator::GreaterThanOrEqualToThreshold => Comparison::GreaterOrEqual,
        ComparisonOperator::GreaterThanThreshold => Comparison::Greater,
        ComparisonOperator::LessThanThreshold => Comparison::Less,
        ComparisonOperator::LessThanOrEqualToThreshold => Comparison::LessOrEqual,
        other => return Err(unsupported(format!("alarm comparison {other}"))),
    };
    let evaluation_periods = usize::try_from(a.evaluation_periods.max(1)).unwrap_or(1);
    Ok(Alarm {
        signal: signal(policy, &a.namespace, &a.metric_name, params)?,
        statistic: statistic(&a.statistic)?,
        period_minutes: i64::from(a.period.max(60) / 60),
        evaluation_periods,
        datapoints: a
            .datapoints_to_alarm
            .and_then(|d| usize::try_from(d).ok())
            .unwrap_or(evaluation_periods),
        threshold: a.threshold,
        comparison,
        missing: a.treat_missing_data,
    })
}
