//! Properties of the plan, on arbitrary valid policy sets, endpoint
//! snapshots and observed scaling (drifted, missing, extra and foreign
//! items), and of the parsers that feed it, on arbitrary input.
//!
//! Each property runs `CASES` cases from a fixed seed, so a run is
//! repeatable; `PROPTEST_RNG_SEED=<n>` explores other cases.

use std::collections::BTreeMap;

use proptest::collection::{btree_set, vec};
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, RngSeed};
use serde_json::Value;

use super::desired::{
    desired_for, DesiredScaling, EndpointIntent, VariantIntent, TAG_ENABLED, TAG_MAX, TAG_MIN,
    TAG_SCALE_IN, TAG_SCALE_OUT, TAG_TARGET,
};
use super::plan::{plan, Action, AlarmAction, Change, ScalingAction, VariantPlan};
use super::snapshot::{
    ComponentSnapshot, EndpointSnapshot, ObservedAlarm, ScalableTarget, ScalingPolicy,
    ScheduledAction, Serverless, VariantScaling, VariantSnapshot,
};
use super::Dimension;
use crate::aws::alarms::{as_stored, to_alarm};
use crate::aws::autoscaling::as_described;
use crate::config::Settings;
use crate::policy_set::alarm::{ALARM_NAMESPACES, COMPARISONS, MISSING_DATA, STATISTICS};
use crate::policy_set::step_scaling::{ADJUSTMENT_TYPES, AGGREGATIONS};
use crate::policy_set::{
    per_core_metric, AlarmDoc, Kind, ObservedConfig, ObservedStepScaling, ObservedTargetTracking,
    PolicySet, Profile, ScheduledActionDoc, StepDoc, StepScalingDoc, TargetTrackingDoc,
    COMPONENT_METRICS, INSTANCE_PREDEFINED_METRICS, PROVISIONED_CONCURRENCY_METRIC,
    UTILIZATION_METRICS,
};
use crate::resource::Scaled;
use crate::resource::{is_owned, OWNED_PREFIX};
use aws_sdk_applicationautoscaling::types::{AdjustmentType, MetricAggregationType, PolicyType};
use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};

const CASES: u32 = 256;
const SEED: u64 = 0x5ca1_ab1e;

fn config() -> Config {
    let base = Config::default();
    Config {
        cases: CASES,
        failure_persistence: None,
        rng_seed: match base.rng_seed {
            RngSeed::Random => RngSeed::Fixed(SEED),
            given => given,
        },
        ..base
    }
}

// ---------------------------------------------------------------- policy sets

fn short_name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,11}"
}

/// Distinct short names.
fn names(max: usize) -> impl Strategy<Value = Vec<String>> {
    btree_set(short_name(), 0..=max).prop_map(|s| s.into_iter().collect())
}

fn target_metrics(kind: Kind) -> Vec<&'static str> {
    match kind {
        Kind::Instance => INSTANCE_PREDEFINED_METRICS
            .iter()
            .chain(&UTILIZATION_METRICS)
            .copied()
            .collect(),
        Kind::Async => std::iter::once("ApproximateBacklogSizePerInstance")
            .chain(UTILIZATION_METRICS)
            .collect(),
        Kind::Serverless => vec![PROVISIONED_CONCURRENCY_METRIC],
        Kind::Component => COMPONENT_METRICS.to_vec(),
    }
}

fn cooldown() -> impl Strategy<Value = i32> {
    prop_oneof![select(vec![0, 60, 300]), 0..=3600i32]
}

fn target_tracking(kind: Kind, name: String) -> BoxedStrategy<TargetTrackingDoc> {
    (
        select(target_metrics(kind)),
        0.5f64..500.0,
        any::<bool>(),
        cooldown(),
        cooldown(),
        any::<bool>(),
    )
        .prop_map(
            move |(metric, target, per_core, scale_in, scale_out, disable)| {
                let per_core = per_core && per_core_metric(metric);
                TargetTrackingDoc {
                    name: name.clone(),
                    metric: metric.to_string(),
                    target_value: (!per_core).then_some(target),
                    target_per_core: per_core.then_some(target / 10.0),
                    scale_in_cooldown: scale_in,
                    scale_out_cooldown: scale_out,
                    disable_scale_in: disable,
                }
            },
        )
        .boxed()
}

fn alarm() -> impl Strategy<Value = AlarmDoc> {
    (
        select(ALARM_NAMESPACES.to_vec()),
        "[A-Z][A-Za-z]{2,20}",
        select(STATISTICS.to_vec()),
        select(vec![60, 120, 300]),
        1..=5i32,
        option::of(1..=5i32),
        -1000.0f64..1000.0,
        select(COMPARISONS.to_vec()),
        select(MISSING_DATA.to_vec()),
    )
        .prop_map(
            |(
                namespace,
                metric,
                statistic,
                period,
                evaluations,
                datapoints,
                threshold,
                cmp,
                md,
            )| {
                AlarmDoc {
                    namespace: namespace.to_string(),
                    metric,
                    statistic: statistic.to_string(),
                    period,
                    evaluation_periods: evaluations,
                    datapoints_to_alarm: datapoints.map(|d| d.min(evaluations)),
                    threshold,
                    comparison: cmp.to_string(),
                    treat_missing_data: md.to_string(),
                }
            },
        )
}

