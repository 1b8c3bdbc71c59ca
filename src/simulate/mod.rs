//! `simulate`: replays per-minute traffic through the desired scaling of one
//! variant (the `DesiredScaling` reconcile applies, see `engine_model`) and
//! reports what the variant would have done.
//!
//! # The model, minute by minute
//!
//! Documented rules, with their sources:
//! - Target tracking keeps the metric at its target by setting the capacity
//!   in proportion, ceil(instances x metric / target), through a high and a
//!   low alarm it creates; it adds capacity more readily than it removes it
//!   (Application Auto Scaling user guide, "How target tracking scaling
//!   works").
//! - Scale-in cooldown: no further scale-in by the policy until it ends; a
//!   scale-out during it happens at once. Scale-out cooldown: no further
//!   scale-out unless larger; the capacity the first one added counts toward
//!   the next (API reference, `TargetTrackingScalingPolicyConfiguration`).
//!   Target tracking asks for an absolute capacity, so "larger" is larger
//!   than the desired capacity, which already holds what the first
//!   scale-out added: the scale-out cooldown changes nothing in this model.
//! - Several policies: scale out when any policy asks to, scale in only
//!   when every target-tracking policy with scale-in enabled is ready to;
//!   the largest capacity wins (user guide, "Multiple scaling policies").
//! - Target tracking does not scale in while its alarm lacks data; SageMaker
//!   publishes invocation metrics only for minutes with invocations, so a
//!   quiet stretch blocks scale-in (user guide, target tracking
//!   considerations; SageMaker developer guide, "Monitor Amazon SageMaker
//!   AI with Amazon CloudWatch").
//! - `InvocationsPerInstance` is the minute's invocations over the instances
//!   in service; `CPUUtilization` and `GPUUtilization` run from 0 to 100 x
//!   the vCPU or GPU count (SageMaker developer guide, same page).
//! - Step scaling acts through its CloudWatch alarm: a datapoint per period
//!   with the alarm's statistic, ALARM when `datapoints_to_alarm` of the last
//!   `evaluation_periods` breach the threshold by the comparison, missing
//!   data treated as configured (CloudWatch user guide, "Using Amazon
//!   CloudWatch alarms"). An alarm keeps invoking a scaling policy once a
//!   minute while in ALARM (CloudWatch user guide, "Alarm actions").
//! - Step bounds are relative to the threshold; above it the lower bound is
//!   inclusive and the upper exclusive, below it the reverse (API reference,
//!   `StepAdjustment`). `ChangeInCapacity` adds, `ExactCapacity` sets,
//!   `PercentChangeInCapacity` adds a percentage of at least
//!   `MinAdjustmentMagnitude` (`StepScalingPolicyConfiguration`).
//! - Step cooldown: a scale-out during it happens only if larger, the
//!   capacity the first added counting as part of it; scale-in waits for it
//!   to end (user guide, "Step scaling policies", cooldown period).
//! - Scheduled actions set the minimum and maximum at their time, in their
//!   time zone with its daylight-saving changes; capacity below the new
//!   minimum is raised to it, above the new maximum lowered to it (user
//!   guide, "How scheduled scaling works"; `PutScheduledAction`).
//! - Capacity never leaves [minimum, maximum]: whenever a policy acts or the
//!   target is registered, it is brought within them (user guide,
//!   "Application Auto Scaling concepts", scalable target).
//!
//! # Assumptions (where AWS publishes no rule)
//! - Target tracking's alarms on one-minute metrics: high after 3 of 3
//!   datapoints above the target, low after 15 of 15 below 90 % of it, as
//!   observed on the alarms the service creates (not documented, not
//!   configurable). A scale-in goes straight to the proportional capacity.
//! - Every datapoint is known at the end of its minute (no publishing
//!   delay); policies act then, scheduled actions at the start of theirs.
//! - New capacity serves after the start-up time, counted from the request;
//!   until then it serves nothing and costs nothing. A decrease cancels
//!   launches first, newest first, then stops serving instances at once.
//! - One instance serves `capacity_per_instance` invocations a minute; the
//!   rest of the minute's invocations fail. Utilization is proportional to
//!   the load and saturates at full scale.
//! - CloudWatch's missing-data rules are simplified: missing datapoints do
//!   not breach (unless `breaching`); an alarm with no datapoint in its
//!   window is INSUFFICIENT_DATA (`missing`) or keeps its state (`ignore`).
//! - A step policy compares the aggregation (`MetricAggregationType`) of
//!   the breaching datapoints in its alarm window with its steps; percentages round
//!   toward zero but never to zero, as EC2 Auto Scaling documents.
//! - `rate(...)` schedules count from the first minute; actions that fired
//!   within the week before it set the limits the simulation starts with.
//! - Only instance counts of real-time variants, and only metrics derived
//!   from invocations (`InvocationsPerInstance`, `Invocations`,
//!   `CPUUtilization`, `GPUUtilization`), are simulated; anything else is
//!   refused with a `SimulateError` naming it.

