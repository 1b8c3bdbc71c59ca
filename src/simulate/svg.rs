//! The chart of a simulation, as a standalone SVG document: three panels on
//! one time axis (UTC), one colour per policy set.
//!
//! - invocations per minute: the traffic (grey) and, per set, what the
//!   instances in service can serve (`in_service x capacity_per_instance`);
//!   where the traffic is above that line, requests fail;
//! - instances: in service (solid) and desired (dashed), with the scaling
//!   events marked (triangle up: scale-out, down: scale-in, diamond:
//!   scheduled action);
//! - the metric the first target-tracking policy tracks, against its target
//!   (dashed).
//!
//! Scheduled-action windows are shaded across all three panels. A long run
//! is drawn at most one point per pixel column, each the largest value of
//! its minutes, so that a one-minute spike is never averaged away. Every
//! series, marker and window carries `class` and `data-*` attributes naming
//! what it is, so that the document can be read back (the tests do).

use std::fmt::Write;

use super::traffic::minute_label;
use super::{EventKind, Timeline, VariantParams};

/// A series: one value per minute, `None` where there is none.
type Values = Vec<Option<f64>>;

/// One policy set's simulation on the chart.
pub struct Run<'a> {
    pub label: &'a str,
    pub timeline: &'a Timeline,
    pub params: &'a VariantParams,
}

const WIDTH: f64 = 1200.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 92.0;
const PANEL: f64 = 170.0;
const GAP: f64 = 40.0;
const COLOURS: [&str; 2] = ["#1f77b4", "#d62728"];

fn plot_width() -> f64 {
    WIDTH - LEFT - RIGHT
}

/// The chart of one run, or of two compared (the first run's traffic is
/// drawn; compared runs replay the same traffic). `source` names the
/// traffic, `start_minute` is its first minute.
pub fn chart(title: &str, source: &str, start_minute: i64, runs: &[Run]) -> String {
    let minutes = runs
        .iter()
        .map(|r| r.timeline.minutes.len())
        .max()
        .unwrap_or(0);
    let height = TOP + 3.0 * PANEL + 2.0 * GAP + 50.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11" data-minutes="{minutes}" data-start="{}">"##,
        minute_label(start_minute)
    );
    let _ = write!(
        svg,
        r##"<rect width="100%" height="100%" fill="#ffffff"/><text class="title" x="{LEFT}" y="22" font-size="15" font-weight="bold">{}</text><text class="source" x="{LEFT}" y="40" fill="#555">{}</text>"##,
        escape(title),
        escape(source)
    );
    legend(&mut svg, runs);
    let x = Scale::new(minutes);
    let panels = [
        (TOP, "invocations per minute"),
        (TOP + PANEL + GAP, "instances"),
        (TOP + 2.0 * (PANEL + GAP), "metric and target"),
    ];
    for (set, run) in runs.iter().enumerate() {
        for &(start, end) in &run.timeline.schedule_windows {
            let _ = write!(
                svg,
                r##"<rect class="schedule-window" data-set="{set}" data-start="{start}" data-end="{end}" x="{:.1}" y="{TOP}" width="{:.1}" height="{:.1}" fill="{}" fill-opacity="0.08"/>"##,
                x.at(start),
                (x.at(end) - x.at(start)).max(1.0),
                3.0 * PANEL + 2.0 * GAP,
                COLOURS[set % 2]
            );
        }
    }

    // Panel 1: traffic and what the instances in service can serve.
    let traffic: Vec<Option<f64>> = runs
        .first()
        .map(|r| r.timeline.minutes.iter().map(|m| m.traffic).collect())
        .unwrap_or_default();
    let served: Vec<Vec<Option<f64>>> = runs
        .iter()
        .map(|r| {
            r.timeline
                .minutes
                .iter()
                .map(|m| Some(f64::from(m.in_service) * r.params.capacity_per_instance))
                .collect()
        })
        .collect();
    let top = peak(traffic.iter().chain(served.iter().flatten()));
    let y = panel(&mut svg, panels[0], top);
    series(&mut svg, ("traffic", None), &traffic, (&x, &y), "");
    for (set, values) in served.iter().enumerate() {
        series(&mut svg, ("capacity", Some(set)), values, (&x, &y), "");
    }

    // Panel 2: instances in service and desired, and the events.
    let counts: Vec<(Values, Values)> = runs
        .iter()
        .map(|r| {
            let of = |f: fn(&super::Minute) -> i32| {
                r.timeline
                    .minutes
                    .iter()
                    .map(|m| Some(f64::from(f(m))))
                    .collect()
            };
            (of(|m| m.in_service), of(|m| m.desired))
        })
        .collect();
    let top = peak(counts.iter().flat_map(|(a, b)| a.iter().chain(b))).max(4.0);
    let y = panel(&mut svg, panels[1], top);
    for (set, (in_service, desired)) in counts.iter().enumerate() {
        series(
            &mut svg,
            ("in-service", Some(set)),
            in_service,
            (&x, &y),
            "",
        );
        series(&mut svg, ("desired", Some(set)), desired, (&x, &y), "5,3");
    }
    for (set, run) in runs.iter().enumerate() {
        for event in &run.timeline.events {
            let (kind, shape) = match event.kind {
                EventKind::ScaleOut => ("scale-out", "M0,-6 L6,5 L-6,5 Z"),
                EventKind::ScaleIn => ("scale-in", "M0,6 L6,-5 L-6,-5 Z"),
                EventKind::Scheduled => ("scheduled", "M0,-6 L6,0 L0,6 L-6,0 Z"),
            };
            let _ = write!(
                svg,
                r##"<path class="event {kind}" data-set="{set}" data-minute="{}" data-from="{}" data-to="{}" data-policy="{}" transform="translate({:.1},{:.1})" d="{shape}" fill="{}"><title>{} {kind} {} to {} ({})</title></path>"##,
                event.minute,
                event.from,
                event.to,
                escape(&event.policy),
                x.at(event.minute) + x.step() / 2.0,
                y.at(f64::from(event.to)),
                COLOURS[set % 2],
                minute_label(start_minute + event.minute as i64),
                event.from,
                event.to,
                escape(&event.policy)
            );
        }
    }

    // Panel 3: the tracked metric against its target.
    let metrics: Vec<Vec<Option<f64>>> = runs
        .iter()
        .map(|r| r.timeline.minutes.iter().map(|m| m.metric).collect())
        .collect();
    let targets: Vec<Option<f64>> = runs.iter().map(|r| Some(r.timeline.target)).collect();
    let top = peak(metrics.iter().flatten().chain(&targets));
    let y = panel(&mut svg, panels[2], top);
    for (set, values) in metrics.iter().enumerate() {
        series(&mut svg, ("metric", Some(set)), values, (&x, &y), "");
        if let Some(target) = targets[set].filter(|t| *t > 0.0) {
            let _ = write!(
                svg,
                r##"<line class="target" data-set="{set}" data-value="{}" x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="{}" stroke-dasharray="6,4"/>"##,
                target,
                LEFT + plot_width(),
                y.at(target),
                y.at(target),
                COLOURS[set % 2]
            );
        }
    }
    time_axis(&mut svg, start_minute, minutes, &x, panels[2].0 + PANEL);
    svg.push_str("</svg>\n");
    svg
}

