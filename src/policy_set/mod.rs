//! The standard policy set as one document: what every managed variant
//! gets. Given as JSON in `POLICY_SET` (or `--policy FILE`); without it the
//! simple variables (MIN_CAPACITY, ...) describe the default set. Every
//! field is validated before anything is written, and errors name the
//! field by its path.

pub mod instances;
pub mod schedule;
pub mod tz_links;

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Per target, fixed by Application Auto Scaling.
/// AWS publishes no upper bound for cooldowns; a day is far past any sane
/// value and catches milliseconds typed where seconds were meant.
pub const MAX_COOLDOWN_SECONDS: i32 = 86_400;

pub const MAX_POLICIES_PER_TARGET: usize = 50;
pub const MAX_SCHEDULED_ACTIONS_PER_TARGET: usize = 200;

pub const UTILIZATION_NAMESPACE: &str = "/aws/sagemaker/Endpoints";
/// Custom metrics SageMaker publishes per variant, averaged over instances.
pub const UTILIZATION_METRICS: [&str; 5] = [
    "CPUUtilization",
    "MemoryUtilization",
    "GPUUtilization",
    "GPUMemoryUtilization",
    "DiskUtilization",
];
/// Predefined target-tracking metrics for instance-based variants.
pub const INSTANCE_PREDEFINED_METRICS: [&str; 2] = [
    "SageMakerVariantInvocationsPerInstance",
    "SageMakerVariantConcurrentRequestsPerModelHighResolution",
];

/// Metrics of asynchronous endpoints (namespace `AWS/SageMaker`, dimension
/// `EndpointName` only): they publish no invocations per instance.
pub const ASYNC_METRICS: [&str; 3] = [
    "ApproximateBacklogSizePerInstance",
    "ApproximateBacklogSize",
    "HasBacklogWithoutCapacity",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySet {
    /// Instance-based real-time variants.
    pub instance: Profile,
    /// Variants of asynchronous endpoints (`AsyncInferenceConfig`).
    #[serde(default = "default_async_profile", rename = "async")]
    pub async_inference: Profile,
    /// Serverless variants with provisioned concurrency: capacities are
    /// provisioned concurrency, not instances.
    #[serde(default = "default_serverless_profile")]
    pub serverless: Profile,
    /// Inference components: capacities are copies of the component.
    #[serde(default = "default_component_profile")]
    pub inference_components: Profile,
}

/// The kinds of variant a profile applies to; they differ in the metrics
/// they publish and in whether they may scale to zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Instance,
    Async,
    Serverless,
    Component,
}

impl Kind {
    fn min_floor(self) -> i32 {
        match self {
            Kind::Instance | Kind::Serverless => 1,
            // Asynchronous endpoints and inference components can run at zero.
            Kind::Async | Kind::Component => 0,
        }
    }

    fn below_floor(self, min: i32) -> String {
        match self.min_floor() {
            0 => format!("{min} is below 0"),
            floor => format!(
                "{min} is below {floor}: SageMaker documents no scale to zero for {}",
                self.label()
            ),
        }
    }

    /// The metric of the alarm whose step policy brings capacity back from
    /// zero: the only way back once nothing runs to publish other metrics.
    fn way_back_metric(self) -> Option<&'static str> {
        match self {
            Kind::Instance | Kind::Serverless => None,
            Kind::Async => Some(HAS_BACKLOG_WITHOUT_CAPACITY),
            Kind::Component => Some(NO_CAPACITY_INVOCATION_FAILURES),
        }
    }

    fn target_metrics(self) -> Vec<&'static str> {
        let mut metrics: Vec<&str> = match self {
            Kind::Instance => INSTANCE_PREDEFINED_METRICS.to_vec(),
            Kind::Async => vec!["ApproximateBacklogSizePerInstance"],
            // Serverless variants have no instances to report utilization.
            Kind::Serverless => return vec![PROVISIONED_CONCURRENCY_METRIC],
            Kind::Component => return COMPONENT_METRICS.to_vec(),
        };
        metrics.extend(UTILIZATION_METRICS);
        metrics
    }

    fn label(self) -> &'static str {
        match self {
            Kind::Instance => "instance-based variants",
            Kind::Async => "asynchronous endpoints",
            Kind::Serverless => "serverless variants",
            Kind::Component => "inference components",
        }
    }
}