mod engine;
mod engine_model;
mod engine_schedule;
#[cfg(test)]
mod engine_tests;
pub mod figures;
pub mod table;

pub mod command;
pub mod svg;
pub mod traffic;
pub mod traffic_cloudwatch;
pub mod traffic_csv;
pub mod traffic_synthetic;

use serde::Serialize;

use crate::domain::desired::DesiredScaling;

pub use engine_model::{desired_for_variant, desired_in};
pub use figures::{figures, Figures};

/// Per-minute invocations of one variant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Traffic {
    /// The first minute, in minutes since the Unix epoch (UTC).
    pub start_minute: i64,
    /// Invocations in each minute; `None` where the source had no datapoint.
    pub per_minute: Vec<Option<f64>>,
}

/// What the simulation needs to know about the variant beyond its scaling.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantParams {
    pub instance_type: Option<String>,
    /// Instances in service when the traffic starts.
    pub start_count: i32,
    /// Invocations per minute one instance serves before requests fail.
    pub capacity_per_instance: f64,
    /// Minutes from a capacity increase to the new instances serving.
    pub startup_minutes: u32,
    /// Price of one instance-hour, to turn instance-minutes into cost.
    pub hourly_price: Option<f64>,
}

/// Minute by minute, what the variant did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline {
    pub minutes: Vec<Minute>,
    pub events: Vec<Event>,
    /// Minute ranges `[start, end)` during which a scheduled action had
    /// changed the minimum or maximum capacity.
    pub schedule_windows: Vec<(usize, usize)>,
    /// The target of the first target-tracking policy (0 without one).
    pub target: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Minute {
    pub traffic: Option<f64>,
    /// Instances serving during this minute.
    pub in_service: i32,
    /// Desired capacity at the end of this minute.
    pub desired: i32,
    /// The first target-tracking policy's metric, as CloudWatch would see it.
    pub metric: Option<f64>,
    /// Invocations beyond what the instances in service could serve.
    pub failed: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    ScaleOut,
    ScaleIn,
    Scheduled,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub minute: usize,
    pub kind: EventKind,
    pub from: i32,
    pub to: i32,
    /// The policy or scheduled action that changed the desired capacity.
    pub policy: String,
}

/// Why a simulation cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimulateError {
    #[error("{field} = {value}: {expected}")]
    BadParam {
        field: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("{0}")]
    Unsupported(String),
}

/// Simulates one variant's desired scaling over the traffic.
pub fn simulate(
    desired: &DesiredScaling,
    params: &VariantParams,
    traffic: &Traffic,
) -> Result<Timeline, SimulateError> {
    check(params, traffic)?;
    let model = engine_model::Model::from_desired(desired, params)?;
    Ok(engine::run(&model, params, traffic))
}

fn check(params: &VariantParams, traffic: &Traffic) -> Result<(), SimulateError> {
    let bad = |field, value: String, expected| {
        Err(SimulateError::BadParam {
            field,
            value,
            expected,
        })
    };
    if !(params.capacity_per_instance.is_finite() && params.capacity_per_instance > 0.0) {
        return bad(
            "capacity_per_instance",
            params.capacity_per_instance.to_string(),
            "invocations per minute one instance serves, above 0",
        );
    }
    if params.start_count < 0 {
        return bad(
            "start_count",
            params.start_count.to_string(),
            "a count of instances, 0 or more",
        );
    }
    if let Some(price) = params
        .hourly_price
        .filter(|p| !(p.is_finite() && *p >= 0.0))
    {
        return bad("hourly_price", price.to_string(), "a price of 0 or more");
    }
    if let Some((i, x)) = traffic
        .per_minute
        .iter()
        .enumerate()
        .find_map(|(i, x)| x.filter(|x| !(x.is_finite() && *x >= 0.0)).map(|x| (i, x)))
    {
        return bad(
            "traffic",
            format!("{x} at minute {i}"),
            "invocations of 0 or more",
        );
    }
    Ok(())
}
