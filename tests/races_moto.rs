//! Races on the local AWS: invocations that run at the same time, each with
//! clients of its own as separate Lambda instances would be, converge to
//! exactly one standard set. A drift check sees the whole account, so these
//! tests take turns, each on an account of its own (the local AWS is reset).

mod support;

use std::sync::Arc;
use std::time::Instant;

use autoscaling_guard::config::{DriftMode, Settings};
use autoscaling_guard::drift::SweepOptions;
use autoscaling_guard::handler::{handle, Invocation};
use autoscaling_guard::policy_set::PolicySet;
use autoscaling_guard::reconcile::report::Outcome;
use aws_sdk_applicationautoscaling::types::{ScalableTargetAction, ServiceNamespace};
use support::fleet::{self, in_service_event, Shape};
use support::*;
use tokio::sync::{Barrier, Mutex};

static TURN: Mutex<()> = Mutex::const_new(());

/// The example policy set without its step policy: three target-tracking
/// policies and two scheduled actions. moto mints a new PolicyARN whenever
/// a policy is put again, where AWS updates the policy in place and keeps
/// its ARN; an alarm put during a race could then name a superseded ARN on
/// moto only. Step policies and their alarms under faults are in
/// tests/faults_moto.rs, where no two invocations put the same policy.
fn race_settings() -> Settings {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/policy-set.json"
    ))
    .unwrap();
    let mut set = PolicySet::from_json(&text).unwrap();
    set.instance.step_scaling.clear();
    Settings {
        policy_set: set,
        drift_mode: DriftMode::Remediate,
        ..Settings::default()
    }
}

/// Asserts that, with no one else acting, nothing is left to do on these
/// endpoints and the account holds exactly one standard set for each.
async fn assert_exactly_standard(members: &[fleet::Member], settings: &Settings) {
    let check = reconciler(settings.clone());
    for m in members {
        let plan = check.reconcile(&m.name, true).await;
        assert_eq!(
            (plan.outcome, plan.writes),
            (Outcome::Compliant, 0),
            "{plan:?}"
        );
    }
    assert_eq!(
        fleet::held(members).await,
        fleet::expected(members, &settings.policy_set)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_events_at_once_for_one_fresh_endpoint_leave_exactly_one_standard_set() {
    let _turn = TURN.lock().await;
    reset_account();
    let started = Instant::now();
    let settings = race_settings();
    let members = fleet::build("race", &[Shape::Two]).await;
    let start = Arc::new(Barrier::new(20));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (start, settings, name) =
                (start.clone(), settings.clone(), members[0].name.clone());
            tokio::spawn(async move {
                // Each invocation on an instance of its own.
                let r = reconciler(settings);
                start.wait().await;
                handle(&r, in_service_event(&name), Invocation::default()).await
            })
        })
        .collect();
    let mut writes = 0;
    for task in tasks {
        let out = task.await.unwrap().expect("invocation");
        writes += serde_json::to_value(out).unwrap()["writes"]
            .as_u64()
            .unwrap();
    }
    println!(
        "FIGURES race of 20 events for one endpoint: {writes} writes in all, test {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert_exactly_standard(&members, &settings).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_drift_check_beside_ten_events_leaves_exactly_one_standard_set_each() {
    let _turn = TURN.lock().await;
    reset_account();
    let started = Instant::now();
    let settings = race_settings();
    use Shape::{One, Two};
    let members = fleet::build("beside", &[One, Two, One, Two, One, One]).await;
    // Two endpoints carry a policy and a scheduled action of the tool's that
    // the set no longer has: several invocations delete them at once.
    for i in [0, 5] {
        let rid = fleet::resource_id(&members[i].name, "primary");
        register_target(&rid, 1, 4).await;
        put_invocations_policy(&rid, "autoscaling-guard-retired", 50.0, None).await;
        clients()
            .autoscaling
            .put_scheduled_action()
            .service_namespace(ServiceNamespace::Sagemaker)
            .scalable_dimension(dimension())
            .resource_id(&rid)
            .scheduled_action_name("autoscaling-guard-retired")
            .schedule("cron(0 6 * * ? *)")
            .scalable_target_action(ScalableTargetAction::builder().min_capacity(2).build())
            .send()
            .await
            .unwrap();
    }
    // Events for five endpoints, three of them twice or more; the sixth is
    // left to the drift check.
    let events: Vec<String> = [0, 1, 2, 3, 4, 0, 1, 2, 0, 3]
        .iter()
        .map(|&i| members[i].name.clone())
        .collect();
    let start = Arc::new(Barrier::new(events.len() + 1));
    let mut tasks = Vec::new();
    for name in events {
        let (start, settings) = (start.clone(), settings.clone());
        tasks.push(tokio::spawn(async move {
            let r = reconciler(settings);
            start.wait().await;
            handle(&r, in_service_event(&name), Invocation::default())
                .await
                .map(|out| {
                    serde_json::to_value(out).unwrap()["writes"]
                        .as_u64()
                        .unwrap()
                })
                .map_err(|e| e.to_string())
        }));
    }
    let sweep = {
        let (start, settings) = (start.clone(), settings.clone());
        tokio::spawn(async move {
            let r = reconciler(settings);
            start.wait().await;
            r.drift_check(SweepOptions {
                dry_run: false,
                deadline: None,
            })
            .await
        })
    };
    let mut writes = 0;
    for task in tasks {
        writes += task.await.unwrap().expect("invocation");
    }
    let report = sweep.await.unwrap().expect("drift check");
    let s = &report.summary;
    println!(
        "FIGURES drift check beside 10 events: events wrote {writes}, the drift check \
         {} (drifted {}, remediated {}, errors {}), test {:.1} s",
        s.writes,
        s.drifted,
        s.remediated,
        s.errors,
        started.elapsed().as_secs_f64()
    );
    assert_eq!(s.errors, 0, "{report:?}");
    assert_exactly_standard(&members, &settings).await;
    // And the next drift check finds the six endpoints' eight variants
    // compliant, with nothing else in the account.
    let next = reconciler(settings)
        .drift_check(SweepOptions {
            dry_run: true,
            deadline: None,
        })
        .await
        .unwrap()
        .summary;
    assert_eq!(
        (next.endpoints, next.compliant, next.drifted, next.errors),
        (6, 8, 0, 0),
        "{next:?}"
    );
    assert_eq!(next.orphans_found, 0, "{next:?}");
}