/// Published (AWS/SageMaker, dimension EndpointName) while an asynchronous
/// endpoint has requests waiting and no instance to take them.
pub const HAS_BACKLOG_WITHOUT_CAPACITY: &str = "HasBacklogWithoutCapacity";
/// Published (AWS/SageMaker, dimension InferenceComponentName) when a request
/// reaches an inference component with no copy to serve it (SageMaker guide,
/// "Scale an endpoint to zero instances").
pub const NO_CAPACITY_INVOCATION_FAILURES: &str = "NoCapacityInvocationFailures";

pub const PROVISIONED_CONCURRENCY_METRIC: &str =
    "SageMakerVariantProvisionedConcurrencyUtilization";

/// Predefined target-tracking metrics for inference components.
pub const COMPONENT_METRICS: [&str; 2] = [
    "SageMakerInferenceComponentInvocationsPerCopy",
    "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution",
];

/// The default for inference components: invocations per copy.
pub fn default_component_profile() -> Profile {
    Profile {
        min_capacity: 1,
        max_capacity: 4,
        target_tracking: vec![TargetTrackingDoc {
            name: "invocations-per-copy".to_string(),
            metric: COMPONENT_METRICS[0].to_string(),
            target_value: Some(70.0),
            target_per_core: None,
            scale_in_cooldown: 300,
            scale_out_cooldown: 60,
            disable_scale_in: false,
        }],
        step_scaling: Vec::new(),
        scheduled_actions: Vec::new(),
    }
}

/// The default for serverless variants with provisioned concurrency: keep
/// the provisioned concurrency 70 % used.
pub fn default_serverless_profile() -> Profile {
    Profile {
        min_capacity: 1,
        max_capacity: 10,
        target_tracking: vec![TargetTrackingDoc {
            name: "provisioned-concurrency".to_string(),
            metric: PROVISIONED_CONCURRENCY_METRIC.to_string(),
            target_value: Some(0.7),
            target_per_core: None,
            scale_in_cooldown: 300,
            scale_out_cooldown: 60,
            disable_scale_in: false,
        }],
        step_scaling: Vec::new(),
        scheduled_actions: Vec::new(),
    }
}

/// The default for asynchronous endpoints: track the backlog per instance,
/// and scale out from zero when a backlog waits with no instance at all.
pub fn default_async_profile() -> Profile {
    Profile {
        min_capacity: 0,
        max_capacity: 4,
        target_tracking: vec![TargetTrackingDoc {
            name: "backlog".to_string(),
            metric: "ApproximateBacklogSizePerInstance".to_string(),
            target_value: Some(5.0),
            target_per_core: None,
            scale_in_cooldown: 300,
            scale_out_cooldown: 60,
            disable_scale_in: false,
        }],
        step_scaling: vec![StepScalingDoc {
            name: "backlog-from-zero".to_string(),
            adjustment_type: "ChangeInCapacity".to_string(),
            cooldown: 150,
            metric_aggregation_type: "Average".to_string(),
            min_adjustment_magnitude: None,
            steps: vec![StepDoc {
                lower: Some(0.0),
                upper: None,
                adjustment: 1,
            }],
            alarm: AlarmDoc {
                namespace: SAGEMAKER_NAMESPACE.to_string(),
                metric: HAS_BACKLOG_WITHOUT_CAPACITY.to_string(),
                statistic: "Average".to_string(),
                period: 60,
                evaluation_periods: 2,
                datapoints_to_alarm: None,
                threshold: 1.0,
                comparison: "GreaterThanOrEqualToThreshold".to_string(),
                treat_missing_data: "missing".to_string(),
            },
        }],
        scheduled_actions: Vec::new(),
    }
}

/// The scaling of one kind of variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub min_capacity: i32,
    pub max_capacity: i32,
    #[serde(default)]
    pub target_tracking: Vec<TargetTrackingDoc>,
    #[serde(default)]
    pub step_scaling: Vec<StepScalingDoc>,
    #[serde(default)]
    pub scheduled_actions: Vec<ScheduledActionDoc>,
}

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
    "Average".to_string()
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

/// The alarm of a step policy, on a metric of the variant (dimensions
/// EndpointName and VariantName).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmDoc {
    /// `AWS/SageMaker` (default) or `/aws/sagemaker/Endpoints`.
    #[serde(default = "default_alarm_namespace")]
    pub namespace: String,
    pub metric: String,
    /// `SampleCount`, `Average`, `Sum`, `Minimum` or `Maximum`.
    pub statistic: String,
    /// Seconds: a multiple of 60 (SageMaker's endpoint metrics are per
    /// minute).
    pub period: i32,
    pub evaluation_periods: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datapoints_to_alarm: Option<i32>,
    pub threshold: f64,
    /// `GreaterThanOrEqualToThreshold`, `GreaterThanThreshold`,
    /// `LessThanThreshold` or `LessThanOrEqualToThreshold`.
    pub comparison: String,
    /// `missing` (default), `notBreaching`, `breaching` or `ignore`.
    #[serde(default = "default_missing_data")]
    pub treat_missing_data: String,
}

