//! Reconcile against a local AWS (moto): real SDK clients create endpoints
//! in SageMaker and read back what Application Auto Scaling holds.

mod support;

use autoscaling_guard::config::Settings;
use autoscaling_guard::error::ErrorType;
use autoscaling_guard::handler::{handle, Invocation};
use autoscaling_guard::reconcile::report::{Outcome, VariantStatus};
use serde_json::json;
use support::fleet::in_service_event;
use support::*;

const POLICY: &str = "autoscaling-guard-invocations";
const DRY_RUN: Invocation = Invocation {
    force_dry_run: true,
    deadline: None,
};

fn standard_policy() -> Vec<PolicyRow> {
    vec![(POLICY.to_string(), Some(70.0), Some(300), Some(60))]
}

#[tokio::test]
async fn a_fresh_two_variant_endpoint_is_onboarded_then_left_alone() {
    let ep = create_endpoint(
        "fresh",
        &[
            instances("primary", "ml.m5.large", 2),
            instances("canary", "ml.c5.xlarge", 1),
        ],
        &[],
        false,
    )
    .await;
    let r = reconciler(Settings::default());

    let first = r.reconcile(&ep, false).await;
    assert_eq!(first.outcome, Outcome::Changed, "{first:?}");
    // DescribeEndpoint, DescribeEndpointConfig, ListTags, DescribeScalableTargets
    // and one DescribeScalingPolicies and DescribeScheduledActions per variant.
    // ... and one DescribeAlarms for the endpoint's step-policy alarms.
    assert_eq!((first.reads, first.writes), (9, 4));
    for variant in ["primary", "canary"] {
        assert_eq!(target(&ep, variant).await, Some((1, 4)));
        assert_eq!(policies(&ep, variant).await, standard_policy());
    }

    let second = r.reconcile(&ep, false).await;
    assert_eq!(second.outcome, Outcome::Compliant);
    // Endpoint configs are immutable: the second run reads it from the cache.
    assert_eq!((second.reads, second.writes), (8, 0));
}

#[tokio::test]
async fn the_in_service_event_goes_through_the_handler() {
    let ep = create_endpoint(
        "event",
        &[instances("primary", "ml.m5.large", 1)],
        &[],
        false,
    )
    .await;
    let r = reconciler(Settings::default());
    let out = serde_json::to_value(
        handle(&r, in_service_event(&ep), Invocation::default())
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(out["action"], "reconcile");
    assert_eq!(out["outcome"], "changed");
    assert_eq!(out["writes"], 2);
    // SageMaker may deliver the same event twice: the second is a no-op.
    let again = serde_json::to_value(
        handle(&r, in_service_event(&ep), Invocation::default())
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(again["outcome"], "compliant");
    assert_eq!(again["writes"], 0);
    assert_eq!(target(&ep, "primary").await, Some((1, 4)));
}

#[tokio::test]
async fn dry_run_and_plan_write_nothing() {
    let ep = create_endpoint("dry", &[instances("primary", "ml.m5.large", 1)], &[], false).await;
    let r = reconciler(Settings::default());
    let out =
        serde_json::to_value(handle(&r, in_service_event(&ep), DRY_RUN).await.unwrap()).unwrap();
    assert_eq!(out["outcome"], "drifted");
    assert_eq!(out["writes"], 0);
    assert_eq!(
        out["variants"][0]["changes"][0]["action"],
        "register_target"
    );
    let report = r.reconcile(&ep, true).await;
    assert_eq!((report.outcome, report.writes), (Outcome::Drifted, 0));
    assert_eq!(target(&ep, "primary").await, None);
    assert!(policies(&ep, "primary").await.is_empty());
}

#[tokio::test]
async fn tags_override_the_standard() {
    let ep = create_endpoint(
        "tags",
        &[instances("primary", "ml.m5.large", 2)],
        &[
            ("autoscaling:min-capacity", "2"),
            ("autoscaling:max-capacity", "8"),
            ("autoscaling:target-value", "250"),
            ("autoscaling:scale-in-cooldown", "900"),
            ("autoscaling:scale-out-cooldown", "30"),
        ],
        false,
    )
    .await;
    let report = reconciler(Settings::default()).reconcile(&ep, false).await;
    assert_eq!(report.outcome, Outcome::Changed);
    assert_eq!(target(&ep, "primary").await, Some((2, 8)));
    assert_eq!(
        policies(&ep, "primary").await,
        vec![(POLICY.to_string(), Some(250.0), Some(900), Some(30))]
    );
}

#[tokio::test]
async fn a_bad_tag_is_an_error_that_writes_nothing() {
    let ep = create_endpoint(
        "badtag",
        &[instances("primary", "ml.m5.large", 1)],
        &[("autoscaling:target-value", "fast")],
        false,
    )
    .await;
    let r = reconciler(Settings::default());
    let err = handle(&r, in_service_event(&ep), Invocation::default())
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), ErrorType::InvalidTag);
    assert!(
        err.to_string()
            .contains("autoscaling:target-value=\"fast\""),
        "{err}"
    );
    assert_eq!(target(&ep, "primary").await, None);
}

