//! What is actually there: an endpoint as SageMaker describes it, and the
//! scaling Application Auto Scaling and CloudWatch hold for its variants and
//! inference components.

use std::collections::BTreeMap;

use aws_sdk_applicationautoscaling::types::PolicyType;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
use aws_sdk_sagemaker::types::{EndpointStatus, InferenceComponentStatus};
use chrono::{DateTime, Utc};

use super::Dimension;
use crate::difference::Subject;
use crate::policy_set::ObservedConfig;
use crate::resource::is_owned;

/// An endpoint as observed, with everything the desired state depends on.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointSnapshot {
    pub name: String,
    pub arn: String,
    pub status: EndpointStatus,
    /// When the endpoint was last created or updated (SageMaker's clock).
    pub last_modified: Option<DateTime<Utc>>,
    pub config_name: String,
    /// The endpoint config no longer exists (AWS lets one be deleted while
    /// its endpoint runs): what it said about the variants is unknown.
    pub config_gone: bool,
    /// The endpoint config has an `AsyncInferenceConfig`.
    pub is_async: bool,
    pub tags: BTreeMap<String, String>,
    pub variants: Vec<VariantSnapshot>,
    /// Inference components the endpoint hosts (read only for endpoints
    /// whose config has component-hosting variants).
    pub components: Vec<ComponentSnapshot>,
}

/// An inference component: its copies are what gets scaled.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentSnapshot {
    pub name: String,
    pub variant: String,
    pub status: InferenceComponentStatus,
    pub current_copies: Option<i32>,
    pub desired_copies: Option<i32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VariantSnapshot {
    pub name: String,
    /// `None` for serverless variants and inference-component hosts that
    /// declare no type.
    pub instance_type: Option<String>,
    pub current_instance_count: Option<i32>,
    pub desired_instance_count: Option<i32>,
    /// The variant runs inference components (its config names no model).
    pub hosts_components: bool,
    /// Present for serverless variants.
    pub serverless: Option<Serverless>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Serverless {
    pub max_concurrency: Option<i32>,
    /// Absent or 0 without provisioned concurrency.
    pub provisioned_concurrency: Option<i32>,
}

impl VariantSnapshot {
    /// The largest instance count the variant has now or is heading to; the
    /// registered maximum must never be below it.
    pub fn running_count(&self) -> Option<i32> {
        running(self.current_instance_count, self.desired_instance_count)
    }
}

impl ComponentSnapshot {
    /// The largest copy count the component has now or is heading to.
    pub fn running_copies(&self) -> Option<i32> {
        running(self.current_copies, self.desired_copies)
    }
}

/// The larger of a current and a desired capacity, whichever are known.
fn running(current: Option<i32>, desired: Option<i32>) -> Option<i32> {
    match (current, desired) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// A registered scalable target.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalableTarget {
    pub resource_id: String,
    pub dimension: Dimension,
    pub min_capacity: i32,
    pub max_capacity: i32,
}

/// A scaling policy as observed, reduced to the fields this tool compares.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingPolicy {
    pub name: String,
    pub resource_id: String,
    pub dimension: Dimension,
    pub arn: String,
    pub policy_type: PolicyType,
    /// `None` for a type this tool does not put.
    pub config: Option<ObservedConfig>,
}

/// A CloudWatch alarm this tool owns, as observed.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedAlarm {
    pub name: String,
    pub namespace: Option<String>,
    pub metric_name: Option<String>,
    /// Sorted by name.
    pub dimensions: Vec<(String, String)>,
    pub statistic: Option<Statistic>,
    pub period: Option<i32>,
    pub evaluation_periods: Option<i32>,
    pub datapoints_to_alarm: Option<i32>,
    pub threshold: Option<f64>,
    pub comparison: Option<ComparisonOperator>,
    pub treat_missing_data: Option<String>,
    pub actions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledAction {
    pub name: String,
    pub resource_id: String,
    pub dimension: Dimension,
    pub schedule: String,
    pub timezone: Option<String>,
    pub min_capacity: Option<i32>,
    pub max_capacity: Option<i32>,
}

/// Everything Application Auto Scaling and CloudWatch hold for one variant
/// or inference component.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VariantScaling {
    pub target: Option<ScalableTarget>,
    pub policies: Vec<ScalingPolicy>,
    pub scheduled: Vec<ScheduledAction>,
    /// Owned alarms named for this variant.
    pub alarms: Vec<ObservedAlarm>,
}

impl VariantScaling {
    /// A person's policies and scheduled actions here, as `policy <name>`
    /// and `scheduled action <name>`, sorted: the tool keeps its hands off.
    pub fn foreign_items(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .policies
            .iter()
            .filter(|p| !is_owned(&p.name))
            .map(|p| Subject::Policy(p.name.clone()).to_string())
            .chain(
                self.scheduled
                    .iter()
                    .filter(|s| !is_owned(&s.name))
                    .map(|s| Subject::ScheduledAction(s.name.clone()).to_string()),
            )
            .collect();
        names.sort();
        names
    }
}

/// Builders for fixtures: a target-tracking policy on the default dimension
/// with no configuration read, or the default set's invocations policy as
/// Application Auto Scaling describes it once put.
#[cfg(test)]
impl ScalingPolicy {
    pub fn test(name: &str, resource_id: &str) -> Self {
        ScalingPolicy {
            name: name.into(),
            resource_id: resource_id.into(),
            dimension: Dimension::default(),
            arn: String::new(),
            policy_type: PolicyType::TargetTrackingScaling,
            config: None,
        }
    }

