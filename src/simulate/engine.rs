//! The minute-by-minute loop: capacity arriving and leaving, the alarms
//! behind each policy, and how the policies' answers combine. The rules and
//! their sources are listed in the module doc of `simulate`.

use std::collections::VecDeque;

use super::engine_model::{
    Adjustment, Alarm, Comparison, MissingData, Model, Signal, Statistic, Step, StepPolicy,
    Tracking,
};
use super::engine_schedule::firings;
use super::{Event, EventKind, Minute, Timeline, Traffic, VariantParams};

/// The alarms target tracking creates for a one-minute metric: high after
/// 3 of 3 datapoints above the target, low after 15 of 15 below 90 % of it.
pub(super) const HIGH_DATAPOINTS: usize = 3;
pub(super) const LOW_DATAPOINTS: usize = 15;
pub(super) const LOW_FRACTION: f64 = 0.9;
/// How far before the first minute scheduled actions are looked for, to
/// know the minimum and maximum in force when the traffic starts.
pub(super) const SCHEDULE_LOOKBACK_MINUTES: i64 = 7 * 24 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Ok,
    Alarm,
    InsufficientData,
}

/// The last datapoints of an alarm, newest last; `None` is a missing one.
struct Window {
    points: VecDeque<Option<f64>>,
}

impl Window {
    fn new(len: usize) -> Self {
        Self {
            points: std::iter::repeat_n(None, len.max(1)).collect(),
        }
    }

    fn push(&mut self, point: Option<f64>) {
        self.points.pop_front();
        self.points.push_back(point);
    }

    fn state(
        &self,
        datapoints: usize,
        missing: MissingData,
        previous: State,
        breaches: impl Fn(f64) -> bool,
    ) -> State {
        let present = self.points.iter().flatten().count();
        if present == 0 {
            match missing {
                MissingData::Missing => return State::InsufficientData,
                MissingData::Ignore => return previous,
                MissingData::NotBreaching | MissingData::Breaching => {}
            }
        }
        let mut breaching = self
            .points
            .iter()
            .flatten()
            .filter(|v| breaches(**v))
            .count();
        if missing == MissingData::Breaching {
            breaching += self.points.len() - present;
        }
        if breaching >= datapoints {
            State::Alarm
        } else {
            State::Ok
        }
    }
}

/// A metric's datapoint for one minute.
fn read(signal: Signal, traffic: Option<f64>, serving: i32, per_instance: f64) -> Option<f64> {
    // SageMaker publishes invocation metrics only for minutes with
    // invocations; utilization is published while instances run.
    let invocations = traffic.filter(|x| *x > 0.0);
    match signal {
        Signal::Invocations => invocations,
        Signal::PerInstance if serving > 0 => invocations.map(|x| x / f64::from(serving)),
        Signal::Utilization { full } if serving > 0 => {
            let load = traffic.unwrap_or(0.0) / (f64::from(serving) * per_instance);
            Some(full * load.min(1.0))
        }
        Signal::PerInstance | Signal::Utilization { .. } => None,
    }
}

/// The capacity that brings `value`, measured over `serving` instances, to
/// `target`: target tracking's proportional rule.
fn proportional(serving: i32, value: f64, target: f64) -> i32 {
    // The tolerance keeps 140 / 70 at 2 despite floating-point noise.
    (f64::from(serving) * value / target - 1e-9).ceil().max(0.0) as i32
}

struct TrackingState {
    high: Window,
    low: Window,
    /// The last datapoint and the instances it was measured over.
    last: Option<(f64, i32)>,
    last_scale_in: Option<i64>,
}

impl TrackingState {
    fn need(&self, p: &Tracking) -> Option<i32> {
        self.last
            .map(|(value, serving)| proportional(serving, value, p.target))
    }
}

struct StepState {
    window: Window,
    /// Present values of the period being collected.
    period: Vec<f64>,
    state: State,
    /// When the policy last scaled, the capacity before, and whether out.
    last: Option<(i64, i32, bool)>,
}

fn statistic(stat: Statistic, values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return (stat == Statistic::SampleCount).then_some(0.0);
    }
    let n = values.len() as f64;
    Some(match stat {
        Statistic::SampleCount => n,
        Statistic::Sum => values.iter().sum(),
        Statistic::Average => values.iter().sum::<f64>() / n,
        Statistic::Minimum => values.iter().copied().fold(f64::INFINITY, f64::min),
        Statistic::Maximum => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    })
}