fn default_alarm_namespace() -> String {
    SAGEMAKER_NAMESPACE.to_string()
}
fn default_missing_data() -> String {
    "missing".to_string()
}

/// Application Auto Scaling's default quota of step adjustments per step
/// policy (the service model sets no limit; an account may have it raised).
pub const MAX_STEPS: usize = 20;
pub const ADJUSTMENT_TYPES: [&str; 3] = [
    "ChangeInCapacity",
    "PercentChangeInCapacity",
    "ExactCapacity",
];
pub const AGGREGATIONS: [&str; 3] = ["Average", "Minimum", "Maximum"];
pub const STATISTICS: [&str; 5] = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"];
pub const COMPARISONS: [&str; 4] = [
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
];
pub const MISSING_DATA: [&str; 4] = ["missing", "notBreaching", "breaching", "ignore"];
pub const ALARM_NAMESPACES: [&str; 2] = [SAGEMAKER_NAMESPACE, UTILIZATION_NAMESPACE];
pub const SAGEMAKER_NAMESPACE: &str = "AWS/SageMaker";
/// CloudWatch evaluates an alarm over at most seven days (Period x
/// EvaluationPeriods), and over at most one day when the period is under an
/// hour (PutMetricAlarm, `Period`).
pub const MAX_ALARM_WINDOW_SECONDS: i64 = 604_800;
pub const MAX_SHORT_PERIOD_WINDOW_SECONDS: i64 = 86_400;
const SHORT_PERIOD_SECONDS: i32 = 3_600;

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledActionDoc {
    /// Short name; the action is named `autoscaling-guard-<name>`.
    pub name: String,
    /// `cron(...)`, `rate(...)` or `at(...)`.
    pub schedule: String,
    /// IANA time zone of the schedule; UTC when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_capacity: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_capacity: Option<i32>,
}

/// A policy set that cannot be used, naming the field and the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySetError {
    pub path: String,
    pub problem: String,
}

impl fmt::Display for PolicySetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() || self.path == "." {
            write!(f, "invalid policy set: {}", self.problem)
        } else {
            write!(f, "invalid policy set: {}: {}", self.path, self.problem)
        }
    }
}

impl std::error::Error for PolicySetError {}

fn error(path: impl Into<String>, problem: impl Into<String>) -> PolicySetError {
    PolicySetError {
        path: path.into(),
        problem: problem.into(),
    }
}

/// Whether a target can be given per core, and what it is multiplied by.
pub fn per_core_metric(metric: &str) -> bool {
    matches!(metric, "CPUUtilization" | "GPUUtilization")
}

/// A short name must be usable in AWS names and unique among its kind.
fn check_name<'a>(
    at: &str,
    name: &'a str,
    seen: &mut BTreeSet<&'a str>,
) -> Result<(), PolicySetError> {
    if !valid_name(name) {
        return Err(error(
            format!("{at}.name"),
            format!("{name:?}: use 1-64 letters, digits and hyphens"),
        ));
    }
    if !seen.insert(name) {
        return Err(error(
            format!("{at}.name"),
            format!("{name:?} is used twice"),
        ));
    }
    Ok(())
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

impl PolicySet {
    /// Parses and validates a JSON document.
    pub fn from_json(text: &str) -> Result<Self, PolicySetError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let set: PolicySet = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            error(path, e.into_inner().to_string())
        })?;
        set.validate()?;
        Ok(set)
    }

    pub fn validate(&self) -> Result<(), PolicySetError> {
        self.instance.validate("instance", Kind::Instance)?;
        self.async_inference.validate("async", Kind::Async)?;
        self.serverless.validate("serverless", Kind::Serverless)?;
        self.inference_components
            .validate("inference_components", Kind::Component)
    }
}

