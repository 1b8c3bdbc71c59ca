//! The pure step of a reconcile: given the desired and the actual scaling of
//! one variant, the changes that bring actual to desired, each carrying the
//! differences that call for it.

use serde::Serialize;
use serde_json::{json, Value};

use super::desired::{
    DesiredAlarm, DesiredScaling, DesiredSchedule, DesiredStepPolicy, DesiredTargetTracking,
    MetricSpec, SkipReason,
};
use super::snapshot::{
    ObservedAlarm, ObservedMetric, ScalingPolicy, ScheduledAction, VariantScaling,
};
use super::{is_owned, Dimension};

pub const TARGET_TRACKING: &str = "TargetTrackingScaling";

/// One thing that differs from the standard, named precisely.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    /// `scalable_target` or `policy <name>`.
    pub subject: String,
    /// What differs: `registered`, `min_capacity`, `target_value`, ...
    pub field: String,
    pub actual: Value,
    pub desired: Value,
}

impl Difference {
    pub fn new(subject: impl Into<String>, field: &str, actual: Value, desired: Value) -> Self {
        Self {
            subject: subject.into(),
            field: field.to_string(),
            actual,
            desired,
        }
    }
}

/// A write that brings one variant closer to its desired scaling.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Change {
    RegisterTarget {
        resource_id: String,
        dimension: Dimension,
        min_capacity: i32,
        max_capacity: i32,
        because: Vec<Difference>,
    },
    DeletePolicy {
        resource_id: String,
        dimension: Dimension,
        policy_name: String,
        because: Vec<Difference>,
    },
    PutTargetTrackingPolicy {
        resource_id: String,
        dimension: Dimension,
        policy: DesiredTargetTracking,
        because: Vec<Difference>,
    },
    PutStepPolicy {
        resource_id: String,
        dimension: Dimension,
        policy: DesiredStepPolicy,
        because: Vec<Difference>,
    },
    /// The alarm's one action is the step policy `policy_name`: its ARN as
    /// observed when the policy stays as it is, or, when this plan puts the
    /// policy first (`None` here), the ARN that PutScalingPolicy returns,
    /// filled in when the change is applied.
    PutAlarm {
        resource_id: String,
        dimension: Dimension,
        policy_name: String,
        policy_arn: Option<String>,
        alarm: DesiredAlarm,
        because: Vec<Difference>,
    },
    DeleteAlarm {
        resource_id: String,
        dimension: Dimension,
        alarm_name: String,
        because: Vec<Difference>,
    },
    PutScheduledAction {
        resource_id: String,
        dimension: Dimension,
        scheduled_action: DesiredSchedule,
        because: Vec<Difference>,
    },
    DeleteScheduledAction {
        resource_id: String,
        dimension: Dimension,
        scheduled_action_name: String,
        because: Vec<Difference>,
    },
    /// Only for orphans: targets whose endpoint or variant is gone.
    DeregisterTarget {
        resource_id: String,
        dimension: Dimension,
        because: Vec<Difference>,
    },
}

impl Change {
    pub fn because(&self) -> &[Difference] {
        match self {
            Change::RegisterTarget { because, .. }
            | Change::DeletePolicy { because, .. }
            | Change::PutTargetTrackingPolicy { because, .. }
            | Change::PutStepPolicy { because, .. }
            | Change::PutAlarm { because, .. }
            | Change::DeleteAlarm { because, .. }
            | Change::PutScheduledAction { because, .. }
            | Change::DeleteScheduledAction { because, .. }
            | Change::DeregisterTarget { because, .. } => because,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Change::RegisterTarget { .. } => "register_target",
            Change::DeletePolicy { .. } => "delete_policy",
            Change::PutTargetTrackingPolicy { .. } => "put_target_tracking_policy",
            Change::PutStepPolicy { .. } => "put_step_policy",
            Change::PutAlarm { .. } => "put_alarm",
            Change::DeleteAlarm { .. } => "delete_alarm",
            Change::PutScheduledAction { .. } => "put_scheduled_action",
            Change::DeleteScheduledAction { .. } => "delete_scheduled_action",
            Change::DeregisterTarget { .. } => "deregister_target",
        }
    }