fn breaches(alarm: &Alarm, v: f64) -> bool {
    match alarm.comparison {
        Comparison::GreaterOrEqual => v >= alarm.threshold,
        Comparison::Greater => v > alarm.threshold,
        Comparison::Less => v < alarm.threshold,
        Comparison::LessOrEqual => v <= alarm.threshold,
    }
}

/// The step whose bounds hold `diff` (metric minus threshold): above the
/// threshold the lower bound is inclusive, below it the upper bound is.
pub(super) fn step_for(steps: &[Step], diff: f64) -> Option<i32> {
    steps
        .iter()
        .find(|s| {
            if diff >= 0.0 {
                s.lower.is_none_or(|l| diff >= l) && s.upper.is_none_or(|u| diff < u)
            } else {
                s.lower.is_none_or(|l| diff > l) && s.upper.is_none_or(|u| diff <= u)
            }
        })
        .map(|s| s.adjustment)
}

/// The capacity a step adjustment asks for from `base`.
pub(super) fn adjusted(adjustment: Adjustment, base: i32, by: i32) -> i32 {
    match adjustment {
        Adjustment::Change => base + by,
        Adjustment::Exact => by,
        Adjustment::Percent { min_magnitude } => {
            let raw = f64::from(base) * f64::from(by) / 100.0;
            // Fractions round toward zero, but never to zero.
            let mut delta = if raw > 0.0 {
                raw.floor().max(1.0)
            } else if raw < 0.0 {
                raw.ceil().min(-1.0)
            } else {
                0.0
            } as i32;
            if by != 0 && delta.abs() < min_magnitude {
                delta = min_magnitude * by.signum();
            }
            base + delta
        }
    }
}

/// Capacity asked for and arriving.
struct Capacity {
    desired: i32,
    serving: i32,
    /// Launches not yet in service: (first minute serving, count).
    launching: VecDeque<(i64, i32)>,
    startup: i64,
}

impl Capacity {
    /// Sets the desired capacity at time `at` (in minutes since the first
    /// minute's start). New instances serve after the start-up time; a
    /// decrease cancels launches first, newest first, then stops instances.
    fn set(&mut self, desired: i32, at: i64) {
        if desired > self.desired {
            self.launching
                .push_back((at + self.startup, desired - self.desired));
        }
        let mut remove = self.desired - desired;
        while remove > 0 {
            match self.launching.back_mut() {
                Some((_, count)) => {
                    let take = remove.min(*count);
                    *count -= take;
                    remove -= take;
                    if *count == 0 {
                        self.launching.pop_back();
                    }
                }
                None => {
                    self.serving = (self.serving - remove).max(0);
                    remove = 0;
                }
            }
        }
        self.desired = desired;
    }

    fn arrive(&mut self, minute: i64) {
        while let Some(&(ready, count)) = self.launching.front() {
            if ready > minute {
                break;
            }
            self.serving += count;
            self.launching.pop_front();
        }
    }
}

/// What decided a scaling activity.
#[derive(Clone, Copy)]
enum Source {
    Tracking(usize),
    Step(usize),
}

