//! One hand-computed scenario per modelled rule, run through the production
//! desired state (`desired_for`) of a small policy set.

use super::*;
use crate::config::Settings;
use crate::policy_set::PolicySet;

/// Monday 2026-01-12 00:00 UTC, in minutes since the epoch.
const MONDAY: i64 = 29_469_600;

fn settings(instance_profile: &str) -> Settings {
    Settings {
        policy_set: PolicySet::from_json(&format!(r#"{{"instance": {instance_profile}}}"#))
            .unwrap(),
        ..Settings::default()
    }
}

/// Target tracking on invocations per instance, target 70.
fn tracking(min: i32, max: i32, scale_out_cooldown: i32) -> Settings {
    settings(&format!(
        r#"{{"min_capacity": {min}, "max_capacity": {max}, "target_tracking": [
            {{"name": "invocations", "metric": "SageMakerVariantInvocationsPerInstance",
              "target_value": 70, "scale_in_cooldown": 300,
              "scale_out_cooldown": {scale_out_cooldown}}}]}}"#
    ))
}

fn params(start_count: i32, capacity: f64, startup: u32) -> VariantParams {
    VariantParams {
        instance_type: Some("ml.m5.large".into()),
        start_count,
        capacity_per_instance: capacity,
        startup_minutes: startup,
        hourly_price: None,
    }
}

fn run_at(
    settings: &Settings,
    params: &VariantParams,
    start: i64,
    per_minute: Vec<f64>,
) -> Timeline {
    let desired = desired_for_variant(settings, "e", "v", params).unwrap();
    let traffic = Traffic {
        start_minute: start,
        per_minute: per_minute.into_iter().map(Some).collect(),
    };
    simulate(&desired, params, &traffic).unwrap()
}

fn run(settings: &Settings, params: &VariantParams, per_minute: Vec<f64>) -> Timeline {
    run_at(settings, params, MONDAY, per_minute)
}

fn steady(value: f64, minutes: usize) -> Vec<f64> {
    vec![value; minutes]
}

/// (minute, from, to) of the events of one kind.
fn moves(t: &Timeline, kind: EventKind) -> Vec<(usize, i32, i32)> {
    t.events
        .iter()
        .filter(|e| e.kind == kind)
        .map(|e| (e.minute, e.from, e.to))
        .collect()
}

fn in_service(t: &Timeline) -> Vec<i32> {
    t.minutes.iter().map(|m| m.in_service).collect()
}

#[test]
fn scale_out_is_proportional_after_three_minutes_above_target() {
    // 210 a minute on one instance is 3 x the target: after the 3rd minute
    // above it, ceil(1 x 210 / 70) = 3 instances, and then it is on target.
    let t = run(&tracking(1, 4, 60), &params(1, 1000.0, 0), steady(210.0, 8));
    assert_eq!(moves(&t, EventKind::ScaleOut), [(2, 1, 3)]);
    assert_eq!(in_service(&t), [1, 1, 1, 3, 3, 3, 3, 3]);
    assert_eq!(t.minutes[2].metric, Some(210.0));
    assert_eq!(t.minutes[3].metric, Some(70.0));
    assert_eq!(t.events[0].policy, "autoscaling-guard-invocations");
}

#[test]
fn new_capacity_serves_only_after_the_start_up_time() {
    // Asked for at the end of minute 2, serving from minute 3 + 5 = 8. Until
    // then one instance serves 100 of 210: 110 fail in each of minutes 0-7.
    // The alarm keeps firing meanwhile; the capacity already asked for
    // counts, so nothing more is added.
    let t = run(&tracking(1, 4, 60), &params(1, 100.0, 5), steady(210.0, 10));
    assert_eq!(moves(&t, EventKind::ScaleOut), [(2, 1, 3)]);
    assert_eq!(in_service(&t), [1, 1, 1, 1, 1, 1, 1, 1, 3, 3]);
    assert_eq!(t.minutes.iter().map(|m| m.desired).max(), Some(3));
    let f = figures(&t, &params(1, 100.0, 5));
    assert_eq!(f.minutes_above_capacity, 8);
    assert_eq!(f.failed_invocations, 880.0);
}

#[test]
fn capacity_stops_at_the_maximum() {
    // 700 a minute needs 10 instances; the maximum is 4.
    let t = run(
        &tracking(1, 4, 60),
        &params(1, 1000.0, 0),
        steady(700.0, 10),
    );
    assert_eq!(moves(&t, EventKind::ScaleOut), [(2, 1, 4)]);
    assert_eq!(t.minutes[9].in_service, 4);
    // 700 / 4 = 175 stays above the target.
    let f = figures(&t, &params(1, 1000.0, 0));
    assert_eq!(f.minutes_above_target, 10);
    assert_eq!(f.peak_metric_over_target, Some(10.0));
}