    pub fn dimension(&self) -> Dimension {
        match self {
            Change::RegisterTarget { dimension, .. }
            | Change::DeletePolicy { dimension, .. }
            | Change::PutTargetTrackingPolicy { dimension, .. }
            | Change::PutStepPolicy { dimension, .. }
            | Change::PutAlarm { dimension, .. }
            | Change::DeleteAlarm { dimension, .. }
            | Change::PutScheduledAction { dimension, .. }
            | Change::DeleteScheduledAction { dimension, .. }
            | Change::DeregisterTarget { dimension, .. } => *dimension,
        }
    }

    pub fn resource_id(&self) -> &str {
        match self {
            Change::RegisterTarget { resource_id, .. }
            | Change::DeletePolicy { resource_id, .. }
            | Change::PutTargetTrackingPolicy { resource_id, .. }
            | Change::PutStepPolicy { resource_id, .. }
            | Change::PutAlarm { resource_id, .. }
            | Change::DeleteAlarm { resource_id, .. }
            | Change::PutScheduledAction { resource_id, .. }
            | Change::DeleteScheduledAction { resource_id, .. }
            | Change::DeregisterTarget { resource_id, .. } => resource_id,
        }
    }
}

/// What applying a change hands on to the changes after it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// The ARN PutScalingPolicy returned: the alarm of a step policy acts
    /// on exactly this policy.
    pub policy_arn: Option<String>,
}

/// What a variant needs.
#[derive(Debug, Clone, PartialEq)]
pub enum VariantPlan {
    /// A person owns this variant's scaling; hands off.
    Skip(SkipReason),
    /// Empty when the variant is compliant.
    Changes(Vec<Change>),
}

fn same_value(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

fn metric_json(m: &MetricSpec) -> Value {
    match m {
        MetricSpec::Predefined { metric_type } => json!(metric_type),
        MetricSpec::Custom {
            namespace,
            metric_name,
            ..
        } => json!(format!("{namespace}/{metric_name}")),
    }
}

fn observed_metric_json(m: &ObservedMetric) -> Value {
    match m {
        ObservedMetric::Predefined(t) => json!(t),
        ObservedMetric::Custom {
            namespace,
            metric_name,
            ..
        } => json!(format!("{namespace}/{metric_name}")),
        ObservedMetric::Other => json!("other"),
    }
}

fn same_metric(desired: &MetricSpec, actual: &ObservedMetric) -> bool {
    match (desired, actual) {
        (MetricSpec::Predefined { metric_type }, ObservedMetric::Predefined(t)) => metric_type == t,
        (
            MetricSpec::Custom {
                namespace,
                metric_name,
                dimensions,
                statistic,
            },
            ObservedMetric::Custom {
                namespace: n,
                metric_name: m,
                dimensions: d,
                statistic: st,
            },
        ) => namespace == n && metric_name == m && dimensions == d && statistic == st,
        _ => false,
    }
}

/// Collects the differences of one subject, one field at a time.
struct Differences {
    subject: String,
    found: Vec<Difference>,
}

impl Differences {
    fn of(subject: String) -> Self {
        Self {
            subject,
            found: Vec::new(),
        }
    }

    /// Records `field` unless `same`.
    fn field(&mut self, field: &str, same: bool, actual: impl Serialize, desired: impl Serialize) {
        if !same {
            self.found.push(Difference::new(
                self.subject.clone(),
                field,
                json!(actual),
                json!(desired),
            ));
        }
    }

    /// Records a text field observed as optional.
    fn text(&mut self, field: &str, actual: &Option<String>, desired: &str) {
        self.field(field, actual.as_deref() == Some(desired), actual, desired);
    }

    fn done(self) -> Vec<Difference> {
        self.found
    }
}

fn same_bound(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => same_value(a, b),
        (None, None) => true,
        _ => false,
    }
}

fn policy_differences(desired: &DesiredTargetTracking, actual: &ScalingPolicy) -> Vec<Difference> {
    let mut d = Differences::of(format!("policy {}", desired.name));
    if actual.policy_type != TARGET_TRACKING {
        d.field("policy_type", false, &actual.policy_type, TARGET_TRACKING);
        return d.done();
    }
    let Some(tt) = &actual.target_tracking else {
        d.field("configuration", false, Value::Null, "target tracking");
        return d.done();
    };
    d.field(
        "metric",
        same_metric(&desired.metric, &tt.metric),
        observed_metric_json(&tt.metric),
        metric_json(&desired.metric),
    );
    d.field(
        "target_value",
        same_value(tt.target_value, desired.target_value),
        tt.target_value,
        desired.target_value,
    );
    d.field(
        "scale_in_cooldown",
        tt.scale_in_cooldown == Some(desired.scale_in_cooldown),
        tt.scale_in_cooldown,
        desired.scale_in_cooldown,
    );
    d.field(
        "scale_out_cooldown",
        tt.scale_out_cooldown == Some(desired.scale_out_cooldown),
        tt.scale_out_cooldown,
        desired.scale_out_cooldown,
    );
    d.field(
        "disable_scale_in",
        tt.disable_scale_in == desired.disable_scale_in,
        tt.disable_scale_in,
        desired.disable_scale_in,
    );
    d.done()
}

