//! The simulation's chart read back as an SVG document: it parses, and it
//! holds the series, the event markers and the scheduled-action windows of
//! the timelines it was drawn from, where they belong on the time axis.

use autoscaling_guard::simulate::svg::{chart, Run};
use autoscaling_guard::simulate::{Event, EventKind, Minute, Timeline, VariantParams};

const START: i64 = 1_795_132_800 / 60; // 2026-11-20T00:00Z

fn params() -> VariantParams {
    VariantParams {
        instance_type: Some("ml.c5.xlarge".into()),
        start_count: 1,
        capacity_per_instance: 100.0,
        startup_minutes: 5,
        hourly_price: None,
    }
}

/// A hand-made timeline: `minutes` long, one instance until minute 10, two
/// after; no datapoint in minute 3; one window and one event of each kind.
fn timeline(minutes: usize, target: f64) -> Timeline {
    Timeline {
        minutes: (0..minutes)
            .map(|i| Minute {
                traffic: (i != 3).then_some(50.0 + i as f64),
                in_service: if i < 10 { 1 } else { 2 },
                desired: if i < 5 { 1 } else { 2 },
                metric: (i != 3).then_some(40.0),
                failed: 0.0,
            })
            .collect(),
        events: vec![
            Event {
                minute: 5,
                kind: EventKind::ScaleOut,
                from: 1,
                to: 2,
                policy: "autoscaling-guard-invocations".into(),
            },
            Event {
                minute: 20,
                kind: EventKind::Scheduled,
                from: 2,
                to: 3,
                policy: "autoscaling-guard-morning".into(),
            },
            Event {
                minute: 30,
                kind: EventKind::ScaleIn,
                from: 3,
                to: 2,
                policy: "autoscaling-guard-invocations".into(),
            },
        ],
        schedule_windows: vec![(20, 40)],
        target,
    }
}

fn with_class<'a>(doc: &'a roxmltree::Document<'a>, class: &str) -> Vec<roxmltree::Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| {
            n.attribute("class")
                .is_some_and(|c| c.split(' ').any(|c| c == class))
        })
        .collect()
}

fn number(node: &roxmltree::Node, attribute: &str) -> f64 {
    node.attribute(attribute)
        .unwrap_or_else(|| panic!("no {attribute}"))
        .parse()
        .unwrap()
}

