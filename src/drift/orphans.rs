//! Orphans: scaling this tool owns on variants or endpoints that are gone.
//! Only resources that carry an owned policy are considered; a target with
//! none of ours is never touched.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::json;

use crate::difference::Subject;
use crate::domain::holdings::holdings;
use crate::domain::plan::{Action, AlarmAction, Change, Difference, ScalingAction};
use crate::domain::snapshot::{EndpointSnapshot, ObservedAlarm, ScalingPolicy, ScheduledAction};
use crate::domain::Dimension;
use crate::resource::Scaled;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrphanCause {
    EndpointGone,
    VariantGone,
    ComponentGone,
}

impl OrphanCause {
    pub fn as_str(&self) -> &'static str {
        match self {
            OrphanCause::EndpointGone => "endpoint_gone",
            OrphanCause::VariantGone => "variant_gone",
            OrphanCause::ComponentGone => "component_gone",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Orphan {
    #[serde(flatten)]
    pub subject: Scaled,
    pub dimension: Dimension,
    pub cause: OrphanCause,
    pub owned_policies: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub owned_scheduled_actions: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub owned_alarms: Vec<String>,
    /// Someone else's policies or scheduled actions on the same target: the
    /// target then stays.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub foreign: Vec<String>,
}

/// Finds orphan candidates: owned policies, scheduled actions and alarms
/// whose endpoint, variant or component is not in `endpoints`. Endpoints in
/// `unreadable` were listed but could not be read: a failed read says
/// nothing about what exists, so their scaling is no candidate. A
/// candidate is an orphan only once a fresh read finds it gone.
pub fn find_orphans(
    policies: &[ScalingPolicy],
    scheduled: &[ScheduledAction],
    alarms: &[ObservedAlarm],
    endpoints: &[EndpointSnapshot],
    unreadable: &BTreeSet<String>,
) -> Vec<Orphan> {
    let variants: BTreeMap<&str, BTreeSet<&str>> = endpoints
        .iter()
        .map(|e| {
            (
                e.name.as_str(),
                e.variants.iter().map(|v| v.name.as_str()).collect(),
            )
        })
        .collect();
    let components: BTreeSet<&str> = endpoints
        .iter()
        .flat_map(|e| e.components.iter().map(|c| c.name.as_str()))
        .collect();
    let mut orphans = Vec::new();
    for h in holdings(policies, scheduled, alarms).into_values() {
        let cause = match &h.subject {
            Scaled::Component { component } => {
                if components.contains(component.as_str()) {
                    continue;
                }
                OrphanCause::ComponentGone
            }
            Scaled::Variant { endpoint, variant } => {
                if unreadable.contains(endpoint) {
                    continue;
                }
                match variants.get(endpoint.as_str()) {
                    None => OrphanCause::EndpointGone,
                    Some(vs) if !vs.contains(variant.as_str()) => OrphanCause::VariantGone,
                    Some(_) => continue,
                }
            }
        };
        if !h.owns_anything() {
            continue;
        }
        orphans.push(Orphan {
            dimension: h.dimension.unwrap_or_default(),
            subject: h.subject,
            cause,
            owned_policies: h.owned_policies,
            owned_scheduled_actions: h.owned_scheduled,
            owned_alarms: h.owned_alarms,
            foreign: h.foreign,
        });
    }
    orphans
}

/// The changes that remove an orphan: its owned policies and scheduled
/// actions, then the target unless someone else's still uses it. They are
/// deleted explicitly rather than relying on deregistration to cascade.
pub fn plan_orphan(orphan: &Orphan) -> Vec<Change> {
    let gone = Difference::new(
        &Subject::ScalableTarget,
        match orphan.cause {
            OrphanCause::EndpointGone => "endpoint_exists",
            OrphanCause::VariantGone => "variant_exists",
            OrphanCause::ComponentGone => "inference_component_exists",
        },
        json!(false),
        json!(false),
    );
    let change = |action: Action| {
        Change::new(
            &orphan.subject,
            orphan.dimension,
            action,
            vec![gone.clone()],
        )
    };
    let mut changes: Vec<Change> = orphan
        .owned_policies
        .iter()
        .map(|name| {
            change(
                ScalingAction::DeletePolicy {
                    policy_name: name.clone(),
                }
                .into(),
            )
        })
        .collect();
    changes.extend(orphan.owned_scheduled_actions.iter().map(|name| {
        change(
            ScalingAction::DeleteScheduledAction {
                scheduled_action_name: name.clone(),
            }
            .into(),
        )
    }));
    // The alarms go too: real AWS removes a target's policies with it, not
    // the alarms that were created for them.
    changes.extend(orphan.owned_alarms.iter().map(|name| {
        change(
            AlarmAction::DeleteAlarm {
                alarm_name: name.clone(),
            }
            .into(),
        )
    }));
    // A target is only ours to remove if it carries something of ours.
    let ours = !orphan.owned_policies.is_empty() || !orphan.owned_scheduled_actions.is_empty();
    if ours && orphan.foreign.is_empty() {
        changes.push(change(ScalingAction::DeregisterTarget.into()));
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(rid: &str, name: &str) -> ScalingPolicy {
        ScalingPolicy::test(name, rid)
    }

    fn endpoint(name: &str, variants: &[&str]) -> EndpointSnapshot {
        EndpointSnapshot::test(name).variants(variants)
    }

    const OWNED: &str = "autoscaling-guard-invocations";

    fn none() -> BTreeSet<String> {
        BTreeSet::new()
    }

    #[test]
    fn scaling_of_an_endpoint_that_could_not_be_read_is_no_candidate() {
        let policies = [
            policy("endpoint/throttled/variant/a", OWNED),
            policy("endpoint/gone/variant/a", OWNED),
        ];
        let unreadable = BTreeSet::from(["throttled".to_string()]);
        let orphans = find_orphans(&policies, &[], &[], &[], &unreadable);
        let ids: Vec<_> = orphans.iter().map(|o| o.subject.resource_id()).collect();
        assert_eq!(ids, ["endpoint/gone/variant/a"]);
    }

    #[test]
    fn owned_policies_on_gone_endpoints_and_variants_are_orphans() {
        let policies = [
            policy("endpoint/live/variant/a", OWNED),
            policy("endpoint/live/variant/removed", OWNED),
            policy("endpoint/deleted/variant/a", OWNED),
            policy("endpoint/deleted/variant/a", "team-policy"),
            policy("endpoint/deleted/variant/b", "team-only"),
        ];
        let orphans = find_orphans(&policies, &[], &[], &[endpoint("live", &["a"])], &none());
        assert_eq!(orphans.len(), 2, "{orphans:?}");
        assert_eq!(
            orphans[0].subject.resource_id(),
            "endpoint/deleted/variant/a"
        );
        assert_eq!(orphans[0].cause, OrphanCause::EndpointGone);
        assert_eq!(orphans[0].foreign, ["policy team-policy"]);
        assert_eq!(
            orphans[1].subject.resource_id(),
            "endpoint/live/variant/removed"
        );
        assert_eq!(orphans[1].cause, OrphanCause::VariantGone);
    }

    #[test]
    fn a_live_fleet_has_no_orphans() {
        let policies = [
            policy("endpoint/e/variant/a", OWNED),
            policy("endpoint/e/variant/b", "x"),
        ];
        assert!(
            find_orphans(&policies, &[], &[], &[endpoint("e", &["a", "b"])], &none()).is_empty()
        );
    }

    #[test]
    fn removal_deletes_owned_policies_then_deregisters() {
        let orphan = &find_orphans(
            &[policy("endpoint/gone/variant/a", OWNED)],
            &[],
            &[],
            &[],
            &none(),
        )[0];
        let names: Vec<_> = plan_orphan(orphan).iter().map(Change::name).collect();
        assert_eq!(names, ["delete_policy", "deregister_target"]);
    }

    #[test]
    fn a_target_still_used_by_someone_else_is_kept() {
        let orphans = find_orphans(
            &[
                policy("endpoint/gone/variant/a", OWNED),
                policy("endpoint/gone/variant/a", "theirs"),
            ],
            &[],
            &[],
            &[],
            &none(),
        );
        let changes = plan_orphan(&orphans[0]);
        assert_eq!(changes.len(), 1);
        assert!(
            matches!(&changes[0].action, Action::Scaling(ScalingAction::DeletePolicy { policy_name }) if policy_name == OWNED)
        );
    }

    #[test]
    fn scaling_left_on_a_gone_inference_component_is_an_orphan() {
        let mut live = endpoint("llm", &["AllTraffic"]);
        live.components
            .push(crate::domain::snapshot::ComponentSnapshot {
                name: "chat".into(),
                variant: "AllTraffic".into(),
                status: "InService".into(),
                current_copies: Some(1),
                desired_copies: Some(1),
            });
        let mut gone = policy(
            "inference-component/old-chat",
            "autoscaling-guard-invocations-per-copy",
        );
        gone.dimension = Dimension::ComponentCopies;
        let policies = [
            policy(
                "inference-component/chat",
                "autoscaling-guard-invocations-per-copy",
            ),
            gone,
        ];
        let orphans = find_orphans(&policies, &[], &[], &[live], &none());
        assert_eq!(orphans.len(), 1, "{orphans:?}");
        assert_eq!(orphans[0].cause, OrphanCause::ComponentGone);
        assert_eq!(orphans[0].subject, Scaled::component("old-chat"));
        let changes = plan_orphan(&orphans[0]);
        assert!(changes
            .iter()
            .all(|c| c.dimension == Dimension::ComponentCopies));
        assert_eq!(changes.last().unwrap().name(), "deregister_target");
    }

    #[test]
    fn owned_scheduled_actions_are_orphans_too() {
        let scheduled = [ScheduledAction {
            name: "autoscaling-guard-morning".into(),
            resource_id: "endpoint/gone/variant/a".into(),
            dimension: Default::default(),
            schedule: "cron(0 8 ? * MON-FRI *)".into(),
            timezone: None,
            min_capacity: Some(2),
            max_capacity: None,
        }];
        let orphans = find_orphans(&[], &scheduled, &[], &[], &none());
        assert_eq!(
            orphans[0].owned_scheduled_actions,
            ["autoscaling-guard-morning"]
        );
        let names: Vec<_> = plan_orphan(&orphans[0]).iter().map(Change::name).collect();
        assert_eq!(names, ["delete_scheduled_action", "deregister_target"]);
    }
}

#[cfg(test)]
mod props {
    use proptest::collection::{btree_set, vec};
    use proptest::prelude::*;
    use proptest::sample::select;
    use proptest::test_runner::{Config, RngSeed};

    use super::*;
    use crate::domain::snapshot::ComponentSnapshot;
    use crate::resource::is_owned;

    const ENDPOINTS: [&str; 3] = ["a", "b", "c"];
    const VARIANTS: [&str; 2] = ["v1", "v2"];
    const COMPONENTS: [&str; 2] = ["x", "y"];

    fn config() -> Config {
        let base = Config::default();
        Config {
            cases: 256,
            failure_persistence: None,
            rng_seed: match base.rng_seed {
                RngSeed::Random => RngSeed::Fixed(0x0bad_cafe),
                given => given,
            },
            ..base
        }
    }

    /// A resource id on the small fleet, or an odd one.
    fn resource_id() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => (select(ENDPOINTS.to_vec()), select(VARIANTS.to_vec()))
                .prop_map(|(e, v)| Scaled::variant(e, v).resource_id()),
            2 => select(COMPONENTS.to_vec()).prop_map(|c| Scaled::component(c).resource_id()),
            1 => "[a-z/]{0,12}",
        ]
    }

    fn item_name() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("autoscaling-guard-invocations".to_string()),
            Just("autoscaling-guard-morning".to_string()),
            Just("team-policy".to_string()),
            "[a-z-]{1,20}",
        ]
    }

    fn alarm() -> impl Strategy<Value = String> {
        prop_oneof![
            (select(ENDPOINTS.to_vec()), select(VARIANTS.to_vec()))
                .prop_map(|(e, v)| Scaled::variant(e, v).alarm_name("burst")),
            select(COMPONENTS.to_vec()).prop_map(|c| Scaled::component(c).alarm_name("burst")),
            Just("team-alarm".to_string()),
            "autoscaling-guard-[a-z:/]{0,12}",
        ]
    }

    /// The fleet as read: endpoints with their variants and components, and
    /// the endpoints that could not be read.
    fn fleet() -> impl Strategy<Value = (Vec<EndpointSnapshot>, BTreeSet<String>)> {
        (vec(
            (
                0..3u8,
                btree_set(select(VARIANTS.to_vec()), 0..=2),
                btree_set(select(COMPONENTS.to_vec()), 0..=2),
            ),
            3,
        ),)
            .prop_map(|(states,)| {
                let mut read = Vec::new();
                let mut unreadable = BTreeSet::new();
                for (name, (state, variants, components)) in ENDPOINTS.iter().zip(states) {
                    match state {
                        0 => {}
                        1 => {
                            unreadable.insert(name.to_string());
                        }
                        _ => read.push(
                            components
                                .iter()
                                .fold(EndpointSnapshot::test(name).variants(variants), |e, c| {
                                    e.component(ComponentSnapshot::test(c, "host"))
                                }),
                        ),
                    }
                }
                (read, unreadable)
            })
    }

    fn policy(resource_id: String, name: String) -> ScalingPolicy {
        ScalingPolicy::test(&name, &resource_id)
    }

    fn scheduled(resource_id: String, name: String) -> ScheduledAction {
        ScheduledAction {
            name,
            resource_id,
            dimension: Default::default(),
            schedule: "rate(1 day)".into(),
            timezone: None,
            min_capacity: Some(1),
            max_capacity: None,
        }
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn orphan_removal_takes_only_what_is_owned_and_only_where_nothing_was_read(
            policies in vec((resource_id(), item_name()), 0..8),
            actions in vec((resource_id(), item_name()), 0..4),
            alarms in vec(alarm(), 0..4),
            (read, unreadable) in fleet(),
        ) {
            let policies: Vec<_> = policies.into_iter().map(|(r, n)| policy(r, n)).collect();
            let actions: Vec<_> = actions.into_iter().map(|(r, n)| scheduled(r, n)).collect();
            let alarms: Vec<_> = alarms.iter().map(|a| ObservedAlarm::test(a)).collect();
            for orphan in find_orphans(&policies, &actions, &alarms, &read, &unreadable) {
                let rid = orphan.subject.resource_id();
                let rid = rid.as_str();
                // Nothing of an endpoint that was read with this variant or
                // component, or that could not be read.
                let live = |e: &EndpointSnapshot| match &orphan.subject {
                    Scaled::Variant { endpoint, variant } => {
                        &e.name == endpoint && e.variants.iter().any(|v| &v.name == variant)
                    }
                    Scaled::Component { component } => e.components.iter().any(|c| &c.name == component),
                };
                prop_assert!(!read.iter().any(live), "{rid} is live");
                prop_assert!(!orphan.subject.endpoint().is_some_and(|e| unreadable.contains(e)), "{rid} was not read");
                let foreign = policies.iter().filter(|p| p.resource_id == rid).any(|p| !is_owned(&p.name))
                    || actions.iter().filter(|s| s.resource_id == rid).any(|s| !is_owned(&s.name));
                let changes = plan_orphan(&orphan);
                for change in &changes {
                    prop_assert_eq!(change.resource_id(), rid);
                    match &change.action {
                        Action::Scaling(ScalingAction::DeletePolicy { policy_name: n })
                        | Action::Scaling(ScalingAction::DeleteScheduledAction { scheduled_action_name: n })
                        | Action::Alarm(AlarmAction::DeleteAlarm { alarm_name: n }) => {
                            prop_assert!(is_owned(n), "deletes {n}")
                        }
                        Action::Scaling(ScalingAction::DeregisterTarget) => {
                            prop_assert!(!foreign, "deregisters {rid}, which someone else uses")
                        }
                        other => prop_assert!(false, "{other:?} in an orphan removal"),
                    }
                }
                // Everything owned there goes.
                let owned = policies.iter().filter(|p| p.resource_id == rid && is_owned(&p.name)).count()
                    + actions.iter().filter(|s| s.resource_id == rid && is_owned(&s.name)).count();
                let deletes = changes.iter().filter(|c| matches!(c.action, Action::Scaling(ScalingAction::DeletePolicy { .. } | ScalingAction::DeleteScheduledAction { .. }))).count();
                prop_assert_eq!(owned, deletes);
            }
        }
    }
}
