//! `simulate`: replays per-minute traffic through the desired scaling of one
//! variant and reports what the variant would have done.

pub mod svg;
pub mod traffic;
pub mod traffic_cloudwatch;
pub mod traffic_csv;
pub mod traffic_synthetic;

use serde::Serialize;

use crate::domain::desired::DesiredScaling;

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

/// The figures a platform engineer compares between two policy sets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub minutes: usize,
    pub minutes_above_target: usize,
    pub minutes_above_capacity: usize,
    pub failed_invocations: f64,
    pub peak_metric_over_target: Option<f64>,
    pub scale_out_events: usize,
    pub scale_in_events: usize,
    pub instance_hours: f64,
    pub cost: Option<f64>,
    /// Minutes from the start of the largest spike until enough capacity
    /// was in service for it; `None` without a spike or if it never was.
    pub minutes_to_react_to_largest_spike: Option<usize>,
}

/// Simulates one variant's desired scaling over the traffic.
pub fn simulate(
    desired: &DesiredScaling,
    params: &VariantParams,
    traffic: &Traffic,
) -> Result<Timeline, SimulateError> {
    let _ = (desired, params, traffic);
    Err(SimulateError::Unsupported(
        "the simulation engine is not built yet".into(),
    ))
}

/// The figures of a simulated timeline.
pub fn figures(timeline: &Timeline, params: &VariantParams) -> Figures {
    let _ = (timeline, params);
    Figures {
        minutes: 0,
        minutes_above_target: 0,
        minutes_above_capacity: 0,
        failed_invocations: 0.0,
        peak_metric_over_target: None,
        scale_out_events: 0,
        scale_in_events: 0,
        instance_hours: 0.0,
        cost: None,
        minutes_to_react_to_largest_spike: None,
    }
}
