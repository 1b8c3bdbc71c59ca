//! Fleets for the fault and race tests: endpoints built in bulk, what the
//! policy set says each one should carry, and everything the account holds
//! for them, read in full (every page, no filter by name) so that a
//! duplicate, a leftover or an alarm acting on a stale policy shows up.

use std::collections::{BTreeMap, BTreeSet};

use autoscaling_guard::policy_set::{PolicySet, Profile};
use aws_sdk_applicationautoscaling::types::ServiceNamespace;
use futures::StreamExt;

use super::{clients, create_endpoint, instances, VariantSpec};

pub const OWNED: &str = "autoscaling-guard-";

/// One endpoint of a fleet and the policy set that applies to it.
#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    pub variants: Vec<&'static str>,
    pub is_async: bool,
    /// The `autoscaling:max-capacity` tag, when set.
    pub max_tag: Option<i32>,
}

/// The shape of an endpoint to build.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// One instance-based variant.
    One,
    /// Two instance-based variants of different instance types.
    Two,
    /// One variant of an asynchronous endpoint.
    Async,
    /// One instance-based variant with an `autoscaling:max-capacity` tag.
    OneWithMax(i32),
}

fn variants_of(shape: Shape) -> Vec<VariantSpec> {
    match shape {
        Shape::One | Shape::Async | Shape::OneWithMax(_) => {
            vec![instances("primary", "ml.c5.xlarge", 1)]
        }
        Shape::Two => vec![
            instances("primary", "ml.m5.xlarge", 2),
            instances("canary", "ml.c5.xlarge", 1),
        ],
    }
}

/// Creates one endpoint per shape (a few at a time) named `prefix-<n>`.
pub async fn build(prefix: &str, shapes: &[Shape]) -> Vec<Member> {
    futures::stream::iter(shapes.iter().copied())
        .map(|shape| async move {
            let variants = variants_of(shape);
            let max = match shape {
                Shape::OneWithMax(n) => Some(n),
                _ => None,
            };
            let tag = max.map(|n| n.to_string());
            let tags: Vec<(&str, &str)> = tag
                .iter()
                .map(|v| ("autoscaling:max-capacity", v.as_str()))
                .collect();
            let is_async = matches!(shape, Shape::Async);
            let name = create_endpoint(prefix, &variants, &tags, is_async).await;
            Member {
                name,
                variants: variants.iter().map(|v| v.name).collect(),
                is_async,
                max_tag: max,
            }
        })
        .buffered(6)
        .collect()
        .await
}

pub fn resource_id(endpoint: &str, variant: &str) -> String {
    format!("endpoint/{endpoint}/variant/{variant}")
}

impl Member {
    pub fn resource_ids(&self) -> Vec<String> {
        self.variants
            .iter()
            .map(|v| resource_id(&self.name, v))
            .collect()
    }

    fn profile<'a>(&self, set: &'a PolicySet) -> &'a Profile {
        if self.is_async {
            &set.async_inference
        } else {
            &set.instance
        }
    }

    /// What the policy set puts on this endpoint, as [`held`] lists it.
    pub fn expected(&self, set: &PolicySet) -> Vec<String> {
        let profile = self.profile(set);
        let mut lines = Vec::new();
        for variant in &self.variants {
            let rid = resource_id(&self.name, variant);
            let max = self.max_tag.unwrap_or(profile.max_capacity);
            lines.push(format!("{rid} target {}..{max}", profile.min_capacity));
            for p in &profile.target_tracking {
                lines.push(format!("{rid} policy {OWNED}{}", p.name));
            }
            for p in &profile.step_scaling {
                lines.push(format!("{rid} policy {OWNED}{}", p.name));
                lines.push(format!(
                    "{rid} alarm {OWNED}{}/{variant}/{} -> {OWNED}{}",
                    self.name, p.name, p.name
                ));
            }
            for s in &profile.scheduled_actions {
                lines.push(format!("{rid} scheduled {OWNED}{}", s.name));
            }
        }
        lines.sort();
        lines
    }
}