fn legend(svg: &mut String, runs: &[Run]) {
    let mut at = LEFT;
    for (set, run) in runs.iter().enumerate() {
        let _ = write!(
            svg,
            r##"<g class="legend" data-set="{set}"><rect x="{at}" y="52" width="12" height="12" fill="{}"/><text x="{}" y="62">{}</text></g>"##,
            COLOURS[set % 2],
            at + 16.0,
            escape(run.label)
        );
        at += 30.0 + 7.0 * run.label.chars().count() as f64;
    }
    let _ = write!(
        svg,
        r##"<text x="{at}" y="62" fill="#555">grey: traffic; solid: in service; dashed: desired or target; shaded: scheduled-action windows</text>"##
    );
}

/// Minute -> x, one bucket of minutes per drawn point.
struct Scale {
    minutes: usize,
    bucket: usize,
}

impl Scale {
    fn new(minutes: usize) -> Self {
        let columns = plot_width() as usize;
        Scale {
            minutes: minutes.max(1),
            bucket: minutes.div_ceil(columns).max(1),
        }
    }

    fn at(&self, minute: usize) -> f64 {
        LEFT + plot_width() * minute as f64 / self.minutes as f64
    }

    fn step(&self) -> f64 {
        plot_width() / self.minutes as f64
    }
}

/// Value -> y within one panel.
struct YScale {
    bottom: f64,
    top: f64,
}

impl YScale {
    fn at(&self, value: f64) -> f64 {
        self.bottom - PANEL * (value / self.top).clamp(0.0, 1.0)
    }
}

fn peak<'a>(values: impl Iterator<Item = &'a Option<f64>>) -> f64 {
    let top = values.flatten().fold(0.0f64, |a, b| a.max(*b));
    if top > 0.0 {
        nice(top * 1.05)
    } else {
        1.0
    }
}

