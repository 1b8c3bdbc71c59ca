//! The full policy set document against a local AWS (moto): several
//! target-tracking policies on predefined and utilization metrics, scheduled
//! actions, a document change, and drift on scheduled actions. The drift
//! check sees the whole account, so these tests take turns.

mod support;

use autoscaling_guard::config::{DriftMode, Settings};
use autoscaling_guard::drift::SweepOptions;
use autoscaling_guard::policy_set::PolicySet;
use autoscaling_guard::reconcile::report::{Outcome, VariantStatus};
use aws_sdk_applicationautoscaling::types::{ScalableTargetAction, ServiceNamespace};
use serde_json::Value;
use support::*;
use tokio::sync::Mutex;

static TURN: Mutex<()> = Mutex::const_new(());

fn example() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/policy-set.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn settings(doc: &Value, mode: DriftMode) -> Settings {
    Settings {
        policy_set: PolicySet::from_json(&doc.to_string()).unwrap(),
        drift_mode: mode,
        ..Settings::default()
    }
}

/// Scheduled actions on a variant: (name, schedule, timezone, min, max).
async fn scheduled(
    endpoint: &str,
) -> Vec<(String, String, Option<String>, Option<i32>, Option<i32>)> {
    let rid = format!("endpoint/{endpoint}/variant/primary");
    let out = clients()
        .autoscaling
        .describe_scheduled_actions()
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(&rid)
        .send()
        .await
        .unwrap();
    let mut rows: Vec<_> = out
        .scheduled_actions()
        .iter()
        .filter(|s| s.resource_id() == rid)
        .map(|s| {
            let a = s.scalable_target_action();
            (
                s.scheduled_action_name().to_string(),
                s.schedule().to_string(),
                s.timezone().map(str::to_string),
                a.and_then(|a| a.min_capacity()),
                a.and_then(|a| a.max_capacity()),
            )
        })
        .collect();
    rows.sort();
    rows
}

async fn custom_metric(endpoint: &str, policy: &str) -> (String, String, Vec<(String, String)>) {
    let out = clients()
        .autoscaling
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(format!("endpoint/{endpoint}/variant/primary"))
        .send()
        .await
        .unwrap();
    let p = out
        .scaling_policies()
        .iter()
        .find(|p| p.policy_name() == policy)
        .unwrap();
    let m = p
        .target_tracking_scaling_policy_configuration()
        .unwrap()
        .customized_metric_specification()
        .unwrap();
    let mut dims: Vec<_> = m
        .dimensions()
        .iter()
        .map(|d| (d.name().to_string(), d.value().to_string()))
        .collect();
    dims.sort();
    (
        m.namespace().unwrap().to_string(),
        m.metric_name().unwrap().to_string(),
        dims,
    )
}