/// Everything a set of endpoints should carry, sorted.
pub fn expected(members: &[Member], set: &PolicySet) -> Vec<String> {
    let mut lines: Vec<String> = members.iter().flat_map(|m| m.expected(set)).collect();
    lines.sort();
    lines
}

/// Everything the account holds on the variants of `members`, one line per
/// item, sorted: targets with their capacities, policies, scheduled
/// actions, and owned alarms with the policy their action points at
/// (`stale` when it points at no policy that exists). Policies, scheduled
/// actions and alarms are listed in full; targets are looked up by resource
/// id (the members' variants and any other resource of theirs that holds
/// something), since moto pages a whole-namespace target listing wrongly.
pub async fn held(members: &[Member]) -> Vec<String> {
    let wanted: BTreeSet<&str> = members.iter().map(|m| m.name.as_str()).collect();
    let ours = |rid: &str| {
        rid.strip_prefix("endpoint/")
            .and_then(|r| r.split_once("/variant/"))
            .is_some_and(|(e, _)| wanted.contains(e))
    };
    let aas = clients().autoscaling;
    let mut lines = Vec::new();
    let mut rids: BTreeSet<String> = members.iter().flat_map(Member::resource_ids).collect();
    let mut policy_by_arn: BTreeMap<String, String> = BTreeMap::new();
    let mut pages = aas
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Sagemaker)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for p in page.expect("describe policies").scaling_policies() {
            policy_by_arn.insert(p.policy_arn().to_string(), p.policy_name().to_string());
            if ours(p.resource_id()) {
                rids.insert(p.resource_id().to_string());
                lines.push(format!("{} policy {}", p.resource_id(), p.policy_name()));
            }
        }
    }
    let mut pages = aas
        .describe_scheduled_actions()
        .service_namespace(ServiceNamespace::Sagemaker)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for s in page
            .expect("describe scheduled actions")
            .scheduled_actions()
        {
            if ours(s.resource_id()) {
                rids.insert(s.resource_id().to_string());
                lines.push(format!(
                    "{} scheduled {}",
                    s.resource_id(),
                    s.scheduled_action_name()
                ));
            }
        }
    }
    let mut pages = clients()
        .cloudwatch
        .describe_alarms()
        .alarm_name_prefix(OWNED)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for a in page.expect("describe alarms").metric_alarms() {
            let name = a.alarm_name().unwrap_or_default();
            let Some((endpoint, rest)) = name.strip_prefix(OWNED).and_then(|r| r.split_once('/'))
            else {
                continue;
            };
            let Some((variant, _)) = rest.split_once('/') else {
                continue;
            };
            if !wanted.contains(endpoint) {
                continue;
            }
            let acts_on: Vec<String> = a
                .alarm_actions()
                .iter()
                .map(|arn| {
                    policy_by_arn
                        .get(arn)
                        .cloned()
                        .unwrap_or_else(|| format!("stale {arn}"))
                })
                .collect();
            let rid = resource_id(endpoint, variant);
            lines.push(format!("{rid} alarm {name} -> {}", acts_on.join(", ")));
            rids.insert(rid);
        }
    }
    let rids: Vec<String> = rids.into_iter().collect();
    for batch in rids.chunks(50) {
        let out = aas
            .describe_scalable_targets()
            .service_namespace(ServiceNamespace::Sagemaker)
            .set_resource_ids(Some(batch.to_vec()))
            .send()
            .await
            .expect("describe targets");
        for t in out.scalable_targets() {
            lines.push(format!(
                "{} target {}..{}",
                t.resource_id(),
                t.min_capacity(),
                t.max_capacity()
            ));
        }
    }
    lines.sort();
    lines
}

/// The IN_SERVICE state-change event of an endpoint, as EventBridge sends it.
pub fn in_service_event(endpoint: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/events/endpoint-in-service.json"
    ))
    .unwrap();
    let mut event: serde_json::Value = serde_json::from_str(&text).unwrap();
    event["detail"]["EndpointName"] = serde_json::json!(endpoint);
    event
}
