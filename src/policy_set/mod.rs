//! The standard policy set as one document: what every managed variant
//! gets. Given as JSON in `POLICY_SET` (or `--policy FILE`); without it the
//! simple variables (MIN_CAPACITY, ...) describe the default set. Every
//! field is validated before anything is written, and errors name the
//! field by its path.

pub mod alarm;
pub mod instances;
pub mod schedule;
pub mod step_scaling;
pub mod target_tracking;
pub mod tz_links;

use std::collections::BTreeSet;
use std::fmt;

use aws_sdk_applicationautoscaling::operation::put_scaling_policy::builders::PutScalingPolicyInputBuilder;
use aws_sdk_applicationautoscaling::types::{PolicyType, ScalingPolicy as AwsPolicy};
use aws_smithy_types::error::operation::BuildError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::difference::{Difference, Subject};
use crate::resource::Scaled;
pub use alarm::{AlarmDoc, DesiredAlarm};
pub use step_scaling::{DesiredStepPolicy, ObservedStepScaling, StepDoc, StepScalingDoc};
pub use target_tracking::{
    per_core_metric, DesiredTargetTracking, MetricSpec, ObservedTargetTracking, TargetTrackingDoc,
};

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

/// Where the SageMaker metrics of endpoints are published.
pub const SAGEMAKER_NAMESPACE: &str = "AWS/SageMaker";

/// The backlog per instance of an asynchronous endpoint: what its
/// target-tracking policy follows.
pub const BACKLOG_PER_INSTANCE: &str = "ApproximateBacklogSizePerInstance";

/// Metrics of asynchronous endpoints (namespace `AWS/SageMaker`, dimension
/// `EndpointName` only): they publish no invocations per instance.
pub const ASYNC_METRICS: [&str; 3] = [
    BACKLOG_PER_INSTANCE,
    "ApproximateBacklogSize",
    HAS_BACKLOG_WITHOUT_CAPACITY,
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
            Kind::Async => vec![BACKLOG_PER_INSTANCE],
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
        target_tracking: vec![TargetTrackingDoc {
            name: "invocations-per-copy".to_string(),
            metric: COMPONENT_METRICS[0].to_string(),
            target_value: Some(70.0),
            target_per_core: None,
            scale_in_cooldown: 300,
            scale_out_cooldown: 60,
            disable_scale_in: false,
        }],
        ..Profile::new(1, 4)
    }
}

/// The default for serverless variants with provisioned concurrency: keep
/// the provisioned concurrency 70 % used.
pub fn default_serverless_profile() -> Profile {
    Profile {
        target_tracking: vec![TargetTrackingDoc {
            name: "provisioned-concurrency".to_string(),
            metric: PROVISIONED_CONCURRENCY_METRIC.to_string(),
            target_value: Some(0.7),
            target_per_core: None,
            scale_in_cooldown: 300,
            scale_out_cooldown: 60,
            disable_scale_in: false,
        }],
        ..Profile::new(1, 10)
    }
}

