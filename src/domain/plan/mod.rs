//! The pure step of a reconcile: given the desired and the actual scaling of
//! one variant, the changes that bring actual to desired, each carrying the
//! differences that call for it.

use serde::Serialize;
use serde_json::{json, Value};

use super::desired::{
    DesiredAlarm, DesiredScaling, DesiredSchedule, DesiredStepPolicy, DesiredTargetTracking,
    MetricSpec, SkipReason,
};
use super::resource::Scaled;
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

/// A write that brings one variant closer to its desired scaling: what it
/// is about, what it does (on one backend), and the differences that call
/// for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub subject: Scaled,
    pub dimension: Dimension,
    pub action: Action,
    pub because: Vec<Difference>,
}

/// A write, by the service that performs it: the type keeps alarm writes
/// away from the Application Auto Scaling client and the other way round.
/// It serializes as its fields only: a `Change` adds the action's name.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Action {
    Scaling(ScalingAction),
    Alarm(AlarmAction),
}

/// A write to Application Auto Scaling.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ScalingAction {
    RegisterTarget {
        min_capacity: i32,
        max_capacity: i32,
    },
    DeletePolicy {
        policy_name: String,
    },
    PutTargetTrackingPolicy {
        policy: DesiredTargetTracking,
    },
    PutStepPolicy {
        policy: DesiredStepPolicy,
    },
    PutScheduledAction {
        scheduled_action: DesiredSchedule,
    },
    DeleteScheduledAction {
        scheduled_action_name: String,
    },
    /// Only for orphans and releases: targets whose endpoint or variant is
    /// gone, or that are handed back.
    DeregisterTarget,
}

/// A write to CloudWatch.
// A plan holds a handful of changes: boxing the alarm would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AlarmAction {
    /// The alarm's one action is the step policy `policy_name`: its ARN as
    /// observed when the policy stays as it is, or, when this plan puts the
    /// policy first (`None` here), the ARN that PutScalingPolicy returns,
    /// filled in when the change is applied.
    PutAlarm {
        policy_name: String,
        policy_arn: Option<String>,
        alarm: DesiredAlarm,
    },
    DeleteAlarm {
        alarm_name: String,
    },
}

impl From<ScalingAction> for Action {
    fn from(a: ScalingAction) -> Self {
        Action::Scaling(a)
    }
}

impl From<AlarmAction> for Action {
    fn from(a: AlarmAction) -> Self {
        Action::Alarm(a)
    }
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Scaling(a) => match a {
                ScalingAction::RegisterTarget { .. } => "register_target",
                ScalingAction::DeletePolicy { .. } => "delete_policy",
                ScalingAction::PutTargetTrackingPolicy { .. } => "put_target_tracking_policy",
                ScalingAction::PutStepPolicy { .. } => "put_step_policy",
                ScalingAction::PutScheduledAction { .. } => "put_scheduled_action",
                ScalingAction::DeleteScheduledAction { .. } => "delete_scheduled_action",
                ScalingAction::DeregisterTarget => "deregister_target",
            },
            Action::Alarm(a) => match a {
                AlarmAction::PutAlarm { .. } => "put_alarm",
                AlarmAction::DeleteAlarm { .. } => "delete_alarm",
            },
        }
    }
}

impl Change {
    pub fn new(
        subject: &Scaled,
        dimension: Dimension,
        action: impl Into<Action>,
        because: Vec<Difference>,
    ) -> Self {
        Self {
            subject: subject.clone(),
            dimension,
            action: action.into(),
            because,
        }
    }

    pub fn because(&self) -> &[Difference] {
        &self.because
    }

    pub fn name(&self) -> &'static str {
        self.action.name()
    }

    pub fn resource_id(&self) -> String {
        self.subject.resource_id()
    }
}

/// `{"action": <name>, "resource_id", "dimension", <the action's fields>,
/// "because"}`: the form reports have always had.
impl Serialize for Change {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            action: &'static str,
            resource_id: String,
            dimension: Dimension,
            #[serde(flatten)]
            fields: &'a Action,
            because: &'a [Difference],
        }
        Wire {
            action: self.name(),
            resource_id: self.resource_id(),
            dimension: self.dimension,
            fields: &self.action,
            because: &self.because,
        }
        .serialize(serializer)
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

/// A kind of item a variant's scaling lists by name (a policy type, a
/// scheduled action): what `plan` needs to match wanted items to observed
/// ones, diff them and put them.
trait Item {
    type Observed: Observed;
    fn name(&self) -> &str;
    fn differences(&self, have: &Self::Observed) -> Vec<Difference>;
    fn put(&self) -> Action;
}