impl Profile {
    fn validate(&self, at: &str, kind: Kind) -> Result<(), PolicySetError> {
        let min_floor = kind.min_floor();
        if self.min_capacity < min_floor {
            return Err(error(
                format!("{at}.min_capacity"),
                kind.below_floor(self.min_capacity),
            ));
        }
        if self.max_capacity < self.min_capacity.max(1) {
            return Err(error(
                format!("{at}.max_capacity"),
                format!(
                    "{} is below min_capacity ({}) or below 1",
                    self.max_capacity, self.min_capacity
                ),
            ));
        }
        let policies = self.target_tracking.len() + self.step_scaling.len();
        if policies > MAX_POLICIES_PER_TARGET {
            return Err(error(
                format!("{at}.target_tracking"),
                format!(
                    "{policies} policies with step_scaling; Application Auto Scaling allows \
                     {MAX_POLICIES_PER_TARGET} per target"
                ),
            ));
        }
        if self.scheduled_actions.len() > MAX_SCHEDULED_ACTIONS_PER_TARGET {
            return Err(error(
                format!("{at}.scheduled_actions"),
                format!(
                    "{} actions; Application Auto Scaling allows {MAX_SCHEDULED_ACTIONS_PER_TARGET} per target",
                    self.scheduled_actions.len()
                ),
            ));
        }
        // Policies of both kinds share one name space; scheduled actions
        // have their own.
        let mut policy_names = BTreeSet::new();
        for (i, p) in self.target_tracking.iter().enumerate() {
            let at = format!("{at}.target_tracking[{i}]");
            check_name(&at, &p.name, &mut policy_names)?;
            p.validate(&at, kind)?;
        }
        for (i, p) in self.step_scaling.iter().enumerate() {
            let at = format!("{at}.step_scaling[{i}]");
            check_name(&at, &p.name, &mut policy_names)?;
            p.validate(&at)?;
        }
        let mut action_names = BTreeSet::new();
        for (i, s) in self.scheduled_actions.iter().enumerate() {
            let at = format!("{at}.scheduled_actions[{i}]");
            check_name(&at, &s.name, &mut action_names)?;
            s.validate(&at, kind)?;
        }
        self.check_way_back_from_zero(at, kind)
    }