/// Contiguous steps from the threshold up, the last one open: valid under
/// every rule Application Auto Scaling has for step adjustments.
fn step_scaling(name: String) -> BoxedStrategy<StepScalingDoc> {
    (
        select(ADJUSTMENT_TYPES.to_vec()),
        select(AGGREGATIONS.to_vec()),
        cooldown(),
        option::of(1..=10i32),
        vec((1.0f64..100.0, 1..=5i32, any::<bool>()), 1..=4),
        alarm(),
    )
        .prop_map(
            move |(adjustment, aggregation, cooldown, magnitude, widths, alarm)| {
                let n = widths.len();
                let mut lower = 0.0;
                let steps = widths
                    .iter()
                    .enumerate()
                    .map(|(i, (width, size, down))| {
                        let step = StepDoc {
                            lower: Some(lower),
                            upper: (i + 1 < n).then_some(lower + width),
                            adjustment: if *down && adjustment == "ChangeInCapacity" {
                                -size
                            } else {
                                *size
                            },
                        };
                        lower += width;
                        step
                    })
                    .collect();
                StepScalingDoc {
                    name: name.clone(),
                    adjustment_type: adjustment.to_string(),
                    cooldown,
                    metric_aggregation_type: aggregation.to_string(),
                    min_adjustment_magnitude: magnitude
                        .filter(|_| adjustment == "PercentChangeInCapacity"),
                    steps,
                    alarm,
                }
            },
        )
        .boxed()
}

const SCHEDULES: [&str; 5] = [
    "cron(0 8 ? * MON-FRI *)",
    "cron(30 18 * * ? *)",
    "rate(5 minutes)",
    "rate(1 hour)",
    "at(2030-01-01T08:00:00)",
];
const TIME_ZONES: [&str; 4] = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"];

fn scheduled_action(name: String) -> BoxedStrategy<ScheduledActionDoc> {
    (
        select(SCHEDULES.to_vec()),
        option::of(select(TIME_ZONES.to_vec())),
        option::of(0..=5i32),
        option::of(1..=10i32),
    )
        .prop_map(move |(schedule, tz, min, max)| {
            let (min, max) = match (min, max) {
                (None, None) => (Some(1), None),
                (Some(a), Some(b)) if a > b => (Some(b), Some(a)),
                other => other,
            };
            ScheduledActionDoc {
                name: name.clone(),
                schedule: schedule.to_string(),
                timezone: tz.map(str::to_string),
                min_capacity: min,
                max_capacity: max,
            }
        })
        .boxed()
}

fn profile(kind: Kind) -> BoxedStrategy<Profile> {
    let floor = match kind {
        Kind::Async | Kind::Component => 0,
        Kind::Instance | Kind::Serverless => 1,
    };
    (floor..=3i32, 0..=6i32, names(3), names(2), names(2))
        .prop_flat_map(move |(min, extra, tracking, stepping, scheduled)| {
            // Policies of both kinds share one name space.
            let stepping: Vec<String> = stepping
                .into_iter()
                .filter(|n| !tracking.contains(n))
                .collect();
            (
                Just(min),
                Just(min.max(1) + extra),
                tracking
                    .into_iter()
                    .map(|n| target_tracking(kind, n))
                    .collect::<Vec<_>>(),
                stepping.into_iter().map(step_scaling).collect::<Vec<_>>(),
                scheduled
                    .into_iter()
                    .map(scheduled_action)
                    .collect::<Vec<_>>(),
            )
        })
        .prop_map(|(min, max, tracking, stepping, scheduled)| Profile {
            target_tracking: tracking,
            step_scaling: stepping,
            scheduled_actions: scheduled,
            ..Profile::new(min, max)
        })
        .boxed()
}

/// Policy sets that pass validation, whatever its rules.
fn policy_set() -> impl Strategy<Value = PolicySet> {
    (
        profile(Kind::Instance),
        profile(Kind::Async),
        profile(Kind::Serverless),
        profile(Kind::Component),
    )
        .prop_map(
            |(instance, async_inference, serverless, components)| PolicySet {
                instance,
                async_inference,
                serverless,
                inference_components: components,
            },
        )
        .prop_filter("a valid policy set", |s| s.validate().is_ok())
}

// ------------------------------------------------------------------ endpoints

