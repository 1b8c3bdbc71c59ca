//! The pure step of a reconcile: given the desired and the actual scaling of
//! one variant, the changes that bring actual to desired, each carrying the
//! differences that call for it.

use serde::Serialize;
use serde_json::{json, Value};

use super::desired::{DesiredPolicy, DesiredScaling, DesiredSchedule, MetricSpec, SkipReason};
use super::is_owned;
use super::snapshot::{ObservedMetric, ScalingPolicy, ScheduledAction, VariantScaling};

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
        min_capacity: i32,
        max_capacity: i32,
        because: Vec<Difference>,
    },
    DeletePolicy {
        resource_id: String,
        policy_name: String,
        because: Vec<Difference>,
    },
    PutTargetTrackingPolicy {
        resource_id: String,
        policy: DesiredPolicy,
        because: Vec<Difference>,
    },
    PutScheduledAction {
        resource_id: String,
        scheduled_action: DesiredSchedule,
        because: Vec<Difference>,
    },
    DeleteScheduledAction {
        resource_id: String,
        scheduled_action_name: String,
        because: Vec<Difference>,
    },
    /// Only for orphans: targets whose endpoint or variant is gone.
    DeregisterTarget {
        resource_id: String,
        because: Vec<Difference>,
    },
}

impl Change {
    pub fn because(&self) -> &[Difference] {
        match self {
            Change::RegisterTarget { because, .. }
            | Change::DeletePolicy { because, .. }
            | Change::PutTargetTrackingPolicy { because, .. }
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
            Change::PutScheduledAction { .. } => "put_scheduled_action",
            Change::DeleteScheduledAction { .. } => "delete_scheduled_action",
            Change::DeregisterTarget { .. } => "deregister_target",
        }
    }

    pub fn resource_id(&self) -> &str {
        match self {
            Change::RegisterTarget { resource_id, .. }
            | Change::DeletePolicy { resource_id, .. }
            | Change::PutTargetTrackingPolicy { resource_id, .. }
            | Change::PutScheduledAction { resource_id, .. }
            | Change::DeleteScheduledAction { resource_id, .. }
            | Change::DeregisterTarget { resource_id, .. } => resource_id,
        }
    }
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

fn policy_differences(desired: &DesiredPolicy, actual: &ScalingPolicy) -> Vec<Difference> {
    let subject = format!("policy {}", desired.name);
    let diff = |field: &str, a: Value, d: Value| Difference::new(subject.clone(), field, a, d);
    if actual.policy_type != TARGET_TRACKING {
        return vec![diff(
            "policy_type",
            json!(actual.policy_type),
            json!(TARGET_TRACKING),
        )];
    }
    let Some(tt) = &actual.target_tracking else {
        return vec![diff("configuration", Value::Null, json!("target tracking"))];
    };
    let mut out = Vec::new();
    if !same_metric(&desired.metric, &tt.metric) {
        out.push(diff(
            "metric",
            observed_metric_json(&tt.metric),
            metric_json(&desired.metric),
        ));
    }
    if !same_value(tt.target_value, desired.target_value) {
        out.push(diff(
            "target_value",
            json!(tt.target_value),
            json!(desired.target_value),
        ));
    }
    if tt.scale_in_cooldown != Some(desired.scale_in_cooldown) {
        out.push(diff(
            "scale_in_cooldown",
            json!(tt.scale_in_cooldown),
            json!(desired.scale_in_cooldown),
        ));
    }
    if tt.scale_out_cooldown != Some(desired.scale_out_cooldown) {
        out.push(diff(
            "scale_out_cooldown",
            json!(tt.scale_out_cooldown),
            json!(desired.scale_out_cooldown),
        ));
    }
    if tt.disable_scale_in != desired.disable_scale_in {
        out.push(diff(
            "disable_scale_in",
            json!(tt.disable_scale_in),
            json!(desired.disable_scale_in),
        ));
    }
    out
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
    let subject = format!("scheduled action {}", desired.name);
    let diff = |field: &str, a: Value, d: Value| Difference::new(subject.clone(), field, a, d);
    let mut out = Vec::new();
    if desired.schedule != actual.schedule {
        out.push(diff(
            "schedule",
            json!(actual.schedule),
            json!(desired.schedule),
        ));
    }
    if !same_timezone(desired.timezone.as_deref(), actual.timezone.as_deref()) {
        out.push(diff(
            "timezone",
            json!(actual.timezone),
            json!(desired.timezone),
        ));
    }
    if desired.min_capacity != actual.min_capacity {
        out.push(diff(
            "min_capacity",
            json!(actual.min_capacity),
            json!(desired.min_capacity),
        ));
    }
    if desired.max_capacity != actual.max_capacity {
        out.push(diff(
            "max_capacity",
            json!(actual.max_capacity),
            json!(desired.max_capacity),
        ));
    }
    out
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

    let rid = &desired.resource_id;
    let mut register = Vec::new();
    let mut deletes = Vec::new();
    let mut puts = Vec::new();

    match &actual.target {
        None => register.push(Difference::new(
            "scalable_target",
            "registered",
            json!(false),
            json!(true),
        )),
        Some(t) => {
            if t.min_capacity != desired.min_capacity {
                register.push(Difference::new(
                    "scalable_target",
                    "min_capacity",
                    json!(t.min_capacity),
                    json!(desired.min_capacity),
                ));
            }
            if t.max_capacity != desired.max_capacity {
                register.push(Difference::new(
                    "scalable_target",
                    "max_capacity",
                    json!(t.max_capacity),
                    json!(desired.max_capacity),
                ));
            }
        }
    }

    for want in &desired.policies {
        let because = match actual.policies.iter().find(|p| p.name == want.name) {
            None => present(format!("policy {}", want.name)),
            Some(have) => {
                let because = policy_differences(want, have);
                // A policy cannot change its type in place: remove it first.
                if !because.is_empty() && have.policy_type != TARGET_TRACKING {
                    deletes.push(Change::DeletePolicy {
                        resource_id: rid.clone(),
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
                policy: want.clone(),
                because,
            });
        }
    }
    for have in &actual.policies {
        if !desired.policies.iter().any(|w| w.name == have.name) {
            deletes.push(Change::DeletePolicy {
                resource_id: rid.clone(),
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
                scheduled_action: want.clone(),
                because,
            });
        }
    }
    for have in &actual.scheduled {
        if !desired.scheduled.iter().any(|w| w.name == have.name) {
            deletes.push(Change::DeleteScheduledAction {
                resource_id: rid.clone(),
                scheduled_action_name: have.name.clone(),
                because: not_in_set(format!("scheduled action {}", have.name)),
            });
        }
    }

    let mut changes = Vec::new();
    if !register.is_empty() {
        changes.push(Change::RegisterTarget {
            resource_id: rid.clone(),
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
    use crate::domain::snapshot::{ScalableTarget, TargetTracking};

    const RID: &str = "endpoint/e/variant/v";

    fn desired() -> DesiredScaling {
        DesiredScaling {
            variant: "v".into(),
            resource_id: RID.into(),
            min_capacity: 1,
            max_capacity: 4,
            max_raised_to_running: false,
            policies: vec![DesiredPolicy {
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
        }
    }

    fn target(min: i32, max: i32) -> ScalableTarget {
        ScalableTarget {
            resource_id: RID.into(),
            min_capacity: min,
            max_capacity: max,
        }
    }

    fn owned_policy() -> ScalingPolicy {
        ScalingPolicy {
            name: "autoscaling-guard-invocations".into(),
            resource_id: RID.into(),
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