pub(super) fn run(model: &Model, params: &VariantParams, traffic: &Traffic) -> Timeline {
    let first = traffic.start_minute;
    let (mut min, mut max) = (model.min, model.max);
    // The limits scheduled actions set before the traffic starts still hold.
    for (_, i) in firings(
        &model.scheduled,
        first - SCHEDULE_LOOKBACK_MINUTES,
        first,
        first,
    ) {
        let a = &model.scheduled[i];
        (min, max) = limits(a.min, a.max, min, max);
    }
    let len = i64::try_from(traffic.per_minute.len()).unwrap_or(i64::MAX);
    let due = firings(&model.scheduled, first, first.saturating_add(len), first);
    let mut due = due.iter().peekable();
    let mut cap = Capacity {
        desired: params.start_count,
        serving: params.start_count,
        launching: VecDeque::new(),
        startup: i64::from(params.startup_minutes),
    };
    // Registering the target brings the capacity within its limits at once.
    cap.set(params.start_count.clamp(min, max.max(min)), 0);
    let mut tracking: Vec<TrackingState> = model
        .tracking
        .iter()
        .map(|_| TrackingState {
            high: Window::new(HIGH_DATAPOINTS),
            low: Window::new(LOW_DATAPOINTS),
            last: None,
            last_scale_in: None,
        })
        .collect();
    let mut steps: Vec<StepState> = model
        .steps
        .iter()
        .map(|p| StepState {
            window: Window::new(p.alarm.evaluation_periods),
            period: Vec::new(),
            state: State::InsufficientData,
            last: None,
        })
        .collect();
    let mut minutes = Vec::with_capacity(traffic.per_minute.len());
    let mut events = Vec::new();
    let mut windows = Vec::new();
    let mut window_start: Option<usize> = None;
    for (m, &x) in traffic.per_minute.iter().enumerate() {
        let t = m as i64;
        cap.arrive(t);
        while let Some((_, i)) = due.next_if(|(minute, _)| *minute == first + t) {
            let a = &model.scheduled[*i];
            (min, max) = limits(a.min, a.max, min, max);
            let from = cap.desired;
            let to = from.clamp(min, max.max(min));
            cap.set(to, t);
            events.push(Event {
                minute: m,
                kind: EventKind::Scheduled,
                from,
                to,
                policy: a.name.clone(),
            });
        }
        match (window_start, (min, max) != (model.min, model.max)) {
            (None, true) => window_start = Some(m),
            (Some(start), false) => {
                windows.push((start, m));
                window_start = None;
            }
            _ => {}
        }
        let serving = cap.serving;
        let failed =
            (x.unwrap_or(0.0) - f64::from(serving) * params.capacity_per_instance).max(0.0);
        let per_instance = params.capacity_per_instance;
        let mut metric = None;
        for (i, (p, s)) in model.tracking.iter().zip(&mut tracking).enumerate() {
            let value = read(p.signal, x, serving, per_instance);
            if i == 0 {
                metric = value;
            }
            s.high.push(value);
            s.low.push(value);
            if let Some(v) = value {
                s.last = Some((v, serving));
            }
        }
        for (p, s) in model.steps.iter().zip(&mut steps) {
            if let Some(v) = read(p.alarm.signal, x, serving, per_instance) {
                s.period.push(v);
            }
            // CloudWatch evaluates a datapoint once its period is complete.
            if (first + t + 1) % p.alarm.period_minutes == 0 {
                let point = statistic(p.alarm.statistic, &s.period);
                s.period.clear();
                s.window.push(point);
                s.state = s
                    .window
                    .state(p.alarm.datapoints, p.alarm.missing, s.state, |v| {
                        breaches(&p.alarm, v)
                    });
            }
        }
        // Policies act at the end of the minute, on what it measured.
        let at = t + 1;
        // What each step policy asks for, worked out once for both ways.
        let requests: Vec<Option<i32>> = model
            .steps
            .iter()
            .zip(&steps)
            .map(|(p, s)| step_request(p, s, cap.desired, t))
            .collect();
        let out = scale_out(model, &tracking, &requests, cap.desired);
        let change = match out {
            Some((to, source)) if to.min(max) > cap.desired => Some((to.min(max), source)),
            Some(_) => None,
            None => scale_in(model, &tracking, &requests, cap.desired, t)
                .map(|(to, source)| (to.max(min), source))
                .filter(|(to, _)| *to < cap.desired),
        };
        if let Some((to, source)) = change {
            let from = cap.desired;
            let policy = match source {
                Source::Tracking(i) => {
                    if to < from {
                        tracking[i].last_scale_in = Some(t);
                    }
                    &model.tracking[i].name
                }
                Source::Step(i) => {
                    let s = &mut steps[i];
                    let in_cooldown = s.last.filter(|l| t - l.0 < model.steps[i].cooldown);
                    // A scale-out in cooldown extends the one that started it.
                    let base = match in_cooldown {
                        Some((_, base, true)) if to > from => base,
                        _ => from,
                    };
                    s.last = Some((t, base, to > from));
                    &model.steps[i].name
                }
            };
            cap.set(to, at);
            events.push(Event {
                minute: m,
                kind: if to > from {
                    EventKind::ScaleOut
                } else {
                    EventKind::ScaleIn
                },
                from,
                to,
                policy: policy.clone(),
            });
        }
        minutes.push(Minute {
            traffic: x,
            in_service: serving,
            desired: cap.desired,
            metric,
            failed,
        });
    }
    if let Some(start) = window_start {
        windows.push((start, minutes.len()));
    }
    Timeline {
        minutes,
        events,
        schedule_windows: windows,
        target: model.tracking.first().map_or(0.0, |p| p.target),
    }
}

