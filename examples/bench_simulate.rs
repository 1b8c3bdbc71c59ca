//! Simulates 15 days of one-minute traffic for 100 variants (seeded
//! diurnal traffic from `synthetic:diurnal`) on two threads, and prints the wall time
//! and the process's peak resident memory.
//!
//! Usage: bench_simulate [VARIANTS [DAYS [default|full]]]
//! `full` adds a CPU policy, a step policy and office-hours schedules to
//! the default invocations policy.

use std::time::Instant;

use autoscaling_guard::config::Settings;
use autoscaling_guard::policy_set::PolicySet;
use autoscaling_guard::simulate::traffic_synthetic::Synthetic;
use autoscaling_guard::simulate::{desired_for_variant, figures, simulate, Traffic, VariantParams};

const FULL_SET: &str = r#"{"instance": {"min_capacity": 1, "max_capacity": 8,
  "target_tracking": [
    {"name": "invocations", "metric": "SageMakerVariantInvocationsPerInstance", "target_value": 70},
    {"name": "cpu", "metric": "CPUUtilization", "target_per_core": 70, "scale_in_cooldown": 600}],
  "step_scaling": [
    {"name": "burst", "adjustment_type": "ChangeInCapacity", "cooldown": 120,
     "metric_aggregation_type": "Maximum",
     "steps": [{"lower": 0, "upper": 1000, "adjustment": 1}, {"lower": 1000, "adjustment": 3}],
     "alarm": {"metric": "InvocationsPerInstance", "statistic": "Sum", "period": 60,
               "evaluation_periods": 2, "threshold": 500,
               "comparison": "GreaterThanOrEqualToThreshold", "treat_missing_data": "notBreaching"}}],
  "scheduled_actions": [
    {"name": "morning", "schedule": "cron(0 8 ? * MON-FRI *)", "timezone": "Europe/Berlin", "min_capacity": 2},
    {"name": "evening", "schedule": "cron(0 20 ? * MON-FRI *)", "timezone": "Europe/Berlin", "min_capacity": 1}]}}"#;

/// Diurnal traffic between 20 and 420 a minute with 20 % noise, from the
/// tool's own synthetic source: what `--traffic synthetic:diurnal` gives.
fn traffic(seed: u64, minutes: usize) -> Traffic {
    Synthetic::parse(&format!(
        "diurnal?base=20&peak=420&minutes={minutes}&noise=0.2&seed={seed}"
    ))
    .expect("the benchmark's traffic is valid")
    .generate()
}

fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let variants: usize = args.next().map_or(100, |a| a.parse().expect("VARIANTS"));
    let days: usize = args.next().map_or(15, |a| a.parse().expect("DAYS"));
    let set = args.next().unwrap_or_else(|| "default".to_string());
    let settings = match set.as_str() {
        "default" => Settings::default(),
        "full" => Settings {
            policy_set: PolicySet::from_json(FULL_SET).expect("the full set is valid"),
            ..Settings::default()
        },
        other => panic!("unknown set {other}: default or full"),
    };
    let params = VariantParams {
        instance_type: Some("ml.m5.xlarge".to_string()),
        start_count: 1,
        capacity_per_instance: 100.0,
        startup_minutes: 6,
        hourly_price: Some(0.23),
    };
    let desired = desired_for_variant(&settings, "bench", "AllTraffic", &params)
        .expect("the set applies to the variant");
    let threads = 2;
    let started = Instant::now();
    let totals: Vec<(f64, usize)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|w| {
                let (desired, params) = (&desired, &params);
                scope.spawn(move || {
                    let (mut hours, mut events) = (0.0, 0);
                    for v in (w..variants).step_by(threads) {
                        let traffic = traffic(v as u64 + 1, days * 1440);
                        let timeline = simulate(desired, params, &traffic).expect("simulates");
                        let f = figures(&timeline, params);
                        hours += f.instance_hours;
                        events += f.scale_out_events + f.scale_in_events;
                    }
                    (hours, events)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("worker"))
            .collect()
    });
    let wall = started.elapsed();
    let hours: f64 = totals.iter().map(|t| t.0).sum();
    let events: usize = totals.iter().map(|t| t.1).sum();
    println!(
        "set={set} variants={variants} minutes={} threads={threads} wall_ms={:.0} peak_rss_mb={:.1} instance_hours={hours:.0} scaling_events={events}",
        days * 1440,
        wall.as_secs_f64() * 1000.0,
        peak_rss_kb().unwrap_or(0) as f64 / 1024.0,
    );
}