const INSTANCE_TYPES: [&str; 6] = [
    "ml.m5.large",
    "ml.c5.2xlarge",
    "ml.g5.xlarge",
    "ml.p3.2xlarge",
    // Burstable: skipped.
    "ml.t2.medium",
    // Unknown shape: a per-core target cannot be worked out.
    "ml.zz.large",
];

fn count() -> impl Strategy<Value = Option<i32>> {
    option::of(0..=12i32)
}

fn variant(name: String) -> impl Strategy<Value = VariantSnapshot> {
    let base = move || VariantSnapshot {
        name: name.clone(),
        instance_type: None,
        current_instance_count: None,
        desired_instance_count: None,
        hosts_components: false,
        serverless: None,
    };
    let (instances, serverless, host, untyped) = (base.clone(), base.clone(), base.clone(), base);
    prop_oneof![
        4 => (select(INSTANCE_TYPES.to_vec()), count(), count()).prop_map(move |(t, cur, des)| {
            VariantSnapshot {
                instance_type: Some(t.to_string()),
                current_instance_count: cur,
                desired_instance_count: des,
                ..instances()
            }
        }),
        // Provisioned concurrency never exceeds MaxConcurrency.
        1 => (1..=200i32, option::of(0..=200i32)).prop_map(move |(max, provisioned)| {
            VariantSnapshot {
                serverless: Some(Serverless {
                    max_concurrency: Some(max),
                    provisioned_concurrency: provisioned.map(|p| p.min(max)),
                }),
                ..serverless()
            }
        }),
        1 => (count(), count()).prop_map(move |(cur, des)| VariantSnapshot {
            instance_type: Some("ml.g5.xlarge".into()),
            current_instance_count: cur,
            desired_instance_count: des,
            hosts_components: true,
            ..host()
        }),
        1 => Just(untyped()),
    ]
}