pub const STEP_SCALING: &str = "StepScaling";

fn step_differences(desired: &DesiredStepPolicy, actual: &ScalingPolicy) -> Vec<Difference> {
    let mut d = Differences::of(format!("policy {}", desired.name));
    if actual.policy_type != STEP_SCALING {
        d.field("policy_type", false, &actual.policy_type, STEP_SCALING);
        return d.done();
    }
    let Some(step) = &actual.step else {
        d.field("configuration", false, Value::Null, "step scaling");
        return d.done();
    };
    d.text(
        "adjustment_type",
        &step.adjustment_type,
        &desired.adjustment_type,
    );
    d.field(
        "cooldown",
        step.cooldown == Some(desired.cooldown),
        step.cooldown,
        desired.cooldown,
    );
    d.text(
        "metric_aggregation_type",
        &step.metric_aggregation_type,
        &desired.metric_aggregation_type,
    );
    d.field(
        "min_adjustment_magnitude",
        step.min_adjustment_magnitude == desired.min_adjustment_magnitude,
        step.min_adjustment_magnitude,
        desired.min_adjustment_magnitude,
    );
    let same_steps = step.steps.len() == desired.steps.len()
        && step.steps.iter().zip(&desired.steps).all(|(a, w)| {
            same_bound(a.0, w.lower) && same_bound(a.1, w.upper) && a.2 == w.adjustment
        });
    d.field(
        "steps",
        same_steps,
        &step.steps,
        desired
            .steps
            .iter()
            .map(|s| (s.lower, s.upper, s.adjustment))
            .collect::<Vec<_>>(),
    );
    d.done()
}

fn alarm_differences(
    desired: &DesiredAlarm,
    actual: &ObservedAlarm,
    policy_arn: &str,
) -> Vec<Difference> {
    let mut d = Differences::of(format!("alarm {}", desired.name));
    d.text("namespace", &actual.namespace, &desired.namespace);
    d.text("metric_name", &actual.metric_name, &desired.metric_name);
    d.text("statistic", &actual.statistic, &desired.statistic);
    d.text("comparison", &actual.comparison, &desired.comparison);
    d.text(
        "treat_missing_data",
        &actual.treat_missing_data,
        &desired.treat_missing_data,
    );
    d.field(
        "dimensions",
        actual.dimensions == desired.dimensions,
        &actual.dimensions,
        &desired.dimensions,
    );
    d.field(
        "period",
        actual.period == Some(desired.period),
        actual.period,
        desired.period,
    );
    d.field(
        "evaluation_periods",
        actual.evaluation_periods == Some(desired.evaluation_periods),
        actual.evaluation_periods,
        desired.evaluation_periods,
    );
    // CloudWatch reports an unset value as the evaluation periods.
    let datapoints = desired
        .datapoints_to_alarm
        .unwrap_or(desired.evaluation_periods);
    d.field(
        "datapoints_to_alarm",
        actual
            .datapoints_to_alarm
            .unwrap_or(actual.evaluation_periods.unwrap_or(0))
            == datapoints,
        actual.datapoints_to_alarm,
        datapoints,
    );
    d.field(
        "threshold",
        actual
            .threshold
            .is_some_and(|t| same_value(t, desired.threshold)),
        actual.threshold,
        desired.threshold,
    );
    d.field(
        "alarm_actions",
        actual.actions == [policy_arn],
        &actual.actions,
        [policy_arn],
    );
    d.done()
}

/// No time zone and UTC mean the same schedule.
fn same_timezone(desired: Option<&str>, actual: Option<&str>) -> bool {
    let norm = |tz: Option<&str>| match tz {
        None | Some("UTC") | Some("Etc/UTC") => None,
        Some(other) => Some(other.to_string()),
    };
    norm(desired) == norm(actual)
}

