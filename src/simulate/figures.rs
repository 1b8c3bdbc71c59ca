//! What a simulated timeline amounts to, in the figures a platform engineer
//! compares between two policy sets.

use serde::Serialize;

use super::{EventKind, Timeline, VariantParams};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub minutes: usize,
    pub invocations: f64,
    /// Minutes the first target-tracking policy's metric was above its
    /// target.
    pub minutes_above_target: usize,
    /// Minutes with more invocations than the instances in service serve.
    pub minutes_above_capacity: usize,
    pub failed_invocations: f64,
    /// The highest metric over target (`None` without a target or metric).
    pub peak_metric_over_target: Option<f64>,
    pub scale_out_events: usize,
    pub scale_in_events: usize,
    pub scheduled_events: usize,
    pub peak_in_service: i32,
    /// Instance-minutes in service, in hours.
    pub instance_hours: f64,
    pub cost: Option<f64>,
    /// The minute the largest spike began: the stretch above target (above
    /// capacity for a set without target tracking) holding the highest
    /// metric over target (the most failed invocations).
    pub largest_spike_minute: Option<usize>,
    /// From the start of the largest spike to the end of the minute its
    /// first scale-out was decided; `None` if none was.
    pub minutes_to_react_to_largest_spike: Option<usize>,
    /// How long the largest spike lasted; `None` if it had not ended when
    /// the traffic did.
    pub minutes_to_absorb_largest_spike: Option<usize>,
}

/// The figures of a simulated timeline.
pub fn figures(timeline: &Timeline, params: &VariantParams) -> Figures {
    let target = timeline.target;
    let ratio = |metric: Option<f64>| metric.filter(|_| target > 0.0).map(|m| m / target);
    let minutes = &timeline.minutes;
    let count = |kind| timeline.events.iter().filter(|e| e.kind == kind).count();
    let instance_hours = minutes.iter().map(|m| f64::from(m.in_service)).sum::<f64>() / 60.0;
    let spike = largest_spike(timeline);
    Figures {
        minutes: minutes.len(),
        invocations: minutes.iter().filter_map(|m| m.traffic).sum(),
        minutes_above_target: minutes
            .iter()
            .filter(|m| ratio(m.metric).is_some_and(|r| r > 1.0))
            .count(),
        minutes_above_capacity: minutes.iter().filter(|m| m.failed > 0.0).count(),
        failed_invocations: minutes.iter().map(|m| m.failed).sum(),
        peak_metric_over_target: minutes
            .iter()
            .filter_map(|m| ratio(m.metric))
            .reduce(f64::max),
        scale_out_events: count(EventKind::ScaleOut),
        scale_in_events: count(EventKind::ScaleIn),
        scheduled_events: count(EventKind::Scheduled),
        peak_in_service: minutes.iter().map(|m| m.in_service).max().unwrap_or(0),
        instance_hours,
        cost: params.hourly_price.map(|price| instance_hours * price),
        largest_spike_minute: spike.map(|(start, _)| start),
        minutes_to_react_to_largest_spike: spike.and_then(|(start, _)| {
            timeline
                .events
                .iter()
                .find(|e| e.kind == EventKind::ScaleOut && e.minute >= start)
                .map(|e| e.minute + 1 - start)
        }),
        minutes_to_absorb_largest_spike: spike
            .and_then(|(start, end)| (end < minutes.len()).then_some(end - start)),
    }
}

