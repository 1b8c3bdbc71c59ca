//! The drift check against a local AWS (moto). A sweep sees the whole
//! account, so this binary has a moto of its own and its tests take turns.

mod support;

use std::collections::BTreeMap;

use autoscaling_guard::config::{DriftMode, Settings};
use autoscaling_guard::drift::report::EMF_METRICS;
use autoscaling_guard::drift::SweepOptions;
use autoscaling_guard::error::ErrorType;
use autoscaling_guard::handler::{handle, Invocation};
use serde_json::Value;
use support::*;
use tokio::sync::Mutex;

static TURN: Mutex<()> = Mutex::const_new(());

const POLICY: &str = "autoscaling-guard-invocations";

fn settings(mode: DriftMode) -> Settings {
    Settings {
        drift_mode: mode,
        ..Settings::default()
    }
}

const SWEEP: SweepOptions = SweepOptions {
    dry_run: false,
    deadline: None,
};

/// Everything Application Auto Scaling holds for the given variants.
async fn state(
    variants: &[(&str, &str)],
) -> BTreeMap<String, (Option<(i32, i32)>, Vec<PolicyRow>)> {
    let mut out = BTreeMap::new();
    for (e, v) in variants {
        out.insert(
            format!("{e}/{v}"),
            (target(e, v).await, policies(e, v).await),
        );
    }
    out
}

fn rid(endpoint: &str) -> String {
    format!("endpoint/{endpoint}/variant/primary")
}

#[tokio::test]
async fn a_mixed_fleet_is_reported_then_repaired_then_clean() {
    let _turn = TURN.lock().await;
    // Other tests here leave only compliant endpoints behind.
    let base = reconciler(settings(DriftMode::Report))
        .drift_check(SWEEP)
        .await
        .unwrap()
        .summary;
    assert_eq!(base.endpoints, base.compliant, "{base:?}");
    let one = |n| [instances("primary", "ml.m5.large", n)];
    let compliant = create_endpoint("compliant", &one(1), &[], false).await;
    let missing = create_endpoint("missing", &one(1), &[], false).await;
    let edited = create_endpoint("edited", &one(1), &[], false).await;
    let resized = create_endpoint("resized", &one(2), &[], false).await;
    let opted_out = create_endpoint(
        "optedout",
        &one(1),
        &[("autoscaling:enabled", "false")],
        false,
    )
    .await;
    let foreign = create_endpoint("foreign", &one(1), &[], false).await;
    let burstable = create_endpoint(
        "burstable",
        &[instances("primary", "ml.t2.medium", 1)],
        &[],
        false,
    )
    .await;
    let bad_tag = create_endpoint(
        "badtag",
        &one(1),
        &[("autoscaling:min-capacity", "none")],
        false,
    )
    .await;

    let onboard = reconciler(Settings::default());
    for ep in [&compliant, &edited, &resized] {
        onboard.reconcile(ep, false).await;
    }
    // Hand edits: a changed target value, changed capacities, a person's
    // own policy, and scaling owned by this tool on an endpoint that is gone.
    put_invocations_policy(&rid(&edited), POLICY, 5.0, Some((300, 60))).await;
    register_target(&rid(&resized), 2, 3).await;
    register_target(&rid(&foreign), 1, 9).await;
    put_invocations_policy(&rid(&foreign), "team-own-policy", 120.0, Some((300, 60))).await;
    let ghost = unique("ghost");
    register_target(&rid(&ghost), 1, 4).await;
    put_invocations_policy(&rid(&ghost), POLICY, 70.0, Some((300, 60))).await;

    let all: Vec<(&str, &str)> = [
        &compliant, &missing, &edited, &resized, &opted_out, &foreign, &burstable, &bad_tag, &ghost,
    ]
    .iter()
    .map(|e| (e.as_str(), "primary"))
    .collect();
    let before = state(&all).await;

    // Report mode: everything is found, nothing changes.
    let report = reconciler(settings(DriftMode::Report))
        .drift_check(SWEEP)
        .await
        .unwrap();
    let s = &report.summary;
    assert_eq!(s.endpoints, base.endpoints + 8);
    assert_eq!(
        (s.compliant - base.compliant, s.drifted, s.remediated),
        (1, 3, 0),
        "{s:?}"
    );
    assert_eq!((s.skipped, s.errors), (3, 1), "{s:?}");
    assert_eq!(
        (s.orphans_found, s.orphans_removed, s.not_reached),
        (1, 0, 0)
    );
    assert_eq!(s.writes, 0);
    assert_eq!(state(&all).await, before, "report mode changed something");

    let entry = |name: &str| {
        report
            .endpoints
            .iter()
            .find(|e| e.found.endpoint == name)
            .unwrap()
    };
    let fields = |name: &str| -> Vec<String> {
        entry(name).found.variants[0]
            .changes
            .iter()
            .flat_map(|c| c.because())
            .map(|d| format!("{} {}", d.subject, d.field))
            .collect()
    };
    assert_eq!(
        fields(&missing),
        [
            "scalable_target registered",
            "policy autoscaling-guard-invocations present"
        ]
    );
    assert_eq!(
        fields(&edited),
        ["policy autoscaling-guard-invocations target_value"]
    );
    assert_eq!(
        fields(&resized),
        [
            "scalable_target min_capacity",
            "scalable_target max_capacity"
        ]
    );
    assert_eq!(
        entry(&foreign).found.variants[0]
            .reason
            .as_ref()
            .unwrap()
            .code(),
        "foreign_policy"
    );
    assert_eq!(
        entry(&opted_out).found.reason.as_ref().unwrap().code(),
        "opted_out"
    );
    assert_eq!(
        entry(&bad_tag).found.error_type,
        Some(ErrorType::InvalidTag)
    );
    assert_eq!(report.orphans[0].orphan.subject.resource_id(), rid(&ghost));

    // Remediate mode: everything owned converges; the rest stays as it was.
    let fixer = reconciler(settings(DriftMode::Remediate));
    let fixed = fixer.drift_check(SWEEP).await.unwrap();
    let s = &fixed.summary;
    assert_eq!((s.drifted, s.remediated, s.errors), (3, 3, 1), "{s:?}");
    assert_eq!((s.orphans_found, s.orphans_removed), (1, 1));
    for ep in [&compliant, &missing, &edited] {
        assert_eq!(target(ep, "primary").await, Some((1, 4)), "{ep}");
        assert_eq!(
            policies(ep, "primary").await,
            vec![(POLICY.to_string(), Some(70.0), Some(300), Some(60))]
        );
    }
    // Resized runs 2 instances: min back to 1, max back to 4.
    assert_eq!(target(&resized, "primary").await, Some((1, 4)));
    let after = state(&all).await;
    for untouched in [&opted_out, &foreign, &burstable, &bad_tag] {
        let key = format!("{untouched}/primary");
        assert_eq!(after[&key], before[&key], "{untouched} was touched");
    }
    assert_eq!(
        after[&format!("{ghost}/primary")],
        (None, vec![]),
        "orphan removed"
    );

    // And then there is nothing left to do, for a fraction of a call per endpoint.
    let clean = fixer.drift_check(SWEEP).await.unwrap();
    let s = &clean.summary;
    assert_eq!(
        (s.drifted, s.remediated, s.orphans_found, s.writes),
        (0, 0, 0, 0),
        "{s:?}"
    );
    // Only listings: not one call per endpoint (the configs are cached).
    let per_endpoint = ["DescribeEndpoint", "DescribeEndpointConfig", "ListTags"];
    for op in clean.calls_by_operation.keys() {
        assert!(
            !per_endpoint.iter().any(|p| op.ends_with(p)),
            "{op} in a clean sweep"
        );
    }
    assert_eq!(clean.calls_by_operation["SageMaker.Search"], 1);
}

