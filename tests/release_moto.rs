//! The release flow end to end against a local AWS (moto): an endpoint is
//! onboarded, released, changed, and onboarded again by the IN_SERVICE event
//! that ends the update, while a person's scaling elsewhere stays as it was;
//! and the uninstall, `release --all`, on a mixed fleet. Drift checks and
//! `release --all` see the whole account, so this binary has a moto of its
//! own and its tests take turns.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use autoscaling_guard::config::{DriftMode, Settings};
use autoscaling_guard::domain::release::{TAG_RELEASED_LAST_MODIFIED, TAG_RELEASED_UNTIL};
use autoscaling_guard::drift::report::DriftEntry;
use autoscaling_guard::drift::SweepOptions;
use autoscaling_guard::error::ErrorType;
use autoscaling_guard::handler::{handle, Invocation};
use autoscaling_guard::policy_set::PolicySet;
use autoscaling_guard::reconcile::report::Outcome;
use autoscaling_guard::resource::OWNED_PREFIX;
use aws_sdk_applicationautoscaling::types::{ScalableTargetAction, ServiceNamespace};
use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
use aws_sdk_sagemaker::types::{ProductionVariant, ProductionVariantInstanceType, Tag};
use serde_json::{json, Value};
use support::fleet::in_service_event;
use support::*;
use tokio::sync::Mutex;

static TURN: Mutex<()> = Mutex::const_new(());

/// Every kind of item a release removes: target-tracking and step policies,
/// the step policy's CloudWatch alarm, a scheduled action, the target.
const POLICY_SET: &str = r#"{"instance": {"min_capacity": 1, "max_capacity": 4,
    "target_tracking": [{"name": "invocations", "metric": "SageMakerVariantInvocationsPerInstance",
                         "target_value": 70}],
    "step_scaling": [{"name": "burst", "adjustment_type": "ChangeInCapacity",
        "steps": [{"lower": 0, "adjustment": 1}],
        "alarm": {"metric": "InvocationsPerInstance", "statistic": "Sum", "period": 60,
                  "evaluation_periods": 2, "threshold": 500,
                  "comparison": "GreaterThanOrEqualToThreshold"}}],
    "scheduled_actions": [{"name": "morning", "schedule": "cron(0 8 ? * MON-FRI *)",
                           "min_capacity": 2}]}}"#;

const OWNED_POLICIES: [&str; 2] = ["autoscaling-guard-burst", "autoscaling-guard-invocations"];

fn settings(mode: DriftMode) -> Settings {
    Settings {
        policy_set: PolicySet::from_json(POLICY_SET).unwrap(),
        drift_mode: mode,
        ..Settings::default()
    }
}

const SWEEP: SweepOptions = SweepOptions {
    dry_run: false,
    deadline: None,
};

fn rid(endpoint: &str, variant: &str) -> String {
    format!("endpoint/{endpoint}/variant/{variant}")
}

fn release_payload(endpoint: &str, duration: &str) -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/events/release.json"))
        .unwrap();
    let mut payload: Value = serde_json::from_str(&text).unwrap();
    payload["endpoint"] = json!(endpoint);
    payload["for"] = json!(duration);
    payload
}

async fn endpoint_arn(endpoint: &str) -> String {
    clients()
        .sagemaker
        .describe_endpoint()
        .endpoint_name(endpoint)
        .send()
        .await
        .unwrap()
        .endpoint_arn()
        .unwrap()
        .to_string()
}

async fn tags(endpoint: &str) -> BTreeMap<String, String> {
    let out = clients()
        .sagemaker
        .list_tags()
        .resource_arn(endpoint_arn(endpoint).await)
        .send()
        .await
        .unwrap();
    out.tags()
        .iter()
        .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()))
        .collect()
}