fn schedule_differences(desired: &DesiredSchedule, actual: &ScheduledAction) -> Vec<Difference> {
    let mut d = Differences::of(format!("scheduled action {}", desired.name));
    d.field(
        "schedule",
        desired.schedule == actual.schedule,
        &actual.schedule,
        &desired.schedule,
    );
    d.field(
        "timezone",
        same_timezone(desired.timezone.as_deref(), actual.timezone.as_deref()),
        &actual.timezone,
        &desired.timezone,
    );
    d.field(
        "min_capacity",
        desired.min_capacity == actual.min_capacity,
        actual.min_capacity,
        desired.min_capacity,
    );
    d.field(
        "max_capacity",
        desired.max_capacity == actual.max_capacity,
        actual.max_capacity,
        desired.max_capacity,
    );
    d.done()
}

fn present(subject: String) -> Vec<Difference> {
    vec![Difference::new(
        subject,
        "present",
        json!(false),
        json!(true),
    )]
}

fn not_in_set(subject: String) -> Vec<Difference> {
    vec![Difference::new(
        subject,
        "in_standard_set",
        json!(false),
        json!(true),
    )]
}

/// Plans one variant. Pure: the same inputs always give the same plan.
pub fn plan(desired: &DesiredScaling, actual: &VariantScaling) -> VariantPlan {
    let mut foreign: Vec<String> = actual
        .policies
        .iter()
        .filter(|p| !is_owned(&p.name))
        .map(|p| format!("policy {}", p.name))
        .chain(
            actual
                .scheduled
                .iter()
                .filter(|s| !is_owned(&s.name))
                .map(|s| format!("scheduled action {}", s.name)),
        )
        .collect();
    if !foreign.is_empty() {
        foreign.sort();
        return VariantPlan::Skip(SkipReason::ForeignPolicies { names: foreign });
    }

    let rid = &desired.resource_id();
    let mut deletes = Vec::new();
    let mut puts = Vec::new();

    let mut target = Differences::of("scalable_target".to_string());
    match actual
        .target
        .as_ref()
        .filter(|t| t.dimension == desired.dimension)
    {
        None => target.field("registered", false, false, true),
        Some(t) => {
            target.field(
                "min_capacity",
                t.min_capacity == desired.min_capacity,
                t.min_capacity,
                desired.min_capacity,
            );
            target.field(
                "max_capacity",
                t.max_capacity == desired.max_capacity,
                t.max_capacity,
                desired.max_capacity,
            );
        }
    }
    let register = target.done();

    for want in &desired.policies {
        let because = match actual.policies.iter().find(|p| p.name == want.name) {
            None => present(format!("policy {}", want.name)),
            Some(have) => {
                let because = policy_differences(want, have);
                // A policy cannot change its type in place: remove it first.
                if !because.is_empty() && have.policy_type != TARGET_TRACKING {
                    deletes.push(Change::DeletePolicy {
                        resource_id: rid.clone(),
                        dimension: desired.dimension,
                        policy_name: have.name.clone(),
                        because: because.clone(),
                    });
                }
                because
            }
        };
        if !because.is_empty() {
            puts.push(Change::PutTargetTrackingPolicy {
                resource_id: rid.clone(),
                dimension: desired.dimension,
                policy: want.clone(),
                because,
            });
        }
    }
    let mut alarm_puts = Vec::new();
    for want in &desired.step_policies {
        let have = actual.policies.iter().find(|p| p.name == want.name);
        let because = match have {
            None => present(format!("policy {}", want.name)),
            Some(have) => {
                let because = step_differences(want, have);
                if !because.is_empty() && have.policy_type != STEP_SCALING {
                    deletes.push(Change::DeletePolicy {
                        resource_id: rid.clone(),
                        dimension: desired.dimension,
                        policy_name: have.name.clone(),
                        because: because.clone(),
                    });
                }
                because
            }
        };
        let policy_changes = !because.is_empty();
        if policy_changes {
            puts.push(Change::PutStepPolicy {
                resource_id: rid.clone(),
                dimension: desired.dimension,
                policy: want.clone(),
                because,
            });
        }
        // A step policy without its alarm does nothing: the alarm follows
        // its policy, and is put again whenever the policy is.
        let alarm_because = match (
            actual.alarms.iter().find(|a| a.name == want.alarm.name),
            have,
        ) {
            (None, _) => present(format!("alarm {}", want.alarm.name)),
            (Some(_), _) if policy_changes => vec![Difference::new(
                format!("alarm {}", want.alarm.name),
                "alarm_actions",
                json!("the policy before this change"),
                json!(format!("policy {}", want.name)),
            )],
            (Some(a), Some(p)) => alarm_differences(&want.alarm, a, &p.arn),
            (Some(_), None) => unreachable!("no policy means the policy changes"),
        };
        if !alarm_because.is_empty() {
            alarm_puts.push(Change::PutAlarm {
                resource_id: rid.clone(),
                dimension: desired.dimension,
                policy_name: want.name.clone(),
                policy_arn: have.filter(|_| !policy_changes).map(|p| p.arn.clone()),
                alarm: want.alarm.clone(),
                because: alarm_because,
            });
        }
    }
    // Only owned alarms are ever deleted, whatever the observation holds.
    for have in actual.alarms.iter().filter(|a| is_owned(&a.name)) {
        if !desired
            .step_policies
            .iter()
            .any(|w| w.alarm.name == have.name)
        {
            deletes.push(Change::DeleteAlarm {
                resource_id: rid.clone(),
                dimension: desired.dimension,
                alarm_name: have.name.clone(),
                because: not_in_set(format!("alarm {}", have.name)),
            });
        }
    }
    puts.extend(alarm_puts);

    for have in &actual.policies {
        if !desired.policies.iter().any(|w| w.name == have.name)
            && !desired.step_policies.iter().any(|w| w.name == have.name)
        {
            deletes.push(Change::DeletePolicy {
                resource_id: rid.clone(),
                dimension: desired.dimension,
                policy_name: have.name.clone(),
                because: not_in_set(format!("policy {}", have.name)),
            });
        }
    }

    for want in &desired.scheduled {
        let because = match actual.scheduled.iter().find(|s| s.name == want.name) {
            None => present(format!("scheduled action {}", want.name)),
            Some(have) => schedule_differences(want, have),
        };
        if !because.is_empty() {
            puts.push(Change::PutScheduledAction {
                resource_id: rid.clone(),
                dimension: desired.dimension,
                scheduled_action: want.clone(),
                because,
            });
        }
    }
    for have in &actual.scheduled {
        if !desired.scheduled.iter().any(|w| w.name == have.name) {
            deletes.push(Change::DeleteScheduledAction {
                resource_id: rid.clone(),
                dimension: desired.dimension,
                scheduled_action_name: have.name.clone(),
                because: not_in_set(format!("scheduled action {}", have.name)),
            });
        }
    }

    let mut changes = Vec::new();
    if !register.is_empty() {
        changes.push(Change::RegisterTarget {
            resource_id: rid.clone(),
            dimension: desired.dimension,
            min_capacity: desired.min_capacity,
            max_capacity: desired.max_capacity,
            because: register,
        });
    }
    // Register first: policies need the target. Deletes before puts so a
    // policy whose type changed is recreated, not rejected.
    changes.extend(deletes);
    changes.extend(puts);
    VariantPlan::Changes(changes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::resource::Scaled;
    use crate::domain::snapshot::{ScalableTarget, TargetTracking};

    const RID: &str = "endpoint/e/variant/v";

    fn desired() -> DesiredScaling {
        DesiredScaling {
            subject: Scaled::variant("e", "v"),
            dimension: Default::default(),
            min_capacity: 1,
            max_capacity: 4,
            max_raised_to_running: false,
            policies: vec![DesiredTargetTracking {
                name: "autoscaling-guard-invocations".into(),
                metric: MetricSpec::Predefined {
                    metric_type: "SageMakerVariantInvocationsPerInstance".into(),
                },
                target_value: 70.0,
                scale_in_cooldown: 300,
                scale_out_cooldown: 60,
                disable_scale_in: false,
            }],
            scheduled: vec![],
            step_policies: vec![],
        }
    }

    fn target(min: i32, max: i32) -> ScalableTarget {
        ScalableTarget {
            resource_id: RID.into(),
            dimension: Default::default(),
            min_capacity: min,
            max_capacity: max,
        }
    }

    fn owned_policy() -> ScalingPolicy {
        ScalingPolicy {
            name: "autoscaling-guard-invocations".into(),
            resource_id: RID.into(),
            dimension: Default::default(),
            arn: String::new(),
            step: None,
            policy_type: TARGET_TRACKING.into(),
            target_tracking: Some(TargetTracking {
                target_value: 70.0,
                metric: ObservedMetric::Predefined("SageMakerVariantInvocationsPerInstance".into()),
                scale_in_cooldown: Some(300),
                scale_out_cooldown: Some(60),
                disable_scale_in: false,
            }),
        }
    }

    fn compliant() -> VariantScaling {
        VariantScaling {
            target: Some(target(1, 4)),
            policies: vec![owned_policy()],
            scheduled: vec![],
            alarms: vec![],
        }
    }

    fn changes(plan: VariantPlan) -> Vec<Change> {
        match plan {
            VariantPlan::Changes(c) => c,
            other => panic!("expected changes, got {other:?}"),
        }
    }

    fn fields(change: &Change) -> Vec<&str> {
        change.because().iter().map(|d| d.field.as_str()).collect()
    }

    #[test]
    fn nothing_registered_means_register_then_put() {
        let c = changes(plan(&desired(), &VariantScaling::default()));
        assert_eq!(c.len(), 2);
        assert!(matches!(
            &c[0],
            Change::RegisterTarget {
                min_capacity: 1,
                max_capacity: 4,
                ..
            }
        ));
        assert_eq!(fields(&c[0]), ["registered"]);
        assert!(
            matches!(&c[1], Change::PutTargetTrackingPolicy { policy, .. } if policy.target_value == 70.0)
        );
        assert_eq!(fields(&c[1]), ["present"]);
    }

    #[test]
    fn compliant_variant_needs_nothing() {
        assert_eq!(plan(&desired(), &compliant()), VariantPlan::Changes(vec![]));
    }

    #[test]
    fn a_target_value_within_rounding_is_compliant() {
        let mut actual = compliant();
        actual.policies[0]
            .target_tracking
            .as_mut()
            .unwrap()
            .target_value = 70.000_000_000_01;
        assert_eq!(plan(&desired(), &actual), VariantPlan::Changes(vec![]));
    }

    #[test]
    fn changed_capacities_reregister_the_target_only() {
        let mut actual = compliant();
        actual.target = Some(target(2, 10));
        let c = changes(plan(&desired(), &actual));
        assert_eq!(c.len(), 1);
        assert_eq!(fields(&c[0]), ["min_capacity", "max_capacity"]);
        assert_eq!(c[0].because()[1].actual, json!(10));
        assert_eq!(c[0].because()[1].desired, json!(4));
    }

    #[test]
    fn adopted_target_without_policies_gets_the_policy() {
        let actual = VariantScaling {
            target: Some(target(1, 4)),
            policies: vec![],
            scheduled: vec![],
            alarms: vec![],
        };
        let c = changes(plan(&desired(), &actual));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].name(), "put_target_tracking_policy");
    }

    #[test]
    fn every_policy_field_is_compared() {
        let mut actual = compliant();
        {
            let tt = actual.policies[0].target_tracking.as_mut().unwrap();
            tt.target_value = 50.0;
            tt.scale_in_cooldown = None;
            tt.scale_out_cooldown = Some(120);
            tt.disable_scale_in = true;
            tt.metric = ObservedMetric::Other;
        }
        let c = changes(plan(&desired(), &actual));
        assert_eq!(c.len(), 1);
        assert_eq!(
            fields(&c[0]),
            [
                "metric",
                "target_value",
                "scale_in_cooldown",
                "scale_out_cooldown",
                "disable_scale_in"
            ]
        );
        assert_eq!(c[0].because()[0].actual, json!("other"));
        assert_eq!(
            c[0].because()[1].subject,
            "policy autoscaling-guard-invocations"
        );
    }

    #[test]
    fn an_owned_policy_of_another_type_is_replaced() {
        let mut actual = compliant();
        actual.policies[0].policy_type = "StepScaling".into();
        actual.policies[0].target_tracking = None;
        let c = changes(plan(&desired(), &actual));
        let names: Vec<_> = c.iter().map(Change::name).collect();
        assert_eq!(names, ["delete_policy", "put_target_tracking_policy"]);
        assert_eq!(fields(&c[1]), ["policy_type"]);
    }

    #[test]
    fn owned_policies_outside_the_set_are_deleted() {
        let mut actual = compliant();
        let mut extra = owned_policy();
        extra.name = "autoscaling-guard-old".into();
        actual.policies.push(extra);
        let c = changes(plan(&desired(), &actual));
        assert_eq!(c.len(), 1);
        assert!(
            matches!(&c[0], Change::DeletePolicy { policy_name, .. } if policy_name == "autoscaling-guard-old")
        );
    }

    #[test]
    fn any_foreign_policy_means_hands_off() {
        let mut actual = VariantScaling {
            target: Some(target(3, 20)),
            policies: vec![owned_policy()],
            scheduled: vec![],
            alarms: vec![],
        };
        let mut mine = owned_policy();
        mine.name = "team-cpu-policy".into();
        actual.policies.push(mine);
        match plan(&desired(), &actual) {
            VariantPlan::Skip(SkipReason::ForeignPolicies { names }) => {
                assert_eq!(names, ["policy team-cpu-policy"])
            }
            other => panic!("expected skip, got {other:?}"),
        }
    }

    #[test]
    fn changes_serialize_with_their_action() {
        let c = changes(plan(&desired(), &VariantScaling::default()));
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json[0]["action"], "register_target");
        assert_eq!(json[0]["resource_id"], RID);
        assert_eq!(json[1]["action"], "put_target_tracking_policy");
        assert_eq!(json[1]["policy"]["name"], "autoscaling-guard-invocations");
    }
}