/// A policy type: its items share the observed policies with the other
/// types, and a policy cannot change its type in place.
trait PolicyKind: Item<Observed = ScalingPolicy> {
    const POLICY_TYPE: &'static str;
}

/// An observed item: how differences name it and how it is deleted.
trait Observed {
    /// `policy`, `scheduled action`, `alarm`.
    const NOUN: &'static str;
    fn name(&self) -> &str;
    fn delete(&self) -> Action;
}

impl Observed for ScalingPolicy {
    const NOUN: &'static str = "policy";
    fn name(&self) -> &str {
        &self.name
    }
    fn delete(&self) -> Action {
        ScalingAction::DeletePolicy {
            policy_name: self.name.clone(),
        }
        .into()
    }
}

impl Observed for ScheduledAction {
    const NOUN: &'static str = "scheduled action";
    fn name(&self) -> &str {
        &self.name
    }
    fn delete(&self) -> Action {
        ScalingAction::DeleteScheduledAction {
            scheduled_action_name: self.name.clone(),
        }
        .into()
    }
}

impl Observed for ObservedAlarm {
    const NOUN: &'static str = "alarm";
    fn name(&self) -> &str {
        &self.name
    }
    fn delete(&self) -> Action {
        AlarmAction::DeleteAlarm {
            alarm_name: self.name.clone(),
        }
        .into()
    }
}

impl Item for DesiredTargetTracking {
    type Observed = ScalingPolicy;
    fn name(&self) -> &str {
        &self.name
    }
    fn differences(&self, have: &ScalingPolicy) -> Vec<Difference> {
        policy_differences(self, have)
    }
    fn put(&self) -> Action {
        ScalingAction::PutTargetTrackingPolicy {
            policy: self.clone(),
        }
        .into()
    }
}

impl PolicyKind for DesiredTargetTracking {
    const POLICY_TYPE: &'static str = TARGET_TRACKING;
}

impl Item for DesiredStepPolicy {
    type Observed = ScalingPolicy;
    fn name(&self) -> &str {
        &self.name
    }
    fn differences(&self, have: &ScalingPolicy) -> Vec<Difference> {
        step_differences(self, have)
    }
    fn put(&self) -> Action {
        ScalingAction::PutStepPolicy {
            policy: self.clone(),
        }
        .into()
    }
}

impl PolicyKind for DesiredStepPolicy {
    const POLICY_TYPE: &'static str = STEP_SCALING;
}

impl Item for DesiredSchedule {
    type Observed = ScheduledAction;
    fn name(&self) -> &str {
        &self.name
    }
    fn differences(&self, have: &ScheduledAction) -> Vec<Difference> {
        schedule_differences(self, have)
    }
    fn put(&self) -> Action {
        ScalingAction::PutScheduledAction {
            scheduled_action: self.clone(),
        }
        .into()
    }
}

/// A wanted item, the observed item of the same name, and the differences
/// that call for putting it (none: it is as wanted).
struct Matched<'a, W: Item> {
    want: &'a W,
    have: Option<&'a W::Observed>,
    because: Vec<Difference>,
}

/// Matches wanted items to observed ones by name and diffs each pair; an
/// item not observed at all is missing as a whole.
fn match_by_name<'a, W: Item>(want: &'a [W], have: &'a [W::Observed]) -> Vec<Matched<'a, W>> {
    want.iter()
        .map(|w| {
            let have = have.iter().find(|h| h.name() == w.name());
            let because = match have {
                None => present(format!("{} {}", W::Observed::NOUN, w.name())),
                Some(h) => w.differences(h),
            };
            Matched {
                want: w,
                have,
                because,
            }
        })
        .collect()
}

/// The changes of one plan, in the order they must run: register first
/// (policies need the target), deletes before puts (a policy whose type
/// changed is recreated, not rejected).
struct Writes<'a> {
    desired: &'a DesiredScaling,
    deletes: Vec<Change>,
    puts: Vec<Change>,
}

impl<'a> Writes<'a> {
    fn change(&self, action: impl Into<Action>, because: Vec<Difference>) -> Change {
        Change::new(
            &self.desired.subject,
            self.desired.dimension,
            action,
            because,
        )
    }

    fn delete(&mut self, action: impl Into<Action>, because: Vec<Difference>) {
        let change = self.change(action, because);
        self.deletes.push(change);
    }

    fn put(&mut self, action: Action, because: Vec<Difference>) {
        let change = self.change(action, because);
        self.puts.push(change);
    }

    /// Deletes each observed item whose name `listed` does not hold.
    fn delete_unlisted<'b, O: Observed + 'b>(
        &mut self,
        have: impl IntoIterator<Item = &'b O>,
        listed: &[&str],
    ) {
        for h in have.into_iter().filter(|h| !listed.contains(&h.name())) {
            self.delete(h.delete(), not_in_set(format!("{} {}", O::NOUN, h.name())));
        }
    }

