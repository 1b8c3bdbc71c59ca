//! The standard policy set as one document: what every managed variant
//! gets. Given as JSON in `POLICY_SET` (or `--policy FILE`); without it the
//! simple variables (MIN_CAPACITY, ...) describe the default set. Every
//! field is validated before anything is written, and errors name the
//! field by its path.

pub mod instances;
pub mod schedule;

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::config::MAX_COOLDOWN_SECONDS;

/// Per target, fixed by Application Auto Scaling.
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySet {
    /// Instance-based real-time variants.
    pub instance: Profile,
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
    pub scheduled_actions: Vec<ScheduledActionDoc>,
}

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
        self.instance.validate("instance", 1)
    }
}

impl Profile {
    fn validate(&self, at: &str, min_floor: i32) -> Result<(), PolicySetError> {
        if self.min_capacity < min_floor {
            return Err(error(
                format!("{at}.min_capacity"),
                format!("{} is below {min_floor}", self.min_capacity),
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
        if self.target_tracking.len() > MAX_POLICIES_PER_TARGET {
            return Err(error(
                format!("{at}.target_tracking"),
                format!(
                    "{} policies; Application Auto Scaling allows {MAX_POLICIES_PER_TARGET} per target",
                    self.target_tracking.len()
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
        let mut names = BTreeSet::new();
        for (i, p) in self.target_tracking.iter().enumerate() {
            let at = format!("{at}.target_tracking[{i}]");
            if !valid_name(&p.name) {
                return Err(error(
                    format!("{at}.name"),
                    format!("{:?}: use 1-64 letters, digits and hyphens", p.name),
                ));
            }
            if !names.insert(p.name.as_str()) {
                return Err(error(
                    format!("{at}.name"),
                    format!("{:?} is used twice", p.name),
                ));
            }
            p.validate(&at)?;
        }
        let mut names = BTreeSet::new();
        for (i, s) in self.scheduled_actions.iter().enumerate() {
            let at = format!("{at}.scheduled_actions[{i}]");
            if !valid_name(&s.name) {
                return Err(error(
                    format!("{at}.name"),
                    format!("{:?}: use 1-64 letters, digits and hyphens", s.name),
                ));
            }
            if !names.insert(s.name.as_str()) {
                return Err(error(
                    format!("{at}.name"),
                    format!("{:?} is used twice", s.name),
                ));
            }
            s.validate(&at)?;
        }
        Ok(())
    }
}

impl TargetTrackingDoc {
    fn validate(&self, at: &str) -> Result<(), PolicySetError> {
        let known = INSTANCE_PREDEFINED_METRICS.contains(&self.metric.as_str())
            || UTILIZATION_METRICS.contains(&self.metric.as_str());
        if !known {
            return Err(error(
                format!("{at}.metric"),
                format!(
                    "{:?} is not a metric for instance-based variants; use one of {}, {}",
                    self.metric,
                    INSTANCE_PREDEFINED_METRICS.join(", "),
                    UTILIZATION_METRICS.join(", ")
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

impl ScheduledActionDoc {
    fn validate(&self, at: &str) -> Result<(), PolicySetError> {
        schedule::validate_schedule(&self.schedule)
            .map_err(|p| error(format!("{at}.schedule"), p))?;
        if let Some(tz) = &self.timezone {
            schedule::validate_timezone(tz).map_err(|p| error(format!("{at}.timezone"), p))?;
        }
        match (self.min_capacity, self.max_capacity) {
            (None, None) => Err(error(at, "set min_capacity, max_capacity or both")),
            (Some(min), _) if min < 0 => Err(error(
                format!("{at}.min_capacity"),
                format!("{min} is below 0"),
            )),
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
