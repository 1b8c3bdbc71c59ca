//! The uninstall end to end against a local AWS (moto): `release --all` on
//! a mixed fleet removes exactly what the tool owns and leaves a person's
//! scaling byte-identical. It sees the whole account, so this binary has a
//! moto of its own.

mod support;

use std::collections::BTreeSet;

use autoscaling_guard::config::{DriftMode, Settings};
use autoscaling_guard::handler::{handle, Invocation};
use autoscaling_guard::policy_set::PolicySet;
use autoscaling_guard::reconcile::report::Outcome;
use aws_sdk_applicationautoscaling::types::ServiceNamespace;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
use serde_json::{json, Value};
use support::*;
use tokio::sync::Mutex;

/// Both tests look at the whole account: they take turns, and each ends
/// with nothing of the tool's left.
static TURN: Mutex<()> = Mutex::const_new(());

/// Every kind of item the tool owns: target-tracking and step policies, the
/// step policy's alarm, a scheduled action, the target.
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

const OWNED: &str = "autoscaling-guard-";

fn settings() -> Settings {
    Settings {
        policy_set: PolicySet::from_json(POLICY_SET).unwrap(),
        drift_mode: DriftMode::Remediate,
        ..Settings::default()
    }
}

fn rid(endpoint: &str, variant: &str) -> String {
    format!("endpoint/{endpoint}/variant/{variant}")
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
    let policies: Vec<_> = c
        .autoscaling
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Sagemaker)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    for p in &policies {
        if p.policy_name().starts_with(OWNED) {
            owned.insert(format!("{} policy {}", p.resource_id(), p.policy_name()));
        } else {
            foreign += &format!("{p:?}\n");
        }
    }
    let scheduled: Vec<_> = c
        .autoscaling
        .describe_scheduled_actions()
        .service_namespace(ServiceNamespace::Sagemaker)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    for s in &scheduled {
        if s.scheduled_action_name().starts_with(OWNED) {
            owned.insert(format!(
                "{} scheduled {}",
                s.resource_id(),
                s.scheduled_action_name()
            ));
        } else {
            foreign += &format!("{s:?}\n");
        }
    }
    let alarms = c.cloudwatch.describe_alarms().send().await.unwrap();
    assert!(alarms.next_token().is_none(), "one page of alarms");
    for a in alarms.metric_alarms() {
        let name = a.alarm_name().unwrap();
        if name.starts_with(OWNED) {
            owned.insert(format!("alarm {name}"));
        } else {
            foreign += &format!("{a:?}\n");
        }
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

/// The person's scaling alone: the account's foreign items, with the
/// targets the tool is expected to deregister left out.
async fn persons(resource_ids: &[String]) -> String {
    account(resource_ids).await.foreign
}

async fn onboard(endpoint: &str) {
    let report = reconciler(settings()).reconcile(endpoint, false).await;
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
        .scalable_target_action(
            aws_sdk_applicationautoscaling::types::ScalableTargetAction::builder()
                .min_capacity(3)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn release_all_removes_exactly_what_is_owned_on_a_mixed_fleet() {
    let _turn = TURN.lock().await;
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
    let persons_before = persons(&kept).await;

    // A dry run through the handler, with the events/ file: the plan, no
    // write.
    let r = reconciler(settings());
    let planned = handle(&r, release_all_payload(true), Invocation::default())
        .await
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
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_autoscaling-guard"))
        .args(["release", "--all"])
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env("AWS_ENDPOINT_URL", moto_url())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", TOOL_KEY)
        .env("AWS_SECRET_ACCESS_KEY", "test")
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
        persons(&kept).await,
        persons_before,
        "a person's scaling is byte-identical"
    );

    // Nothing left: a second run writes nothing.
    let again = handle(&r, release_all_payload(false), Invocation::default())
        .await
        .unwrap();
    assert_eq!(again["summary"]["resources"], 0, "{again:#}");
    assert_eq!(again["writes"], 0);
    assert_eq!(persons(&kept).await, persons_before);
}

#[tokio::test]
async fn a_failed_removal_is_reported_and_the_next_run_finishes_the_job() {
    let _turn = TURN.lock().await;
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

    // Every deregistration fails, after the function's retries.
    const CHAOS: &str = "chaos-release-all";
    set_faults_on(CHAOS, 7, 1.0, &["500"], &["DeregisterScalableTarget"]);
    let r = autoscaling_guard::app::reconciler(&clients_with_key(CHAOS), settings());
    let err = handle(&r, release_all_payload(false), Invocation::default())
        .await
        .unwrap_err();
    clear_faults(CHAOS);
    assert_eq!(err.error_type(), "ReleaseFailed");
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
    let done = handle(&r, release_all_payload(false), Invocation::default())
        .await
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
