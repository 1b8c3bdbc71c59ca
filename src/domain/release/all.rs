//! Releasing everything: the uninstall. Every policy, scheduled action and
//! alarm this tool owns in the account and Region is removed, and every
//! scalable target that carries nothing else; a person's policies,
//! scheduled actions and alarms, and the targets they use, stay exactly as
//! they are. What is owned is decided by name alone, as everywhere else.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;

use crate::difference::Subject;
use crate::domain::holdings::{holdings, Holding};
use crate::domain::plan::{Action, AlarmAction, Change, Difference, ScalingAction};
use crate::domain::snapshot::{ObservedAlarm, ScalableTarget, ScalingPolicy, ScheduledAction};
use crate::domain::Dimension;
use crate::resource::Scaled;

/// The removal planned for one resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceRelease {
    pub resource_id: String,
    pub dimension: Dimension,
    /// Someone else's policies and scheduled actions on the resource: its
    /// target stays for them, untouched.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub target_kept_for: Vec<String>,
    /// In the order they are applied.
    pub changes: Vec<Change>,
}

/// The resources that hold anything this tool owns, grouped once from the
/// account's listings, by resource id.
pub struct Owned(BTreeMap<String, Holding>);

/// Groups the account's listings, keeping the resources that hold anything
/// owned.
pub fn owned(
    policies: &[ScalingPolicy],
    scheduled: &[ScheduledAction],
    alarms: &[ObservedAlarm],
) -> Owned {
    let mut by_resource = holdings(policies, scheduled, alarms);
    by_resource.retain(|_, h| h.owns_anything());
    Owned(by_resource)
}

impl Owned {
    /// The ids whose targets an uninstall must look up.
    pub fn resource_ids(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }

