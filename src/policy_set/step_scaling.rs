//! The step-scaling policy type, whole: as the policy set spells it (with
//! the alarm that drives it), as desired for one unit, as observed, how the
//! two differ, and how it goes to and comes back from Application Auto
//! Scaling.

use aws_sdk_applicationautoscaling::operation::put_scaling_policy::builders::PutScalingPolicyInputBuilder;
use aws_sdk_applicationautoscaling::types::{
    AdjustmentType, MetricAggregationType, PolicyType, ScalingPolicy as AwsPolicy, StepAdjustment,
    StepScalingPolicyConfiguration,
};
use aws_smithy_types::error::operation::BuildError;
use serde::{Deserialize, Serialize};

use super::alarm::{AlarmDoc, DesiredAlarm};
use super::{
    aws_name, error, one_of, PolicyKind, PolicySetError, MAX_COOLDOWN_SECONDS, SAGEMAKER_NAMESPACE,
};
use crate::difference::{same_bound, Difference, Differences, Subject};
use crate::resource::{owned_name, Scaled};

/// A step-scaling policy and the CloudWatch alarm that drives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepScalingDoc {
    /// Short name; the policy is named `autoscaling-guard-<name>`.
    pub name: String,
    /// `ChangeInCapacity`, `PercentChangeInCapacity` or `ExactCapacity`.
    pub adjustment_type: String,
    /// Seconds after a scaling activity before the policy acts again.
    #[serde(default = "default_step_cooldown")]
    pub cooldown: i32,
    /// `Average`, `Minimum` or `Maximum`.
    #[serde(default = "default_aggregation")]
    pub metric_aggregation_type: String,
    /// Only with `PercentChangeInCapacity`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_adjustment_magnitude: Option<i32>,
    pub steps: Vec<StepDoc>,
    pub alarm: AlarmDoc,
}

fn default_step_cooldown() -> i32 {
    60
}
fn default_aggregation() -> String {
    MetricAggregationType::Average.as_str().to_string()
}

/// One step: bounds relative to the alarm threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepDoc {
    /// Absent means minus infinity (first step only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lower: Option<f64>,
    /// Absent means infinity (last step only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upper: Option<f64>,
    pub adjustment: i32,
}

/// Application Auto Scaling's default quota of step adjustments per step
/// policy (the service model sets no limit; an account may have it raised).
pub const MAX_STEPS: usize = 20;
pub const ADJUSTMENT_TYPES: &[&str] = AdjustmentType::values();
pub const AGGREGATIONS: &[&str] = MetricAggregationType::values();

impl StepScalingDoc {
    /// Whether this policy adds capacity when its alarm over `metric`
    /// fires, starting from zero: a percentage of zero is zero, so only
    /// ChangeInCapacity and ExactCapacity can.
    pub(super) fn scales_out_from(&self, metric: &str) -> bool {
        let alarm = &self.alarm;
        // The step a breach just above the threshold falls into.
        let at_threshold = self
            .steps
            .iter()
            .find(|s| s.lower.is_none_or(|lo| lo <= 0.0) && s.upper.is_none_or(|hi| hi > 0.0));
        let adds = matches!(
            AdjustmentType::from(self.adjustment_type.as_str()),
            AdjustmentType::ChangeInCapacity | AdjustmentType::ExactCapacity
        ) && at_threshold.is_some_and(|s| s.adjustment >= 1);
        alarm.namespace == SAGEMAKER_NAMESPACE
            && alarm.metric == metric
            && alarm.fires_on_rise()
            && adds
    }