async fn alarms(endpoint: &str) -> Vec<String> {
    let out = clients()
        .cloudwatch
        .describe_alarms()
        .alarm_name_prefix(format!("autoscaling-guard-{endpoint}/"))
        .send()
        .await
        .unwrap();
    let mut names: Vec<String> = out
        .metric_alarms()
        .iter()
        .map(|a| a.alarm_name().unwrap().to_string())
        .collect();
    names.sort();
    names
}

async fn scheduled_actions(endpoint: &str, variant: &str) -> Vec<String> {
    let rid = rid(endpoint, variant);
    let out = clients()
        .autoscaling
        .describe_scheduled_actions()
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(&rid)
        .send()
        .await
        .unwrap();
    out.scheduled_actions()
        .iter()
        .filter(|a| a.resource_id() == rid)
        .map(|a| a.scheduled_action_name().to_string())
        .collect()
}

/// Everything Application Auto Scaling and CloudWatch hold for the given
/// variants, as the SDK reads it (timestamps and ARNs included), for
/// byte-for-byte comparison.
async fn raw_scaling(endpoint: &str, variants: &[&str]) -> String {
    let c = clients();
    let ids: Vec<String> = variants.iter().map(|v| rid(endpoint, v)).collect();
    let targets = c
        .autoscaling
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Sagemaker)
        .set_resource_ids(Some(ids.clone()))
        .send()
        .await
        .unwrap();
    let mut out = format!("{:?}\n", targets.scalable_targets());
    for id in &ids {
        let policies = c
            .autoscaling
            .describe_scaling_policies()
            .service_namespace(ServiceNamespace::Sagemaker)
            .resource_id(id)
            .send()
            .await
            .unwrap();
        let scheduled = c
            .autoscaling
            .describe_scheduled_actions()
            .service_namespace(ServiceNamespace::Sagemaker)
            .resource_id(id)
            .send()
            .await
            .unwrap();
        out += &format!(
            "{:?}\n{:?}\n",
            policies.scaling_policies(),
            scheduled.scheduled_actions()
        );
    }
    out + &format!("{:?}", alarms(endpoint).await)
}

/// The scaling the policy set gives a variant: (target, policies, scheduled
/// actions).
async fn variant_scaling(
    endpoint: &str,
    variant: &str,
) -> (Option<(i32, i32)>, Vec<String>, Vec<String>) {
    (
        target(endpoint, variant).await,
        policies(endpoint, variant)
            .await
            .into_iter()
            .map(|p| p.0)
            .collect(),
        scheduled_actions(endpoint, variant).await,
    )
}

fn onboarded() -> (Option<(i32, i32)>, Vec<String>, Vec<String>) {
    (
        Some((1, 4)),
        OWNED_POLICIES.iter().map(|p| p.to_string()).collect(),
        vec!["autoscaling-guard-morning".to_string()],
    )
}

fn nothing() -> (Option<(i32, i32)>, Vec<String>, Vec<String>) {
    (None, vec![], vec![])
}

/// The deploy pipeline's `UpdateEndpoint` to a new endpoint config. moto
/// 5.2.5 does not implement UpdateEndpoint; its nearest faithful stand-in is
/// CreateEndpoint under the same name, which replaces the endpoint (same
/// ARN, the new config's variants, InService, a new LastModifiedTime) but
/// drops its tags, so they are carried over as UpdateEndpoint keeps them.
/// What AWS alone enforces (UpdateEndpoint refused while a changed variant
/// is a scalable target) cannot be shown here.
async fn update_endpoint(endpoint: &str, variants: &[(&str, &str)]) {
    let sm = clients().sagemaker;
    let config = unique(&format!("{endpoint}-config"));
    let mut req = sm.create_endpoint_config().endpoint_config_name(&config);
    for (name, instance_type) in variants {
        req = req.production_variants(
            ProductionVariant::builder()
                .variant_name(*name)
                .model_name(format!("{endpoint}-model"))
                .instance_type(ProductionVariantInstanceType::from(*instance_type))
                .initial_instance_count(1)
                .build(),
        );
    }
    req.send().await.unwrap();
    let kept = tags(endpoint).await;
    // LastModifiedTime has millisecond precision: make sure it moves.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let mut create = sm
        .create_endpoint()
        .endpoint_name(endpoint)
        .endpoint_config_name(&config);
    for (k, v) in &kept {
        create = create.tags(Tag::builder().key(k).value(v).build());
    }
    create.send().await.unwrap();
}