#[tokio::test]
async fn the_example_set_is_applied_then_left_alone() {
    let _turn = TURN.lock().await;
    let ep = create_endpoint(
        "fullset",
        &[instances("primary", "ml.c5.xlarge", 1)],
        &[],
        false,
    )
    .await;
    let r = reconciler(settings(&example(), DriftMode::Remediate));
    let first = r.reconcile(&ep, false).await;
    assert_eq!(first.outcome, Outcome::Changed, "{first:?}");
    // Register, three target-tracking policies, the step policy and its
    // alarm, two scheduled actions.
    assert_eq!(first.writes, 8);
    assert_eq!(target(&ep, "primary").await, Some((1, 8)));
    assert_eq!(
        policies(&ep, "primary").await,
        vec![
            ("autoscaling-guard-burst".to_string(), None, None, None),
            // 70 % per vCPU on 4 vCPUs.
            (
                "autoscaling-guard-cpu".to_string(),
                Some(280.0),
                Some(600),
                Some(120)
            ),
            (
                "autoscaling-guard-invocations".to_string(),
                Some(70.0),
                Some(300),
                Some(60)
            ),
            (
                "autoscaling-guard-memory".to_string(),
                Some(80.0),
                Some(300),
                Some(60)
            ),
        ]
    );
    assert_eq!(
        custom_metric(&ep, "autoscaling-guard-cpu").await,
        (
            "/aws/sagemaker/Endpoints".to_string(),
            "CPUUtilization".to_string(),
            vec![
                ("EndpointName".to_string(), ep.clone()),
                ("VariantName".to_string(), "primary".to_string())
            ]
        )
    );
    let berlin = Some("Europe/Berlin".to_string());
    assert_eq!(
        scheduled(&ep).await,
        vec![
            (
                "autoscaling-guard-weekday-evening".into(),
                "cron(0 20 ? * MON-FRI *)".into(),
                berlin.clone(),
                Some(1),
                None
            ),
            (
                "autoscaling-guard-weekday-morning".into(),
                "cron(0 8 ? * MON-FRI *)".into(),
                berlin,
                Some(2),
                None
            ),
        ]
    );
    // The step policy exists and its alarm acts on it, on the variant's metric.
    let arn = policy_arn(&ep, "autoscaling-guard-burst").await;
    let alarm = alarm(&format!("autoscaling-guard-{ep}/primary/burst"))
        .await
        .expect("alarm");
    assert_eq!(alarm.alarm_actions(), [arn]);
    assert_eq!(alarm.metric_name(), Some("InvocationsPerInstance"));
    assert_eq!(alarm.threshold(), Some(500.0));
    let dims: Vec<_> = alarm
        .dimensions()
        .iter()
        .map(|d| (d.name().unwrap(), d.value().unwrap()))
        .collect();
    assert!(
        dims.contains(&("EndpointName", ep.as_str())) && dims.contains(&("VariantName", "primary"))
    );

    let second = r.reconcile(&ep, false).await;
    assert_eq!(
        (second.outcome, second.writes),
        (Outcome::Compliant, 0),
        "{second:?}"
    );
}

/// A changed step policy is put again; its alarm then acts on the ARN that
/// put returned (the local AWS even gives the policy a new ARN each time).
#[tokio::test]
async fn a_re_put_step_policy_keeps_its_alarm_on_the_returned_arn() {
    let _turn = TURN.lock().await;
    let ep = create_endpoint(
        "reput",
        &[instances("primary", "ml.m5.xlarge", 1)],
        &[],
        false,
    )
    .await;
    reconciler(settings(&example(), DriftMode::Remediate))
        .reconcile(&ep, false)
        .await;
    let mut changed = example();
    changed["instance"]["step_scaling"][0]["steps"][1]["adjustment"] = serde_json::json!(4);
    for round in 0..2 {
        changed["instance"]["step_scaling"][0]["cooldown"] = serde_json::json!(180 + round);
        let set = settings(&changed, DriftMode::Remediate);
        let report = reconciler(set).reconcile(&ep, false).await;
        let changes = &report.variants[0].changes;
        let names: Vec<&str> = changes.iter().map(|c| c.name()).collect();
        assert_eq!(names, ["put_step_policy", "put_alarm"], "{report:?}");
        let autoscaling_guard::domain::plan::Change::PutAlarm {
            policy_arn: returned,
            ..
        } = &changes[1]
        else {
            panic!("{changes:?}")
        };
        let arn = returned.clone().expect("the returned ARN");
        assert_eq!(
            arn,
            policy_arn(&ep, "autoscaling-guard-burst").await,
            "round {round}"
        );
        let alarm = alarm(&format!("autoscaling-guard-{ep}/primary/burst"))
            .await
            .expect("alarm");
        assert_eq!(alarm.alarm_actions(), [arn], "round {round}");
    }
    let again = reconciler(settings(&changed, DriftMode::Remediate))
        .reconcile(&ep, false)
        .await;
    assert_eq!(again.outcome, Outcome::Compliant, "{again:?}");
}

async fn policy_arn(endpoint: &str, policy: &str) -> String {
    let out = clients()
        .autoscaling
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(format!("endpoint/{endpoint}/variant/primary"))
        .send()
        .await
        .unwrap();
    out.scaling_policies()
        .iter()
        .find(|p| p.policy_name() == policy)
        .map(|p| p.policy_arn().to_string())
        .expect("policy")
}

async fn alarm(name: &str) -> Option<aws_sdk_cloudwatch::types::MetricAlarm> {
    let out = clients()
        .cloudwatch
        .describe_alarms()
        .alarm_names(name)
        .send()
        .await
        .unwrap();
    out.metric_alarms().first().cloned()
}

