//! Orphans: scaling this tool owns on variants or endpoints that are gone.
//! Only resources that carry an owned policy are considered; a target with
//! none of ours is never touched.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::json;

use crate::domain::plan::{Change, Difference};
use crate::domain::snapshot::{EndpointSnapshot, ScalingPolicy};
use crate::domain::{is_owned, parse_variant_resource_id};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrphanCause {
    EndpointGone,
    VariantGone,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Orphan {
    pub resource_id: String,
    pub endpoint: String,
    pub variant: String,
    pub cause: OrphanCause,
    pub owned_policies: Vec<String>,
    /// Someone else's policies on the same target: the target then stays.
    pub foreign_policies: Vec<String>,
}

/// Finds owned policies whose endpoint or variant is not in `endpoints`.
pub fn find_orphans(policies: &[ScalingPolicy], endpoints: &[EndpointSnapshot]) -> Vec<Orphan> {
    let variants: BTreeMap<&str, BTreeSet<&str>> = endpoints
        .iter()
        .map(|e| {
            (
                e.name.as_str(),
                e.variants.iter().map(|v| v.name.as_str()).collect(),
            )
        })
        .collect();
    let mut by_resource: BTreeMap<&str, Vec<&ScalingPolicy>> = BTreeMap::new();
    for p in policies {
        by_resource
            .entry(p.resource_id.as_str())
            .or_default()
            .push(p);
    }
    let mut orphans = Vec::new();
    for (rid, policies) in by_resource {
        let Some((endpoint, variant)) = parse_variant_resource_id(rid) else {
            continue;
        };
        let cause = match variants.get(endpoint) {
            None => OrphanCause::EndpointGone,
            Some(vs) if !vs.contains(variant) => OrphanCause::VariantGone,
            Some(_) => continue,
        };
        let (owned, foreign): (Vec<&ScalingPolicy>, Vec<&ScalingPolicy>) =
            policies.into_iter().partition(|p| is_owned(&p.name));
        if owned.is_empty() {
            continue;
        }
        let names = |ps: Vec<&ScalingPolicy>| {
            let mut n: Vec<String> = ps.into_iter().map(|p| p.name.clone()).collect();
            n.sort();
            n
        };
        orphans.push(Orphan {
            resource_id: rid.to_string(),
            endpoint: endpoint.to_string(),
            variant: variant.to_string(),
            cause,
            owned_policies: names(owned),
            foreign_policies: names(foreign),
        });
    }
    orphans
}

/// The changes that remove an orphan: its owned policies, then the target
/// unless someone else's policy still uses it. Policies are deleted
/// explicitly rather than relying on deregistration to cascade.
pub fn plan_orphan(orphan: &Orphan) -> Vec<Change> {
    let gone = Difference::new(
        "scalable_target",
        match orphan.cause {
            OrphanCause::EndpointGone => "endpoint_exists",
            OrphanCause::VariantGone => "variant_exists",
        },
        json!(false),
        json!(false),
    );
    let mut changes: Vec<Change> = orphan
        .owned_policies
        .iter()
        .map(|name| Change::DeletePolicy {
            resource_id: orphan.resource_id.clone(),
            policy_name: name.clone(),
            because: vec![gone.clone()],
        })
        .collect();
    if orphan.foreign_policies.is_empty() {
        changes.push(Change::DeregisterTarget {
            resource_id: orphan.resource_id.clone(),
            because: vec![gone],
        });
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::snapshot::VariantSnapshot;

    fn policy(rid: &str, name: &str) -> ScalingPolicy {
        ScalingPolicy {
            name: name.into(),
            resource_id: rid.into(),
            policy_type: "TargetTrackingScaling".into(),
            target_tracking: None,
        }
    }

    fn endpoint(name: &str, variants: &[&str]) -> EndpointSnapshot {
        EndpointSnapshot {
            name: name.into(),
            arn: String::new(),
            status: "InService".into(),
            config_name: String::new(),
            is_async: false,
            tags: Default::default(),
            variants: variants
                .iter()
                .map(|v| VariantSnapshot {
                    name: v.to_string(),
                    instance_type: None,
                    current_instance_count: None,
                    desired_instance_count: None,
                    serverless: false,
                })
                .collect(),
        }
    }

    const OWNED: &str = "autoscaling-guard-invocations";

    #[test]
    fn owned_policies_on_gone_endpoints_and_variants_are_orphans() {
        let policies = [
            policy("endpoint/live/variant/a", OWNED),
            policy("endpoint/live/variant/removed", OWNED),
            policy("endpoint/deleted/variant/a", OWNED),
            policy("endpoint/deleted/variant/a", "team-policy"),
            policy("endpoint/deleted/variant/b", "team-only"),
            policy("inference-component/ic-1", OWNED),
        ];
        let orphans = find_orphans(&policies, &[endpoint("live", &["a"])]);
        assert_eq!(orphans.len(), 2, "{orphans:?}");
        assert_eq!(orphans[0].resource_id, "endpoint/deleted/variant/a");
        assert_eq!(orphans[0].cause, OrphanCause::EndpointGone);
        assert_eq!(orphans[0].foreign_policies, ["team-policy"]);
        assert_eq!(orphans[1].resource_id, "endpoint/live/variant/removed");
        assert_eq!(orphans[1].cause, OrphanCause::VariantGone);
    }

    #[test]
    fn a_live_fleet_has_no_orphans() {
        let policies = [
            policy("endpoint/e/variant/a", OWNED),
            policy("endpoint/e/variant/b", "x"),
        ];
        assert!(find_orphans(&policies, &[endpoint("e", &["a", "b"])]).is_empty());
    }

    #[test]
    fn removal_deletes_owned_policies_then_deregisters() {
        let orphan = &find_orphans(&[policy("endpoint/gone/variant/a", OWNED)], &[])[0];
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
        );
        let changes = plan_orphan(&orphans[0]);
        assert_eq!(changes.len(), 1);
        assert!(
            matches!(&changes[0], Change::DeletePolicy { policy_name, .. } if policy_name == OWNED)
        );
    }
}