#[tokio::test]
async fn an_opted_out_endpoint_is_skipped() {
    let ep = create_endpoint(
        "optout",
        &[instances("primary", "ml.m5.large", 1)],
        &[("autoscaling:enabled", "false")],
        false,
    )
    .await;
    let report = reconciler(Settings::default()).reconcile(&ep, false).await;
    assert_eq!(report.outcome, Outcome::Skipped);
    assert_eq!(report.reason.unwrap().code(), "opted_out");
    assert_eq!(report.writes, 0);
    assert_eq!(target(&ep, "primary").await, None);
}

#[tokio::test]
async fn opt_in_mode_manages_only_tagged_endpoints() {
    let settings = Settings {
        require_opt_in: true,
        ..Settings::default()
    };
    let untagged = create_endpoint(
        "optin-no",
        &[instances("primary", "ml.m5.large", 1)],
        &[],
        false,
    )
    .await;
    let tagged = create_endpoint(
        "optin-yes",
        &[instances("primary", "ml.m5.large", 1)],
        &[("autoscaling:enabled", "true")],
        false,
    )
    .await;
    let r = reconciler(settings);
    let skipped = r.reconcile(&untagged, false).await;
    assert_eq!(skipped.reason.unwrap().code(), "not_opted_in");
    assert_eq!(target(&untagged, "primary").await, None);
    assert_eq!(r.reconcile(&tagged, false).await.outcome, Outcome::Changed);
    assert_eq!(target(&tagged, "primary").await, Some((1, 4)));
}

#[tokio::test]
async fn a_foreign_policy_is_left_untouched() {
    let ep = create_endpoint(
        "foreign",
        &[
            instances("primary", "ml.m5.large", 2),
            instances("shadow", "ml.m5.large", 1),
        ],
        &[],
        false,
    )
    .await;
    let rid = format!("endpoint/{ep}/variant/primary");
    register_target(&rid, 2, 12).await;
    put_invocations_policy(&rid, "team-hand-tuned", 400.0, None).await;

    let report = reconciler(Settings::default()).reconcile(&ep, false).await;
    let primary = &report.variants[0];
    assert_eq!(primary.status, VariantStatus::Skipped);
    let reason = primary.reason.as_ref().unwrap();
    assert_eq!(reason.code(), "foreign_policy");
    assert!(reason.to_string().contains("team-hand-tuned"));
    // The person's scaling is exactly as they left it.
    assert_eq!(target(&ep, "primary").await, Some((2, 12)));
    assert_eq!(
        policies(&ep, "primary").await,
        vec![("team-hand-tuned".to_string(), Some(400.0), None, None)]
    );
    // The other variant is still onboarded.
    assert_eq!(report.variants[1].status, VariantStatus::Changed);
    assert_eq!(target(&ep, "shadow").await, Some((1, 4)));
}