#[test]
fn a_larger_scale_out_during_the_scale_out_cooldown_happens() {
    // Cooldown of 10 minutes after the scale-out to 3 at minute 2; the
    // traffic doubles at minute 5, one instance still serving: ceil(1 x 420
    // / 70) = 6 is larger than the 3 asked for, so it happens at once.
    let mut traffic = steady(210.0, 5);
    traffic.extend(steady(420.0, 3));
    let t = run(&tracking(1, 10, 600), &params(1, 1000.0, 10), traffic);
    assert_eq!(moves(&t, EventKind::ScaleOut), [(2, 1, 3), (5, 3, 6)]);
}

#[test]
fn scale_in_waits_for_fifteen_minutes_below_and_for_its_cooldown() {
    // Four instances at 140 a minute: 35 each, below 0.9 x 70 = 63 for the
    // 15 minutes 0-14, so at minute 14: ceil(4 x 35 / 70) = 2. From minute
    // 15 the traffic falls to 35: 17.5 each, and the low alarm stays in
    // ALARM, but the 300 s scale-in cooldown holds until minute 19.
    let mut traffic = steady(140.0, 15);
    traffic.extend(steady(35.0, 10));
    let t = run(&tracking(1, 4, 60), &params(4, 1000.0, 0), traffic);
    assert_eq!(moves(&t, EventKind::ScaleIn), [(14, 4, 2), (19, 2, 1)]);
    assert_eq!(t.minutes[14].in_service, 4);
    assert_eq!(t.minutes[15].in_service, 2);
    assert!(moves(&t, EventKind::ScaleOut).is_empty());
}

#[test]
fn a_scale_out_during_the_scale_in_cooldown_happens_at_once() {
    // Scaled in to 2 at minute 14 (as above); 700 a minute from minute 15 is
    // 350 each: after minutes 15-17 above target, out to the maximum 4 at
    // minute 17, inside the scale-in cooldown.
    let mut traffic = steady(140.0, 15);
    traffic.extend(steady(700.0, 5));
    let t = run(&tracking(1, 4, 60), &params(4, 1000.0, 0), traffic);
    assert_eq!(moves(&t, EventKind::ScaleIn), [(14, 4, 2)]);
    assert_eq!(moves(&t, EventKind::ScaleOut), [(17, 2, 4)]);
}

#[test]
fn minutes_without_invocations_block_scale_in() {
    // No invocations, no InvocationsPerInstance datapoint: the low alarm has
    // no data and target tracking never scales in.
    let t = run(&tracking(1, 4, 60), &params(4, 1000.0, 0), steady(0.0, 60));
    assert!(t.events.is_empty(), "{:?}", t.events);
    assert!(t
        .minutes
        .iter()
        .all(|m| m.metric.is_none() && m.in_service == 4));
}

/// Invocations per instance (target 70) and CPU utilization of an
/// ml.m5.large (2 vCPUs: full scale 200 %) with the given target.
fn two_policies(cpu_target: f64) -> Settings {
    settings(&format!(
        r#"{{"min_capacity": 1, "max_capacity": 4, "target_tracking": [
            {{"name": "invocations", "metric": "SageMakerVariantInvocationsPerInstance",
              "target_value": 70}},
            {{"name": "cpu", "metric": "CPUUtilization", "target_value": {cpu_target}}}]}}"#
    ))
}

#[test]
fn scale_in_needs_every_target_tracking_policy_ready_and_the_largest_capacity_wins() {
    // 70 a minute on 4 instances of capacity 100: 17.5 invocations each,
    // CPU 200 x 70 / 400 = 35 %.
    // Target 40: 35 is not below 0.9 x 40 = 36, so the CPU policy is not
    // ready and the invocations policy alone may not scale in.
    let t = run(&two_policies(40.0), &params(4, 100.0, 0), steady(70.0, 30));
    assert!(t.events.is_empty(), "{:?}", t.events);
    // Target 50: both ready at minute 14; invocations asks for
    // ceil(4 x 17.5 / 70) = 1, CPU for ceil(4 x 35 / 50) = 3: 3 wins.
    let t = run(&two_policies(50.0), &params(4, 100.0, 0), steady(70.0, 16));
    assert_eq!(moves(&t, EventKind::ScaleIn), [(14, 4, 3)]);
    assert_eq!(t.events[0].policy, "autoscaling-guard-cpu");
}