#[tokio::test]
async fn a_hand_edited_alarm_is_named_and_restored_and_orphans_lose_their_alarm() {
    let _turn = TURN.lock().await;
    let ep = create_endpoint(
        "alarmdrift",
        &[instances("primary", "ml.m5.xlarge", 1)],
        &[],
        false,
    )
    .await;
    let set = settings(&example(), DriftMode::Remediate);
    reconciler(set.clone()).reconcile(&ep, false).await;
    let name = format!("autoscaling-guard-{ep}/primary/burst");
    let arn = policy_arn(&ep, "autoscaling-guard-burst").await;
    clients()
        .cloudwatch
        .put_metric_alarm()
        .alarm_name(&name)
        .namespace("AWS/SageMaker")
        .metric_name("InvocationsPerInstance")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
        .period(60)
        .evaluation_periods(2)
        .threshold(5000.0)
        .comparison_operator(
            aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanOrEqualToThreshold,
        )
        .treat_missing_data("notBreaching")
        .alarm_actions(&arn)
        .dimensions(
            aws_sdk_cloudwatch::types::Dimension::builder()
                .name("EndpointName")
                .value(&ep)
                .build(),
        )
        .dimensions(
            aws_sdk_cloudwatch::types::Dimension::builder()
                .name("VariantName")
                .value("primary")
                .build(),
        )
        .send()
        .await
        .unwrap();

    let options = SweepOptions {
        dry_run: true,
        deadline: None,
    };
    let report = reconciler(set.clone()).drift_check(options).await.unwrap();
    let entry = report
        .endpoints
        .iter()
        .find(|e| e.found.endpoint == ep)
        .expect("drifted");
    let fields: Vec<String> = entry.found.variants[0]
        .changes
        .iter()
        .flat_map(|c| c.because())
        .map(|d| format!("{} {}", d.subject, d.field))
        .collect();
    assert_eq!(fields, [format!("alarm {name} threshold")]);

    let options = SweepOptions {
        dry_run: false,
        deadline: None,
    };
    reconciler(set.clone()).drift_check(options).await.unwrap();
    assert_eq!(alarm(&name).await.unwrap().threshold(), Some(500.0));

    // The endpoint goes away: its policies, scheduled actions, alarm and
    // target go with the next sweep.
    clients()
        .sagemaker
        .delete_endpoint()
        .endpoint_name(&ep)
        .send()
        .await
        .unwrap();
    let swept = reconciler(set).drift_check(options).await.unwrap();
    let orphan = swept
        .orphans
        .iter()
        .find(|o| o.orphan.subject.endpoint() == Some(ep.as_str()))
        .expect("orphan");
    assert_eq!(orphan.status.as_str(), "removed");
    assert_eq!(orphan.orphan.owned_alarms, std::slice::from_ref(&name));
    assert!(alarm(&name).await.is_none(), "alarm removed");
    assert!(policies(&ep, "primary").await.is_empty());
    assert!(scheduled(&ep).await.is_empty());
    assert_eq!(target(&ep, "primary").await, None);
}

#[tokio::test]
async fn a_document_change_removes_what_left_the_set() {
    let _turn = TURN.lock().await;
    let ep = create_endpoint(
        "docchange",
        &[instances("primary", "ml.m5.xlarge", 1)],
        &[],
        false,
    )
    .await;
    reconciler(settings(&example(), DriftMode::Remediate))
        .reconcile(&ep, false)
        .await;

    let mut smaller = example();
    smaller["instance"]["target_tracking"]
        .as_array_mut()
        .unwrap()
        .remove(2);
    smaller["instance"]["step_scaling"] = serde_json::json!([]);
    smaller["instance"]["scheduled_actions"]
        .as_array_mut()
        .unwrap()
        .remove(1);
    smaller["instance"]["target_tracking"][0]["target_value"] = serde_json::json!(90);
    let report = reconciler(settings(&smaller, DriftMode::Remediate))
        .reconcile(&ep, false)
        .await;
    let actions: Vec<&str> = report.variants[0]
        .changes
        .iter()
        .map(|c| c.name())
        .collect();
    assert_eq!(
        actions,
        [
            "delete_alarm",
            "delete_policy",
            "delete_policy",
            "delete_scheduled_action",
            "put_target_tracking_policy"
        ]
    );
    assert!(alarm(&format!("autoscaling-guard-{ep}/primary/burst"))
        .await
        .is_none());
    let names: Vec<String> = policies(&ep, "primary")
        .await
        .into_iter()
        .map(|p| p.0)
        .collect();
    assert_eq!(
        names,
        ["autoscaling-guard-cpu", "autoscaling-guard-invocations"]
    );
    assert_eq!(policies(&ep, "primary").await[1].1, Some(90.0));
    let left: Vec<String> = scheduled(&ep).await.into_iter().map(|s| s.0).collect();
    assert_eq!(left, ["autoscaling-guard-weekday-morning"]);
}