/// The limits after a scheduled action: it sets what it names.
fn limits(new_min: Option<i32>, new_max: Option<i32>, min: i32, max: i32) -> (i32, i32) {
    (new_min.unwrap_or(min), new_max.unwrap_or(max))
}

/// The capacity a step policy in alarm asks for, if it may act now.
fn step_request(p: &StepPolicy, s: &StepState, desired: i32, t: i64) -> Option<i32> {
    if s.state != State::Alarm {
        return None;
    }
    let breaching: Vec<f64> = s
        .window
        .points
        .iter()
        .flatten()
        .copied()
        .filter(|v| breaches(&p.alarm, *v))
        .collect();
    let value = statistic(p.aggregation, &breaching)?;
    let by = step_for(&p.steps, value - p.alarm.threshold)?;
    let cooling = s.last.filter(|l| t - l.0 < p.cooldown);
    let base = match cooling {
        // Capacity added by the scale-out that started the cooldown counts
        // toward this one.
        Some((_, base, true)) => base,
        _ => desired,
    };
    let to = adjusted(p.adjustment, base, by);
    match cooling {
        // Scale-in waits for the cooldown; scale-out needs to be larger.
        Some(_) if to <= desired => None,
        _ => Some(to),
    }
}

/// The step policies' requests: what `step_request` gave each, in order.
fn from_steps(requests: &[Option<i32>]) -> impl Iterator<Item = (i32, Source)> + '_ {
    requests
        .iter()
        .enumerate()
        .filter_map(|(i, n)| n.map(|n| (n, Source::Step(i))))
}

fn scale_out(
    model: &Model,
    tracking: &[TrackingState],
    requests: &[Option<i32>],
    desired: i32,
) -> Option<(i32, Source)> {
    let from_tracking =
        model
            .tracking
            .iter()
            .zip(tracking)
            .enumerate()
            .filter_map(|(i, (p, s))| {
                let high = s
                    .high
                    .state(HIGH_DATAPOINTS, MissingData::Missing, State::Ok, |v| {
                        v > p.target
                    });
                (high == State::Alarm)
                    .then(|| s.need(p))
                    .flatten()
                    .map(|n| (n, Source::Tracking(i)))
            });
    // The largest capacity wins.
    from_tracking
        .chain(from_steps(requests))
        .filter(|(n, _)| *n > desired)
        .max_by_key(|(n, _)| *n)
}

fn scale_in(
    model: &Model,
    tracking: &[TrackingState],
    requests: &[Option<i32>],
    desired: i32,
    t: i64,
) -> Option<(i32, Source)> {
    // Target tracking scales in only when every policy that may scale in
    // is ready to: its low alarm in ALARM and its cooldown over.
    let mut scaling_in = model
        .tracking
        .iter()
        .zip(tracking)
        .enumerate()
        .filter(|(_, (p, _))| !p.disable_scale_in)
        .peekable();
    let from_tracking = if scaling_in.peek().is_some() {
        let mut needs = Vec::new();
        for (i, (p, s)) in scaling_in {
            let low = s
                .low
                .state(LOW_DATAPOINTS, MissingData::Missing, State::Ok, |v| {
                    v < LOW_FRACTION * p.target
                });
            let cooling = s.last_scale_in.is_some_and(|l| t - l < p.scale_in_cooldown);
            match s.need(p) {
                Some(n) if low == State::Alarm && !cooling => needs.push((n, Source::Tracking(i))),
                _ => {
                    needs.clear();
                    break;
                }
            }
        }
        needs
            .into_iter()
            .max_by_key(|(n, _)| *n)
            .filter(|(n, _)| *n < desired)
    } else {
        None
    };
    from_tracking
        .into_iter()
        .chain(from_steps(requests).filter(|(n, _)| *n < desired))
        .max_by_key(|(n, _)| *n)
}
