//! The pure step of a reconcile: given the desired and the actual scaling of
//! one variant, the changes that bring actual to desired, each carrying the
//! differences that call for it.

use serde::Serialize;
use serde_json::json;

use super::desired::{DesiredAlarm, DesiredPolicy, DesiredScaling, DesiredSchedule, SkipReason};
use super::snapshot::{ObservedAlarm, ScalingPolicy, ScheduledAction, VariantScaling};
use super::Dimension;
pub use crate::difference::Difference;
use crate::difference::{same_value, Differences, Subject};
use crate::resource::is_owned;
use crate::resource::Scaled;

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
// A plan holds a handful of changes: boxing the policy would buy nothing.
#[allow(clippy::large_enum_variant)]
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
    PutPolicy {
        policy: DesiredPolicy,
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
                ScalingAction::PutPolicy { policy } => policy.put_action(),
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

fn alarm_differences(
    desired: &DesiredAlarm,
    actual: &ObservedAlarm,
    policy_arn: &str,
) -> Vec<Difference> {
    let mut d = Differences::of(Subject::Alarm(desired.name.clone()));
    d.text("namespace", actual.namespace.as_deref(), &desired.namespace);
    d.text(
        "metric_name",
        actual.metric_name.as_deref(),
        &desired.metric_name,
    );
    d.text(
        "statistic",
        actual.statistic.as_ref().map(|s| s.as_str()),
        desired.statistic.as_str(),
    );
    d.text(
        "comparison",
        actual.comparison.as_ref().map(|c| c.as_str()),
        desired.comparison.as_str(),
    );
    d.text(
        "treat_missing_data",
        actual.treat_missing_data.as_deref(),
        desired.treat_missing_data.as_str(),
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
    let mut d = Differences::of(Subject::ScheduledAction(desired.name.clone()));
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

fn present(subject: Subject) -> Vec<Difference> {
    vec![Difference::new(
        &subject,
        "present",
        json!(false),
        json!(true),
    )]
}

fn not_in_set(subject: Subject) -> Vec<Difference> {
    vec![Difference::new(
        &subject,
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

/// An observed item: how differences name it and how it is deleted.
trait Observed {
    /// What an item of this kind named `name` is, in differences.
    fn subject(name: &str) -> Subject;
    fn name(&self) -> &str;
    fn delete(&self) -> Action;
}

impl Observed for ScalingPolicy {
    fn subject(name: &str) -> Subject {
        Subject::Policy(name.to_string())
    }
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
    fn subject(name: &str) -> Subject {
        Subject::ScheduledAction(name.to_string())
    }
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
    fn subject(name: &str) -> Subject {
        Subject::Alarm(name.to_string())
    }
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

impl Item for DesiredPolicy {
    type Observed = ScalingPolicy;
    fn name(&self) -> &str {
        DesiredPolicy::name(self)
    }
    fn differences(&self, have: &ScalingPolicy) -> Vec<Difference> {
        DesiredPolicy::differences(self, &have.policy_type, have.config.as_ref())
    }
    fn put(&self) -> Action {
        ScalingAction::PutPolicy {
            policy: self.clone(),
        }
        .into()
    }
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
                None => present(W::Observed::subject(w.name())),
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
            self.delete(h.delete(), not_in_set(O::subject(h.name())));
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

    /// Puts each wanted policy that differs; one of another type under its
    /// name is deleted first (a policy cannot change its type in place).
    fn policies(
        &mut self,
        want: &'a [DesiredPolicy],
        have: &'a [ScalingPolicy],
    ) -> Vec<Matched<'a, DesiredPolicy>> {
        let matched = match_by_name(want, have);
        for m in &matched {
            if let Some(h) = m
                .have
                .filter(|h| !m.because.is_empty() && h.policy_type != m.want.policy_type())
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

    /// The alarm of a policy follows its policy: it is put again whenever
    /// the policy is. Owned alarms no policy names are deleted. Returns the
    /// alarm puts, which run after the policy puts.
    fn alarms(
        &mut self,
        policies: &[Matched<DesiredPolicy>],
        have: &[ObservedAlarm],
    ) -> Vec<Change> {
        let mut puts = Vec::new();
        let with_alarm = || policies.iter().filter_map(|p| Some((p, p.want.alarm()?)));
        for (step, want) in with_alarm() {
            let policy_changes = !step.because.is_empty();
            let because = match (have.iter().find(|a| a.name == want.name), step.have) {
                (None, _) => present(Subject::Alarm(want.name.clone())),
                (Some(_), _) if policy_changes => vec![Difference::new(
                    &Subject::Alarm(want.name.clone()),
                    "alarm_actions",
                    json!("the policy before this change"),
                    json!(Subject::Policy(step.want.name().to_string()).to_string()),
                )],
                (Some(a), Some(p)) => alarm_differences(want, a, &p.arn),
                (Some(_), None) => unreachable!("no policy means the policy changes"),
            };
            if !because.is_empty() {
                let action = AlarmAction::PutAlarm {
                    policy_name: step.want.name().to_string(),
                    policy_arn: step.have.filter(|_| !policy_changes).map(|p| p.arn.clone()),
                    alarm: want.clone(),
                };
                puts.push(self.change(action, because));
            }
        }
        let listed: Vec<&str> = with_alarm().map(|(_, a)| a.name.as_str()).collect();
        // Only owned alarms are ever deleted, whatever the observation holds.
        self.delete_unlisted(have.iter().filter(|a| is_owned(&a.name)), &listed);
        puts
    }
}

/// How the registered target differs from the desired one.
fn target_differences(desired: &DesiredScaling, actual: &VariantScaling) -> Vec<Difference> {
    let mut target = Differences::of(Subject::ScalableTarget);
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
    let policies = w.policies(&desired.policies, &actual.policies);
    let alarm_puts = w.alarms(&policies, &actual.alarms);
    let listed: Vec<&str> = desired.policies.iter().map(Item::name).collect();
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
