//! The target-tracking policy type, whole: as the policy set spells it, as
//! desired for one unit, as observed, how the two differ, and how it goes to
//! and comes back from Application Auto Scaling.

use aws_sdk_applicationautoscaling::operation::put_scaling_policy::builders::PutScalingPolicyInputBuilder;
use aws_sdk_applicationautoscaling::types::{
    CustomizedMetricSpecification, MetricDimension, MetricStatistic, MetricType, PolicyType,
    PredefinedMetricSpecification, ScalingPolicy as AwsPolicy,
    TargetTrackingScalingPolicyConfiguration,
};
use aws_smithy_types::error::operation::BuildError;
use serde::{Deserialize, Serialize};

use super::{
    aws_name, error, instances, owner_dimensions, Kind, PolicyKind, PolicySetError, ASYNC_METRICS,
    MAX_COOLDOWN_SECONDS, SAGEMAKER_NAMESPACE, UTILIZATION_METRICS, UTILIZATION_NAMESPACE,
};
use crate::difference::{same_value, Difference, Differences, Subject};
use crate::resource::{owned_name, Scaled};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetTrackingDoc {
    /// Short name; the policy is named `autoscaling-guard-<name>`.
    pub name: String,
    /// A predefined SageMaker metric or a utilization metric.
    pub metric: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_value: Option<f64>,
    /// For CPUUtilization and GPUUtilization: the target per vCPU or per
    /// GPU, multiplied by the instance type's count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_per_core: Option<f64>,
    #[serde(default = "default_scale_in")]
    pub scale_in_cooldown: i32,
    #[serde(default = "default_scale_out")]
    pub scale_out_cooldown: i32,
    #[serde(default)]
    pub disable_scale_in: bool,
}

fn default_scale_in() -> i32 {
    300
}
fn default_scale_out() -> i32 {
    60
}

/// Whether a target can be given per core, and what it is multiplied by.
pub fn per_core_metric(metric: &str) -> bool {
    matches!(metric, "CPUUtilization" | "GPUUtilization")
}

impl TargetTrackingDoc {
    pub(super) fn validate(&self, at: &str, kind: Kind) -> Result<(), PolicySetError> {
        let allowed = kind.target_metrics();
        if !allowed.contains(&self.metric.as_str()) {
            return Err(error(
                format!("{at}.metric"),
                format!(
                    "{:?} is not a metric for {}; use one of {}",
                    self.metric,
                    kind.label(),
                    allowed.join(", ")
                ),
            ));
        }
        match (self.target_value, self.target_per_core) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(error(
                    at,
                    "give exactly one of target_value and target_per_core",
                ))
            }
            (None, Some(_)) if !per_core_metric(&self.metric) => {
                return Err(error(
                    format!("{at}.target_per_core"),
                    format!(
                        "only CPUUtilization and GPUUtilization are summed per core, not {}",
                        self.metric
                    ),
                ))
            }
            (Some(v), None) | (None, Some(v)) => {
                let field = if self.target_value.is_some() {
                    "target_value"
                } else {
                    "target_per_core"
                };
                if !v.is_finite() || v <= 0.0 {
                    return Err(error(
                        format!("{at}.{field}"),
                        format!("{v} must be greater than 0"),
                    ));
                }
            }
        }
        for (field, v) in [
            ("scale_in_cooldown", self.scale_in_cooldown),
            ("scale_out_cooldown", self.scale_out_cooldown),
        ] {
            if !(0..=MAX_COOLDOWN_SECONDS).contains(&v) {
                return Err(error(
                    format!("{at}.{field}"),
                    format!("{v} is outside 0-{MAX_COOLDOWN_SECONDS} seconds"),
                ));
            }
        }
        Ok(())
    }

    /// This policy for one unit.
    pub(super) fn desired(
        &self,
        subject: &Scaled,
        instance_type: Option<&str>,
    ) -> Result<DesiredTargetTracking, String> {
        let target_value = match (self.target_value, self.target_per_core) {
            (Some(v), _) => v,
            (None, Some(per_core)) => {
                self.per_core_target(per_core, instance_type.unwrap_or("(none)"))?
            }
            (None, None) => unreachable!("the policy set validates one target"),
        };
        Ok(DesiredTargetTracking {
            name: owned_name(&self.name),
            metric: owner_metric(subject, &self.metric),
            target_value,
            scale_in_cooldown: self.scale_in_cooldown,
            scale_out_cooldown: self.scale_out_cooldown,
            disable_scale_in: self.disable_scale_in,
        })
    }

    /// A target given per core, as the summed value the metric reports.
    fn per_core_target(&self, per_core: f64, instance_type: &str) -> Result<f64, String> {
        let shape = instances::shape(instance_type).ok_or_else(|| {
            format!(
                "policy {}: {} has no known vCPU/GPU count, so target_per_core cannot be applied; \
                 give target_value instead",
                self.name, instance_type
            )
        })?;
        let cores = if self.metric == "GPUUtilization" {
            shape.gpus
        } else {
            shape.vcpus
        };
        if cores == 0 {
            return Err(format!(
                "policy {}: {instance_type} has no GPUs to measure",
                self.name
            ));
        }
        Ok(per_core * f64::from(cores))
    }
}

/// The metric a target-tracking policy follows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MetricSpec {
    Predefined {
        #[serde(serialize_with = "aws_name::serialize")]
        metric_type: MetricType,
    },
    /// A CloudWatch metric of the variant, averaged over its instances.
    Custom {
        namespace: String,
        metric_name: String,
        /// Sorted by name.
        dimensions: Vec<(String, String)>,
        #[serde(serialize_with = "aws_name::serialize")]
        statistic: MetricStatistic,
    },
}

