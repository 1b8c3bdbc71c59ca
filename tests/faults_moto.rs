//! Reliability, measured on every run: the tool against a local AWS that
//! injects faults (throttling, 500 and 503 answers, reset connections, and
//! writes that are applied but whose answer is lost) into the requests
//! signed with the tool's own access key, while setup and checks sign with a
//! key that never meets a fault. The tool's clients retry as the product
//! does (`aws::retry_config`). A drift check sees the whole account, so these
//! tests take turns, each on an account of its own (the local AWS is reset).
//!
//! Run with `-- --nocapture` to see the figures (faults by kind, requests,
//! passes, wall time).

mod support;

use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::time::Instant;

use autoscaling_guard::app::{self, AwsReconciler};
use autoscaling_guard::aws::{retry_config, Clients};
use autoscaling_guard::config::{DriftMode, Settings};
use autoscaling_guard::drift::SweepOptions;
use autoscaling_guard::error::ErrorType;
use autoscaling_guard::handler::{handle, Invocation};
use autoscaling_guard::policy_set::PolicySet;
use autoscaling_guard::reconcile::report::Outcome;
use aws_config::retry::RetryConfig;
use aws_sdk_applicationautoscaling::types::{ScalableTargetAction, ServiceNamespace};
use futures::StreamExt;
use serde_json::Value;
use support::fleet::{self, in_service_event, Member, Shape, OWNED};
use support::*;
use tokio::sync::Mutex;

static TURN: Mutex<()> = Mutex::const_new(());

const KINDS: [&str; 5] = ["throttle", "500", "503", "reset", "lost_write"];
const RATE: f64 = 0.2;
/// Lambda tries a failed asynchronous invocation twice more; so is an
/// endpoint's event here.
const MAX_DELIVERIES: usize = 3;
/// Scheduled drift checks until the fleet must be repaired.
const MAX_SWEEPS: usize = 5;

const SWEEP: SweepOptions = SweepOptions {
    dry_run: false,
    deadline: None,
};

/// The example policy set: three target-tracking policies, a step policy
/// with its alarm, two scheduled actions.
fn full_set() -> PolicySet {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/policy-set.json"
    ))
    .unwrap();
    PolicySet::from_json(&text).unwrap()
}

fn full_settings(mode: DriftMode) -> Settings {
    Settings {
        policy_set: full_set(),
        drift_mode: mode,
        ..Settings::default()
    }
}

/// The tool's clients: signed with `key`, retrying as the product does.
fn tool_clients(key: &str) -> Clients {
    let config = sdk_config_with_key(key)
        .into_builder()
        .retry_config(retry_config())
        .build();
    Clients::new(&config)
}

fn tool(key: &str, settings: Settings) -> AwsReconciler {
    app::reconciler(&tool_clients(key), settings)
}

/// What the local AWS saw from `key`. Every fault is answered by one more
/// attempt unless the call runs out of attempts (then the invocation
/// fails), so the retries are the faults minus the failed calls.
fn figures(key: &str) -> String {
    let s = local_aws_stats(key);
    let faults: u64 = s["faults"]
        .as_object()
        .map_or(0, |f| f.values().filter_map(Value::as_u64).sum());
    format!(
        "requests {} (reads {}, writes {}), faults {faults} {}",
        s["requests"], s["reads"], s["writes"], s["faults"]
    )
}

/// Delivers an endpoint's IN_SERVICE event through the handler until the
/// invocation succeeds, at most `MAX_DELIVERIES` times, as Lambda retries a
/// failed one. Returns the deliveries it took (None: never succeeded) and
/// the errors of the failed ones.
async fn deliver(r: &AwsReconciler, endpoint: &str) -> (Option<usize>, Vec<String>) {
    let mut errors = Vec::new();
    for delivery in 1..=MAX_DELIVERIES {
        match handle(r, in_service_event(endpoint), Invocation::default()).await {
            Ok(_) => return (Some(delivery), errors),
            Err(e) => errors.push(e.to_string()),
        }
    }
    (None, errors)
}