#[tokio::test]
async fn a_registered_target_without_policies_is_adopted() {
    let ep = create_endpoint(
        "adopt",
        &[instances("primary", "ml.m5.large", 1)],
        &[],
        false,
    )
    .await;
    register_target(&format!("endpoint/{ep}/variant/primary"), 1, 4).await;
    let report = reconciler(Settings::default()).reconcile(&ep, false).await;
    assert_eq!(report.outcome, Outcome::Changed);
    // The target was already right: only the policy is written.
    assert_eq!(report.writes, 1);
    assert_eq!(policies(&ep, "primary").await, standard_policy());
}

#[tokio::test]
async fn a_hand_edited_owned_policy_is_restored() {
    let ep = create_endpoint(
        "edited",
        &[instances("primary", "ml.m5.large", 1)],
        &[],
        false,
    )
    .await;
    let r = reconciler(Settings::default());
    r.reconcile(&ep, false).await;
    put_invocations_policy(
        &format!("endpoint/{ep}/variant/primary"),
        POLICY,
        5.0,
        Some((300, 60)),
    )
    .await;
    let report = r.reconcile(&ep, false).await;
    assert_eq!(report.outcome, Outcome::Changed);
    assert_eq!(report.writes, 1);
    let because = &report.variants[0].changes[0].because()[0];
    assert_eq!(
        (
            because.field.as_str(),
            because.actual.clone(),
            because.desired.clone()
        ),
        ("target_value", json!(5.0), json!(70.0))
    );
    assert_eq!(policies(&ep, "primary").await, standard_policy());
}

#[tokio::test]
async fn burstable_and_serverless_variants_are_skipped() {
    let ep = create_endpoint(
        "mixed",
        &[
            instances("cheap", "ml.t2.medium", 1),
            instances("real", "ml.m5.large", 1),
            serverless("sls"),
        ],
        &[],
        false,
    )
    .await;
    let report = reconciler(Settings::default()).reconcile(&ep, false).await;
    let codes: Vec<_> = report
        .variants
        .iter()
        .map(|v| {
            (
                v.subject.label(),
                v.status,
                v.reason.as_ref().map(|r| r.code()),
            )
        })
        .collect();
    let codes: Vec<_> = codes.iter().map(|(l, s, r)| (l.as_str(), *s, *r)).collect();
    assert_eq!(
        codes,
        [
            ("cheap", VariantStatus::Skipped, Some("burstable_instance")),
            ("real", VariantStatus::Changed, None),
            ("sls", VariantStatus::Skipped, Some("serverless")),
        ]
    );
    assert_eq!(target(&ep, "cheap").await, None);
    assert_eq!(target(&ep, "sls").await, None);
    assert_eq!(target(&ep, "real").await, Some((1, 4)));
}

#[tokio::test]
async fn an_async_endpoint_tracks_its_backlog_and_can_scale_from_zero() {
    let ep = create_endpoint(
        "async",
        &[instances("primary", "ml.m5.large", 1)],
        &[],
        true,
    )
    .await;
    let r = reconciler(Settings::default());
    let report = r.reconcile(&ep, false).await;
    assert_eq!(report.outcome, Outcome::Changed, "{report:?}");
    // Minimum 0: only asynchronous endpoints may run at zero.
    assert_eq!(target(&ep, "primary").await, Some((0, 4)));
    assert_eq!(
        policies(&ep, "primary").await,
        vec![
            (
                "autoscaling-guard-backlog".to_string(),
                Some(5.0),
                Some(300),
                Some(60)
            ),
            (
                "autoscaling-guard-backlog-from-zero".to_string(),
                None,
                None,
                None
            ),
        ]
    );
    let alarms = clients()
        .cloudwatch
        .describe_alarms()
        .alarm_names(format!("autoscaling-guard-{ep}/primary/backlog-from-zero"))
        .send()
        .await
        .unwrap();
    let alarm = &alarms.metric_alarms()[0];
    assert_eq!(alarm.metric_name(), Some("HasBacklogWithoutCapacity"));
    let dims: Vec<_> = alarm
        .dimensions()
        .iter()
        .map(|d| (d.name().unwrap(), d.value().unwrap()))
        .collect();
    assert_eq!(dims, [("EndpointName", ep.as_str())]);
    assert_eq!(alarm.alarm_actions().len(), 1);
    assert!(alarm.alarm_actions()[0].contains("backlog-from-zero"));
    assert_eq!(r.reconcile(&ep, false).await.writes, 0);
}