    /// Plans the uninstall: per resource that holds anything owned, its owned
    /// alarms, then its target when nothing foreign uses it, then its owned
    /// policies and scheduled actions.
    ///
    /// The target goes before its policies so that a run cut short never leaves
    /// a bare target behind: a target with nothing on it cannot be told from a
    /// person's, so no later run would remove it. Deregistering deletes the
    /// target's policies and scheduled actions with it (Application Auto
    /// Scaling does), and deleting one that is already gone counts as done, so
    /// the deletes after it only confirm.
    pub fn plan(self, targets: &[ScalableTarget]) -> Vec<ResourceRelease> {
        let targets: BTreeMap<&str, &ScalableTarget> = targets
            .iter()
            .map(|t| (t.resource_id.as_str(), t))
            .collect();
        let because = || {
            vec![Difference::new(
                &Subject::Account,
                "released",
                json!(false),
                json!(true),
            )]
        };
        let mut out = Vec::new();
        for (rid, h) in self.0 {
            let target = targets.get(rid.as_str()).copied();
            let owns_scaling = h.owns_scaling();
            let subject = &h.subject;
            let dimension = target
                .map(|t| t.dimension)
                .or(h.dimension)
                // Known from an alarm's name alone: the report's label only.
                .unwrap_or(match subject {
                    Scaled::Component { .. } => Dimension::ComponentCopies,
                    Scaled::Variant { .. } => Dimension::VariantInstances,
                });
            let change =
                |dimension, action: Action| Change::new(subject, dimension, action, because());
            let mut changes: Vec<Change> = h
                .owned_alarms
                .iter()
                .map(|name| {
                    change(
                        dimension,
                        AlarmAction::DeleteAlarm {
                            alarm_name: name.clone(),
                        }
                        .into(),
                    )
                })
                .collect();
            if let Some(t) = target.filter(|_| owns_scaling && h.foreign.is_empty()) {
                changes.push(change(t.dimension, ScalingAction::DeregisterTarget.into()));
            }
            changes.extend(h.owned_policies.iter().map(|name| {
                change(
                    dimension,
                    ScalingAction::DeletePolicy {
                        policy_name: name.clone(),
                    }
                    .into(),
                )
            }));
            changes.extend(h.owned_scheduled.iter().map(|name| {
                change(
                    dimension,
                    ScalingAction::DeleteScheduledAction {
                        scheduled_action_name: name.clone(),
                    }
                    .into(),
                )
            }));
            out.push(ResourceRelease {
                target_kept_for: if target.is_some() {
                    h.foreign
                } else {
                    Vec::new()
                },
                resource_id: rid,
                dimension,
                changes,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNED_A: &str = "endpoint/a/variant/primary";
    const MIXED: &str = "endpoint/b/variant/primary";
    const THEIRS: &str = "endpoint/c/variant/primary";
    const ALARM_ONLY: &str = "endpoint/d/variant/primary";

    fn policy(rid: &str, name: &str) -> ScalingPolicy {
        ScalingPolicy::test(name, rid).arn(format!("arn:{rid}:{name}"))
    }

    fn scheduled(rid: &str, name: &str) -> ScheduledAction {
        ScheduledAction {
            name: name.into(),
            resource_id: rid.into(),
            dimension: Dimension::VariantInstances,
            schedule: "rate(1 day)".into(),
            timezone: None,
            min_capacity: Some(1),
            max_capacity: None,
        }
    }

    fn target(rid: &str) -> ScalableTarget {
        ScalableTarget {
            resource_id: rid.into(),
            dimension: Dimension::VariantInstances,
            min_capacity: 1,
            max_capacity: 4,
        }
    }

    /// `action resource name` per change, in order.
    fn lines(plans: &[ResourceRelease]) -> Vec<String> {
        plans
            .iter()
            .flat_map(|p| &p.changes)
            .map(|c| {
                let name = match &c.action {
                    Action::Alarm(AlarmAction::DeleteAlarm { alarm_name }) => alarm_name.as_str(),
                    Action::Scaling(ScalingAction::DeletePolicy { policy_name }) => policy_name,
                    Action::Scaling(ScalingAction::DeleteScheduledAction {
                        scheduled_action_name,
                    }) => scheduled_action_name,
                    _ => "",
                };
                format!("{} {} {name}", c.name(), c.resource_id())
                    .trim_end()
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn only_owned_scaling_goes_and_a_target_only_when_nothing_else_uses_it() {
        let policies = [
            policy(OWNED_A, "autoscaling-guard-invocations"),
            policy(OWNED_A, "autoscaling-guard-burst"),
            policy(MIXED, "autoscaling-guard-invocations"),
            policy(MIXED, "team-latency"),
            policy(THEIRS, "team-latency"),
        ];
        let actions = [
            scheduled(OWNED_A, "autoscaling-guard-morning"),
            scheduled(THEIRS, "team-morning"),
        ];
        let alarms = [
            ObservedAlarm::test("autoscaling-guard-a/primary/burst"),
            ObservedAlarm::test("autoscaling-guard-d/primary/burst"),
            // Not a name this tool gives: not its alarm.
            ObservedAlarm::test("autoscaling-guard-oddly-named"),
        ];
        let targets = [target(OWNED_A), target(MIXED), target(THEIRS)];
        assert_eq!(
            owned(&policies, &actions, &alarms).resource_ids(),
            [OWNED_A, MIXED, ALARM_ONLY]
        );
        let plans = owned(&policies, &actions, &alarms).plan(&targets);
        assert_eq!(
            lines(&plans),
            [
                "delete_alarm endpoint/a/variant/primary autoscaling-guard-a/primary/burst",
                "deregister_target endpoint/a/variant/primary",
                "delete_policy endpoint/a/variant/primary autoscaling-guard-burst",
                "delete_policy endpoint/a/variant/primary autoscaling-guard-invocations",
                "delete_scheduled_action endpoint/a/variant/primary autoscaling-guard-morning",
                "delete_policy endpoint/b/variant/primary autoscaling-guard-invocations",
                "delete_alarm endpoint/d/variant/primary autoscaling-guard-d/primary/burst",
            ]
        );
        let mixed = plans.iter().find(|p| p.resource_id == MIXED).unwrap();
        assert_eq!(mixed.target_kept_for, ["policy team-latency"]);
        assert!(plans.iter().all(|p| p.resource_id != THEIRS));
        let because = plans[0].changes[0].because();
        assert_eq!(
            (because[0].subject.as_str(), because[0].field.as_str()),
            ("account", "released")
        );
    }

    #[test]
    fn a_bare_target_or_an_alarm_alone_keeps_its_target() {
        // A target with nothing on it cannot be told from a person's; one
        // that has only an owned alarm named for it is no different.
        let alarms = [ObservedAlarm::test("autoscaling-guard-d/primary/burst")];
        let plans = owned(&[], &[], &alarms).plan(&[target(ALARM_ONLY), target(THEIRS)]);
        assert_eq!(
            lines(&plans),
            ["delete_alarm endpoint/d/variant/primary autoscaling-guard-d/primary/burst"]
        );
        assert!(owned(&[], &[], &[]).plan(&[target(THEIRS)]).is_empty());
        let component = [ObservedAlarm::test("autoscaling-guard-ic:chat/from-zero")];
        let plans = owned(&[], &[], &component).plan(&[]);
        assert_eq!(
            (plans[0].resource_id.as_str(), plans[0].dimension),
            ("inference-component/chat", Dimension::ComponentCopies)
        );
    }

    #[test]
    fn owned_scaling_on_an_unregistered_target_is_still_removed() {
        let policies = [policy(OWNED_A, "autoscaling-guard-invocations")];
        let plans = owned(&policies, &[], &[]).plan(&[]);
        assert_eq!(
            lines(&plans),
            ["delete_policy endpoint/a/variant/primary autoscaling-guard-invocations"]
        );
    }
}