#[tokio::test]
async fn a_fleet_onboarded_under_faults_converges_exactly_to_the_standard() {
    let _turn = TURN.lock().await;
    reset_account();
    let started = Instant::now();
    let plain = Settings::default();
    let full = full_settings(DriftMode::Remediate);
    let mut plain_shapes = vec![Shape::One; 10];
    plain_shapes.extend([Shape::Two; 6]);
    plain_shapes.extend([Shape::OneWithMax(6); 2]);
    let mut full_shapes = vec![Shape::One; 8];
    full_shapes.extend([Shape::Two; 4]);
    full_shapes.extend([Shape::Async; 2]);
    let plain_fleet = fleet::build("onboard-std", &plain_shapes).await;
    let full_fleet = fleet::build("onboard-full", &full_shapes).await;
    let all: Vec<Member> = plain_fleet.iter().chain(&full_fleet).cloned().collect();
    let built = started.elapsed();

    let key = "faults-onboard";
    set_faults(key, 7, RATE, &KINDS);
    let clients = tool_clients(key);
    let plain_tool = app::reconciler(&clients, plain.clone());
    let full_tool = app::reconciler(&clients, full.clone());
    let work: Vec<(&AwsReconciler, &str)> = plain_fleet
        .iter()
        .map(|m| (&plain_tool, m.name.as_str()))
        .chain(full_fleet.iter().map(|m| (&full_tool, m.name.as_str())))
        .collect();
    let onboarding = Instant::now();
    let results: Vec<(String, Option<usize>, Vec<String>)> = futures::stream::iter(work)
        .map(|(r, name)| async move {
            let (deliveries, errors) = deliver(r, name).await;
            (name.to_string(), deliveries, errors)
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let onboarding = onboarding.elapsed();
    clear_faults(key);
    let stats = local_aws_stats(key);

    let mut by_deliveries: BTreeMap<String, usize> = BTreeMap::new();
    for (_, deliveries, _) in &results {
        let k = deliveries.map_or("never".to_string(), |d| d.to_string());
        *by_deliveries.entry(k).or_default() += 1;
    }
    let failed: Vec<&String> = results.iter().flat_map(|r| &r.2).collect();
    println!(
        "FIGURES onboarding {} endpoints ({} variants) under {:.0} % faults: {}; \
         endpoints by deliveries needed {:?}; \
         failed deliveries {}: {:#?}; onboarding {:.1} s, test {:.1} s (building the fleet {:.1} s)",
        results.len(),
        plain_fleet
            .iter()
            .chain(&full_fleet)
            .map(|m| m.variants.len())
            .sum::<usize>(),
        RATE * 100.0,
        figures(key),
        by_deliveries,
        failed.len(),
        failed,
        onboarding.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        built.as_secs_f64(),
    );

    // Every kind of fault was met, and every endpoint's event succeeded in
    // the end.
    for kind in KINDS {
        assert!(
            stats["faults"][kind].as_u64().unwrap_or(0) > 0,
            "no {kind} fault injected: {stats}"
        );
    }
    let never: Vec<&str> = results
        .iter()
        .filter(|r| r.1.is_none())
        .map(|r| r.0.as_str())
        .collect();
    assert!(never.is_empty(), "not onboarded: {never:?}");

    // With faults off, nothing is left to do on any endpoint ...
    for (settings, members) in [(&plain, &plain_fleet), (&full, &full_fleet)] {
        let check = reconciler(settings.clone());
        for m in members.iter() {
            let plan = check.reconcile(&m.name, true).await;
            assert_eq!(
                (plan.outcome, plan.writes),
                (Outcome::Compliant, 0),
                "{plan:?}"
            );
        }
    }
    // ... and the account holds exactly the standard: nothing missing,
    // duplicated or extra, every alarm acting on its policy as it is now.
    let mut want = fleet::expected(&plain_fleet, &plain.policy_set);
    want.extend(fleet::expected(&full_fleet, &full.policy_set));
    want.sort();
    assert_eq!(fleet::held(&all).await, want);
}

/// Everything on a resource id as the Describe calls return it, in full
/// (ARNs, creation times, every field): with `foreign_only`, only the target
/// and the items that are not the tool's.
async fn describe(rid: &str, foreign_only: bool) -> Vec<String> {
    let aas = clients().autoscaling;
    let mut out = Vec::new();
    let targets = aas
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_ids(rid)
        .send()
        .await
        .unwrap();
    out.extend(targets.scalable_targets().iter().map(|t| format!("{t:?}")));
    let policies = aas
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(rid)
        .send()
        .await
        .unwrap();
    out.extend(
        policies
            .scaling_policies()
            .iter()
            .filter(|p| p.resource_id() == rid)
            .filter(|p| !(foreign_only && p.policy_name().starts_with(OWNED)))
            .map(|p| format!("{p:?}")),
    );
    let scheduled = aas
        .describe_scheduled_actions()
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(rid)
        .send()
        .await
        .unwrap();
    out.extend(
        scheduled
            .scheduled_actions()
            .iter()
            .filter(|s| s.resource_id() == rid)
            .filter(|s| !(foreign_only && s.scheduled_action_name().starts_with(OWNED)))
            .map(|s| format!("{s:?}")),
    );
    out.sort();
    out
}

async fn delete_policy(rid: &str, name: &str) {
    clients()
        .autoscaling
        .delete_scaling_policy()
        .service_namespace(ServiceNamespace::Sagemaker)
        .scalable_dimension(dimension())
        .resource_id(rid)
        .policy_name(name)
        .send()
        .await
        .unwrap();
}

async fn delete_scheduled_action(rid: &str, name: &str) {
    clients()
        .autoscaling
        .delete_scheduled_action()
        .service_namespace(ServiceNamespace::Sagemaker)
        .scalable_dimension(dimension())
        .resource_id(rid)
        .scheduled_action_name(name)
        .send()
        .await
        .unwrap();
}

/// Deregisters a target by hand; its policies and scheduled actions go
/// with it (as on AWS, and on the local AWS), its alarms stay.
async fn deregister(rid: &str) {
    clients()
        .autoscaling
        .deregister_scalable_target()
        .service_namespace(ServiceNamespace::Sagemaker)
        .scalable_dimension(dimension())
        .resource_id(rid)
        .send()
        .await
        .unwrap();
}

/// A person's own scaling on a variant: a policy and a scheduled action.
async fn add_persons_scaling(rid: &str) {
    put_invocations_policy(rid, "team-own-policy", 120.0, Some((600, 30))).await;
    clients()
        .autoscaling
        .put_scheduled_action()
        .service_namespace(ServiceNamespace::Sagemaker)
        .scalable_dimension(dimension())
        .resource_id(rid)
        .scheduled_action_name("team-black-friday")
        .schedule("at(2027-11-26T06:00:00)")
        .scalable_target_action(ScalableTargetAction::builder().min_capacity(3).build())
        .send()
        .await
        .unwrap();
}

async fn delete_endpoint(name: &str) {
    clients()
        .sagemaker
        .delete_endpoint()
        .endpoint_name(name)
        .send()
        .await
        .unwrap();
}

fn lines_of<'a>(lines: &'a [String], rid: &str) -> Vec<&'a String> {
    lines
        .iter()
        .filter(|l| l.split_once(' ').is_some_and(|(r, _)| r == rid))
        .collect()
}