#[tokio::test]
async fn max_is_clamped_to_the_running_count() {
    let ep = create_endpoint(
        "clamp",
        &[instances("primary", "ml.m5.large", 7)],
        &[],
        false,
    )
    .await;
    let report = reconciler(Settings::default()).reconcile(&ep, false).await;
    assert!(report.variants[0].max_raised_to_running);
    // MAX_CAPACITY is 4, but registering max 4 would scale 7 instances in.
    assert_eq!(target(&ep, "primary").await, Some((1, 7)));
}

#[tokio::test]
async fn a_variant_whose_config_was_deleted_is_skipped_naming_the_config() {
    let ep = create_endpoint(
        "configless",
        &[instances("primary", "ml.m5.large", 1)],
        &[],
        false,
    )
    .await;
    clients()
        .sagemaker
        .delete_endpoint_config()
        .endpoint_config_name(format!("{ep}-config"))
        .send()
        .await
        .unwrap();
    let report = reconciler(Settings::default()).reconcile(&ep, false).await;
    assert_eq!(report.outcome, Outcome::Skipped, "{report:?}");
    let reason = report.variants[0].reason.as_ref().unwrap();
    assert_eq!(reason.code(), "endpoint_config_gone");
    assert!(
        reason
            .to_string()
            .contains(&format!("endpoint config {ep}-config no longer exists")),
        "{reason}"
    );
    assert_eq!(target(&ep, "primary").await, None);
}

#[tokio::test]
async fn a_vanished_endpoint_is_gone_not_an_error() {
    let ep = create_endpoint(
        "vanish",
        &[instances("primary", "ml.m5.large", 1)],
        &[],
        false,
    )
    .await;
    clients()
        .sagemaker
        .delete_endpoint()
        .endpoint_name(&ep)
        .send()
        .await
        .unwrap();
    let r = reconciler(Settings::default());
    let out = serde_json::to_value(
        handle(&r, in_service_event(&ep), Invocation::default())
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(out["outcome"], "gone");
    assert_eq!(
        (out["reads"].as_u64(), out["writes"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(target(&ep, "primary").await, None);
}

#[tokio::test]
async fn malformed_events_are_errors_that_change_nothing() {
    let ep = create_endpoint(
        "malformed",
        &[instances("primary", "ml.m5.large", 1)],
        &[],
        false,
    )
    .await;
    let r = reconciler(Settings::default());
    let mut wrong_types = in_service_event(&ep);
    wrong_types["detail"]["EndpointStatus"] = json!(["IN_SERVICE"]);
    let mut no_name = in_service_event(&ep);
    no_name["detail"]
        .as_object_mut()
        .unwrap()
        .remove("EndpointName");
    let mut unknown = in_service_event(&ep);
    unknown["source"] = json!("aws.ec2");
    for payload in [
        wrong_types,
        no_name,
        unknown,
        json!({"action": "reconcile", "endpoint": ep, "force": true}),
        json!({"action": "scale-everything"}),
        json!("IN_SERVICE"),
    ] {
        let err = handle(&r, payload.clone(), Invocation::default())
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), ErrorType::InvalidEvent, "{payload}");
    }
    assert_eq!(target(&ep, "primary").await, None);
}

#[tokio::test]
async fn a_direct_reconcile_payload_works() {
    let ep = create_endpoint(
        "direct",
        &[instances("primary", "ml.m5.large", 1)],
        &[],
        false,
    )
    .await;
    let r = reconciler(Settings::default());
    let out = serde_json::to_value(
        handle(
            &r,
            json!({"action": "reconcile", "endpoint": ep, "dry_run": false}),
            Invocation::default(),
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert_eq!(out["outcome"], "changed");
    assert_eq!(target(&ep, "primary").await, Some((1, 4)));
}