    /// A minimum of 0 (the profile's, or a scheduled action's) leaves
    /// nothing running to publish the metrics other policies follow: only
    /// a step policy on the alarm SageMaker raises when a request finds no
    /// capacity brings it back.
    fn check_way_back_from_zero(&self, at: &str, kind: Kind) -> Result<(), PolicySetError> {
        let Some(metric) = kind.way_back_metric() else {
            // Kinds that cannot reach zero: their minimums are checked
            // against the floor.
            return Ok(());
        };
        let zero = std::iter::once((format!("{at}.min_capacity"), self.min_capacity)).chain(
            self.scheduled_actions
                .iter()
                .enumerate()
                .filter_map(|(i, s)| {
                    s.min_capacity
                        .map(|min| (format!("{at}.scheduled_actions[{i}].min_capacity"), min))
                }),
        );
        for (path, min) in zero {
            if min == 0 && !self.step_scaling.iter().any(|p| p.scales_out_from(metric)) {
                return Err(error(
                    path,
                    format!(
                        "0 leaves {} nothing to scale out from: add to {at}.step_scaling a step \
                         policy on an alarm over {SAGEMAKER_NAMESPACE} {metric} (comparison \
                         GreaterThanThreshold or GreaterThanOrEqualToThreshold) whose step at \
                         the threshold adds capacity (ChangeInCapacity or ExactCapacity, \
                         adjustment 1 or more), or use a minimum of 1",
                        kind.label()
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl TargetTrackingDoc {
    fn validate(&self, at: &str, kind: Kind) -> Result<(), PolicySetError> {
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
}

fn one_of(at: String, value: &str, allowed: &[&str]) -> Result<(), PolicySetError> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(error(
            at,
            format!("{value:?} is not one of {}", allowed.join(", ")),
        ))
    }
}

impl StepScalingDoc {
    /// Whether this policy adds capacity when its alarm over `metric`
    /// fires, starting from zero: a percentage of zero is zero, so only
    /// ChangeInCapacity and ExactCapacity can.
    fn scales_out_from(&self, metric: &str) -> bool {
        let alarm = &self.alarm;
        let fires_on_rise = matches!(
            alarm.comparison.as_str(),
            "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold"
        );
        // The step a breach just above the threshold falls into.
        let at_threshold = self
            .steps
            .iter()
            .find(|s| s.lower.is_none_or(|lo| lo <= 0.0) && s.upper.is_none_or(|hi| hi > 0.0));
        let adds = matches!(
            self.adjustment_type.as_str(),
            "ChangeInCapacity" | "ExactCapacity"
        ) && at_threshold.is_some_and(|s| s.adjustment >= 1);
        alarm.namespace == SAGEMAKER_NAMESPACE && alarm.metric == metric && fires_on_rise && adds
    }

    fn validate(&self, at: &str) -> Result<(), PolicySetError> {
        one_of(
            format!("{at}.adjustment_type"),
            &self.adjustment_type,
            &ADJUSTMENT_TYPES,
        )?;
        one_of(
            format!("{at}.metric_aggregation_type"),
            &self.metric_aggregation_type,
            &AGGREGATIONS,
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
            if self.adjustment_type != "PercentChangeInCapacity" {
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
            if step.adjustment == 0 && self.adjustment_type != "ExactCapacity" {
                return Err(error(format!("{here}.adjustment"), "0 changes nothing"));
            }
            if step.adjustment < 0 && self.adjustment_type == "ExactCapacity" {
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
}

impl AlarmDoc {
    fn validate(&self, at: &str) -> Result<(), PolicySetError> {
        one_of(
            format!("{at}.namespace"),
            &self.namespace,
            &ALARM_NAMESPACES,
        )?;
        if self.metric.is_empty() || self.metric.len() > 255 {
            return Err(error(
                format!("{at}.metric"),
                "give a metric name (1-255 characters)",
            ));
        }
        one_of(format!("{at}.statistic"), &self.statistic, &STATISTICS)?;
        one_of(format!("{at}.comparison"), &self.comparison, &COMPARISONS)?;
        one_of(
            format!("{at}.treat_missing_data"),
            &self.treat_missing_data,
            &MISSING_DATA,
        )?;
        if self.period < 60 || self.period % 60 != 0 {
            return Err(error(
                format!("{at}.period"),
                format!(
                    "{} must be a multiple of 60 seconds: SageMaker publishes its endpoint \
                     metrics once a minute, and a 10, 20 or 30 second period (meant for \
                     high-resolution metrics) leaves the alarm in INSUFFICIENT_DATA",
                    self.period
                ),
            ));
        }
        if self.evaluation_periods < 1 {
            return Err(error(
                format!("{at}.evaluation_periods"),
                format!("{} is below 1", self.evaluation_periods),
            ));
        }
        let window = i64::from(self.period) * i64::from(self.evaluation_periods);
        let (limit, why) = if self.period < SHORT_PERIOD_SECONDS {
            (
                MAX_SHORT_PERIOD_WINDOW_SECONDS,
                "one day when the period is under an hour",
            )
        } else {
            (MAX_ALARM_WINDOW_SECONDS, "seven days")
        };
        if window > limit {
            return Err(error(
                format!("{at}.evaluation_periods"),
                format!(
                    "{} periods of {} s make {window} s; CloudWatch evaluates an alarm over \
                     at most {limit} s ({why})",
                    self.evaluation_periods, self.period
                ),
            ));
        }
        if let Some(d) = self.datapoints_to_alarm {
            if d < 1 || d > self.evaluation_periods {
                return Err(error(
                    format!("{at}.datapoints_to_alarm"),
                    format!(
                        "{d} must be between 1 and evaluation_periods ({})",
                        self.evaluation_periods
                    ),
                ));
            }
        }
        if !self.threshold.is_finite() {
            return Err(error(format!("{at}.threshold"), "must be a finite number"));
        }
        Ok(())
    }
}

impl ScheduledActionDoc {
    fn validate(&self, at: &str, kind: Kind) -> Result<(), PolicySetError> {
        schedule::validate_schedule(&self.schedule)
            .map_err(|p| error(format!("{at}.schedule"), p))?;
        if let Some(tz) = &self.timezone {
            schedule::validate_timezone(tz).map_err(|p| error(format!("{at}.timezone"), p))?;
        }
        match (self.min_capacity, self.max_capacity) {
            (None, None) => Err(error(at, "set min_capacity, max_capacity or both")),
            (Some(min), _) if min < kind.min_floor() => {
                Err(error(format!("{at}.min_capacity"), kind.below_floor(min)))
            }
            (_, Some(max)) if max < 1 => Err(error(
                format!("{at}.max_capacity"),
                format!("{max} is below 1"),
            )),
            (Some(min), Some(max)) if min > max => Err(error(
                format!("{at}.min_capacity"),
                format!("{min} is above max_capacity ({max})"),
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