fn entry<'a>(entries: &'a [DriftEntry], endpoint: &str) -> Option<&'a DriftEntry> {
    entries.iter().find(|e| e.found.endpoint == endpoint)
}

/// An endpoint with two variants, onboarded with the whole policy set.
async fn onboarded_endpoint(prefix: &str) -> String {
    let ep = create_endpoint(
        prefix,
        &[
            instances("primary", "ml.m5.large", 1),
            instances("canary", "ml.c5.xlarge", 1),
        ],
        &[],
        false,
    )
    .await;
    let report = reconciler(settings(DriftMode::Remediate))
        .reconcile(&ep, false)
        .await;
    assert_eq!(report.outcome, Outcome::Changed, "{report:?}");
    for v in ["primary", "canary"] {
        assert_eq!(variant_scaling(&ep, v).await, onboarded(), "{v}");
    }
    assert_eq!(alarms(&ep).await.len(), 2);
    ep
}

/// A person's own scaling on an endpoint of theirs.
async fn persons_endpoint() -> String {
    let theirs = create_endpoint(
        "theirs",
        &[instances("primary", "ml.m5.large", 2)],
        &[],
        false,
    )
    .await;
    register_target(&rid(&theirs, "primary"), 2, 6).await;
    put_invocations_policy(&rid(&theirs, "primary"), "team-latency", 120.0, None).await;
    theirs
}