    pub(super) fn validate(&self, at: &str) -> Result<(), PolicySetError> {
        one_of(
            format!("{at}.adjustment_type"),
            &self.adjustment_type,
            ADJUSTMENT_TYPES,
        )?;
        one_of(
            format!("{at}.metric_aggregation_type"),
            &self.metric_aggregation_type,
            AGGREGATIONS,
        )?;
        if !(0..=MAX_COOLDOWN_SECONDS).contains(&self.cooldown) {
            return Err(error(
                format!("{at}.cooldown"),
                format!(
                    "{} is outside 0-{MAX_COOLDOWN_SECONDS} seconds",
                    self.cooldown
                ),
            ));
        }
        if let Some(m) = self.min_adjustment_magnitude {
            if self.adjustment_type != AdjustmentType::PercentChangeInCapacity.as_str() {
                return Err(error(
                    format!("{at}.min_adjustment_magnitude"),
                    "only applies to PercentChangeInCapacity",
                ));
            }
            if m < 1 {
                return Err(error(
                    format!("{at}.min_adjustment_magnitude"),
                    format!("{m} is below 1"),
                ));
            }
        }
        if self.steps.is_empty() || self.steps.len() > MAX_STEPS {
            return Err(error(
                format!("{at}.steps"),
                format!("{} steps; give 1 to {MAX_STEPS}", self.steps.len()),
            ));
        }
        // Steps are listed from the lowest interval to the highest, each
        // starting where the previous one ends (PutScalingPolicy allows no
        // gap and no overlap).
        let last = self.steps.len() - 1;
        for (i, step) in self.steps.iter().enumerate() {
            let here = format!("{at}.steps[{i}]");
            if step.lower.is_none() && step.upper.is_none() {
                return Err(error(
                    here,
                    "lower and upper are both absent; PutScalingPolicy needs at least one \
                     bound on every step",
                ));
            }
            if step.lower.is_none() && i != 0 {
                return Err(error(
                    format!("{here}.lower"),
                    "only the first step may leave lower open (minus infinity)",
                ));
            }
            if step.upper.is_none() && i != last {
                return Err(error(
                    format!("{here}.upper"),
                    "only the last step may leave upper open (infinity)",
                ));
            }
            if let (Some(lo), Some(hi)) = (step.lower, step.upper) {
                if lo >= hi {
                    return Err(error(
                        here.clone(),
                        format!("lower {lo} must be below upper {hi}"),
                    ));
                }
            }
            if step.adjustment == 0
                && self.adjustment_type != AdjustmentType::ExactCapacity.as_str()
            {
                return Err(error(format!("{here}.adjustment"), "0 changes nothing"));
            }
            if step.adjustment < 0 && self.adjustment_type == AdjustmentType::ExactCapacity.as_str()
            {
                return Err(error(
                    format!("{here}.adjustment"),
                    format!(
                        "{}: an ExactCapacity adjustment is a capacity, 0 or more",
                        step.adjustment
                    ),
                ));
            }
            if i < last {
                let next = &self.steps[i + 1];
                match (step.upper, next.lower) {
                    (Some(hi), Some(lo)) if hi < lo => {
                        return Err(error(
                            format!("{at}.steps[{}].lower", i + 1),
                            format!("{lo} leaves a gap after the previous step's upper {hi}"),
                        ))
                    }
                    (Some(hi), Some(lo)) if hi > lo => {
                        return Err(error(
                            format!("{at}.steps[{}].lower", i + 1),
                            format!("{lo} overlaps the previous step, which ends at {hi}"),
                        ))
                    }
                    _ => {}
                }
            }
        }
        // With the steps in order, a positive upper bound anywhere means the
        // last one is positive, and an open upper bound can only be last
        // (and likewise for negative lower bounds and the first step).
        if let Some(hi) = self.steps[last].upper.filter(|hi| *hi > 0.0) {
            return Err(error(
                format!("{at}.steps[{last}].upper"),
                format!(
                    "{hi} is a positive upper bound, so PutScalingPolicy needs a step with no \
                     upper bound: leave upper out on the last step (infinity)"
                ),
            ));
        }
        if let Some(lo) = self.steps[0].lower.filter(|lo| *lo < 0.0) {
            return Err(error(
                format!("{at}.steps[0].lower"),
                format!(
                    "{lo} is a negative lower bound, so PutScalingPolicy needs a step with no \
                     lower bound: leave lower out on the first step (minus infinity)"
                ),
            ));
        }
        self.alarm.validate(&format!("{at}.alarm"))
    }

    /// This policy for one unit, with its alarm.
    pub(super) fn desired(&self, subject: &Scaled) -> DesiredStepPolicy {
        DesiredStepPolicy {
            name: owned_name(&self.name),
            adjustment_type: AdjustmentType::from(self.adjustment_type.as_str()),
            cooldown: self.cooldown,
            metric_aggregation_type: MetricAggregationType::from(
                self.metric_aggregation_type.as_str(),
            ),
            min_adjustment_magnitude: self.min_adjustment_magnitude,
            steps: self
                .steps
                .iter()
                .map(|s| DesiredStep {
                    lower: s.lower,
                    upper: s.upper,
                    adjustment: s.adjustment,
                })
                .collect(),
            alarm: self.alarm.desired(subject, &self.name),
        }
    }
}