/// The smallest round number (1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8 x 10^n: a
/// quarter of each is round too) at least `v`.
fn nice(v: f64) -> f64 {
    let base = 10f64.powf(v.log10().floor());
    [1.0, 1.2, 1.6, 2.0, 2.4, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .iter()
        .map(|m| m * base)
        .find(|c| *c >= v)
        .unwrap_or(10.0 * base)
}

/// Draws a panel's frame, title and value grid; returns its y scale.
fn panel(svg: &mut String, (top, name): (f64, &str), max: f64) -> YScale {
    let y = YScale {
        bottom: top + PANEL,
        top: max,
    };
    let _ = write!(
        svg,
        r##"<g class="panel" data-panel="{name}" data-max="{max}"><text x="{LEFT}" y="{:.1}" font-weight="bold">{name}</text><rect x="{LEFT}" y="{top}" width="{:.1}" height="{PANEL}" fill="none" stroke="#bbb"/>"##,
        top - 6.0,
        plot_width()
    );
    for i in 0..=4 {
        let value = max * f64::from(i) / 4.0;
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#eee"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT + plot_width(),
            y.at(value),
            y.at(value),
            LEFT - 6.0,
            y.at(value) + 4.0,
            number(value)
        );
    }
    svg.push_str("</g>");
    y
}

fn number(v: f64) -> String {
    if v >= 10.0 || v == v.trunc() {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A series as one path, a step per bucket (the bucket's largest value);
/// buckets without a value leave a gap. In its set's colour; grey for the
/// traffic, which belongs to no set.
fn series(
    svg: &mut String,
    (name, set): (&str, Option<usize>),
    values: &[Option<f64>],
    (x, y): (&Scale, &YScale),
    dash: &str,
) {
    let colour = set.map_or("#7f7f7f", |s| COLOURS[s % 2]);
    let mut d = String::new();
    let mut drawing = false;
    let mut points = 0usize;
    for (b, chunk) in values.chunks(x.bucket).enumerate() {
        let start = b * x.bucket;
        let value = chunk
            .iter()
            .flatten()
            .fold(None, |a: Option<f64>, v| Some(a.map_or(*v, |a| a.max(*v))));
        match value {
            Some(v) => {
                let (x0, x1, yv) = (x.at(start), x.at(start + chunk.len()), y.at(v));
                if drawing {
                    let _ = write!(d, " V{yv:.1} H{x1:.1}");
                } else {
                    let _ = write!(d, " M{x0:.1},{yv:.1} H{x1:.1}");
                }
                drawing = true;
                points += 1;
            }
            None => drawing = false,
        }
    }
    let set_attr = set
        .map(|s| format!(r#" data-set="{s}""#))
        .unwrap_or_default();
    let dash_attr = if dash.is_empty() {
        String::new()
    } else {
        format!(r#" stroke-dasharray="{dash}""#)
    };
    let _ = write!(
        svg,
        r##"<path class="series {name}" data-series="{name}"{set_attr} data-points="{points}" d="{}" fill="none" stroke="{colour}" stroke-width="1.3"{dash_attr}/>"##,
        d.trim_start()
    );
}

fn time_axis(svg: &mut String, start_minute: i64, minutes: usize, x: &Scale, bottom: f64) {
    let step = [15, 30, 60, 120, 180, 360, 720, 1440, 2880]
        .into_iter()
        .find(|s| minutes / s <= 12)
        .unwrap_or(2880);
    svg.push_str(r#"<g class="time-axis">"#);
    // Ticks on whole multiples of the step in UTC.
    let first = (start_minute + step as i64 - 1).div_euclid(step as i64) * step as i64;
    let mut minute = first;
    while minute < start_minute + minutes as i64 {
        let offset = (minute - start_minute) as usize;
        let at = x.at(offset);
        let label = minute_label(minute);
        let text = if step >= 1440 {
            label[..10].to_string()
        } else {
            label[5..16].replace('T', " ")
        };
        let _ = write!(
            svg,
            r##"<line x1="{at:.1}" x2="{at:.1}" y1="{bottom:.1}" y2="{:.1}" stroke="#888"/><text x="{at:.1}" y="{:.1}" text-anchor="middle">{text}</text>"##,
            bottom + 5.0,
            bottom + 18.0
        );
        minute += step as i64;
    }
    let _ = write!(
        svg,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#555">UTC</text></g>"##,
        LEFT + plot_width(),
        bottom + 34.0
    );
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