#[tokio::test]
async fn a_persons_scheduled_action_keeps_the_variant_theirs() {
    let _turn = TURN.lock().await;
    let ep = create_endpoint(
        "theirsched",
        &[instances("primary", "ml.m5.xlarge", 1)],
        &[],
        false,
    )
    .await;
    // AWS takes a scheduled action only on a registered target.
    support::register_target(&format!("endpoint/{ep}/variant/primary"), 1, 8).await;
    clients()
        .autoscaling
        .put_scheduled_action()
        .service_namespace(ServiceNamespace::Sagemaker)
        .scalable_dimension(dimension())
        .resource_id(format!("endpoint/{ep}/variant/primary"))
        .scheduled_action_name("black-friday")
        .schedule("at(2027-11-26T06:00:00)")
        .scalable_target_action(ScalableTargetAction::builder().min_capacity(6).build())
        .send()
        .await
        .unwrap();
    let report = reconciler(settings(&example(), DriftMode::Remediate))
        .reconcile(&ep, false)
        .await;
    assert_eq!(report.variants[0].status, VariantStatus::Skipped);
    assert!(report.variants[0]
        .reason
        .as_ref()
        .unwrap()
        .to_string()
        .contains("scheduled action black-friday"));
    assert_eq!(report.writes, 0);
    assert_eq!(scheduled(&ep).await.len(), 1);
}

#[tokio::test]
async fn drift_on_a_scheduled_action_is_named_and_repaired() {
    let _turn = TURN.lock().await;
    let ep = create_endpoint(
        "scheddrift",
        &[instances("primary", "ml.m5.xlarge", 1)],
        &[],
        false,
    )
    .await;
    let set = settings(&example(), DriftMode::Report);
    reconciler(set.clone()).reconcile(&ep, false).await;
    clients()
        .autoscaling
        .put_scheduled_action()
        .service_namespace(ServiceNamespace::Sagemaker)
        .scalable_dimension(dimension())
        .resource_id(format!("endpoint/{ep}/variant/primary"))
        .scheduled_action_name("autoscaling-guard-weekday-morning")
        .schedule("cron(0 6 ? * MON-FRI *)")
        .timezone("Europe/Berlin")
        .scalable_target_action(ScalableTargetAction::builder().min_capacity(2).build())
        .send()
        .await
        .unwrap();

    let options = SweepOptions {
        dry_run: false,
        deadline: None,
    };
    let report = reconciler(set.clone()).drift_check(options).await.unwrap();
    let entry = report
        .endpoints
        .iter()
        .find(|e| e.found.endpoint == ep)
        .expect("drifted");
    let diffs: Vec<String> = entry.found.variants[0]
        .changes
        .iter()
        .flat_map(|c| c.because())
        .map(|d| format!("{} {}: {} -> {}", d.subject, d.field, d.actual, d.desired))
        .collect();
    assert_eq!(
        diffs,
        ["scheduled action autoscaling-guard-weekday-morning schedule: \"cron(0 6 ? * MON-FRI *)\" -> \"cron(0 8 ? * MON-FRI *)\""]
    );
    assert_eq!(
        scheduled(&ep).await[1].1,
        "cron(0 6 ? * MON-FRI *)",
        "report mode changed nothing"
    );

    let fixer = Settings {
        drift_mode: DriftMode::Remediate,
        ..set
    };
    reconciler(fixer).drift_check(options).await.unwrap();
    assert_eq!(scheduled(&ep).await[1].1, "cron(0 8 ? * MON-FRI *)");
}