#[test]
fn scale_out_when_any_policy_asks() {
    // Three instances at 70 a minute: 23.3 invocations each, below target,
    // but CPU 200 x 70 / 300 = 46.7 %, above a target of 30: the CPU policy
    // alone scales out, ceil(3 x 46.7 / 30) = 5, capped at the maximum 4.
    let t = run(&two_policies(30.0), &params(3, 100.0, 0), steady(70.0, 5));
    assert_eq!(moves(&t, EventKind::ScaleOut), [(2, 3, 4)]);
    assert_eq!(t.events[0].policy, "autoscaling-guard-cpu");
}

/// A step policy on the minute's invocations (Sum), alarm at >= 100 in 1
/// of 1 one-minute periods: +1 from 0 to 50 above, +3 from 50 above.
fn step_set(cooldown: i32) -> Settings {
    settings(&format!(
        r#"{{"min_capacity": 1, "max_capacity": 10, "step_scaling": [
            {{"name": "burst", "adjustment_type": "ChangeInCapacity", "cooldown": {cooldown},
              "steps": [{{"lower": 0, "upper": 50, "adjustment": 1}},
                        {{"lower": 50, "adjustment": 3}}],
              "alarm": {{"metric": "Invocations", "statistic": "Sum", "period": 60,
                         "evaluation_periods": 1, "threshold": 100,
                         "comparison": "GreaterThanOrEqualToThreshold"}}}}]}}"#
    ))
}

#[test]
fn step_bounds_include_the_lower_bound_above_the_threshold() {
    // 149 is 49 above the threshold: +1. 150 is 50 above: the second step.
    // 100 is on the threshold: the first step.
    for (traffic, to) in [(149.0, 2), (150.0, 4), (100.0, 2)] {
        let t = run(&step_set(300), &params(1, 1000.0, 0), steady(traffic, 1));
        assert_eq!(moves(&t, EventKind::ScaleOut), [(0, 1, to)], "{traffic}");
    }
    let t = run(&step_set(300), &params(1, 1000.0, 0), steady(99.0, 3));
    assert!(t.events.is_empty());
}

#[test]
fn step_bounds_below_the_threshold_include_the_upper_bound() {
    use super::engine_model::Step;
    let steps = [
        Step {
            lower: None,
            upper: Some(-20.0),
            adjustment: -2,
        },
        Step {
            lower: Some(-20.0),
            upper: Some(0.0),
            adjustment: -1,
        },
    ];
    assert_eq!(super::engine::step_for(&steps, -20.0), Some(-2));
    assert_eq!(super::engine::step_for(&steps, -19.5), Some(-1));
    assert_eq!(super::engine::step_for(&steps, 0.0), None);
}

#[test]
fn the_step_alarm_invokes_its_policy_every_minute_after_the_cooldown() {
    // 150 a minute keeps the alarm in ALARM: +3 at minute 0, then again
    // once the 300 s cooldown is over, at minute 5.
    let t = run(&step_set(300), &params(1, 1000.0, 0), steady(150.0, 6));
    assert_eq!(moves(&t, EventKind::ScaleOut), [(0, 1, 4), (5, 4, 7)]);
    // With a 60 s cooldown, every minute.
    let t = run(&step_set(60), &params(1, 1000.0, 0), steady(150.0, 3));
    assert_eq!(
        moves(&t, EventKind::ScaleOut),
        [(0, 1, 4), (1, 4, 7), (2, 7, 10)]
    );
}

#[test]
fn a_larger_step_during_the_cooldown_counts_what_the_first_added() {
    // +1 at minute 0 (120 is 20 above). At minute 1, 200 is 100 above: +3,
    // from the capacity before the first scale-out: 1 + 3 = 4, so 2 more.
    let t = run(
        &step_set(300),
        &params(1, 1000.0, 0),
        vec![120.0, 200.0, 200.0],
    );
    assert_eq!(moves(&t, EventKind::ScaleOut), [(0, 1, 2), (1, 2, 4)]);
}

#[test]
fn a_step_alarm_over_several_periods_needs_its_datapoints() {
    // Period 120 s, 2 of 3 periods at Sum >= 100: the periods end with
    // minutes 1, 3 and 5 (the first minute is even); 60 + 60 = 120 breaches.
    let s = settings(
        r#"{"min_capacity": 1, "max_capacity": 10, "step_scaling": [
            {"name": "burst", "adjustment_type": "ExactCapacity", "cooldown": 60,
             "steps": [{"lower": 0, "adjustment": 5}],
             "alarm": {"metric": "Invocations", "statistic": "Sum", "period": 120,
                       "evaluation_periods": 3, "datapoints_to_alarm": 2,
                       "threshold": 100, "comparison": "GreaterThanOrEqualToThreshold"}}]}"#,
    );
    let t = run(
        &s,
        &params(1, 1000.0, 0),
        vec![60.0, 60.0, 10.0, 10.0, 60.0, 60.0],
    );
    assert_eq!(moves(&t, EventKind::ScaleOut), [(5, 1, 5)]);
}