/// The default for asynchronous endpoints: track the backlog per instance,
/// and scale out from zero when a backlog waits with no instance at all.
pub fn default_async_profile() -> Profile {
    Profile {
        target_tracking: vec![TargetTrackingDoc {
            name: "backlog".to_string(),
            metric: BACKLOG_PER_INSTANCE.to_string(),
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
        ..Profile::new(0, 4)
    }
}

/// What one policy type provides, in its own module: everything else reaches
/// a type only through `DesiredPolicy` and `ObservedConfig` below. To add a
/// type: write its module (its document with `validate`, its desired form
/// with `desired`, its observed form, this trait), give `Profile` its list,
/// and add it to the two enums and their matches here.
pub trait PolicyKind {
    /// Application Auto Scaling's name for the type.
    const POLICY_TYPE: PolicyType;
    /// The action a put of this type is reported as.
    const PUT_ACTION: &'static str;
    /// How a difference names a missing configuration of this type.
    const LABEL: &'static str;
    /// The configuration as observed.
    type Observed;
    fn name(&self) -> &str;
    /// The alarm this tool keeps for the policy, if the type has one.
    fn alarm(&self) -> Option<&DesiredAlarm> {
        None
    }
    /// How what is observed differs from this policy (nothing: as wanted).
    fn differences(&self, have: &Self::Observed) -> Vec<Difference>;
    /// Sets the type and configuration of a PutScalingPolicy request.
    fn configure(
        &self,
        input: PutScalingPolicyInputBuilder,
    ) -> Result<PutScalingPolicyInputBuilder, BuildError>;
    /// The configuration of a described policy, when it has this type's.
    fn observe(policy: &AwsPolicy) -> Option<Self::Observed>;
}

/// A policy this tool puts, by type. It serializes as the type's fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum DesiredPolicy {
    TargetTracking(DesiredTargetTracking),
    StepScaling(DesiredStepPolicy),
}

/// An observed policy's configuration, by type.
#[derive(Debug, Clone, PartialEq)]
pub enum ObservedConfig {
    TargetTracking(ObservedTargetTracking),
    StepScaling(ObservedStepScaling),
}

/// The differences of one type's policy from what is observed under its
/// name: another type, or this type without its configuration, differs as
/// a whole.
fn differences_as<K: PolicyKind>(
    want: &K,
    policy_type: &PolicyType,
    have: Option<&K::Observed>,
) -> Vec<Difference> {
    let subject = Subject::Policy(want.name().to_string());
    if *policy_type != K::POLICY_TYPE {
        return vec![Difference::new(
            &subject,
            "policy_type",
            json!(policy_type.as_str()),
            json!(K::POLICY_TYPE.as_str()),
        )];
    }
    match have {
        Some(have) => want.differences(have),
        None => vec![Difference::new(
            &subject,
            "configuration",
            Value::Null,
            json!(K::LABEL),
        )],
    }
}

impl DesiredPolicy {
    pub fn name(&self) -> &str {
        match self {
            DesiredPolicy::TargetTracking(p) => p.name(),
            DesiredPolicy::StepScaling(p) => p.name(),
        }
    }

    pub fn policy_type(&self) -> PolicyType {
        match self {
            DesiredPolicy::TargetTracking(_) => DesiredTargetTracking::POLICY_TYPE,
            DesiredPolicy::StepScaling(_) => DesiredStepPolicy::POLICY_TYPE,
        }
    }

    pub fn put_action(&self) -> &'static str {
        match self {
            DesiredPolicy::TargetTracking(_) => DesiredTargetTracking::PUT_ACTION,
            DesiredPolicy::StepScaling(_) => DesiredStepPolicy::PUT_ACTION,
        }
    }

    pub fn alarm(&self) -> Option<&DesiredAlarm> {
        match self {
            DesiredPolicy::TargetTracking(p) => p.alarm(),
            DesiredPolicy::StepScaling(p) => p.alarm(),
        }
    }

    /// How a policy observed with `policy_type` and `config` differs.
    pub fn differences(
        &self,
        policy_type: &PolicyType,
        config: Option<&ObservedConfig>,
    ) -> Vec<Difference> {
        match (self, config) {
            (DesiredPolicy::TargetTracking(w), Some(ObservedConfig::TargetTracking(h))) => {
                differences_as(w, policy_type, Some(h))
            }
            (DesiredPolicy::TargetTracking(w), _) => differences_as(w, policy_type, None),
            (DesiredPolicy::StepScaling(w), Some(ObservedConfig::StepScaling(h))) => {
                differences_as(w, policy_type, Some(h))
            }
            (DesiredPolicy::StepScaling(w), _) => differences_as(w, policy_type, None),
        }
    }

    /// Sets the type and configuration of a PutScalingPolicy request.
    pub fn configure(
        &self,
        input: PutScalingPolicyInputBuilder,
    ) -> Result<PutScalingPolicyInputBuilder, BuildError> {
        match self {
            DesiredPolicy::TargetTracking(p) => p.configure(input),
            DesiredPolicy::StepScaling(p) => p.configure(input),
        }
    }
}

impl ObservedConfig {
    /// The configuration of a described policy, in the terms of its type;
    /// `None` for a type this tool does not put.
    pub fn of(policy: &AwsPolicy) -> Option<Self> {
        match policy.policy_type() {
            PolicyType::TargetTrackingScaling => {
                DesiredTargetTracking::observe(policy).map(Self::TargetTracking)
            }
            PolicyType::StepScaling => DesiredStepPolicy::observe(policy).map(Self::StepScaling),
            _ => None,
        }
    }
}

/// SDK enums in reports and differences, spelled as AWS spells them.
pub(crate) mod aws_name {
    pub fn serialize<S: serde::Serializer, T: AsRef<str>>(
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(value.as_ref())
    }
}

/// The dimensions the metrics of what is scaled are published with: the
/// asynchronous backlog metrics per endpoint, a variant's others per
/// variant, a component's per component.
pub fn owner_dimensions(subject: &Scaled, metric: &str) -> Vec<(String, String)> {
    match subject {
        Scaled::Variant { endpoint, .. } if ASYNC_METRICS.contains(&metric) => {
            vec![("EndpointName".to_string(), endpoint.clone())]
        }
        Scaled::Variant { endpoint, variant } => vec![
            ("EndpointName".to_string(), endpoint.clone()),
            ("VariantName".to_string(), variant.clone()),
        ],
        Scaled::Component { component } => {
            vec![("InferenceComponentName".to_string(), component.clone())]
        }
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
    /// A set with this instance profile; the other kinds get their defaults.
    pub fn with_instance(instance: Profile) -> Self {
        PolicySet {
            instance,
            async_inference: default_async_profile(),
            serverless: default_serverless_profile(),
            inference_components: default_component_profile(),
        }
    }

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
    /// Capacities and no policies: fill in the lists with `..Profile::new`.
    pub fn new(min_capacity: i32, max_capacity: i32) -> Self {
        Profile {
            min_capacity,
            max_capacity,
            target_tracking: Vec::new(),
            step_scaling: Vec::new(),
            scheduled_actions: Vec::new(),
        }
    }

    /// This profile's policies for one unit, in the order they are put.
    pub fn desired_policies(
        &self,
        subject: &Scaled,
        instance_type: Option<&str>,
    ) -> Result<Vec<DesiredPolicy>, String> {
        let mut policies = Vec::new();
        for doc in &self.target_tracking {
            let policy = doc.desired(subject, instance_type)?;
            policies.push(DesiredPolicy::TargetTracking(policy));
        }
        for doc in &self.step_scaling {
            policies.push(DesiredPolicy::StepScaling(doc.desired(subject)));
        }
        Ok(policies)
    }

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