#[test]
fn one_run_draws_every_series_event_and_window() {
    let t = timeline(60, 70.0);
    let p = params();
    let text = chart(
        "demo <spike> & co",
        "synthetic:spike?at=5&width=10",
        START,
        &[Run {
            label: "default",
            timeline: &t,
            params: &p,
        }],
    );
    let doc = roxmltree::Document::parse(&text).expect("the chart is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    assert_eq!(root.attribute("data-minutes"), Some("60"));
    assert_eq!(root.attribute("data-start"), Some("2026-11-20T00:00Z"));
    assert_eq!(
        with_class(&doc, "title")[0].text(),
        Some("demo <spike> & co")
    );

    let series: Vec<&str> = with_class(&doc, "series")
        .iter()
        .map(|n| n.attribute("data-series").unwrap())
        .collect();
    assert_eq!(
        series,
        ["traffic", "capacity", "in-service", "desired", "metric"]
    );
    // Minute 3 has no datapoint: traffic and metric are drawn in two pieces.
    for name in ["traffic", "metric"] {
        let path = &with_class(&doc, name)[0];
        assert_eq!(path.attribute("data-points"), Some("59"), "{name}");
        assert_eq!(
            path.attribute("d").unwrap().matches('M').count(),
            2,
            "{name}"
        );
    }
    assert_eq!(
        with_class(&doc, "in-service")[0]
            .attribute("d")
            .unwrap()
            .matches('M')
            .count(),
        1
    );

    let events = with_class(&doc, "event");
    let kinds: Vec<(&str, &str, &str)> = events
        .iter()
        .map(|e| {
            (
                e.attribute("class").unwrap(),
                e.attribute("data-minute").unwrap(),
                e.attribute("data-to").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("event scale-out", "5", "2"),
            ("event scheduled", "20", "3"),
            ("event scale-in", "30", "2")
        ]
    );
    // Markers sit where their minute is: later events further right.
    let xs: Vec<f64> = events
        .iter()
        .map(|e| {
            let t = e.attribute("transform").unwrap();
            t["translate(".len()..t.find(',').unwrap()].parse().unwrap()
        })
        .collect();
    assert!(xs.windows(2).all(|w| w[0] < w[1]), "{xs:?}");

    let windows = with_class(&doc, "schedule-window");
    assert_eq!(windows.len(), 1);
    assert_eq!(windows[0].attribute("data-start"), Some("20"));
    assert_eq!(windows[0].attribute("data-end"), Some("40"));
    // A third of the hour: a third of the plot's width.
    let plot = number(
        &with_class(&doc, "panel")[0]
            .first_element_child()
            .unwrap()
            .next_sibling_element()
            .unwrap(),
        "width",
    );
    assert!((number(&windows[0], "width") - plot / 3.0).abs() < 0.2);

    let target = &with_class(&doc, "target")[0];
    assert_eq!(target.attribute("data-value"), Some("70"));
    let panels: Vec<&str> = with_class(&doc, "panel")
        .iter()
        .map(|p| p.attribute("data-panel").unwrap())
        .collect();
    assert_eq!(
        panels,
        ["invocations per minute", "instances", "metric and target"]
    );
}

#[test]
fn compared_runs_are_both_drawn_each_in_its_own_set() {
    let (a, b) = (timeline(120, 70.0), timeline(120, 100.0));
    let p = params();
    let text = chart(
        "compare",
        "a.csv",
        START,
        &[
            Run {
                label: "target 70",
                timeline: &a,
                params: &p,
            },
            Run {
                label: "target 100",
                timeline: &b,
                params: &p,
            },
        ],
    );
    let doc = roxmltree::Document::parse(&text).unwrap();
    for name in ["capacity", "in-service", "desired", "metric", "target"] {
        let sets: Vec<&str> = with_class(&doc, name)
            .iter()
            .map(|n| n.attribute("data-set").unwrap())
            .collect();
        assert_eq!(sets, ["0", "1"], "{name}");
    }
    // One traffic: both sets replay the same.
    assert_eq!(with_class(&doc, "traffic").len(), 1);
    assert_eq!(with_class(&doc, "event").len(), 6);
    assert_eq!(with_class(&doc, "schedule-window").len(), 2);
    let legends: Vec<String> = with_class(&doc, "legend")
        .iter()
        .map(|g| {
            g.descendants()
                .filter(|n| n.is_text())
                .filter_map(|n| n.text())
                .collect()
        })
        .collect();
    assert_eq!(legends, ["target 70", "target 100"]);
    let targets: Vec<&str> = with_class(&doc, "target")
        .iter()
        .map(|n| n.attribute("data-value").unwrap())
        .collect();
    assert_eq!(targets, ["70", "100"]);
}

#[test]
fn a_fortnight_is_drawn_one_point_per_column_keeping_its_peak() {
    let mut t = timeline(15 * 1440, 70.0);
    // One minute's spike in the middle of the fortnight.
    t.minutes[10_000].traffic = Some(5000.0);
    let p = params();
    let text = chart(
        "fortnight",
        "b.csv",
        START,
        &[Run {
            label: "default",
            timeline: &t,
            params: &p,
        }],
    );
    let doc = roxmltree::Document::parse(&text).unwrap();
    let traffic = &with_class(&doc, "traffic")[0];
    let points = number(traffic, "data-points");
    assert!(points <= 1090.0 && points > 1000.0, "{points}");
    // The panel's scale reaches the spike: it was not averaged away.
    assert!(number(&with_class(&doc, "panel")[0], "data-max") >= 5000.0);
    assert!(text.len() < 200_000, "{} bytes", text.len());
}