    /// The generic step for one kind: match by name, diff, put what
    /// differs, delete what the set no longer lists.
    fn sync<W: Item>(&mut self, want: &[W], have: &[W::Observed]) {
        let matched = match_by_name(want, have);
        self.put_differing(&matched);
        let listed: Vec<&str> = want.iter().map(Item::name).collect();
        self.delete_unlisted(have, &listed);
    }

    /// Puts every wanted item that differs from what is observed.
    fn put_differing<W: Item>(&mut self, matched: &[Matched<W>]) {
        for m in matched.iter().filter(|m| !m.because.is_empty()) {
            self.put(m.want.put(), m.because.clone());
        }
    }

    /// Puts each wanted policy of one type that differs; one of another
    /// type under its name is deleted first.
    fn policies<W: PolicyKind>(
        &mut self,
        want: &'a [W],
        have: &'a [ScalingPolicy],
    ) -> Vec<Matched<'a, W>> {
        let matched = match_by_name(want, have);
        for m in &matched {
            if let Some(h) = m
                .have
                .filter(|h| !m.because.is_empty() && h.policy_type != W::POLICY_TYPE)
            {
                self.delete(
                    ScalingAction::DeletePolicy {
                        policy_name: h.name.clone(),
                    },
                    m.because.clone(),
                );
            }
        }
        self.put_differing(&matched);
        matched
    }

    /// The alarm of each step policy follows its policy: it is put again
    /// whenever the policy is. Owned alarms no policy names are deleted.
    /// Returns the alarm puts, which run after the policy puts.
    fn alarms(
        &mut self,
        steps: &[Matched<DesiredStepPolicy>],
        have: &[ObservedAlarm],
    ) -> Vec<Change> {
        let mut puts = Vec::new();
        for step in steps {
            let want = &step.want.alarm;
            let policy_changes = !step.because.is_empty();
            let because = match (have.iter().find(|a| a.name == want.name), step.have) {
                (None, _) => present(format!("alarm {}", want.name)),
                (Some(_), _) if policy_changes => vec![Difference::new(
                    format!("alarm {}", want.name),
                    "alarm_actions",
                    json!("the policy before this change"),
                    json!(format!("policy {}", step.want.name)),
                )],
                (Some(a), Some(p)) => alarm_differences(want, a, &p.arn),
                (Some(_), None) => unreachable!("no policy means the policy changes"),
            };
            if !because.is_empty() {
                let action = AlarmAction::PutAlarm {
                    policy_name: step.want.name.clone(),
                    policy_arn: step.have.filter(|_| !policy_changes).map(|p| p.arn.clone()),
                    alarm: want.clone(),
                };
                puts.push(self.change(action, because));
            }
        }
        let listed: Vec<&str> = steps.iter().map(|s| s.want.alarm.name.as_str()).collect();
        // Only owned alarms are ever deleted, whatever the observation holds.
        self.delete_unlisted(have.iter().filter(|a| is_owned(&a.name)), &listed);
        puts
    }
}

/// How the registered target differs from the desired one.
fn target_differences(desired: &DesiredScaling, actual: &VariantScaling) -> Vec<Difference> {
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
    target.done()
}

/// Plans one variant. Pure: the same inputs always give the same plan.
pub fn plan(desired: &DesiredScaling, actual: &VariantScaling) -> VariantPlan {
    let names = actual.foreign_items();
    if !names.is_empty() {
        return VariantPlan::Skip(SkipReason::ForeignPolicies { names });
    }
    let mut w = Writes {
        desired,
        deletes: Vec::new(),
        puts: Vec::new(),
    };
    w.policies(&desired.policies, &actual.policies);
    let steps = w.policies(&desired.step_policies, &actual.policies);
    let alarm_puts = w.alarms(&steps, &actual.alarms);
    let listed: Vec<&str> = desired
        .policies
        .iter()
        .map(Item::name)
        .chain(desired.step_policies.iter().map(Item::name))
        .collect();
    w.delete_unlisted(&actual.policies, &listed);
    w.puts.extend(alarm_puts);
    w.sync(&desired.scheduled, &actual.scheduled);

    let mut changes = Vec::new();
    let register = target_differences(desired, actual);
    if !register.is_empty() {
        let action = ScalingAction::RegisterTarget {
            min_capacity: desired.min_capacity,
            max_capacity: desired.max_capacity,
        };
        changes.push(w.change(action, register));
    }
    changes.extend(w.deletes);
    changes.extend(w.puts);
    VariantPlan::Changes(changes)
}

#[cfg(test)]
mod tests;