#[tokio::test]
async fn release_update_in_service_onboards_the_new_variants_and_touches_nothing_foreign() {
    let _turn = TURN.lock().await;
    let ep = onboarded_endpoint("released").await;
    let theirs = persons_endpoint().await;
    let theirs_before = raw_scaling(&theirs, &["primary"]).await;
    let r = reconciler(settings(DriftMode::Remediate));

    // The pipeline releases the endpoint through the Lambda handler.
    let out = serde_json::to_value(
        handle(&r, release_payload(&ep, "2h"), Invocation::default())
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(out["action"], "release");
    assert_eq!(out["endpoint"], json!(ep));
    // Per variant: the alarm, two policies, the scheduled action, the target.
    let removed: Vec<&str> = out["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(removed.len(), 10, "{out}");
    assert_eq!(
        removed
            .iter()
            .filter(|a| **a == "deregister_target")
            .count(),
        2
    );
    assert_eq!(out["writes"], 11, "AddTags and the ten removals: {out}");
    for v in ["primary", "canary"] {
        assert_eq!(variant_scaling(&ep, v).await, nothing(), "{v}");
    }
    assert!(alarms(&ep).await.is_empty());
    let marked = tags(&ep).await;
    assert_eq!(marked[TAG_RELEASED_UNTIL], out["released_until"]);
    assert_eq!(marked[TAG_RELEASED_LAST_MODIFIED], out["last_modified"]);
    let until = chrono::DateTime::parse_from_rfc3339(&marked[TAG_RELEASED_UNTIL])
        .unwrap()
        .with_timezone(&chrono::Utc);
    let now: chrono::DateTime<chrono::Utc> = std::time::SystemTime::now().into();
    let ahead = until - now;
    assert!(
        ahead > chrono::TimeDelta::minutes(119) && ahead <= chrono::TimeDelta::hours(2),
        "{ahead}"
    );

    // The drift check, remediating, leaves it alone and says why.
    let sweep = r.drift_check(SWEEP).await.unwrap();
    let found = &entry(&sweep.endpoints, &ep).expect("listed").found;
    assert_eq!(found.outcome, Outcome::Skipped);
    assert_eq!(found.reason.as_ref().unwrap().code(), "released");
    assert!(entry(&sweep.endpoints, &ep).unwrap().remediation.is_none());
    // An IN_SERVICE event before the update changes nothing either: what
    // counts is the endpoint, not the event.
    let early = serde_json::to_value(
        handle(&r, in_service_event(&ep), Invocation::default())
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(early["outcome"], "skipped");
    assert_eq!(early["reason"]["code"], "released");
    assert_eq!(early["writes"], 0);
    for v in ["primary", "canary"] {
        assert_eq!(variant_scaling(&ep, v).await, nothing(), "{v}");
    }

    // The pipeline's update: primary on another instance type, canary
    // replaced by blue.
    update_endpoint(
        &ep,
        &[("primary", "ml.c5.2xlarge"), ("blue", "ml.m5.xlarge")],
    )
    .await;
    let done = serde_json::to_value(
        handle(&r, in_service_event(&ep), Invocation::default())
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(done["outcome"], "changed", "{done}");
    assert_eq!(
        done["release_mark"],
        json!({"state": "spent", "cause": "updated", "until": marked[TAG_RELEASED_UNTIL], "cleared": true})
    );
    for v in ["primary", "blue"] {
        assert_eq!(variant_scaling(&ep, v).await, onboarded(), "{v}");
    }
    assert_eq!(variant_scaling(&ep, "canary").await, nothing());
    assert_eq!(
        alarms(&ep).await,
        [
            format!("autoscaling-guard-{ep}/blue/burst"),
            format!("autoscaling-guard-{ep}/primary/burst")
        ]
    );
    let after = tags(&ep).await;
    assert!(!after.contains_key(TAG_RELEASED_UNTIL), "{after:?}");
    assert!(!after.contains_key(TAG_RELEASED_LAST_MODIFIED), "{after:?}");
    // Delivered twice: nothing more to do.
    let again = serde_json::to_value(
        handle(&r, in_service_event(&ep), Invocation::default())
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        (again["outcome"].as_str(), again["writes"].as_u64()),
        (Some("compliant"), Some(0))
    );

    assert_eq!(raw_scaling(&theirs, &["primary"]).await, theirs_before);
}

#[tokio::test]
async fn a_release_over_a_persons_scaling_is_refused_and_changes_nothing() {
    let _turn = TURN.lock().await;
    let ep = onboarded_endpoint("mixed").await;
    // Someone adds a policy of their own to one variant.
    put_invocations_policy(&rid(&ep, "canary"), "team-latency", 120.0, None).await;
    let before = raw_scaling(&ep, &["primary", "canary"]).await;
    let tags_before = tags(&ep).await;
    let r = reconciler(settings(DriftMode::Remediate));

    let err = handle(&r, release_payload(&ep, "1h"), Invocation::default())
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), ErrorType::ReleaseRefused);
    let message = err.to_string();
    assert!(
        message.contains("variant canary has policy team-latency"),
        "{message}"
    );
    assert!(message.contains("nothing was changed"), "{message}");
    assert_eq!(raw_scaling(&ep, &["primary", "canary"]).await, before);
    assert_eq!(tags(&ep).await, tags_before);

    // The command line says the same, with exit status 1.
    let out = tool(TOOL_KEY)
        .args(["release", "--endpoint", &ep, "--for", "30m"])
        .env("POLICY_SET", POLICY_SET)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["errorType"], "ReleaseRefused");
    assert!(printed["errorMessage"]
        .as_str()
        .unwrap()
        .contains("variant canary has policy team-latency"));
    assert_eq!(raw_scaling(&ep, &["primary", "canary"]).await, before);
    assert_eq!(tags(&ep).await, tags_before);
}

#[tokio::test]
async fn releasing_twice_is_fine() {
    let _turn = TURN.lock().await;
    let ep = onboarded_endpoint("twice").await;
    let r = reconciler(settings(DriftMode::Remediate));
    let first = r
        .release(&ep, chrono::TimeDelta::hours(1), false)
        .await
        .unwrap();
    assert_eq!(first.removed.len(), 10);
    let second = r
        .release(&ep, chrono::TimeDelta::hours(3), false)
        .await
        .unwrap();
    assert!(second.removed.is_empty(), "{second:?}");
    assert_eq!(second.writes, 1, "only the mark is written again");
    assert_eq!(second.last_modified, first.last_modified);
    assert!(second.released_until > first.released_until);
    // Still released, until the later time.
    let report = r.reconcile(&ep, false).await;
    assert_eq!(report.reason.unwrap().code(), "released");
    assert_eq!(report.release_mark.unwrap().until, second.released_until);
    for v in ["primary", "canary"] {
        assert_eq!(variant_scaling(&ep, v).await, nothing(), "{v}");
    }
}

#[tokio::test]
async fn an_expired_mark_is_cleared_by_the_drift_check() {
    let _turn = TURN.lock().await;
    let ep = onboarded_endpoint("expired").await;
    let r = reconciler(settings(DriftMode::Remediate));
    r.release(&ep, chrono::TimeDelta::minutes(30), false)
        .await
        .unwrap();
    // Half an hour later, nobody has updated the endpoint: the mark has run
    // out. (Set by hand: the release tags are plain endpoint tags.)
    let sm = clients().sagemaker;
    let arn = endpoint_arn(&ep).await;
    sm.delete_tags()
        .resource_arn(&arn)
        .tag_keys(TAG_RELEASED_UNTIL)
        .send()
        .await
        .unwrap();
    sm.add_tags()
        .resource_arn(&arn)
        .tags(
            Tag::builder()
                .key(TAG_RELEASED_UNTIL)
                .value("2020-01-01T00:00:00Z")
                .build(),
        )
        .send()
        .await
        .unwrap();

    let sweep = r.drift_check(SWEEP).await.unwrap();
    let e = entry(&sweep.endpoints, &ep).expect("listed");
    assert_eq!(e.found.outcome, Outcome::Drifted);
    assert_eq!(e.found.release_mark.as_ref().unwrap().state, "spent");
    let done = e.remediation.as_ref().expect("remediated");
    assert_eq!(done.outcome, Outcome::Changed);
    let mark = done.release_mark.as_ref().unwrap();
    assert_eq!(
        (mark.cause.map(|c| format!("{c:?}")), mark.cleared),
        (Some("Expired".to_string()), true)
    );
    assert!(!tags(&ep).await.contains_key(TAG_RELEASED_UNTIL));
    assert!(!tags(&ep).await.contains_key(TAG_RELEASED_LAST_MODIFIED));
    for v in ["primary", "canary"] {
        assert_eq!(variant_scaling(&ep, v).await, onboarded(), "{v}");
    }
    assert_eq!(alarms(&ep).await.len(), 2);
}

fn release_all_payload(dry_run: bool) -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/events/release-all.json"
    ))
    .unwrap();
    let mut payload: Value = serde_json::from_str(&text).unwrap();
    payload["dry_run"] = json!(dry_run);
    payload
}