fn tags() -> impl Strategy<Value = BTreeMap<String, String>> {
    let tag = prop_oneof![
        select(vec!["true", "false"]).prop_map(|v| (TAG_ENABLED, v.to_string())),
        (0..=6i32).prop_map(|n| (TAG_MIN, n.to_string())),
        (0..=6i32).prop_map(|n| (TAG_MAX, n.to_string())),
        (1..=500i32).prop_map(|n| (TAG_TARGET, n.to_string())),
        (0..=3600i32).prop_map(|n| (TAG_SCALE_IN, n.to_string())),
        (0..=3600i32).prop_map(|n| (TAG_SCALE_OUT, n.to_string())),
        Just(("team", "fraud".to_string())),
    ];
    vec(tag, 0..=3).prop_map(|tags| tags.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn endpoint() -> impl Strategy<Value = EndpointSnapshot> {
    (
        "[a-z][a-z0-9-]{0,10}",
        prop_oneof![9 => Just("InService"), 1 => Just("Updating")],
        any::<bool>(),
        tags(),
        btree_set("[A-Z][A-Za-z0-9]{0,7}", 1..=3),
    )
        .prop_flat_map(|(name, status, is_async, tags, variant_names)| {
            let variants: Vec<_> = variant_names.into_iter().map(variant).collect();
            (
                Just(name),
                Just(status),
                Just(is_async),
                Just(tags),
                variants,
                btree_set("[a-z][a-z0-9-]{0,8}", 0..=2),
                vec(
                    (
                        select(vec!["InService", "InService", "Creating"]),
                        count(),
                        count(),
                    ),
                    2,
                ),
            )
        })
        .prop_map(
            |(name, status, is_async, tags, variants, component_names, facts)| {
                // Components live on a variant that hosts them.
                let host = variants.iter().find(|v| v.hosts_components);
                let components = match host {
                    None => Vec::new(),
                    Some(host) => component_names
                        .into_iter()
                        .zip(facts)
                        .map(|(c, (status, current, desired))| ComponentSnapshot {
                            name: c,
                            variant: host.name.clone(),
                            status: status.into(),
                            current_copies: current,
                            desired_copies: desired,
                        })
                        .collect(),
                };
                EndpointSnapshot {
                    arn: format!("arn:aws:sagemaker:us-east-1:123456789012:endpoint/{name}"),
                    config_name: format!("{name}-config"),
                    status: status.into(),
                    is_async,
                    tags,
                    variants,
                    components,
                    ..EndpointSnapshot::in_service(&name)
                }
            },
        )
}

// ----------------------------------------------------------- observed scaling

/// One way what is there can differ from the standard. Indexes pick an
/// item modulo the number there is; with none, nothing happens.
#[derive(Debug, Clone)]
enum Tamper {
    Deregister,
    Capacities(i32, i32),
    OtherDimension,
    DropPolicy(usize),
    PolicyTarget(usize, f64),
    PolicyCooldowns(usize, Option<i32>, Option<i32>),
    PolicyScaleIn(usize),
    PolicyMetric(usize),
    /// A target-tracking policy becomes a step policy or the other way.
    PolicyType(usize),
    StepAdjustment(usize, i32),
    StepAggregation(usize),
    DropAlarm(usize),
    AlarmThreshold(usize, f64),
    AlarmActions(usize),
    AlarmPeriod(usize, i32),
    DropScheduled(usize),
    ScheduledSchedule(usize),
    ScheduledTimeZone(usize),
    ScheduledCapacity(usize, Option<i32>, Option<i32>),
    ExtraOwnedPolicy(String),
    ExtraOwnedScheduled(String),
    ExtraOwnedAlarm(String),
    /// Someone else's: the plan must never change or delete these.
    ForeignAlarm(String),
    ForeignPolicy(String),
    ForeignScheduled(String),
}

fn tamper() -> impl Strategy<Value = Tamper> {
    (
        0u8..25,
        any::<usize>(),
        -1000.0f64..1000.0,
        0..=12i32,
        option::of(0..=3600i32),
        option::of(0..=3600i32),
        short_name(),
    )
        .prop_map(|(kind, i, x, n, a, b, name)| match kind {
            0 => Tamper::Deregister,
            1 => Tamper::Capacities(n / 2, n),
            2 => Tamper::OtherDimension,
            3 => Tamper::DropPolicy(i),
            4 => Tamper::PolicyTarget(i, x),
            5 => Tamper::PolicyCooldowns(i, a, b),
            6 => Tamper::PolicyScaleIn(i),
            7 => Tamper::PolicyMetric(i),
            8 => Tamper::PolicyType(i),
            9 => Tamper::StepAdjustment(i, n - 6),
            10 => Tamper::StepAggregation(i),
            11 => Tamper::DropAlarm(i),
            12 => Tamper::AlarmThreshold(i, x),
            13 => Tamper::AlarmActions(i),
            14 => Tamper::AlarmPeriod(i, n * 30),
            15 => Tamper::DropScheduled(i),
            16 => Tamper::ScheduledSchedule(i),
            17 => Tamper::ScheduledTimeZone(i),
            18 => Tamper::ScheduledCapacity(i, a.map(|v| v % 6), b.map(|v| v % 11)),
            19 => Tamper::ExtraOwnedPolicy(name),
            20 => Tamper::ExtraOwnedScheduled(name),
            21 => Tamper::ExtraOwnedAlarm(name),
            22 => Tamper::ForeignAlarm(name),
            23 => Tamper::ForeignPolicy(name),
            _ => Tamper::ForeignScheduled(name),
        })
}

fn pick<T>(items: &mut [T], i: usize) -> Option<&mut T> {
    let n = items.len();
    (n > 0).then(move || &mut items[i % n])
}

fn remove<T>(items: &mut Vec<T>, i: usize) {
    if !items.is_empty() {
        let n = items.len();
        items.remove(i % n);
    }
}

fn policy_arn(resource_id: &str, name: &str) -> String {
    format!(
        "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:0:resource/sagemaker/{resource_id}:policyName/{name}"
    )
}

/// The name an alarm of the unit would have.
fn unit_alarm_name(resource_id: &str, short: &str) -> String {
    Scaled::parse(resource_id)
        .expect("a resource id the plan wrote")
        .alarm_name(short)
}

fn tracking(p: &mut ScalingPolicy) -> Option<&mut ObservedTargetTracking> {
    match p.config.as_mut() {
        Some(ObservedConfig::TargetTracking(c)) => Some(c),
        _ => None,
    }
}

fn stepping(p: &mut ScalingPolicy) -> Option<&mut ObservedStepScaling> {
    match p.config.as_mut() {
        Some(ObservedConfig::StepScaling(c)) => Some(c),
        _ => None,
    }
}

fn tamper_with(state: &mut VariantScaling, desired: &DesiredScaling, tamper: &Tamper) {
    let rid = desired.resource_id();
    let rid = rid.as_str();
    let dimension = desired.dimension;
    match tamper {
        Tamper::Deregister => state.target = None,
        Tamper::Capacities(min, max) => {
            if let Some(t) = &mut state.target {
                (t.min_capacity, t.max_capacity) = (*min, *max);
            }
        }
        Tamper::OtherDimension => {
            if let Some(t) = &mut state.target {
                t.dimension = Dimension::ALL
                    .into_iter()
                    .find(|d| *d != t.dimension)
                    .expect("three dimensions");
            }
        }
        Tamper::DropPolicy(i) => remove(&mut state.policies, *i),
        Tamper::PolicyTarget(i, x) => {
            if let Some(tt) = pick(&mut state.policies, *i).and_then(tracking) {
                tt.target_value = *x;
            }
        }
        Tamper::PolicyCooldowns(i, a, b) => {
            if let Some(tt) = pick(&mut state.policies, *i).and_then(tracking) {
                (tt.scale_in_cooldown, tt.scale_out_cooldown) = (*a, *b);
            }
        }
        Tamper::PolicyScaleIn(i) => {
            if let Some(tt) = pick(&mut state.policies, *i).and_then(tracking) {
                tt.disable_scale_in = !tt.disable_scale_in;
            }
        }
        Tamper::PolicyMetric(i) => {
            if let Some(tt) = pick(&mut state.policies, *i).and_then(tracking) {
                tt.metric = None;
            }
        }
        Tamper::PolicyType(i) => {
            if let Some(p) = pick(&mut state.policies, *i) {
                if p.policy_type == PolicyType::TargetTrackingScaling {
                    p.policy_type = PolicyType::StepScaling;
                    p.config = Some(ObservedConfig::StepScaling(ObservedStepScaling {
                        adjustment_type: Some(AdjustmentType::ChangeInCapacity),
                        cooldown: Some(60),
                        metric_aggregation_type: Some(MetricAggregationType::Average),
                        min_adjustment_magnitude: None,
                        steps: vec![(Some(0.0), None, 1)],
                    }));
                } else {
                    p.policy_type = PolicyType::TargetTrackingScaling;
                    p.config = Some(ObservedConfig::TargetTracking(ObservedTargetTracking {
                        target_value: 70.0,
                        metric: None,
                        scale_in_cooldown: Some(300),
                        scale_out_cooldown: Some(60),
                        disable_scale_in: false,
                    }));
                }
            }
        }
        Tamper::StepAdjustment(i, n) => {
            if let Some(step) = pick(&mut state.policies, *i).and_then(stepping) {
                match step.steps.first_mut() {
                    Some(first) => first.2 = *n,
                    None => step.steps.push((None, None, *n)),
                }
            }
        }
        Tamper::StepAggregation(i) => {
            if let Some(step) = pick(&mut state.policies, *i).and_then(stepping) {
                step.metric_aggregation_type = None;
            }
        }
        Tamper::DropAlarm(i) => remove(&mut state.alarms, *i),
        Tamper::AlarmThreshold(i, x) => {
            if let Some(a) = pick(&mut state.alarms, *i) {
                a.threshold = Some(*x);
            }
        }
        Tamper::AlarmActions(i) => {
            if let Some(a) = pick(&mut state.alarms, *i) {
                a.actions = vec!["arn:aws:sns:us-east-1:123456789012:someone".into()];
            }
        }
        Tamper::AlarmPeriod(i, p) => {
            if let Some(a) = pick(&mut state.alarms, *i) {
                a.period = Some(*p);
            }
        }
        Tamper::DropScheduled(i) => remove(&mut state.scheduled, *i),
        Tamper::ScheduledSchedule(i) => {
            if let Some(s) = pick(&mut state.scheduled, *i) {
                s.schedule = "cron(0 0 * * ? *)".into();
            }
        }
        Tamper::ScheduledTimeZone(i) => {
            if let Some(s) = pick(&mut state.scheduled, *i) {
                s.timezone = Some("Pacific/Auckland".into());
            }
        }
        Tamper::ScheduledCapacity(i, min, max) => {
            if let Some(s) = pick(&mut state.scheduled, *i) {
                (s.min_capacity, s.max_capacity) = (*min, *max);
            }
        }
        Tamper::ExtraOwnedPolicy(name) => state.policies.push(
            ScalingPolicy::test(&format!("{OWNED_PREFIX}old-{name}"), rid)
                .dimension(dimension)
                .arn(policy_arn(rid, name)),
        ),
        Tamper::ExtraOwnedScheduled(name) => state.scheduled.push(ScheduledAction {
            name: format!("{OWNED_PREFIX}old-{name}"),
            resource_id: rid.into(),
            dimension,
            schedule: "rate(1 day)".into(),
            timezone: None,
            min_capacity: Some(1),
            max_capacity: None,
        }),
        Tamper::ExtraOwnedAlarm(name) => state.alarms.push(observed_alarm(&unit_alarm_name(
            rid,
            &format!("old-{name}"),
        ))),
        Tamper::ForeignAlarm(name) => state.alarms.push(observed_alarm(&format!("team-{name}"))),
        Tamper::ForeignPolicy(name) => state.policies.push(
            ScalingPolicy::test(&format!("team-{name}"), rid)
                .step_scaling()
                .dimension(dimension)
                .arn(policy_arn(rid, &format!("team-{name}"))),
        ),
        Tamper::ForeignScheduled(name) => state.scheduled.push(ScheduledAction {
            name: format!("team-{name}"),
            resource_id: rid.into(),
            dimension,
            schedule: "rate(1 day)".into(),
            timezone: None,
            min_capacity: None,
            max_capacity: Some(3),
        }),
    }
}

fn observed_alarm(name: &str) -> ObservedAlarm {
    ObservedAlarm {
        name: name.to_string(),
        namespace: Some("AWS/SageMaker".into()),
        metric_name: Some("Invocations".into()),
        dimensions: Vec::new(),
        statistic: Some(Statistic::Sum),
        period: Some(60),
        evaluation_periods: Some(1),
        datapoints_to_alarm: None,
        threshold: Some(1.0),
        comparison: Some(ComparisonOperator::GreaterThanThreshold),
        treat_missing_data: Some("missing".into()),
        actions: Vec::new(),
    }
}

// -------------------------------------------------------------------- applying

/// Puts a policy the way PutScalingPolicy does: on a registered target, in
/// place of one of the same name and type (a type cannot change in place).
fn put_policy(
    state: &mut VariantScaling,
    change: &Change,
    policy: ScalingPolicy,
) -> Result<(), String> {
    let registered = state
        .target
        .as_ref()
        .is_some_and(|t| t.dimension == change.dimension);
    if !registered {
        return Err(format!(
            "{}: ObjectNotFoundException: no scalable target",
            change.name()
        ));
    }
    if let Some(old) = state.policies.iter().find(|p| p.name == policy.name) {
        if old.policy_type != policy.policy_type {
            return Err(format!(
                "{}: ValidationException: {} is a {}",
                change.name(),
                old.name,
                old.policy_type
            ));
        }
    }
    state.policies.retain(|p| p.name != policy.name);
    state.policies.push(policy);
    Ok(())
}

/// Applies one change to what Application Auto Scaling and CloudWatch hold
/// for one unit, as AWS would, or says why AWS would refuse it.
fn apply(state: &mut VariantScaling, change: &Change) -> Result<(), String> {
    let rid = change.resource_id().to_string();
    let dimension = change.dimension;
    match &change.action {
        Action::Scaling(ScalingAction::RegisterTarget {
            min_capacity,
            max_capacity,
            ..
        }) => {
            state.target = Some(ScalableTarget {
                resource_id: rid,
                dimension,
                min_capacity: *min_capacity,
                max_capacity: *max_capacity,
            });
        }
        Action::Scaling(ScalingAction::DeregisterTarget) => {
            state.target = None;
            state.policies.clear();
            state.scheduled.clear();
        }
        Action::Scaling(ScalingAction::DeletePolicy { policy_name, .. }) => {
            if !state.policies.iter().any(|p| &p.name == policy_name) {
                return Err(format!(
                    "delete_policy: ObjectNotFoundException: {policy_name}"
                ));
            }
            state.policies.retain(|p| &p.name != policy_name);
        }
        Action::Scaling(ScalingAction::PutPolicy { policy }) => {
            let arn = policy_arn(&rid, policy.name());
            let observed = as_described(policy, &rid, dimension, &arn)
                .map_err(|e| format!("{}: {e}", change.name()))?;
            put_policy(state, change, observed)?;
        }
        Action::Alarm(AlarmAction::PutAlarm {
            policy_name, alarm, ..
        }) => {
            // The alarm's action is the policy's ARN, looked up now.
            let arn = state
                .policies
                .iter()
                .find(|p| &p.name == policy_name)
                .map(|p| p.arn.clone())
                .ok_or_else(|| format!("put_alarm: policy {policy_name} does not exist"))?;
            state.alarms.retain(|a| a.name != alarm.name);
            state.alarms.push(to_alarm(&as_stored(alarm, &arn)));
        }
        Action::Alarm(AlarmAction::DeleteAlarm { alarm_name, .. }) => {
            state.alarms.retain(|a| &a.name != alarm_name)
        }
        Action::Scaling(ScalingAction::PutScheduledAction {
            scheduled_action: a,
            ..
        }) => {
            if state.target.is_none() {
                return Err("put_scheduled_action: ObjectNotFoundException: no target".into());
            }
            state.scheduled.retain(|s| s.name != a.name);
            state.scheduled.push(ScheduledAction {
                name: a.name.clone(),
                resource_id: rid,
                dimension,
                schedule: a.schedule.clone(),
                timezone: a.timezone.clone(),
                min_capacity: a.min_capacity,
                max_capacity: a.max_capacity,
            });
        }
        Action::Scaling(ScalingAction::DeleteScheduledAction {
            scheduled_action_name,
            ..
        }) => {
            if !state
                .scheduled
                .iter()
                .any(|s| &s.name == scheduled_action_name)
            {
                return Err(format!(
                    "delete_scheduled_action: ObjectNotFoundException: {scheduled_action_name}"
                ));
            }
            state.scheduled.retain(|s| &s.name != scheduled_action_name);
        }
    }
    Ok(())
}

fn apply_all(mut state: VariantScaling, changes: &[Change]) -> Result<VariantScaling, String> {
    for change in changes {
        apply(&mut state, change)?;
    }
    Ok(state)
}

/// The names of the policies, alarms and scheduled actions a change writes
/// or deletes.
fn names_touched(change: &Change) -> Vec<&str> {
    match &change.action {
        Action::Scaling(ScalingAction::RegisterTarget { .. })
        | Action::Scaling(ScalingAction::DeregisterTarget) => vec![],
        Action::Scaling(ScalingAction::DeletePolicy { policy_name, .. }) => vec![policy_name],
        Action::Scaling(ScalingAction::PutPolicy { policy }) => vec![policy.name()],
        Action::Alarm(AlarmAction::PutAlarm { alarm, .. }) => vec![&alarm.name],
        Action::Alarm(AlarmAction::DeleteAlarm { alarm_name, .. }) => vec![alarm_name],
        Action::Scaling(ScalingAction::PutScheduledAction {
            scheduled_action, ..
        }) => vec![&scheduled_action.name],
        Action::Scaling(ScalingAction::DeleteScheduledAction {
            scheduled_action_name,
            ..
        }) => vec![scheduled_action_name],
    }
}

// ------------------------------------------------------------------ the cases

/// What the standard set looks like once applied to nothing, then tampered
/// with.
fn observed(desired: &DesiredScaling, tampers: &[Tamper]) -> VariantScaling {
    let VariantPlan::Changes(onboarding) = plan(desired, &VariantScaling::default()) else {
        panic!("nothing registered is never a skip");
    };
    let mut state = apply_all(VariantScaling::default(), &onboarding)
        .unwrap_or_else(|e| panic!("onboarding does not apply: {e}"));
    for t in tampers {
        tamper_with(&mut state, desired, t);
    }
    state
}

fn managed(snapshot: &EndpointSnapshot, settings: &Settings) -> Vec<DesiredScaling> {
    match desired_for(snapshot, settings) {
        Ok(EndpointIntent::Variants(intents)) => intents
            .into_iter()
            .filter_map(|i| match i {
                VariantIntent::Manage(d) => Some(d),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The capacity running now in the unit a desired scaling is for.
fn running(snapshot: &EndpointSnapshot, desired: &DesiredScaling) -> i32 {
    if let Some(v) = snapshot
        .variants
        .iter()
        .find(|v| Scaled::variant(&snapshot.name, &v.name) == desired.subject)
    {
        return match v.serverless {
            Some(s) => s.provisioned_concurrency.unwrap_or(0),
            None => v.running_count().unwrap_or(0),
        };
    }
    snapshot
        .components
        .iter()
        .find(|c| Scaled::component(&c.name) == desired.subject)
        .map(|c| c.running_copies().unwrap_or(0))
        .unwrap_or_else(|| panic!("{} is not in the snapshot", desired.subject))
}

fn settings(set: PolicySet, require_opt_in: bool) -> Settings {
    Settings {
        policy_set: set,
        require_opt_in,
        ..Settings::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn applying_the_plan_then_planning_again_changes_nothing(
        set in policy_set(),
        snapshot in endpoint(),
        opt_in in proptest::bool::weighted(0.2),
        tampers in vec(tamper(), 0..6),
    ) {
        let settings = settings(set, opt_in);
        for desired in managed(&snapshot, &settings) {
            let before = observed(&desired, &tampers);
            match plan(&desired, &before) {
                VariantPlan::Skip(reason) => {
                    // Hands off stays hands off.
                    prop_assert_eq!(plan(&desired, &before), VariantPlan::Skip(reason));
                }
                VariantPlan::Changes(changes) => {
                    let after = apply_all(before.clone(), &changes)
                        .map_err(|e| TestCaseError::fail(format!("{e}\nplan: {changes:#?}")))?;
                    prop_assert_eq!(
                        plan(&desired, &after),
                        VariantPlan::Changes(vec![]),
                        "before: {:#?}\nchanges: {:#?}",
                        before,
                        changes
                    );
                }
            }
        }
    }

    #[test]
    fn the_plan_never_touches_what_it_does_not_own(
        set in policy_set(),
        snapshot in endpoint(),
        tampers in vec(tamper(), 0..6),
    ) {
        let settings = settings(set, false);
        for desired in managed(&snapshot, &settings) {
            let before = observed(&desired, &tampers);
            let VariantPlan::Changes(changes) = plan(&desired, &before) else {
                continue;
            };
            for change in &changes {
                for name in names_touched(change) {
                    prop_assert!(is_owned(name), "{} touches {}", change.name(), name);
                }
            }
            // And what is someone else's is there, as it was, afterwards.
            let after = apply_all(before.clone(), &changes).map_err(TestCaseError::fail)?;
            let foreign_alarms = |s: &VariantScaling| {
                s.alarms.iter().filter(|a| !is_owned(&a.name)).cloned().collect::<Vec<_>>()
            };
            prop_assert_eq!(foreign_alarms(&after), foreign_alarms(&before));
        }
    }

    #[test]
    fn a_maximum_is_never_below_the_running_count(
        set in policy_set(),
        snapshot in endpoint(),
        tampers in vec(tamper(), 0..3),
    ) {
        let settings = settings(set, false);
        for desired in managed(&snapshot, &settings) {
            let running = running(&snapshot, &desired);
            prop_assert!(desired.max_capacity >= running, "{desired:?} runs {running}");
            prop_assert!(desired.min_capacity <= desired.max_capacity, "{desired:?}");
            if let VariantPlan::Changes(changes) = plan(&desired, &observed(&desired, &tampers)) {
                for change in changes {
                    if let Action::Scaling(ScalingAction::RegisterTarget { max_capacity, .. }) = &change.action {
                        prop_assert!(*max_capacity >= running);
                    }
                }
            }
        }
    }
}

// --------------------------------------------------------------------- inputs

/// Keys the parsers look for, so that arbitrary objects reach past the
/// first check now and then.
const KEYS: [&str; 30] = [
    "instance",
    "async",
    "serverless",
    "inference_components",
    "min_capacity",
    "max_capacity",
    "target_tracking",
    "step_scaling",
    "scheduled_actions",
    "name",
    "metric",
    "target_value",
    "target_per_core",
    "steps",
    "alarm",
    "lower",
    "upper",
    "adjustment",
    "schedule",
    "timezone",
    "action",
    "endpoint",
    "dry_run",
    "source",
    "detail-type",
    "detail",
    "EndpointName",
    "EndpointStatus",
    "time",
    "id",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(KEYS.to_vec()).prop_map(str::to_string),
        1 => any::<String>(),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec![
            "",
            "reconcile",
            "drift-check",
            "aws.sagemaker",
            "aws.events",
            "aws.scheduler",
            "Scheduled Event",
            "SageMaker Endpoint State Change",
            "IN_SERVICE",
            "InService",
            "{}",
            "true",
            "2026-11-28T12:00:00Z",
            "fraud-model",
            "\u{feff}",
        ])
        .prop_map(str::to_string),
        any::<String>(),
    ]
}

/// JSON trees of bounded depth and size.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            vec((key(), inner), 0..6).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Replaces (or, with `None`, removes) the part of `doc` that `path` leads
/// to; each step picks a child modulo the number there is.
fn graft(doc: &mut Value, path: &[usize], new: Option<Value>) {
    let (step, rest) = match path.split_first() {
        Some(split) => split,
        None => {
            *doc = new.unwrap_or(Value::Null);
            return;
        }
    };
    match doc {
        Value::Object(map) if !map.is_empty() => {
            let k = map.keys().nth(step % map.len()).cloned().expect("in range");
            if rest.is_empty() && new.is_none() {
                map.remove(&k);
            } else {
                graft(map.get_mut(&k).expect("present"), rest, new);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let n = items.len();
            graft(&mut items[step % n], rest, new);
        }
        leaf => *leaf = new.unwrap_or(Value::Null),
    }
}

const EVENTS: [&str; 5] = [
    include_str!("../../events/endpoint-in-service.json"),
    include_str!("../../events/direct-reconcile.json"),
    include_str!("../../events/drift-check-direct.json"),
    include_str!("../../events/drift-check-schedule-rule.json"),
    include_str!("../../events/drift-check-scheduler.json"),
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn policy_set_validation_never_panics_on_arbitrary_json(doc in json()) {
        let _ = PolicySet::from_json(&doc.to_string());
    }

    #[test]
    fn policy_set_validation_never_panics_on_arbitrary_text(text in any::<String>()) {
        let _ = PolicySet::from_json(&text);
    }

    #[test]
    fn policy_set_validation_never_panics_on_a_valid_set_with_one_part_replaced(
        set in policy_set(),
        path in vec(any::<usize>(), 0..7),
        part in option::of(json()),
    ) {
        let mut doc = serde_json::to_value(&set).expect("a policy set serializes");
        graft(&mut doc, &path, part);
        let _ = PolicySet::from_json(&doc.to_string());
    }

    #[test]
    fn event_parsing_never_panics_on_arbitrary_json(payload in json()) {
        let _ = crate::trigger::parse(&payload);
    }

    #[test]
    fn event_parsing_never_panics_on_arbitrary_text(text in any::<String>()) {
        if let Ok(payload) = serde_json::from_str::<Value>(&text) {
            let _ = crate::trigger::parse(&payload);
        }
    }

    #[test]
    fn event_parsing_never_panics_on_a_real_event_with_one_part_replaced(
        event in select(EVENTS.to_vec()),
        path in vec(any::<usize>(), 0..5),
        part in option::of(json()),
    ) {
        let mut payload: Value = serde_json::from_str(event).expect("the sample events are JSON");
        graft(&mut payload, &path, part);
        let _ = crate::trigger::parse(&payload);
    }
}