#[cfg(test)]
mod step_tests {
    use super::*;
    use crate::domain::desired::DesiredStep;
    use crate::domain::resource::Scaled;
    use crate::domain::snapshot::{ScalableTarget, StepConfig};

    const RID: &str = "endpoint/e/variant/v";
    const ARN: &str = "arn:aws:autoscaling:us-east-1:1:scalingPolicy:x:resource/sagemaker/endpoint/e/variant/v:policyName/autoscaling-guard-burst";

    fn alarm() -> DesiredAlarm {
        DesiredAlarm {
            name: "autoscaling-guard-e/v/burst".into(),
            namespace: "AWS/SageMaker".into(),
            metric_name: "InvocationsPerInstance".into(),
            dimensions: vec![
                ("EndpointName".into(), "e".into()),
                ("VariantName".into(), "v".into()),
            ],
            statistic: "Sum".into(),
            period: 60,
            evaluation_periods: 2,
            datapoints_to_alarm: None,
            threshold: 500.0,
            comparison: "GreaterThanOrEqualToThreshold".into(),
            treat_missing_data: "notBreaching".into(),
        }
    }

    fn desired() -> DesiredScaling {
        DesiredScaling {
            subject: Scaled::variant("e", "v"),
            dimension: Default::default(),
            min_capacity: 1,
            max_capacity: 4,
            max_raised_to_running: false,
            policies: vec![],
            step_policies: vec![DesiredStepPolicy {
                name: "autoscaling-guard-burst".into(),
                adjustment_type: "ChangeInCapacity".into(),
                cooldown: 120,
                metric_aggregation_type: "Maximum".into(),
                min_adjustment_magnitude: None,
                steps: vec![
                    DesiredStep {
                        lower: Some(0.0),
                        upper: Some(1000.0),
                        adjustment: 1,
                    },
                    DesiredStep {
                        lower: Some(1000.0),
                        upper: None,
                        adjustment: 3,
                    },
                ],
                alarm: alarm(),
            }],
            scheduled: vec![],
        }
    }