impl MetricSpec {
    /// How differences show it: the metric type, or `namespace/name`.
    fn shown(metric: Option<&MetricSpec>) -> String {
        match metric {
            Some(MetricSpec::Predefined { metric_type }) => metric_type.as_str().to_string(),
            Some(MetricSpec::Custom {
                namespace,
                metric_name,
                ..
            }) => format!("{namespace}/{metric_name}"),
            None => "other".to_string(),
        }
    }
}

/// The metric a unit's policy follows: component metrics are all
/// predefined; a variant's are predefined, or published per endpoint
/// (asynchronous backlog) or per variant (utilization).
fn owner_metric(subject: &Scaled, metric: &str) -> MetricSpec {
    let custom = |namespace: &str| MetricSpec::Custom {
        namespace: namespace.to_string(),
        metric_name: metric.to_string(),
        dimensions: owner_dimensions(subject, metric),
        statistic: MetricStatistic::Average,
    };
    match subject {
        Scaled::Variant { .. } if ASYNC_METRICS.contains(&metric) => custom(SAGEMAKER_NAMESPACE),
        Scaled::Variant { .. } if UTILIZATION_METRICS.contains(&metric) => {
            custom(UTILIZATION_NAMESPACE)
        }
        _ => MetricSpec::Predefined {
            metric_type: MetricType::from(metric),
        },
    }
}

/// The desired target-tracking policy of a unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesiredTargetTracking {
    pub name: String,
    pub metric: MetricSpec,
    pub target_value: f64,
    pub scale_in_cooldown: i32,
    pub scale_out_cooldown: i32,
    pub disable_scale_in: bool,
}

/// A target-tracking configuration as observed.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedTargetTracking {
    pub target_value: f64,
    /// `None`: a form this tool never writes (metric math, ...).
    pub metric: Option<MetricSpec>,
    pub scale_in_cooldown: Option<i32>,
    pub scale_out_cooldown: Option<i32>,
    pub disable_scale_in: bool,
}

impl PolicyKind for DesiredTargetTracking {
    const POLICY_TYPE: PolicyType = PolicyType::TargetTrackingScaling;
    const PUT_ACTION: &'static str = "put_target_tracking_policy";
    const LABEL: &'static str = "target tracking";
    type Observed = ObservedTargetTracking;

    fn name(&self) -> &str {
        &self.name
    }

    fn differences(&self, have: &ObservedTargetTracking) -> Vec<Difference> {
        let mut d = Differences::of(Subject::Policy(self.name.clone()));
        d.field(
            "metric",
            have.metric.as_ref() == Some(&self.metric),
            MetricSpec::shown(have.metric.as_ref()),
            MetricSpec::shown(Some(&self.metric)),
        );
        d.field(
            "target_value",
            same_value(have.target_value, self.target_value),
            have.target_value,
            self.target_value,
        );
        d.field(
            "scale_in_cooldown",
            have.scale_in_cooldown == Some(self.scale_in_cooldown),
            have.scale_in_cooldown,
            self.scale_in_cooldown,
        );
        d.field(
            "scale_out_cooldown",
            have.scale_out_cooldown == Some(self.scale_out_cooldown),
            have.scale_out_cooldown,
            self.scale_out_cooldown,
        );
        d.field(
            "disable_scale_in",
            have.disable_scale_in == self.disable_scale_in,
            have.disable_scale_in,
            self.disable_scale_in,
        );
        d.done()
    }

    fn configure(
        &self,
        input: PutScalingPolicyInputBuilder,
    ) -> Result<PutScalingPolicyInputBuilder, BuildError> {
        let config = TargetTrackingScalingPolicyConfiguration::builder()
            .target_value(self.target_value)
            .scale_in_cooldown(self.scale_in_cooldown)
            .scale_out_cooldown(self.scale_out_cooldown)
            .disable_scale_in(self.disable_scale_in);
        let config = match &self.metric {
            MetricSpec::Predefined { metric_type } => config.predefined_metric_specification(
                PredefinedMetricSpecification::builder()
                    .predefined_metric_type(metric_type.clone())
                    .build()?,
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
                    .statistic(statistic.clone());
                for (name, value) in dimensions {
                    spec = spec
                        .dimensions(MetricDimension::builder().name(name).value(value).build()?);
                }
                config.customized_metric_specification(spec.build())
            }
        };
        Ok(input
            .policy_type(Self::POLICY_TYPE)
            .target_tracking_scaling_policy_configuration(config.build()?))
    }

    fn observe(policy: &AwsPolicy) -> Option<ObservedTargetTracking> {
        let c = policy.target_tracking_scaling_policy_configuration()?;
        Some(ObservedTargetTracking {
            target_value: c.target_value(),
            metric: observed_metric(c),
            scale_in_cooldown: c.scale_in_cooldown(),
            scale_out_cooldown: c.scale_out_cooldown(),
            disable_scale_in: c.disable_scale_in().unwrap_or(false),
        })
    }
}

fn observed_metric(c: &TargetTrackingScalingPolicyConfiguration) -> Option<MetricSpec> {
    if let Some(m) = c.predefined_metric_specification() {
        return Some(MetricSpec::Predefined {
            metric_type: m.predefined_metric_type().clone(),
        });
    }
    let m = c
        .customized_metric_specification()
        .filter(|m| m.metrics().is_empty())?;
    let mut dimensions: Vec<(String, String)> = m
        .dimensions()
        .iter()
        .map(|d| (d.name().to_string(), d.value().to_string()))
        .collect();
    dimensions.sort();
    Some(MetricSpec::Custom {
        namespace: m.namespace()?.to_string(),
        metric_name: m.metric_name()?.to_string(),
        dimensions,
        statistic: m.statistic()?.clone(),
    })
}