    /// `autoscaling-guard-invocations`: 70 invocations per instance,
    /// cooldowns 300 s in and 60 s out.
    pub fn invocations(resource_id: &str) -> Self {
        use crate::policy_set::{MetricSpec, ObservedTargetTracking};
        use aws_sdk_applicationautoscaling::types::MetricType;
        ScalingPolicy {
            config: Some(ObservedConfig::TargetTracking(ObservedTargetTracking {
                target_value: 70.0,
                metric: Some(MetricSpec::Predefined {
                    metric_type: MetricType::SageMakerVariantInvocationsPerInstance,
                }),
                scale_in_cooldown: Some(300),
                scale_out_cooldown: Some(60),
                disable_scale_in: false,
            })),
            ..ScalingPolicy::test("autoscaling-guard-invocations", resource_id)
        }
    }

    pub fn step_scaling(mut self) -> Self {
        self.policy_type = PolicyType::StepScaling;
        self
    }

    pub fn dimension(mut self, dimension: Dimension) -> Self {
        self.dimension = dimension;
        self
    }

    pub fn arn(mut self, arn: String) -> Self {
        self.arn = arn;
        self
    }
}

/// An alarm with nothing but its name, for fixtures.
#[cfg(test)]
impl ObservedAlarm {
    pub fn test(name: &str) -> Self {
        ObservedAlarm {
            name: name.into(),
            namespace: None,
            metric_name: None,
            dimensions: Vec::new(),
            statistic: None,
            period: None,
            evaluation_periods: None,
            datapoints_to_alarm: None,
            threshold: None,
            comparison: None,
            treat_missing_data: None,
            actions: Vec::new(),
        }
    }
}

impl EndpointSnapshot {
    /// A real-time endpoint in service with no tags, variants or components
    /// yet: what `simulate` desires for, and what fixtures start from.
    pub fn in_service(name: &str) -> Self {
        EndpointSnapshot {
            name: name.into(),
            arn: String::new(),
            status: EndpointStatus::InService,
            last_modified: None,
            config_name: String::new(),
            config_gone: false,
            is_async: false,
            tags: BTreeMap::new(),
            variants: Vec::new(),
            components: Vec::new(),
        }
    }

    pub fn is_in_service(&self) -> bool {
        self.status == EndpointStatus::InService
    }
}

/// Builders for unit-test fixtures: an InService real-time endpoint with
/// one-instance `ml.m5.large` variants unless told otherwise.
#[cfg(test)]
impl EndpointSnapshot {
    pub fn test(name: &str) -> Self {
        EndpointSnapshot {
            arn: format!("arn:aws:sagemaker:us-east-1:1:endpoint/{name}"),
            config_name: format!("{name}-config"),
            ..EndpointSnapshot::in_service(name)
        }
    }

    pub fn variant(mut self, variant: VariantSnapshot) -> Self {
        self.variants.push(variant);
        self
    }

    /// Plain variants with these names.
    pub fn variants(self, names: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        names
            .into_iter()
            .fold(self, |e, n| e.variant(VariantSnapshot::test(n.as_ref())))
    }

    pub fn component(mut self, component: ComponentSnapshot) -> Self {
        self.components.push(component);
        self
    }

    pub fn tags(mut self, tags: &[(&str, &str)]) -> Self {
        self.tags
            .extend(tags.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self
    }

    pub fn status(mut self, status: &str) -> Self {
        self.status = status.into();
        self
    }

    pub fn asynchronous(mut self) -> Self {
        self.is_async = true;
        self
    }
}

#[cfg(test)]
impl VariantSnapshot {
    pub fn test(name: &str) -> Self {
        VariantSnapshot {
            name: name.into(),
            instance_type: Some("ml.m5.large".into()),
            current_instance_count: Some(1),
            desired_instance_count: Some(1),
            hosts_components: false,
            serverless: None,
        }
    }

    pub fn instance_type(mut self, instance_type: Option<&str>) -> Self {
        self.instance_type = instance_type.map(Into::into);
        self
    }

    pub fn counts(mut self, current: Option<i32>, desired: Option<i32>) -> Self {
        self.current_instance_count = current;
        self.desired_instance_count = desired;
        self
    }

    pub fn serverless(mut self, max: Option<i32>, provisioned: Option<i32>) -> Self {
        self.instance_type = None;
        self.serverless = Some(Serverless {
            max_concurrency: max,
            provisioned_concurrency: provisioned,
        });
        self
    }

    pub fn hosting_components(mut self) -> Self {
        self.hosts_components = true;
        self
    }
}

#[cfg(test)]
impl ComponentSnapshot {
    /// An InService component with one copy.
    pub fn test(name: &str, variant: &str) -> Self {
        ComponentSnapshot {
            name: name.into(),
            variant: variant.into(),
            status: "InService".into(),
            current_copies: Some(1),
            desired_copies: Some(1),
        }
    }

    pub fn copies(mut self, copies: i32) -> Self {
        self.current_copies = Some(copies);
        self.desired_copies = Some(copies);
        self
    }

    pub fn status(mut self, status: &str) -> Self {
        self.status = status.into();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_count_takes_the_larger_of_current_and_desired() {
        let mut v = VariantSnapshot::test("a").counts(Some(3), Some(5));
        assert_eq!(v.running_count(), Some(5));
        v.desired_instance_count = None;
        assert_eq!(v.running_count(), Some(3));
        v.current_instance_count = None;
        assert_eq!(v.running_count(), None);
    }
}