    fn observed_alarm() -> ObservedAlarm {
        let a = alarm();
        ObservedAlarm {
            name: a.name,
            namespace: Some(a.namespace),
            metric_name: Some(a.metric_name),
            dimensions: a.dimensions,
            statistic: Some(a.statistic),
            period: Some(60),
            evaluation_periods: Some(2),
            datapoints_to_alarm: None,
            threshold: Some(500.0),
            comparison: Some(a.comparison),
            treat_missing_data: Some(a.treat_missing_data),
            actions: vec![ARN.into()],
        }
    }

    fn compliant() -> VariantScaling {
        VariantScaling {
            target: Some(ScalableTarget {
                resource_id: RID.into(),
                dimension: Default::default(),
                min_capacity: 1,
                max_capacity: 4,
            }),
            policies: vec![ScalingPolicy {
                name: "autoscaling-guard-burst".into(),
                resource_id: RID.into(),
                dimension: Default::default(),
                arn: ARN.into(),
                policy_type: STEP_SCALING.into(),
                target_tracking: None,
                step: Some(StepConfig {
                    adjustment_type: Some("ChangeInCapacity".into()),
                    cooldown: Some(120),
                    metric_aggregation_type: Some("Maximum".into()),
                    min_adjustment_magnitude: None,
                    steps: vec![(Some(0.0), Some(1000.0), 1), (Some(1000.0), None, 3)],
                }),
            }],
            scheduled: vec![],
            alarms: vec![observed_alarm()],
        }
    }

