//! The CloudWatch alarm that drives a step policy: as the policy set spells
//! it, and as desired for one unit.

use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
use serde::{Deserialize, Serialize};

use super::{
    aws_name, error, one_of, owner_dimensions, PolicySetError, SAGEMAKER_NAMESPACE,
    UTILIZATION_NAMESPACE,
};
use crate::resource::Scaled;

/// The alarm of a step policy, on a metric of what is scaled, with the
/// dimensions that metric is published with (`owner_dimensions`).
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
    TreatMissingData::Missing.as_str().to_string()
}

pub const STATISTICS: &[&str] = Statistic::values();
/// The threshold comparisons (CloudWatch's others are for anomaly
/// detection bands, which a step policy's alarm does not use).
pub const COMPARISONS: [&str; 4] = [
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
];
/// PutMetricAlarm's `TreatMissingData`: a string in the service model, so
/// the tool's own enum, spelled as CloudWatch spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TreatMissingData {
    Missing,
    NotBreaching,
    Breaching,
    Ignore,
}

impl TreatMissingData {
    pub const ALL: [TreatMissingData; 4] = [
        TreatMissingData::Missing,
        TreatMissingData::NotBreaching,
        TreatMissingData::Breaching,
        TreatMissingData::Ignore,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            TreatMissingData::Missing => "missing",
            TreatMissingData::NotBreaching => "notBreaching",
            TreatMissingData::Breaching => "breaching",
            TreatMissingData::Ignore => "ignore",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

pub const MISSING_DATA: [&str; 4] = [
    TreatMissingData::Missing.as_str(),
    TreatMissingData::NotBreaching.as_str(),
    TreatMissingData::Breaching.as_str(),
    TreatMissingData::Ignore.as_str(),
];
pub const ALARM_NAMESPACES: [&str; 2] = [SAGEMAKER_NAMESPACE, UTILIZATION_NAMESPACE];
/// CloudWatch evaluates an alarm over at most seven days (Period x
/// EvaluationPeriods), and over at most one day when the period is under an
/// hour (PutMetricAlarm, `Period`).
pub const MAX_ALARM_WINDOW_SECONDS: i64 = 604_800;
pub const MAX_SHORT_PERIOD_WINDOW_SECONDS: i64 = 86_400;
const SHORT_PERIOD_SECONDS: i32 = 3_600;

impl AlarmDoc {
    pub(super) fn validate(&self, at: &str) -> Result<(), PolicySetError> {
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
        one_of(format!("{at}.statistic"), &self.statistic, STATISTICS)?;
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

    /// The alarm of the step policy `policy_short_name` of one unit.
    pub(super) fn desired(&self, subject: &Scaled, policy_short_name: &str) -> DesiredAlarm {
        DesiredAlarm {
            name: subject.alarm_name(policy_short_name),
            namespace: self.namespace.clone(),
            metric_name: self.metric.clone(),
            dimensions: owner_dimensions(subject, &self.metric),
            statistic: Statistic::from(self.statistic.as_str()),
            period: self.period,
            evaluation_periods: self.evaluation_periods,
            datapoints_to_alarm: self.datapoints_to_alarm,
            threshold: self.threshold,
            comparison: ComparisonOperator::from(self.comparison.as_str()),
            treat_missing_data: TreatMissingData::parse(&self.treat_missing_data)
                .expect("the policy set validates treat_missing_data"),
        }
    }

    /// Whether the alarm fires when its metric rises above the threshold.
    pub(super) fn fires_on_rise(&self) -> bool {
        matches!(
            ComparisonOperator::from(self.comparison.as_str()),
            ComparisonOperator::GreaterThanThreshold
                | ComparisonOperator::GreaterThanOrEqualToThreshold
        )
    }
}

/// The CloudWatch alarm that drives a step policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesiredAlarm {
    pub name: String,
    pub namespace: String,
    pub metric_name: String,
    /// Sorted by name.
    pub dimensions: Vec<(String, String)>,
    #[serde(serialize_with = "aws_name::serialize")]
    pub statistic: Statistic,
    pub period: i32,
    pub evaluation_periods: i32,
    pub datapoints_to_alarm: Option<i32>,
    pub threshold: f64,
    #[serde(serialize_with = "aws_name::serialize")]
    pub comparison: ComparisonOperator,
    pub treat_missing_data: TreatMissingData,
}

/// CloudWatch's limit on alarm names (PutMetricAlarm, `AlarmName`).
pub const MAX_ALARM_NAME: usize = 255;