/// One step of a step policy, relative to the alarm threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesiredStep {
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub adjustment: i32,
}

/// A desired step-scaling policy with its alarm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesiredStepPolicy {
    pub name: String,
    #[serde(serialize_with = "aws_name::serialize")]
    pub adjustment_type: AdjustmentType,
    pub cooldown: i32,
    #[serde(serialize_with = "aws_name::serialize")]
    pub metric_aggregation_type: MetricAggregationType,
    pub min_adjustment_magnitude: Option<i32>,
    pub steps: Vec<DesiredStep>,
    pub alarm: DesiredAlarm,
}

/// A step-scaling configuration as observed.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedStepScaling {
    pub adjustment_type: Option<AdjustmentType>,
    pub cooldown: Option<i32>,
    pub metric_aggregation_type: Option<MetricAggregationType>,
    pub min_adjustment_magnitude: Option<i32>,
    /// (lower, upper, adjustment), in the order AWS returns them.
    pub steps: Vec<(Option<f64>, Option<f64>, i32)>,
}

impl PolicyKind for DesiredStepPolicy {
    const POLICY_TYPE: PolicyType = PolicyType::StepScaling;
    const PUT_ACTION: &'static str = "put_step_policy";
    const LABEL: &'static str = "step scaling";
    type Observed = ObservedStepScaling;

    fn name(&self) -> &str {
        &self.name
    }

    fn alarm(&self) -> Option<&DesiredAlarm> {
        Some(&self.alarm)
    }

    fn differences(&self, have: &ObservedStepScaling) -> Vec<Difference> {
        let mut d = Differences::of(Subject::Policy(self.name.clone()));
        d.text(
            "adjustment_type",
            have.adjustment_type.as_ref().map(AdjustmentType::as_str),
            self.adjustment_type.as_str(),
        );
        d.field(
            "cooldown",
            have.cooldown == Some(self.cooldown),
            have.cooldown,
            self.cooldown,
        );
        d.text(
            "metric_aggregation_type",
            have.metric_aggregation_type
                .as_ref()
                .map(MetricAggregationType::as_str),
            self.metric_aggregation_type.as_str(),
        );
        d.field(
            "min_adjustment_magnitude",
            have.min_adjustment_magnitude == self.min_adjustment_magnitude,
            have.min_adjustment_magnitude,
            self.min_adjustment_magnitude,
        );
        let same_steps = have.steps.len() == self.steps.len()
            && have.steps.iter().zip(&self.steps).all(|(a, w)| {
                same_bound(a.0, w.lower) && same_bound(a.1, w.upper) && a.2 == w.adjustment
            });
        d.field(
            "steps",
            same_steps,
            &have.steps,
            self.steps
                .iter()
                .map(|s| (s.lower, s.upper, s.adjustment))
                .collect::<Vec<_>>(),
        );
        d.done()
    }

    fn configure(
        &self,
        input: PutScalingPolicyInputBuilder,
    ) -> Result<PutScalingPolicyInputBuilder, BuildError> {
        let mut config = StepScalingPolicyConfiguration::builder()
            .adjustment_type(self.adjustment_type.clone())
            .cooldown(self.cooldown)
            .metric_aggregation_type(self.metric_aggregation_type.clone())
            .set_min_adjustment_magnitude(self.min_adjustment_magnitude);
        for s in &self.steps {
            config = config.step_adjustments(
                StepAdjustment::builder()
                    .set_metric_interval_lower_bound(s.lower)
                    .set_metric_interval_upper_bound(s.upper)
                    .scaling_adjustment(s.adjustment)
                    .build()?,
            );
        }
        Ok(input
            .policy_type(Self::POLICY_TYPE)
            .step_scaling_policy_configuration(config.build()))
    }

    fn observe(policy: &AwsPolicy) -> Option<ObservedStepScaling> {
        let c = policy.step_scaling_policy_configuration()?;
        Some(ObservedStepScaling {
            adjustment_type: c.adjustment_type().cloned(),
            cooldown: c.cooldown(),
            metric_aggregation_type: c.metric_aggregation_type().cloned(),
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
        })
    }
}