    fn names(plan: VariantPlan) -> Vec<&'static str> {
        match plan {
            VariantPlan::Changes(c) => c.iter().map(Change::name).collect(),
            other => panic!("{other:?}"),
        }
    }

    fn fields(plan: VariantPlan) -> Vec<String> {
        match plan {
            VariantPlan::Changes(c) => c
                .iter()
                .flat_map(|c| c.because())
                .map(|d| format!("{} {}", d.subject, d.field))
                .collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_step_policy_never_ships_without_its_alarm() {
        let plan = plan(&desired(), &VariantScaling::default());
        assert_eq!(
            names(plan),
            ["register_target", "put_step_policy", "put_alarm"]
        );
    }

    #[test]
    fn a_compliant_step_policy_and_alarm_need_nothing() {
        assert_eq!(plan(&desired(), &compliant()), VariantPlan::Changes(vec![]));
    }

    #[test]
    fn a_changed_step_puts_the_policy_and_its_alarm_again() {
        let mut actual = compliant();
        actual.policies[0].step.as_mut().unwrap().steps[1].2 = 5;
        let p = plan(&desired(), &actual);
        assert_eq!(names(p.clone()), ["put_step_policy", "put_alarm"]);
        assert_eq!(
            fields(p),
            [
                "policy autoscaling-guard-burst steps",
                "alarm autoscaling-guard-e/v/burst alarm_actions"
            ]
        );
    }

    #[test]
    fn every_alarm_field_is_compared() {
        let mut actual = compliant();
        let a = &mut actual.alarms[0];
        a.threshold = Some(5000.0);
        a.period = Some(300);
        a.comparison = Some("GreaterThanThreshold".into());
        a.actions = vec!["arn:of:something:else".into()];
        assert_eq!(
            fields(plan(&desired(), &actual)),
            [
                "alarm autoscaling-guard-e/v/burst comparison",
                "alarm autoscaling-guard-e/v/burst period",
                "alarm autoscaling-guard-e/v/burst threshold",
                "alarm autoscaling-guard-e/v/burst alarm_actions",
            ]
        );
    }

    #[test]
    fn an_alarm_acts_on_the_observed_policy_or_on_the_one_being_put() {
        let arn_of_put_alarm = |plan: VariantPlan| match plan {
            VariantPlan::Changes(changes) => changes
                .into_iter()
                .find_map(|c| match c {
                    Change::PutAlarm { policy_arn, .. } => Some(policy_arn),
                    _ => None,
                })
                .expect("a put_alarm"),
            other => panic!("{other:?}"),
        };
        // The policy stays: its observed ARN.
        let mut actual = compliant();
        actual.alarms[0].threshold = Some(1.0);
        assert_eq!(
            arn_of_put_alarm(plan(&desired(), &actual)),
            Some(ARN.to_string())
        );
        // The policy is put again: the ARN that put returns, not the old one.
        let mut want = desired();
        want.step_policies[0].cooldown += 1;
        assert_eq!(arn_of_put_alarm(plan(&want, &compliant())), None);
    }

    #[test]
    fn an_alarm_without_the_owned_prefix_is_never_deleted() {
        let mut actual = compliant();
        let mut theirs = observed_alarm();
        theirs.name = "team-burst-alarm".into();
        actual.alarms.push(theirs);
        assert_eq!(plan(&desired(), &actual), VariantPlan::Changes(vec![]));
    }

    #[test]
    fn a_missing_alarm_is_put_alone() {
        let mut actual = compliant();
        actual.alarms.clear();
        assert_eq!(names(plan(&desired(), &actual)), ["put_alarm"]);
    }

    #[test]
    fn a_step_policy_that_left_the_set_takes_its_alarm_along() {
        let mut want = desired();
        want.step_policies.clear();
        assert_eq!(
            names(plan(&want, &compliant())),
            ["delete_alarm", "delete_policy"]
        );
    }

    #[test]
    fn a_target_tracking_policy_renamed_as_step_is_replaced() {
        let mut actual = compliant();
        actual.policies[0].policy_type = TARGET_TRACKING.into();
        actual.policies[0].step = None;
        assert_eq!(
            names(plan(&desired(), &actual)),
            ["delete_policy", "put_step_policy", "put_alarm"]
        );
    }
}