#[tokio::test]
async fn every_schedule_shape_runs_a_drift_check_through_the_handler() {
    let _turn = TURN.lock().await;
    let r = reconciler(settings(DriftMode::Report));
    for file in [
        "drift-check-schedule-rule.json",
        "drift-check-scheduler.json",
        "drift-check-direct.json",
    ] {
        let text = std::fs::read_to_string(format!("{}/events/{file}", env!("CARGO_MANIFEST_DIR")))
            .unwrap();
        let payload: Value = serde_json::from_str(&text).unwrap();
        let out = serde_json::to_value(handle(&r, payload, Invocation::default()).await.unwrap())
            .unwrap();
        assert_eq!(out["action"], "drift-check", "{file}");
        assert_eq!(out["mode"], "report");
        for key in EMF_METRICS {
            assert!(out["summary"][key].is_u64(), "{file}: summary.{key}");
        }
        assert_eq!(out["summary"]["writes"], 0);
    }
}

#[tokio::test]
async fn a_dry_run_drift_check_in_remediate_mode_writes_nothing() {
    let _turn = TURN.lock().await;
    let ep = create_endpoint(
        "drydrift",
        &[instances("primary", "ml.m5.large", 1)],
        &[],
        false,
    )
    .await;
    let r = reconciler(settings(DriftMode::Remediate));
    let report = r
        .drift_check(SweepOptions {
            dry_run: true,
            deadline: None,
        })
        .await
        .unwrap();
    assert_eq!(report.summary.writes, 0);
    assert!(report.summary.drifted >= 1);
    assert_eq!(target(&ep, "primary").await, None);
    // Clean up after ourselves so that other sweeps see a compliant fleet.
    r.reconcile(&ep, false).await;
}