#[test]
fn percent_changes_round_toward_zero_but_never_to_zero() {
    use super::engine::adjusted;
    use super::engine_model::Adjustment;
    let percent = Adjustment::Percent { min_magnitude: 0 };
    assert_eq!(adjusted(percent, 4, 50), 6);
    assert_eq!(adjusted(percent, 3, 50), 4); // 1.5 -> 1
    assert_eq!(adjusted(percent, 1, 10), 2); // 0.1 -> 1
    assert_eq!(adjusted(percent, 5, -30), 4); // -1.5 -> -1
    assert_eq!(adjusted(Adjustment::Percent { min_magnitude: 3 }, 4, 25), 7);
    assert_eq!(adjusted(Adjustment::Exact, 4, 2), 2);
}

/// Raise the minimum to 3 at 08:00 Berlin on weekdays, lower it to 1 at
/// 20:00.
fn office_hours() -> Settings {
    settings(
        r#"{"min_capacity": 1, "max_capacity": 4, "target_tracking": [
            {"name": "invocations", "metric": "SageMakerVariantInvocationsPerInstance",
             "target_value": 70}],
          "scheduled_actions": [
            {"name": "morning", "schedule": "cron(0 8 ? * MON-FRI *)",
             "timezone": "Europe/Berlin", "min_capacity": 3},
            {"name": "evening", "schedule": "cron(0 20 ? * MON-FRI *)",
             "timezone": "Europe/Berlin", "min_capacity": 1}]}"#,
    )
}

#[test]
fn a_scheduled_minimum_raises_capacity_at_its_local_time() {
    // From 06:00 UTC (07:00 in Berlin in January), 10 a minute. 08:00 Berlin
    // is minute 60: the minimum becomes 3, serving from minute 64. Target
    // tracking wants 1 all along but may not go below the minimum; at 20:00
    // Berlin (minute 780) the minimum falls back to 1 and the low alarm,
    // long in ALARM, scales in at once: ceil(3 x 10/3 / 70) = 1.
    let t = run_at(
        &office_hours(),
        &params(1, 100.0, 4),
        MONDAY + 6 * 60,
        steady(10.0, 800),
    );
    assert_eq!(moves(&t, EventKind::Scheduled), [(60, 1, 3), (780, 3, 3)]);
    assert_eq!(moves(&t, EventKind::ScaleIn), [(780, 3, 1)]);
    assert_eq!((t.minutes[63].in_service, t.minutes[64].in_service), (1, 3));
    assert_eq!(t.minutes[781].in_service, 1);
    assert_eq!(t.schedule_windows, [(60, 780)]);
}

#[test]
fn actions_before_the_first_minute_set_the_starting_limits() {
    // Starting at 09:00 Berlin, the morning action has run: the minimum is
    // 3 from the first minute, so one instance becomes three.
    let t = run_at(
        &office_hours(),
        &params(1, 100.0, 0),
        MONDAY + 8 * 60,
        steady(10.0, 30),
    );
    assert_eq!(t.schedule_windows, [(0, 30)]);
    assert_eq!(t.minutes[0].desired, 3);
    assert_eq!(t.minutes[1].in_service, 3);
    assert!(t.events.is_empty(), "{:?}", t.events);
}

#[test]
fn bad_parameters_and_unsimulated_metrics_are_named() {
    let desired = desired_for_variant(&tracking(1, 4, 60), "e", "v", &params(1, 100.0, 0)).unwrap();
    let traffic = Traffic {
        start_minute: MONDAY,
        per_minute: vec![Some(1.0)],
    };
    let err = simulate(&desired, &params(1, 0.0, 0), &traffic).unwrap_err();
    assert_eq!(
        err.to_string(),
        "capacity_per_instance = 0: invocations per minute one instance serves, above 0"
    );
    let bad_traffic = Traffic {
        start_minute: MONDAY,
        per_minute: vec![Some(1.0), Some(-3.0)],
    };
    let err = simulate(&desired, &params(1, 10.0, 0), &bad_traffic).unwrap_err();
    assert!(err.to_string().contains("-3 at minute 1"), "{err}");
    let memory = settings(
        r#"{"min_capacity": 1, "max_capacity": 4, "target_tracking": [
            {"name": "mem", "metric": "MemoryUtilization", "target_value": 70}]}"#,
    );
    let desired = desired_for_variant(&memory, "e", "v", &params(1, 100.0, 0)).unwrap();
    let err = simulate(&desired, &params(1, 100.0, 0), &traffic).unwrap_err();
    assert!(err.to_string().contains("MemoryUtilization"), "{err}");
}