#[tokio::test]
async fn a_tampered_fleet_is_repaired_under_faults_and_a_persons_scaling_stays_byte_identical() {
    let _turn = TURN.lock().await;
    reset_account();
    let started = Instant::now();
    let settings = full_settings(DriftMode::Remediate);
    let set = settings.policy_set.clone();
    use Shape::{One, Two};
    let m = fleet::build(
        "tamper",
        &[
            One, One, One, One, One, One, Two, One, One, One, Two, Two, One,
        ],
    )
    .await;
    let rid = |i: usize, variant: &str| fleet::resource_id(&m[i].name, variant);
    // All but the last are onboarded, without faults.
    let setup = reconciler(settings.clone());
    for member in &m[..12] {
        let r = setup.reconcile(&member.name, false).await;
        assert_eq!(r.outcome, Outcome::Changed, "{r:?}");
    }
    // 0: a policy's target value changed by hand.
    put_invocations_policy(
        &rid(0, "primary"),
        "autoscaling-guard-invocations",
        5.0,
        Some((300, 60)),
    )
    .await;
    // 1: a policy deleted.
    delete_policy(&rid(1, "primary"), "autoscaling-guard-cpu").await;
    // 2: the target deregistered, with everything on it.
    deregister(&rid(2, "primary")).await;
    // 3: the step policy's alarm deleted.
    clients()
        .cloudwatch
        .delete_alarms()
        .alarm_names(format!("{OWNED}{}/primary/burst", m[3].name))
        .send()
        .await
        .unwrap();
    // 4: a scheduled action deleted.
    delete_scheduled_action(&rid(4, "primary"), "autoscaling-guard-weekday-evening").await;
    // 5: capacities changed.
    register_target(&rid(5, "primary"), 2, 3).await;
    // 6: one variant deregistered, the other's step policy deleted.
    deregister(&rid(6, "canary")).await;
    delete_policy(&rid(6, "primary"), "autoscaling-guard-burst").await;
    // 7: the endpoint deleted: everything of the tool's on it is an orphan.
    // 8: a person's scaling beside the tool's, then the endpoint deleted: an
    // orphan whose target stays, for the person.
    add_persons_scaling(&rid(8, "primary")).await;
    delete_endpoint(&m[7].name).await;
    delete_endpoint(&m[8].name).await;
    // 9: a person's scaling beside the tool's: the variant is theirs now.
    add_persons_scaling(&rid(9, "primary")).await;
    // 10: one variant is the person's, the other lost a policy.
    add_persons_scaling(&rid(10, "canary")).await;
    delete_policy(&rid(10, "primary"), "autoscaling-guard-invocations").await;
    // 11 stays as it is; 12 is the person's alone, never onboarded.
    register_target(&rid(12, "primary"), 1, 3).await;
    add_persons_scaling(&rid(12, "primary")).await;

    let before = fleet::held(&m).await;
    let persons = [
        rid(8, "primary"),
        rid(9, "primary"),
        rid(10, "canary"),
        rid(12, "primary"),
    ];
    let mut persons_before = BTreeMap::new();
    for r in &persons {
        persons_before.insert(r.clone(), describe(r, true).await);
    }
    let mut theirs_before = BTreeMap::new();
    for r in &persons[1..] {
        theirs_before.insert(r.clone(), describe(r, false).await);
    }

    let key = "faults-drift";
    set_faults(key, 11, RATE, &KINDS);
    let repairing = Instant::now();
    let mut sweeps: Vec<String> = Vec::new();
    let mut clean = false;
    for _ in 0..MAX_SWEEPS {
        // Each sweep on a cold start, as a scheduled invocation may be.
        match tool(key, settings.clone()).drift_check(SWEEP).await {
            Ok(report) => {
                let s = &report.summary;
                let found: Vec<String> = report
                    .endpoints
                    .iter()
                    .map(|e| format!("{} {:?}", e.found.endpoint, e.found.outcome))
                    .collect();
                sweeps.push(format!(
                    "drifted {}, remediated {}, errors {}, orphans found {} removed {}: {found:?}",
                    s.drifted, s.remediated, s.errors, s.orphans_found, s.orphans_removed
                ));
                if s.drifted == 0 && s.orphans_found == 0 && !s.has_errors() {
                    clean = true;
                    break;
                }
            }
            Err(e) => sweeps.push(format!("failed: {e}")),
        }
    }
    let repairing = repairing.elapsed();
    clear_faults(key);
    let stats = local_aws_stats(key);
    println!(
        "FIGURES drift repair of {} endpoints under {:.0} % faults: {}; sweeps {:#?}; \
         repairing {:.1} s, test {:.1} s",
        m.len(),
        RATE * 100.0,
        figures(key),
        sweeps,
        repairing.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    // About 165 requests, a fifth of them faulted: at least ten faults. (A
    // lost write, drawn for one write in 25, may not come up here; the
    // fleet test and the lost-delete test meet it every time.)
    let faults: u64 = KINDS
        .iter()
        .filter_map(|k| stats["faults"][*k].as_u64())
        .sum();
    assert!(faults >= 10, "{stats}");
    assert!(clean, "no clean sweep in {MAX_SWEEPS}: {sweeps:#?}");

    // With faults off: nothing left to repair, and exactly the standard on
    // what is the tool's, the person's scaling exactly as it was, nothing
    // left of the orphans but the person's.
    let check = reconciler(full_settings(DriftMode::Report))
        .drift_check(SWEEP)
        .await
        .unwrap();
    let s = &check.summary;
    // Eleven endpoints are left: eleven variants compliant, the person's
    // three skipped.
    assert_eq!(
        (s.endpoints, s.compliant, s.skipped, s.drifted, s.errors),
        (11, 11, 3, 0, 0),
        "{s:?}"
    );
    assert_eq!((s.orphans_found, s.writes), (0, 0), "{s:?}");
    let mut want: Vec<String> = Vec::new();
    for (i, member) in m.iter().enumerate() {
        for variant in &member.variants {
            let r = fleet::resource_id(&member.name, variant);
            let lines: Vec<String> = match (i, *variant) {
                (7, _) => vec![],
                (8, _) => lines_of(&before, &r)
                    .into_iter()
                    .filter(|l| !l.contains(&format!(" {OWNED}")))
                    .cloned()
                    .collect(),
                (9, _) | (10, "canary") | (12, _) => {
                    lines_of(&before, &r).into_iter().cloned().collect()
                }
                _ => lines_of(&member.expected(&set), &r)
                    .into_iter()
                    .cloned()
                    .collect(),
            };
            want.extend(lines);
        }
    }
    want.sort();
    assert_eq!(fleet::held(&m).await, want);
    for r in &persons {
        assert_eq!(describe(r, true).await, persons_before[r], "{r}");
    }
    for r in &persons[1..] {
        assert_eq!(describe(r, false).await, theirs_before[r], "{r}");
    }
}

/// The binary, as an operator runs it, signing with `key`.
fn run_cli(key: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_autoscaling-guard"))
        .args(args)
        .env_clear()
        .env("AWS_ENDPOINT_URL", moto_url())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", key)
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("DRIFT_MODE", "remediate")
        .output()
        .expect("run the binary")
}

#[tokio::test]
async fn a_failure_that_persists_is_reported_with_its_aws_code_and_exit_status_1() {
    let _turn = TURN.lock().await;
    reset_account();
    let started = Instant::now();
    let one = [instances("primary", "ml.c5.xlarge", 1)];

    // The JSON protocol: Application Auto Scaling throttles every policy put.
    let ep = create_endpoint("cli-throttled", &one, &[], false).await;
    let key = "faults-cli-reconcile";
    set_faults_on(key, 1, 1.0, &["throttle"], &["PutScalingPolicy"]);
    let out = run_cli(key, &["reconcile", "--endpoint", &ep]);
    clear_faults(key);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["outcome"], "error");
    let error = report["variants"][0]["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("PutScalingPolicy failed: ThrottlingException:"),
        "{stdout}"
    );
    let stats = local_aws_stats(key);
    // Tried as often as the product's retry policy allows, then reported.
    assert_eq!(stats["by_operation"]["PutScalingPolicy"], 6, "{stats}");
    assert_eq!(stats["faults"]["throttle"], 6, "{stats}");
    let reconcile_time = started.elapsed();

    // The Query protocol: CloudWatch throttles every alarm put, in a drift
    // check with the example set, on an account of its own.
    reset_account();
    let ep = create_endpoint("cli-alarm-throttled", &one, &[], false).await;
    let key = "faults-cli-drift";
    set_faults_on(key, 2, 1.0, &["throttle"], &["PutMetricAlarm"]);
    let policy = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/policy-set.json");
    let out = run_cli(key, &["--policy", policy, "drift-check", "--json"]);
    clear_faults(key);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["summary"]["errors"], 1, "{stdout}");
    let entry = report["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["found"]["endpoint"] == ep.as_str())
        .unwrap_or_else(|| panic!("{ep} not in {stdout}"));
    let error = entry["remediation"]["variants"][0]["error"]
        .as_str()
        .unwrap_or_default();
    assert!(
        error.starts_with("PutMetricAlarm failed: Throttling:"),
        "{stdout}"
    );
    let stats = local_aws_stats(key);
    assert_eq!(stats["by_operation"]["PutMetricAlarm"], 6, "{stats}");
    println!(
        "FIGURES persisting failures: reconcile {:.1} s, test {:.1} s",
        reconcile_time.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}

/// The tool's clients with a single attempt per call: here the first failed
/// read must already stop every write (retries are the fleet tests' part).
fn tool_without_retries(key: &str, settings: Settings) -> AwsReconciler {
    let config = sdk_config_with_key(key)
        .into_builder()
        .retry_config(RetryConfig::disabled())
        .build();
    app::reconciler(&Clients::new(&config), settings)
}

#[tokio::test]
async fn nothing_is_written_after_a_failed_read() {
    let _turn = TURN.lock().await;
    reset_account();
    let started = Instant::now();
    let settings = full_settings(DriftMode::Remediate);
    // A fresh endpoint and an onboarded one whose policy was deleted: both
    // have writes waiting.
    use Shape::{One, Two};
    let m = fleet::build("readfail", &[One, Two]).await;
    let setup = reconciler(settings.clone());
    setup.reconcile(&m[1].name, false).await;
    delete_policy(
        &fleet::resource_id(&m[1].name, "canary"),
        "autoscaling-guard-cpu",
    )
    .await;
    let before = fleet::held(&m).await;

    let kinds = ["throttle", "500", "503", "reset"];
    let reconcile_reads = [
        "DescribeEndpoint",
        "DescribeEndpointConfig",
        "ListTags",
        "DescribeScalableTargets",
        "DescribeScalingPolicies",
        "DescribeScheduledActions",
        "DescribeAlarms",
    ];
    for op in reconcile_reads {
        let key = format!("faults-read-{op}");
        set_faults_on(&key, 5, 1.0, &kinds, &[op]);
        let r = tool_without_retries(&key, settings.clone());
        for member in &m {
            let report = r.reconcile(&member.name, false).await;
            assert_eq!(report.outcome, Outcome::Error, "{op}: {report:?}");
            let error = report.error.clone().unwrap_or_default();
            assert!(
                error.starts_with(&format!("{op} failed")),
                "{op}: {report:?}"
            );
        }
        clear_faults(&key);
        let stats = local_aws_stats(&key);
        assert_eq!(stats["writes"], 0, "{op}: {stats}");
        assert!(
            stats["by_operation"][op].as_u64() > Some(0),
            "{op}: {stats}"
        );
    }
    let sweep_reads = [
        "Search",
        "DescribeEndpoint",
        "DescribeEndpointConfig",
        "DescribeScalableTargets",
        "DescribeScalingPolicies",
        "DescribeScheduledActions",
        "DescribeAlarms",
    ];
    for op in sweep_reads {
        let key = format!("faults-sweep-{op}");
        set_faults_on(&key, 6, 1.0, &kinds, &[op]);
        let r = tool_without_retries(&key, settings.clone());
        let outcome = match r.drift_check(SWEEP).await {
            Ok(report) => format!("summary {:?}", report.summary),
            Err(e) => format!("failed: {e}"),
        };
        clear_faults(&key);
        let stats = local_aws_stats(&key);
        assert_eq!(stats["writes"], 0, "{op}: {outcome}; {stats}");
        assert!(
            stats["by_operation"][op].as_u64() > Some(0),
            "{op}: {outcome}; {stats}"
        );
    }
    assert_eq!(fleet::held(&m).await, before);
    println!(
        "FIGURES failed reads: {} reconcile and {} sweep cases, test {:.1} s",
        reconcile_reads.len(),
        sweep_reads.len(),
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test]
async fn every_kind_of_failure_is_named_in_the_invocation_error() {
    let _turn = TURN.lock().await;
    reset_account();
    let m = fleet::build("named", &[Shape::One]).await;
    let event = in_service_event(&m[0].name);
    // The JSON protocol first (no policy is ever put), then the Query
    // protocol (the policies are put, the alarm never).
    let cases = [
        (
            "PutScalingPolicy",
            "throttle",
            "ThrottlingException: Rate exceeded",
        ),
        ("PutScalingPolicy", "500", "InternalFailure: "),
        ("PutScalingPolicy", "503", "ServiceUnavailable: "),
        ("PutScalingPolicy", "reset", "dispatch failure"),
        ("PutMetricAlarm", "throttle", "Throttling: Rate exceeded"),
        ("PutMetricAlarm", "500", "InternalFailure: "),
        ("PutMetricAlarm", "503", "ServiceUnavailable: "),
        ("PutMetricAlarm", "reset", "dispatch failure"),
    ];
    for (op, kind, named) in cases {
        let key = format!("faults-named-{op}-{kind}");
        set_faults_on(&key, 4, 1.0, &[kind], &[op]);
        let r = tool_without_retries(&key, full_settings(DriftMode::Remediate));
        let err = handle(&r, event.clone(), Invocation::default())
            .await
            .expect_err(op);
        clear_faults(&key);
        assert_eq!(err.error_type(), ErrorType::AwsError);
        let message = err.to_string();
        assert!(
            message.contains(&format!("{op} failed: {named}")),
            "{op} {kind}: {message}"
        );
        // One line, with no SDK debug form (`DispatchFailure { source: ...`).
        assert!(
            !message.contains('\n') && !message.contains(" { "),
            "{op} {kind}: {message}"
        );
    }
}

#[tokio::test]
async fn a_delete_whose_answer_was_lost_is_done() {
    let _turn = TURN.lock().await;
    reset_account();
    let settings = full_settings(DriftMode::Remediate);
    let m = fleet::build("lostdelete", &[Shape::Two]).await;
    let report = reconciler(settings.clone())
        .reconcile(&m[0].name, false)
        .await;
    assert_eq!(report.outcome, Outcome::Changed, "{report:?}");
    delete_endpoint(&m[0].name).await;

    // Every Application Auto Scaling delete is applied and its answer
    // lost; the retry finds the item gone (ObjectNotFoundException), which
    // is what the delete wanted. (CloudWatch's DeleteAlarms succeeds on a
    // missing alarm, so every retry of it would be lost too: left out.)
    let key = "faults-lost-delete";
    let deletes = [
        "DeleteScalingPolicy",
        "DeleteScheduledAction",
        "DeregisterScalableTarget",
    ];
    set_faults_on(key, 9, 1.0, &["lost_write"], &deletes);
    let sweep = tool(key, settings).drift_check(SWEEP).await.unwrap();
    clear_faults(key);
    let stats = local_aws_stats(key);
    println!("FIGURES lost deletes: {}", figures(key));
    let statuses: Vec<(&str, Value)> = sweep
        .orphans
        .iter()
        .map(|o| (o.orphan.subject.name(), serde_json::json!(o.status)))
        .collect();
    assert_eq!(
        statuses,
        [
            ("canary", serde_json::json!("removed")),
            ("primary", serde_json::json!("removed"))
        ],
        "{:?}",
        sweep.orphans
    );
    assert!(!sweep.summary.has_errors(), "{:?}", sweep.summary);
    // Each of the 2 × (4 policies, 2 scheduled actions, 1 target) deletes
    // was lost once, then answered ObjectNotFoundException; the 2 alarm
    // deletes were answered at once.
    assert_eq!(stats["faults"]["lost_write"], 14, "{stats}");
    assert_eq!(stats["writes"], 2 * (7 * 2 + 1), "{stats}");
    assert_eq!(fleet::held(&m).await, Vec::<String>::new());
}