/// The account's scaling, read in full (every page, no filter by name) as
/// the SDK returns it, timestamps and ARNs included: the owned items by
/// name, and everything else as one text to compare byte for byte.
/// Targets are looked up by resource id, since moto pages a namespace-wide
/// target listing wrongly.
#[derive(Debug, PartialEq)]
struct Account {
    owned: BTreeSet<String>,
    targets: BTreeSet<String>,
    foreign: String,
}

async fn account(resource_ids: &[String]) -> Account {
    let c = clients();
    let mut owned = BTreeSet::new();
    let mut foreign = String::new();
    // Owned items by name; anything else as the SDK reads it.
    let mut file = |name: &str, item: String, raw: String| {
        if name.starts_with(OWNED_PREFIX) {
            owned.insert(item);
        } else {
            foreign += &raw;
        }
    };
    let policies = c
        .autoscaling
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Sagemaker)
        .into_paginator()
        .items()
        .send();
    for p in policies.collect::<Result<Vec<_>, _>>().await.unwrap() {
        let name = p.policy_name();
        file(
            name,
            format!("{} policy {name}", p.resource_id()),
            format!("{p:?}\n"),
        );
    }
    let scheduled = c
        .autoscaling
        .describe_scheduled_actions()
        .service_namespace(ServiceNamespace::Sagemaker)
        .into_paginator()
        .items()
        .send();
    for a in scheduled.collect::<Result<Vec<_>, _>>().await.unwrap() {
        let name = a.scheduled_action_name();
        file(
            name,
            format!("{} scheduled {name}", a.resource_id()),
            format!("{a:?}\n"),
        );
    }
    let alarms = c.cloudwatch.describe_alarms().send().await.unwrap();
    assert!(alarms.next_token().is_none(), "one page of alarms");
    for a in alarms.metric_alarms() {
        let name = a.alarm_name().unwrap();
        file(name, format!("alarm {name}"), format!("{a:?}\n"));
    }
    let mut targets = BTreeSet::new();
    for batch in resource_ids.chunks(50) {
        let out = c
            .autoscaling
            .describe_scalable_targets()
            .service_namespace(ServiceNamespace::Sagemaker)
            .set_resource_ids(Some(batch.to_vec()))
            .send()
            .await
            .unwrap();
        for t in out.scalable_targets() {
            targets.insert(t.resource_id().to_string());
            foreign += &format!("{t:?}\n");
        }
    }
    Account {
        owned,
        targets,
        foreign,
    }
}