/// The largest spike as `[start, end)`.
fn largest_spike(timeline: &Timeline) -> Option<(usize, usize)> {
    let target = timeline.target;
    // How far a minute is over: metric over target, or failed invocations.
    let over = |m: &super::Minute| -> Option<f64> {
        if target > 0.0 {
            m.metric.map(|v| v / target).filter(|r| *r > 1.0)
        } else {
            Some(m.failed).filter(|f| *f > 0.0)
        }
    };
    let mut best: Option<(usize, usize, f64)> = None;
    let mut run: Option<(usize, f64)> = None;
    let minutes = &timeline.minutes;
    for (i, m) in minutes.iter().enumerate() {
        match (over(m), run) {
            (Some(v), Some((start, peak))) => run = Some((start, peak.max(v))),
            (Some(v), None) => run = Some((i, v)),
            (None, Some((start, peak))) => {
                if best.is_none_or(|b| peak > b.2) {
                    best = Some((start, i, peak));
                }
                run = None;
            }
            (None, None) => {}
        }
    }
    if let Some((start, peak)) = run {
        if best.is_none_or(|b| peak > b.2) {
            best = Some((start, minutes.len(), peak));
        }
    }
    best.map(|(start, end, _)| (start, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::{Event, Minute};

    fn minute(traffic: f64, in_service: i32, failed: f64) -> Minute {
        Minute {
            traffic: Some(traffic),
            in_service,
            desired: in_service,
            metric: Some(traffic / f64::from(in_service)),
            failed,
        }
    }

    fn scale_out(minute: usize, from: i32, to: i32) -> Event {
        Event {
            minute,
            kind: EventKind::ScaleOut,
            from,
            to,
            policy: "p".into(),
        }
    }

    fn params(price: Option<f64>) -> VariantParams {
        VariantParams {
            instance_type: None,
            start_count: 1,
            capacity_per_instance: 100.0,
            startup_minutes: 0,
            hourly_price: price,
        }
    }

    /// Target 50. Minutes 1-2 a small spike (peak 1.2), minutes 4-7 a large
    /// one (peak 3.0), scaled out at minute 5, absorbed from minute 8.
    fn timeline() -> Timeline {
        Timeline {
            minutes: vec![
                minute(40.0, 1, 0.0),
                minute(60.0, 1, 0.0),
                minute(55.0, 1, 0.0),
                minute(40.0, 1, 0.0),
                minute(100.0, 1, 0.0),
                minute(150.0, 1, 50.0),
                minute(150.0, 1, 50.0),
                minute(150.0, 2, 0.0),
                minute(150.0, 3, 0.0),
                minute(120.0, 3, 0.0),
            ],
            events: vec![scale_out(5, 1, 3)],
            schedule_windows: Vec::new(),
            target: 50.0,
        }
    }

    #[test]
    fn each_figure_is_counted_from_the_minutes() {
        let f = figures(&timeline(), &params(Some(3.0)));
        assert_eq!(f.minutes, 10);
        assert_eq!(f.invocations, 1015.0);
        // 60, 55, 100, 150, 150 on one instance and 150 / 2 = 75.
        assert_eq!(f.minutes_above_target, 6);
        assert_eq!(f.minutes_above_capacity, 2);
        assert_eq!(f.failed_invocations, 100.0);
        assert_eq!(f.peak_metric_over_target, Some(3.0));
        assert_eq!((f.scale_out_events, f.scale_in_events), (1, 0));
        assert_eq!(f.peak_in_service, 3);
        // 1 x 7 + 2 + 3 x 2 = 15 instance-minutes.
        assert_eq!(f.instance_hours, 0.25);
        assert_eq!(f.cost, Some(0.75));
    }

    #[test]
    fn the_largest_spike_is_timed_from_its_start() {
        let f = figures(&timeline(), &params(None));
        assert_eq!(f.cost, None);
        // It starts at minute 4; the scale-out is decided at the end of
        // minute 5: 2 minutes; at minute 8 the metric is 50, on target.
        assert_eq!(f.largest_spike_minute, Some(4));
        assert_eq!(f.minutes_to_react_to_largest_spike, Some(2));
        assert_eq!(f.minutes_to_absorb_largest_spike, Some(4));
    }

    #[test]
    fn a_spike_still_running_at_the_end_was_not_absorbed() {
        let mut t = timeline();
        t.minutes.truncate(7);
        t.events.clear();
        let f = figures(&t, &params(None));
        assert_eq!(f.largest_spike_minute, Some(4));
        assert_eq!(f.minutes_to_react_to_largest_spike, None);
        assert_eq!(f.minutes_to_absorb_largest_spike, None);
    }

    #[test]
    fn without_a_target_spikes_are_minutes_above_capacity() {
        let mut t = timeline();
        t.target = 0.0;
        let f = figures(&t, &params(None));
        assert_eq!(f.minutes_above_target, 0);
        assert_eq!(f.peak_metric_over_target, None);
        assert_eq!(f.largest_spike_minute, Some(5));
        assert_eq!(f.minutes_to_absorb_largest_spike, Some(2));
    }
}