async fn onboard(endpoint: &str) {
    let report = reconciler(settings(DriftMode::Remediate))
        .reconcile(endpoint, false)
        .await;
    assert_eq!(report.outcome, Outcome::Changed, "{report:?}");
}

async fn persons_alarm(name: &str) {
    clients()
        .cloudwatch
        .put_metric_alarm()
        .alarm_name(name)
        .namespace("AWS/SageMaker")
        .metric_name("ModelLatency")
        .statistic(Statistic::Average)
        .period(60)
        .evaluation_periods(3)
        .threshold(250_000.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .unwrap();
}

async fn persons_scheduled_action(resource_id: &str, name: &str) {
    clients()
        .autoscaling
        .put_scheduled_action()
        .service_namespace(ServiceNamespace::Sagemaker)
        .scalable_dimension(dimension())
        .resource_id(resource_id)
        .scheduled_action_name(name)
        .schedule("cron(0 7 ? * MON-FRI *)")
        .scalable_target_action(ScalableTargetAction::builder().min_capacity(3).build())
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn release_all_removes_exactly_what_is_owned_on_a_mixed_fleet() {
    let _turn = TURN.lock().await;
    // The account as this test builds it, and nothing else.
    reset_account();
    // Owned throughout: two variants with the whole set, and an asynchronous
    // endpoint with the default async profile (a step policy and its alarm).
    let mine = create_endpoint(
        "mine",
        &[
            instances("primary", "ml.m5.large", 1),
            instances("canary", "ml.c5.xlarge", 1),
        ],
        &[],
        false,
    )
    .await;
    onboard(&mine).await;
    let queue = create_endpoint(
        "queue",
        &[instances("primary", "ml.m5.large", 1)],
        &[],
        true,
    )
    .await;
    onboard(&queue).await;
    // Onboarded, then a person added a policy to one variant: that
    // variant's target is shared now.
    let mixed = create_endpoint(
        "mixed",
        &[
            instances("primary", "ml.m5.large", 1),
            instances("canary", "ml.c5.xlarge", 1),
        ],
        &[],
        false,
    )
    .await;
    onboard(&mixed).await;
    put_invocations_policy(&rid(&mixed, "canary"), "team-latency", 120.0, None).await;
    // Onboarded, then deleted: the tool's scaling is left behind (moto
    // does not deregister on DeleteEndpoint).
    let gone = create_endpoint(
        "gone",
        &[instances("primary", "ml.m5.large", 1)],
        &[],
        false,
    )
    .await;
    onboard(&gone).await;
    clients()
        .sagemaker
        .delete_endpoint()
        .endpoint_name(&gone)
        .send()
        .await
        .unwrap();
    // A person's: a target with a policy, a scheduled action and an alarm,
    // one policy whose name only looks like the tool's, and a bare target.
    let theirs = create_endpoint(
        "theirs",
        &[instances("primary", "ml.m5.large", 2)],
        &[],
        false,
    )
    .await;
    register_target(&rid(&theirs, "primary"), 2, 6).await;
    put_invocations_policy(
        &rid(&theirs, "primary"),
        "team-latency",
        120.0,
        Some((600, 90)),
    )
    .await;
    put_invocations_policy(
        &rid(&theirs, "primary"),
        "autoscaling-guardrail",
        300.0,
        None,
    )
    .await;
    persons_scheduled_action(&rid(&theirs, "primary"), "team-morning").await;
    persons_alarm(&format!("team-{theirs}-latency")).await;
    let bare = create_endpoint(
        "bare",
        &[instances("primary", "ml.m5.large", 1)],
        &[],
        false,
    )
    .await;
    register_target(&rid(&bare, "primary"), 1, 3).await;

    let deregistered = [
        rid(&mine, "primary"),
        rid(&mine, "canary"),
        rid(&queue, "primary"),
        rid(&mixed, "primary"),
        rid(&gone, "primary"),
    ];
    let kept = [
        rid(&mixed, "canary"),
        rid(&theirs, "primary"),
        rid(&bare, "primary"),
    ];
    let all_ids: Vec<String> = deregistered.iter().chain(&kept).cloned().collect();
    let before = account(&all_ids).await;
    assert_eq!(before.targets.len(), 8, "{before:?}");
    // 2 + 1 + 2 + 1 variants: 6 alarms, 12 policies, 5 scheduled actions.
    assert_eq!(before.owned.len(), 23, "{:#?}", before.owned);
    let persons_before = account(&kept).await.foreign;

    // A dry run through the handler, with the events/ file: the plan, no
    // write.
    let r = reconciler(settings(DriftMode::Remediate));
    let planned = serde_json::to_value(
        handle(&r, release_all_payload(true), Invocation::default())
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        (planned["action"].as_str(), planned["all"].as_bool()),
        (Some("release"), Some(true))
    );
    assert_eq!(planned["dry_run"], true);
    assert_eq!(planned["writes"], 0);
    let expected = json!({"resources": 6, "alarms": 6, "policies": 12, "scheduled_actions": 5,
                          "targets_deregistered": 5, "targets_kept": 1, "errors": 0,
                          "not_reached": 0});
    assert_eq!(planned["summary"], expected, "{planned:#}");
    assert!(planned["resources"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["status"] == "planned"));
    let shared = planned["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource_id"] == json!(rid(&mixed, "canary")))
        .unwrap();
    assert_eq!(shared["target_kept_for"], json!(["policy team-latency"]));
    assert_eq!(account(&all_ids).await, before, "a dry run changes nothing");

    // The command line, for real.
    let out = tool(TOOL_KEY)
        .args(["release", "--all"])
        .env("POLICY_SET", POLICY_SET)
        .output()
        .unwrap();
    let done: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(0), "{done:#}");
    assert_eq!(done["dry_run"], false);
    assert_eq!(done["summary"], expected, "{done:#}");
    assert!(done["resources"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["status"] == "removed"));
    // One write per item; the deletes after a deregistration find their
    // item gone with the target, which counts as done.
    assert_eq!(done["writes"], 6 + 12 + 5 + 5, "{done:#}");

    let after = account(&all_ids).await;
    assert!(after.owned.is_empty(), "left behind: {:?}", after.owned);
    assert_eq!(
        after.targets,
        kept.iter().cloned().collect::<BTreeSet<_>>(),
        "targets that carried only the tool's scaling are deregistered"
    );
    assert_eq!(
        account(&kept).await.foreign,
        persons_before,
        "a person's scaling is byte-identical"
    );

    // Nothing left: a second run writes nothing.
    let again = serde_json::to_value(
        handle(&r, release_all_payload(false), Invocation::default())
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(again["summary"]["resources"], 0, "{again:#}");
    assert_eq!(again["writes"], 0);
    assert_eq!(account(&kept).await.foreign, persons_before);
}

#[tokio::test]
async fn a_failed_removal_is_reported_and_the_next_run_finishes_the_job() {
    let _turn = TURN.lock().await;
    // The account as this test builds it, and nothing else.
    reset_account();
    let a = create_endpoint(
        "cut-a",
        &[instances("primary", "ml.m5.large", 1)],
        &[],
        false,
    )
    .await;
    let b = create_endpoint(
        "cut-b",
        &[instances("primary", "ml.m5.large", 1)],
        &[],
        false,
    )
    .await;
    onboard(&a).await;
    onboard(&b).await;
    let ids = [rid(&a, "primary"), rid(&b, "primary")];
    let r = reconciler(settings(DriftMode::Remediate));

    // Under Lambda, with too little time left, nothing is started.
    let before = account(&ids).await;
    let hurried = Invocation {
        force_dry_run: false,
        deadline: Some(std::time::Instant::now() + std::time::Duration::from_secs(5)),
    };
    let err = handle(&r, release_all_payload(false), hurried)
        .await
        .unwrap_err();
    assert_eq!(err.error_type().as_str(), "ReleaseFailed");
    assert!(
        err.to_string()
            .contains("0 resources failed and 2 were not reached"),
        "{err}"
    );
    assert_eq!(account(&ids).await, before);

    // Every deregistration fails, after the function's retries.
    const CHAOS: &str = "chaos-release-all";
    set_faults_on(CHAOS, 7, 1.0, &["500"], &["DeregisterScalableTarget"]);
    let r = autoscaling_guard::app::reconciler(
        &clients_with_key(CHAOS),
        settings(DriftMode::Remediate),
    );
    let err = handle(&r, release_all_payload(false), Invocation::default())
        .await
        .unwrap_err();
    clear_faults(CHAOS);
    assert_eq!(err.error_type().as_str(), "ReleaseFailed");
    let message = err.to_string();
    for id in &ids {
        assert!(message.contains(id.as_str()), "{message}");
    }
    assert!(message.contains("InternalFailure"), "{message}");
    assert!(message.contains("run the release again"), "{message}");
    // The alarms went first; the targets and what is on them stay.
    let cut = account(&ids).await;
    assert_eq!(cut.targets.len(), 2);
    assert_eq!(
        cut.owned.iter().filter(|o| o.starts_with("alarm ")).count(),
        0,
        "{:?}",
        cut.owned
    );
    assert_eq!(
        cut.owned.len(),
        2 * 3,
        "two policies and a scheduled action each"
    );

    // Run again: the rest goes, targets included.
    let done = serde_json::to_value(
        handle(&r, release_all_payload(false), Invocation::default())
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        done["summary"],
        json!({"resources": 2, "alarms": 0, "policies": 4, "scheduled_actions": 2,
               "targets_deregistered": 2, "targets_kept": 0, "errors": 0, "not_reached": 0})
    );
    let after = account(&ids).await;
    assert!(
        after.owned.is_empty() && after.targets.is_empty(),
        "{after:?}"
    );
}
